"""The Solve panel's computation, off the kernel's main thread: ``design_plan`` runs in a spawned
process (so Stop can end it at once, and the planner keeps answering meanwhile) and a watcher
thread hands the outcome back. This module imports no widget library: the spawned process loads
only the core."""

from __future__ import annotations

import threading
from collections.abc import Callable
from multiprocessing import get_context
from multiprocessing.connection import Connection
from typing import Any

from beamdesign.design import DesignResult, design_plan
from beamdesign.errors import InputError
from beamdesign.sweep import evaluate

#: how often the watcher looks for the answer or a Stop (s)
POLL_S = 0.1
#: what a finished job gives: ("ok", (result, current row)), ("input", InputError fields),
#: ("error", text) or ("stopped", None)
Outcome = tuple[str, Any]


def design_and_current(
    plan_config: dict[str, Any], section: dict[str, Any]
) -> tuple[DesignResult, dict[str, Any]]:
    """The Pareto front around the plan, and the plan's own row in the design's metric (the
    star on the plot). One process, one worker: a planner kernel shares the machine."""
    result = design_plan(plan_config, section, workers=1, progress=False)
    return result, evaluate(plan_config, result.design.quality)


def outcome_of(plan_config: dict[str, Any], section: dict[str, Any]) -> Outcome:
    """:func:`design_and_current` as an outcome (an InputError keeps its fields: it does not
    cross a process boundary whole)."""
    try:
        return ("ok", design_and_current(plan_config, section))
    except InputError as error:
        return ("input", (error.field, error.value, error.allowed, error.hint))
    except Exception as error:  # shown in the panel, never a traceback
        return ("error", f"{error.__class__.__name__}: {error}")


def _child(conn: Connection, plan_config: dict[str, Any], section: dict[str, Any]) -> None:
    try:
        conn.send(outcome_of(plan_config, section))
    finally:
        conn.close()


class BackgroundDesign:
    """``design_and_current`` in a spawned process; ``done(outcome)`` is called from a watcher
    thread when it ends, fails or is stopped."""

    def __init__(
        self,
        plan_config: dict[str, Any],
        section: dict[str, Any],
        done: Callable[[Outcome], None],
    ) -> None:
        context = get_context("spawn")  # never fork a kernel that runs threads
        self._answer, child = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_child, args=(child, plan_config, section), daemon=True
        )
        self._process.start()
        child.close()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, args=(done,), daemon=True)
        self._thread.start()

    def _watch(self, done: Callable[[Outcome], None]) -> None:
        outcome: Outcome = ("stopped", None)
        while not self._stop.is_set():
            if self._answer.poll(POLL_S):
                try:
                    outcome = self._answer.recv()
                except EOFError:
                    outcome = ("error", "the solve process ended without an answer")
                break
            if not self._process.is_alive() and not self._answer.poll(0):
                outcome = ("error", f"the solve process ended (exit code {self._process.exitcode})")
                break
        if self._stop.is_set() and self._process.is_alive():
            self._process.terminate()
        self._process.join(timeout=10)
        self._answer.close()
        done(outcome)

    def stop(self) -> None:
        """End the computation now (``done`` then gets ``("stopped", None)``)."""
        self._stop.set()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Wait until ``done`` has run; False if still running after ``timeout_s``."""
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()
