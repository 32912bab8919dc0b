"""Electron-beam fluence, dose, knock-on and thresholds; the `beamdesign ebeam` command."""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import pytest
import xraylib
from hypothesis import given, settings
from hypothesis import strategies as st

from beamdesign import stopping
from beamdesign.cli import main
from beamdesign.ebeam import (
    ELEMENTARY_CHARGE_C,
    THIN_LIMIT,
    collision_energy_lost_keV,
    displacement_energies,
    electron_dose,
    electron_threshold_scale,
    electron_thresholds,
    flood_beam,
    given_fluence,
    gray_per_e_per_A2,
    knock_on,
    max_transferred_energy_eV,
    names_material,
    scanned_probe,
    threshold_energy_keV,
)
from beamdesign.errors import InputError
from beamdesign.materials import resolve_material
from beamdesign.thresholds import thresholds_from_config

DATA = Path(__file__).parent / "data"
WATER = resolve_material("water", "material")
ALUMINIUM = resolve_material("Al", "material")
NMC811 = resolve_material("NMC811", "material")


def _rows(name: str) -> list[dict]:
    text = (DATA / name).read_text(encoding="utf-8").splitlines()
    return list(csv.DictReader(line for line in text if not line.startswith("#")))


# ---------------------------------------------------------------- fluence


