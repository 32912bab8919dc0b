"""Slow, pure jobs of the planner (a design's Pareto front, the advice) outside the kernel's main
thread: a job runs in a child process, so the planner keeps answering meanwhile and Stop ends it
at once (the process is killed); a watcher thread hands the outcome back (ipywidgets may be
updated from any thread of the kernel).

Children come from multiprocessing's ``forkserver`` (``spawn`` where there is none): never a
fork of the kernel itself, which runs threads. The server imports the core once, so a job
starts in milliseconds, not the second a fresh interpreter needs. This module imports no widget
library.
"""

from __future__ import annotations

import multiprocessing as mp
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

__all__ = ["POLL_S", "BackgroundJob", "Outcome"]

#: how often the watcher looks for the answer or a Stop (s)
POLL_S = 0.05
#: what a job gives: ``(status, value)``; the job decides its statuses, the watcher adds
#: ``("error", sentence)`` when the job raised or died and ``("stopped", None)`` after Stop
Outcome = tuple[str, Any]
#: modules the fork server imports once, so that its children start at once
PRELOAD = ["beamdesign.advice", "beamdesign.design", "beamdesign.sweep"]


def _context() -> Any:
    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    context = mp.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def _child(conn: Connection, job: Callable[..., Outcome], args: tuple[Any, ...]) -> None:
    try:
        conn.send(job(*args))
    except Exception as error:  # shown in the panel as a sentence, never a traceback
        conn.send(("error", f"{error.__class__.__name__}: {error}"))
    finally:
        conn.close()


class BackgroundJob:
    """``job(*args)`` (an importable function with picklable arguments, returning an
    :data:`Outcome`) in a child process; ``done(outcome)`` is called from a watcher thread
    when it ends, fails or is stopped."""

    def __init__(
        self, job: Callable[..., Outcome], args: tuple[Any, ...], done: Callable[[Outcome], object]
    ) -> None:
        context = _context()
        self._answer, child = context.Pipe(duplex=False)
        self._process = context.Process(target=_child, args=(child, job, args), daemon=True)
        self._process.start()
        child.close()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, args=(done,), daemon=True)
        self._thread.start()

    def _watch(self, done: Callable[[Outcome], object]) -> None:
        outcome: Outcome = ("stopped", None)
        while not self._stop.is_set():
            if self._answer.poll(POLL_S):
                try:
                    outcome = self._answer.recv()
                except EOFError:  # the child died: say how
                    self._process.join(timeout=5)
                    outcome = self._died()
                break
            if not self._process.is_alive() and not self._answer.poll(0):
                outcome = self._died()
                break
        if self._stop.is_set() and self._process.is_alive():
            self._process.kill()
        self._process.join(timeout=10)
        self._answer.close()
        done(outcome)

    def _died(self) -> Outcome:
        code = self._process.exitcode
        return ("error", f"the background process ended without an answer (exit code {code})")

    def stop(self) -> None:
        """End the job now (``done`` then gets ``("stopped", None)``)."""
        self._stop.set()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Wait until ``done`` has run; False if still running after ``timeout_s``."""
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()
