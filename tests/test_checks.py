"""Warnings that cannot be missed: plans that measure nothing, dropped exposures, unchecked
thresholds, energies at an edge, spots smaller than the photoelectron range."""

from __future__ import annotations

import math

import pytest

from beamdesign.checks import (ESTAR_WATER_CSDA_G_CM2, beam_warnings, photoelectron_range_um,
                               plan_warnings)
from beamdesign.experiment import run_plan
from beamdesign.plan import builtin_plan_names, load_plan

PCC = load_plan("jousseaume2023-exp2-pcc")
ONE = {"locations": [{"name": "A", "x_um": 0, "y_um": 0, "exposure_s": 10},
                     {"name": "B", "x_um": 5000, "y_um": 0, "exposure_s": 10}]}


def warnings(plan):
    return plan_warnings(plan, run_plan(plan))


@pytest.mark.parametrize("name", builtin_plan_names())
def test_builtin_plans_have_no_warning(name):
    assert warnings(load_plan(name)) == ()


def test_a_protocol_of_zero_seconds_measures_nothing():
    plan = PCC.replace(protocol=["Discharge at 1C until 0%"], schedule=ONE)
    assert warnings(plan) == ("the protocol lasts 0 s: the plan measures nothing and every dose is 0",)


def test_exposures_after_the_end_measure_nothing():
    plan = PCC.replace(schedule={**ONE, "start_s": 30000})
    assert warnings(plan) == ("no exposure starts before the protocol ends (8 h; schedule start_s "
                              "= 30000 s): the plan measures nothing and every dose is 0",)


def test_dropped_exposures_and_unmeasured_locations():
    schedule = {"locations": [{**point, "exposure_s": 20} for point in ONE["locations"]], "loop": 3}
    plan = PCC.replace(protocol=["Rest for 15 s"], schedule=schedule)
    assert warnings(plan) == (
        "5 planned exposure(s) would start after the protocol ends (15 s) and were dropped: "
        "fewer loops are measured than the schedule asks",
        "1 of 2 locations are never measured before the protocol ends (first: 'B'); their dose "
        "is only what neighbouring exposures give them")


def test_a_threshold_on_a_missing_constituent_is_reported():
    plan = PCC.replace(probe="cathode current collector",
                       thresholds=["jousseaume2023"])
    got = warnings(plan)
    assert got == ("threshold 'electrolyte radiolysis (~20 kGy)' was not checked: the probed "
                   "layer holds no 'electrolyte'",)


def test_energy_at_an_absorption_edge():
    # Ni K edge 8.333 keV (xraylib EdgeEnergy); NMC811 holds Ni
    near = beam_warnings(PCC.beam.replace(energy_keV=8.35), PCC.stack)
    assert len(near) == 1 and near[0].startswith("the beam energy 8.35 keV is within 50 eV of "
                                                 "the Ni K edge (8.333 keV)")
    assert beam_warnings(PCC.beam.replace(energy_keV=8.5), PCC.stack) == ()


def test_spot_below_the_photoelectron_range():
    got = beam_warnings(PCC.beam.replace(spot_um=(5.0, 400.0)), PCC.stack)
    assert got == ("the spot (5 x 400 µm) is smaller than the range of the photoelectrons "
                   "(14.6 µm in water at 27 keV, NIST ESTAR): photoelectrons leave the "
                   "footprint, so the local dose is overestimated and the surroundings receive "
                   "dose",)


def test_photoelectron_range_follows_estar():
    for energy_keV, range_g_cm2 in ESTAR_WATER_CSDA_G_CM2.items():
        assert photoelectron_range_um(energy_keV) == pytest.approx(range_g_cm2 * 1e4, rel=1e-12)
    # between table points: log-log interpolation stays between its neighbours
    assert 8.573 < photoelectron_range_um(25) < 17.59
    assert photoelectron_range_um(20, density_g_cm3=4.0) == pytest.approx(8.573 / 4)
    # below 10 keV the 10-15 keV power law continues (ESTAR stops at 10 keV)
    slope = math.log(5.147 / 2.515) / math.log(15 / 10)
    assert photoelectron_range_um(5) == pytest.approx(2.515 * 0.5 ** slope, rel=1e-12)
