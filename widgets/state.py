"""The plan being edited: the planner's state and its one observer.

:class:`Planner` holds the plan the controls describe. Every control exposes ``.value``; one
observer (:meth:`Planner._on_change`) builds a plan config from the controls (the adapter's
``config_from_values``), validates it with ``plan_from_config``, runs it with ``run_plan`` and
replaces the data of the figure on screen (the others when their tab is opened). An
``InputError`` is shown in plain words next to the control its ``field`` names, and the figures
and the summary are marked stale together. Loads, presets, built-in plans and applied Solve
candidates are undoable; Save never overwrites unless asked. The Solve and Compare tabs read the
current plan through :meth:`Planner._current_plan` and :meth:`Planner._current_result`.
"""

from __future__ import annotations

import contextlib
import html
import inspect
import json
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import ipywidgets as w

from beamdesign.electron_session import ElectronBeam
from beamdesign.errors import InputError
from beamdesign.experiment import ExperimentResult, run_plan
from beamdesign.materials import Material, library_names
from beamdesign.plan import Plan, load_plan, plan_from_config, save_plan
from beamdesign.profile import Profile, load_profile, profile_names
from beamdesign.report import render_report
from beamdesign.stack import preset_config

from . import limit_openmp_threads
from .adapter import (
    BEAM_FORM_CONTROLS,
    CUSTOM,
    NO_BEAMLINE,
    NO_FILTER,
    NO_PROBE,
    PLAN_BEAMLINE,
    XRAY_CONTROLS,
    config_from_values,
    layer_config,
    message_panel,
    values_from_plan,
)
from .atlas_table import AtlasPanel
from .background import BackgroundJob, Outcome
from .figures import (
    dose_map_data,
    dose_map_figure,
    dose_time_data,
    dose_time_figure,
    energy_data,
    energy_figure,
    figure_sources,
    mark_stale,
    stack_data,
    stack_figure,
    summary_html,
    update_figure,
    verdict_table,
)
from .jobs import advice_outcome
from .layout import (
    BUSY_AFTER_S,
    BUSY_HTML,
    CHOOSE,
    FIGURE_TABS,
    LayerRow,
    LiveBokehModel,
    arrange,
    build_buttons,
    build_controls,
    build_messages,
    figure_tabs,
    html_panel,
    layer_header,
    show,
)
from .messages import format_number, human_message
from .scenarios import ComparePanel
from .solve import SolvePanel

ADVICE_OLD = "<i class='bd-advice-old'>The plan changed: press <b>Compute advice</b> again.</i>"


def electron_text(beam: ElectronBeam) -> str:
    """The electron beam in a microscopist's numbers: the field, the fluence rate over it and,
    for a scanned probe, one frame's duration and fluence and the rate on the probed pixel."""
    w_um, h_um = beam.spot_um
    rate = beam.fluence_rate_e_per_A2_s
    text = (
        f"{beam.energy_keV:g} keV electrons over a {w_um * 1e3:.4g} × {h_um * 1e3:.4g} nm field: "
        f"{format_number(rate, 'e/Å²/s')}"
    )
    if beam.frame_s is not None:
        text += (
            f"; one frame lasts {format_number(beam.frame_s, 's')} and gives "
            f"{format_number(rate * beam.frame_s, 'e/Å²')} "
            f"({format_number(beam.local_fluence_rate_e_per_A2_s, 'e/Å²/s')} on the probed pixel)"
        )
    return f"<small>{html.escape(text)}</small>"


