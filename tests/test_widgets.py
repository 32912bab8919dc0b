"""Headless tests of the planner widget and the figure data functions: set ``.value``, assert on
what the panels show."""

from __future__ import annotations

import numpy as np
import pytest

from beamdesign.experiment import run_plan
from beamdesign.plan import builtin_plan_names, load_plan
from beamdesign.widgets import figures
from beamdesign.widgets import planner as planner_module
from beamdesign.widgets.planner import Planner


@pytest.fixture(scope="module")
def default_result():
    return run_plan(load_plan("default"))


@pytest.fixture()
def planner():
    return Planner()


def _porous_layer(planner: Planner) -> int:
    return next(i for i, row in enumerate(planner._rows) if row.porosity.value > 0)


def test_initial_state(planner):
    assert planner.result is not None and not planner.stale and planner.errors == {}
    assert planner.result.plan.beam.energy_keV == 27
    assert "MGy" in planner.summary_html.value or "kGy" in planner.summary_html.value
    assert planner.verdict_html.value.count("<tr>") == 1 + 12  # header + MAX_TABLE_ROWS
    assert planner.advice_html.value.startswith("<ul>")


def test_energy_change_reruns(planner):
    before = planner.verdict_html.value
    planner.controls["energy_keV"].value = 35
    assert planner.result.plan.beam.energy_keV == 35
    assert planner.controls["energy_slider"].value == 35
    assert planner.verdict_html.value != before
    marker = planner.figures["energy"].select_one({"name": "energy_marker"})
    assert marker.data["energy"] == [35.0]


def test_exposure_change_scales_dose(planner):
    dose = planner.result.worst().dose_Gy[planner.result.probe]
    planner.controls["exposure_s"].value = 5
    assert planner.result.plan.schedule.locations[0].exposure_s == 5
    # until-end loop: halving the exposure shortens each visit, the dose per location drops
    assert planner.result.worst().dose_Gy[planner.result.probe] < dose


def test_bad_porosity_shows_message_next_to_layer_and_marks_stale(planner):
    i = _porous_layer(planner)
    good = planner.result
    planner.controls[f"layers[{i}].porosity"].value = 1.3
    field = f"stack.layers[{i}].porosity"
    assert field in planner.errors
    assert "a number from 0 to below 1" in planner.message(field)
    assert "porosity" in planner._rows[i].message.value  # the row's own message panel
    assert planner.stale and planner.result is good
    assert all(f.title.text.startswith("STALE") for f in planner.figures.values())
    assert "Stale" in planner.summary_html.value
    assert "bd-stale" in planner.verdict_html.value
    planner.controls[f"layers[{i}].porosity"].value = 0.3
    assert not planner.stale and planner.errors == {}
    assert planner.message(field) == ""
    assert not any(f.title.text.startswith("STALE") for f in planner.figures.values())


def test_bad_protocol_line(planner):
    planner.controls["protocol"].value = "Charge at C/10 until 100%\nDance for 1 h"
    assert list(planner.errors) == ["protocol[1]"]
    assert "Dance for 1 h" in planner.message("protocol[1]")
    assert planner._messages["protocol"].value  # shown under the protocol box
    assert planner._messages["energy_keV"].value == ""


def test_bad_energy_and_locations(planner):
    planner.controls["energy_keV"].value = 500
    (field,) = planner.errors
    assert field.endswith("energy_keV") and planner._messages["energy_keV"].value
    planner.controls["energy_keV"].value = 30
    planner.controls["schedule_mode"].value = "locations"
    assert not planner.stale
    planner.controls["locations"].value = "a, 0, 0\nb, nope, 0"
    assert "schedule.locations[1]" in planner.errors
    assert "numbers" in planner._messages["locations"].value


