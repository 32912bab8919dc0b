"""Design: every candidate, re-run on its own, keeps the limit and the floor; the front is
non-dominated; bad design sections are one sentence each."""

from __future__ import annotations

import json

import pytest
import yaml

from beamdesign.cli import main
from beamdesign.design import design_plan, pareto_front, parse_design, signal_aware_advice
from beamdesign.errors import InputError
from beamdesign.experiment import run_plan
from beamdesign.plan import builtin_plan_text, plan_from_config
from beamdesign.signal import Detector, plan_signal
from beamdesign.sweep import load_plan_config

PCC = "jousseaume2023-exp2-pcc"
SECTION = {
    "technique": "xrd-transmission",
    "signal": {"reflection": "NMC811-003"},
    "limit": {"threshold": "jousseaume2023-safe"},
    "minimum": {"snr_per_scan": 300},
    "vary": {"beam.flux_ph_s": [1e8, 1e11], "schedule.exposure_s": {"values": [1, 4, 16]}},
    "points": 4,
}


def _pcc() -> dict:
    """The PCc plan without its own design section (the tests give theirs)."""
    config = yaml.safe_load(builtin_plan_text(PCC))
    del config["design"]
    return config


@pytest.fixture(scope="module")
def front():
    return design_plan(_pcc(), SECTION, workers=1, progress=False)


def test_every_candidate_rerun_keeps_the_limit_and_the_floor(front):
    assert front.candidates and front.evaluated == 12
    for c in front.candidates:
        plan = plan_from_config(c.plan)
        result = run_plan(plan)  # the plan's own convention is total-attenuation, the limit's too
        worst = max(loc.dose_Gy[result.probe] for loc in result.locations)
        assert worst == c.dose_Gy <= 80e3
        snr = plan_signal(
            plan, "xrd-transmission", {"reflection": "NMC811-003"}, Detector()
        ).snr_per_scan
        assert snr == c.snr_per_scan >= 300


def test_candidates_are_mutually_non_dominated_and_least_dose_first(front):
    triples = [(c.dose_Gy, c.snr_per_scan, c.time_resolution_soc_pct) for c in front.candidates]
    for i, a in enumerate(triples):
        for j, b in enumerate(triples):
            if i != j:
                assert not (b[0] <= a[0] and b[1] >= a[1] and b[2] <= a[2] and b != a)
    assert [t[0] for t in triples] == sorted(t[0] for t in triples)


def test_pareto_front_by_hand():
    rows = [
        {"dose_Gy": 1.0, "snr_per_scan": 10.0, "time_resolution_soc_pct": 1.0},
        {"dose_Gy": 2.0, "snr_per_scan": 5.0, "time_resolution_soc_pct": 1.0},  # dominated by 0
        {"dose_Gy": 2.0, "snr_per_scan": 20.0, "time_resolution_soc_pct": 1.0},
        {"dose_Gy": 0.5, "snr_per_scan": 1.0, "time_resolution_soc_pct": 3.0},
        {"dose_Gy": 1.0, "snr_per_scan": 10.0, "time_resolution_soc_pct": 1.0},
    ]  # duplicate of 0
    assert pareto_front(rows) == [3, 0, 2]


def test_limit_in_its_own_convention_and_constituent():
    section = {
        **SECTION,
        "limit": {"dose_Gy": 2e4, "constituent": "electrolyte", "convention": "energy-absorption"},
        "minimum": {"snr_per_scan": 100},
        "vary": {"beam.flux_ph_s": {"values": [1e8, 1e9]}},
    }
    result = design_plan(_pcc(), section, workers=1, progress=False)
    for c in result.candidates:
        config = {**c.plan, "beam": {**c.plan["beam"], "convention": "energy-absorption"}}
        run = run_plan(plan_from_config(config))
        key = "NMC811 cathode/LP57"
        assert c.row["dose_constituent"] == key
        assert c.dose_Gy == max(loc.dose_Gy[key] for loc in run.locations) <= 2e4


def test_time_resolution_floor_limits_the_loop():
    section = {**SECTION, "minimum": {"snr_per_scan": 300, "time_resolution_soc_pct": 0.4}}
    result = design_plan(_pcc(), section, workers=1, progress=False)
    # C/8: 12.5 %/h; loop = 3 exposures + 3 × 27 s moves; 0.4 % allows loops up to 115.2 s,
    # i.e. exposures up to 11.4 s: the 16 s plans (loop 129 s, 0.448 %) are excluded
    assert result.candidates
    assert all(c.time_resolution_soc_pct <= 0.4 for c in result.candidates)
    assert {c.values["schedule.exposure_s"] for c in result.candidates} <= {1, 4}


