"""Electron sessions as plans (probe_type: electron): the seeds' numbers, exact dose and
crossing arithmetic through the engine, thresholds and their caveats, warnings, advice, the CLI,
the schema and one sentence per bad input."""

from __future__ import annotations

import copy
import html
import json
import math

import jsonschema
import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from beamdesign import stopping
from beamdesign.advice import advise
from beamdesign.checks import plan_warnings
from beamdesign.cli import main
from beamdesign.coefficients import CONVENTION_MEANING
from beamdesign.dose import dose_spectrum, stack_dose
from beamdesign.ebeam import (
    ELECTRON_CONVENTION,
    ELEMENTARY_CHARGE_C,
    electron_dose,
    flood_beam,
    given_fluence,
    gray_per_e_per_A2,
    scanned_probe,
)
from beamdesign.electron_session import (
    ElectronBeam,
    XrayThreshold,
    electron_beam,
    electron_session,
    electron_spectrum,
    mean_collision_loss_keV,
)
from beamdesign.errors import InputError
from beamdesign.experiment import run_plan
from beamdesign.materials import resolve_material
from beamdesign.plan import (
    builtin_plan_names,
    builtin_plan_text,
    load_plan,
    plan_from_config,
    plan_text,
)
from beamdesign.schema import plan_schema
from beamdesign.stack import load_stack
from beamdesign.thresholds import literature

ZRO2 = resolve_material("ZrO2", "material", density_g_cm3=5.68)
NMC811 = resolve_material("NMC811", "material")
ELECTRON_PLANS = [n for n in builtin_plan_names() if "probe_type: electron" in builtin_plan_text(n)]
#: the seed's iDPC frame: 19 pA x 10 us over 0.088 x 0.088 A^2 (issue 13: 1.53e5 e/A^2)
FRAME_E_PER_A2 = 19e-12 * 10e-6 / ELEMENTARY_CHARGE_C / 0.088**2


def config_of(name: str) -> dict:
    return yaml.safe_load(builtin_plan_text(name))


def flood_plan(**electron_changes: object) -> dict:
    """A small flood-beam session: 2 nA over 1 µm² of 50 nm NMC811 at 200 keV, 10 s every 2 min."""
    config = config_of("etem-nmc811-air")
    config["electron"].update(electron_changes)
    return config


def test_electron_plans_are_shipped():
    assert set(ELECTRON_PLANS) == {
        "etem-nmc811-air",
        "zhang-aet-zr-zro2-tilt-series",
        "zhang-idpc-stem-frames",
    }


# ---------------------------------------------------------------- the seeds' numbers


def test_idpc_plan_gives_the_seed_fluence_per_frame():
    result = run_plan(load_plan("zhang-idpc-stem-frames"))
    (loc,) = result.locations
    assert round(FRAME_E_PER_A2, -3) == 153_000  # the 1.53e5 e/Å² per frame
    assert loc.scans == 3
    assert loc.beam_on_s == pytest.approx(3 * 1024**2 * 10e-6, rel=1e-12)
    # entrance face: exactly F × S_col/ρ, so the engine's Gy give back the fluence
    fluence = loc.entrance_dose_Gy[result.probe] / gray_per_e_per_A2(ZRO2, 300)
    assert fluence == pytest.approx(3 * FRAME_E_PER_A2, rel=1e-9)
    # 10 nm is 0.01 % of the 300 keV range: the CSDA mean over the thickness is the same
    # within 0.1 % (the stopping power changes by ~1e-4 over the path)
    assert loc.dose_Gy[result.probe] == pytest.approx(loc.entrance_dose_Gy[result.probe], rel=1e-3)
    beam = result.plan.beam
    assert isinstance(beam, ElectronBeam)
    assert beam.fluence_rate_e_per_A2_s * beam.frame_s == pytest.approx(FRAME_E_PER_A2, rel=1e-12)
    assert "1.53e+05 e/Å²" in beam.summary


