"""Bokeh figures of the Solve and Compare panels: the Pareto front of a design (dose in the
limit's metric vs SNR per scan) and the dose-vs-time curves of pinned scenarios overlaid.

As in ``figures``: a pure ``*_data`` function returns ``{source name: {column: values}}`` plus a
``"meta"`` entry, the builder makes one named ``ColumnDataSource`` per source, and
``figures.update_figure`` replaces the data later. No physics: only numbers read from a
``DesignResult`` or an ``ExperimentResult``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from bokeh.models import ColumnDataSource, HoverTool
from bokeh.palettes import Category10_10
from bokeh.plotting import figure

from beamdesign.design import DesignResult
from beamdesign.experiment import ExperimentResult
from beamdesign.units import si

from .figures import HEIGHT, MAX_TIME_POINTS, WIDTH
from .messages import format_number

#: the varied plan keys the panels name in words: dotted key -> (label, unit)
VARIED = {
    "beam.energy_keV": ("energy", "keV"),
    "beam.flux_ph_s": ("flux", "ph/s"),
    "schedule.exposure_s": ("exposure", "s"),
}
#: colours of the pinned scenarios A, B, C, D
SCENARIO_COLORS = Category10_10[:4]


def _named_sources(data: dict[str, dict[str, Any]]) -> dict[str, ColumnDataSource]:
    return {k: ColumnDataSource(v, name=k) for k, v in data.items() if k != "meta"}


def value_text(key: str, value: object) -> str:
    """One varied value as people read it: ``energy 60.75 keV``, ``flux 1 × 10⁸ ph/s``; a key
    without a label (``VARIED``) as ``key = value``."""
    if key in VARIED and isinstance(value, (int, float)) and not isinstance(value, bool):
        label, unit = VARIED[key]
        return f"{label} {format_number(value, unit)}"
    return f"{key} = {value}"


def values_text(values: dict[str, Any]) -> str:
    """The varied values of a candidate as one line (:func:`value_text`)."""
    return ", ".join(value_text(k, v) for k, v in values.items())


# --------------------------------------------------------------------------- Pareto front
def front_data(
    result: DesignResult | None, current: dict[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """The candidates (dose in the limit's metric, SNR per scan), the limit and the SNR floor as
    lines, and the current plan (``current``: a ``sweep.evaluate`` row with a quality) as a
    star. ``result`` None: an empty figure."""
    empty: dict[str, list[Any]] = {k: [] for k in ("x", "y", "label", "values", "dose", "snr")}
    if result is None:
        lines: dict[str, list[Any]] = {k: [] for k in ("xs", "ys", "label", "tx", "ty", "align")}
        return {
            "candidates": {**empty, "soc": []},
            "bounds": lines,
            "feasible": {k: [] for k in ("left", "right", "bottom", "top")},
            "current": dict(empty),
            "meta": {"title": ["Pareto front: press Solve"], "y_label": ["SNR per scan"]},
        }
    d = result.design
    cands = result.candidates
    candidates = {
        "x": [c.dose_Gy for c in cands],
        "y": [c.snr_per_scan for c in cands],
        "label": [f"#{i + 1}" for i in range(len(cands))],
        "values": [values_text(c.values) for c in cands],
        "dose": [si(c.dose_Gy, "Gy") for c in cands],
        "snr": [f"{c.snr_per_scan:.3g}" for c in cands],
        "soc": [f"{c.time_resolution_soc_pct:.2g} %" for c in cands],
    }
    xs = [c.dose_Gy for c in cands] + [d.limit_dose_Gy]
    ys = [c.snr_per_scan for c in cands] + [d.min_snr_per_scan]
    point: dict[str, list[Any]] = dict(empty)
    if current is not None and "snr_per_scan" in current:
        point = {
            "x": [current["dose_Gy"]],
            "y": [current["snr_per_scan"]],
            "label": ["current plan"],
            "values": ["the plan in the planner now"],
            "dose": [si(current["dose_Gy"], "Gy")],
            "snr": [f"{current['snr_per_scan']:.3g}"],
        }
        xs.append(current["dose_Gy"])
        ys.append(current["snr_per_scan"])
    x_lo, x_hi = 0.5 * min(xs), 2.0 * max(xs)
    y_lo, y_hi = 0.5 * min(ys), 2.0 * max(ys)
    bounds = {
        "xs": [[d.limit_dose_Gy, d.limit_dose_Gy], [x_lo, x_hi]],
        "ys": [[y_lo, y_hi], [d.min_snr_per_scan, d.min_snr_per_scan]],
        "label": [f" limit {d.limit_name}", f" SNR floor {d.min_snr_per_scan:g}"],
        "tx": [d.limit_dose_Gy, x_lo],  # the labels: at the top of the limit, under the floor
        "ty": [y_hi, d.min_snr_per_scan],
        "align": ["left", "left"],
    }
    feasible = {  # below the limit and above the floor
        "left": [x_lo],
        "right": [d.limit_dose_Gy],
        "bottom": [d.min_snr_per_scan],
        "top": [y_hi],
    }
    return {
        "candidates": candidates,
        "bounds": bounds,
        "feasible": feasible,
        "current": point,
        "meta": {
            "title": [
                f"Pareto front: {len(cands)} of {result.evaluated} plans "
                f"({d.quality.technique}), least dose first"
            ],
            "y_label": ["SNR per scan"],
        },
    }


def front_figure(result: DesignResult | None = None, width: int = WIDTH) -> figure:
    """Dose (limit's metric, log) vs SNR per scan (log) of the candidates; the feasible region
    is left of the limit line and above the floor line. ``width`` in screen pixels."""
    data = front_data(result)
    src = _named_sources(data)
    fig = figure(
        width=width,
        height=HEIGHT,
        x_axis_type="log",
        y_axis_type="log",
        x_axis_label="worst dose in the limit's metric (Gy)",
        y_axis_label="SNR per scan",
        title=data["meta"]["title"][0],
        tools="pan,wheel_zoom,box_zoom,reset,save,tap",
        name="front",
    )
    fig.quad(
        left="left",
        right="right",
        bottom="bottom",
        top="top",
        source=src["feasible"],
        fill_color="#2ca02c",
        fill_alpha=0.08,
        line_alpha=0.0,
        legend_label="keeps the limit and the floor",
    )
    fig.multi_line(
        "xs", "ys", source=src["bounds"], line_color="firebrick", line_dash="dashed", line_width=2
    )
    fig.text(
        "tx",
        "ty",
        "label",
        source=src["bounds"],
        text_font_size="8pt",
        text_color="firebrick",
        text_align="align",
        text_baseline="top",
    )
    points = fig.scatter(
        "x",
        "y",
        source=src["candidates"],
        size=11,
        color="#1f77b4",
        selection_color="#d62728",
        nonselection_alpha=0.5,
        legend_label="candidates",
    )
    now = fig.scatter(
        "x",
        "y",
        source=src["current"],
        marker="star",
        size=16,
        color="black",
        legend_label="current plan",
    )
    fig.add_tools(
        HoverTool(
            renderers=[points, now],
            tooltips=[
                ("", "@label"),
                ("varied", "@values"),
                ("dose", "@dose"),
                ("SNR per scan", "@snr"),
            ],
        )
    )
    fig.legend.location = "bottom_right"
    fig.legend.label_text_font_size = "8pt"
    return fig


# --------------------------------------------------------------------------- scenarios
def overlay_data(results: list[tuple[str, ExperimentResult]]) -> dict[str, dict[str, Any]]:
    """Cumulative dose of the probe at each scenario's worst location vs time (h)."""
    xs, ys, names, finals, colors = [], [], [], [], []
    for k, (label, result) in enumerate(results):
        t = result.time_s
        stride = max(1, int(np.ceil(t.size / MAX_TIME_POINTS)))
        idx = np.unique(np.r_[np.arange(0, t.size, stride), t.size - 1])
        row = int(np.argmax(result.probe_dose_Gy[:, -1]))
        dose = np.asarray(result.probe_dose_Gy[row, idx], dtype=float)
        dose[~(dose > 0)] = np.nan  # not drawn on the log axis
        location = result.locations[int(result.timeline_index[row])].name
        xs.append((t[idx] / 3600.0).astype(np.float32))
        ys.append(dose.astype(np.float32))
        names.append(f"{label}: {location} ({result.plan.beam.convention})")
        finals.append(si(float(result.probe_dose_Gy[row, -1]), "Gy"))
        colors.append(SCENARIO_COLORS[k % len(SCENARIO_COLORS)])
    return {
        "scenario_lines": {"xs": xs, "ys": ys, "name": names, "final": finals, "color": colors},
        "meta": {
            "title": ["Worst location of each pinned scenario"],
            "y_label": ["dose of the probe (Gy)"],
        },
    }


def overlay_figure(results: list[tuple[str, ExperimentResult]]) -> figure:
    """The dose-vs-time curves of the pinned scenarios on one log axis."""
    data = overlay_data(results)
    src = _named_sources(data)
    fig = figure(
        width=WIDTH,
        height=HEIGHT,
        y_axis_type="log",
        x_axis_label="time (h)",
        y_axis_label=data["meta"]["y_label"][0],
        title=data["meta"]["title"][0],
        tools="pan,wheel_zoom,box_zoom,reset,save",
        name="overlay",
    )
    lines = fig.multi_line(
        "xs",
        "ys",
        source=src["scenario_lines"],
        line_color="color",
        line_width=2,
        legend_field="name",
    )
    fig.add_tools(
        HoverTool(renderers=[lines], tooltips=[("scenario", "@name"), ("final dose", "@final")])
    )
    fig.legend.location = "bottom_right"
    fig.legend.label_text_font_size = "8pt"
    return fig
