"""The beamtime planner: ipywidgets controls over a plan, live bokeh figures of the result.

The widgets are adapters. Every control exposes ``.value``; one observer (:meth:`Planner._on_change`)
builds a plan config from the controls (:meth:`Planner.config`), validates it with
``plan_from_config``, runs it with ``run_plan`` and replaces the figures' data. An ``InputError``
is shown next to the control its ``field`` names and the figures are greyed out as stale.

>>> planner = Planner()                       # the default plan
>>> planner.controls["energy_keV"].value = 35  # re-runs the model
>>> planner.result.plan.beam.energy_keV
35.0
"""

from __future__ import annotations

import contextlib
import html
import re
from pathlib import Path

import ipywidgets as w
from jupyter_bokeh import BokehModel

from beamdesign.advice import advise
from beamdesign.beam import PROFILES
from beamdesign.coefficients import CONVENTIONS
from beamdesign.errors import InputError
from beamdesign.experiment import ExperimentResult, run_plan
from beamdesign.materials import library_names
from beamdesign.plan import Plan, builtin_plan_names, load_plan, plan_from_config, save_plan
from beamdesign.report import render_report
from beamdesign.schedule import RASTER_PATTERNS
from beamdesign.stack import preset_config, preset_names
from beamdesign.units import duration, si
from beamdesign.widgets.figures import (dose_map_data, dose_map_figure, dose_time_data,
                                        dose_time_figure, energy_data, energy_figure,
                                        mark_stale, stack_data, stack_figure, update_figure)

#: verdict table rows shown (worst locations first)
MAX_TABLE_ROWS = 12
_LAYER_FIELD = re.compile(r"^stack\.layers\[(\d+)\](?:\.(\w+))?")


def _solid_text(layer: dict) -> str:
    """A layer's material as typed in the editor: a name/formula, or "mat:fraction, ..."."""
    if "solid" in layer:
        return ", ".join(f"{s['material']}:{s['mass_fraction']:g}" for s in layer["solid"])
    return str(layer.get("material", ""))


class _LayerRow:
    """One editable layer; ``base`` keeps the keys the editor does not show (note, densities
    inside a solid mixture)."""

    def __init__(self, config: dict, names: list[str]) -> None:
        self.base = dict(config)
        self.name = w.Text(value=str(config.get("name", "")), layout=w.Layout(width="150px"))
        self.material = w.Combobox(value=_solid_text(config), options=names, ensure_option=False,
                                   placeholder="name, formula or mat:fraction, …",
                                   layout=w.Layout(width="230px"))
        density = config.get("density_g_cm3")
        self.density = w.FloatText(value=float(density) if density else 0.0,
                                   layout=w.Layout(width="70px"))
        self.thickness = w.FloatText(value=float(config.get("thickness_um", 10.0)),
                                     layout=w.Layout(width="80px"))
        self.porosity = w.FloatText(value=float(config.get("porosity", 0.0)), step=0.05,
                                    layout=w.Layout(width="60px"))
        self.filler = w.Combobox(value=str(config.get("pore_filler", "")), options=names,
                                 ensure_option=False, layout=w.Layout(width="90px"))
        self.up = w.Button(icon="arrow-up", layout=w.Layout(width="32px"), tooltip="move up")
        self.down = w.Button(icon="arrow-down", layout=w.Layout(width="32px"), tooltip="move down")
        self.remove = w.Button(icon="trash", layout=w.Layout(width="32px"), tooltip="remove")
        self.message = w.HTML()
        self.box = w.VBox([w.HBox([self.name, self.material, self.density, self.thickness,
                                   self.porosity, self.filler, self.up, self.down, self.remove]),
                           self.message])

    @property
    def controls(self) -> dict[str, w.Widget]:
        return {"name": self.name, "material": self.material, "density_g_cm3": self.density,
                "thickness_um": self.thickness, "porosity": self.porosity,
                "pore_filler": self.filler}

    def config(self) -> dict:
        cfg = {k: v for k, v in self.base.items()
               if k not in {"material", "solid", "density_g_cm3", "porosity", "pore_filler"}}
        cfg["name"] = self.name.value
        cfg["thickness_um"] = self.thickness.value
        text = self.material.value.strip()
        if text == _solid_text(self.base) and "solid" in self.base:
            cfg["solid"] = self.base["solid"]
        elif ":" in text:
            solid = []
            for part in text.split(","):
                name, _, fraction = part.partition(":")
                try:
                    solid.append({"material": name.strip(), "mass_fraction": float(fraction)})
                except ValueError:
                    raise InputError("stack.layers[?].material", text,
                                     "a material, or 'material:mass_fraction, …'") from None
            cfg["solid"] = solid
        else:
            cfg["material"] = text
        if self.density.value > 0 and "material" in cfg:
            cfg["density_g_cm3"] = self.density.value
        if self.porosity.value != 0 or self.filler.value.strip():
            cfg["porosity"] = self.porosity.value
            cfg["pore_filler"] = self.filler.value.strip()
        return cfg