def test_seed_stem_frame_fluence():
    # Zhang et al. (AET seed): 19 pA x 10 us over 0.088 x 0.088 A^2; the issue quotes 1.53e5 e/A^2
    exposure = scanned_probe(19, 10, 0.088)
    by_hand = 19e-12 * 10e-6 / ELEMENTARY_CHARGE_C / 0.088**2
    assert exposure.fluence_e_per_A2 == pytest.approx(by_hand, rel=1e-12)
    assert round(exposure.fluence_e_per_A2, -3) == 153_000  # 3 significant digits as quoted
    assert exposure.fluence_rate_e_per_A2_s == pytest.approx(by_hand / 10e-6, rel=1e-12)
    three = scanned_probe(19, 10, 0.088, frames=3)
    assert three.fluence_e_per_A2 == pytest.approx(3 * by_hand, rel=1e-12)
    assert three.fluence_per_frame_e_per_A2 == pytest.approx(by_hand, rel=1e-12)
    assert three.beam_on_time_s == pytest.approx(30e-6, rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(
    current_pA=st.floats(0.1, 1e4),
    dwell_us=st.floats(0.01, 1e3),
    pixel_A=st.floats(0.01, 100),
    frames=st.integers(1, 100),
)
def test_scanned_probe_counts_every_electron(current_pA, dwell_us, pixel_A, frames):
    exposure = scanned_probe(current_pA, dwell_us, pixel_A, frames)
    charge_C = exposure.fluence_e_per_A2 * pixel_A**2 * ELEMENTARY_CHARGE_C
    assert charge_C == pytest.approx(current_pA * 1e-12 * dwell_us * 1e-6 * frames, rel=1e-12)
    assert exposure.fluence_rate_e_per_A2_s * exposure.beam_on_time_s == pytest.approx(
        exposure.fluence_e_per_A2, rel=1e-12
    )


@settings(max_examples=30, deadline=None)
@given(current_nA=st.floats(1e-3, 1e3), area_um2=st.floats(1e-4, 1e4), time_s=st.floats(1e-3, 1e4))
def test_flood_dose_rate_times_time_is_dose(current_nA, area_um2, time_s):
    exposure = flood_beam(current_nA, area_um2, time_s)
    assert exposure.fluence_e_per_A2 == pytest.approx(
        current_nA * 1e-9 * time_s / ELEMENTARY_CHARGE_C / (area_um2 * 1e8), rel=1e-12
    )
    dose = electron_dose(WATER, 200, exposure)
    assert dose.dose_rate_Gy_per_s * time_s == pytest.approx(dose.dose_Gy, rel=1e-12)
    assert exposure.electrons == pytest.approx(
        current_nA * 1e-9 * time_s / ELEMENTARY_CHARGE_C, rel=1e-12
    )


def test_given_fluence_rate_and_electrons():
    exposure = given_fluence(100, time_s=20, area_um2=2)
    assert exposure.fluence_rate_e_per_A2_s == pytest.approx(5.0)
    assert exposure.electrons == pytest.approx(100 * 2e8)
    bare = given_fluence(100)
    assert bare.fluence_rate_e_per_A2_s is None and bare.electrons is None
    assert electron_dose(WATER, 200, bare).dose_rate_Gy_per_s is None


# ---------------------------------------------------------------- dose vs NIST ESTAR


@pytest.mark.parametrize(
    "material, table", [(WATER, "estar_ebeam_water.csv"), (ALUMINIUM, "estar_ebeam_aluminum.csv")]
)
def test_gray_per_fluence_matches_estar(material, table):
    # D = 1e16 e/cm^2 x S_col x 1.602e-10 Gy per MeV/g; 3 % is the issue's acceptance bound
    rows = _rows(table)
    assert len(rows) == 7
    for row in rows:
        energy_keV = float(row["kinetic_energy_MeV"]) * 1e3
        estar_Gy = 1e16 * float(row["collision_MeV_cm2_per_g"]) * 1.602176634e-13 * 1e3
        assert gray_per_e_per_A2(material, energy_keV) == pytest.approx(estar_Gy, rel=0.03)


def test_water_at_200_kev_is_about_4_5_MGy_per_e_per_A2():
    assert gray_per_e_per_A2(WATER, 200) == pytest.approx(4.47e6, rel=0.01)  # PHYSICS.md


def test_thin_specimen_mean_dose_equals_entrance_dose():
    dose = electron_dose(WATER, 300, given_fluence(10), thickness_nm=20)
    assert dose.thickness_to_range < 1e-4 and dose.warning == ""
    # 20 nm of water removes ~5 eV of 300 keV: the mean differs from the entrance dose by < 1e-4
    assert dose.mean_dose_Gy == pytest.approx(dose.dose_Gy, rel=1e-4)


def test_thick_specimen_is_warned_and_slowing_down_raises_the_mean_dose():
    range_um = float(stopping.csda_range_um(WATER, 100)[0])
    thick = electron_dose(WATER, 100, given_fluence(1), thickness_nm=0.3 * range_um * 1e3)
    assert thick.thickness_to_range == pytest.approx(0.3, rel=1e-9)
    assert thick.thickness_to_range > THIN_LIMIT
    assert "not a thin specimen" in thick.warning and "30%" in thick.warning
    assert thick.mean_dose_Gy > 1.05 * thick.dose_Gy  # S_col rises as the electron slows
    stopped = electron_dose(WATER, 100, given_fluence(1), thickness_nm=2 * range_um * 1e3)
    assert "stop inside" in stopped.warning


def test_stopped_electron_deposits_its_energy_less_bremsstrahlung():
    range_nm = float(stopping.csda_range_um(WATER, 300)[0]) * 1e3
    lost = collision_energy_lost_keV(WATER, 300, 1.5 * range_nm)
    assert 0.99 * 300 < lost < 300  # water's radiation yield at 300 keV is 0.13 % (ESTAR)


def test_slab_energy_is_continuous_where_the_method_changes():
    range_nm = float(stopping.csda_range_um(WATER, 300)[0]) * 1e3
    below = collision_energy_lost_keV(WATER, 300, 0.4999 * range_nm)
    above = collision_energy_lost_keV(WATER, 300, 0.5001 * range_nm)
    assert above == pytest.approx(below, rel=2e-3)


def test_energy_deposited_is_electrons_times_energy_per_electron():
    exposure = flood_beam(2, 0.01, 60)
    dose = electron_dose(NMC811, 200, exposure, thickness_nm=50)
    assert dose.energy_deposited_J == pytest.approx(
        exposure.electrons * dose.energy_deposited_per_electron_keV * 1.602176634e-16, rel=1e-12
    )
    # thin: energy per electron = S_col x rho t
    assert dose.energy_deposited_per_electron_keV == pytest.approx(
        dose.stopping_power_MeV_cm2_per_g * 1e3 * NMC811.density_g_cm3 * 50e-7, rel=1e-3
    )
    assert electron_dose(NMC811, 200, exposure).energy_deposited_J is None


def test_to_dict_carries_the_issue_keys():
    data = electron_dose(WATER, 300, scanned_probe(19, 10, 0.088), 10).to_dict()
    assert {
        "fluence_e_per_A2",
        "fluence_rate_e_per_A2_s",
        "dose_Gy",
        "dose_rate_Gy_per_s",
        "stopping_power_MeV_cm2_per_g",
        "energy_deposited_J",
        "approximation",
        "knock_on",
        "inputs",
    } <= set(data)
    assert data["inputs"] == {"current_pA": 19.0, "dwell_us": 10.0, "pixel_A": 0.088, "frames": 1.0}
    json.dumps(data)


# ---------------------------------------------------------------- knock-on


@settings(max_examples=50, deadline=None)
@given(ed=st.floats(1, 100), mass=st.floats(1, 250))
def test_threshold_inverts_max_transfer(ed, mass):
    energy = float(threshold_energy_keV(ed, mass))
    assert float(max_transferred_energy_eV(energy, mass)) == pytest.approx(ed, rel=1e-9)


def test_max_transfer_by_hand():
    # carbon at 200 keV: 2 x 200 x (200 + 1022) / (12.011 x 931494) keV = 43.7 eV
    by_hand = 2 * 200 * (200 + 2 * 510.99895) / (12.011 * 931494.10242) * 1e3
    assert float(max_transferred_energy_eV(200, 12.011)) == pytest.approx(by_hand, rel=1e-12)
    assert 43.6 < by_hand < 43.8


def test_displacement_table_matches_hobbs():
    table = displacement_energies()
    for row in _rows("ebeam_knockon_published.csv"):
        if row["kind"] == "displacement_energy_eV":
            assert float(table[row["symbol"]]["displacement_energy_eV"]) == float(row["low"])
            assert table[row["symbol"]]["kind"] == "measured-compilation"


def test_thresholds_from_the_table_match_published_beam_energies():
    # E_d is quoted to 2 digits (±2.5 % at 20 eV, ±1 % in E_th); 5 % covers the rounding
    table = displacement_energies()
    checked = 0
    for row in _rows("ebeam_knockon_published.csv"):
        if row["kind"] != "threshold_keV":
            continue
        z = xraylib.SymbolToAtomicNumber(row["symbol"])
        energy = float(
            threshold_energy_keV(
                float(table[row["symbol"]]["displacement_energy_eV"]), xraylib.AtomicWeight(z)
            )
        )
        assert 0.95 * float(row["low"]) <= energy <= 1.05 * float(row["high"]), row["symbol"]
        checked += 1
    assert checked >= 2


def test_every_displacement_row_is_sourced_and_consistent():
    for symbol, row in displacement_energies().items():
        assert xraylib.SymbolToAtomicNumber(symbol) == int(row["Z"])
        assert float(row["displacement_energy_eV"]) > 0 and row["source"]
        assert row["kind"] in {"measured-compilation", "generic-default"}


def test_nmc811_at_200_kev_knocks_on_li_and_o_not_transition_metals():
    verdicts = {k.symbol: k.knocked_on for k in knock_on(NMC811, 200)}
    assert verdicts == {"Li": True, "O": True, "Mn": False, "Co": False, "Ni": False}
    at_60 = {k.symbol: k.knocked_on for k in knock_on(NMC811, 60)}
    assert at_60["O"] is False and at_60["Li"] is False  # Li threshold 74 keV with E_d = 25 eV


def test_element_without_displacement_energy_is_unknown():
    uranium = resolve_material("U", "material")
    (check,) = knock_on(uranium, 300)
    assert check.knocked_on is None and check.verdict.startswith("unknown")


# ---------------------------------------------------------------- literature thresholds


def test_electron_thresholds_are_sourced_fluences():
    rows = {t.id: t for t in electron_thresholds()}
    assert rows["lin2014-li2co3-stem-eels"].fluence_e_per_A2 == 750
    assert rows["lin2014-li2co3-stem-eels"].energy_keV == 200
    assert rows["lin2014-li2co3-stem-eels"].bound == "onset"
    assert rows["zhang-aet-zr-zro2-stable"].bound == "safe-below"
    assert rows["zhang-aet-zr-zro2-stable"].fluence_e_per_A2 == 6e5
    for t in rows.values():
        assert t.fluence_e_per_A2 > 0 and t.source and t.note and t.energy_keV


def test_electron_scale_compares_fluences_in_gray():
    scale = electron_threshold_scale(NMC811, 300)
    fluences = {t.id: t.fluence_e_per_A2 for t in electron_thresholds()}
    assert len(scale) == len(fluences)
    for threshold, fluence in zip(scale, fluences.values(), strict=True):
        assert threshold.dose_Gy == pytest.approx(
            fluence * gray_per_e_per_A2(NMC811, 300), rel=1e-12
        )
        assert threshold.source and threshold.verdict and threshold.constituent is None
    safe = next(t for t in scale if t.name.startswith("zhang-aet-zr-zro2-stable"))
    assert safe.verdict.startswith("beyond the fluence shown safe")


def test_electron_rows_never_enter_the_gray_scales():
    ids = {t.id for t in electron_thresholds()}
    for threshold in thresholds_from_config("literature"):
        assert threshold.name.split(":")[0] not in ids


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: scanned_probe(0, 10, 0.1), r"current_pA = 0: must be a number > 0 \(pA\)"),
        (lambda: scanned_probe(19, -1, 0.1), r"dwell_us = -1: must be a number > 0 \(µs\)"),
        (lambda: scanned_probe(19, 10, math.nan), r"pixel_A = nan: must be a number > 0 \(Å\)"),
        (lambda: scanned_probe(True, 10, 0.1), r"current_pA = true: must be a number > 0"),
        (lambda: scanned_probe(19, 10, 0.1, frames=0), r"frames = 0: a whole number of frames ≥ 1"),
        (lambda: scanned_probe(19, 10, 0.1, frames=1.5), r"frames = 1.5: a whole number"),
        (lambda: flood_beam(1, 0, 1), r"area_um2 = 0: must be a number > 0 \(µm²\)"),
        (lambda: flood_beam(1, 1, -3), r"time_s = -3: must be a number > 0 \(s\)"),
        (lambda: flood_beam(-2, 1, 1), r"current_nA = -2: must be a number > 0 \(nA\)"),
        (lambda: given_fluence("a lot"), r"fluence_e_per_A2 = 'a lot': must be a number > 0"),
        (
            lambda: electron_dose(WATER, 0.5, given_fluence(1)),
            r"energy_keV = 0.5: an electron energy between 1 and 1000 keV",
        ),
        (lambda: electron_dose(WATER, 1001, given_fluence(1)), r"energy_keV = 1001"),
        (
            lambda: electron_dose(WATER, 200, given_fluence(1), thickness_nm=0),
            r"thickness_nm = 0: must be a number > 0 \(nm\)",
        ),
    ],
)
def test_bad_input(call, message):
    with pytest.raises(InputError, match=message):
        call()


