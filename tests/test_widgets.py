"""Headless tests of the planner widget and the figure data functions: set ``.value``, assert on
what the panels show."""

from __future__ import annotations

import html
import json

import numpy as np
import pytest
import yaml

from beamdesign import widgets as widgets_package
from beamdesign.errors import InputError
from beamdesign.experiment import run_plan
from beamdesign.plan import builtin_plan_names, load_plan, plan_from_config
from beamdesign.widgets import figures
from beamdesign.widgets import state as state_module
from beamdesign.widgets.adapter import (
    config_from_values,
    layer_values,
    message_panel,
    parse_locations,
    values_from_plan,
)
from beamdesign.widgets.planner import (
    LAYER_TOOLTIPS,
    TOOLTIPS,
    Planner,
    format_number,
    human_message,
)

# the 40 × 40 raster of benchmarks/bench_planner.py
RASTER_40X40 = {
    "version": 1,
    "title": "40 × 40 raster",
    "stack": "pouch-nmc811-graphite",
    "beam": {
        "energy_keV": 27,
        "flux_ph_s": 1e11,
        "spot_um": [200, 200],
        "profile": "gaussian",
        "convention": "energy-absorption",
    },
    "protocol": ["Charge at C/2 until 100%"],
    "schedule": {
        "raster": {"pattern": "snake", "nx": 40, "ny": 40, "step_um": [250, 250]},
        "exposure_s": 10,
        "move_s": 2,
        "loop": "until-end",
        "pause_s": 0,
    },
    "probe": "NMC811 cathode",
    "thresholds": "jousseaume2023",
}


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
    assert "Compute advice" in planner.advice_html.value  # advice only on request
    assert planner.compute_advice() and planner.advice_html.value.startswith("<ul>")
    planner.controls["exposure_s"].value = 5
    assert "changed" in planner.advice_html.value  # old advice is never shown as current


def test_advice_button_runs_in_the_background_and_a_plan_change_cancels_it(planner):
    sync = planner.compute_advice()
    planner._advice_clicked()  # the button: a child process; the planner keeps answering
    assert planner.advice_button.description == "Stop advice"
    assert planner._advice_job is not None and planner._advice_job.wait(120)
    assert planner.advice_button.description == "Compute advice"
    assert planner.advice_html.value == (
        "<ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in sync) + "</ul>"
    )
    planner._advice_clicked()
    job = planner._advice_job
    planner.controls["exposure_s"].value = 4  # the plan changes: the job is stopped
    assert job is not None and job.wait(30)
    assert "changed" in planner.advice_html.value
    planner._advice_clicked()
    planner._advice_clicked()  # Stop
    assert planner._advice_job.wait(30) and "stopped" in planner.advice_html.value