class Planner:
    """Interactive plan editor with live dose figures.

    Attributes
    ----------
    controls : dict of name -> widget (each with ``.value``); layer controls are named
        ``"layers[i].material"`` etc.
    result : the last successful :class:`~beamdesign.experiment.ExperimentResult` (or None)
    plan : the plan that produced ``result``
    errors : dict of field -> message of the current input errors (empty when valid)
    stale : True while the figures show a result older than the controls
    verdict_html, summary_html, advice_html : read-only HTML panels
    figures : dict of name -> bokeh figure; ``widget`` : the box to display
    """

    def __init__(self, plan: Plan | str | None = None) -> None:
        plan = load_plan(plan or "default") if not isinstance(plan, Plan) else plan
        self._holding = False
        self._names = library_names()
        self.errors: dict[str, str] = {}
        self.stale = False
        self.result: ExperimentResult | None = None
        self.plan: Plan | None = None
        self._base = plan.to_config()
        self._rows: list[_LayerRow] = []
        self._build_controls()
        self._set_from_plan(plan)
        self._run()  # first result, before the figures exist
        if self.result is None:
            raise ValueError(f"the initial plan does not run: {self.errors}")
        self.figures = {"dose_time": dose_time_figure(self.result),
                        "dose_map": dose_map_figure(self.result),
                        "stack": stack_figure(self.result),
                        "energy": energy_figure(self.result)}
        self.models = {k: BokehModel(f) for k, f in self.figures.items()}
        self._show_result()
        self._observe()
        self.widget = self._layout()

    # ------------------------------------------------------------------ controls
    def _build_controls(self) -> None:
        c: dict[str, w.Widget] = {}
        c["builtin"] = w.Dropdown(options=["(choose)"] + builtin_plan_names(), value="(choose)",
                                  description="built-in plan")
        c["preset"] = w.Dropdown(options=["(custom)"] + preset_names(), description="cell preset")
        c["probe"] = w.Dropdown(options=[], description="probed layer")
        c["energy_keV"] = w.FloatText(description="energy (keV)", step=1.0)
        c["energy_slider"] = w.FloatSlider(min=5, max=100, step=0.5, description="",
                                           continuous_update=False, readout=False)
        c["flux_ph_s"] = w.FloatText(description="flux (ph/s)")
        c["spot_w_um"] = w.FloatText(description="spot w (µm)")
        c["spot_h_um"] = w.FloatText(description="spot h (µm)")
        c["profile"] = w.Dropdown(options=list(PROFILES), description="profile")
        c["convention"] = w.Dropdown(options=list(CONVENTIONS), description="convention")
        c["attenuator_transmission"] = w.FloatText(value=1.0, description="attenuator T")
        c["schedule_mode"] = w.ToggleButtons(options=["raster", "locations"], description="mode")
        c["raster_pattern"] = w.Dropdown(options=list(RASTER_PATTERNS), description="pattern")
        c["nx"] = w.IntText(description="nx")
        c["ny"] = w.IntText(description="ny")
        c["step_x_um"] = w.FloatText(description="step x (µm)")
        c["step_y_um"] = w.FloatText(description="step y (µm)")
        c["locations"] = w.Textarea(description="locations", continuous_update=False,
                                    placeholder="name, x_um, y_um[, exposure_s] — one per line",
                                    layout=w.Layout(width="420px", height="110px"))
        c["exposure_s"] = w.FloatText(description="exposure (s)")
        c["move_s"] = w.FloatText(description="move (s)")
        c["loop"] = w.Text(description="loop", placeholder="until-end, once or a number")
        c["pause_s"] = w.FloatText(description="pause (s)")
        c["protocol"] = w.Textarea(description="protocol", continuous_update=False,
                                   layout=w.Layout(width="420px", height="120px"),
                                   placeholder="one step per line, e.g. Charge at C/10 until 100%")
        c["plan_path"] = w.Text(value="my_plan.yaml", description="plan file")
        for name, control in c.items():
            control.add_class(f"bd-{name}")
            if hasattr(control.style, "description_width"):
                control.style.description_width = "110px"
        self._static_controls = c
        self.controls: dict[str, w.Widget] = dict(c)
        msg = ("cell", "probe", "energy_keV", "flux_ph_s", "spot", "profile", "convention",
               "attenuator_transmission", "raster", "locations", "exposure_s", "move_s", "loop",
               "pause_s", "schedule", "protocol", "general", "file")
        self._messages = {k: w.HTML() for k in msg}
        for k, m in self._messages.items():
            m.add_class(f"bd-msg-{k}")
        self.verdict_html = w.HTML()
        self.summary_html = w.HTML()
        self.summary_html.add_class("bd-summary")
        self.advice_html = w.HTML()
        self.file_html = self._messages["file"]
        self.layer_box = w.VBox()
        self.add_layer = w.Button(description="add layer", icon="plus")
        self.save_button = w.Button(description="Save plan", icon="save")
        self.load_button = w.Button(description="Load plan", icon="folder-open")
        self.report_button = w.Button(description="Render report", icon="file")
        self.add_layer.on_click(lambda _: self._edit_layers("add", None))
        self.save_button.on_click(lambda _: self.save())
        self.load_button.on_click(lambda _: self.load())
        self.report_button.on_click(lambda _: self.render_report())

    def _make_rows(self, layers: list[dict]) -> None:
        for row in self._rows:
            for control in row.controls.values():
                control.unobserve(self._on_change, names="value")
        self._rows = [_LayerRow(layer, self._names) for layer in layers]
        self.controls = dict(self._static_controls)
        for i, row in enumerate(self._rows):
            for key, control in row.controls.items():
                self.controls[f"layers[{i}].{key}"] = control
                control.add_class(f"bd-layers-{i}-{key}")
                control.observe(self._on_change, names="value")
            row.up.on_click(lambda _, i=i: self._edit_layers("up", i))
            row.down.on_click(lambda _, i=i: self._edit_layers("down", i))
            row.remove.on_click(lambda _, i=i: self._edit_layers("remove", i))
        header = w.HTML("<b>name | material (name, formula or mat:fraction, …) | density g/cm³ "
                        "(0 = library) | thickness µm | porosity | pore filler</b>")
        self.layer_box.children = [header] + [row.box for row in self._rows]
        self._refresh_probe_options()

    def _refresh_probe_options(self) -> None:
        probe = self.controls["probe"]
        names = [row.name.value for row in self._rows]
        current = probe.value
        with self.hold():
            probe.options = ["(highest dose rate)"] + names
            probe.value = current if current in names else probe.options[0]

    def _edit_layers(self, action: str, i: int | None) -> None:
        layers = [row.config() for row in self._rows]
        if action == "add":
            layers.append({"name": f"layer {len(layers) + 1}", "material": "Kapton",
                           "thickness_um": 25})
        elif action == "remove" and i is not None and len(layers) > 1:
            layers.pop(i)
        elif action in ("up", "down") and i is not None:
            j = i - 1 if action == "up" else i + 1
            if 0 <= j < len(layers):
                layers[i], layers[j] = layers[j], layers[i]
        with self.hold():
            self._make_rows(layers)
        self.update()

    @contextlib.contextmanager
    def hold(self):
        """Change several controls without re-running in between (re-run once afterwards with
        :meth:`update` if needed)."""
        previous, self._holding = self._holding, True
        try:
            yield self
        finally:
            self._holding = previous

    def _set_from_plan(self, plan: Plan) -> None:
        """Put a plan's values into the controls (no re-run)."""
        cfg = plan.to_config()
        self._base = cfg
        c = self.controls
        with self.hold():
            stack = cfg["stack"]
            if isinstance(stack, str) and stack.lower() in [n.lower() for n in preset_names()]:
                c["preset"].value = next(n for n in preset_names() if n.lower() == stack.lower())
                layers = preset_config(stack)["layers"]
            else:
                c["preset"].value = "(custom)"
                layers = plan.stack.to_config()["layers"]
            self._make_rows([dict(x) for x in layers])
            probe = (cfg.get("probe") or "").split("/")[0].strip()
            names = [row.name.value for row in self._rows]
            match = [n for n in names if n.lower() == probe.lower()]
            c["probe"].value = match[0] if match else "(highest dose rate)"
            beam = plan.beam
            c["energy_keV"].value = beam.energy_keV
            c["energy_slider"].value = min(max(beam.energy_keV, 5), 100)
            c["flux_ph_s"].value = beam.flux_ph_s
            c["spot_w_um"].value, c["spot_h_um"].value = beam.spot_um
            c["profile"].value = beam.profile
            c["convention"].value = beam.convention
            fixed = [a for a in beam.attenuators if a.fixed_transmission is not None]
            t = 1.0
            for a in fixed:
                t *= a.fixed_transmission
            c["attenuator_transmission"].value = t
            self._material_attenuators = [a.to_config() for a in beam.attenuators
                                          if a.fixed_transmission is None]
            sched = cfg["schedule"]
            raster = sched.get("raster")
            c["schedule_mode"].value = "raster" if raster else "locations"
            raster = raster or {"pattern": "snake", "nx": 3, "ny": 1,
                                "step_um": [max(beam.spot_um)] * 2}
            c["raster_pattern"].value = raster.get("pattern", "snake")
            c["nx"].value, c["ny"].value = int(raster.get("nx", 1)), int(raster.get("ny", 1))
            step = raster.get("step_um", [0, 0])
            step = [step, step] if isinstance(step, (int, float)) else step
            c["step_x_um"].value, c["step_y_um"].value = float(step[0]), float(step[1])
            self._origin_um = raster.get("origin_um", [0, 0])
            locs = plan.schedule.locations
            c["locations"].value = "\n".join(
                f"{loc.name}, {loc.x_um:g}, {loc.y_um:g}, {loc.exposure_s:g}" for loc in locs)
            exposures = [loc.exposure_s for loc in locs]
            c["exposure_s"].value = float(sched.get("exposure_s", exposures[0] if exposures else 1))
            c["move_s"].value = float(sched.get("move_s", 0))
            c["loop"].value = str(sched.get("loop", "until-end"))
            c["pause_s"].value = float(sched.get("pause_s", 0))
            protocol = cfg["protocol"]
            protocol = [protocol] if isinstance(protocol, str) else protocol
            c["protocol"].value = "\n".join(str(p) if isinstance(p, str) else _repeat_text(p)
                                            for p in protocol)

    def _observe(self) -> None:
        for control in self._static_controls.values():
            if control is not self.controls["plan_path"]:
                control.observe(self._on_change, names="value")

    # ------------------------------------------------------------------ the one callback
    def _on_change(self, change) -> None:
        """The single observer of every control."""
        if self._holding:
            return
        owner = change["owner"]
        c = self.controls
        if owner is c["builtin"]:
            if change["new"] == "(choose)":
                return
            with self.hold():
                self._set_from_plan(load_plan(change["new"]))
                c["builtin"].value = "(choose)"
        elif owner is c["preset"]:
            if change["new"] == "(custom)":
                return
            with self.hold():
                self._make_rows([dict(x) for x in preset_config(change["new"])["layers"]])
        elif owner is c["energy_slider"]:
            with self.hold():
                c["energy_keV"].value = change["new"]
        elif owner is c["energy_keV"] and 5 <= change["new"] <= 100:
            with self.hold():
                c["energy_slider"].value = change["new"]
        if any(owner is row.name for row in self._rows):
            self._refresh_probe_options()
        self.update()

    def config(self) -> dict:
        """The plan config the controls describe (raises InputError for unparsable text)."""
        c = self.controls
        cfg = {k: v for k, v in self._base.items() if k in ("version", "title", "notes",
                                                             "thresholds", "soc0")}
        layers = []
        for i, row in enumerate(self._rows):
            try:
                layers.append(row.config())
            except InputError as error:
                raise InputError(f"stack.layers[{i}].material", error.value, error.allowed) from None
        name = c["preset"].value if c["preset"].value != "(custom)" else "custom"
        cfg["stack"] = {"name": name, "layers": layers}
        attenuators = list(self._material_attenuators)
        if c["attenuator_transmission"].value != 1.0:
            attenuators.append({"transmission": c["attenuator_transmission"].value})
        cfg["beam"] = {"energy_keV": c["energy_keV"].value, "flux_ph_s": c["flux_ph_s"].value,
                       "spot_um": [c["spot_w_um"].value, c["spot_h_um"].value],
                       "profile": c["profile"].value, "convention": c["convention"].value}
        if attenuators:
            cfg["beam"]["attenuators"] = attenuators
        cfg["protocol"] = [line.strip() for line in c["protocol"].value.splitlines()
                           if line.strip()]
        loop = c["loop"].value.strip()
        sched: dict = {"exposure_s": c["exposure_s"].value, "move_s": c["move_s"].value,
                       "loop": int(loop) if loop.isdigit() else loop,
                       "pause_s": c["pause_s"].value}
        if c["schedule_mode"].value == "raster":
            sched["raster"] = {"pattern": c["raster_pattern"].value, "nx": c["nx"].value,
                               "ny": c["ny"].value,
                               "step_um": [c["step_x_um"].value, c["step_y_um"].value],
                               "origin_um": list(self._origin_um)}
        else:
            sched["locations"] = _parse_locations(c["locations"].value)
        cfg["schedule"] = sched
        if c["probe"].value != "(highest dose rate)":
            cfg["probe"] = c["probe"].value
        return cfg

    def update(self) -> None:
        """Rebuild the plan from the controls, run it and refresh every panel."""
        if self._run():
            self._show_result()
        else:
            for fig in self.figures.values():
                mark_stale(fig, True)

    def _run(self) -> bool:
        for m in self._messages.values():
            m.value = ""
        for row in self._rows:
            row.message.value = ""
        self.errors = {}
        try:
            plan = plan_from_config(self.config())
            result = run_plan(plan)
        except InputError as error:
            self._show_error(error.field, str(error))
            return False
        except Exception as error:  # noqa: BLE001 - never a traceback in the widget
            self._show_error("general", f"{type(error).__name__}: {error}")
            return False
        self.plan, self.result, self.stale = plan, result, False
        return True

    def _message_widget(self, field: str) -> w.HTML:
        """The message panel next to the control that ``field`` (an InputError field) names."""
        m = _LAYER_FIELD.match(field)
        if m and int(m.group(1)) < len(self._rows):
            return self._rows[int(m.group(1))].message
        table = [("beam.energy_keV", "energy_keV"), ("energies_keV", "energy_keV"),
                 ("beam.flux_ph_s", "flux_ph_s"), ("beam.spot_um", "spot"),
                 ("beam.profile", "profile"), ("beam.convention", "convention"),
                 ("beam.attenuators", "attenuator_transmission"), ("beam", "energy_keV"),
                 ("stack", "cell"), ("layer", "probe"), ("probe", "probe"),
                 ("protocol", "protocol"), ("soc0", "protocol"),
                 ("schedule.locations", "locations"), ("schedule.raster", "raster"),
                 ("schedule.exposure_s", "exposure_s"), ("schedule.move_s", "move_s"),
                 ("schedule.loop", "loop"), ("schedule.pause_s", "pause_s"),
                 ("schedule", "schedule"), ("thresholds", "general")]
        for prefix, key in table:
            if field == prefix or field.startswith(prefix + ".") or field.startswith(prefix + "["):
                return self._messages[key]
        return self._messages["general"]

    def message(self, field: str) -> str:
        """Plain text of the message shown next to the control for ``field``."""
        return re.sub(r"<[^>]+>", "", html.unescape(self._message_widget(field).value))

    def _show_error(self, field: str, text: str) -> None:
        self.errors[field] = text
        self.stale = True
        self._message_widget(field).value = (
            f"<span style='color:#b00020'>⚠ {html.escape(text)}</span>")
        if self.result is not None:  # the table of the last valid plan, greyed out
            self.verdict_html.value = ("<div class='bd-stale' style='opacity:0.4'>"
                                       + verdict_table(self.result) + "</div>")
        self.summary_html.value = ("<div style='background:#eee;padding:4px'><b>Stale:</b> the "
                                   "figures and numbers show the last valid plan; fix the input "
                                   f"marked ⚠ ({html.escape(field)}).</div>")

    # ------------------------------------------------------------------ outputs
    def _show_result(self) -> None:
        r = self.result
        if not hasattr(self, "figures"):
            return
        update_figure(self.figures["dose_time"], dose_time_data(r))
        update_figure(self.figures["dose_map"], dose_map_data(r))
        update_figure(self.figures["stack"], stack_data(r))
        update_figure(self.figures["energy"], energy_data(r))
        for fig in self.figures.values():
            mark_stale(fig, False)
        self.verdict_html.value = verdict_table(r)
        worst = r.worst()
        self.summary_html.value = (
            f"<div><b>{html.escape(r.probe)}</b>: worst location <b>{html.escape(worst.name)}</b> "
            f"receives <b class='bd-dose'>{si(worst.dose_Gy[r.probe], 'Gy')}</b> over "
            f"{duration(float(r.time_s[-1]))}; cell transmission "
            f"{100 * float(r.spectrum.transmission[0]):.3g} % — {html.escape(worst.verdict)}</div>")
        sentences = advise(r.plan, result=r).sentences
        self.advice_html.value = ("<ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in sentences)
                                  + "</ul>") if sentences else ""

    # ------------------------------------------------------------------ files
    def save(self, path: str | Path | None = None) -> Path | None:
        """Save the current plan (YAML) to ``path`` (default: the plan-file control)."""
        path = Path(path or self.controls["plan_path"].value).expanduser()
        if self.plan is None or self.stale:
            self.file_html.value = "<span style='color:#b00020'>⚠ fix the inputs before saving</span>"
            return None
        try:
            out = save_plan(self.plan, path)
        except (OSError, InputError) as error:
            self.file_html.value = f"<span style='color:#b00020'>⚠ {html.escape(str(error))}</span>"
            return None
        self.file_html.value = f"saved {html.escape(str(out))}"
        return out

    def load(self, path: str | Path | None = None) -> bool:
        """Load a plan file (or built-in name) into the controls and run it."""
        spec = str(path or self.controls["plan_path"].value)
        try:
            plan = load_plan(spec)
        except (OSError, InputError) as error:
            self.file_html.value = f"<span style='color:#b00020'>⚠ {html.escape(str(error))}</span>"
            return False
        self._set_from_plan(plan)
        self.update()
        self.file_html.value = f"loaded {html.escape(spec)}"
        return True

    def render_report(self, out_html: str | Path | None = None) -> Path | None:
        """Render the HTML report of the current plan next to the plan file path."""
        out = Path(out_html or Path(self.controls["plan_path"].value).with_suffix(".html"))
        if self.plan is None or self.stale:
            self.file_html.value = "<span style='color:#b00020'>⚠ fix the inputs first</span>"
            return None
        try:
            path = render_report(self.plan, out)
        except Exception as error:  # noqa: BLE001 - shown, not raised, in the widget
            self.file_html.value = f"<span style='color:#b00020'>⚠ {html.escape(str(error))}</span>"
            return None
        self.file_html.value = f"report: {html.escape(str(path or out))}"
        return Path(path or out)

    # ------------------------------------------------------------------ layout
    def _layout(self) -> w.Widget:
        c, m = self.controls, self._messages
        cell = w.VBox([w.HBox([c["preset"], m["cell"]]), self.layer_box, self.add_layer,
                       w.HBox([c["probe"], m["probe"]])])
        beam = w.VBox([w.HBox([c["energy_keV"], c["energy_slider"], m["energy_keV"]]),
                       w.HBox([c["flux_ph_s"], m["flux_ph_s"]]),
                       w.HBox([c["spot_w_um"], c["spot_h_um"], m["spot"]]),
                       w.HBox([c["profile"], m["profile"]]),
                       w.HBox([c["convention"], m["convention"]]),
                       w.HBox([c["attenuator_transmission"], m["attenuator_transmission"]])])
        schedule = w.VBox([c["schedule_mode"],
                           w.HBox([c["raster_pattern"], c["nx"], c["ny"]]),
                           w.HBox([c["step_x_um"], c["step_y_um"], m["raster"]]),
                           w.HBox([c["locations"], m["locations"]]),
                           w.HBox([c["exposure_s"], m["exposure_s"]]),
                           w.HBox([c["move_s"], m["move_s"]]), w.HBox([c["loop"], m["loop"]]),
                           w.HBox([c["pause_s"], m["pause_s"]]), m["schedule"]])
        protocol = w.VBox([c["protocol"], m["protocol"],
                           w.HTML("<small>Examples: Charge at C/8 for 8 h · Rest for 30 min · "
                                  "Discharge at 1C until 0% · Repeat 3 times: [Charge at C/2 "
                                  "until 100%, Discharge at C/2 until 0%]</small>")])
        tabs = w.Tab(children=[cell, beam, schedule, protocol])
        for i, title in enumerate(("Cell", "Beam", "Schedule", "Protocol")):
            tabs.set_title(i, title)
        files = w.VBox([c["builtin"], w.HBox([c["plan_path"], self.save_button, self.load_button,
                                              self.report_button]), m["file"]])
        left = w.VBox([tabs, files, m["general"]], layout=w.Layout(width="50%"))
        models = self.models
        right = w.VBox([self.summary_html,
                        w.HBox([models["dose_time"], models["dose_map"]]),
                        w.HBox([models["stack"], models["energy"]]),
                        self.verdict_html, w.HTML("<b>Advice</b>"), self.advice_html])
        return w.VBox([left, right])


