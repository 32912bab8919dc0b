"""Plans carry ``design`` and ``beamline`` as first-class keys: validated at load, kept in the
plan, written back, in the schema; SNR next to dose in ``run``; one sentence per bad input."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import yaml

from beamdesign.cli import main
from beamdesign.errors import InputError
from beamdesign.experiment import run_plan
from beamdesign.plan import builtin_plan_text, load_plan, plan_from_config, plan_text, save_plan
from beamdesign.profile import load_profile
from beamdesign.signal import Detector, plan_signal, signal_block

PCC = "jousseaume2023-exp2-pcc"
SCHEMA = json.loads(
    resources.files("beamdesign").joinpath("data/plan.schema.json").read_text("utf-8")
)


NIST_AL = {
    float(row[1]): float(row[2])
    for row in (
        line.split(",")
        for line in (Path(__file__).parent / "data" / "nist_mu_en.csv")
        .read_text(encoding="utf-8")
        .splitlines()
    )
    if row[0] == "Al"
}


def _pcc(design: bool = True) -> dict:
    config = yaml.safe_load(builtin_plan_text(PCC))
    if not design:
        del config["design"]
    return config


def _on_beamline() -> dict:
    """PCc on the example XRD beamline: flux and beam shape from the profile."""
    config = _pcc()
    del config["beam"]["flux_ph_s"], config["beam"]["profile"]
    return {**config, "beamline": "example-high-energy-xrd"}


def test_the_pcc_plan_carries_its_design_section():
    plan = load_plan(PCC)
    assert plan.design is not None
    assert plan.design.quality.technique == "xrd-transmission"
    assert dict(plan.design.quality.options) == {"reflection": "NMC811-003"}
    assert plan.design.limit_dose_Gy == 80e3 and plan.design.min_snr_per_scan == 300
    assert plan.to_config()["design"] == _pcc()["design"]


def test_a_design_section_does_not_change_the_dose():
    with_design = run_plan(load_plan(PCC))
    without = run_plan(plan_from_config(_pcc(design=False)))
    for a, b in zip(with_design.locations, without.locations, strict=True):
        assert a.dose_Gy == b.dose_Gy  # the same engine, the same numbers: exact


def test_design_and_beamline_round_trip_through_the_plan_file(tmp_path):
    profile_file = tmp_path / "profiles" / "mine.yaml"
    profile_file.parent.mkdir()
    profile_file.write_text(
        resources.files("beamdesign")
        .joinpath("data/profiles/example-high-energy-xrd.yaml")
        .read_text("utf-8"),
        encoding="utf-8",
    )
    plan_file = tmp_path / "plan.yaml"
    plan_file.write_text(
        yaml.safe_dump({**_on_beamline(), "beamline": "profiles/mine.yaml"}), encoding="utf-8"
    )
    plan = load_plan(plan_file)
    assert plan.beamline is not None and plan.beamline.name == "example-high-energy-xrd"
    assert plan.config["beamline"] == str(profile_file)  # absolute: the plan runs anywhere
    saved = save_plan(plan, tmp_path / "copy.yaml")
    text = yaml.safe_load(saved.read_text(encoding="utf-8"))
    assert text["beamline"] == "profiles/mine.yaml"  # relative again, as written
    assert text["design"] == plan.to_config()["design"]
    again = load_plan(saved)
    assert again.beam == plan.beam and again.design == plan.design
    assert json.loads(plan_text(plan, "json"))["design"] == plan.to_config()["design"]


def test_a_beamline_gives_the_flux_unless_the_plan_sets_it():
    profile = load_profile("example-high-energy-xrd")
    plan = plan_from_config(_on_beamline())
    assert plan.beam.flux_ph_s == pytest.approx(profile.flux_ph_s(27.0), rel=1e-12)
    assert plan.beam.profile == "tophat"
    assert "flux_ph_s" not in plan.config["beam"]  # the table's flux is not frozen into the file
    at_60 = plan.replace(beam={**plan.to_config()["beam"], "energy_keV": 60})
    assert at_60.beam.flux_ph_s == pytest.approx(2.5e11, rel=1e-12)  # table point at 60 keV
    measured = _on_beamline()
    measured["beam"]["flux_ph_s"] = 5e10  # a flux measured on the day wins
    assert plan_from_config(measured).beam.flux_ph_s == 5e10


def test_a_named_filter_is_a_real_filter_whose_transmission_depends_on_energy():
    config = _on_beamline()
    config["beam"]["attenuators"] = ["Al-2mm"]
    plan = plan_from_config(config)
    assert plan.to_config()["beam"]["attenuators"] == ["Al-2mm"]
    t30, t60 = plan.beam.attenuator_transmission(np.array([30.0, 60.0]))
    rho = plan.beam.attenuators[0].material.density_g_cm3
    # NIST mu/rho of Al (tests/data); xraylib's agrees within 1 %, so T within 1 % here (mu t < 1)
    assert t30 == pytest.approx(np.exp(-NIST_AL[30.0] * rho * 0.2), rel=0.01)
    assert t60 == pytest.approx(np.exp(-NIST_AL[60.0] * rho * 0.2), rel=0.01)
    t27 = plan.beam.attenuator_transmission(np.array([27.0]))[0]
    plain = run_plan(plan_from_config(_on_beamline())).worst().dose_Gy
    filtered = run_plan(plan).worst().dose_Gy
    key = "NMC811 cathode/NMC811"
    assert filtered[key] == pytest.approx(plain[key] * t27, rel=1e-9)  # dose linear in flux


def test_an_inline_beamline_mapping():
    profile = yaml.safe_load(
        resources.files("beamdesign")
        .joinpath("data/profiles/example-high-energy-xrd.yaml")
        .read_text("utf-8")
    )
    plan = plan_from_config({**_on_beamline(), "beamline": profile})
    assert plan.beamline is not None and plan.beam.flux_ph_s == pytest.approx(4e11)


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda c: c["beam"].update(energy_keV=150),
            r"^beam.energy_keV = 150: beamline 'example-high-energy-xrd' has flux from 20 to "
            r"110 keV \(its flux_table\)\.$",
        ),
        (
            lambda c: c["beam"].update(spot_um=[20, 20]),
            r"^beam.spot_um = \[20, 20\]: a spot offered by beamline 'example-high-energy-xrd': "
            r"300x400, 100x100, 500x500 µm\.$",
        ),
        (
            lambda c: c["schedule"]["locations"][0].update(exposure_s=0.05),
            r"^schedule.locations\[0\].exposure_s = 0.05: at least 0.1 s on beamline "
            r"'example-high-energy-xrd' \(its shortest_exposure_s\)\.$",
        ),
        (lambda c: c.update(beamline=5), r"^beamline = 5: a built-in beamline profile name"),
        (
            lambda c: c.update(beamline="example-xrd"),
            r"^beamline = 'example-xrd': a beamline profile file or a built-in profile.*"
            r"did you mean",
        ),
    ],
)
def test_beamline_checks_are_one_sentence(change, message):
    config = _on_beamline()
    change(config)
    with pytest.raises(InputError, match=message):
        plan_from_config(config)


def _design(**changes: object) -> dict:
    config = _pcc()
    config["design"] = {**config["design"], **changes}
    return config


@pytest.mark.parametrize(
    "config, message",
    [
        (
            _design(technique="xrd-transmision"),
            r"^design.technique = 'xrd-transmision': one of xrd-transmission, xas-transmission, "
            r"xas-fluorescence; did you mean 'xrd-transmission'",
        ),
        (
            _design(vary={"beam.energy_keV": [60, 20]}),
            r"^design.vary.beam.energy_keV = \[60, 20\]: a range \[low, high\] with low < high",
        ),
        (
            _design(technique="xas-transmission", signal={"element": "C"}),
            r"^design.signal.element = 'C': an element whose K edge lies in 1–200 keV "
            r"\(this one: 0.284 keV\)\.$",
        ),
        (
            _design(technique="xas-transmission", signal={"element": "Nx"}),
            r"^design.signal.element = 'Nx': an element symbol \(H to Cf\) such as Ni",
        ),
        (
            _design(technique="xas-transmission", signal={"element": "Ni", "edge": "M5"}),
            r"^design.signal.edge = 'M5': one of K, L1, L2, L3\.$",
        ),
        (
            _design(technique="xas-fluorescence", signal={"reflection": "NMC811-003"}),
            r"^design.signal.reflection = 'NMC811-003': xas-fluorescence takes element\.$",
        ),
        (
            _design(signal={"reflection": "NMC811-104"}),
            r"^design.signal.reflection = 'NMC811-104': a named reflection: graphite-002, "
            r"NMC811-003; did you mean 'NMC811-003'\?$",
        ),
        (
            _design(technique="xas-fluorescence", signal={"element": "Ni"}, vary={}),
            r"^design.vary = \{\}: at least one dotted plan key",
        ),
        (
            _design(vary={"schedule.raster.step_um": [100, 500]}),
            r"^design.vary.schedule.raster.step_um = 'varied': a dotted key of this plan; it has "
            r"no section 'schedule.raster'; e.g. beam.energy_keV",
        ),
        (
            _design(vary={"energy": [20, 60]}),
            r"^design.vary.energy = 'varied': a dotted key of this plan; it has no section "
            r"'energy'",
        ),
        (
            {**_pcc(), "design": "xrd"},
            r"^design = 'xrd': a mapping with technique, signal",
        ),
    ],
)
def test_bad_design_sections_are_refused_at_load(config, message):
    with pytest.raises(InputError, match=message):
        plan_from_config(config)


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda c: c["design"].update(technique="xas-transmission", signal={"element": "Cu"}),
            r"^beamdesign: error: design.signal.element = 'Cu': an element of the probed layer "
            r"'NMC811 cathode'",
        ),
        (
            lambda c: c.update(probe="graphite anode"),
            r"^beamdesign: error: design.signal.reflection = 'NMC811-003': a reflection of the "
            r"probed constituent 'graphite'; named reflections: graphite-002\.$",
        ),
        (
            lambda c: (
                c["design"].update(technique="xas-fluorescence", signal={"element": "Ni"}),
                c["beam"].update(energy_keV=8.0),
            ),
            r"^beamdesign: error: beam.energy_keV = 8: above the Ni K edge \(8.333 keV\)",
        ),
        (
            lambda c: c.pop("probe"),
            r"^beamdesign: error: probe = None: a signal needs the plan's probe",
        ),
    ],
)
def test_a_design_that_does_not_fit_the_probe_stops_run_in_one_sentence(
    change, message, tmp_path, capsys
):
    """The plan loads (its doses do not depend on the design: a plan may change its probe or
    energy), but no output shows a signal its design cannot measure."""
    config = _pcc()
    change(config)
    plan = plan_from_config(config)
    assert run_plan(plan).locations  # the dose side runs
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert re.search(message, err), err


def test_the_schema_knows_design_and_beamline():
    validator = jsonschema.Draft202012Validator(SCHEMA)
    assert list(validator.iter_errors(_on_beamline())) == []
    named = _on_beamline()
    named["beam"]["attenuators"] = ["Al-1mm", {"transmission": 0.5}]
    assert list(validator.iter_errors(named)) == []
    plan_from_config(named)  # the code accepts it too
    no_flux = _pcc()
    del no_flux["beam"]["flux_ph_s"]
    assert list(validator.iter_errors(no_flux))  # no flux and no beamline to give it
    with pytest.raises(InputError, match=r"beam.flux_ph_s = <missing>|beam.flux_ph_s"):
        plan_from_config(no_flux)
    bad = _design(technique="saxs")
    assert list(validator.iter_errors(bad))


def test_run_shows_the_signal_next_to_the_dose(capsys):
    assert main(["run", PCC]) == 0
    table = capsys.readouterr().out
    plan = load_plan(PCC)
    snr = plan_signal(plan, "xrd-transmission", {"reflection": "NMC811-003"}, Detector())
    line = next(s for s in table.splitlines() if s.startswith("signal: "))
    assert line == (
        f"signal: xrd-transmission (NMC811-003): SNR per scan {snr.snr_per_scan:.3g} at the "
        f"shortest exposure, 2.5 s ({snr.signal_counts:.3g} counts per scan); floor 300: met"
    )
    assert main(["run", PCC, "--json"]) == 0
    block = json.loads(capsys.readouterr().out)["signal"]
    assert block["technique"] == "xrd-transmission"
    assert block["snr_per_scan"] == snr.snr_per_scan and block["counts"] == snr.signal_counts
    assert block["meets_floor"] is True and block["snr_floor"] == 300
    assert "Warren" in block["source"] and "F_hkl" in block["formula"] and block["model"]


def test_run_without_a_design_has_no_signal(capsys):
    assert main(["run", "jousseaume2023-exp1-pca", "--json"]) == 0
    assert "signal" not in json.loads(capsys.readouterr().out)
    assert main(["run", "jousseaume2023-exp1-pca"]) == 0
    assert "\nsignal: " not in capsys.readouterr().out


@pytest.mark.parametrize("name", ["default", PCC])
def test_the_builtin_design_sections_do_not_change_the_dose(name):
    config = yaml.safe_load(builtin_plan_text(name))
    plan = plan_from_config(config)
    assert plan.design is not None and plan.design.min_snr_per_scan == 300
    del config["design"]
    with_design, without = run_plan(plan), run_plan(plan_from_config(config))
    assert [loc.dose_Gy for loc in with_design.locations] == [
        loc.dose_Gy for loc in without.locations
    ]


def test_design_command_uses_the_plans_own_section(tmp_path, capsys):
    assert main(["design", PCC, "--workers", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    section = _pcc()["design"]
    assert out["limit"]["name"] == "jousseaume2023-safe"
    assert out["evaluated"] == 12  # 4 fluxes x 3 exposures
    assert out["candidates"]
    for c in out["candidates"]:
        assert c["plan"]["design"] == section  # a candidate carries the design it was found with
        assert c["snr_per_scan"] >= 300 and c["dose_Gy"] <= 80e3
    best = tmp_path / "best.json"
    best.write_text(json.dumps(out["candidates"][0]["plan"]), encoding="utf-8")
    assert main(["run", str(best), "--json"]) == 0
    block = json.loads(capsys.readouterr().out)["signal"]
    assert block["snr_per_scan"] == pytest.approx(out["candidates"][0]["snr_per_scan"], rel=1e-12)


def test_design_command_refuses_a_bad_own_section_in_one_sentence(tmp_path, capsys):
    plan_file = tmp_path / "plan.yaml"
    plan_file.write_text(
        yaml.safe_dump(_design(technique="xas-transmission", signal={"element": "Zr"})),
        encoding="utf-8",
    )
    assert main(["design", str(plan_file)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("beamdesign: error: design.signal.element = 'Zr': an element of the ")
    assert len(err.strip().splitlines()) == 1


def test_compare_takes_the_snr_row_from_the_first_plans_design(capsys):
    assert main(["compare", PCC, "jousseaume2023-exp3-pcd", "--json"]) == 0
    first, second = json.loads(capsys.readouterr().out)["scenarios"]
    snr = plan_signal(load_plan(PCC), "xrd-transmission", {"reflection": "NMC811-003"})
    assert first["snr_per_scan"] == pytest.approx(snr.snr_per_scan, rel=1e-12)
    assert second["snr_per_scan"] > 0
    assert main(["compare", "jousseaume2023-exp1-pca", "jousseaume2023-exp3-pcd", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["scenarios"]
    assert all("snr_per_scan" not in row for row in rows)  # PCa has no design section


def test_run_names_the_beamline_and_its_flux(tmp_path, capsys):
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(_on_beamline()), encoding="utf-8")
    assert main(["run", str(path)]) == 0
    beam_line = next(s for s in capsys.readouterr().out.splitlines() if s.startswith("stack: "))
    assert beam_line.endswith(
        "beam: 27 keV, 4e+11 ph/s, 300 x 400 µm tophat (beamline example-high-energy-xrd)"
    )


def test_an_energy_scan_gives_each_xas_point_its_dwell(capsys, tmp_path):
    config = yaml.safe_load(builtin_plan_text("example-xanes-ni-k"))
    config["design"] = {
        "technique": "xas-transmission",
        "signal": {"element": "Ni"},
        "limit": {"threshold": "jousseaume2023-safe"},
        "minimum": {"snr_per_scan": 10},
        "vary": {"beam.flux_ph_s": [1e8, 1e10], "schedule.energy_scan.dwell_s": [0.05, 0.2]},
    }
    plan = plan_from_config(config)
    scan = plan.schedule.energy_scan
    block = signal_block(plan)
    details = block["details"]
    # I0 counts per point: flux x dwell x the I0 chamber's share (Detector default 0.1)
    assert details["incident_counts"] == pytest.approx(1e10 * scan.dwell_s * 0.1, rel=1e-12)
    assert block["exposure_s"] == pytest.approx(scan.points * scan.dwell_s, rel=1e-12)
    path = tmp_path / "xanes.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    assert main(["run", str(path)]) == 0
    assert "signal: xas-transmission (Ni K): SNR per scan" in capsys.readouterr().out


def test_design_command_on_an_unsatisfiable_own_section_says_what_would_help(tmp_path, capsys):
    config = _design(minimum={"snr_per_scan": 1e5})
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    assert main(["design", str(path), "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith(
        "beamdesign: error: design.minimum.snr_per_scan = 100000: not reachable: within the "
        "limit jousseaume2023-safe the best SNR per scan of the 12 plans tried is "
    )
    assert "what would help: a larger spot" in err


def test_an_energy_scan_must_lie_inside_the_beamlines_flux_table():
    config = yaml.safe_load(builtin_plan_text("example-xanes-ni-k"))
    del config["beam"]["flux_ph_s"]
    config["beamline"] = "example-xas"  # flux from 5 to 35 keV
    config["beam"]["spot_um"] = [300, 300]
    plan = plan_from_config(config)
    assert plan.beam.flux_ph_s == pytest.approx(load_profile("example-xas").flux_ph_s(8.35))
    config["schedule"]["energy_scan"].update(start_keV=4.9)
    with pytest.raises(
        InputError,
        match=r"^schedule.energy_scan.start_keV = 4.9: beamline 'example-xas' has flux from 5 "
        r"to 35 keV \(its flux_table\)\.$",
    ):
        plan_from_config(config)
