"""Bokeh figures of an experiment result, shared by the planner widget and the report.

Each figure has a pure ``*_data`` function returning ``{source name: {column: values}}`` plus a
``"meta"`` entry (title, axis label); the figure builder creates one named ``ColumnDataSource``
per source, and :func:`update_figure` replaces the ``.data`` of the sources whose columns changed
(what a live widget does on every change). Only what is drawn is sent: timelines are thinned to
about one point per screen pixel, the map to at most ``MAP_MAX_SIDE`` pixels a side, arrays go as
float32. No physics here: only arrays read from the result (or, for the energy figure, one
``dose_spectrum`` call). All reading of result fields for figures happens in the ``*_data``
functions and in the two text panels (:func:`summary_html`, :func:`verdict_table`), so an
engine change is adapted in one place.
"""

from __future__ import annotations

import html
from typing import Any, cast

import numpy as np
from bokeh.models import (
    Axis,
    ColumnDataSource,
    FactorRange,
    HoverTool,
    LinearAxis,
    LinearColorMapper,
    LinearScale,
    Range1d,
)
from bokeh.models.annotations import ColorBar, Title
from bokeh.models.renderers import DataRenderer
from bokeh.palettes import Category10_10, Viridis256
from bokeh.plotting import figure
from numpy.typing import ArrayLike, NDArray

from beamdesign.dose import dose_spectrum
from beamdesign.electron_session import ElectronBeam
from beamdesign.experiment import ExperimentResult
from beamdesign.plan import Plan, probe_key
from beamdesign.thresholds import Threshold
from beamdesign.units import duration, si

from .messages import format_number

#: verdict table rows shown (worst locations first)
MAX_TABLE_ROWS = 12
#: energies of the energy figure (keV)
ENERGY_RANGE_KEV = (8.0, 80.0)
ENERGY_POINTS = 300
#: an energy scan's figure spans the scan and this fraction of its span on either side
SCAN_MARGIN = 0.25
#: electron energies of the energy figure (keV): TEM/STEM accelerating voltages are 60–300 kV
ELECTRON_RANGE_KEV = (60.0, 400.0)
#: at most this many dose-vs-time lines (the rest of the locations are shown as a min-max band)
MAX_LINES = 8
#: timeline points drawn per line (about one per two horizontal pixels of the plot: the canvas
#: repaint, in software in a headless or remote browser, grows with the points drawn)
MAX_TIME_POINTS = 200
#: at most this many map pixels along x or along y (the map is sent to the browser)
MAP_MAX_SIDE = 160
WIDTH, HEIGHT = 560, 340
STALE_FILL = "#d9d9d9"


def _log_safe(values: ArrayLike, floor: float) -> NDArray[np.float32]:
    """Values for a log axis: zeros and negatives become NaN (not drawn)."""
    out: NDArray[np.float64] = np.asarray(values, dtype=float).copy()
    out[~(out > floor)] = np.nan
    return out.astype(np.float32)


def _f32(values: ArrayLike) -> NDArray[np.float32]:
    """Float32 for the browser: half the bytes, ~7 significant digits (plots show 3)."""
    return np.asarray(values, dtype=float).astype(np.float32)


def _meta(title: str, y_label: str = "") -> dict[str, list[str]]:
    return {"title": [title], "y_label": [y_label]}


# --------------------------------------------------------------------------- dose vs time
def probe_threshold_levels(result: ExperimentResult) -> dict[Threshold, float]:
    """{threshold on the probe: its level (Gy) in the displayed convention, column mean}.

    A threshold is defined in its own metric; on a plot of the displayed dose it sits at
    ``dose_Gy × (displayed rate / rate in its metric)`` (doses are linear in the same fluence).
    """
    plan, spectrum = result.plan, result.spectrum
    row = spectrum.index(result.probe)
    shown_rate = result.probe_peak_rate_Gy_per_s  # with an energy scan: its mean over the points
    out = {}
    checked = {c.threshold for c in result.locations[0].crossings} if result.locations else set()
    for th in plan.thresholds:
        if th.constituent is not None or th not in checked:
            continue
        rate = float(result.metric_rates_Gy_per_s[(th.convention, th.where)][row])
        out[th] = th.dose_Gy * shown_rate / rate if rate > 0 else th.dose_Gy
    return out


