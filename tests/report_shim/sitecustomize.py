"""Test-only stand-in for engine fields being added on another branch (remove once merged).

``beamdesign.report.review_summary`` reads ``Threshold.convention/where/measured_for/caveat``,
``Crossing.convention/where/final_dose_Gy`` and ``ExperimentResult.warnings/hottest``. Where the
engine in this checkout lacks them, this module (on PYTHONPATH, so report kernels load it too)
adds them: the threshold's metric is the plan's convention over the beam column, and a
crossing's final dose is the location's final dose of that constituent. It does nothing when
the engine has the fields.
"""

from __future__ import annotations

import dataclasses
import types


def _install() -> None:
    try:
        from beamdesign import experiment, thresholds
    except ImportError:  # not a beamdesign environment
        return
    if hasattr(experiment.Crossing, "final_dose_Gy") or "final_dose_Gy" in {
            f.name for f in dataclasses.fields(experiment.Crossing)}:
        return
    thresholds.Threshold.convention = property(lambda t: "energy-absorption")
    thresholds.Threshold.where = property(lambda t: "column-mean")
    thresholds.Threshold.measured_for = property(lambda t: "")
    thresholds.Threshold.caveat = property(lambda t: "")
    experiment.Crossing.convention = property(lambda c: c.threshold.convention)
    experiment.Crossing.where = property(lambda c: c.threshold.where)
    experiment.ExperimentResult.warnings = property(lambda r: ())

    def hottest(result):
        dmap = result.dose_map()
        return types.SimpleNamespace(x_um=float(dmap.peak_xy_um[0]), y_um=float(dmap.peak_xy_um[1]),
                                     dose_Gy=float(dmap.peak_value))

    experiment.ExperimentResult.hottest = property(hottest)
    original = experiment.run_plan

    def run_plan(plan, *args, **kwargs):
        result = original(plan, *args, **kwargs)
        for loc in result.locations:
            for c in loc.crossings:
                object.__setattr__(c, "final_dose_Gy", loc.dose_Gy[c.constituent])
        return result

    experiment.run_plan = run_plan


_install()
