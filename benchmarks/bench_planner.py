"""The planner's real observer path, end to end: set a control's ``.value`` and time every
observer (plan from the controls, ``run_plan``, summary, verdict table, the figure on screen)
plus the bokeh document sync (jupyter_bokeh serialises every patch and hands it to the comm),
exactly what one typed change costs in the kernel.

Run with ``make bench`` (``pytest -o addopts="" benchmarks/ --benchmark-only``), or directly for a
plain table: ``python benchmarks/bench_planner.py``. The browser side (comm round trip,
BokehJS repaint) is measured by ``tests/browser/test_planner_browser.py``.
"""

from __future__ import annotations

import itertools
import statistics
import time

import pytest

from beamdesign.plan import load_plan, plan_from_config
from beamdesign.widgets.planner import Planner

RASTER_40X40 = {
    "version": 1,
    "title": "40 × 40 Gaussian raster over 10 C/2 cycles",
    "stack": "pouch-nmc811-graphite",
    "beam": {
        "energy_keV": 27,
        "flux_ph_s": 1e11,
        "spot_um": [200, 200],
        "profile": "gaussian",
        "convention": "energy-absorption",
    },
    "protocol": ["Repeat 10 times: [Charge at C/2 until 100%, Discharge at C/2 until 0%]"],
    "schedule": {
        "raster": {"pattern": "snake", "nx": 40, "ny": 40, "step_um": [250, 250]},
        "exposure_s": 10,
        "move_s": 2,
        "loop": "until-end",
        "pause_s": 0,
    },
    "probe": "NMC811 cathode",
    "thresholds": "jousseaume2023",
}
PLANS = {"default": "default", "PCc": "jousseaume2023-exp2-pcc", "40x40": RASTER_40X40}
#: the typed changes cycled through: (control, values)
CHANGES = (
    ("energy_keV", (28.0, 31.0, 35.0, 27.5)),
    ("flux_ph_s", (9e10, 1.1e11)),
    ("exposure_s", (3.0, 4.0)),
)


def planner_for(name: str) -> Planner:
    spec = PLANS[name]
    return Planner(plan_from_config(spec) if isinstance(spec, dict) else load_plan(spec))


def changes():
    """An endless sequence of (control, value), each different from the previous value."""
    pairs = [(name, v) for name, values in CHANGES for v in values]
    return itertools.cycle(pairs)


def time_changes(planner: Planner, n: int, tab: int = 0) -> list[tuple[float, float]]:
    """(wall, CPU) time (s) of ``n`` control changes through every observer, with figure tab
    ``tab`` shown (CPU time is what the kernel itself spends; wall time includes waiting for a
    busy machine)."""
    planner.figure_tabs.selected_index = tab
    out = []
    for name, value in itertools.islice(changes(), n):
        start, cpu = time.perf_counter(), time.process_time()
        planner.controls[name].value = value
        out.append((time.perf_counter() - start, time.process_time() - cpu))
        assert not planner.stale, planner.errors
    return out


@pytest.mark.parametrize("name", list(PLANS))
@pytest.mark.parametrize("tab", [0, 1, 3], ids=["dose_time", "dose_map", "energy"])
def test_observer_path(benchmark, name, tab):
    planner = planner_for(name)
    planner.figure_tabs.selected_index = tab
    sequence = changes()

    def one_change():
        control, value = next(sequence)
        planner.controls[control].value = value

    rounds = 3 if name == "40x40" else 16
    benchmark.pedantic(one_change, rounds=rounds, iterations=1, warmup_rounds=1)
    assert not planner.stale and planner.result is not None


if __name__ == "__main__":
    print(
        f"{'plan':8s} {'tab':10s} {'wall median':>11s} {'max':>7s} {'CPU median':>10s} "
        f"{'max':>7s}  ms (n changes)"
    )
    for name in PLANS:
        planner = planner_for(name)
        n = 6 if name == "40x40" else 16
        for tab, label in ((0, "dose_time"), (1, "dose_map"), (3, "energy")):
            times = time_changes(planner, n, tab)[1:]  # the first pays for the tab switch
            wall, cpu = [1e3 * t for t, _ in times], [1e3 * c for _, c in times]
            print(
                f"{name:8s} {label:10s} {statistics.median(wall):11.1f} {max(wall):7.1f} "
                f"{statistics.median(cpu):10.1f} {max(cpu):7.1f}  ({len(times)})"
            )
