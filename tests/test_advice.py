"""Advice is solved from the model and re-checked by running the modified plan."""

from __future__ import annotations

import pytest

from beamdesign.advice import advise
from beamdesign.errors import InputError
from beamdesign.experiment import run_plan
from beamdesign.plan import builtin_plan_names, builtin_plan_text, load_plan

#: X-ray plans (electron sessions: test_electron_session.py)
XRAY_PLANS = [n for n in builtin_plan_names() if "probe_type: electron" not in builtin_plan_text(n)]


@pytest.mark.parametrize("name", XRAY_PLANS)
def test_every_feasible_option_is_rechecked_below_the_threshold(name):
    plan = load_plan(name)
    advice = advise(plan)
    assert advice.threshold.dose_Gy == 80e3  # the lowest threshold on the probe
    assert advice.needed
    feasible = [o for o in advice.options if o.feasible]
    assert feasible, advice.sentences
    for option in feasible:
        assert option.rechecked_dose_Gy <= advice.threshold.dose_Gy
        if option.plan_changes:
            rerun = run_plan(plan.replace(**option.plan_changes))
            # the worst hottest-point dose, in the threshold's own metric
            in_metric = max(
                c.final_dose_Gy
                for loc in rerun.locations
                for c in loc.crossings
                if c.threshold == advice.threshold
            )
            assert in_metric == pytest.approx(option.rechecked_dose_Gy, rel=1e-9)
            assert in_metric <= advice.threshold.dose_Gy


def test_flux_option_is_nearly_tight():
    plan = load_plan("jousseaume2023-exp2-pcc")
    flux = next(o for o in advise(plan).options if o.name == "flux")
    assert 0.99 * 80e3 < flux.rechecked_dose_Gy <= 80e3


def test_fresh_locations_for_a_many_scan_plan():
    plan = load_plan("jousseaume2023-exp1-pca")
    option = next(o for o in advise(plan, threshold=2e5).options if o.name == "fresh locations")
    assert option.feasible and option.rechecked_dose_Gy <= 2e5


def test_no_advice_needed_when_safe():
    plan = load_plan("jousseaume2023-exp2-pcc")
    advice = advise(plan, threshold=1e9)
    assert not advice.needed and advice.options == ()
    assert "keeps" in advice.sentences[0]


def test_unknown_threshold_name():
    with pytest.raises(InputError, match="advice threshold = 'nope': one of the plan's thresholds"):
        advise(load_plan("default"), threshold="nope")


def test_default_threshold_falls_back_to_another_constituent():
    """A plan whose only threshold is on the electrolyte still gets advice (the report and the
    planner call advise on every valid plan)."""
    plan = load_plan("jousseaume2023-exp2-pcc")
    electrolyte_only = plan.replace(
        thresholds=[{"name": "radiolysis", "dose_Gy": 2e4, "constituent": "electrolyte"}]
    )
    advice = advise(electrolyte_only)
    assert advice.threshold.name == "radiolysis"
    assert advice.constituent == "NMC811 cathode/LP57"
    assert advice.needed and any(o.feasible for o in advice.options)


def test_advice_uses_the_thresholds_metric_not_the_plans_convention():
    """The paper's 80 kGy is a total-attenuation dose: advising in energy-absorption or in
    total-attenuation gives the same flux."""
    plan = load_plan("jousseaume2023-exp2-pcc")
    other = plan.replace(beam={**plan.config["beam"], "convention": "energy-absorption"})
    a, b = advise(plan), advise(other)
    assert a.worst_dose_Gy == pytest.approx(b.worst_dose_Gy, rel=1e-12)
    assert [o.sentence for o in a.options] == [o.sentence for o in b.options]