def dose_time_data(result: ExperimentResult) -> dict[str, dict[str, Any]]:
    """Cumulative probed dose (Gy) vs time (h) at up to MAX_LINES locations, SOC (%),
    threshold levels and crossings."""
    t = result.time_s
    stride = max(1, int(np.ceil(t.size / MAX_TIME_POINTS)))
    idx = np.unique(np.r_[np.arange(0, t.size, stride), t.size - 1])
    hours = _f32(t[idx] / 3600.0)
    rows = result.timeline_index  # locations with a timeline row (the hottest on big rasters)
    doses = result.probe_dose_Gy[:, idx]
    final = result.probe_dose_Gy[:, -1]
    n_rows = rows.size
    order = np.argsort(final)[::-1]
    if n_rows <= MAX_LINES:  # every location, worst first (as the legend and hover read)
        shown = [int(i) for i in order]
    else:  # worst first, then evenly spaced ranks down to the least exposed
        shown = sorted(
            {int(order[round(k)]) for k in np.linspace(0, n_rows - 1, MAX_LINES)},
            key=lambda i: -final[i],
        )
    probe = result.probe
    # each threshold on the probe, drawn at the dose it means in the displayed convention
    shown_levels = probe_threshold_levels(result)
    levels_Gy = list(shown_levels.values()) or [float(final.max(initial=0.0))]
    floor = 0.01 * min(min(levels_Gy), float(final.max(initial=0.0)) or 1.0) or 1e-3
    lines = {
        "xs": [hours for _ in shown],
        "ys": [_log_safe(doses[i], floor) for i in shown],
        "name": [result.locations[int(rows[i])].name for i in shown],
        "final": [si(final[i], "Gy") for i in shown],
        "color": [Category10_10[k % 10] for k in range(len(shown))],
    }
    if n_rows > MAX_LINES:
        band: dict[str, Any] = {
            "x": hours,
            "lo": _f32(np.maximum(doses.min(axis=0), floor)),
            "hi": _f32(doses.max(axis=0)),
        }
    else:
        band = {"x": [], "lo": [], "hi": []}
    soc = {"x": hours, "soc": _f32(result.soc[idx] * 100.0)}
    t_end = float(hours[-1]) if hours.size else 1.0
    names, levels = [], []
    for th, level in shown_levels.items():
        same = th.convention == result.plan.beam.convention and th.where == "column-mean"
        names.append(th.name + ("" if same else f" = {si(level, 'Gy')} as shown"))
        levels.append(level)
    thresholds = {
        "x0": [0.0] * len(levels),
        "x1": [t_end] * len(levels),
        "y": levels,
        "label": names,
        "label_x": [t_end * 0.01] * len(levels),
    }
    cx, cy, clabel = [], [], []
    for loc in result.locations:
        for c in loc.crossings:
            if c.time_s is not None and c.threshold in shown_levels:
                cx.append(c.time_s / 3600.0)
                cy.append(shown_levels[c.threshold])
                soc_text = "" if c.soc is None else f", SOC {100 * c.soc:.3g} %"
                clabel.append(
                    f"{loc.name}: {c.threshold.name} at {c.time_s / 3600:.3g} h{soc_text}"
                )
    crossings = {"x": cx, "y": cy, "label": clabel}
    return {
        "dose_lines": lines,
        "dose_band": band,
        "soc": soc,
        "thresholds": thresholds,
        "crossings": crossings,
        "meta": _meta(f"Cumulative dose of {probe}", f"dose of {probe} (Gy)"),
    }


