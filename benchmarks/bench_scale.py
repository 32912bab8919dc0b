"""Scale: time and peak memory of ``run_plan`` for 10² … 10⁵ raster locations.

``pytest benchmarks/bench_scale.py --benchmark-only`` times 10², 10³ and 10⁴ locations;
``python benchmarks/bench_scale.py`` prints time and peak memory (each size in a fresh process,
so the peak resident memory is that run's) for 10², 10³, 10⁴ and 10⁵ locations: a snake raster
(150 µm step, 200 µm spot) over a C/10 charge, 10 s per scan, the default plan's cell.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

import pytest
import yaml

from beamdesign.experiment import run_plan
from beamdesign.plan import builtin_plan_text, plan_from_config


def raster_plan(n_side: int, profile: str = "gaussian"):
    config = yaml.safe_load(builtin_plan_text("default"))
    config["beam"]["profile"] = profile
    config["protocol"] = ["Charge at C/10 until 100%"]
    config["schedule"]["raster"] = {
        "pattern": "snake",
        "nx": n_side,
        "ny": n_side,
        "step_um": [150, 150],
        "origin_um": [0, 0],
    }
    return plan_from_config(config)


@pytest.mark.parametrize("n_side", [10, 32, 100])
@pytest.mark.parametrize("profile", ["tophat", "gaussian"])
def test_run_plan_scale(benchmark, n_side, profile):
    plan = raster_plan(n_side, profile)
    run_plan(raster_plan(2, profile))  # coefficient tables built once, outside the timing
    result = benchmark(run_plan, plan)
    assert len(result.locations) == n_side * n_side


def _measure(n_side: int, profile: str) -> dict:
    run_plan(raster_plan(2, profile))
    plan = raster_plan(n_side, profile)
    start = time.perf_counter()
    result = run_plan(plan)
    elapsed = time.perf_counter() - start
    peak_MB = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "locations": len(result.locations),
        "profile": profile,
        "time_s": elapsed,
        "peak_MB": peak_MB,
        "exposures": len(result.exposures),
    }


if __name__ == "__main__":
    if len(sys.argv) == 3:
        print(json.dumps(_measure(int(sys.argv[1]), sys.argv[2])))
        sys.exit(0)
    print(f"{'locations':>10} {'profile':>9} {'time s':>8} {'peak MB':>8}")
    for n_side in (10, 32, 100, 316):
        for profile in ("tophat", "gaussian"):
            out = subprocess.run(
                [sys.executable, __file__, str(n_side), profile],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            row = json.loads(out)
            print(
                f"{row['locations']:>10} {profile:>9} {row['time_s']:>8.2f} {row['peak_MB']:>8.0f}"
            )