def test_layer_editing(planner):
    n = len(planner._rows)
    planner.add_layer.click()
    assert len(planner._rows) == n + 1 and f"layers[{n}].material" in planner.controls
    assert len(planner.result.plan.stack.layers) == n + 1
    planner.controls[f"layers[{n}].material"].value = "NotAMaterial"
    assert any(k.startswith(f"stack.layers[{n}]") for k in planner.errors)
    planner._rows[n].remove.click()
    assert len(planner._rows) == n and not planner.stale
    first = planner._rows[0].name.value
    planner._rows[0].down.click()
    assert planner._rows[1].name.value == first
    assert planner.result.plan.stack.layers[1].name == first


def test_preset_and_builtin(planner):
    planner.controls["builtin"].value = "jousseaume2023-exp2-pcc"
    assert [loc.name for loc in planner.result.locations] == ["#1", "#2", "#3"]
    assert planner.controls["schedule_mode"].value == "locations"
    planner.controls["preset"].value = "jousseaume2023-pcd"
    assert planner.result.plan.stack.name == "jousseaume2023-pcd"


def test_save_load_round_trip(planner, tmp_path):
    planner.controls["energy_keV"].value = 31
    planner.controls["attenuator_transmission"].value = 0.5
    path = tmp_path / "plan.yaml"
    assert planner.save(path) == path and path.is_file()
    other = Planner("jousseaume2023-exp1-pca")
    other.controls["plan_path"].value = str(path)
    other.load_button.click()
    assert "loaded" in other.file_html.value
    assert other.result.plan.beam.energy_keV == 31
    assert other.controls["attenuator_transmission"].value == 0.5
    a = planner.result.worst().dose_Gy[planner.result.probe]
    b = other.result.worst().dose_Gy[other.result.probe]
    assert b == pytest.approx(a, rel=1e-12)  # same plan, same numbers
    assert not other.load(tmp_path / "missing.yaml")
    assert "⚠" in other.file_html.value


def test_save_refuses_stale(planner, tmp_path):
    planner.controls["flux_ph_s"].value = -1
    assert planner.save(tmp_path / "x.yaml") is None
    assert not (tmp_path / "x.yaml").exists()


@pytest.mark.parametrize("name", builtin_plan_names())
def test_figure_data_lengths(name):
    result = run_plan(load_plan(name))
    n_loc = len(result.locations)
    dt = figures.dose_time_data(result)
    n_lines = min(n_loc, figures.MAX_LINES)
    assert len(dt["dose_lines"]["xs"]) == len(dt["dose_lines"]["ys"]) == n_lines
    assert all(len(x) == len(dt["soc"]["x"]) for x in dt["dose_lines"]["xs"])
    assert len(dt["thresholds"]["y"]) == len(result.plan.thresholds)
    dm = figures.dose_map_data(result)
    image = dm["map_image"]["image"][0]
    assert image.ndim == 2 and np.nanmax(image) == pytest.approx(dm["map_image"]["peak"][0])
    foot = dm["map_ellipses"] if result.plan.beam.profile == "gaussian" else dm["map_rects"]
    assert len(foot["x"]) == n_loc
    st = figures.stack_data(result)
    assert len(st["stack_bars"]["key"]) == len(result.spectrum.keys) == len(st["stack_bars"]["rate"])
    en = figures.energy_data(result.plan)
    assert len(en["energy_curve"]["energy"]) == figures.ENERGY_POINTS
    assert en["energy_marker"]["energy"] == [result.plan.beam.energy_keV]


def test_energy_marker_matches_spectrum(default_result):
    """The marked dose rate is the model's mean dose rate at the beam energy (interpolated over
    the 300-point grid: 0.24 keV spacing, smooth away from edges, so 1 % is ample)."""
    en = figures.energy_data(default_result)
    row = default_result.spectrum.index(default_result.probe)
    exact = default_result.spectrum.dose_rate_Gy_per_s[row, 0]
    assert en["energy_marker"]["rate"][0] == pytest.approx(exact, rel=0.01)