def dose_time_figure(result: ExperimentResult) -> figure:
    """Cumulative dose of the probed constituent vs time, SOC on a second axis."""
    data = dose_time_data(result)
    src = _sources(data)
    fig = figure(
        width=WIDTH,
        height=HEIGHT,
        y_axis_type="log",
        x_axis_label="time (h)",
        y_axis_label=data["meta"]["y_label"][0],
        title=data["meta"]["title"][0],
        tools="pan,wheel_zoom,box_zoom,reset,save",
        name="dose_time",
    )
    fig.varea("x", "lo", "hi", source=src["dose_band"], fill_alpha=0.2, fill_color="grey")
    levels = fig.segment(
        "x0",
        "y",
        "x1",
        "y",
        source=src["thresholds"],
        line_dash="dashed",
        line_color="firebrick",
        line_alpha=0.6,
    )
    fig.text(
        "label_x",
        "y",
        "label",
        source=src["thresholds"],
        text_font_size="8pt",
        text_color="firebrick",
        text_baseline="bottom",
    )
    lines = fig.multi_line(
        "xs", "ys", source=src["dose_lines"], line_color="color", line_width=2, legend_field="name"
    )
    fig.scatter("x", "y", source=src["crossings"], marker="x", size=10, line_width=2, color="black")
    fig.extra_y_ranges = {"soc": Range1d(start=0, end=100)}
    fig.extra_y_scales = {"soc": LinearScale()}  # the main y axis is log
    fig.add_layout(LinearAxis(y_range_name="soc", axis_label="SOC (%)"), "right")
    fig.line(
        "x",
        "soc",
        source=src["soc"],
        y_range_name="soc",
        line_color="grey",
        line_dash="dotted",
        line_width=2,
    )
    # not the SOC line of the second axis; figure's default y range is a DataRange1d
    fig.y_range.renderers = [lines, levels]  # type: ignore[attr-defined]
    fig.add_tools(
        HoverTool(renderers=[lines], tooltips=[("location", "@name"), ("final dose", "@final")])
    )
    fig.legend.location = "bottom_right"
    fig.legend.label_text_font_size = "8pt"
    return fig


# --------------------------------------------------------------------------- dose map
def dose_map_data(result: ExperimentResult) -> dict[str, dict[str, Any]]:
    """Final probed dose (Gy) over the measured area, beam footprints and the peak."""
    beam = result.plan.beam
    xy = result.plan.schedule.xy_um
    # the engine's default pitch (spot / 8), coarsened so the map stays <= MAP_MAX_SIDE a side
    # (the margin is about one spot on each side)
    extent_um = float(np.max(np.ptp(xy, axis=0))) + 3 * max(beam.spot_um)
    dmap = result.dose_map(
        resolution_um=max(min(beam.spot_um) / 8.0, 1.0, extent_um / MAP_MAX_SIDE)
    )
    x, y = dmap.x_um, dmap.y_um
    res = dmap.resolution_um
    image = {
        "image": [_f32(dmap.values)],
        "x": [float(x[0]) - res / 2],
        "y": [float(y[0]) - res / 2],
        "dw": [float(x[-1] - x[0]) + res],
        "dh": [float(y[-1] - y[0]) + res],
        "peak": [float(dmap.peak_value)],
    }
    w, h = beam.spot_um
    foot = {
        "x": _f32(xy[:, 0]),
        "y": _f32(xy[:, 1]),
        "w": _f32(np.full(len(xy), w)),
        "h": _f32(np.full(len(xy), h)),
        "name": [loc.name for loc in result.locations],
        "dose": [si(loc.dose_Gy[result.probe], "Gy") for loc in result.locations],
    }
    empty: dict[str, list[Any]] = {k: [] for k in foot}
    peak = {
        "x": [dmap.peak_xy_um[0]],
        "y": [dmap.peak_xy_um[1]],
        "label": [f"peak {si(dmap.peak_value, 'Gy')}"],
    }
    return {
        "map_image": image,
        "map_ellipses": foot if beam.profile == "gaussian" else empty,
        "map_rects": foot if beam.profile != "gaussian" else empty,
        "map_peak": peak,
        "meta": _meta(f"Final dose of {result.probe}"),
    }


