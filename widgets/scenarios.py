"""The Compare panel: pin the current plan as a scenario (up to four) and see the pinned plans
side by side (``beamdesign.compare``): the worst dose in each threshold metric, the dose rates,
the SNR per scan (with the Solve panel's signal model), the time, the verdict, and their
dose-vs-time curves overlaid."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ipywidgets as w
from bokeh.models import ColumnDataSource
from bokeh.plotting import figure

from beamdesign.compare import MAX_PLANS, MIN_PLANS, compare
from beamdesign.errors import InputError
from beamdesign.experiment import ExperimentResult
from beamdesign.sweep import Quality
from beamdesign.units import duration, si

from .design_figures import SCENARIO_COLORS, overlay_data, overlay_figure
from .figures import figure_sources, update_figure
from .layout import LiveBokehModel, button, html_panel, tip
from .messages import human_message


@dataclass(frozen=True)
class Pinned:
    """A pinned scenario: its label, the plan config and the result the planner showed."""

    label: str
    config: dict[str, Any]
    result: ExperimentResult


def metric_doses(result: ExperimentResult) -> dict[str, float]:
    """Worst final dose (Gy) over the locations in each threshold metric, by row label
    ('<constituent>, <convention>, <where>'), from the result's threshold crossings."""
    out: dict[str, float] = {}
    for location in result.locations:
        for crossing in location.crossings:
            constituent = crossing.constituent.split("/")[-1]
            key = f"{constituent}, {crossing.convention}, {crossing.where}"
            out[key] = max(out.get(key, 0.0), crossing.final_dose_Gy)
    return out


def comparison_table(pinned: list[Pinned], quality: Quality | None) -> tuple[str, str]:
    """(HTML table with one column per scenario, a note) for two to four pinned plans."""
    note = ""
    try:
        scenarios = compare([p.config for p in pinned], quality, [p.label for p in pinned])
    except InputError as error:  # the signal model does not fit a plan: compare doses only
        scenarios = compare([p.config for p in pinned], None, [p.label for p in pinned])
        note = f"No SNR: {human_message(error)}"
    cols = scenarios.scenarios
    rows: list[tuple[str, list[str], str]] = [
        ("plan", [html.escape(s.title) for s in cols], ""),
        ("energy", [f"{s.energy_keV:g} keV" for s in cols], ""),
        ("flux", [si(s.flux_ph_s, "ph/s") for s in cols], ""),
        ("spot", [f"{s.spot_um[0]:g} × {s.spot_um[1]:g} µm" for s in cols], ""),
    ]
    metrics = [metric_doses(p.result) for p in pinned]
    for key in sorted({k for m in metrics for k in m}):
        rows.append(
            (
                f"worst dose: {html.escape(key)}",
                [si(m[key], "Gy") if key in m else "—" for m in metrics],
                "the dose compared with the thresholds measured in this metric",
            )
        )
    rows += [
        (
            "worst probe dose (plan's convention)",
            [
                f"{si(s.row['worst_probe_dose_Gy'], 'Gy')} at "
                f"{html.escape(s.row['worst_location'])} ({html.escape(s.row['convention'])})"
                for s in cols
            ],
            "",
        ),
        ("local dose rate", [si(s.row["local_dose_rate_Gy_per_s"], "Gy/s") for s in cols], ""),
        (
            "averaged dose rate",
            [si(s.row["averaged_dose_rate_Gy_per_s"], "Gy/s") for s in cols],
            "",
        ),
    ]
    if any("snr_per_scan" in s.row for s in cols):
        technique = quality.technique if quality is not None else ""
        rows += [
            (
                f"SNR per scan ({html.escape(technique)})",
                [f"{s.row['snr_per_scan']:.3g}" if "snr_per_scan" in s.row else "—" for s in cols],
                "counting-statistics SNR of one scan at the shortest exposure",
            ),
            (
                "SOC step between scans",
                [
                    f"{s.row['time_resolution_soc_pct']:.2g} %" if "snr_per_scan" in s.row else "—"
                    for s in cols
                ],
                "largest SOC change between two scans of a location",
            ),
        ]
    rows += [
        ("duration", [duration(float(p.result.time_s[-1])) for p in pinned], ""),
        ("verdict", [html.escape(s.row["verdict"]) for s in cols], ""),
    ]
    head = "<tr><th></th>" + "".join(
        f"<th style='color:{SCENARIO_COLORS[i % len(SCENARIO_COLORS)]}'>{html.escape(s.label)}</th>"
        for i, s in enumerate(cols)
    )
    body = "".join(
        f"<tr><th style='text-align:left' title='{tip_text}'>{name}</th>"
        + "".join(f"<td>{v}</td>" for v in values)
        + "</tr>"
        for name, values, tip_text in rows
    )
    table = (
        "<table class='bd-compare-table' border='1' "
        "style='border-collapse:collapse;line-height:1.3'>"
        f"{head}</tr>{body}</table>"
    )
    return table, note


