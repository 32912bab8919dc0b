"""The Solve panel: the Pareto front of the plans around the current one that keep a dose limit
and an SNR floor (``beamdesign.design.design_plan``), shown as an interactive bokeh plot and a
table, and an Apply that loads a chosen candidate into the planner (undoable).

The design comes from the plan's own ``design`` section when it has one, else from
:func:`default_design`: the technique chosen here, the plan's lowest threshold on the probe as
the limit, an SNR floor of ``DEFAULT_MIN_SNR``, and energy, flux and exposure varied around the
current values. The solve runs only when its button is pressed (it runs the model once per
grid point), never on a change of the plan; the button runs it in a spawned process
(``solver``), so the planner keeps answering and Stop ends it.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from typing import Any

import ipywidgets as w
from bokeh.models import ColumnDataSource
from bokeh.plotting import figure

from beamdesign.design import DesignResult
from beamdesign.errors import InputError
from beamdesign.plan import Plan
from beamdesign.signal import TECHNIQUES, reflections
from beamdesign.sweep import Quality
from beamdesign.units import si

from .background import BackgroundJob, Outcome
from .design_figures import VARIED, front_data, front_figure, values_text
from .figures import figure_sources, update_figure
from .jobs import outcome_of
from .layout import LiveBokehModel, button, html_panel, tip
from .messages import format_number, human_message

#: SNR per scan asked for when the plan's design says nothing (1 % counting noise)
DEFAULT_MIN_SNR = 100.0
#: samples per varied range (4 × 4 × 4 = 64 plans: a few seconds on one core)
DEFAULT_POINTS = 4
MAX_POINTS = 8
#: default ranges around the current value, as factors; energies kept within the beam's range
ENERGY_FACTORS = (0.75, 2.25)
ENERGY_RANGE_KEV = (5.0, 100.0)
FLUX_FACTORS = (1e-3, 1.0)  # attenuate down to 0.1 % (more flux than the beamline gives is moot)
EXPOSURE_FACTORS = (0.1, 3.0)
#: what the signal box takes, per technique
SIGNAL_HINTS = {
    "xrd-transmission": "reflection, e.g. NMC811-003 (empty: Rayleigh proxy)",
    "xas-transmission": "element and edge, e.g. Ni K",
    "xas-fluorescence": "element, e.g. Ni",
}
#: what a varied range must be (the panel's own check, before the design runs)
RANGE_ORDER = "from < to"
#: width of the settings column beside the plot (px): both fit the planner at 1366 px
COLUMN_PX = 330
FIGURE_WIDTH_PX = 480
#: candidate rows shown in the table
MAX_TABLE_ROWS = 20


def limit_choices(plan: Plan) -> list[tuple[str, dict[str, Any]]]:
    """The plan's thresholds as design limits (label, ``limit`` mapping): those on the probe
    first, lowest dose first."""
    ordered = sorted(plan.thresholds, key=lambda t: (t.constituent is not None, t.dose_Gy))
    out = []
    for t in ordered:
        limit: dict[str, Any] = {"dose_Gy": t.dose_Gy, "convention": t.convention}
        if t.constituent is not None:
            limit["constituent"] = t.constituent
        on = f" of the {t.constituent}" if t.constituent else ""
        out.append((f"{si(t.dose_Gy, 'Gy')} {t.convention}{on} — {t.name}", limit))
    return out


def probe_reflection(plan: Plan) -> str:
    """A named reflection of the probe's main constituent ('' when there is none)."""
    if plan.probe is None:
        return ""
    layer = plan.stack.layer(plan.probe.split("/")[0].strip(), "probe")
    material = layer.main_constituent.material.name
    return next((r.name for r in reflections().values() if r.material == material), "")


def signal_options(technique: str, text: str) -> dict[str, Any]:
    """The design's ``signal`` mapping from the signal box (``SIGNAL_HINTS``)."""
    words = text.split()
    if not words:
        return {}
    if technique == "xrd-transmission":
        return {"reflection": text.strip()}
    if technique == "xas-transmission" and len(words) <= 2:
        return {"element": words[0], **({"edge": words[1]} if len(words) == 2 else {})}
    if technique == "xas-fluorescence" and len(words) == 1:
        return {"element": words[0]}
    raise InputError("design.signal", text, SIGNAL_HINTS[technique])