def test_energy_change_reruns(planner):
    before = planner.verdict_html.value
    planner.controls["energy_keV"].value = 35
    assert planner.result.plan.beam.energy_keV == 35
    assert planner.controls["energy_slider"].value == 35
    assert planner.verdict_html.value != before
    marker = planner.figures["energy"].select_one({"name": "energy_marker"})
    assert marker.data["energy"] == [27.0]  # a hidden tab is refreshed when it is shown
    planner.figure_tabs.selected_index = 3
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
    assert "Porosity must be a number from 0 to below 1" in planner.message(field)
    assert "Porosity" in planner._rows[i].message.value  # the row's own message panel
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
    on_probe = [t for t in result.plan.thresholds if t.constituent is None]
    assert len(dt["thresholds"]["y"]) == len(on_probe)  # the plot shows the probe's dose
    # each level is where the threshold sits in the displayed convention (paper: total-attenuation)
    ratio = 1.0 if result.plan.beam.convention == "total-attenuation" else 0.9
    assert dt["thresholds"]["y"][0] <= on_probe[0].dose_Gy * ratio
    dm = figures.dose_map_data(result)
    image = dm["map_image"]["image"][0]
    assert image.ndim == 2 and np.nanmax(image) == pytest.approx(dm["map_image"]["peak"][0])
    foot = dm["map_ellipses"] if result.plan.beam.profile == "gaussian" else dm["map_rects"]
    assert len(foot["x"]) == n_loc
    st = figures.stack_data(result)
    assert (
        len(st["stack_bars"]["key"]) == len(result.spectrum.keys) == len(st["stack_bars"]["rate"])
    )
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
    figs = [
        figures.dose_time_figure(default_result),
        figures.dose_map_figure(default_result),
        figures.stack_figure(default_result),
        figures.energy_figure(default_result.plan),
    ]
    assert all(f.renderers for f in figs)  # each figure draws something
    data = figures.dose_map_data(default_result)
    data["map_image"]["peak"] = [123.0]
    assert figures.update_figure(figs[1], data) == 1  # only the image source changed
    assert figures.update_figure(figs[1], data) == 0  # same columns: nothing sent
    assert figs[1].select_one({"name": "dose_mapper"}).high == 123.0
    figures.mark_stale(figs[0], True)
    assert figs[0].title.text.startswith("STALE")
    figures.mark_stale(figs[0], False)
    assert figs[0].title.text == f"Cumulative dose of {default_result.probe}"
    assert all(default_result.probe in f.title.text for f in (figs[0], figs[1], figs[3]))
    assert any(t.renderers for t in figs[3].tools if type(t).__name__ == "HoverTool")


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

    assert exercises.check_exercise_1(60, 0.04) and not exercises.check_exercise_1(27, 10)
    # 0.05 s shows 68 kGy as displayed (energy-absorption) but is 90 kGy in the paper's metric
    assert not exercises.check_exercise_1(60, 0.05)
    assert not exercises.check_exercise_1(-5, 1)  # an invalid energy is a ✗, not a traceback
    assert exercises.check_exercise_2("total-attenuation", 3.2)
    assert exercises.check_exercise_3(3.8) and not exercises.check_exercise_3(10)
    assert exercises.check_exercise_4(8e10 / 0.8825) and not exercises.check_exercise_4(8e10)
    out = capsys.readouterr().out
    assert out.count("✓") == 4 and out.count("✗") == 5


def test_render_report_button_renders_the_current_plan(planner, tmp_path, monkeypatch):
    """The button runs the real report (papermill + export) on the plan the controls describe."""
    planner.controls["plan_path"].value = str(tmp_path / "mine.yaml")
    planner.controls["energy_keV"].value = 31.0
    planner.report_button.click()
    html_path = tmp_path / "mine.html"
    assert html_path.is_file() and "mine.html" in planner.file_html.value
    text = html_path.read_text(encoding="utf-8")
    assert "bd-verdicts" in text and "energy_keV: 31.0" in text

    def broken(plan, out_html, progress=None):
        progress("executing", 0.5)
        assert "50 %" in planner.file_html.value  # progress shown while rendering
        raise RuntimeError("kernel died")

    monkeypatch.setattr(state_module, "render_report", broken)
    planner.report_button.click()
    assert "kernel died" in planner.file_html.value and "⚠" in planner.file_html.value


@pytest.mark.parametrize(
    "field, key",
    [
        ("beam.energy_keV", "energy_keV"),
        ("beam.spot_um", "spot"),
        ("beam.flux_ph_s", "flux_ph_s"),
        ("beam.attenuators[0].transmission", "attenuator_transmission"),
        ("protocol[2]", "protocol"),
        ("schedule.locations[1].exposure_s", "locations"),
        ("schedule.raster.nx", "raster"),
        ("schedule.move_s", "move_s"),
        ("probe", "probe"),
        ("stack", "cell"),
        ("weird", "general"),
    ],
)
def test_error_fields_map_to_their_control(planner, field, key):
    assert planner._message_widget(field) is planner._messages[key]


# ---------------------------------------------------------------------- issue 10
def test_every_control_has_a_tooltip_and_a_hook(planner):
    for name, control in planner.controls.items():
        assert control.tooltip, name
        assert (
            f"bd-{name}" in control._dom_classes
            or f"bd-{name.replace('[', '-').replace('].', '-')}" in control._dom_classes
        )
    assert set(TOOLTIPS) == set(planner._static_controls)
    assert all(key in LAYER_TOOLTIPS for key in planner._rows[0].controls)


