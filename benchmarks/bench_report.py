"""Benchmark of one HTML report (papermill run of the template + page assembly).

Run: ``python -m pytest benchmarks/bench_report.py --benchmark-only``. A report starts a kernel,
so it takes seconds: 3 rounds of 1 iteration, no warm-up. Also prints the page size of the
default plan and of a 100 × 100 raster (issue 9: under 10 MB).
"""

from __future__ import annotations

import pytest
import yaml

pytest.importorskip("papermill")

from beamdesign.plan import builtin_plan_text
from beamdesign.report import render_report

PLAN = "jousseaume2023-exp2-pcc"


def test_report_one_plan(benchmark, tmp_path):
    out = tmp_path / "report.html"
    path = benchmark.pedantic(
        render_report, args=(PLAN, out), rounds=3, iterations=1, warmup_rounds=0
    )
    # BokehJS core (~1.3 MB) inlined once: a self-contained page, well under the old 4.8 MB
    assert 1_000_000 < path.stat().st_size < 3_000_000
    assert not path.with_suffix(".ipynb").exists()


@pytest.mark.parametrize("raster", [None, 100])
def test_report_size(benchmark, tmp_path, raster):
    config = yaml.safe_load(builtin_plan_text("default"))
    if raster:
        config["schedule"]["raster"].update(nx=raster, ny=raster)
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump(config), encoding="utf-8")
    path = benchmark.pedantic(
        render_report,
        args=(plan, tmp_path / "report.html"),
        rounds=1,
        iterations=1,
        warmup_rounds=0,
    )
    size = path.stat().st_size
    benchmark.extra_info["html_bytes"] = size
    print(
        f"report of the default plan{f' as a {raster} x {raster} raster' if raster else ''}: "
        f"{size / 1e6:.2f} MB"
    )
    assert size < 10_000_000