def test_tilt_series_stays_below_the_seed_limit():
    result = run_plan(load_plan("zhang-aet-zr-zro2-tilt-series"))
    (loc,) = result.locations
    per_frame = scanned_probe(19, 3, 0.358).fluence_e_per_A2
    series = loc.entrance_dose_Gy[result.probe] / gray_per_e_per_A2(ZRO2, 300)
    assert loc.scans == 55
    assert series == pytest.approx(55 * 3 * per_frame, rel=1e-9)
    assert series < 5e5  # "each tomographic tilt series ... < 5 × 10^5 e Å−2" (seed 003)
    (crossing,) = loc.crossings
    assert crossing.time_s is None and crossing.caveat == ""  # measured on Zr-ZrO2, 300 keV
    assert loc.verdict == "safe for microstructure"


def test_etem_dose_rate_and_li2co3_crossing():
    result = run_plan(load_plan("etem-nmc811-air"))
    (loc,) = result.locations
    one_second = electron_dose(NMC811, 200, flood_beam(2, 1, 1), thickness_nm=50)
    assert loc.local_dose_rate_Gy_per_s == pytest.approx(one_second.mean_dose_Gy, rel=1e-9)
    assert loc.entrance_dose_Gy[result.probe] == pytest.approx(
        one_second.dose_Gy * loc.beam_on_s, rel=1e-9
    )
    li2co3 = next(c for c in loc.crossings if c.threshold.name.startswith("lin2014"))
    # 750 e/Å² at 125 e/Å²/s: 6 s into the first 10 s image
    rate = flood_beam(2, 1, 1).fluence_rate_e_per_A2_s
    assert li2co3.time_s == pytest.approx(750 / rate, rel=1e-9)
    assert li2co3.caveat.startswith("borrowed: scale measured on Li2CO3")
    xray = [c for c in loc.crossings if isinstance(c.threshold, XrayThreshold)]
    assert len(xray) == 4
    assert all("X-ray dose threshold (total-attenuation" in c.caveat for c in xray)


# ---------------------------------------------------------------- the engine's arithmetic


@settings(max_examples=25, deadline=None)
@given(
    current_pA=st.floats(0.1, 5e3),
    dwell_us=st.floats(0.1, 100),
    pixel_A=st.floats(0.02, 5),
    pixels=st.integers(16, 2048),
)
def test_scanned_frame_fluence(current_pA, dwell_us, pixel_A, pixels):
    beam = electron_beam(
        {
            "scanned": {
                "current_pA": current_pA,
                "dwell_us": dwell_us,
                "pixel_A": pixel_A,
                "pixels": pixels,
            }
        },
        300,
    )
    frame = scanned_probe(current_pA, dwell_us, pixel_A)
    assert beam.fluence_rate_e_per_A2_s * beam.frame_s == pytest.approx(
        frame.fluence_e_per_A2, rel=1e-12
    )
    assert beam.local_fluence_rate_e_per_A2_s == pytest.approx(
        frame.fluence_rate_e_per_A2_s, rel=1e-12
    )


def test_fluence_rate_form_equals_the_flood_it_describes():
    flood = electron_beam({"flood": {"current_nA": 2, "area_um2": 0.5}}, 200)
    rate = electron_beam(
        {"fluence_rate": {"e_per_A2_s": flood.fluence_rate_e_per_A2_s, "area_um2": 0.5}}, 200
    )
    assert rate.electrons_per_s == pytest.approx(flood.electrons_per_s, rel=1e-12)
    assert rate.spot_um == pytest.approx(flood.spot_um, rel=1e-12)


def test_crossing_time_is_exact_inside_a_frame():
    config = config_of("zhang-idpc-stem-frames")
    config["schedule"]["loop"] = 4  # a fourth frame crosses 6e5 e/Å²
    result = run_plan(plan_from_config(config))
    (crossing,) = result.locations[0].crossings
    frame_s, move_s = 10.48576, 30.0
    inside = (6e5 - 3 * FRAME_E_PER_A2) / FRAME_E_PER_A2 * frame_s
    assert crossing.time_s == pytest.approx(3 * (frame_s + move_s) + inside, rel=1e-9)


