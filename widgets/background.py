"""Run one slow, pure job (the advice) outside the kernel's thread, so that it never holds up a
planner change and can be cancelled.

The job runs in a child process (multiprocessing's ``forkserver`` where the platform has it, else
``spawn``): the kernel stays free, and cancelling kills the process, so even a long bisection on
a large raster stops at once. Its result comes back through a pipe and is handed to ``on_done``
from a waiter thread (ipywidgets may be updated from any thread of the kernel).
"""

from __future__ import annotations

import multiprocessing as mp
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

__all__ = ["Background"]

_METHOD = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"


def _child(job: Callable[..., Any], args: tuple[Any, ...], conn: Connection) -> None:
    try:
        conn.send(("ok", job(*args)))
    except Exception as error:  # reported to the parent as one sentence, never raised there
        conn.send(("error", str(error)))
    finally:
        conn.close()


class Background:
    """At most one job at a time: :meth:`start` cancels the one under way."""

    def __init__(self) -> None:
        self._process: Any = None  # the running multiprocessing Process, if any
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def start(
        self,
        job: Callable[..., Any],
        args: tuple[Any, ...],
        on_done: Callable[[str, Any], None],
    ) -> None:
        """Run ``job(*args)`` (an importable function, picklable arguments) in a child process;
        call ``on_done("ok", result)`` or ``on_done("error", sentence)`` when it ends, never
        when it was cancelled."""
        self.cancel()
        ctx = mp.get_context(_METHOD)  # a ForkServerContext or SpawnContext
        receive, send = ctx.Pipe(duplex=False)
        process = ctx.Process(  # type: ignore[attr-defined]  # typeshed: BaseContext
            target=_child, args=(job, args, send), daemon=True
        )
        process.start()
        send.close()
        with self._lock:
            self._process = process
        threading.Thread(target=self._wait, args=(process, receive, on_done), daemon=True).start()

    def _wait(self, process: Any, receive: Connection, on_done: Callable[[str, Any], None]) -> None:
        try:
            status, value = receive.recv()
        except (EOFError, OSError):  # killed (cancelled), or the child died
            status, value = "error", "the background process stopped before it finished"
        finally:
            receive.close()
        process.join()
        with self._lock:
            current = self._process is process  # cancel() has let go of a cancelled job
            if current:
                self._process = None
        if current:
            on_done(status, value)

    def cancel(self) -> bool:
        """Kill the job under way (its ``on_done`` is never called); True if there was one."""
        with self._lock:
            process, self._process = self._process, None
        if process is None or not process.is_alive():
            return False
        process.kill()
        return True