@pytest.mark.parametrize(
    "value, unit, text",
    [
        (-1e12, "ph/s", "−1 × 10¹² ph/s"),
        (27, "keV", "27 keV"),
        (0.335, "", "0.335"),
        (2.5e-5, "s", "2.5 × 10⁻⁵ s"),
        (99999.0, "", "1 × 10⁵"),
        (12345.0, "", "1.23 × 10⁴"),
        (float("nan"), "", "not a number"),
        (float("inf"), "µm", "∞ µm"),
        ("x", "", "'x'"),
    ],
)
def test_format_number(value, unit, text):
    assert format_number(value, unit) == text


def test_error_in_plain_words_next_to_its_control(planner):
    planner.controls["flux_ph_s"].value = -1e12
    assert "= −1 × 10¹² ph/s" in planner.flux_readout.value  # big numbers readable
    text = planner.message("beam.flux_ph_s")
    assert text.startswith("Flux must") and "got −1 × 10¹² ph/s" in text
    assert "beam.flux_ph_s" not in text and "1000000000000" not in text
    assert planner._messages["flux_ph_s"].value and not planner._messages["energy_keV"].value
    # figures and summary stale together, with the same sentence
    assert (
        "Stale" in planner.summary_html.value and "got −1 × 10¹² ph/s" in planner.summary_html.value
    )
    assert all(f.title.text.startswith("STALE") for f in planner.figures.values())
    error = InputError("beam.spot_um", [0, 5], "must be two numbers > 0 (µm)")
    assert human_message(error) == "Spot size must be two numbers > 0 (µm); got 0 × 5 µm."


def test_nothing_typed_crashes(planner):
    c = planner.controls
    for name, bad in [
        ("loop", "forever"),
        ("protocol", ""),
        ("locations", "x"),
        ("nx", 0),
        ("layers[0].material", "Zz9"),
        ("layers[0].thickness_um", float("nan")),
        ("energy_keV", float("inf")),
        ("layers[0].density_g_cm3", -2.0),
        ("title", ""),
        ("meta_sample", "  "),
    ]:
        c[name].value = bad
        assert planner.stale == bool(planner.errors)
        if planner.errors:  # the summary says stale whenever the figures are
            assert "Stale" in planner.summary_html.value


def test_title_notes_metadata_are_saved(planner, tmp_path):
    c = planner.controls
    c["energy_keV"].value = 30
    assert "(edited" in planner.summary_html.value  # the default's title, another plan
    c["title"].value = "LFP pouch at ID31"
    assert "(edited" not in planner.summary_html.value
    c["notes"].value = "first try"
    c["meta_beamline"].value = "ID31"
    c["meta_principal_investigator"].value = "A. Person"
    assert planner.result.plan.title == "LFP pouch at ID31"
    assert planner.result.plan.metadata == {
        "beamline": "ID31",
        "principal_investigator": "A. Person",
    }
    assert "LFP pouch at ID31" in planner.summary_html.value
    path = planner.save(tmp_path / "p.yaml")
    saved = yaml.safe_load(path.read_text())
    assert saved["title"] == "LFP pouch at ID31" and saved["notes"] == "first try"
    assert saved["metadata"]["beamline"] == "ID31"
    other = Planner(load_plan(str(path)))
    assert other.controls["meta_beamline"].value == "ID31"