def dose_map_figure(result: ExperimentResult) -> figure:
    """2-D map of the final probed dose with beam footprints (FWHM ellipses or top-hat rects)."""
    data = dose_map_data(result)
    src = _sources(data)
    fig = figure(
        width=WIDTH,
        height=HEIGHT,
        match_aspect=True,
        x_axis_label="x (µm)",
        y_axis_label="y (µm)",
        title=data["meta"]["title"][0],
        tools="pan,wheel_zoom,box_zoom,reset,save",
        name="dose_map",
    )
    mapper = LinearColorMapper(
        palette=Viridis256,
        low=0.0,
        high=max(data["map_image"]["peak"][0], 1e-30),
        name="dose_mapper",
    )
    fig.image("image", "x", "y", "dw", "dh", source=src["map_image"], color_mapper=mapper)
    fig.add_layout(ColorBar(color_mapper=mapper, title="dose (Gy)", width=10), "right")
    feet: list[DataRenderer] = [
        fig.ellipse(
            "x",
            "y",
            "w",
            "h",
            source=src["map_ellipses"],
            fill_alpha=0,
            line_color="white",
            line_alpha=0.7,
        ),
        fig.rect(
            "x",
            "y",
            "w",
            "h",
            source=src["map_rects"],
            fill_alpha=0,
            line_color="white",
            line_alpha=0.7,
        ),
    ]
    fig.scatter(
        "x", "y", source=src["map_peak"], marker="cross", size=14, color="red", line_width=2
    )
    fig.text(
        "x",
        "y",
        "label",
        source=src["map_peak"],
        text_color="red",
        text_font_size="9pt",
        x_offset=8,
        y_offset=-4,
    )
    fig.add_tools(HoverTool(renderers=feet, tooltips=[("location", "@name"), ("dose", "@dose")]))
    return fig


# --------------------------------------------------------------------------- stack
def stack_data(result: ExperimentResult) -> dict[str, dict[str, Any]]:
    """Mean dose rate (Gy/s) of every constituent at the beam energy, and the fraction of the
    beam reaching its layer, at the beam energy (an energy scan's reference energy)."""
    spec = result.reference_spectrum
    keys = list(spec.keys)
    rate = spec.dose_rate_Gy_per_s[:, 0]
    reach = spec.incident_fraction[spec.layer_index, 0]
    positive = rate[rate > 0]
    bottom = float(positive.min()) / 10 if positive.size else 1e-3
    color = ["#d62728" if k == result.probe else "#1f77b4" for k in keys]
    if isinstance(spec.beam, ElectronBeam):
        title = (
            f"Dose rate in the specimen, {spec.beam.energy_keV:g} keV electrons "
            "(collision stopping power)"
        )
    else:
        scan = " (the scan's reference energy)" if result.energy_scan is not None else ""
        title = (
            f"Dose rate per constituent at {spec.beam.energy_keV:g} keV{scan} "
            f"(cell transmits {100 * spec.transmission[0]:.3g} %)"
        )
    return {
        "stack_bars": {
            "key": keys,
            "rate": np.maximum(rate, bottom),
            "bottom": [bottom] * len(keys),
            "reach": reach,
            "color": color,
            "rate_text": [si(r, "Gy/s") for r in rate],
        },
        "stack_meta": {"transmission": [float(spec.transmission[0])], "title": [title]},
        "meta": _meta(title),
    }


