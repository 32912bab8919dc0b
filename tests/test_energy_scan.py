"""Energy scans as exposures (issue 11, item 2): a scan's dose is the sum over its points, edges
included; crossings inside a scan are exact; a scan over one point-equivalent is one exposure."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import xraylib
from hypothesis import given, settings
from hypothesis import strategies as st

from beamdesign.advice import advise
from beamdesign.dose import dose_spectrum
from beamdesign.errors import InputError
from beamdesign.experiment import run_plan
from beamdesign.plan import load_plan, plan_from_config

NI_K_keV = xraylib.EdgeEnergy(28, xraylib.K_SHELL)  # 8.3328 keV
SCAN = {"start_keV": 8.30, "stop_keV": 8.40, "points": 6, "dwell_s": 2.0}
LOCATIONS = [
    {"name": "A", "x_um": 0, "y_um": 0},
    {"name": "B", "x_um": 150, "y_um": 0},  # half a spot away: the Gaussian tails overlap
    {"name": "C", "x_um": 3000, "y_um": 0},
]
BASE = {
    "version": 1,
    "title": "energy scan test",
    "stack": "pouch-nmc811-graphite",
    "beam": {"energy_keV": 8.35, "flux_ph_s": 1e10, "spot_um": [300, 200], "profile": "gaussian"},
    "protocol": ["Charge at C/10 for 2 h"],
    "schedule": {"locations": LOCATIONS, "energy_scan": SCAN, "move_s": 5, "loop": 3},
    "probe": "NMC811 cathode",
    "thresholds": [
        {"name": "low", "dose_Gy": 2e3},
        {"name": "paper scale", "dose_Gy": 5e3, "convention": "total-attenuation"},
        {"name": "entrance", "dose_Gy": 8e3, "where": "hottest-point"},
        {"name": "electrolyte", "dose_Gy": 1e3, "constituent": "electrolyte"},
    ],
}


def plan_with(**changes):
    config = copy.deepcopy(BASE)
    for dotted, value in changes.items():
        section, _, key = dotted.partition("__")
        if key:
            config[section][key] = value
        else:
            config[section] = value
    return plan_from_config(config)


def single_energy_plans(plan):
    """One plan per point of the scan: same locations and loops, exposure_s = dwell_s at E_k."""
    config = plan.to_config()
    scan = plan.schedule.energy_scan
    out = []
    for energy in scan.energies_keV:
        single = copy.deepcopy(config)
        single["beam"]["energy_keV"] = float(energy)
        del single["schedule"]["energy_scan"]
        single["schedule"]["exposure_s"] = scan.dwell_s
        out.append(plan_from_config(single))
    return out


def assert_sum_over_points(plan, rel=1e-9):
    """Final doses (every constituent, column mean and entrance, every threshold metric) of a
    scan made only of whole scans equal the sum of the single-energy plans'. The issue asks for
    0.1 %; the engine is exact (same hot points, sums in another order), so 1e-9 is asked."""
    scanned = run_plan(plan)
    singles = [run_plan(p) for p in single_energy_plans(plan)]
    for q, loc in enumerate(scanned.locations):
        for key, dose in loc.dose_Gy.items():
            expected = sum(s.locations[q].dose_Gy[key] for s in singles)
            assert dose == pytest.approx(expected, rel=rel), (loc.name, key)
            expected = sum(s.locations[q].entrance_dose_Gy[key] for s in singles)
            assert loc.entrance_dose_Gy[key] == pytest.approx(expected, rel=rel)
        for i, crossing in enumerate(loc.crossings):
            expected = sum(s.locations[q].crossings[i].final_dose_Gy for s in singles)
            assert crossing.final_dose_Gy == pytest.approx(expected, rel=rel)
        assert loc.beam_on_s == pytest.approx(sum(s.locations[q].beam_on_s for s in singles))
        assert loc.scans == singles[0].locations[q].scans
    return scanned, singles


def test_a_scan_dose_is_the_sum_over_its_points():
    scanned, singles = assert_sum_over_points(plan_with())
    # the scan really moves the dose: points straddle the Ni K edge
    rates = [s.probe_peak_rate_Gy_per_s for s in singles]
    assert max(rates) > 1.1 * min(rates)
    assert scanned.probe_peak_rate_Gy_per_s == pytest.approx(np.mean(rates), rel=1e-12)


def test_points_just_above_an_edge_get_the_above_edge_coefficients():
    """A point 0.2 eV above the Ni K edge and one 0.2 eV below: the mass attenuation of NMC811
    jumps between them as xraylib's CS_Total does between edge ± 30 eV (outside CS_Photo's own
    20 eV edge window); E^-3 over those 60 eV changes the ratio by ~2 %, hence rel=0.05."""
    scan = {
        "start_keV": NI_K_keV - 0.0002,
        "stop_keV": NI_K_keV + 0.0002,
        "points": 2,
        "dwell_s": 1,
    }
    plan = plan_with(beam__convention="total-attenuation", schedule__energy_scan=scan)
    scanned, _ = assert_sum_over_points(plan)
    spectrum = scanned.spectrum
    row = spectrum.index("NMC811 cathode/NMC811")
    below, above = spectrum.coefficient_cm2_g[row]
    nmc = plan.stack.layer("NMC811 cathode").constituents[0].material

    def tabulated(energy_keV):
        return sum(w * xraylib.CS_Total(z, energy_keV) for z, w in nmc.mass_fractions)

    jump = tabulated(NI_K_keV + 0.030) / tabulated(NI_K_keV - 0.030)
    assert above / below == pytest.approx(jump, rel=0.05)
    assert jump > 2.0  # the edge is there to be missed


@settings(max_examples=12, deadline=None, derandomize=True)
@given(
    start=st.floats(8.20, NI_K_keV - 0.001),
    span=st.floats(0.002, 0.4),
    points=st.integers(2, 7),
    dwell=st.floats(0.1, 5.0),
    profile=st.sampled_from(["gaussian", "tophat"]),
    loop=st.sampled_from(["once", 2]),
)
def test_sum_over_points_holds_for_any_scan_and_footprint(
    start, span, points, dwell, profile, loop
):
    scan = {"start_keV": start, "stop_keV": start + span, "points": points, "dwell_s": dwell}
    plan = plan_with(schedule__energy_scan=scan, schedule__loop=loop, beam__profile=profile)
    assert_sum_over_points(plan)


def test_a_raster_of_scans_is_the_sum_over_points():
    raster = {"pattern": "snake", "nx": 3, "ny": 2, "step_um": [150, 150]}
    schedule = {"raster": raster, "energy_scan": SCAN, "move_s": 1, "loop": 2, "pause_s": 20}
    assert_sum_over_points(plan_with(schedule=schedule))


def brute_dose(result, q, time_s, rates_by_energy):
    """Dose at q's hot point by time_s: every exposure's relative fluence × its energy's rate ×
    the part of it before time_s (no pair lists, no cumulative sums)."""
    ex = result.exposures
    xy = result.plan.schedule.xy_um
    d = result.hotspots.xy_um[q] - xy[ex.location_index]
    weight = result.plan.beam.relative_fluence()(d[:, 0], d[:, 1])
    seconds = np.clip(time_s - ex.start_s, 0.0, ex.duration_s)
    return float(np.sum(weight * rates_by_energy[ex.energy_index] * seconds))


def rates_in(plan, key, convention, where):
    """Peak rate (Gy/s) of ``key`` at each point of the scan, one energy at a time."""
    beam = plan.beam.replace(convention=convention)
    out = []
    for energy in plan.schedule.energy_scan.energies_keV:
        spectrum = dose_spectrum(plan.stack, beam, energy)
        rates = (
            spectrum.peak_dose_rate_Gy_per_s
            if where == "column-mean"
            else spectrum.entrance_peak_dose_rate_Gy_per_s
        )
        out.append(rates[spectrum.index(key), 0])
    return np.array(out)


@pytest.mark.parametrize("loop", ["until-end", 3])
def test_crossings_inside_a_scan_are_exact(loop):
    """Crossing times against brute force: the dose there equals the threshold (1e-9), and a
    time stepping of dwell/1000 (offset by half a step from the crossing, so that no step lands
    on it) first reaches the threshold within one step after it."""
    plan = plan_with(schedule__loop=loop)
    result = run_plan(plan)
    found = 0
    for q, loc in enumerate(result.locations):
        for crossing in loc.crossings:
            t = crossing.threshold
            rates = rates_in(plan, crossing.constituent, t.convention, t.where)
            final = brute_dose(result, q, plan.protocol.duration_s, rates)
            assert crossing.final_dose_Gy == pytest.approx(final, rel=1e-9)
            if crossing.time_s is None:
                assert final < t.dose_Gy
                continue
            found += 1
            assert brute_dose(result, q, crossing.time_s, rates) == pytest.approx(
                t.dose_Gy, rel=1e-9
            )
            step = SCAN["dwell_s"] / 1000
            grid = crossing.time_s + (np.arange(-20, 20) + 0.5) * step
            doses = np.array([brute_dose(result, q, s, rates) for s in grid])
            first = grid[np.argmax(doses >= t.dose_Gy)]
            assert first - step < crossing.time_s < first
    assert found >= 6  # crossings of every metric happen inside the scans


def test_timeline_local_and_averaged_rates_account_for_each_point():
    plan = plan_with(schedule__loop="until-end")
    result = run_plan(plan)
    rates = rates_in(plan, result.probe, plan.beam.convention, "column-mean")
    for q, loc in enumerate(result.locations):
        for i in (100, 500, 1000):
            expected = brute_dose(result, q, result.time_s[i], rates)
            assert result.probe_dose_Gy[q, i] == pytest.approx(expected, rel=1e-9, abs=1e-9)
        assert result.dose_at(loc.name, 1234.5) == pytest.approx(
            brute_dose(result, q, 1234.5, rates), rel=1e-9
        )
        # local: the highest instantaneous rate, at the most absorbed point of the scan
        ex = result.exposures
        d = result.hotspots.xy_um[q] - plan.schedule.xy_um[ex.location_index]
        weight = plan.beam.relative_fluence()(d[:, 0], d[:, 1])
        local = float(np.max(weight * rates[ex.energy_index]))
        assert loc.local_dose_rate_Gy_per_s == pytest.approx(local, rel=1e-12)
        own = ex.location_index == q
        window = (ex.start_s[own][0], ex.end_s[own][-1])
        gained = brute_dose(result, q, window[1], rates) - brute_dose(result, q, window[0], rates)
        assert loc.averaged_dose_rate_Gy_per_s == pytest.approx(
            gained / (window[1] - window[0]), rel=1e-9
        )
    final = result.final_dose_Gy[result.spectrum.index(result.probe)]
    np.testing.assert_allclose(final, result.probe_dose_Gy[:, -1], rtol=1e-9)
    assert result.hottest.dose_Gy == pytest.approx(final.max(), rel=1e-9)
    # the last scan is cut at the protocol end: an incomplete scan at one location
    assert result.exposures.truncated == 1


def test_dose_map_of_whole_scans_is_the_beam_on_map_at_the_scan_mean_rate():
    result = run_plan(plan_with())
    rate = result.probe_peak_rate_Gy_per_s
    scan_map = result.dose_map(resolution_um=20.0)
    from beamdesign.dosemap import dose_map

    beam = result.plan.beam
    plain = dose_map(result.plan.schedule.xy_um, result.beam_on_s, beam.relative_fluence(), 20.0)
    np.testing.assert_allclose(scan_map.values, plain.values * rate, rtol=1e-9, atol=1e-9)


def test_a_scan_over_one_point_equivalent_is_one_exposure():
    """points × dwell at (nearly) one energy = one exposure of points × dwell at that energy:
    1e-7 keV changes the coefficients by ~4e-8 (E^-3 at 8 keV): rel=1e-6."""
    start = 8.2
    scan = {"start_keV": start, "stop_keV": start + 1e-7, "points": 5, "dwell_s": 3.0}
    scanned = run_plan(plan_with(schedule__energy_scan=scan, schedule__loop="until-end"))
    config = copy.deepcopy(BASE)
    config["beam"]["energy_keV"] = start
    del config["schedule"]["energy_scan"]
    config["schedule"].update(exposure_s=15.0, loop="until-end")
    single = run_plan(plan_from_config(config))
    assert np.count_nonzero(scanned.exposures.visits) == len(single.exposures)
    for a, b in zip(scanned.locations, single.locations, strict=True):
        assert a.scans == b.scans
        assert a.beam_on_s == pytest.approx(b.beam_on_s, rel=1e-12)
        for key in a.dose_Gy:
            assert a.dose_Gy[key] == pytest.approx(b.dose_Gy[key], rel=1e-6)
        assert a.local_dose_rate_Gy_per_s == pytest.approx(b.local_dose_rate_Gy_per_s, rel=1e-6)
        assert a.averaged_dose_rate_Gy_per_s == pytest.approx(
            b.averaged_dose_rate_Gy_per_s, rel=1e-6
        )
        for ca, cb in zip(a.crossings, b.crossings, strict=True):
            assert (ca.time_s is None) == (cb.time_s is None)
            if ca.time_s is not None:
                assert ca.time_s == pytest.approx(cb.time_s, rel=1e-6)
    np.testing.assert_allclose(scanned.probe_dose_Gy, single.probe_dose_Gy, rtol=1e-6, atol=1e-9)


def test_to_dict_says_the_scan():
    result = run_plan(plan_with())
    data = result.to_dict(timeline=False)
    scan = data["energy_scan"]
    assert scan["points"] == 6 and scan["dwell_s"] == 2.0
    np.testing.assert_allclose(scan["energies_keV"], [8.30, 8.32, 8.34, 8.36, 8.38, 8.40])
    assert scan["reference_energy_keV"] == 8.35
    assert "point by point" in scan["dose"]
    assert "energy_scan" not in run_plan(load_plan("default")).to_dict(timeline=False)


def test_the_builtin_xanes_example_runs_and_advice_holds_when_applied():
    plan = load_plan("example-xanes-ni-k")
    result = run_plan(plan)
    assert result.warnings == ()
    assert result.spectrum.energies_keV.size == plan.schedule.energy_scan.points
    advice = advise(plan, result=result)
    assert advice.needed
    flux = next(o for o in advice.options if o.name == "flux")
    rerun = run_plan(plan.replace(**flux.plan_changes))
    worst = max(loc.dose_Gy[advice.constituent] for loc in rerun.locations)
    assert flux.feasible and worst <= advice.threshold.dose_Gy


@pytest.mark.parametrize(
    "scan, match",
    [
        (
            {**SCAN, "stop_keV": 8.30},
            r"schedule\.energy_scan\.stop_keV = 8\.3: an energy above "
            r"start_keV = 8\.3 keV \(a scan runs upwards\)\.",
        ),
        (
            {**SCAN, "points": 1},
            r"schedule\.energy_scan\.points = 1: a whole number from 2 to "
            r"1e\+04 points\.",
        ),
        ({**SCAN, "points": 10001}, r"schedule\.energy_scan\.points = 10001: a whole number"),
        ({**SCAN, "points": 2.5}, r"schedule\.energy_scan\.points = 2\.5: a whole number"),
        (
            {**SCAN, "points": True},
            r"schedule\.energy_scan\.points = true: .*true/false is not a number\.",
        ),
        (
            {**SCAN, "dwell_s": 0},
            r"schedule\.energy_scan\.dwell_s = 0: a number above 0 and at most 1e\+07 s\.",
        ),
        ({**SCAN, "dwell_s": float("nan")}, r"schedule\.energy_scan\.dwell_s = nan: .*finite"),
        (
            {**SCAN, "start_keV": 0.5},
            r"schedule\.energy_scan\.start_keV = 0\.5: a number from 1 "
            r"to 200 keV\.",
        ),
        (
            {**SCAN, "stop_keV": 300},
            r"schedule\.energy_scan\.stop_keV = 300: a number from 1 to "
            r"200 keV\.",
        ),
        (
            {**SCAN, "dwell_s": 1e5, "points": 1000},
            r"schedule\.energy_scan\.dwell_s = 100000: one "
            r"scan lasts points × dwell_s = 1e\+08 s, at most 1e\+07 s are allowed",
        ),
        (
            {"start_keV": 8.3, "stop_keV": 8.4, "points": 5},
            r"schedule\.energy_scan\.dwell_s = "
            r"missing: required\.",
        ),
        (
            {**SCAN, "dwel_s": 1},
            r"schedule\.energy_scan\.dwel_s = 1: not a known key; allowed: "
            r"start_keV, stop_keV, points, dwell_s.*did you mean 'dwell_s'",
        ),
        ([8.3, 8.4], r"schedule\.energy_scan = \[8\.3, 8\.4\]: a mapping with keys start_keV"),
    ],
)
def test_bad_energy_scans_are_refused_in_one_sentence(scan, match):
    with pytest.raises(InputError, match=match):
        plan_with(schedule__energy_scan=scan)


def test_exposure_s_and_an_energy_scan_are_refused_together():
    with pytest.raises(
        InputError,
        match=r"schedule\.exposure_s = 10: not allowed with an energy_scan: each visit is one "
        r"scan of points × dwell_s; remove exposure_s, or remove energy_scan",
    ):
        plan_with(schedule__exposure_s=10)
    located = [{**LOCATIONS[0], "exposure_s": 4}, *LOCATIONS[1:]]
    with pytest.raises(
        InputError,
        match=r"schedule\.locations\[0\]\.exposure_s = 4: not allowed with an energy_scan",
    ):
        plan_with(schedule__locations=located)


def test_warnings_look_at_the_scan_not_the_reference_energy():
    from beamdesign.checks import photoelectron_range_um

    wide = {"start_keV": 10.0, "stop_keV": 30.0, "points": 5, "dwell_s": 1.0}
    spot = 5.0  # between the photoelectron ranges at 10 keV (~2.5 µm) and 30 keV (~17 µm)
    assert photoelectron_range_um(10.0) < spot < photoelectron_range_um(30.0)
    plan = plan_with(
        schedule__energy_scan=wide,
        beam={"energy_keV": 10.0, "flux_ph_s": 1e10, "spot_um": [spot, spot]},
    )
    (warning,) = run_plan(plan).warnings
    assert warning.startswith(
        f"the spot (5 x 5 µm) is smaller than the range of the photoelectrons "
        f"({photoelectron_range_um(30.0):.3g} µm in water at 30 keV, the top of the scan, CSDA)"
    )
    # a narrow scan sitting on the Ni K edge: most points are near it
    narrow = {"start_keV": 8.32, "stop_keV": 8.36, "points": 6, "dwell_s": 1.0}
    assert run_plan(plan_with(schedule__energy_scan=narrow)).warnings == (
        "6 of the 6 points of the energy scan lie within 50 eV of the Ni K edge (8.333 keV), "
        "where tabulated coefficients ignore near-edge structure (the XANES white line): the "
        "scan's dose may be off by a large factor; check it or widen the scan",
    )
    # the reference energy sits on the edge, the scan far from it: only the reference is said
    far = {"start_keV": 9.0, "stop_keV": 9.2, "points": 3, "dwell_s": 1.0}
    assert run_plan(plan_with(schedule__energy_scan=far)).warnings == (
        "the beam energy 8.35 keV, the reference that single-energy outputs show, lies outside "
        "the energy scan (9 to 9.2 keV); the doses are the scan's",
    )


def test_the_run_table_says_the_scan_and_its_reference(capsys):
    from beamdesign.cli import main

    assert main(["run", "example-xanes-ni-k"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith("stack: pouch-nmc811-graphite   beam: 8.35 keV")
    assert lines[2] == (
        "energy scan at every visit: 8.233 to 8.533 keV, 151 points × 0.2 s (30.2 s per scan), "
        "dose integrated point by point; beam energy 8.35 keV is the reference"
    )


@settings(max_examples=15, deadline=None, derandomize=True)
@given(
    points=st.integers(2, 9),
    dwell=st.floats(0.05, 30.0),
    move=st.floats(0.0, 20.0),
    pause=st.floats(0.0, 200.0),
    start=st.floats(0.0, 100.0),
    loop=st.sampled_from(["until-end", "once", 4]),
    profile=st.sampled_from(["gaussian", "tophat"]),
    fraction=st.floats(0.01, 0.99),
    when=st.floats(0.0, 1.0),
)
def test_any_scan_schedule_matches_brute_force(
    points, dwell, move, pause, start, loop, profile, fraction, when
):
    """Random scans, loops, pauses and footprints (the last scan often cut at the protocol end):
    the dose at any time and every crossing agree with the exposure-by-exposure sum (1e-9)."""
    scan = {"start_keV": 8.25, "stop_keV": 8.45, "points": points, "dwell_s": dwell}
    changes = {
        "schedule__energy_scan": scan,
        "schedule__move_s": move,
        "schedule__pause_s": pause,
        "schedule__start_s": start,
        "schedule__loop": loop,
        "beam__profile": profile,
    }
    first = run_plan(plan_with(**changes))
    worst = max(loc.dose_Gy[first.probe] for loc in first.locations)
    plan = plan_with(**changes, thresholds=[{"name": "level", "dose_Gy": fraction * worst}])
    result = run_plan(plan)
    rates = rates_in(plan, result.probe, plan.beam.convention, "column-mean")
    time_s = when * plan.protocol.duration_s
    for q, loc in enumerate(result.locations):
        assert result.dose_at(loc.name, time_s) == pytest.approx(
            brute_dose(result, q, time_s, rates), rel=1e-9, abs=1e-9 * worst
        )
        (crossing,) = loc.crossings
        final = brute_dose(result, q, plan.protocol.duration_s, rates)
        assert crossing.final_dose_Gy == pytest.approx(final, rel=1e-9)
        if crossing.time_s is None:
            assert final < fraction * worst * (1 + 1e-9)
            continue
        assert brute_dose(result, q, crossing.time_s, rates) == pytest.approx(
            fraction * worst, rel=1e-9
        )
        earlier = crossing.time_s - 1e-6 * dwell
        assert brute_dose(result, q, earlier, rates) < fraction * worst


def test_the_reference_spectrum_is_the_beam_energy_alone():
    scanned = run_plan(plan_with())
    reference = scanned.reference_spectrum
    np.testing.assert_array_equal(reference.energies_keV, [8.35])
    alone = dose_spectrum(scanned.plan.stack, scanned.plan.beam)
    np.testing.assert_array_equal(reference.peak_dose_rate_Gy_per_s, alone.peak_dose_rate_Gy_per_s)
    assert scanned.spectrum.energies_keV.size == 6
    single = run_plan(load_plan("default"))
    assert single.reference_spectrum is single.spectrum