@settings(max_examples=10, deadline=None)
@given(energy_keV=st.floats(5, 1000), thickness_nm=st.floats(1, 2000))
def test_vectorised_slowing_down_equals_ebeam(energy_keV, thickness_nm):
    from beamdesign.ebeam import collision_energy_lost_keV

    vector = mean_collision_loss_keV(NMC811, np.array([energy_keV]), thickness_nm)[0]
    assert vector == pytest.approx(
        collision_energy_lost_keV(NMC811, energy_keV, thickness_nm), rel=1e-9
    )


def test_spectrum_over_energies_is_the_thin_specimen_conversion():
    plan = load_plan("etem-nmc811-air")
    energies = np.array([10.0, 60.0, 200.0, 300.0])
    spectrum = dose_spectrum(plan.stack, plan.beam, energies)
    rate_e_per_A2_s = plan.beam.fluence_rate_e_per_A2_s
    entrance = [gray_per_e_per_A2(NMC811, e) * rate_e_per_A2_s for e in energies]
    assert spectrum.entrance_peak_dose_rate_Gy_per_s[0] == pytest.approx(entrance, rel=1e-9)
    # the electron slows down across the specimen: the mean is above the entrance dose, by less
    # than 1 % where 50 nm is under 1 % of the range (above 60 keV in NMC811)
    ratio = spectrum.peak_dose_rate_Gy_per_s[0] / spectrum.entrance_peak_dose_rate_Gy_per_s[0]
    assert np.all(ratio > 1) and np.all(ratio[1:] < 1.01)
    ranges_um = stopping.csda_range_um(NMC811, energies)
    assert 50e-3 / ranges_um[0] > 0.01  # so the test above excludes 10 keV for a reason
    assert np.all(spectrum.transmission == 1.0)


def test_stack_dose_power_is_rate_times_mass():
    plan = load_plan("etem-nmc811-air")
    (layer,) = stack_dose(plan.stack, plan.beam).layers
    (c,) = layer.constituents
    assert c.absorbed_power_W == pytest.approx(c.dose_rate_Gy_per_s * c.mass_g * 1e-3, rel=1e-12)
    # the energy deposited per second is electrons/s × energy each leaves in 50 nm
    lost_keV = mean_collision_loss_keV(NMC811, np.array([200.0]), 50)[0]
    assert c.absorbed_power_W == pytest.approx(
        plan.beam.electrons_per_s * lost_keV * 1.602176634e-16, rel=1e-9
    )


def test_xray_plans_do_not_change():
    plan = load_plan("default")
    assert not isinstance(plan.beam, ElectronBeam)
    assert type(dose_spectrum(plan.stack, plan.beam)).__name__ == "DoseSpectrum"


# ---------------------------------------------------------------- thresholds, warnings, advice


def test_electron_convention_is_described():
    assert ELECTRON_CONVENTION in CONVENTION_MEANING
    assert load_plan("etem-nmc811-air").beam.convention == ELECTRON_CONVENTION


def test_default_thresholds_are_every_critical_fluence():
    config = flood_plan()
    del config["thresholds"]
    plan = plan_from_config(config)
    per_fluence = gray_per_e_per_A2(NMC811, 200)
    assert len(plan.thresholds) == 5
    for t in plan.thresholds:
        fluence = float(t.name.split("(")[-1].split(" e/")[0])
        assert t.dose_Gy == pytest.approx(fluence * per_fluence, rel=1e-12)
        assert t.convention == ELECTRON_CONVENTION and t.where == "hottest-point"


def test_electron_rows_are_checked_where_gray_equals_fluence():
    rows = [r for r in literature() if r["convention"] == "electron-fluence"]
    assert len(rows) == 5
    for row in rows:  # the entrance face: D = F × S_col/ρ exactly
        assert row["where"] == "hottest-point" and row["unit"] == "e/A2"
        assert row["source"] and row["energy_keV"] and row["note"]
    zhang = next(r for r in rows if r["id"] == "zhang-aet-zr-zro2-stable")
    assert "after electron irradiation at a dose rate of 6 × 10^5 e Å−2" in zhang["note"]


