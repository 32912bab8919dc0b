"""Benchmark of one HTML report (papermill run of the template + nbconvert export).

Run: ``python -m pytest benchmarks/bench_report.py --benchmark-only``. A report starts a kernel,
so it takes seconds: 3 rounds of 1 iteration, no warm-up.
"""

from __future__ import annotations

import pytest

pytest.importorskip("papermill")

from beamdesign.report import render_report  # noqa: E402

PLAN = "jousseaume2023-exp2-pcc"


def test_report_one_plan(benchmark, tmp_path):
    out = tmp_path / "report.html"
    path = benchmark.pedantic(render_report, args=(PLAN, out), rounds=3, iterations=1,
                              warmup_rounds=0)
    assert path.stat().st_size > 1_000_000  # inline BokehJS makes a self-contained page
    assert path.with_suffix(".ipynb").is_file()
