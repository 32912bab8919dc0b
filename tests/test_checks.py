"""Warnings that cannot be missed: plans that measure nothing, dropped exposures, unchecked
thresholds, energies at an edge, spots smaller than the photoelectron range."""

from __future__ import annotations

import pytest

from beamdesign.checks import beam_warnings, photoelectron_range_um, plan_warnings
from beamdesign.experiment import run_plan
from beamdesign.plan import builtin_plan_names, load_plan

PCC = load_plan("jousseaume2023-exp2-pcc")
ONE = {
    "locations": [
        {"name": "A", "x_um": 0, "y_um": 0, "exposure_s": 10},
        {"name": "B", "x_um": 5000, "y_um": 0, "exposure_s": 10},
    ]
}


def warnings(plan):
    return plan_warnings(plan, run_plan(plan))


@pytest.mark.parametrize("name", builtin_plan_names())
def test_builtin_plans_have_no_warning(name):
    # electron sessions name the elements their beam can knock on (test_electron_session.py)
    assert [w for w in warnings(load_plan(name)) if not w.startswith("knock-on:")] == []


def test_a_protocol_of_zero_seconds_measures_nothing():
    plan = PCC.replace(protocol=["Discharge at 1C until 0%"], schedule=ONE)
    assert warnings(plan) == (
        "the protocol lasts 0 s: the plan measures nothing and every dose is 0",
    )


def test_exposures_after_the_end_measure_nothing():
    plan = PCC.replace(schedule={**ONE, "start_s": 30000})
    assert warnings(plan) == (
        "no exposure starts before the protocol ends (8 h; schedule start_s "
        "= 30000 s): the plan measures nothing and every dose is 0",
    )


def test_dropped_exposures_and_unmeasured_locations():
    schedule = {"locations": [{**point, "exposure_s": 20} for point in ONE["locations"]], "loop": 3}
    plan = PCC.replace(protocol=["Rest for 15 s"], schedule=schedule)
    assert warnings(plan) == (
        "5 planned exposure(s) would start after the protocol ends (15 s) and were dropped: "
        "fewer loops are measured than the schedule asks",
        "1 of 2 locations are never measured before the protocol ends (first: 'B'); their dose "
        "is only what neighbouring exposures give them",
    )


def test_a_threshold_on_a_missing_constituent_is_reported():
    plan = PCC.replace(probe="cathode current collector", thresholds=["jousseaume2023"])
    got = warnings(plan)
    assert got == (
        "threshold 'electrolyte radiolysis (~20 kGy)' was not checked: the probed "
        "layer holds no 'electrolyte'",
    )


def test_energy_at_an_absorption_edge():
    # Ni K edge 8.333 keV (xraylib EdgeEnergy); NMC811 holds Ni
    near = beam_warnings(PCC.beam.replace(energy_keV=8.35), PCC.stack)
    assert len(near) == 1 and near[0].startswith(
        "the beam energy 8.35 keV is within 50 eV of the Ni K edge (8.333 keV)"
    )
    assert beam_warnings(PCC.beam.replace(energy_keV=8.5), PCC.stack) == ()


def test_spot_below_the_photoelectron_range():
    got = beam_warnings(PCC.beam.replace(spot_um=(5.0, 400.0)), PCC.stack)
    assert got == (
        "the spot (5 x 400 µm) is smaller than the range of the photoelectrons "
        "(14.6 µm in water at 27 keV, CSDA): photoelectrons leave the "
        "footprint, so the local dose is overestimated and the surroundings receive "
        "dose",
    )


def test_photoelectron_range_follows_estar():
    """The range comes from the stopping-power module: within 1 % of NIST ESTAR for water."""
    import csv
    from pathlib import Path

    lines = (Path(__file__).parent / "data" / "estar_water.csv").read_text().splitlines()
    for row in csv.DictReader(line for line in lines if not line.startswith("#")):
        energy_keV = float(row["kinetic_energy_MeV"]) * 1000
        if 10 <= energy_keV <= 200:
            assert photoelectron_range_um(energy_keV) == pytest.approx(
                float(row["csda_range_g_per_cm2"]) * 1e4, rel=0.01
            )
    assert photoelectron_range_um(20, density_g_cm3=4.0) == pytest.approx(
        photoelectron_range_um(20) / 4
    )