def test_unsatisfiable_design_says_what_would_help():
    section = {**SECTION, "minimum": {"snr_per_scan": 1e5}}
    with pytest.raises(
        InputError,
        match=r"design.minimum.snr_per_scan = 100000: not reachable: within the "
        r"limit jousseaume2023-safe the best SNR per scan .* what would help: "
        r"a larger spot",
    ):
        design_plan(_pcc(), section, workers=1, progress=False)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"technique": "saxs"}, r"design.technique = 'saxs': one of xrd-transmission"),
        (
            {"vary": {"beam.energy_keV": [60, 20]}},
            r"design.vary.beam.energy_keV = \[60, 20\]: a range \[low, high\] "
            r"with low < high",
        ),
        (
            {"limit": {"threshold": "jousseaume-safe"}},
            r"design.limit.threshold = 'jousseaume-safe': a row id .*did you mean",
        ),
        ({"limit": {"dose_Gy": -1}}, r"design.limit.dose_Gy = -1: a dose > 0"),
        (
            {"limit": {"dose_Gy": 1e4, "convention": "kerma"}},
            r"design.limit.convention = 'kerma': one of",
        ),
        ({"minimum": {}}, r"design.minimum.snr_per_scan = None: required"),
        ({"minimum": {"snr_per_scan": True}}, r"design.minimum.snr_per_scan = true: an SNR > 0"),
        (
            {"minimum": {"snr_per_scan": 5, "time_resolution_soc_pct": 0}},
            r"time_resolution_soc_pct = 0: a SOC step",
        ),
        ({"vary": {}}, r"design.vary = \{\}: at least one dotted plan key"),
        ({"points": 1}, r"design.points = 1: a whole number of samples per range, 2–50"),
        (
            {
                "points": 50,
                "vary": {
                    "beam.flux_ph_s": [1, 2],
                    "beam.energy_keV": [20, 30],
                    "schedule.move_s": [0, 9],
                },
            },
            r"design.points = 50: a grid of at most 20000 plans \(this one: 125000\)",
        ),
        ({"extra": 1}, r"design.extra = 1: not a known key"),
        (
            {"detector": {"solid_angle_sr": 9}},
            r"detector.solid_angle_sr = 9: a solid angle in \(0, 2π\] sr",
        ),
    ],
)
def test_bad_design_sections(change, message):
    with pytest.raises(InputError, match=message):
        parse_design({**SECTION, **change}, _pcc())


def test_element_without_edge_in_range():
    section = {
        **SECTION,
        "technique": "xas-transmission",
        "signal": {"element": "C"},
        "vary": {"beam.flux_ph_s": {"values": [1e9]}},
    }
    with pytest.raises(
        InputError, match=r"element = 'C': an element whose K edge lies in 1–200 keV"
    ):
        design_plan(_pcc(), section, workers=1, progress=False)


def test_design_from_plan_key_and_from_file(tmp_path, capsys):
    plan_file = tmp_path / "plan.yaml"
    plan_file.write_text(yaml.safe_dump({**_pcc(), "design": SECTION}), encoding="utf-8")
    _, section = load_plan_config(str(plan_file))
    assert section == SECTION
    assert main(["design", str(plan_file), "--workers", "1", "--json"]) == 0
    from_key = json.loads(capsys.readouterr().out)
    design_file = tmp_path / "design.yaml"
    design_file.write_text(yaml.safe_dump({"design": SECTION}), encoding="utf-8")
    assert main(["design", PCC, "--design", str(design_file), "--workers", "1", "--json"]) == 0
    from_file = json.loads(capsys.readouterr().out)
    assert from_key["candidates"] == from_file["candidates"]
    assert from_key["limit"] == {
        "name": "jousseaume2023-safe",
        "dose_Gy": 80e3,
        "convention": "total-attenuation",
        "constituent": None,
    }


def test_design_command_without_section(capsys):
    assert main(["design", "jousseaume2023-exp1-pca"]) == 2
    assert (
        "design = None: give the plan a 'design' section or a --design FILE"
        in capsys.readouterr().err
    )


def test_signal_aware_advice_lists_options_or_says_what_would_help(front):
    sentences = signal_aware_advice(_pcc(), SECTION, options=2)
    assert sentences[0].startswith(
        f"{len(front.candidates)} of 12 plans keep jousseaume2023-safe and an SNR per scan >= 300"
    )
    assert len(sentences) == 3 and all("SNR" in s for s in sentences[1:])
    impossible = signal_aware_advice(_pcc(), {**SECTION, "minimum": {"snr_per_scan": 1e5}})
    assert len(impossible) == 1 and "what would help: a larger spot" in impossible[0]


def test_design_on_a_beamline_reads_flux_and_detector_from_its_profile():
    from beamdesign.profile import load_profile

    profile = load_profile("example-high-energy-xrd")
    config = {**_pcc(), "beamline": "example-high-energy-xrd"}
    del config["beam"]["flux_ph_s"]  # from the profile's table at each energy
    section = {
        **SECTION,
        "minimum": {"snr_per_scan": 10},
        "vary": {
            "beam.energy_keV": {"values": [27, 60]},
            "beam.attenuators": {
                "values": [["Cu-0.5mm"], [{"material": "Cu", "thickness_um": 1000}]]
            },
        },
    }
    design = parse_design(section, config)
    assert design.quality.detector == profile.detector
    result = design_plan(config, section, workers=1, progress=False)
    assert result.candidates
    for c in result.candidates:
        assert "beamline" not in c.plan
        assert c.plan["beam"]["flux_ph_s"] == profile.flux_ph_s(c.values["beam.energy_keV"])
        plan_from_config(c.plan)
    # a flux the plan sets wins over the table, but a beamline cannot deliver more than it
    with pytest.raises(
        InputError,
        match=r"^beam.flux_ph_s = 1e\+12: at most 4e\+11 ph/s at 27 keV on beamline "
        r"'example-high-energy-xrd' \(its flux_table\)",
    ):
        design_plan(config, {**section, "vary": {"beam.flux_ph_s": {"values": [1e12]}}}, workers=1)