def test_save_never_silently_overwrites(planner, tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("precious")
    assert planner.save(path) is None and path.read_text() == "precious"
    assert "already exists" in planner.file_html.value
    planner.controls["overwrite"].value = True
    assert planner.save(path) == path and "beam" in path.read_text()


def test_preset_and_builtin_can_be_undone(planner):
    c = planner.controls
    c["layers[0].thickness_um"].value = 33.0
    dose = planner.result.worst().dose_Gy[planner.result.probe]
    c["preset"].value = "jousseaume2023-pcd"
    assert planner.result.plan.stack.name == "jousseaume2023-pcd"
    assert "Undo" in planner._messages["general"].value and not planner.undo_button.disabled
    c["builtin"].value = "jousseaume2023-exp2-pcc"
    assert planner.undo() and planner.undo()
    assert c["layers[0].thickness_um"].value == 33.0
    assert planner.result.worst().dose_Gy[planner.result.probe] == pytest.approx(dose, rel=1e-12)
    assert planner.undo_button.disabled and not planner.undo()


def test_probe_follows_a_renamed_layer(planner):
    c = planner.controls
    i = next(i for i, row in enumerate(planner._rows) if row.name.value == c["probe"].value)
    c[f"layers[{i}].name"].value = "LFP cathode"
    assert c["probe"].value == "LFP cathode" and not planner.stale
    assert planner.result.probe.startswith("LFP cathode")
    assert "LFP cathode" in planner.figures["dose_time"].title.text


def test_density_column_works_for_a_mixture(planner):
    i = next(i for i, row in enumerate(planner._rows) if ":" in row.material.value)
    porosity = planner._rows[i].porosity.value
    before = planner.result.worst().dose_Gy[planner.result.probe]
    planner.controls[f"layers[{i}].density_g_cm3"].value = 2.0
    layer = planner.result.plan.stack.layers[i]
    solid = sum(c.volume_fraction * c.material.density_g_cm3 for c in layer.solid_constituents)
    assert solid / (1 - porosity) == pytest.approx(2.0, rel=1e-9)
    assert planner.result.worst().dose_Gy[planner.result.probe] != before


def test_reload_state_is_the_current_figure(planner):
    """A page reload asks the kernel for the widget state: it must be the figure now."""
    planner.figure_tabs.selected_index = 2  # the stack figure's title names the energy
    assert "at 27 keV" in json.dumps(planner.models["stack"].render_bundle["docs_json"])
    planner.controls["energy_keV"].value = 45
    # the trait keeps the document as created; the state sent on a reload is the current one
    assert "at 45 keV" not in json.dumps(planner.models["stack"].render_bundle["docs_json"])
    state = json.loads(planner.models["stack"].get_state()["render_bundle"])
    assert "at 45 keV" in json.dumps(state["docs_json"])


def test_map_is_limited_to_what_is_drawn():
    result = run_plan(plan_from_config(RASTER_40X40))
    image = figures.dose_map_data(result)["map_image"]["image"][0]
    assert max(image.shape) <= figures.MAP_MAX_SIDE + 2 and image.dtype == np.float32
    assert len(figures.dose_time_data(result)["soc"]["x"]) <= figures.MAX_TIME_POINTS + 1


def test_setup_notebook_is_inline_by_default(monkeypatch):
    import bokeh.io

    seen = {}
    monkeypatch.delenv("BOKEH_RESOURCES", raising=False)
    monkeypatch.setattr(bokeh.io, "output_notebook", lambda res, **kw: seen.update(mode=res.mode))
    widgets_package.setup_notebook()
    assert seen["mode"] == "inline"
    widgets_package.setup_notebook("cdn")
    assert seen["mode"] == "cdn"


@pytest.mark.parametrize("name", builtin_plan_names())
def test_adapter_round_trips_every_builtin_plan(name):
    """Plan -> control values -> plan config gives the same plan (no widget involved)."""
    plan = load_plan(name)
    view = values_from_plan(plan)
    rows = [(layer, layer_values(layer)) for layer in view.layers]
    again = plan_from_config(
        config_from_values(
            view.values, rows, view.config, view.material_attenuators, view.origin_um
        )
    )
    assert again.beam == plan.beam and again.protocol == plan.protocol
    assert again.schedule.locations == plan.schedule.locations
    assert again.stack.to_config()["layers"] == plan.stack.to_config()["layers"]
    assert (again.probe, again.thresholds, again.title) == (plan.probe, plan.thresholds, plan.title)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a, 1", r"schedule.locations\[0\] = 'a, 1': one location per line"),
        ("a, 1, 2\nb, x, 2", r"schedule.locations\[1\] = 'b, x, 2': x_um, y_um and exposure_s"),
        ("  \n", r"schedule.locations = .*: at least one line"),
    ],
)
def test_location_parser_refuses_in_one_sentence(text, message):
    with pytest.raises(InputError, match=message):
        parse_locations(text)
    assert parse_locations("a, 1, 2, 3") == [
        {"name": "a", "x_um": 1.0, "y_um": 2.0, "exposure_s": 3.0}
    ]


def test_errors_go_to_the_panel_of_their_field():
    assert message_panel("stack.layers[1].porosity", 3) == 1  # the layer row's own panel
    assert message_panel("stack.layers[7].porosity", 3) == "cell"  # no such row: the cell tab
    assert message_panel("beam.spot_um[0]", 3) == "spot"
    assert message_panel("schedule.raster.nx", 3) == "raster"
    assert message_panel("something.else", 3) == "general"