def signal_text(options: dict[str, Any]) -> str:
    """The signal box's text for a design's ``signal`` mapping."""
    return " ".join(str(options[k]) for k in ("reflection", "element", "edge") if k in options)


def panel_message(error: InputError) -> str:
    """The sentence the Solve panel shows for an error of its design, in the words of its
    controls."""
    if error.field == "probe":
        return "Choose the probed layer in the Cell tab: a signal is measured on one layer."
    if error.field == "design.vary":
        return "Tick at least one range to vary (energy, flux or exposure)."
    key = error.field.removeprefix("design.vary.")
    if error.allowed == RANGE_ORDER and key in VARIED and isinstance(error.value, list):
        name, unit = VARIED[key]
        low, high = error.value
        return (
            f"The {name} range must go from low to high; got {format_number(low)} to "
            f"{format_number(high, unit)}."
        )
    floor = error.field == "design.minimum.snr_per_scan"
    return human_message(error, label="SNR floor" if floor else None)


def default_design(plan: Plan, technique: str = "xrd-transmission") -> dict[str, Any]:
    """A design section around ``plan`` (module docstring)."""
    choices = limit_choices(plan)
    limit = choices[0][1] if choices else {"threshold": "jousseaume2023-safe"}
    energy, flux = plan.beam.energy_keV, plan.beam.flux_ph_s
    low_keV, high_keV = ENERGY_RANGE_KEV
    vary: dict[str, Any] = {
        "beam.energy_keV": [
            max(low_keV, energy * ENERGY_FACTORS[0]),
            min(high_keV, energy * ENERGY_FACTORS[1]),
        ],
        "beam.flux_ph_s": [flux * FLUX_FACTORS[0], flux * FLUX_FACTORS[1]],
    }
    exposures = {float(x) for x in plan.schedule.exposure_s}
    if len(exposures) == 1:  # locations with different exposures keep theirs
        exposure = exposures.pop()
        vary["schedule.exposure_s"] = [exposure * f for f in EXPOSURE_FACTORS]
    design: dict[str, Any] = {
        "technique": technique,
        "limit": limit,
        "minimum": {"snr_per_scan": DEFAULT_MIN_SNR},
        "vary": vary,
        "points": DEFAULT_POINTS,
    }
    reflection = probe_reflection(plan) if technique == "xrd-transmission" else ""
    if reflection:
        design["signal"] = {"reflection": reflection}
    return design


def _cell(value: object) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format_number(value)
    return "—" if value is None else str(value)


def candidates_table(result: DesignResult) -> str:
    """HTML table of the candidates, best (least dose) first."""
    d = result.design
    metric = html.escape(d.quality.convention or "")
    keys = list(d.vary)
    names = [f"{VARIED[k][0]} ({VARIED[k][1]})" if k in VARIED else html.escape(k) for k in keys]
    head = (
        "<tr><th>#</th>"
        + "".join(f"<th>{name}</th>" for name in names)
        + f"<th title='worst dose in the limit&#39;s metric ({metric})'>"
        "dose (limit metric)</th><th>SNR per scan</th>"
        "<th title='largest SOC change between two scans of a location'>SOC step</th>"
        "<th title='worst probe dose in the plan&#39;s own convention'>probe dose</th></tr>"
    )
    rows = [
        f"<tr><td>{i + 1}</td>"
        + "".join(f"<td>{html.escape(_cell(c.values.get(k)))}</td>" for k in keys)
        + f"<td>{si(c.dose_Gy, 'Gy')}</td><td>{c.snr_per_scan:.3g}</td>"
        f"<td>{c.time_resolution_soc_pct:.2g} %</td>"
        f"<td>{si(c.worst_probe_dose_Gy, 'Gy')}</td></tr>"
        for i, c in enumerate(result.candidates[:MAX_TABLE_ROWS])
    ]
    more = len(result.candidates) - len(rows)
    note = f"<p><small>{more} more candidates not shown.</small></p>" if more > 0 else ""
    return (
        "<table class='bd-solve-table' border='1' style='border-collapse:collapse;line-height:1.3'>"
        f"{head}{''.join(rows)}</table>{note}"
    )


