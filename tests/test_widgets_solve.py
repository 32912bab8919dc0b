"""Headless tests of the planner's Solve and Compare tabs: press the buttons, assert on what the
panels show and on what the planner holds afterwards."""

from __future__ import annotations

import pytest

from beamdesign.design import design_plan
from beamdesign.errors import InputError
from beamdesign.plan import load_plan, plan_from_config
from beamdesign.sweep import Quality, evaluate
from beamdesign.widgets.design_figures import front_data, overlay_data
from beamdesign.widgets.planner import Planner
from beamdesign.widgets.scenarios import metric_doses
from beamdesign.widgets.solve import (
    DEFAULT_MIN_SNR,
    ENERGY_FACTORS,
    EXPOSURE_FACTORS,
    FLUX_FACTORS,
    MAX_TABLE_ROWS,
    default_design,
    limit_choices,
    signal_options,
)

PCC_NAME = "jousseaume2023-exp2-pcc"
#: the PCc plan without its own design section: the panel's default design around it
PCC = plan_from_config({k: v for k, v in load_plan(PCC_NAME).to_config().items() if k != "design"})


@pytest.fixture(scope="module")
def solved():
    """The PCc plan in the planner, its default design solved (16 plans)."""
    planner = Planner(PCC)
    result = planner.solve_panel.solve()
    assert result is not None, planner.solve_panel.status.value
    return planner, result


def test_default_design_around_the_default_plan():
    plan = load_plan("default")
    design = default_design(plan)
    lowest = min((t for t in plan.thresholds if t.constituent is None), key=lambda t: t.dose_Gy)
    assert design["limit"] == {"dose_Gy": lowest.dose_Gy, "convention": lowest.convention}
    assert design["minimum"] == {"snr_per_scan": DEFAULT_MIN_SNR}
    assert design["signal"] == {"reflection": "NMC811-003"}  # the probe's own reflection
    e, f, x = plan.beam.energy_keV, plan.beam.flux_ph_s, float(plan.schedule.exposure_s[0])
    assert design["vary"] == {
        "beam.energy_keV": [e * ENERGY_FACTORS[0], e * ENERGY_FACTORS[1]],
        "beam.flux_ph_s": [f * FLUX_FACTORS[0], f * FLUX_FACTORS[1]],
        "schedule.exposure_s": [x * EXPOSURE_FACTORS[0], x * EXPOSURE_FACTORS[1]],
    }


def test_default_design_keeps_different_exposures_and_has_no_reflection_for_xas():
    design = default_design(PCC, "xas-transmission")
    assert "schedule.exposure_s" not in design["vary"]  # 2.5, 98 and 1050 s stay as they are
    assert "signal" not in design and design["technique"] == "xas-transmission"


def test_limit_choices_put_the_probe_first_lowest_first():
    choices = limit_choices(load_plan("default"))
    doses = [c["dose_Gy"] for _, c in choices if "constituent" not in c]
    assert doses == sorted(doses) and "constituent" not in choices[0][1]
    assert choices[-1][1]["constituent"] == "electrolyte"
    assert choices[0][0].startswith("80 kGy total-attenuation — ")


@pytest.mark.parametrize(
    ("technique", "text", "expected"),
    [
        ("xrd-transmission", "", {}),
        ("xrd-transmission", " NMC811-003 ", {"reflection": "NMC811-003"}),
        ("xas-transmission", "Ni", {"element": "Ni"}),
        ("xas-transmission", "Ni K", {"element": "Ni", "edge": "K"}),
        ("xas-fluorescence", "Ni", {"element": "Ni"}),
    ],
)
def test_signal_box(technique, text, expected):
    assert signal_options(technique, text) == expected


def test_signal_box_refuses_in_one_sentence():
    with pytest.raises(InputError, match=r"design.signal = 'Ni K L': element and edge, e.g. Ni K"):
        signal_options("xas-transmission", "Ni K L")
    with pytest.raises(InputError, match=r"design.signal = 'Ni K': element, e.g. Ni"):
        signal_options("xas-fluorescence", "Ni K")


def test_solve_shows_the_front_the_table_and_the_current_plan(solved):
    planner, result = solved
    panel = planner.solve_panel
    same = design_plan(planner.config(), panel.design(), workers=1, progress=False)
    assert [c.dose_Gy for c in same.candidates] == [c.dose_Gy for c in result.candidates]
    limit, floor = result.design.limit_dose_Gy, result.design.min_snr_per_scan
    assert all(c.dose_Gy <= limit and c.snr_per_scan >= floor for c in result.candidates)
    source = panel._sources["candidates"]
    assert list(source.data["x"]) == [c.dose_Gy for c in result.candidates]
    assert list(source.selected.indices) == [0]  # the candidate Apply loads, in red
    here = evaluate(planner.config(), result.design.quality)
    assert list(panel._sources["current"].data["y"]) == [here["snr_per_scan"]]
    rows = min(len(result.candidates), MAX_TABLE_ROWS)
    assert panel.table.value.count("<tr>") == 1 + rows
    assert "bd-solved" in panel.status.value and not panel.apply_button.disabled
    assert len(panel.candidate.options) == len(result.candidates)