def test_custom_threshold_without_convention_is_an_electron_dose():
    config = flood_plan()
    config["thresholds"] = [{"name": "my limit", "dose_Gy": 1e9}]
    (t,) = plan_from_config(config).thresholds
    assert not isinstance(t, XrayThreshold) and t.convention == ELECTRON_CONVENTION
    config["thresholds"] = [{"name": "x", "dose_Gy": 1e6, "convention": "energy-absorption"}]
    (t,) = plan_from_config(config).thresholds
    assert isinstance(t, XrayThreshold) and "energy-absorption" in t.caveat("NMC811", 200)


def test_warnings_name_knock_on_and_thick_specimens():
    assert plan_warnings(*_run(flood_plan())) == (
        "knock-on: at 200 keV the electrons can displace Li (E_max 75.6 eV ≥ E_d 25 eV), "
        "O (E_max 32.8 eV ≥ E_d 28 eV) in NMC811: damage that depends on fluence and energy, "
        "not on Gy",
    )
    assert plan_warnings(*_run(flood_plan(energy_keV=60))) == ()  # E_max(Li) = 20 eV < 25 eV
    thick = flood_plan(energy_keV=60, specimen={"material": "NMC811", "thickness_nm": 5000})
    (warning,) = plan_warnings(*_run(thick))
    assert warning.startswith("not a thin specimen: 5000 nm of NMC811 is")


def test_electrons_stopping_inside_leave_their_collision_energy():
    config = flood_plan(energy_keV=20, specimen={"material": "NMC811", "thickness_nm": 20000})
    plan, result = _run(config)
    (warning,) = plan_warnings(plan, result)
    assert "and the electrons stop inside it" in warning
    spectrum = dose_spectrum(plan.stack, plan.beam)
    assert spectrum.transmission[0] == 0.0
    # every electron gives its 20 keV less the bremsstrahlung that escapes (radiation yield
    # of 20 keV electrons in a Z ~ 15 oxide: well under 1 %)
    power_W = spectrum.absorbed_power_W[0, 0]
    beam_W = plan.beam.electrons_per_s * 20 * 1.602176634e-16
    assert 0.99 * beam_W < power_W < beam_W


def _run(config: dict) -> tuple:
    plan = plan_from_config(config)
    return plan, run_plan(plan)


def test_current_advice_is_rechecked_by_the_engine():
    plan = load_plan("etem-nmc811-air")
    advice = advise(plan)
    option = next(o for o in advice.options if o.name == "flux")
    assert option.sentence.startswith("lower the beam current to")
    assert option.feasible and set(option.plan_changes) == {"electron"}
    rerun = run_plan(plan.replace(**option.plan_changes))
    in_metric = max(
        c.final_dose_Gy
        for loc in rerun.locations
        for c in loc.crossings
        if c.threshold == advice.threshold
    )
    assert in_metric == pytest.approx(option.rechecked_dose_Gy, rel=1e-9)
    assert in_metric <= advice.threshold.dose_Gy


# ---------------------------------------------------------------- files, CLI, schema


@pytest.mark.parametrize("name", ELECTRON_PLANS)
def test_plan_text_round_trips(name):
    plan = load_plan(name)
    again = plan_from_config(yaml.safe_load(plan_text(plan)))
    assert again.beam == plan.beam and again.thresholds == plan.thresholds
    assert again.stack.layers[0].thickness_um == plan.stack.layers[0].thickness_um