def stack_figure(result: ExperimentResult) -> figure:
    """Bar chart (log y) of the mean dose rate per layer/constituent, with the beam fraction
    reaching each layer on a second axis."""
    data = stack_data(result)
    src = _sources(data)
    fig = figure(
        width=WIDTH,
        height=HEIGHT + 120,
        x_range=FactorRange(*data["stack_bars"]["key"]),
        y_axis_type="log",
        y_axis_label="mean dose rate (Gy/s)",
        title=data["stack_meta"]["title"][0],
        tools="pan,wheel_zoom,reset,save",
        name="stack",
    )
    bars = fig.vbar(
        x="key",
        top="rate",
        bottom="bottom",
        width=0.8,
        source=src["stack_bars"],
        fill_color="color",
        line_color=None,
    )
    fig.extra_y_ranges = {"reach": Range1d(start=0, end=1.05)}
    fig.extra_y_scales = {"reach": LinearScale()}  # the main y axis is log
    fig.add_layout(
        LinearAxis(y_range_name="reach", axis_label="beam fraction reaching layer"), "right"
    )
    fig.line("key", "reach", source=src["stack_bars"], y_range_name="reach", color="black")
    fig.scatter("key", "reach", source=src["stack_bars"], y_range_name="reach", color="black")
    fig.y_range.renderers = [bars]  # type: ignore[attr-defined]  # a DataRange1d
    fig.xaxis.major_label_orientation = 1.1
    fig.xaxis.major_label_text_font_size = "7pt"
    fig.add_tools(
        HoverTool(
            renderers=[bars],
            tooltips=[
                ("constituent", "@key"),
                ("dose rate", "@rate_text"),
                ("beam reaching", "@reach{0.000}"),
            ],
        )
    )
    return fig


# --------------------------------------------------------------------------- energy
def _plan_and_probe(plan_or_result: Plan | ExperimentResult) -> tuple[Plan, str | None]:
    if isinstance(plan_or_result, ExperimentResult):
        return plan_or_result.plan, plan_or_result.probe
    return plan_or_result, probe_key(plan_or_result)


def energy_data(plan_or_result: Plan | ExperimentResult) -> dict[str, dict[str, Any]]:
    """Mean dose rate (Gy/s) of the probed constituent and the cell transmission vs energy
    (ENERGY_POINTS energies, one ``dose_spectrum`` call), with the beam energy marked."""
    plan, probe = _plan_and_probe(plan_or_result)
    e_now = float(plan.beam.energy_keV)
    electron = isinstance(plan.beam, ElectronBeam)
    low, high = ELECTRON_RANGE_KEV if electron else ENERGY_RANGE_KEV
    scan = plan.schedule.energy_scan
    if scan is not None:  # the scan and a quarter of its span either side: its edge shows
        margin = SCAN_MARGIN * (scan.stop_keV - scan.start_keV)
        low, high = max(scan.start_keV - margin, 1.0), scan.stop_keV + margin
    energies = np.linspace(min(low, e_now), max(high, e_now), ENERGY_POINTS)
    spec = dose_spectrum(plan.stack, plan.beam, energies)
    if probe is None:  # the constituent with the highest dose rate at the beam energy
        i_now = int(np.argmin(np.abs(energies - e_now)))
        row = int(np.argmax(spec.dose_rate_Gy_per_s[:, i_now]))
        probe = spec.keys[row]
    else:
        row = spec.index(probe)
    rate = spec.dose_rate_Gy_per_s[row]
    rate_now = float(np.interp(e_now, energies, rate))
    t_now = float(np.interp(e_now, energies, spec.transmission))
    y0 = float(np.nanmin(rate[rate > 0])) if np.any(rate > 0) else 1e-3
    y1 = float(np.nanmax(rate)) if np.any(rate > 0) else 1.0
    band = (
        {"left": [], "right": [], "bottom": [], "top": []}
        if scan is None
        else {"left": [scan.start_keV], "right": [scan.stop_keV], "bottom": [y0], "top": [y1]}
    )
    return {
        "scan_band": band,
        "energy_curve": {
            "energy": _f32(energies),
            "rate": _log_safe(rate, 0.0),
            "transmission": _f32(spec.transmission),
            "rate_text": [si(r, "Gy/s") for r in rate],
        },
        "energy_marker": {
            "energy": [e_now],
            "rate": [rate_now],
            "transmission": [t_now],
            "y0": [y0],
            "y1": [y1],
            "label": [
                f"{e_now:g} keV: {si(rate_now, 'Gy/s')}"
                + ("" if electron else f", T = {100 * t_now:.3g} %")
            ],
            "rate_text": [si(rate_now, "Gy/s")],
            "probe": [probe],
        },
        "meta": {
            **_meta(
                f"Dose rate of {probe} vs {'electron' if electron else 'photon'} energy"
                + ("" if scan is None else " (energy scan shaded)"),
                f"mean dose rate of {probe} (Gy/s)",
            ),
            "x_label": ["electron energy (keV)" if electron else "photon energy (keV)"],
            "right_label": [
                "share of electrons crossing the specimen" if electron else "cell transmission"
            ],
        },
    }


