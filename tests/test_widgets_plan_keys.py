"""Headless tests of the planner for the plan keys added with issues 11 and 13: electron sessions
(``probe_type: electron``), energy scans (``schedule.energy_scan``) and beamline profiles
(``beamline``). Set ``.value``, assert on what the panels and the plan show."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest

from beamdesign.atlas import techniques, typical_dose
from beamdesign.dose import dose_spectrum
from beamdesign.electron_session import ElectronBeam
from beamdesign.errors import InputError
from beamdesign.experiment import run_plan
from beamdesign.materials import resolve_material
from beamdesign.plan import load_plan
from beamdesign.profile import load_profile
from beamdesign.widgets import figures
from beamdesign.widgets.adapter import NO_BEAMLINE, NO_FILTER, message_panel
from beamdesign.widgets.layout import BUSY_AFTER_S, BUSY_HTML
from beamdesign.widgets.planner import Planner, format_number, human_message


@pytest.fixture()
def planner() -> Planner:
    return Planner()


@pytest.fixture(scope="module")
def default_result():
    return run_plan(load_plan("default"))


def shown(widget) -> bool:
    return widget.layout.display != "none"


def test_message_panels_of_the_new_fields():
    assert message_panel("electron.energy_keV", 0) == "electron_energy"
    assert message_panel("electron.specimen.thickness_nm", 0) == "specimen"
    assert message_panel("electron.beam.scanned.pixels[1]", 0) == "electron_beam"
    assert message_panel("electron", 0) == "electron_beam"
    assert message_panel("schedule.energy_scan.stop_keV", 3) == "energy_scan"
    assert message_panel("beamline", 3) == "beamline"
    assert message_panel("beam.convention", 3) == "convention"


# ---------------------------------------------------------------------- electron sessions
def test_an_electron_plan_shows_the_electron_panel_and_its_numbers(planner):
    planner.controls["builtin"].value = "etem-nmc811-air"
    c, parts, r = planner.controls, planner._parts, planner.result
    assert planner.errors == {} and isinstance(r.plan.beam, ElectronBeam)
    assert c["probe_type"].value == "electron" and c["beam_form"].value == "flood"
    assert (c["electron_energy_keV"].value, c["current_nA"].value) == (200, 2)
    assert c["specimen_material"].value == "NMC811" and c["specimen_thickness_nm"].value == 50
    assert shown(parts["electron_beam"]) and shown(parts["specimen"])
    assert not shown(parts["xray_beam"]) and not shown(parts["xray_cell"])
    assert parts["control_tabs"].titles[:3] == ("Beam", "Schedule", "Specimen")
    assert planner.figure_tabs.titles[:3] == ("Dose vs time", "Dose map", "Specimen")
    assert shown(c["current_nA"]) and shown(c["area_um2"]) and not shown(c["current_pA"])
    assert not shown(c["scan"])  # no photon-energy scan for electrons
    # the summary: Gy in the electron convention, and the fluence at the worst location
    summary = planner.summary_html.value
    worst = r.worst()
    fluence = r.plan.beam.fluence_rate_e_per_A2_s * worst.beam_on_s  # top-hat, one location
    assert "electron-collision" in summary and format_number(fluence, "e/Å²") in summary
    assert "cell transmission" not in summary
    # 2 nA over 1 µm²: 2e-9 / 1.602e-19 e/s over 1e8 Å² = 124.8 e/Å²/s
    assert "124.8 e/Å²/s" in planner.electron_readout.value
    planner.sync_figures()
    energy, stack = planner.figures["energy"], planner.figures["stack"]
    assert energy.xaxis[0].axis_label == "electron energy (keV)"
    assert "photon" not in energy.title.text and "electrons" in stack.title.text
    curve = planner._sources["energy"]["energy_curve"].data["energy"]
    assert curve.min() <= 200 <= curve.max() and curve.max() >= 400  # electron energies
    planner.controls["builtin"].value = "default"
    planner.sync_figures()
    assert energy.xaxis[0].axis_label == "photon energy (keV)" and shown(parts["xray_beam"])
    assert parts["control_tabs"].titles[:3] == ("Beam", "Schedule", "Cell")
    assert planner.figure_tabs.titles[2] == "Cell stack"


def test_the_seed_stem_frame_fluence_in_the_electron_readout(planner):
    planner.controls["probe_type"].value = "electron"  # from an X-ray plan: the defaults
    c = planner.controls
    assert planner.errors == {} and isinstance(planner.result.plan.beam, ElectronBeam)
    assert all(t.convention == "electron-collision" for t in planner.result.plan.thresholds)
    with planner.hold():
        c["current_pA"].value, c["dwell_us"].value, c["pixel_A"].value = 19, 10, 0.088
    c["pixels_x"].value = 1024
    # issue 13: 19 pA × 10 µs over 0.088 × 0.088 Å² gives 1.53 × 10⁵ e/Å² per frame
    assert "gives 1.53 × 10⁵ e/Å²" in planner.electron_readout.value
    c["beam_form"].value = "fluence_rate"
    assert shown(c["e_per_A2_s"]) and not shown(c["dwell_us"])
    beam = planner.result.plan.beam
    assert beam.mode == "fluence_rate" and beam.fluence_rate_e_per_A2_s == pytest.approx(100)


@pytest.mark.parametrize(
    ("control", "bad", "field", "text"),
    [
        ("current_nA", -1.0, "electron.beam.flood.current_nA", "Beam current must be a number > 0"),
        ("specimen_thickness_nm", 0.0, "electron.specimen.thickness_nm", "Specimen thickness"),
        ("electron_energy_keV", 2000.0, "electron.energy_keV", "2000 keV"),
        ("specimen_material", "Zz9", "electron.specimen.material", "'Zz9'"),
        ("specimen_density_g_cm3", -2.0, "electron.specimen.density_g_cm3", "got −2 g/cm³"),
    ],
)
def test_electron_errors_in_plain_words_next_to_their_control(planner, control, bad, field, text):
    planner.controls["builtin"].value = "etem-nmc811-air"
    planner.controls[control].value = bad
    assert planner.stale and field in planner.errors
    assert text in planner.message(field) and "electron." not in planner.message(field)
    assert "Stale" in planner.summary_html.value


def test_an_electron_plan_switched_to_x_rays_starts_from_the_default_cell(planner):
    planner.controls["builtin"].value = "zhang-aet-zr-zro2-tilt-series"
    assert planner._rows == []  # an electron plan has no X-ray cell
    planner.controls["probe_type"].value = "x-ray"
    default = load_plan("default")
    plan = planner.result.plan
    assert planner.errors == {} and plan.beam == default.beam
    assert plan.stack.to_config()["layers"] == default.stack.to_config()["layers"]
    assert plan.schedule.locations[0].name == "Zr1"  # the session's schedule is kept
    assert shown(planner._parts["xray_beam"]) and not shown(planner._parts["electron_beam"])


def test_an_electron_plan_saves_loads_and_undoes(planner, tmp_path):
    c = planner.controls
    c["builtin"].value = "zhang-idpc-stem-frames"
    c["dwell_us"].value = 5.0
    path = planner.save(tmp_path / "stem.yaml")
    assert path is not None
    again = load_plan(path)
    assert again.beam == planner.result.plan.beam and dict(again.beam.inputs)["dwell_us"] == 5
    other = Planner(str(path))
    assert (
        other.controls["dwell_us"].value == 5 and other.controls["probe_type"].value == "electron"
    )
    assert other.result.worst().dose_Gy == planner.result.worst().dose_Gy
    assert planner.undo()  # back to the default X-ray plan
    assert c["probe_type"].value == "x-ray" and shown(planner._parts["xray_beam"])
    assert not isinstance(planner.result.plan.beam, ElectronBeam)


# ---------------------------------------------------------------------- energy scans
def test_scan_toggle_replaces_the_exposure(planner):
    c, parts = planner.controls, planner._parts
    assert not shown(parts["scan"]) and shown(c["exposure_s"])
    with planner.hold():
        c["scan_start_keV"].value, c["scan_stop_keV"].value = 26.9, 27.2
        c["scan_points"].value, c["scan_dwell_s"].value = 31, 0.2
    c["scan"].value = True
    assert planner.errors == {} and shown(parts["scan"]) and not shown(c["exposure_s"])
    assert "31 points × 0.2 s (6.2 s per scan)" in planner.scan_readout.value
    assert shown(c["nx"]) and not shown(c["locations"])  # the default plan is a raster
    scan = planner.result.energy_scan
    assert (scan.start_keV, scan.stop_keV, scan.points, scan.dwell_s) == (26.9, 27.2, 31, 0.2)
    assert "exposure_s" not in planner.config()["schedule"]
    assert planner.result.locations[0].beam_on_s > 0
    c["scan_stop_keV"].value = 26.0
    assert "above start_keV = 26.9 keV" in planner.message("schedule.energy_scan.stop_keV")
    assert planner._messages["energy_scan"].value and planner.stale
    c["scan_stop_keV"].value = 27.2
    c["scan"].value = False
    assert planner.errors == {} and planner.result.energy_scan is None and shown(c["exposure_s"])


def test_a_scan_plan_loads_with_its_scan():
    planner = Planner("example-xanes-ni-k")
    c = planner.controls
    assert c["scan"].value and not shown(c["exposure_s"])
    assert (c["scan_start_keV"].value, c["scan_points"].value) == (8.233, 151)
    assert c["locations"].value.splitlines()[0] == "#1, 0, 0"  # the scan sets the exposure


def test_the_energy_figure_of_a_scan_shows_the_scan_and_its_edge():
    scan_result = run_plan(load_plan("example-xanes-ni-k"))
    data = figures.energy_data(scan_result)
    band, curve = data["scan_band"], data["energy_curve"]
    assert (band["left"], band["right"]) == ([8.233], [8.533])
    energies, rate = curve["energy"], curve["rate"]
    # the scan and a quarter of its 0.3 keV span either side
    assert energies.min() == pytest.approx(8.233 - 0.075, abs=1e-5)
    assert energies.max() == pytest.approx(8.533 + 0.075, abs=1e-5)
    # the probe (NMC811) holds Ni: its dose rate steps up at the Ni K edge (8.333 keV, xraylib),
    # by more than it rises over the 0.17 keV below the edge (the cell's slope)
    below, above = rate[energies < 8.33], rate[energies > 8.34]
    assert above.min() - below.max() > 2 * (below.max() - below.min())
    assert figures.energy_data(load_plan("default"))["scan_band"]["left"] == []


def test_scan_figures_use_the_scan_mean_and_the_reference_energy(default_result):
    # without a scan: the same numbers as the spectrum's first column
    r = default_result
    row = r.spectrum.index(r.probe)
    assert r.probe_peak_rate_Gy_per_s == float(r.spectrum.peak_dose_rate_Gy_per_s[row, 0])
    rates = figures.stack_data(r)["stack_bars"]["rate_text"]
    assert rates[row] == figures.si(float(r.spectrum.dose_rate_Gy_per_s[row, 0]), "Gy/s")
    # with a scan: the stack view at the reference energy, threshold levels at the scan mean
    scan = run_plan(load_plan("example-xanes-ni-k"))
    reference = dose_spectrum(scan.plan.stack, scan.plan.beam)
    bars = figures.stack_data(scan)["stack_bars"]
    i = list(bars["key"]).index(scan.probe)
    assert bars["rate_text"][i] == figures.si(float(reference.dose_rate_Gy_per_s[i, 0]), "Gy/s")
    levels = figures.probe_threshold_levels(scan)
    for th, level in levels.items():
        rate = float(scan.metric_rates_Gy_per_s[(th.convention, th.where)][i])
        assert level == pytest.approx(th.dose_Gy * scan.probe_peak_rate_Gy_per_s / rate)
    mean = float(np.mean(scan.spectrum.peak_dose_rate_Gy_per_s[i]))
    assert scan.probe_peak_rate_Gy_per_s == pytest.approx(mean, rel=1e-12)


# ---------------------------------------------------------------------- beamline profiles
def test_choosing_a_beamline_takes_its_flux_shape_and_spot(planner):
    c, parts = planner.controls, planner._parts
    assert c["beamline"].value == NO_BEAMLINE and not shown(parts["beamline"])
    c["beamline"].value = "example-high-energy-xrd"
    profile = load_profile("example-high-energy-xrd")
    plan = planner.result.plan
    assert planner.errors == {} and plan.beamline is not None
    assert plan.beam.flux_ph_s == pytest.approx(profile.flux_ph_s(27))
    assert plan.beam.profile == "tophat" and tuple(plan.beam.spot_um) in profile.spots_um
    assert c["flux_ph_s"].disabled and shown(parts["beamline"])
    assert c["flux_ph_s"].value == plan.beam.flux_ph_s  # the greyed-out flux is the one used
    readout = planner.beamline_readout.value
    assert "from its table" in readout and format_number(profile.flux_ph_s(27), "ph/s") in readout
    assert "example values" in readout
    assert list(c["beamline_filter"].options) == [
        NO_FILTER,
        "Al-1mm",
        "Al-2mm",
        "Cu-0.5mm",
        "Cu-1mm",
    ]
    dose = planner.result.worst().dose_Gy[planner.result.probe]
    c["beamline_filter"].value = "Cu-0.5mm"
    assert planner.errors == {}
    assert planner.result.worst().dose_Gy[planner.result.probe] < dose  # a real filter
    assert planner.undo()  # the beamline choice is undoable
    assert c["beamline"].value == NO_BEAMLINE and planner.result.plan.beamline is None


def test_a_typed_flux_above_the_table_is_refused_next_to_the_flux(planner):
    c = planner.controls
    c["beamline"].value = "example-high-energy-xrd"
    c["flux_from_beamline"].value = False
    assert not c["flux_ph_s"].disabled
    c["flux_ph_s"].value = 1e13
    assert "at most" in planner.message("beam.flux_ph_s") and planner.stale
    c["flux_ph_s"].value = 1e11
    assert planner.errors == {} and planner.result.plan.beam.flux_ph_s == 1e11
    assert "typed; its table gives" in planner.beamline_readout.value
    c["energy_keV"].value = 150  # outside the flux table
    assert "from 20 to 110 keV" in planner.message("beam.energy_keV")


def test_a_beamline_plan_saves_and_loads(planner, tmp_path):
    c = planner.controls
    c["beamline"].value = "example-high-energy-xrd"
    c["beamline_filter"].value = "Al-1mm"
    path = planner.save(tmp_path / "bl.yaml")
    assert path is not None and "beamline: example-high-energy-xrd" in path.read_text()
    other = Planner(str(path))
    assert other.controls["beamline"].value == "example-high-energy-xrd"
    assert other.controls["beamline_filter"].value == "Al-1mm"
    assert other.controls["flux_from_beamline"].value and other.controls["flux_ph_s"].disabled
    assert other.result.plan.beam == planner.result.plan.beam


def test_human_message_of_a_scan_field():
    error = InputError("schedule.energy_scan.points", 1, "a number from 2 to 10000 points")
    assert human_message(error) == "Scan points must be a number from 2 to 10000 points; got 1."


def test_the_atlas_tab_shows_the_sortable_atlas_for_the_probed_material():
    planner = Planner("jousseaume2023-exp2-pcc")
    tabs, panel = planner.figure_tabs, planner.atlas_panel
    assert panel.table.value == ""  # made when first shown
    tabs.selected_index = list(tabs.titles).index("Atlas")
    nmc = resolve_material("NMC811", "material")
    stem = f"{typical_dose('STEM', nmc).dose_Gy:.1e}"
    assert stem in panel.table.value and "NMC811" in panel.note.value
    assert "Chen, Leung" in panel.note.value

    def first_column() -> list[str]:
        return re.findall(r"<tr><td>([^<]*)</td>", panel.table.value)

    assert first_column() == sorted(t.technique for t in techniques())
    panel.sort.value = "spatial_resolution_best_m"  # finest first; not given: last
    finest = sorted(
        (t for t in techniques() if t.spatial_resolution_best_m is not None),
        key=lambda t: t.spatial_resolution_best_m,
    )
    assert first_column()[: len(finest)] == [t.technique for t in finest]
    panel.descending.value = True
    assert first_column()[: len(finest)] == [t.technique for t in reversed(finest)]
    planner.controls["probe"].value = "graphite anode"  # another material: refreshed when shown
    tabs.selected_index = 0
    tabs.selected_index = list(tabs.titles).index("Atlas")
    graphite = resolve_material("graphite", "material")
    assert f"{typical_dose('STEM', graphite).dose_Gy:.1e}" in panel.table.value


def test_busy_shows_only_when_an_update_takes_longer_than_its_delay(monkeypatch):
    planner = Planner()
    seen: list[str] = []
    planner.busy.observe(lambda change: seen.append(change["new"]), names="value")
    planner.controls["energy_keV"].value = 30  # fast: no busy message at all
    assert seen == []
    run = planner._run

    def slow() -> bool:
        time.sleep(BUSY_AFTER_S + 0.3)
        return run()

    monkeypatch.setattr(planner, "_run", slow)
    planner.controls["energy_keV"].value = 31
    assert seen == [BUSY_HTML, ""] and planner.busy.value == ""