@pytest.mark.parametrize("name", ELECTRON_PLANS)
def test_cli_run_json(name, capsys):
    assert main(["run", name, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    result = run_plan(load_plan(name))
    assert out["convention"] == ELECTRON_CONVENTION
    electron = out["electron"]
    assert electron["energy_keV"] == result.plan.beam.energy_keV
    assert electron["thickness_to_range"] < 0.01  # every shipped specimen is thin
    assert {k["symbol"] for k in electron["knock_on"]} >= {"O"}
    (loc,) = electron["locations"]
    assert loc["fluence_e_per_A2"] == pytest.approx(
        result.locations[0].entrance_dose_Gy[result.probe] / electron["gray_per_e_per_A2"],
        rel=1e-12,
    )
    if name == "zhang-idpc-stem-frames":
        assert electron["fluence_per_frame_e_per_A2"] == pytest.approx(FRAME_E_PER_A2, rel=1e-12)
        # on the pixel: 1024² times the engine's frame-averaged rate (a thickness mean, 5e-6 above
        # the entrance rate used here)
        assert electron["local_dose_rate_Gy_per_s"] == pytest.approx(
            1024**2 * result.locations[0].local_dose_rate_Gy_per_s, rel=1e-3
        )
        assert loc["fluence_e_per_A2"] == pytest.approx(3 * FRAME_E_PER_A2, rel=1e-9)
    assert out["locations"][0]["dose_Gy"] == pytest.approx(result.locations[0].dose_Gy, rel=1e-12)
    assert main(["run", name]) == 0
    table = capsys.readouterr().out.splitlines()
    assert "electrons " in table[1]
    fluence = f"{out['electron']['locations'][0]['fluence_e_per_A2']:.3g} e/Å²"
    assert table[-1] == f"  {result.locations[0].name}: {fluence}"


def test_schema_knows_electron_plans():
    validator = jsonschema.Draft202012Validator(plan_schema())
    for name in ELECTRON_PLANS:
        assert list(validator.iter_errors(config_of(name))) == []
    with_stack = {**config_of("etem-nmc811-air"), "stack": "capillary"}
    assert list(validator.iter_errors(with_stack))
    both = copy.deepcopy(config_of("etem-nmc811-air"))
    both["electron"]["beam"]["scanned"] = {
        "current_pA": 1,
        "dwell_us": 1,
        "pixel_A": 1,
        "pixels": 8,
    }
    assert list(validator.iter_errors(both))


# ---------------------------------------------------------------- bad input


def _beam(form: str, **values: object) -> dict:
    base = {
        "scanned": {"current_pA": 19, "dwell_us": 10, "pixel_A": 0.088, "pixels": 512},
        "flood": {"current_nA": 2, "area_um2": 1},
        "fluence_rate": {"e_per_A2_s": 100, "area_um2": 1},
    }[form]
    return {form: {**base, **values}}


@pytest.mark.parametrize(
    "change, message",
    [
        ({"probe_type": "electrons"}, r"probe_type = 'electrons': one of x-ray, electron"),
        (
            {"probe_type": "x-ray"},
            r"probe_type = 'x-ray': an 'electron' section needs probe_type: electron",
        ),
        ({"stack": "capillary"}, r"stack = 'given': an electron plan .* remove 'stack'"),
        ({"electron": None}, r"electron = missing: a mapping with keys energy_keV, specimen, beam"),
        (
            {"electron": {"energy_keV": 200, "specimen": {"material": "NMC811"}}},
            r"electron.beam = missing: required",
        ),
    ],
)
def test_bad_plan_sections(change, message):
    config = {**flood_plan(), **change}
    with pytest.raises(InputError, match=message):
        plan_from_config(config)


def test_missing_electron_section():
    config = flood_plan()
    del config["electron"]
    with pytest.raises(InputError, match=r"electron = missing: probe_type: electron needs"):
        plan_from_config(config)


@pytest.mark.parametrize(
    "electron, message",
    [
        ({"energy_keV": 0.5}, r"electron.energy_keV = 0.5: an electron energy between 1 and 1000"),
        ({"energy_keV": 2000}, r"electron.energy_keV = 2000: an electron energy between 1 and"),
        ({"energy_keV": True}, r"electron.energy_keV = true: an electron energy"),
        (
            {"beam": _beam("scanned", current_pA=0)},
            r"electron.beam.scanned.current_pA = 0: must be a number > 0 \(pA\)",
        ),
        (
            {"beam": _beam("scanned", current_pA=-19)},
            r"electron.beam.scanned.current_pA = -19: must be a number > 0 \(pA\)",
        ),
        (
            {"beam": _beam("scanned", dwell_us=0)},
            r"electron.beam.scanned.dwell_us = 0: must be a number > 0 \(µs\)",
        ),
        (
            {"beam": _beam("scanned", pixel_A=-0.1)},
            r"electron.beam.scanned.pixel_A = -0.1: must be a number > 0 \(Å\)",
        ),
        (
            {"beam": _beam("scanned", pixels=0)},
            r"electron.beam.scanned.pixels = 0: a whole number from 1 to 1e\+05 pixels",
        ),
        (
            {"beam": _beam("scanned", pixels=[512, 2.5])},
            r"electron.beam.scanned.pixels\[1\] = 2.5: .*whole number",
        ),
        (
            {"beam": _beam("scanned", pixels=[1, 2, 3])},
            r"electron.beam.scanned.pixels = \[1, 2, 3\]: a number of pixels n",
        ),
        (
            {"beam": _beam("flood", current_nA=-2)},
            r"electron.beam.flood.current_nA = -2: must be a number > 0 \(nA\)",
        ),
        (
            {"beam": _beam("flood", area_um2=0)},
            r"electron.beam.flood.area_um2 = 0: must be a number > 0 \(µm²\)",
        ),
        (
            {"beam": _beam("fluence_rate", e_per_A2_s=math.inf)},
            r"electron.beam.fluence_rate.e_per_A2_s = inf: must be a number > 0 \(e/Å²/s\)",
        ),
        (
            {"beam": _beam("flood", area_um2=3e-305)},
            r"electron.beam.flood.area_um2 = 3e-305: a number from 1e-08 to 1e\+08 µm²",
        ),
        (
            {"beam": _beam("scanned", current_pA=2e9)},
            r"electron.beam.scanned.current_pA = 2e\+09: a number from 0.001 to 1e\+06 pA",
        ),
        (
            {"beam": {**_beam("fluence_rate"), **_beam("flood")}},
            r"electron.beam = 'flood and fluence_rate': give exactly one of scanned .*; a "
            r"fluence rate and a beam current cannot both set the beam",
        ),
        ({"beam": {}}, r"electron.beam = 'empty': give exactly one of scanned"),
        (
            {"beam": _beam("fluence_rate", current_nA=2)},
            r"electron.beam.fluence_rate.*current_nA",
        ),
        (
            {"specimen": {"material": "NMC811", "thickness_nm": 0}},
            r"electron.specimen.thickness_nm = 0: a number from 1 to 1e\+05 nm",
        ),
        (
            {"specimen": {"material": "NMC-812", "thickness_nm": 50}},
            r"electron.specimen.material = 'NMC-812'",
        ),
        (
            {"specimen": {"material": "NMC811"}},
            r"electron.specimen.thickness_nm = missing: required",
        ),
    ],
)
def test_bad_electron_section(electron, message):
    with pytest.raises(InputError, match=message):
        plan_from_config(flood_plan(**electron))


def test_bad_threshold_names():
    config = flood_plan()
    config["thresholds"] = ["electron:lin2014"]
    with pytest.raises(InputError, match=r"thresholds\[0\] = 'electron:lin2014': 'electron' or "):
        plan_from_config(config)
    config["thresholds"] = "electrons"
    with pytest.raises(InputError, match=r"thresholds = 'electrons': a threshold scale: jous"):
        plan_from_config(config)
    config["thresholds"] = ["electron", {"name": "x", "dose_Gy": -1}]
    with pytest.raises(InputError, match=r"thresholds\[1\].dose_Gy = -1: a number above 0"):
        plan_from_config(config)


def test_an_electron_beam_refuses_photon_conventions_and_stacks():
    plan = load_plan("etem-nmc811-air")
    with pytest.raises(InputError, match=r"beam.convention = 'total-attenuation': an electron"):
        plan.beam.replace(convention="total-attenuation")
    two_layers = load_stack("capillary", "stack")
    with pytest.raises(InputError, match=r"stack = 'capillary': an electron session's specimen"):
        electron_spectrum(two_layers, plan.beam)


def test_cli_bad_electron_plan(tmp_path, capsys):
    config = flood_plan(energy_keV=-300)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("beamdesign: error: electron.energy_keV = -300: an electron energy")
    assert "Traceback" not in err


def test_given_fluence_matches_a_fluence_rate_session():
    # the notebook's 5e5 e/Å² tilt-series dose equals a fluence-rate session delivering it
    config = flood_plan(beam={"fluence_rate": {"e_per_A2_s": 1e4, "area_um2": 0.01}})
    config["schedule"] = {
        "locations": [{"name": "a", "x_um": 0, "y_um": 0, "exposure_s": 50}],
        "loop": "once",
    }
    _, result = _run(config)
    expected = electron_dose(NMC811, 200, given_fluence(5e5)).dose_Gy
    assert result.locations[0].entrance_dose_Gy[result.probe] == pytest.approx(expected, rel=1e-9)


def test_commands_for_photons_refuse_electron_sessions(tmp_path, capsys):
    assert main(["compare", "etem-nmc811-air", "default"]) == 2
    assert "PLAN[0] = 'etem-nmc811-air': compare lines up X-ray plans" in capsys.readouterr().err
    design = tmp_path / "design.yaml"
    design.write_text(
        "technique: xrd\nlimit: 80e3\nminimum: {snr_per_scan: 10}\nvary: {exposure_s: [1, 10]}\n",
        encoding="utf-8",
    )
    assert main(["design", "etem-nmc811-air", "--design", str(design)]) == 2
    assert (
        "design = 'given for an electron session': design and its signal models are for X-ray"
        in (capsys.readouterr().err)
    )


def test_sweep_varies_an_electron_section(capsys):
    assert (
        main(["sweep", "etem-nmc811-air", "--vary", "electron.energy_keV=100,200", "--json"]) == 0
    )
    rows = json.loads(capsys.readouterr().out)["results"]
    # a thin specimen's dose scales with the collision stopping power at each energy
    ratio = rows[0]["worst_probe_dose_Gy"] / rows[1]["worst_probe_dose_Gy"]
    expected = gray_per_e_per_A2(NMC811, 100) / gray_per_e_per_A2(NMC811, 200)
    assert ratio == pytest.approx(expected, rel=2e-3)  # thickness means differ by < 0.2 %
    assert {r["convention"] for r in rows} == {ELECTRON_CONVENTION}


JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10, 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.lists(st.integers(-5, 5), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)
FIELDS = [
    ("energy_keV",),
    ("specimen", "material"),
    ("specimen", "density_g_cm3"),
    ("specimen", "thickness_nm"),
    ("beam", "flood", "current_nA"),
    ("beam", "flood", "area_um2"),
    ("beam", "flood"),
    ("beam",),
    ("specimen",),
]


@settings(max_examples=60, deadline=None)
@given(path=st.sampled_from(FIELDS), value=JUNK)
def test_any_value_anywhere_is_a_plan_or_one_sentence(path, value):
    config = flood_plan()
    node = config["electron"]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    try:
        plan = plan_from_config(config)
    except InputError as error:
        assert str(error).count(" = ") >= 1 and str(error).endswith((".", "?"))
        return
    result = run_plan(plan)  # accepted: it runs, and every dose is finite and positive
    dose = result.locations[0].dose_Gy[result.probe]
    assert np.isfinite(dose) and dose > 0


def test_reprs_are_short():
    beam = load_plan("zhang-idpc-stem-frames").beam
    assert repr(beam) == "ElectronBeam(300 keV, scanned, 1.19e+08 e/s over 9.011 x 9.011 nm)"
    session = electron_session(config_of("etem-nmc811-air"))
    assert repr(session).startswith("ElectronSession(NMC811, ElectronBeam(200 keV, flood")
    assert len(repr(session)) < 200


def test_report_renders_an_electron_session(tmp_path, capsys):
    pytest.importorskip("papermill")
    out = tmp_path / "etem.html"
    assert main(["report", "etem-nmc811-air", "-o", str(out)]) == 0
    capsys.readouterr()
    text = out.read_text(encoding="utf-8")
    plan = load_plan("etem-nmc811-air")
    assert html.escape(plan.beam.summary) in text  # the beam in e/Å²/s, not ph/s
    assert "knock-on: at 200 keV the electrons can displace Li" in text
    assert 'data-threshold="lin2014-li2co3-stem-eels (750 e/Å²)" data-status="at risk"' in text
    assert "<b>electron-collision</b> (this plan)" in text
