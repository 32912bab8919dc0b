"""Benchmark: 1,000 plans of the paper's size (PCc: 8-layer stack, 3 locations, 8 h protocol)
swept on 2 local processes in under 60 s.

Run: ``PYTHONPATH=src python -m pytest -p no:cacheprovider benchmarks/bench_sweep.py -s``
(not part of the default test paths: it is long and needs two idle cores to be meaningful).
"""

from __future__ import annotations

import time

import numpy as np
import yaml

from beamdesign.plan import builtin_plan_text
from beamdesign.sweep import sweep

LIMIT_S = 60.0


def test_thousand_pcc_plans_on_two_cores():
    config = yaml.safe_load(builtin_plan_text("jousseaume2023-exp2-pcc"))
    vary = {"beam.energy_keV": [27, 60],
            "beam.flux_ph_s": [float(v) for v in np.geomspace(1e9, 1e11, 25)],
            "schedule.locations.0.exposure_s": [float(v) for v in np.geomspace(0.5, 50, 20)]}
    start = time.perf_counter()
    result = sweep(config, vary, workers=2, progress=False)
    elapsed = time.perf_counter() - start
    print(f"\n{len(result.rows)} plans in {elapsed:.1f} s on 2 processes")
    assert len(result.rows) == 1000
    assert elapsed < LIMIT_S
