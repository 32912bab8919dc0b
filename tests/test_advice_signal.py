"""Signal-aware advice: with a design section every option gives the SNR per scan it leaves and
is refused below the floor; the design's candidates keep both, or one sentence says none does."""

from __future__ import annotations

import json

import pytest

from beamdesign.advice import advise
from beamdesign.cli import main
from beamdesign.experiment import run_plan
from beamdesign.plan import load_plan
from beamdesign.signal import Detector, plan_signal

PCC = "jousseaume2023-exp2-pcc"
REFLECTION = {"reflection": "NMC811-003"}


def _snr(plan) -> float:
    return plan_signal(plan, "xrd-transmission", REFLECTION, Detector()).snr_per_scan


@pytest.fixture(scope="module")
def pcc_advice():
    return advise(load_plan(PCC))


def test_the_naive_options_now_give_their_snr_and_are_refused(pcc_advice):
    plan = load_plan(PCC)
    flux = next(o for o in pcc_advice.options if o.name == "flux")
    exposure = next(o for o in pcc_advice.options if o.name == "exposure per scan")
    # the old advice: an attenuator of about 0.002, or 0.1-0.3 ms scans
    assert "an attenuator transmitting 0.00201" in flux.sentence
    for option in (flux, exposure):
        assert option.snr_per_scan == pytest.approx(
            _snr(plan.replace(**option.plan_changes)), rel=1e-12
        )
        assert option.snr_per_scan < 300 and not option.feasible
        assert option.sentence.endswith(
            f"SNR per scan {option.snr_per_scan:.3g} (below the floor 300: refused)"
        )
    # counting statistics: S and B both scale with the flux, so SNR scales with its square root
    assert flux.snr_per_scan == pytest.approx(_snr(plan) * (0.00201) ** 0.5, rel=0.01)


def test_design_candidates_keep_the_threshold_and_the_floor(pcc_advice):
    plan = load_plan(PCC)
    design = [o for o in pcc_advice.options if o.name == "design"]
    assert design and all(o.feasible for o in design)
    for option in design:
        changed = plan.replace(**option.plan_changes)
        rerun = run_plan(changed)
        in_metric = max(
            c.final_dose_Gy
            for loc in rerun.locations
            for c in loc.crossings
            if c.threshold == pcc_advice.threshold
        )
        assert in_metric == pytest.approx(option.rechecked_dose_Gy, rel=1e-9)
        assert in_metric <= 80e3
        assert _snr(changed) == pytest.approx(option.snr_per_scan, rel=1e-9)
        assert option.snr_per_scan >= 300
    assert pcc_advice.sentences[-len(design)].startswith("Set beam.flux_ph_s = ")


def test_no_plan_keeps_both_says_what_would_help():
    plan = load_plan(PCC)
    impossible = plan.replace(design={**plan.config["design"], "minimum": {"snr_per_scan": 1e5}})
    advice = advise(impossible)
    last = advice.options[-1]
    assert last.name == "design" and not last.feasible
    assert not any(o.feasible for o in advice.options)
    assert advice.sentences[-1].startswith(
        "No plan of the design's grid keeps both its limit and an SNR per scan >= 100000: "
        "within the limit jousseaume2023-safe the best SNR per scan of the 12 plans tried is "
    )
    assert "what would help: a larger spot" in advice.sentences[-1]


def test_a_safe_plan_with_a_low_signal_gets_the_design_options():
    plan = load_plan(PCC)
    faint = plan.replace(beam={**plan.config["beam"], "flux_ph_s": 1e7})
    advice = advise(faint, threshold=1e9)
    assert not advice.needed and advice.low_signal
    assert (
        advice.snr_per_scan == pytest.approx(_snr(faint), rel=1e-12) and advice.snr_per_scan < 300
    )
    assert advice.sentences[0].endswith("is below the design's floor 300:")
    assert [o.name for o in advice.options] == ["design"] * len(advice.options)
    safe = advise(plan, threshold=1e9)
    assert safe.options == () and safe.sentences[0].endswith("keeps the design's floor 300.")


def test_plans_without_design_keep_the_dose_only_advice():
    advice = advise(load_plan("jousseaume2023-exp1-pcb"))
    assert advice.snr_floor is None and advice.snr_per_scan is None
    assert all(o.snr_per_scan is None and "SNR" not in o.sentence for o in advice.options)


def test_advise_command(capsys):
    assert main(["advise", PCC]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == list(advise(load_plan(PCC)).sentences)
    assert main(["advise", PCC, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["threshold"]["dose_Gy"] == 80e3 and out["snr_floor"] == 300
    assert [o["name"] for o in out["options"]][:2] == ["flux", "exposure per scan"]
    assert out["options"][0]["feasible"] is False
    assert main(["advise", PCC, "--threshold", "nope"]) == 2
    assert "advice threshold = 'nope': one of the plan's thresholds" in capsys.readouterr().err


def _default_on_beamline(energy_keV: float):
    import yaml

    from beamdesign.plan import builtin_plan_text, plan_from_config

    config = yaml.safe_load(builtin_plan_text("default"))
    del config["beam"]["flux_ph_s"], config["beam"]["profile"]
    config["beam"].update(energy_keV=energy_keV, spot_um=[100, 100])
    return plan_from_config({**config, "beamline": "example-high-energy-xrd"})


def test_a_beamline_plan_is_advised_its_real_filters_and_exposure_limit():
    import numpy as np

    plan = _default_on_beamline(27)
    advice = advise(plan)
    option = next(o for o in advice.options if o.name == "beamline filter")
    assert option.plan_changes["beam"]["attenuators"] == ["Cu-1mm"]
    changed = plan.replace(**option.plan_changes)
    copper = plan.beamline.attenuator("Cu-1mm").transmission(np.array([27.0]))[0]
    # of the filters and pairs, Cu-1mm is the most transmitting that keeps 80 kGy:
    # Cu-0.5mm (+ Al-2mm) let through too much
    assert copper <= 80e3 / advice.worst_dose_Gy
    assert option.rechecked_dose_Gy == pytest.approx(advice.worst_dose_Gy * copper, rel=1e-9)
    detector = plan.beamline.detector  # a design on a beamline counts with its detector
    assert changed.design.quality.detector == detector
    snr = plan_signal(changed, "xrd-transmission", REFLECTION, detector).snr_per_scan
    assert option.snr_per_scan == pytest.approx(snr, rel=1e-12)
    assert option.snr_per_scan < 300 and not option.feasible  # 2e-6 transmitted: no pattern
    at_60 = advise(_default_on_beamline(60))
    filters = next(o for o in at_60.options if o.name == "beamline filter")
    assert not filters.feasible and filters.sentence.startswith(
        "the filters of beamline 'example-high-energy-xrd' transmit at least 0.118 at 60 keV"
    )
    exposure = next(o for o in at_60.options if o.name == "exposure per scan")
    assert not exposure.feasible and "below the shortest exposure of beamline" in exposure.sentence