def _repeat_text(entry: dict) -> str:
    (head, steps), = entry.items()
    inner = ", ".join(s if isinstance(s, str) else _repeat_text(s) for s in steps)
    return f"{head[0].upper()}{head[1:]}: [{inner}]"


def _parse_locations(text: str) -> list[dict]:
    """Lines "name, x_um, y_um[, exposure_s]" -> schedule location mappings."""
    out = []
    for i, line in enumerate(x for x in text.splitlines() if x.strip()):
        parts = [p.strip() for p in line.split(",")]
        if len(parts) not in (3, 4):
            raise InputError(f"schedule.locations[{i}]", line,
                             "one location per line: name, x_um, y_um[, exposure_s]")
        try:
            loc = {"name": parts[0], "x_um": float(parts[1]), "y_um": float(parts[2])}
            if len(parts) == 4:
                loc["exposure_s"] = float(parts[3])
        except ValueError:
            raise InputError(f"schedule.locations[{i}]", line,
                             "x_um, y_um and exposure_s are numbers") from None
        out.append(loc)
    if not out:
        raise InputError("schedule.locations", text, "at least one line: name, x_um, y_um")
    return out


def verdict_table(result: ExperimentResult) -> str:
    """HTML table of the worst locations: dose, dose rates, first crossing, verdict."""
    probe = result.probe
    rows = sorted(result.locations, key=lambda loc: -loc.dose_Gy[probe])[:MAX_TABLE_ROWS]
    head = ("<tr><th>location</th><th>scans</th><th>beam on</th><th>dose</th>"
            "<th>local rate</th><th>averaged rate</th><th>first threshold crossed</th>"
            "<th>verdict</th></tr>")
    body = []
    for loc in rows:
        crossed = [c for c in loc.crossings if c.time_s is not None]
        first = min(crossed, key=lambda c: c.time_s) if crossed else None
        first_text = ("none" if first is None else
                      f"{html.escape(first.threshold.name)} at {duration(first.time_s)}"
                      + ("" if first.soc is None else f" (SOC {100 * first.soc:.3g} %)"))
        body.append(f"<tr><td>{html.escape(loc.name)}</td><td>{loc.scans}</td>"
                    f"<td>{duration(loc.beam_on_s)}</td><td>{si(loc.dose_Gy[probe], 'Gy')}</td>"
                    f"<td>{si(loc.local_dose_rate_Gy_per_s, 'Gy/s')}</td>"
                    f"<td>{si(float(loc.averaged_dose_rate_Gy_per_s), 'Gy/s')}</td>"
                    f"<td>{first_text}</td><td>{html.escape(loc.verdict)}</td></tr>")
    more = len(result.locations) - len(rows)
    note = f"<p><small>{more} more locations not shown.</small></p>" if more > 0 else ""
    return (f"<table class='bd-verdict' border='1' style='border-collapse:collapse'>"
            f"{head}{''.join(body)}</table>{note}")
