"""The planner's callback path: plan config -> plan_from_config -> run_plan -> figure data.

Run with ``pytest benchmarks/ --benchmark-enable`` (or ``-o addopts="" --benchmark-only``: the
repo's addopts carry ``--benchmark-disable``, which ``--benchmark-only`` refuses).
This is what one control change costs in the widget, minus the browser round trip.
"""

from __future__ import annotations

import pytest

from beamdesign.experiment import run_plan
from beamdesign.plan import builtin_plan_names, load_plan, plan_from_config
from beamdesign.widgets.figures import dose_map_data, dose_time_data, energy_data, stack_data

RASTER_40X40 = {
    "version": 1,
    "title": "40 × 40 Gaussian raster over 10 C/2 cycles",
    "stack": "pouch-nmc811-graphite",
    "beam": {"energy_keV": 27, "flux_ph_s": 1e11, "spot_um": [200, 200], "profile": "gaussian",
             "convention": "energy-absorption"},
    "protocol": ["Repeat 10 times: [Charge at C/2 until 100%, Discharge at C/2 until 0%]"],
    "schedule": {"raster": {"pattern": "snake", "nx": 40, "ny": 40, "step_um": [250, 250]},
                 "exposure_s": 10, "move_s": 2, "loop": "until-end", "pause_s": 0},
    "probe": "NMC811 cathode",
    "thresholds": "jousseaume2023",
}


def callback(config: dict) -> dict:
    """Everything the planner's single observer does after reading the controls."""
    result = run_plan(plan_from_config(config))
    return {"dose_time": dose_time_data(result), "dose_map": dose_map_data(result),
            "stack": stack_data(result), "energy": energy_data(result)}


@pytest.mark.parametrize("name", builtin_plan_names())
def test_callback_builtin(benchmark, name):
    config = load_plan(name).to_config()
    data = benchmark(callback, config)
    assert len(data["energy"]["energy_curve"]["energy"]) == 300


def test_callback_raster_40x40_10_cycles(benchmark):
    data = benchmark.pedantic(callback, args=(RASTER_40X40,), rounds=3, iterations=1,
                              warmup_rounds=1)
    assert len(data["dose_map"]["map_ellipses"]["x"]) == 1600