class SolvePanel:
    """The Solve tab.

    Parameters
    ----------
    current : returns the current plan's (config, Plan), or None while the inputs are invalid
    apply : loads a plan config into the planner, undoably (config, what it is); False when
        the plan was refused
    """

    def __init__(
        self,
        current: Callable[[], tuple[dict[str, Any], Plan] | None],
        apply: Callable[[dict[str, Any], str], bool],
    ) -> None:
        self._current = current
        self._apply = apply
        self.result: DesignResult | None = None
        self._plan_design: dict[str, Any] = {}  # the plan's design section, kept as the base
        self._limits: list[dict[str, Any]] = []
        self._solved_for: Plan | None = None
        self._reflection = ""  # the probe's named reflection, the XRD signal by default
        layout = w.Layout(width=f"{COLUMN_PX}px")
        style = {"description_width": "90px"}
        self.technique = w.Dropdown(
            options=list(TECHNIQUES), description="technique", layout=layout, style=style
        )
        self.signal = w.Text(description="signal", layout=layout, style=style)
        self.limit = w.Dropdown(description="dose limit", layout=layout, style=style)
        self.min_snr = w.FloatText(description="SNR floor", layout=layout, style=style)
        self.points = w.BoundedIntText(
            min=2, max=MAX_POINTS, description="points/range", layout=layout, style=style
        )
        tips = {
            "technique": (self.technique, "The measurement whose signal is modelled"),
            "signal": (self.signal, "What is measured: " + "; ".join(SIGNAL_HINTS.values())),
            "limit": (
                self.limit,
                "The dose not to exceed (one of the plan's thresholds, in its own metric)",
            ),
            "min_snr": (self.min_snr, "The SNR per scan the data need (counting statistics)"),
            "points": (self.points, "Samples per varied range (the grid grows as points^keys)"),
        }
        for name, (control, text) in tips.items():
            control.add_class(f"bd-solve-{name}")
            tip(control, text)
        self.vary: dict[str, tuple[w.Checkbox, w.FloatText, w.FloatText]] = {}
        rows = []
        for key, (label, unit) in VARIED.items():
            check = w.Checkbox(
                description=f"{label} ({unit})", indent=False, layout=w.Layout(width="125px")
            )
            low = w.FloatText(layout=w.Layout(width="85px"))
            high = w.FloatText(
                description="to",
                style={"description_width": "20px"},
                layout=w.Layout(width="110px"),
            )
            for control, part in ((check, "vary"), (low, "low"), (high, "high")):
                control.add_class(f"bd-solve-{part}-{key.split('.')[-1]}")
                tip(control, f"{key}: {part} of the range ({unit})")
            self.vary[key] = (check, low, high)
            rows.append(w.HBox([check, low, high]))
            for control in (check, low, high):
                control.observe(lambda _: self._show_ranges(), names="value")
        self.points.observe(lambda _: self._show_ranges(), names="value")
        self.ranges = html_panel("bd-solve-ranges")
        self.solve_button = button(
            "solve_button", "Solve", "search", "Run the design grid (once per grid point)"
        )
        self.reset_button = button(
            "solve_reset", "Ranges from plan", "refresh", "Default design around the current plan"
        )
        self.apply_button = button(
            "apply_button",
            "Apply",
            "check",
            "Load the chosen candidate into the planner (undoable)",
        )
        self.apply_button.disabled = True
        self.stop_button = button(
            "solve_stop", "Stop", "stop", "End the solve now (the planner stays as it is)"
        )
        self.stop_button.disabled = True
        self.job: BackgroundJob | None = None
        self.candidate = w.Dropdown(options=[], layout=w.Layout(width=f"{FIGURE_WIDTH_PX - 100}px"))
        self.candidate.add_class("bd-solve-candidate")
        tip(self.candidate, "The candidate Apply loads (highlighted in the plot)")
        self.status = html_panel(
            "bd-solve-status",
            "<i>Press <b>Solve</b> to find the plans around this one that keep the dose limit "
            "and the SNR floor (a few seconds).</i>",
        )
        self.table = html_panel("bd-solve-table-panel")
        # the plot is made when first shown (ensure_plot): the planner starts without its cost
        self.figure: figure | None = None
        self.model: LiveBokehModel | None = None
        self._sources: dict[str, ColumnDataSource] = {}
        self.solve_button.on_click(lambda _: self.solve(background=True))
        self.stop_button.on_click(lambda _: self.stop())
        self.reset_button.on_click(lambda _: self.reset())
        self.apply_button.on_click(lambda _: self.apply())
        self.candidate.observe(self._on_candidate, names="value")
        self.technique.observe(self._on_technique, names="value")
        settings = w.VBox(
            [
                self.technique,
                self.signal,
                self.limit,
                self.min_snr,
                self.points,
                w.HTML("<small>Vary (from – to):</small>"),
                *rows,
                self.ranges,
                w.HBox([self.solve_button, self.stop_button, self.reset_button]),
                self.status,
            ],
            layout=w.Layout(width=f"{COLUMN_PX + 10}px", min_width=f"{COLUMN_PX + 10}px"),
        )
        self.plot_box = w.VBox([w.HBox([self.candidate, self.apply_button])])
        self.widget = w.VBox(
            [w.HBox([settings, self.plot_box], layout=w.Layout(grid_gap="6px")), self.table],
            layout=w.Layout(overflow="auto"),
        )
        self.widget.add_class("bd-solve")

    def ensure_plot(self) -> figure:
        """The Pareto plot, made the first time it is needed (when the tab is opened)."""
        if self.figure is None:
            self.figure = front_figure(width=FIGURE_WIDTH_PX)
            self._sources = figure_sources(self.figure)
            self.model = LiveBokehModel(self.figure)
            self.plot_box.children = [self.model, *self.plot_box.children]
        return self.figure

    # ------------------------------------------------------------------ the design section
    def set_plan(self, plan: Plan, design: dict[str, Any] | None = None) -> None:
        """Fill the controls from the plan's design section, or the default design around it."""
        self._plan_design = json.loads(json.dumps(design)) if design else {}
        technique = self._plan_design.get("technique", self.technique.value or TECHNIQUES[0])
        technique = technique if technique in TECHNIQUES else TECHNIQUES[0]
        section = {**default_design(plan, technique), **self._plan_design}
        self._reflection = probe_reflection(plan)
        choices = limit_choices(plan)
        limit = section["limit"]
        if limit not in [c for _, c in choices]:  # the plan's design names its own limit
            choices.insert(0, (f"the plan's design limit: {_limit_words(limit)}", limit))
        self._limits = [c for _, c in choices]
        self.limit.options = [(label, i) for i, (label, _) in enumerate(choices)]
        self.limit.value = self._limits.index(limit)
        self.technique.value = technique
        self.signal.value = signal_text(section.get("signal") or {})
        self.signal.placeholder = SIGNAL_HINTS[technique]
        minimum = section.get("minimum") or {}
        self.min_snr.value = float(minimum.get("snr_per_scan", DEFAULT_MIN_SNR))
        self.points.value = min(max(int(section.get("points", DEFAULT_POINTS)), 2), MAX_POINTS)
        vary = section.get("vary") or {}
        around = default_design(plan, technique)["vary"]  # unticked rows: ranges to start from
        for key, (check, low, high) in self.vary.items():
            spec = vary.get(key)
            check.value = _is_range(spec)
            start = spec if check.value else around.get(key)
            if isinstance(start, list) and len(start) == 2:
                low.value, high.value = float(start[0]), float(start[1])

    def _show_ranges(self) -> None:
        """The varied ranges as people write them (a flux of 100000000 reads as 1 × 10⁸)."""
        n, parts = 1, []
        for (label, unit), (check, low, high) in zip(
            VARIED.values(), self.vary.values(), strict=True
        ):
            if check.value:
                n *= self.points.value
                parts.append(
                    f"{label} {format_number(low.value)}–{format_number(high.value, unit)}"
                )
        for key, spec in (self._plan_design.get("vary") or {}).items():
            if not _is_range(spec) and not (key in self.vary and self.vary[key][0].value):
                values = spec.get("values", []) if isinstance(spec, dict) else []
                n *= max(len(values), 1)
                parts.append(f"{key} {', '.join(format_number(v) for v in values)}")
        self.ranges.value = f"<small>{' · '.join(parts) or 'nothing varied'} → {n} plans</small>"

    def reset(self) -> None:
        """The default design around the current plan (the plan's own section if it has one)."""
        current = self._current()
        if current is None:
            self._error("Fix the inputs marked ⚠ first: the plan is not valid.")
            return
        self.set_plan(current[1], self._plan_design or None)

    def design(self) -> dict[str, Any]:
        """The design section the controls describe (the plan's own keys the panel does not
        show, e.g. a detector, are kept)."""
        section: dict[str, Any] = json.loads(json.dumps(self._plan_design))
        technique = self.technique.value
        section["technique"] = technique
        options = signal_options(technique, self.signal.value)
        section.pop("signal", None)
        if options:
            section["signal"] = options
        section["limit"] = self._limits[self.limit.value]
        section["minimum"] = {**section.get("minimum", {}), "snr_per_scan": self.min_snr.value}
        section["points"] = self.points.value
        vary = section.get("vary", {})
        for key, (check, low, high) in self.vary.items():
            if check.value and not low.value < high.value:
                raise InputError(f"design.vary.{key}", [low.value, high.value], RANGE_ORDER)
            if check.value:
                vary[key] = [low.value, high.value]
            elif _is_range(vary.get(key)):  # a range the user unticked; listed values stay
                del vary[key]
        section["vary"] = vary
        return section

    def quality(self) -> Quality | None:
        """The signal model of the panel (technique, signal), or None when it is not valid."""
        try:
            options = signal_options(self.technique.value, self.signal.value)
        except InputError:
            return None
        return Quality(self.technique.value, tuple(sorted(options.items())))

    # ------------------------------------------------------------------ solve, choose, apply
    def solve(self, background: bool = False) -> DesignResult | None:
        """Run the design on the current plan; show the front, the table and the candidates.

        ``background``: in a child process (what the Solve button does): returns None at
        once, the panel is filled when it ends, and Stop ends it. Otherwise returns the result
        (None when the design could not run; the panel says why).
        """
        if self.job is not None and self.job.running:
            return None
        current = self._current()
        if current is None:
            self._error("Fix the inputs marked ⚠ first: the plan is not valid.")
            return None
        config, plan = current
        try:
            section = self.design()
        except InputError as error:
            self._error(panel_message(error))
            return None
        n = 1
        for values in section["vary"].values():
            n *= section["points"] if isinstance(values, list) and len(values) == 2 else 1
        stop = " — <b>Stop</b> ends it" if background else ""
        self._show_status(
            f"<span class='bd-solving'>⏳ solving: running about {n} plans…{stop}</span>"
        )
        self._busy(True)
        if background:
            self.job = BackgroundJob(
                outcome_of, (config, section), lambda out: self._done(out, plan)
            )
            return None
        return self._finish(outcome_of(config, section), plan)

    def stop(self) -> None:
        """End a background solve (the panel then says it stopped)."""
        if self.job is not None:
            self.job.stop()

    def _busy(self, running: bool) -> None:
        self.solve_button.disabled = self.reset_button.disabled = running
        self.candidate.disabled = running
        self.stop_button.disabled = not running
        self.apply_button.disabled = running or self.result is None

    def _done(self, outcome: Outcome, plan: Plan) -> None:
        self._finish(outcome, plan)

    def _finish(self, outcome: Outcome, plan: Plan) -> DesignResult | None:
        """Show what a solve gave (called from the watcher thread for a background solve)."""
        kind, value = outcome
        if kind != "ok":
            self._busy(False)
            if kind == "input":
                self._error(panel_message(InputError(*value)))
            elif kind == "stopped":
                self._show_status(
                    "<i class='bd-solve-stopped'>Stopped: nothing changed in the planner.</i>"
                )
            else:
                self._error(f"The design could not run: {value}")
            return None
        result: DesignResult = value[0]
        here: dict[str, Any] = value[1]
        self.result, self._solved_for = result, plan
        update_figure(self.ensure_plot(), front_data(result, here), self._sources)
        self.table.value = candidates_table(result)
        self.candidate.options = [
            (
                f"#{i + 1}: {si(c.dose_Gy, 'Gy')}, SNR {c.snr_per_scan:.3g} — "
                f"{values_text(c.values)}",
                i,
            )
            for i, c in enumerate(result.candidates)
        ]
        self.candidate.value = 0
        self._select(0)
        self._busy(False)
        d = result.design
        self._show_status(
            f"<span class='bd-solved'>{len(result.candidates)} candidates on the front "
            f"({result.feasible} of {result.evaluated} plans keep {html.escape(d.limit_name)} and "
            f"an SNR per scan ≥ {format_number(d.min_snr_per_scan)}); the current plan: "
            f"{si(here['dose_Gy'], 'Gy')}, SNR {here['snr_per_scan']:.3g} (★). Red: the "
            "candidate <b>Apply</b> loads.</span>"
        )
        now = self._current()
        if now is None or now[1] is not plan:  # edited while it ran in the background
            self.plan_changed(now[1] if now is not None else plan)
        return result

    def _on_candidate(self, change: dict[str, Any]) -> None:
        if change["new"] is not None:
            self._select(int(change["new"]))

    def _on_technique(self, change: dict[str, Any]) -> None:
        """Another technique measures something else: its own signal box (the probe's
        reflection for XRD; the element to be typed for XAS)."""
        self.signal.placeholder = SIGNAL_HINTS[change["new"]]
        self.signal.value = self._reflection if change["new"] == "xrd-transmission" else ""

    def _select(self, i: int) -> None:
        source = self._sources["candidates"]
        if list(source.selected.indices) != [i]:
            source.selected.indices = [i]

    def apply(self, index: int | None = None) -> bool:
        """Load candidate ``index`` (default: the one chosen) into the planner (undoable)."""
        if self.result is None or not self.result.candidates:
            return False
        i = self.candidate.value if index is None else index
        candidate = self.result.candidates[i]
        what = f"solve candidate #{i + 1} ({values_text(candidate.values)})"
        self._solved_for = None
        if not self._apply(candidate.plan, what):
            self._error(f"{what} could not be loaded (see the message under the controls).")
            return False
        current = self._current()
        self._solved_for = current[1] if current is not None else None
        self._show_status(
            f"<span class='bd-applied'>Applied {html.escape(what)} — <b>Undo</b> (top left) "
            "restores the previous plan.</span>"
        )
        return True

    def plan_changed(self, plan: Plan) -> None:
        """Note that the front was solved for another plan (Apply still loads a whole plan)."""
        if self._solved_for is not None and plan is not self._solved_for:
            self._show_status(
                "<i class='bd-solve-old'>The plan changed since this front was solved: press "
                "<b>Solve</b> again for candidates around the current plan.</i>"
            )
            self._solved_for = None

    def _error(self, text: str) -> None:
        self._show_status(f"<span style='color:#b00020'>⚠ {html.escape(text)}</span>")

    def _show_status(self, text: str) -> None:
        """Show ``text`` (HTML) in the status panel, lines set close (it sits in a column)."""
        self.status.value = f"<div style='line-height:1.35'>{text}</div>"


def _is_range(spec: object) -> bool:
    """A design.vary entry given as [low, high] (the panel's controls edit those only)."""
    return isinstance(spec, list) and len(spec) == 2


def _limit_words(limit: dict[str, Any]) -> str:
    """A design's limit as people read it: the threshold's name, or the dose and its metric."""
    if "threshold" in limit:
        return str(limit["threshold"])
    words = [f"{format_number(limit.get('dose_Gy'), 'Gy')}"]
    words += [str(limit[k]) for k in ("constituent", "convention") if limit.get(k)]
    return ", ".join(words)