def energy_figure(plan_or_result: Plan | ExperimentResult) -> figure:
    """Dose rate of the probed constituent (log) and whole-cell transmission vs energy."""
    data = energy_data(plan_or_result)
    src = _sources(data)
    fig = figure(
        width=WIDTH,
        height=HEIGHT,
        y_axis_type="log",
        x_axis_label=data["meta"]["x_label"][0],
        y_axis_label=data["meta"]["y_label"][0],
        title=data["meta"]["title"][0],
        tools="pan,wheel_zoom,box_zoom,reset,save",
        name="energy",
    )
    curve = fig.line(
        "energy", "rate", source=src["energy_curve"], line_width=2, legend_label="dose rate"
    )
    fig.y_range.renderers = [curve]  # type: ignore[attr-defined]  # a DataRange1d
    fig.extra_y_ranges = {"transmission": Range1d(start=0, end=1.05)}
    fig.extra_y_scales = {"transmission": LinearScale()}  # the main y axis is log
    right = LinearAxis(y_range_name="transmission", axis_label=data["meta"]["right_label"][0])
    fig.add_layout(right, "right")
    fig.line(
        "energy",
        "transmission",
        source=src["energy_curve"],
        y_range_name="transmission",
        line_color="darkorange",
        line_width=2,
        line_dash="dashed",
        legend_label="transmission",
    )
    fig.quad(
        left="left",
        right="right",
        bottom="bottom",
        top="top",
        source=src["scan_band"],
        fill_color="#2ca02c",
        fill_alpha=0.15,
        line_color=None,
        legend_label="energy scan",
    )
    fig.segment("energy", "y0", "energy", "y1", source=src["energy_marker"], line_color="red")
    marker = fig.scatter("energy", "rate", source=src["energy_marker"], size=9, color="red")
    fig.text(
        "energy",
        "rate",
        "label",
        source=src["energy_marker"],
        text_font_size="8pt",
        x_offset=6,
        text_color="red",
    )
    fig.legend.location = "top_right"
    fig.legend.label_text_font_size = "8pt"
    fig.add_tools(
        HoverTool(
            renderers=[curve, marker],
            mode="vline",
            tooltips=[
                ("energy", "@energy{0.0} keV"),
                ("dose rate", "@rate_text"),
                ("cell transmission", "@transmission{0.0%}"),
            ],
        )
    )
    return fig


# --------------------------------------------------------------------------- text panels
DOSE_TIP = (
    "dose at the hottest point of the location's footprint, mean over the layer's "
    "thickness, in the plan's convention"
)
LOCAL_RATE_TIP = "highest instantaneous dose rate at the location's hottest point"
AVERAGED_RATE_TIP = (
    "dose received at the hottest point between the start of the location's "
    "first exposure and the end of its last, divided by that time (beam-off "
    "time between visits included)"
)