def test_figures_build_and_update(default_result):
    figs = [figures.dose_time_figure(default_result), figures.dose_map_figure(default_result),
            figures.stack_figure(default_result), figures.energy_figure(default_result.plan)]
    assert all(f is not None for f in figs)
    data = figures.dose_map_data(default_result)
    data["map_image"]["peak"] = [123.0]
    figures.update_figure(figs[1], data)
    assert figs[1].select_one({"name": "dose_mapper"}).high == 123.0
    figures.mark_stale(figs[0], True)
    assert figs[0].title.text.startswith("STALE")
    figures.mark_stale(figs[0], False)
    assert figs[0].title.text == "Cumulative dose"


def test_lessons_respond_to_controls():
    from beamdesign.widgets import lessons

    beer = lessons.beer_lambert_widget()
    t27 = beer.data()["transmission"]
    beer.controls["energy_keV"].value = 15
    assert beer.data()["transmission"] < t27 and "17.6 %" in beer.readout.value
    coef = lessons.coefficient_widget("graphite")
    assert "3.2" in coef.readout.value  # µ/µen of graphite at 27 keV: Compton-dominated
    coef.controls["material"].value = "Cu"
    assert coef.data()["ratio_total_to_energy"] < 1.3  # photoabsorption-dominated
    prof = lessons.profile_widget()
    assert prof.data()["peak_ratio"] == pytest.approx(4 * np.log(2) / np.pi, rel=1e-3)
    rate = lessons.dose_rate_widget()
    one = rate.data()["final_Gy"]
    rate.controls["n_locations"].value = 5
    assert rate.data()["final_Gy"] == pytest.approx(one / 5, rel=0.01)  # 36000 s / 12 s loops
    rate.controls["exposure_s"].value = -1
    assert "⚠" in rate.readout.value and "exposure_s" in rate.readout.value


def test_exercise_checks(capsys):
    from beamdesign.widgets import exercises

    assert exercises.check_exercise_1(60, 0.05) and not exercises.check_exercise_1(27, 10)
    assert not exercises.check_exercise_1(-5, 1)  # an invalid energy is a ✗, not a traceback
    assert exercises.check_exercise_2("total-attenuation", 3.2)
    assert exercises.check_exercise_3(3.8) and not exercises.check_exercise_3(10)
    assert exercises.check_exercise_4(8e10 / 0.8825) and not exercises.check_exercise_4(8e10)
    out = capsys.readouterr().out
    assert out.count("✓") == 4 and out.count("✗") == 4


def test_render_report_button_renders_the_current_plan(planner, tmp_path, monkeypatch):
    """The button runs the real report (papermill + export) on the plan the controls describe."""
    planner.controls["plan_path"].value = str(tmp_path / "mine.yaml")
    planner.controls["energy_keV"].value = 31.0
    planner.report_button.click()
    html_path = tmp_path / "mine.html"
    assert html_path.is_file() and "mine.html" in planner.file_html.value
    text = html_path.read_text(encoding="utf-8")
    assert "bd-verdicts" in text and "energy_keV: 31.0" in text

    def broken(plan, out_html):
        raise RuntimeError("kernel died")

    monkeypatch.setattr(planner_module, "render_report", broken)
    planner.report_button.click()
    assert "kernel died" in planner.file_html.value and "⚠" in planner.file_html.value


@pytest.mark.parametrize("field, key", [
    ("beam.energy_keV", "energy_keV"), ("beam.spot_um", "spot"), ("beam.flux_ph_s", "flux_ph_s"),
    ("beam.attenuators[0].transmission", "attenuator_transmission"), ("protocol[2]", "protocol"),
    ("schedule.locations[1].exposure_s", "locations"), ("schedule.raster.nx", "raster"),
    ("schedule.move_s", "move_s"), ("probe", "probe"), ("stack", "cell"), ("weird", "general"),
])
def test_error_fields_map_to_their_control(planner, field, key):
    assert planner._message_widget(field) is planner._messages[key]