def test_solve_runs_only_on_the_button():
    planner = Planner(PCC)
    panel = planner.solve_panel
    result = panel.solve()
    planner.controls["energy_keV"].value = 30
    assert panel.result is result  # not re-solved
    assert "bd-solve-old" in panel.status.value  # but said to be for another plan


def test_apply_loads_a_candidate_and_can_be_undone():
    planner = Planner(PCC)
    panel = planner.solve_panel
    result = panel.solve()
    i = len(result.candidates) - 1
    panel.candidate.value = i
    assert list(panel._sources["candidates"].selected.indices) == [i]
    assert panel.apply()
    chosen = result.candidates[i]
    beam = planner.result.plan.beam
    assert beam.energy_keV == chosen.values["beam.energy_keV"]
    assert beam.flux_ph_s == chosen.values["beam.flux_ph_s"]
    again = evaluate(planner.config(), result.design.quality)
    assert again["dose_Gy"] == pytest.approx(chosen.dose_Gy, rel=1e-9)  # the same plan
    assert "bd-applied" in panel.status.value and "Undo" in planner._messages["general"].value
    assert planner.undo() and planner.result.plan.beam.energy_keV == 27.0


def test_unreachable_floor_says_what_would_help():
    planner = Planner(PCC)
    panel = planner.solve_panel
    panel.min_snr.value = 1e9
    assert panel.solve() is None
    assert "SNR floor: not reachable" in panel.status.value
    assert "what would help" in panel.status.value and not panel.apply()


def test_solve_refuses_an_invalid_plan_and_a_bad_signal():
    planner = Planner(PCC)
    panel = planner.solve_panel
    panel.technique.value = "xas-transmission"
    panel.signal.value = "Ni K L"
    assert panel.solve() is None and "Signal" in panel.status.value
    planner.controls["flux_ph_s"].value = -1.0
    assert panel.solve() is None and "Fix the inputs" in panel.status.value


def test_plan_design_section_fills_the_panel():
    planner = Planner(PCC)
    panel = planner.solve_panel
    section = {
        "technique": "xrd-transmission",
        "signal": {"reflection": "NMC811-003"},
        "limit": {"threshold": "jousseaume2023-safe"},
        "minimum": {"snr_per_scan": 300, "time_resolution_soc_pct": 5},
        "vary": {"beam.flux_ph_s": [1e8, 1e11], "beam.spot_um": {"values": [[300, 400]]}},
        "points": 3,
    }
    panel.set_plan(planner.plan, section)
    assert panel.min_snr.value == 300 and panel.points.value == 3
    assert panel.limit.label.startswith("the plan's design limit")
    assert not panel.vary["beam.energy_keV"][0].value and panel.vary["beam.flux_ph_s"][0].value
    design = panel.design()  # what the panel does not show is kept
    assert design["minimum"]["time_resolution_soc_pct"] == 5
    assert design["vary"]["beam.spot_um"] == {"values": [[300, 400]]}
    assert design["limit"] == {"threshold": "jousseaume2023-safe"}
    assert "3 plans" in panel.ranges.value  # one varied range shown, 3 points


def test_front_data_without_a_result_is_empty():
    data = front_data(None)
    assert all(
        not column for name, source in data.items() if name != "meta" for column in source.values()
    )


def test_compare_pins_up_to_four_scenarios():
    planner = Planner(PCC)
    panel = planner.compare_panel
    assert panel.pin() and panel.table.value == ""  # one scenario: nothing to compare yet
    planner.controls["energy_keV"].value = 60
    assert panel.pin("60 keV")
    table = panel.table.value
    assert ">A</th>" in table and ">60 keV</th>" in table
    assert "27 keV" in table and "60 keV</td>" in table and "SNR per scan" in table
    lines = panel._sources["scenario_lines"].data
    assert len(lines["xs"]) == 2 and lines["name"][1].startswith("60 keV: ")
    assert panel.pin() and panel.pin() and not panel.pin()  # four at most
    assert panel.pin_button.disabled and [p.label for p in panel.pinned] == [
        "A",
        "60 keV",
        "B",
        "C",
    ]
    panel.unpin()
    assert len(panel.pinned) == 3 and not panel.pin_button.disabled
    panel.clear()
    assert panel.pinned == [] and panel.table.value == "" and panel.clear_button.disabled


