"""A jupyter_bokeh widget that sends a planner update to the browser as one patch.

jupyter_bokeh 4.1 sends every document event as its own PATCH-DOC, each as
``3 + 2 × (binary buffers)`` comm messages, and every message goes through the Jupyter server;
an energy change of the default plan made 50 messages. :meth:`BatchedBokehModel.batch` collects
the events of one update into one PATCH-DOC (BokehJS applies a patch's events together) with its
arrays inline (base64), so an update is 3 messages.

The figures are one-way: every model is ``syncable=False``, so the browser sends nothing back.
jupyter_bokeh 4.1's view otherwise re-serialises every patch it applies (gzip + base64 of the
columns) and sends it to the kernel, with the ranges and hover selections BokehJS recomputes;
the kernel needs none of it, and in JupyterLab each of those messages also cycles the kernel
status (busy, idle) that the toolbar redraws.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from bokeh.core.serialization import Serializer
from bokeh.document.json import PatchJson
from bokeh.protocol.messages.patch_doc import patch_doc
from jupyter_bokeh import BokehModel

if TYPE_CHECKING:
    from bokeh.document.events import DocumentPatchedEvent
    from bokeh.model import Model

__all__ = ["BatchedBokehModel"]


class BatchedBokehModel(BokehModel):  # type: ignore[misc]  # jupyter_bokeh is untyped
    """A BokehModel whose :meth:`batch` sends the events made inside as one patch."""

    _batch: list[DocumentPatchedEvent] | None = None

    def __init__(self, model: Model, **kwargs: Any) -> None:
        for part in model.references():  # one-way: see the module docstring
            part.syncable = False
        super().__init__(model, **kwargs)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Collect the document events made inside; send them as one patch at the end."""
        if self._batch is not None:  # nested: the outer batch sends
            yield
            return
        self._batch = []
        try:
            yield
        finally:
            events, self._batch = self._batch, None
            if events:
                self._send_patch(events)

    def _document_patched(self, event: DocumentPatchedEvent) -> None:
        if event.setter is self:
            return
        if self._batch is not None:
            self._batch.append(event)
        else:
            self._send_patch([event])

    def _send_patch(self, events: list[DocumentPatchedEvent]) -> None:
        """Send ``events`` as one PATCH-DOC with arrays inline (base64 in the JSON), as
        ``bokeh.protocol.messages.patch_doc.create`` does but without binary buffers, each of
        which jupyter_bokeh would send as two more comm messages."""
        doc = events[0].document
        serializer = Serializer(references=doc.models.synced_references, deferred=False)
        content = PatchJson(events=serializer.encode(events))
        doc.models.flush_synced(lambda model: not serializer.has_ref(model))
        msg = patch_doc(patch_doc.create_header(), {}, content)
        for part in (msg.header_json, msg.metadata_json, msg.content_json):
            self.send({"msg": "patch", "payload": part})