def summary_html(result: ExperimentResult, edited: bool = False) -> str:
    """The verdict above the figures (the ``bd-summary`` panel); ``edited`` notes that the plan
    no longer is the one its (unchanged) title describes."""
    worst = result.worst()
    note = (
        " <i style='color:#777'>(edited — give it a new title in the Plan tab)</i>"
        if edited
        else ""
    )
    warnings = "".join(
        f"<br><span style='color:#8a6d00'>⚠ {html.escape(str(text))}</span>"
        for text in getattr(result, "warnings", ()) or ()
    )
    convention = result.plan.beam.convention
    on_probe = [c for c in worst.crossings if c.constituent == result.probe]
    other = [c for c in on_probe if (c.convention, c.where) != (convention, "column-mean")]
    metric = (
        f" = <b>{si(other[0].final_dose_Gy, 'Gy')}</b> in the metric of its thresholds "
        f"({html.escape(other[0].convention)}, {html.escape(other[0].where)})"
        if other
        else ""
    )
    caveat = next((c.caveat for c in on_probe if c.caveat), "")
    beam = result.plan.beam
    if isinstance(beam, ElectronBeam):  # the microscopist's number: the fluence at that point
        fluence = beam.fluence_rate_e_per_A2_s * float(
            result.fluence_s[result.locations.index(worst)]
        )
        tail = (
            f"; electron dose (collision stopping power, mean over the specimen's thickness) "
            f"after {format_number(fluence, 'e/Å²')}"
        )
    else:
        reference = result.reference_spectrum  # a scan's reference energy
        tail = f"; cell transmission {100 * float(reference.transmission[0]):.3g} %"
    caveat_html = (
        f"<br><span style='color:#8a6d00'>⚠ {html.escape(caveat)}</span>" if caveat else ""
    )
    return (
        f"<div><b>{html.escape(result.plan.title)}</b>{note}<br>"
        f"<b>{html.escape(result.probe)}</b>: worst location "
        f"<b>{html.escape(worst.name)}</b> receives "
        f"<b class='bd-dose'>{si(worst.dose_Gy[result.probe], 'Gy')}</b> "
        f"({html.escape(convention)}, at its hottest point){metric} over "
        f"{duration(float(result.time_s[-1]))}{tail} — "
        f"{html.escape(worst.verdict)}{caveat_html}{warnings}</div>"
    )


def verdict_table(result: ExperimentResult) -> str:
    """HTML table of the worst locations: dose, dose rates, first crossing, verdict."""
    probe = result.probe
    rows = sorted(result.locations, key=lambda loc: -loc.dose_Gy[probe])[:MAX_TABLE_ROWS]
    head = (
        "<tr><th>location</th><th>scans</th><th>beam on</th>"
        f"<th title='{DOSE_TIP}'>dose</th>"
        f"<th title='{LOCAL_RATE_TIP}'>local rate</th>"
        f"<th title='{AVERAGED_RATE_TIP}'>averaged rate</th>"
        "<th title='each threshold is compared with the dose in the metric it was measured "
        "in'>first threshold crossed</th><th>verdict</th></tr>"
    )
    body = []
    for loc in rows:
        crossed = [c for c in loc.crossings if c.time_s is not None]
        first = min(crossed, key=lambda c: c.time_s or 0.0) if crossed else None  # all timed
        first_text = (
            "none"
            if first is None
            else f"{html.escape(first.threshold.name)} at {duration(first.time_s or 0.0)}"
            + ("" if first.soc is None else f" (SOC {100 * first.soc:.3g} %)")
        )
        body.append(
            f"<tr><td>{html.escape(loc.name)}</td><td>{loc.scans}</td>"
            f"<td>{duration(loc.beam_on_s)}</td><td>{si(loc.dose_Gy[probe], 'Gy')}</td>"
            f"<td>{si(loc.local_dose_rate_Gy_per_s, 'Gy/s')}</td>"
            f"<td>{si(float(loc.averaged_dose_rate_Gy_per_s), 'Gy/s')}</td>"
            f"<td>{first_text}</td><td>{html.escape(loc.verdict)}</td></tr>"
        )
    more = len(result.locations) - len(rows)
    note = f"<p><small>{more} more locations not shown.</small></p>" if more > 0 else ""
    return (
        f"<table class='bd-verdict' border='1' style='border-collapse:collapse'>"
        f"{head}{''.join(body)}</table>{note}"
    )