class ComparePanel:
    """The Compare tab.

    Parameters
    ----------
    current : returns the current plan's (config, result), or None while the inputs are invalid
    quality : the signal model for the SNR row (None: doses only)
    """

    def __init__(
        self,
        current: Callable[[], tuple[dict[str, Any], ExperimentResult] | None],
        quality: Callable[[], Quality | None],
    ) -> None:
        self._current = current
        self._quality = quality
        self.pinned: list[Pinned] = []
        self.label = w.Text(
            description="label",
            placeholder="A",
            layout=w.Layout(width="230px"),
            style={"description_width": "45px"},
        )
        self.label.add_class("bd-compare-label")
        tip(self.label, "Name of the next pinned scenario (default: A, B, C, D)")
        self.pin_button = button(
            "pin_button", "Pin current plan", "thumb-tack", "Add the plan shown now (up to 4)"
        )
        self.unpin_button = button(
            "unpin_button", "Unpin last", "times", "Remove the last pinned scenario"
        )
        self.clear_button = button("clear_button", "Clear", "trash", "Remove every scenario")
        self.status = html_panel(
            "bd-compare-status",
            f"<i>Pin the current plan, change it (energy, spot, raster…), pin again: "
            f"{MIN_PLANS} to {MAX_PLANS} scenarios side by side.</i>",
        )
        # beside the plot on a wide screen, above it on a narrow one
        self.table = html_panel("bd-compare-table-panel", flex="1 1 420px", min_width="420px")
        # the plot is made when first shown (ensure_plot): the planner starts without its cost
        self.figure: figure | None = None
        self.model: LiveBokehModel | None = None
        self._sources: dict[str, ColumnDataSource] = {}
        self.pin_button.on_click(lambda _: self.pin())
        self.unpin_button.on_click(lambda _: self.unpin())
        self.clear_button.on_click(lambda _: self.clear())
        self.plot_row = w.HBox(
            [self.table],
            layout=w.Layout(flex_flow="row wrap", align_items="flex-start", grid_gap="8px"),
        )
        self.widget = w.VBox(
            [
                w.HBox(
                    [self.label, self.pin_button, self.unpin_button, self.clear_button],
                    layout=w.Layout(flex_flow="row wrap", align_items="center"),
                ),
                self.status,
                self.plot_row,
            ],
            layout=w.Layout(overflow="auto"),
        )
        self.widget.add_class("bd-compare")
        self._refresh_buttons()

    def ensure_plot(self) -> figure:
        """The overlay plot, made the first time it is needed (when the tab is opened)."""
        if self.figure is None:
            self.figure = overlay_figure([(p.label, p.result) for p in self.pinned])
            self._sources = figure_sources(self.figure)
            self.model = LiveBokehModel(self.figure)
            self.plot_row.children = [self.table, self.model]
        return self.figure

    def pin(self, label: str | None = None) -> bool:
        """Pin the current plan (False when the plan is invalid or four are pinned)."""
        current = self._current()
        if current is None:
            self.status.value = (
                "<span style='color:#b00020'>⚠ Fix the inputs marked ⚠ first: "
                "the plan is not valid.</span>"
            )
            return False
        if len(self.pinned) >= MAX_PLANS:
            return False
        taken = {p.label for p in self.pinned}
        text = (label if label is not None else self.label.value).strip()
        if not text or text in taken:
            text = next(c for c in "ABCD" if c not in taken)
        config, result = current
        self.pinned.append(Pinned(text, config, result))
        self.label.value = ""
        self.refresh()
        return True

    def unpin(self) -> None:
        if self.pinned:
            self.pinned.pop()
            self.refresh()

    def clear(self) -> None:
        self.pinned = []
        self.refresh()

    def refresh(self) -> None:
        """Re-run the comparison of the pinned plans (after a pin, or a new signal model)."""
        pinned = self.pinned
        update_figure(
            self.ensure_plot(), overlay_data([(p.label, p.result) for p in pinned]), self._sources
        )
        self._refresh_buttons()
        names = ", ".join(html.escape(p.label) for p in pinned)
        if len(pinned) < MIN_PLANS:
            self.table.value = ""
            self.status.value = (
                f"<i>Pinned: {names or 'none'}. Change the plan and pin again to compare "
                f"({MIN_PLANS} to {MAX_PLANS} scenarios).</i>"
            )
            return
        try:
            table, note = comparison_table(pinned, self._quality())
        except InputError as error:
            self.status.value = (
                f"<span style='color:#b00020'>⚠ {html.escape(human_message(error))}</span>"
            )
            return
        self.table.value = table
        self.status.value = f"<i>Pinned: {names}.</i>" + (
            f" <span style='color:#8a6d00'>⚠ {html.escape(note)}</span>" if note else ""
        )

    def _refresh_buttons(self) -> None:
        self.pin_button.disabled = len(self.pinned) >= MAX_PLANS
        self.unpin_button.disabled = self.clear_button.disabled = not self.pinned
