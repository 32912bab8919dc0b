"""Benchmark: 1,000 plans of the paper's size (PCc: 8-layer stack, 3 locations, 8 h protocol)
swept on 2 local processes in under 60 s.

Run: ``python -m pytest benchmarks/bench_sweep.py --benchmark-only`` (``make bench``); one
round, as a single sweep takes seconds and the first plans pay for the coefficient caches.
"""

from __future__ import annotations

import time

import numpy as np
import yaml

from beamdesign.plan import builtin_plan_text
from beamdesign.sweep import sweep

LIMIT_S = 60.0


def test_thousand_pcc_plans_on_two_cores(benchmark):
    config = yaml.safe_load(builtin_plan_text("jousseaume2023-exp2-pcc"))
    vary = {
        "beam.energy_keV": [27, 60],
        "beam.flux_ph_s": [float(v) for v in np.geomspace(1e9, 1e11, 25)],
        "schedule.locations.0.exposure_s": [float(v) for v in np.geomspace(0.5, 50, 20)],
    }
    start = time.perf_counter()
    result = benchmark.pedantic(
        sweep, args=(config, vary), kwargs={"workers": 2, "progress": False}, rounds=1, iterations=1
    )
    elapsed = time.perf_counter() - start
    assert len(result.rows) == 1000
    assert elapsed < LIMIT_S
