"""The planner's background jobs: an outcome comes back, an error or a dead process is one
sentence, Stop kills the job at once and says so."""

from __future__ import annotations

import os
import time
from typing import Any

from beamdesign.widgets.background import BackgroundJob


def _run(job: Any, args: tuple[Any, ...], timeout_s: float = 60.0) -> list[Any]:
    out: list[Any] = []
    background = BackgroundJob(job, args, out.append)
    assert background.wait(timeout_s), "the background job did not report"
    return out


def test_a_job_returns_its_outcome():
    assert _run(tuple, (["ok", 6],)) == [("ok", 6)]


def test_an_exception_comes_back_as_one_sentence():
    [(status, text)] = _run(int, ("not a number",))
    assert status == "error" and text.startswith("ValueError:") and "not a number" in text


def test_a_process_that_dies_is_reported_with_its_exit_code():
    [(status, text)] = _run(os._exit, (3,))
    assert status == "error" and "exit code 3" in text


def test_stop_kills_the_job_at_once():
    out: list[Any] = []
    job = BackgroundJob(time.sleep, (60.0,), out.append)
    deadline = time.monotonic() + 30
    while job._process.pid is None and time.monotonic() < deadline:
        time.sleep(0.01)
    start = time.monotonic()
    job.stop()
    assert job.wait(10) and time.monotonic() - start < 5.0
    assert out == [("stopped", None)] and not job.running
    assert not job._process.is_alive()
