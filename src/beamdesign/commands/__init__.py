"""Sub-commands of the ``beamdesign`` CLI that live outside ``cli.py``.

Each module here defines ``register(commands)``, which adds its sub-parser (with
``set_defaults(handler=...)``) to the ``argparse`` sub-parsers object; ``cli.build_parser``
calls it. The physics stays in the core modules: a command only parses, calls and prints.
"""

from __future__ import annotations

from typing import Any


def number_or_text(text: str | None) -> Any:
    """A number typed on the command line, or the text itself (a threshold name, or a value for
    the validator to reject with its sentence); None when the option was not given.

    Typed ``Any``: the value is unchecked here; the core validates it.
    """
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return text