def test_compare_rows_are_the_results_doses():
    planner = Planner(PCC)
    result = planner.result
    doses = metric_doses(result)
    worst = max(loc.dose_Gy[result.probe] for loc in result.locations)
    # the plan's convention is its thresholds' (total-attenuation, column mean)
    assert doses["NMC811, total-attenuation, column-mean"] == pytest.approx(worst, rel=1e-12)
    assert "LP57, transport, column-mean" in doses  # the electrolyte's radiolysis metric
    data = overlay_data([("A", result)])["scenario_lines"]
    assert float(data["ys"][0][-1]) == pytest.approx(worst, rel=1e-6)  # float32 on the wire


def test_compare_without_snr_when_the_signal_model_does_not_fit():
    planner = Planner(PCC)
    planner.solve_panel.technique.value = "xas-transmission"  # no element given
    assert planner.solve_panel.signal.value == ""  # the XRD reflection is not an element
    assert planner.solve_panel.quality() == Quality("xas-transmission")
    planner.compare_panel.pin()
    planner.controls["energy_keV"].value = 35
    planner.compare_panel.pin()
    assert (
        "No SNR" in planner.compare_panel.status.value
        and "element" in planner.compare_panel.status.value
    )
    assert "SNR per scan" not in planner.compare_panel.table.value
    assert "worst dose" in planner.compare_panel.table.value


def test_panel_messages_use_the_words_of_its_controls():
    planner = Planner(PCC)
    panel = planner.solve_panel
    energy = panel.vary["beam.energy_keV"]
    energy[1].value, energy[2].value = 60.0, 20.0
    assert panel.solve() is None
    assert "The energy range must go from low to high; got 60 to 20 keV." in panel.status.value
    for check, _, _ in panel.vary.values():
        check.value = False
    assert panel.solve() is None and "Tick at least one range to vary" in panel.status.value
    assert "→ 1 plans" in panel.ranges.value or "nothing varied" in panel.ranges.value
    planner.controls["probe"].value = "(highest dose rate)"
    panel.vary["beam.flux_ph_s"][0].value = True
    assert panel.solve() is None and "Choose the probed layer in the Cell tab" in panel.status.value


def test_the_button_solves_in_the_background_and_stop_ends_it():
    planner = Planner(PCC)
    panel = planner.solve_panel
    panel.solve_button.click()  # a spawned process: the kernel answers meanwhile
    assert panel.job is not None and panel.solve_button.disabled and not panel.stop_button.disabled
    assert panel.solve() is None  # one solve at a time
    assert panel.job.wait(300), "the background solve did not finish"
    assert "bd-solved" in panel.status.value and panel.result is not None
    same = design_plan(planner.config(), panel.design(), workers=1, progress=False)
    assert [c.dose_Gy for c in panel.result.candidates] == [c.dose_Gy for c in same.candidates]
    assert not panel.solve_button.disabled and panel.stop_button.disabled
    panel.points.value = 8  # 64 plans: seconds of work, stopped at once
    panel.solve_button.click()
    process = panel.job._process
    panel.stop_button.click()
    assert panel.job.wait(60) and not process.is_alive()
    assert "Stopped" in panel.status.value and not panel.solve_button.disabled
    assert panel.result is not None and not panel.apply_button.disabled  # the last front stays


def test_the_panels_plots_are_made_when_their_tab_is_first_shown():
    planner = Planner()
    solve, compare = planner.solve_panel, planner.compare_panel
    assert solve.figure is None and compare.figure is None  # the planner starts without them
    titles = [planner.figure_tabs.get_title(i) for i in range(len(planner.figure_tabs.children))]
    planner.figure_tabs.selected_index = titles.index("Solve")
    assert solve.figure is not None and solve.model in solve.plot_box.children
    planner.figure_tabs.selected_index = titles.index("Compare")
    assert compare.figure is not None and compare.model in compare.plot_row.children


def test_a_plan_with_its_own_design_solves_that_design():
    """The built-in PCc plan's design section (a flux range, listed exposures): the panel keeps
    the listed values it has no control for and finds the CLI's front."""
    plan = load_plan(PCC_NAME)
    planner = Planner(plan)
    panel = planner.solve_panel
    section = panel.design()
    own = plan.to_config()["design"]
    assert section["vary"] == own["vary"] and section["limit"] == own["limit"]
    assert "schedule.exposure_s 1, 2.5, 10" in panel.ranges.value
    assert "→ 12 plans" in panel.ranges.value  # 4 fluxes × 3 exposures
    result = panel.solve()
    config = {k: v for k, v in plan.to_config().items() if k != "design"}
    same = design_plan(config, own, workers=1, progress=False)
    assert result is not None and result.evaluated == same.evaluated == 12
    assert [c.dose_Gy for c in result.candidates] == [c.dose_Gy for c in same.candidates]