# --------------------------------------------------------------------------- updates
def _sources(data: dict[str, dict[str, Any]]) -> dict[str, ColumnDataSource]:
    return {k: ColumnDataSource(v, name=k) for k, v in data.items() if k != "meta"}


def figure_sources(fig: figure) -> dict[str, ColumnDataSource]:
    """The figure's named data sources (look them up once and keep them: walking the bokeh
    document on every change costs tens of ms)."""
    sources = fig.select({"type": ColumnDataSource})
    return {s.name: s for s in sources if isinstance(s, ColumnDataSource) and s.name}


def _same(a: object, b: object) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return (
            a.shape == b.shape
            and a.dtype == b.dtype
            and bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))
        )
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b) if type(a) is type(b) else False


def _send_changes(source: ColumnDataSource, columns: dict[str, Any]) -> bool:
    """Bring ``source`` to ``columns``, each column compared once; True when something was sent.
    When the keys and lengths stay, only the columns that changed go (one ColumnDataChanged
    event naming them: an energy change redraws the doses, not the time axis)."""
    old = source.data
    if set(old) != set(columns) or any(len(old[k]) != len(v) for k, v in columns.items()):
        source.data = dict(columns)
        return True
    changed = {k: v for k, v in columns.items() if not _same(old[k], v)}
    if changed:
        source.data.update(changed)
    return bool(changed)


def update_figure(
    fig: figure, data: dict[str, dict[str, Any]], sources: dict[str, ColumnDataSource] | None = None
) -> int:
    """Replace the data of ``fig``'s named sources whose columns changed (and what depends on
    them: colour range, categorical factors, title, axis label). Pass ``sources`` (from
    :func:`figure_sources`) to skip the document walk. Returns the number of sources sent."""
    sources = figure_sources(fig) if sources is None else sources
    sent = 0
    for name, columns in data.items():
        source = sources.get(name)
        if source is not None and _send_changes(source, columns):
            sent += 1
    if "map_image" in data:
        bars = [r for r in fig.right if isinstance(r, ColorBar)]  # no document walk
        high = max(float(data["map_image"]["peak"][0]), 1e-30)
        if bars:
            mapper = cast(LinearColorMapper, bars[0].color_mapper)  # the map's colour mapper
            if mapper.high != high:
                mapper.high = high
    if "stack_bars" in data and isinstance(fig.x_range, FactorRange):
        keys = list(data["stack_bars"]["key"])
        if list(fig.x_range.factors) != keys:
            fig.x_range.factors = keys
    meta = data.get("meta")
    if meta is not None:
        title = meta["title"][0]
        fig_title = cast(Title, fig.title)  # figure() always holds a Title model
        if fig_title.text not in (title, STALE_PREFIX + title):
            fig_title.text = title
        label = meta["y_label"][0]
        axes = cast(list[Axis], fig.left)  # the left side holds the y axis
        if label and axes and axes[0].axis_label != label:
            axes[0].axis_label = label
        for side, key in ((fig.below, "x_label"), (fig.right, "right_label")):
            axis = [a for a in side if isinstance(a, Axis)]  # no document walk
            if key in meta and axis and axis[0].axis_label != meta[key][0]:
                axis[0].axis_label = meta[key][0]
    return sent


STALE_PREFIX = "STALE (invalid input) — "


def mark_stale(fig: figure, stale: bool) -> None:
    """Grey a figure out (and say so in its title) while its inputs are invalid."""
    fill = STALE_FILL if stale else "#ffffff"
    if fig.background_fill_color != fill:
        fig.background_fill_color = fill
    fig_title = cast(Title, fig.title)  # figure() always holds a Title model
    text = cast(str, fig_title.text)
    if stale and not text.startswith(STALE_PREFIX):
        fig_title.text = STALE_PREFIX + text
    elif not stale and text.startswith(STALE_PREFIX):
        fig_title.text = text[len(STALE_PREFIX) :]