# ---------------------------------------------------------------- CLI


def run(capsys, *args):
    status = main(["ebeam", *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_scanned_probe_json(capsys):
    status, out, _ = run(
        capsys,
        "--material",
        "water",
        "--energy-kev",
        "300",
        "--current-pA",
        "19",
        "--dwell-us",
        "10",
        "--pixel-A",
        "0.088",
        "--frames",
        "2",
        "--thickness-nm",
        "10",
        "--json",
    )
    assert status == 0
    data = json.loads(out)
    assert data["fluence_per_frame_e_per_A2"] == pytest.approx(1.5314e5, rel=1e-4)
    assert data["fluence_e_per_A2"] == pytest.approx(2 * 1.5314e5, rel=1e-4)
    assert data["dose_Gy"] == pytest.approx(
        data["fluence_e_per_A2"] * gray_per_e_per_A2(WATER, 300)
    )
    assert data["energy_deposited_J"] > 0 and data["mode"] == "scanned-probe"


def test_cli_flood_table(capsys):
    status, out, _ = run(
        capsys,
        "--material",
        "NMC811",
        "--energy-kev",
        "200",
        "--current-nA",
        "2",
        "--area-um2",
        "0.01",
        "--time-s",
        "60",
        "--thickness-nm",
        "50",
    )
    assert status == 0
    assert "dose (thin specimen)" in out and "Li  E_max" in out and "can be knocked on" in out
    assert "energy deposited" in out and "µJ" in out


def test_cli_formula_with_density(capsys):
    status, out, _ = run(
        capsys,
        "--material",
        "ZrO2",
        "--density-g-cm3",
        "5.68",
        "--energy-kev",
        "300",
        "--fluence-e-per-A2",
        "5e5",
    )
    assert status == 0 and "Zr" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--fluence-e-per-A2", "10", "--current-pA", "5"],
            r"--fluence-e-per-A2 = '10': give either a fluence or a beam current, not both \(drop "
            r"--current-pA\)",
        ),
        (["--current-pA", "5", "--current-nA", "1"], r"--current-nA = '1': give one current"),
        (["--current-pA", "5", "--dwell-us", "1"], r"--pixel-A = None: a scanned probe"),
        (
            ["--current-pA", "0", "--dwell-us", "1", "--pixel-A", "1"],
            r"--current-pA = '0': must be a number > 0 \(pA\)",
        ),
        (
            ["--current-pA", "1", "--dwell-us", "1", "--pixel-A", "-1"],
            r"--pixel-A = '-1': must be a number > 0",
        ),
        (
            ["--current-pA", "1", "--dwell-us", "1", "--pixel-A", "1", "--frames", "0"],
            r"--frames = '0'",
        ),
        (
            ["--current-pA", "1", "--dwell-us", "1", "--pixel-A", "1", "--time-s", "3"],
            r"--time-s = '3': not used by a scanned probe",
        ),
        (["--current-nA", "1", "--area-um2", "1"], r"--time-s = None: a flood beam"),
        (
            ["--current-nA", "1", "--area-um2", "0", "--time-s", "1"],
            r"--area-um2 = '0': must be a number > 0",
        ),
        (["--current-nA", "1", "--area-um2", "1", "--time-s", "inf"], r"--time-s = 'inf'"),
        ([], r"beam = None: give --fluence-e-per-A2"),
    ],
)
def test_cli_bad_beams(capsys, args, message):
    status, _, err = run(capsys, "--material", "water", "--energy-kev", "200", *args)
    assert status == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert re.search(message, err), err


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--energy-kev", "1500"],
            r"--energy-kev = '1500': an electron energy between 1 and 1000 keV",
        ),
        (["--energy-kev", "0"], r"--energy-kev = '0'"),
        (
            ["--energy-kev", "200", "--material", "ZrO2"],
            r"--density-g-cm3 = None: 'ZrO2' is not in",
        ),
        (
            ["--energy-kev", "200", "--thickness-nm", "-5"],
            r"--thickness-nm = '-5': must be a number > 0",
        ),
    ],
)
def test_cli_bad_material_energy_thickness(capsys, args, message):
    base = ["--material", "water"] if "--material" not in args else []
    status, _, err = run(capsys, *base, *args, "--fluence-e-per-A2", "1")
    assert status == 2
    assert re.search(message, err), err


def test_electron_scale_caveats_name_other_materials_and_energies():
    zro2 = resolve_material("ZrO2", "material", density_g_cm3=5.68)
    at_300 = {t.name.split(" ")[0]: t for t in electron_threshold_scale(zro2, 300)}
    zhang = at_300["zhang-aet-zr-zro2-stable"]
    assert zhang.caveat(zro2.name, 300) == ""  # measured on Zr-ZrO2 at 300 keV
    assert zhang.caveat(zro2.name, 200).startswith("borrowed: scale measured on Zr-ZrO2")
    lin = at_300["lin2014-li2co3-stem-eels"]
    assert lin.caveat(zro2.name, 200).startswith("borrowed: scale measured on Li2CO3")
    assert (zhang.convention, zhang.where) == ("electron-collision", "hottest-point")
    # the first word of the system names the material: not "ZrO2-coated", not the metal "Zr"
    assert names_material(zro2, "Zr-ZrO2 nanoparticles")
    assert not names_material(zro2, "ZrO2-coated NMC")
    assert not names_material(resolve_material("Zr", "material"), "Zr-ZrO2 nanoparticles")