class Planner:
    """Interactive plan editor with live dose figures.

    Attributes
    ----------
    controls : dict of name -> widget (each with ``.value``); layer controls are named
        ``"layers[i].material"`` etc.; metadata controls ``"meta_<key>"``
    result : the last successful :class:`~beamdesign.experiment.ExperimentResult` (or None)
    plan : the plan that produced ``result``
    errors : dict of field -> plain-words message of the current input errors (empty when valid)
    stale : True while the figures show a result older than the controls
    verdict_html, summary_html, advice_html : read-only HTML panels
    figures : dict of name -> bokeh figure; ``widget`` : the box to display
    solve_panel, compare_panel : the Solve and Compare tabs (``solve``, ``scenarios``)
    """

    # the toolbar buttons (``layout.BUTTONS``)
    add_layer: w.Button
    save_button: w.Button
    load_button: w.Button
    undo_button: w.Button
    report_button: w.Button
    advice_button: w.Button

    def __init__(self, plan: Plan | str | None = None) -> None:
        if os.environ.get("OMP_NUM_THREADS", "1") == "1":
            limit_openmp_threads(1)
        plan = load_plan(plan or "default") if not isinstance(plan, Plan) else plan
        self._holding = False
        self._names = library_names()
        self.errors: dict[str, str] = {}
        self.stale = False
        # set by _run(); the cast keeps mypy from taking it as None for the rest of __init__
        self.result = cast(ExperimentResult | None, None)
        self.plan: Plan | None = None
        self._base = plan.to_config()
        self._rows: list[LayerRow] = []
        self._undo: list[dict[str, Any]] = []
        self._energy_key: str | None = None
        self._energy_cache: dict[str, Any] | None = None
        self._dirty: set[str] = set()
        self._advice_for: Plan | None = None
        self._advice_job: BackgroundJob | None = None
        self._busy_lock = threading.Lock()
        self._busy_token: object | None = None
        self._edited = False  # changed since the plan was loaded
        self._build_widgets()
        self._set_from_plan(plan)
        self._run()  # first result, before the figures exist
        if self.result is None:
            raise ValueError(f"the initial plan does not run: {self.errors}")
        self.figures = {
            "dose_time": dose_time_figure(self.result),
            "dose_map": dose_map_figure(self.result),
            "stack": stack_figure(self.result),
            "energy": energy_figure(self.result),
        }
        self._sources = {k: figure_sources(f) for k, f in self.figures.items()}
        self.models = {k: LiveBokehModel(f) for k, f in self.figures.items()}
        verdicts = w.VBox([self.verdict_html], layout=w.Layout(overflow="auto"))
        advice = w.VBox([self.advice_button, self.advice_html])
        self.solve_panel = SolvePanel(self._current_plan, self.apply_config)
        self.solve_panel.set_plan(plan, self._base.get("design"))
        self.compare_panel = ComparePanel(self._current_result, self.solve_panel.quality)
        self.atlas_panel = AtlasPanel(self._probed_material)
        self.figure_tabs = figure_tabs(
            [self.models[k] for k, _ in FIGURE_TABS]
            + [
                verdicts,
                advice,
                self.solve_panel.widget,
                self.compare_panel.widget,
                self.atlas_panel.widget,
            ],
            [t for _, t in FIGURE_TABS] + ["Verdicts", "Advice", "Solve", "Compare", "Atlas"],
        )
        self._show_result()
        self._observe()
        self.widget, self._parts = arrange(
            self.controls,
            self._messages,
            self._buttons,
            self.layer_box,
            self.busy,
            {
                "flux": self.flux_readout,
                "beamline": self.beamline_readout,
                "electron": self.electron_readout,
                "scan": self.scan_readout,
            },
            self.summary_html,
            self.figure_tabs,
        )
        self._show_mode()

    def _build_widgets(self) -> None:
        """The controls, panels and buttons (``layout``), with the buttons' actions."""
        self._static_controls = build_controls()
        self.controls: dict[str, w.Widget] = dict(self._static_controls)
        self._messages = build_messages()
        self.verdict_html = w.HTML()
        self.summary_html = html_panel("bd-summary")
        self.advice_html = html_panel(
            "bd-advice",
            "<i>Press <b>Compute advice</b> for ways to stay below the "
            "thresholds (each option re-runs the model).</i>",
        )
        self.busy = html_panel("bd-busy-indicator")
        self.flux_readout = html_panel("bd-flux-readout", margin="0 0 0 6px")
        self.beamline_readout = html_panel("bd-beamline-readout")
        self.electron_readout = html_panel("bd-electron-readout")
        self.scan_readout = html_panel("bd-scan-readout")
        self.file_html = self._messages["file"]
        self.layer_box = w.VBox()
        self._buttons = build_buttons()
        for attr, widget in self._buttons.items():
            setattr(self, attr, widget)
        self.add_layer.on_click(lambda _: self._edit_layers("add", None))
        self.save_button.on_click(lambda _: self.save())
        self.load_button.on_click(lambda _: self.load())
        self.undo_button.on_click(lambda _: self.undo())
        self.report_button.on_click(lambda _: self.render_report())
        self.advice_button.on_click(lambda _: self._advice_clicked())

    # ------------------------------------------------------------------ layer rows
    def _make_rows(self, layers: list[dict[str, Any]]) -> None:
        for row in self._rows:
            for control in row.controls.values():
                control.unobserve(self._on_change, names="value")
        self._rows = [LayerRow(layer, self._names) for layer in layers]
        self.controls = dict(self._static_controls)
        for i, row in enumerate(self._rows):
            for key, control in row.controls.items():
                self.controls[f"layers[{i}].{key}"] = control
                control.add_class(f"bd-layers-{i}-{key}")
                control.observe(self._on_change, names="value")
            row.up.on_click(lambda _, i=i: self._edit_layers("up", i))
            row.down.on_click(lambda _, i=i: self._edit_layers("down", i))
            row.remove.on_click(lambda _, i=i: self._edit_layers("remove", i))
        self.layer_box.children = [layer_header()] + [row.box for row in self._rows]
        self._refresh_probe_options()

    def _refresh_probe_options(self, renamed: tuple[str, str] | None = None) -> None:
        probe = self.controls["probe"]
        names = [row.name.value for row in self._rows]
        current = probe.value
        if renamed is not None and current == renamed[0]:
            current = renamed[1]  # the probe follows its renamed layer
        with self.hold():
            probe.options = [NO_PROBE, *names]
            probe.value = current if current in names else probe.options[0]

    def _edit_layers(self, action: str, i: int | None) -> None:
        layers = [
            dict(row.base, **self._row_config_or_base(row, j)) for j, row in enumerate(self._rows)
        ]
        if action == "add":
            layers.append(
                {"name": f"layer {len(layers) + 1}", "material": "Kapton", "thickness_um": 25}
            )
        elif action == "remove" and i is not None and len(layers) > 1:
            layers.pop(i)
        elif action in ("up", "down") and i is not None:
            j = i - 1 if action == "up" else i + 1
            if 0 <= j < len(layers):
                layers[i], layers[j] = layers[j], layers[i]
        with self.hold():
            self._make_rows(layers)
            self.controls["preset"].value = CUSTOM
        self.update()

    @staticmethod
    def _row_config_or_base(row: LayerRow, i: int) -> dict[str, Any]:
        try:
            return layer_config(row.base, row.values(), f"stack.layers[{i}]")
        except InputError:  # keep the typed text; the row's own message says what is wrong
            values = row.values()
            return {
                "name": values["name"],
                "material": values["material"],
                "thickness_um": values["thickness_um"],
            }

    @contextlib.contextmanager
    def hold(self) -> Iterator[Planner]:
        """Change several controls without re-running in between (re-run once afterwards with
        :meth:`update` if needed)."""
        previous, self._holding = self._holding, True
        try:
            yield self
        finally:
            self._holding = previous

    # ------------------------------------------------------------------ undo
    def _snapshot(self) -> dict[str, Any]:
        return {
            "static": {
                k: c.value
                for k, c in self._static_controls.items()
                if k not in ("builtin", "plan_path", "overwrite")
            },
            "rows": [(dict(row.base), row.values()) for row in self._rows],
            "base": json.loads(json.dumps(self._base)),
            "attenuators": list(self._material_attenuators),
            "origin": list(self._origin_um),
        }

    def _push_undo(self, what: str, **before: Any) -> None:
        """Remember the controls; ``before``: values of controls that already changed."""
        state = self._snapshot()
        state["static"].update(before)
        self._undo.append({"what": what, "state": state})
        del self._undo[:-10]
        self.undo_button.disabled = False
        self.undo_button.description = "Undo"

    def undo(self) -> bool:
        """Restore the controls as they were before the last preset change, built-in plan or
        load. Returns False when there is nothing to undo."""
        if not self._undo:
            return False
        entry = self._undo.pop()
        state = entry["state"]
        with self.hold():
            self._base = state["base"]
            self._material_attenuators = state["attenuators"]
            self._origin_um = state["origin"]
            self._make_rows([base for base, _ in state["rows"]])
            for row, (_, values) in zip(self._rows, state["rows"], strict=True):
                for key, value in values.items():
                    row.controls[key].value = value
            self._refresh_probe_options()
            self._set_beamline_options(state["static"]["beamline"])
            for key, value in state["static"].items():
                self._static_controls[key].value = value
            self._show_mode()
        self.undo_button.disabled = not self._undo
        self.update()
        self._messages["general"].value = f"<span style='color:#555'>undone: {entry['what']}</span>"
        return True

    # ------------------------------------------------------------------ plan -> controls
    def _set_from_plan(self, plan: Plan) -> None:
        """Put a plan's values into the controls (no re-run)."""
        view = values_from_plan(plan)
        self._base = view.config
        self._material_attenuators = view.material_attenuators
        self._origin_um = view.origin_um
        c = self.controls
        with self.hold():
            if "preset" in view.values:
                c["preset"].value = view.values["preset"]
            self._make_rows(view.layers)
            self._set_beamline_options(view.values.get("beamline", NO_BEAMLINE))
            for key, value in view.values.items():
                c[key].value = value
        if hasattr(self, "_parts"):
            self._show_mode()

    # ------------------------------------------------------------------ probe type, scan, beamline
    def _profile(self, name: str) -> Profile | None:
        """The beamline profile the dropdown's entry ``name`` stands for (None: no profile, or
        the plan's own profile does not load: its error is shown when the plan runs)."""
        if name == NO_BEAMLINE or (name == PLAN_BEAMLINE and "beamline" not in self._base):
            return None
        try:
            return load_profile(self._base["beamline"] if name == PLAN_BEAMLINE else name)
        except (InputError, OSError):
            return None

    def _set_beamline_options(self, selected: str) -> None:
        """The beamline dropdown (the built-in profiles, and the plan's own profile when it
        gives a file or a mapping) and the filter dropdown (the ``selected`` profile's filters)."""
        c = self.controls
        names = profile_names()
        own = self._base.get("beamline")
        extra = [PLAN_BEAMLINE] if own is not None and own not in names else []
        profile = self._profile(selected)
        filters = [name for name, _ in profile.attenuators] if profile is not None else []
        with self.hold():
            c["beamline"].options = [NO_BEAMLINE, *names, *extra]
            c["beamline"].value = selected if selected in c["beamline"].options else NO_BEAMLINE
            current = c["beamline_filter"].value
            c["beamline_filter"].options = [NO_FILTER, *filters]
            c["beamline_filter"].value = current if current in filters else NO_FILTER

    def _beamline_chosen(self, name: str) -> str:
        """A beamline picked in the dropdown: offer its filters, and take its beam shape, its
        first spot (unless the spot is one it offers) and its flux table. Returns the note."""
        c = self.controls
        self._set_beamline_options(name)
        profile = self._profile(name)
        if profile is None:
            return "no beamline profile: the flux is the one typed"
        spot = (c["spot_w_um"].value, c["spot_h_um"].value)
        offered = profile.spots_um
        with self.hold():
            c["profile"].value = profile.beam_profile
            c["flux_from_beamline"].value = True
            if not any(abs(spot[0] - w_) <= 0.5 and abs(spot[1] - h) <= 0.5 for w_, h in offered):
                c["spot_w_um"].value, c["spot_h_um"].value = offered[0]
        return (
            f"beamline {html.escape(profile.name)}: flux from its table, "
            f"{profile.beam_profile} beam, spot one of its offered spots — <b>Undo</b> "
            "restores your beam"
        )

    def _default_xray_controls(self) -> None:
        """The cell and beam of the default plan in the X-ray controls (an electron plan has
        none: switching it to X-rays starts from these)."""
        view = values_from_plan(load_plan("default"))
        c = self.controls
        with self.hold():
            self._make_rows(view.layers)
            self._material_attenuators = view.material_attenuators
            self._set_beamline_options(view.values["beamline"])
            for key in XRAY_CONTROLS:
                c[key].value = view.values[key]

    def _show_mode(self) -> None:
        """Show the controls of the probe type (X-ray cell and beam, or the electron session's
        specimen and beam), of the electron beam form, and the scan or the exposure."""
        c, parts = self.controls, self._parts
        electron = c["probe_type"].value == "electron"
        show(parts["xray_beam"], not electron)
        show(parts["xray_cell"], not electron)
        show(parts["electron_beam"], electron)
        show(parts["specimen"], electron)
        titles = ("Beam", "Specimen") if electron else ("Beam", "Cell")
        tabs = cast(w.Tab, parts["control_tabs"])
        wanted = (*titles[:1], tabs.titles[1], titles[1], *tabs.titles[3:])
        if tuple(tabs.titles) != wanted:
            tabs.titles = wanted
        if hasattr(self, "figure_tabs"):  # the stack figure shows the specimen of a session
            stack = [k for k, _ in FIGURE_TABS].index("stack")
            names = list(self.figure_tabs.titles)
            names[stack] = "Specimen" if electron else dict(FIGURE_TABS)["stack"]
            if tuple(names) != tuple(self.figure_tabs.titles):
                self.figure_tabs.titles = tuple(names)
        form = c["beam_form"].value
        for key in dict.fromkeys(k for keys in BEAM_FORM_CONTROLS.values() for k in keys):
            show(c[key], key in BEAM_FORM_CONTROLS[form])
        raster = c["schedule_mode"].value == "raster"
        for key in ("raster_pattern", "nx", "ny", "step_x_um", "step_y_um"):
            show(c[key], raster)
        show(c["locations"], not raster)
        scan = c["scan"].value and not electron
        show(c["scan"], not electron)
        show(parts["scan"], scan)
        show(c["exposure_s"], not scan)
        beamline = c["beamline"].value != NO_BEAMLINE
        show(parts["beamline"], beamline)
        c["flux_ph_s"].disabled = beamline and c["flux_from_beamline"].value
        show(self.flux_readout, not c["flux_ph_s"].disabled)

    def _show_readouts(self, plan: Plan) -> None:
        """Say what the beamline profile sets, and the electron beam in a microscopist's words."""
        beam, profile = plan.beam, plan.beamline
        text = ""
        if profile is not None:
            from_table = "flux_ph_s" not in (plan.to_config().get("beam") or {})
            table = profile.flux_ph_s(beam.energy_keV)
            flux = f"flux {format_number(beam.flux_ph_s, 'ph/s')} at {beam.energy_keV:g} keV " + (
                "from its table"
                if from_table
                else f"(typed; its table gives {format_number(table, 'ph/s')})"
            )
            spots = ", ".join(f"{w_:g} × {h:g}" for w_, h in profile.spots_um)
            filters = ", ".join(name for name, _ in profile.attenuators) or "none"
            example = " — <b>example values</b>, not a real beamline's" if profile.example else ""
            text = (
                f"<small><b>{html.escape(profile.name)}</b>{example}: {flux}; "
                f"{profile.beam_profile} beam; spots {spots} µm; filters {html.escape(filters)}; "
                f"exposures ≥ {profile.shortest_exposure_s:g} s, moves ≥ {profile.move_s:g} s"
                "</small>"
            )
        if self.beamline_readout.value != text:
            self.beamline_readout.value = text
        text = electron_text(beam) if isinstance(beam, ElectronBeam) else ""
        if self.electron_readout.value != text:
            self.electron_readout.value = text
        scan = plan.schedule.energy_scan
        text = (
            "" if scan is None else f"<small>{html.escape(scan.summary(beam.energy_keV))}</small>"
        )
        if self.scan_readout.value != text:
            self.scan_readout.value = text

    def _observe(self) -> None:
        for name, control in self._static_controls.items():
            if name not in ("plan_path", "overwrite"):
                control.observe(self._on_change, names="value")
        self.figure_tabs.observe(self._on_tab, names="selected_index")

    # ------------------------------------------------------------------ the one callback
    def _on_change(self, change: dict[str, Any]) -> None:
        """The single observer of every control."""
        if self._holding:
            return
        owner = change["owner"]
        c = self.controls
        note = ""
        if owner is c["builtin"]:
            if change["new"] == CHOOSE:
                return
            self._push_undo(f"built-in plan {change['new']}")
            plan = load_plan(change["new"])
            with self.hold():
                self._set_from_plan(plan)
                c["builtin"].value = CHOOSE
            self.solve_panel.set_plan(plan, self._base.get("design"))
            note = (
                f"loaded the built-in plan {html.escape(change['new'])} — <b>Undo</b> "
                "restores your edits"
            )
        elif owner is c["preset"]:
            if change["new"] == CUSTOM:
                return
            self._push_undo(f"cell preset {change['new']}")
            with self.hold():
                self._make_rows([dict(x) for x in preset_config(change["new"])["layers"]])
            note = (
                f"layers replaced by the preset {html.escape(change['new'])} — "
                "<b>Undo</b> restores your layers"
            )
        elif owner is c["beamline"]:
            self._push_undo(f"beamline {change['new']}", beamline=change["old"])
            note = self._beamline_chosen(change["new"])
        elif owner is c["probe_type"]:
            if change["new"] == "x-ray" and not self._rows:  # from an electron plan
                self._default_xray_controls()
            note = (
                "an electron session: set the specimen and the electron beam; the thresholds "
                "are the electron scale (the X-ray plan's thresholds and design section are "
                "left out)"
                if change["new"] == "electron"
                else "an X-ray plan: set the cell and the beam (the default plan's if the plan "
                "had none); the thresholds are the default"
            )
        elif owner is c["energy_slider"]:
            with self.hold():
                c["energy_keV"].value = change["new"]
        elif owner is c["energy_keV"] and 5 <= change["new"] <= 100:
            with self.hold():
                c["energy_slider"].value = change["new"]
        if any(owner is row.name for row in self._rows):
            self._refresh_probe_options(renamed=(change["old"], change["new"]))
        self._edited = owner is not c["builtin"]
        self._show_mode()
        self.update()
        if note and not self._messages["general"].value:
            self._messages["general"].value = f"<span style='color:#555'>{note}</span>"

    def config(self) -> dict[str, Any]:
        """The plan config the controls describe (raises InputError for unparsable text)."""
        return config_from_values(
            {k: c.value for k, c in self._static_controls.items()},
            [(row.base, row.values()) for row in self._rows],
            self._base,
            self._material_attenuators,
            self._origin_um,
        )

    def update(self) -> None:
        """Rebuild the plan from the controls, run it and refresh the summary and the figure on
        screen (the other figures when their tab is opened)."""
        with self._busy():
            if self._run():
                self._show_result()
            else:
                for fig in self.figures.values():
                    mark_stale(fig, True)

    @contextlib.contextmanager
    def _busy(self) -> Iterator[None]:
        """Show "computing…" if what runs inside takes longer than BUSY_AFTER_S: a timer thread
        sets it, so a fast change sends no busy message (two fewer page updates)."""
        token = object()

        def show() -> None:
            with self._busy_lock:
                if self._busy_token is token:
                    self.busy.value = BUSY_HTML

        timer = threading.Timer(BUSY_AFTER_S, show)
        timer.daemon = True
        with self._busy_lock:
            self._busy_token = token
        timer.start()
        try:
            yield
        finally:
            timer.cancel()
            with self._busy_lock:
                self._busy_token = None
                if self.busy.value:
                    self.busy.value = ""

    def _run(self) -> bool:
        flux = self.controls["flux_ph_s"].value
        readout = (
            f"<span style='white-space:nowrap'>= {format_number(flux, 'ph/s')}</span>"
            if abs(flux) >= 1e4
            else ""
        )
        if self.flux_readout.value != readout:  # 1e11 reads better than 100000000000
            self.flux_readout.value = readout
        for m in self._messages.values():
            if m.value and m is not self.file_html:
                m.value = ""
        for row in self._rows:
            if row.message.value:
                row.message.value = ""
        self.errors = {}
        try:
            plan = plan_from_config(self.config())
            result = run_plan(plan)
        except InputError as error:
            self._show_error(error.field, human_message(error))
            return False
        except Exception as error:  # never a traceback in the widget
            self._show_error("general", f"The model could not run this plan: {error}")
            return False
        self.plan, self.result, self.stale = plan, result, False
        flux = self.controls["flux_ph_s"]
        if plan.beamline is not None and flux.disabled and flux.value != plan.beam.flux_ph_s:
            with self.hold():  # the greyed-out flux shows the table's, the one used
                flux.value = plan.beam.flux_ph_s
        self._show_readouts(plan)
        return True

    def _message_widget(self, field: str) -> w.HTML:
        """The message panel next to the control that ``field`` (an InputError field) names."""
        where = message_panel(field, len(self._rows))
        return self._rows[where].message if isinstance(where, int) else self._messages[where]

    def message(self, field: str) -> str:
        """Plain text of the message shown next to the control for ``field``."""
        return re.sub(r"<[^>]+>", "", html.unescape(self._message_widget(field).value)).lstrip("⚠ ")

    def _show_error(self, field: str, text: str) -> None:
        self.errors[field] = text
        self.stale = True
        self._message_widget(
            field
        ).value = f"<span style='color:#b00020'>⚠ {html.escape(text)}</span>"
        if self.result is not None:  # the table of the last valid plan, greyed out
            self.verdict_html.value = (
                "<div class='bd-stale' style='opacity:0.4'>" + verdict_table(self.result) + "</div>"
            )
        self.summary_html.value = (
            "<div class='bd-stale' style='background:#fdecea;padding:4px 6px;"
            "border-left:4px solid #b00020'><b>Stale</b> — the figures and numbers show the last "
            f"valid plan. {html.escape(text)}</div>"
        )

    # ------------------------------------------------------------------ outputs
    def _current(self) -> ExperimentResult:
        """The last result (there is one from the start: the initial plan must run)."""
        if self.result is None:  # pragma: no cover - __init__ refuses a plan that does not run
            raise RuntimeError("the planner has no result")
        return self.result

    def _figure_data(self, key: str) -> dict[str, Any]:
        r = self._current()
        if key == "energy":  # depends on stack, beam and probe only: cached
            cfg = r.plan.to_config()
            beam = r.plan.beam  # as delivered (a beamline's table sets the flux)
            cache_key = json.dumps(
                [
                    cfg.get("stack"),
                    cfg.get("electron"),
                    beam.to_config(),
                    beam.energy_keV,
                    r.probe,
                    (cfg.get("schedule") or {}).get("energy_scan"),  # the figure's range
                ],
                sort_keys=True,
                default=str,
            )
            if cache_key != self._energy_key or self._energy_cache is None:
                self._energy_key, self._energy_cache = cache_key, energy_data(r)
            return self._energy_cache
        return {"dose_time": dose_time_data, "dose_map": dose_map_data, "stack": stack_data}[key](r)

    def _refresh_figure(self, key: str) -> None:
        with self.models[key].batch():  # one patch, not one per changed source
            update_figure(self.figures[key], self._figure_data(key), self._sources[key])
            mark_stale(self.figures[key], False)
        self._dirty.discard(key)

    def _visible_figure(self) -> str | None:
        index = self.figure_tabs.selected_index if hasattr(self, "figure_tabs") else 0
        return FIGURE_TABS[index][0] if index is not None and index < len(FIGURE_TABS) else None

    def _on_tab(self, change: dict[str, Any]) -> None:
        shown = self.figure_tabs.children[change["new"]] if change["new"] is not None else None
        for panel in (self.solve_panel, self.compare_panel, self.atlas_panel):
            if shown is panel.widget:  # its plot is made when first shown
                panel.ensure_plot()
        key = self._visible_figure()
        if key in self._dirty and self.result is not None and not self.stale:
            with self._busy():
                self._refresh_figure(key)

    def sync_figures(self) -> None:
        """Bring every figure up to date now (the planner otherwise refreshes a figure when its
        tab is shown; call this before exporting or inspecting all figures)."""
        for key in list(self._dirty):
            self._refresh_figure(key)

    def _show_result(self) -> None:
        if not hasattr(self, "figures"):
            return
        r = self._current()
        edited = self._edited and self.controls["title"].value == self._base.get("title")
        self.summary_html.value = summary_html(r, edited=edited)  # the numbers first: small
        self.verdict_html.value = verdict_table(r)
        self._dirty = set(self.figures)
        visible = self._visible_figure()
        if visible is not None:
            self._refresh_figure(visible)
        for key, fig in self.figures.items():
            if key in self._dirty:  # refreshed when shown; never left titled STALE
                mark_stale(fig, False)
        self.solve_panel.plan_changed(r.plan)
        if self._advice_job is not None and self._advice_job.running:
            self._advice_job.stop()  # its plan is gone; _advice_done says so
        if self._advice_for is not None and self._advice_for is not r.plan:
            self.advice_html.value = ADVICE_OLD
            self._advice_for = None

    def compute_advice(self, background: bool = False) -> list[str]:
        """Advice for the current plan (each option re-runs the model: seconds on a large
        raster, so only on request). ``background`` (the button): in a child process, the
        planner keeps answering, the button becomes Stop, and a plan change cancels it; returns
        [] at once. Otherwise returns the sentences."""
        if self.result is None or self.stale:
            self.advice_html.value = "<i>Fix the inputs marked ⚠ first.</i>"
            return []
        plan = self.result.plan
        if background:
            self.advice_html.value = (
                "<i class='bd-advice-running'>⏳ computing the advice (each option re-runs the "
                "model)… <b>Stop advice</b> cancels it</i>"
            )
            self.advice_button.description = "Stop advice"
            self._advice_job = BackgroundJob(
                advice_outcome, (plan,), lambda outcome: self._advice_done(outcome, plan)
            )
            return []
        with self._busy():
            return self._advice_done(advice_outcome(plan), plan)

    def _advice_clicked(self) -> None:
        if self._advice_job is not None and self._advice_job.running:
            self._advice_job.stop()
        else:
            self.compute_advice(background=True)

    def _advice_done(self, outcome: Outcome, plan: Plan) -> list[str]:
        """Show an advice outcome (from any thread); its sentences, or []."""
        self.advice_button.description = "Compute advice"
        status, value = outcome
        if self.result is None or self.result.plan is not plan:
            self.advice_html.value = ADVICE_OLD
            return []
        if status == "ok":
            self._advice_for = plan
            self.advice_html.value = (
                ("<ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in value) + "</ul>")
                if value
                else "<i>No advice: the plan is safe.</i>"
            )
            return list(value)
        if status == "stopped":
            text = "<i>Advice stopped: press <b>Compute advice</b> to start again.</i>"
        else:
            sentence = str(InputError(*value)) if status == "input" else str(value)
            text = f"<span style='color:#b00020'>⚠ {html.escape(sentence)}</span>"
        self.advice_html.value = text
        return []

    # ------------------------------------------------------------------ solve and compare
    def _current_plan(self) -> tuple[dict[str, Any], Plan] | None:
        """The current plan's config and Plan (None while the inputs are invalid)."""
        if self.plan is None or self.stale:
            return None
        config = {k: v for k, v in self.config().items() if k != "design"}  # design_plan's rule
        return config, self.plan

    def _probed_material(self) -> Material | None:
        """The material of the probed constituent (None while the inputs are invalid)."""
        if self.result is None or self.stale:
            return None
        layer, name = self.result.probe.split("/", 1)
        constituents = self.result.plan.stack.layer(layer).constituents
        return next(c.material for c in constituents if c.name == name)

    def _current_result(self) -> tuple[dict[str, Any], ExperimentResult] | None:
        """The current plan's config and result (None while the inputs are invalid)."""
        if self.result is None or self.stale:
            return None
        return self.config(), self.result

    def apply_config(self, config: dict[str, Any], what: str) -> bool:
        """Load a plan mapping into the controls and run it, undoably (the Solve panel's
        Apply). Returns False, with the reason in the message panel, when it is not valid."""
        try:
            plan = plan_from_config(config)
        except InputError as error:
            self._show_error("general", human_message(error))
            return False
        self._push_undo(what)
        self._set_from_plan(plan)
        self._edited = True
        self.update()
        self._messages["general"].value = (
            f"<span style='color:#555'>applied {html.escape(what)} — <b>Undo</b> restores "
            "your plan</span>"
        )
        return True

    # ------------------------------------------------------------------ files
    def _file_error(self, text: str) -> None:
        self.file_html.value = f"<span style='color:#b00020'>⚠ {html.escape(text)}</span>"

    def save(self, path: str | Path | None = None, overwrite: bool | None = None) -> Path | None:
        """Save the current plan (YAML) to ``path`` (default: the plan-file control). An
        existing file is replaced only with ``overwrite`` (default: the overwrite checkbox)."""
        path = Path(path or self.controls["plan_path"].value).expanduser()
        overwrite = self.controls["overwrite"].value if overwrite is None else overwrite
        if self.plan is None or self.stale:
            self._file_error("Fix the inputs marked ⚠ before saving: the plan is not valid.")
            return None
        if path.exists() and not overwrite:
            self._file_error(
                f"{path} already exists: nothing saved. Choose another file name, "
                "or tick 'Save may overwrite an existing file'."
            )
            return None
        try:
            out = save_plan(self.plan, path)
        except InputError as error:
            self._file_error(human_message(error))
            return None
        except OSError as error:
            self._file_error(f"Could not write {path}: {error.strerror or error}.")
            return None
        self.file_html.value = f"saved {html.escape(str(out))}"
        return out

    def load(self, path: str | Path | None = None) -> bool:
        """Load a plan file (or built-in name) into the controls and run it (undoable)."""
        spec = str(path or self.controls["plan_path"].value)
        try:
            plan = load_plan(spec)
        except InputError as error:
            self._file_error(human_message(error))
            return False
        except OSError as error:
            self._file_error(f"Could not read {spec}: {error.strerror or error}.")
            return False
        self._push_undo(f"load {spec}")
        self._set_from_plan(plan)
        self.solve_panel.set_plan(plan, self._base.get("design"))
        self._edited = False
        self.update()
        self.file_html.value = (
            f"loaded {html.escape(spec)} — <b>Undo</b> restores the previous plan"
        )
        return True

    def render_report(self, out_html: str | Path | None = None) -> Path | None:
        """Render the HTML report of the current plan next to the plan file path, showing
        progress in the file panel."""
        out = Path(out_html or Path(self.controls["plan_path"].value).with_suffix(".html"))
        if self.plan is None or self.stale:
            self._file_error("Fix the inputs marked ⚠ first: the plan is not valid.")
            return None

        def progress(stage: str, fraction: float) -> None:
            self.file_html.value = (
                f"<span class='bd-progress'>rendering report: "
                f"{html.escape(stage)} ({100 * fraction:.0f} %) "
                f"<progress max='1' value='{fraction:.3f}'></progress></span>"
            )

        kwargs: dict[str, Any] = {}  # progress=, when render_report takes it
        with contextlib.suppress(TypeError, ValueError):
            if "progress" in inspect.signature(render_report).parameters:
                kwargs["progress"] = progress
        progress("starting", 0.0)
        self.report_button.disabled = True
        try:
            path = render_report(self.plan, out, **kwargs)
        except Exception as error:  # shown, not raised, in the widget
            self._file_error(f"The report failed: {error}")
            return None
        finally:
            self.report_button.disabled = False
        self.file_html.value = (
            f"<span class='bd-report-done'>report: "
            f"{html.escape(str(Path(path or out).resolve()))}</span>"
        )
        return Path(path or out)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """Displaying the planner displays its widget."""
        return self.widget._repr_mimebundle_(**kwargs)
