"""The planner's background jobs: a result comes back, an error is one sentence, a cancelled
job is killed at once and never reports."""

from __future__ import annotations

import threading
import time
from typing import Any

from beamdesign.widgets.background import Background


def _wait_for(done: threading.Event, seconds: float = 60.0) -> None:
    assert done.wait(seconds), "the background job did not report"


def _collect() -> tuple[list[tuple[str, Any]], threading.Event, Any]:
    out: list[tuple[str, Any]] = []
    done = threading.Event()

    def on_done(status: str, value: Any) -> None:
        out.append((status, value))
        done.set()

    return out, done, on_done


def test_a_job_returns_its_result():
    out, done, on_done = _collect()
    Background().start(sum, ([1, 2, 3],), on_done)
    _wait_for(done)
    assert out == [("ok", 6)]


def test_an_error_comes_back_as_its_sentence():
    out, done, on_done = _collect()
    Background().start(int, ("not a number",), on_done)
    _wait_for(done)
    assert out[0][0] == "error" and "not a number" in out[0][1]


def test_cancel_kills_the_job_and_it_never_reports():
    out, done, on_done = _collect()
    jobs = Background()
    jobs.start(time.sleep, (30.0,), on_done)
    deadline = time.monotonic() + 30
    while not jobs.running and time.monotonic() < deadline:
        time.sleep(0.01)
    start = time.monotonic()
    assert jobs.cancel()
    assert not jobs.running
    assert time.monotonic() - start < 5.0
    assert not done.wait(1.0) and out == []
    assert not jobs.cancel()  # nothing left to cancel


def test_a_new_job_replaces_the_one_under_way():
    out, done, on_done = _collect()
    jobs = Background()
    jobs.start(time.sleep, (30.0,), on_done)
    jobs.start(max, ([4, 9, 2],), on_done)
    _wait_for(done)
    time.sleep(0.5)
    assert out == [("ok", 9)]
