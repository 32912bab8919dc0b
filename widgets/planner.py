"""The beamtime planner: a side panel of ipywidgets controls beside live bokeh figures.

The widgets are adapters. Every control exposes ``.value``; one observer
(:meth:`Planner._on_change`) builds a plan config from the controls (:meth:`Planner.config`),
validates it with ``plan_from_config``, runs it with ``run_plan`` and replaces the data of the
figure on screen (the others when their tab is opened). An ``InputError`` is shown in plain
words next to the control its ``field`` names, and the figures and the summary are marked stale
together.

>>> planner = Planner()  # the default plan
>>> planner.controls["energy_keV"].value = 35  # re-runs the model
>>> planner.result.plan.beam.energy_keV
35.0
"""

from __future__ import annotations

import contextlib
import html
import inspect
import json
import math
import os
import re
from collections.abc import Iterator
from numbers import Real
from pathlib import Path
from typing import Any, cast

import ipywidgets as w

from beamdesign.advice import advise
from beamdesign.beam import PROFILES
from beamdesign.coefficients import CONVENTIONS
from beamdesign.errors import InputError
from beamdesign.experiment import ExperimentResult, run_plan
from beamdesign.materials import library_names, resolve_material
from beamdesign.plan import (
    METADATA_KEYS,
    Plan,
    builtin_plan_names,
    load_plan,
    plan_from_config,
    save_plan,
)
from beamdesign.report import render_report
from beamdesign.schedule import RASTER_PATTERNS
from beamdesign.stack import preset_config, preset_names
from beamdesign.widgets import limit_openmp_threads, setup_notebook
from beamdesign.widgets.bokeh_sync import BatchedBokehModel
from beamdesign.widgets.figures import (
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

__all__ = [
    "LiveBokehModel",
    "Planner",
    "format_number",
    "human_message",
    "setup_notebook",
    "summary_html",
    "verdict_table",
]

#: figure tabs, in order (key, tab title)
FIGURE_TABS = (
    ("dose_time", "Dose vs time"),
    ("dose_map", "Dose map"),
    ("stack", "Cell stack"),
    ("energy", "Energy"),
)
_LAYER_FIELD = re.compile(r"^stack\.layers\[(\d+)\](?:\.(\w+))?")
#: shown while the kernel computes; CSS keeps it invisible for the first 200 ms. The keyframes
#: are defined once (STYLE_HTML): a <style> inserted on every change would restyle the page.
BUSY_HTML = (
    "<span class='bd-busy' style='opacity:0;animation:bd-busy 0s linear 0.2s forwards;"
    "color:#555'>⏳ computing…</span>"
)
STYLE_HTML = "<style>@keyframes bd-busy{to{opacity:1}}</style>"
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")

#: control name -> (label in messages, unit, tooltip)
TOOLTIPS: dict[str, tuple[str, str, str]] = {
    "title": ("plan title", "", "Title of the plan: shown in saved plans and reports"),
    "notes": ("notes", "", "Free notes saved with the plan"),
    "meta_proposal": ("proposal", "", "Proposal number (for the report)"),
    "meta_beamline": ("beamline", "", "Beamline (for the report)"),
    "meta_facility": ("facility", "", "Synchrotron facility (for the report)"),
    "meta_principal_investigator": ("principal investigator", "", "PI (for the report)"),
    "meta_sample": ("sample", "", "Sample description (for the report)"),
    "meta_date": ("date", "", "Date of the beamtime (for the report)"),
    "builtin": (
        "built-in plan",
        "",
        "Load one of the built-in plans (the paper's experiments, "
        "the default); your edits can be undone",
    ),
    "preset": ("cell preset", "", "Replace the layers by a preset cell (can be undone)"),
    "probe": (
        "probed layer",
        "",
        "The layer whose dose is compared with the thresholds; "
        "'highest dose rate' picks the constituent that heats most",
    ),
    "energy_keV": ("energy", "keV", "Photon energy of the monochromatic beam (keV)"),
    "energy_slider": ("energy", "keV", "Photon energy of the beam, 5–100 keV"),
    "flux_ph_s": ("flux", "ph/s", "Photons per second on the sample, after the optics (ph/s)"),
    "spot_w_um": (
        "spot width",
        "µm",
        "Beam width: FWHM for a Gaussian, full width for a top-hat (µm)",
    ),
    "spot_h_um": (
        "spot height",
        "µm",
        "Beam height: FWHM for a Gaussian, full height for a top-hat (µm)",
    ),
    "profile": ("beam profile", "", "Gaussian (peak = 0.883 × top-hat of equal flux) or top-hat"),
    "convention": (
        "dose convention",
        "",
        "Which attenuation coefficient deposits energy: "
        "energy-absorption (physical dose), photoabsorption or total attenuation",
    ),
    "attenuator_transmission": (
        "attenuator transmission",
        "",
        "Fraction of the beam passed by extra attenuators, 0–1 (1 = none)",
    ),
    "schedule_mode": ("schedule", "", "A raster of nx × ny points, or a list of locations"),
    "raster_pattern": ("raster pattern", "", "Order in which the raster points are visited"),
    "nx": ("raster points along x", "", "Number of raster columns"),
    "ny": ("raster points along y", "", "Number of raster rows"),
    "step_x_um": ("raster step x", "µm", "Distance between raster columns (µm)"),
    "step_y_um": ("raster step y", "µm", "Distance between raster rows (µm)"),
    "locations": ("locations", "", "One location per line: name, x_um, y_um[, exposure_s]"),
    "exposure_s": ("exposure per scan", "s", "Beam-on time per scan at each location (s)"),
    "move_s": ("move time", "s", "Motor move (beam off) between locations (s)"),
    "loop": ("loop", "", "until-end (repeat over the whole protocol), once, or a number of loops"),
    "pause_s": ("pause between loops", "s", "Beam-off wait after each loop (s)"),
    "protocol": ("protocol", "", "Electrochemical protocol, one step per line"),
    "plan_path": (
        "plan file",
        "",
        "File to save/load (.yaml, .yml or .json), relative to the "
        "notebook's folder; Render report writes the .html beside it",
    ),
    "overwrite": ("overwrite", "", "Allow Save to replace an existing file"),
}
#: layer-row control -> (label, unit, tooltip)
LAYER_TOOLTIPS: dict[str, tuple[str, str, str]] = {
    "name": ("name", "", "Layer name (the probe follows a renamed layer)"),
    "material": (
        "material",
        "",
        "A library name or formula, or a mixture "
        "'material:mass_fraction, …' (e.g. 'NMC811:0.94, carbon:0.03, PVDF:0.03')",
    ),
    "density_g_cm3": (
        "density",
        "g/cm³",
        "Solid density (g/cm³); 0 = from the library (for a mixture: the mixture's solid density)",
    ),
    "thickness_um": ("thickness", "µm", "Layer thickness along the beam (µm)"),
    "porosity": ("porosity", "", "Pore volume fraction, 0 ≤ porosity < 1"),
    "pore_filler": ("pore filler", "", "Material filling the pores (e.g. LP57 electrolyte)"),
}
#: error-field prefix -> message panel key (first match wins)
_FIELD_PANELS = (
    ("beam.energy_keV", "energy_keV"),
    ("energies_keV", "energy_keV"),
    ("beam.flux_ph_s", "flux_ph_s"),
    ("beam.spot_um", "spot"),
    ("beam.profile", "profile"),
    ("beam.convention", "convention"),
    ("beam.attenuators", "attenuator_transmission"),
    ("beam", "energy_keV"),
    ("stack", "cell"),
    ("layer", "probe"),
    ("probe", "probe"),
    ("protocol", "protocol"),
    ("soc0", "protocol"),
    ("schedule.locations", "locations"),
    ("schedule.raster", "raster"),
    ("schedule.exposure_s", "exposure_s"),
    ("schedule.move_s", "move_s"),
    ("schedule.loop", "loop"),
    ("schedule.pause_s", "pause_s"),
    ("schedule", "schedule"),
    ("title", "plan"),
    ("notes", "plan"),
    ("metadata", "plan"),
    ("thresholds", "general"),
)
#: last part of an error field -> (label, unit) when it is not a control name
_FIELD_LABELS = {
    "spot_um": ("spot size", "µm"),
    "transmission": ("attenuator transmission", ""),
    "step_um": ("raster step", "µm"),
    "nx": ("raster points along x", ""),
    "ny": ("raster points along y", ""),
    "origin_um": ("raster origin", "µm"),
    "x_um": ("x", "µm"),
    "y_um": ("y", "µm"),
    "mass_fraction": ("mass fraction", ""),
    "solid": ("mixture", ""),
    "thresholds": ("thresholds", ""),
}


def format_number(x: object, unit: str = "") -> str:
    """A number as people write it: 3 significant digits, ``−1 × 10¹²`` for large/small ones,
    a true minus sign, the unit after a space."""
    if isinstance(x, bool) or not isinstance(x, Real):
        text = repr(x) if isinstance(x, str) else str(x)
    elif not math.isfinite(x):
        text = {math.inf: "∞", -math.inf: "−∞"}.get(float(x), "not a number")
    elif x != 0 and not 1e-3 <= abs(x) < 1e4:
        exponent = math.floor(math.log10(abs(x)))
        mantissa = x / 10**exponent
        if round(mantissa, 2) in (10.0, -10.0):
            mantissa, exponent = mantissa / 10, exponent + 1
        text = f"{mantissa:.3g} × 10{str(exponent).translate(_SUPERSCRIPT)}".replace("-", "−")
    else:
        text = f"{x:.4g}".replace("-", "−")
    return f"{text} {unit}".rstrip() if unit and isinstance(x, Real) else text


def _format_value(value: object, unit: str) -> str:
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, Real) for v in value):
        return " × ".join(format_number(v) for v in value) + (f" {unit}" if unit else "")
    if isinstance(value, str):
        return f"'{value}'" if value.strip() else "nothing"
    return format_number(value, unit) if isinstance(value, Real) else str(value)


def human_message(error: InputError, label: str | None = None, unit: str | None = None) -> str:
    """The plain-words sentence shown next to a control: what is allowed, what was given (with
    its unit, numbers formatted), the hint."""
    last = re.sub(r"\[\d+\]$", "", error.field.split(".")[-1])
    guess_label, guess_unit = _FIELD_LABELS.get(last, (None, None))
    if guess_label is None:
        entry = TOOLTIPS.get(last) or LAYER_TOOLTIPS.get(last)
        guess_label, guess_unit = (entry[0], entry[1]) if entry else (last.replace("_", " "), "")
    label = label or guess_label
    unit = guess_unit if unit is None else unit
    allowed = error.allowed.rstrip(".")
    low = allowed.lower()
    if low.startswith(("must", "is ", "are ")):
        text = f"{label} {allowed}"
    elif low.startswith((label.lower(), last.replace("_", " ").lower())):
        text = allowed  # the core's sentence already names it
    elif low.startswith(("a ", "an ", "one ", "at ", "between ", "in ")):
        text = f"{label} must be {allowed}"
    else:
        text = f"{label}: {allowed}"
    text += f"; got {_format_value(error.value, unit)}"
    if error.hint:
        text += f" ({error.hint.rstrip('.')})"
    return text[0].upper() + text[1:] + "."


class LiveBokehModel(BatchedBokehModel):
    """A BokehModel whose saved state is the figure *now*: a page reload (or a new view, or
    Voila's first paint) asks the kernel for the widget state and gets the current document,
    not the one the model was created with, so plots always match the summary."""

    def get_state(self, key: str | None = None, drop_defaults: bool = False) -> Any:
        state = super().get_state(key=key, drop_defaults=drop_defaults)
        if "render_bundle" in state:
            from bokeh.core.json_encoder import serialize_json

            state["render_bundle"] = serialize_json(self._model_to_traits(self._model))
        return state

    def close(self) -> None:
        with contextlib.suppress(KeyError):  # jupyter_bokeh 4.1: a second close raises
            super().close()


def _solid_text(layer: dict[str, Any]) -> str:
    """A layer's material as typed in the editor: a name/formula, or "mat:fraction, ..."."""
    if "solid" in layer:
        return ", ".join(f"{s['material']}:{s['mass_fraction']:g}" for s in layer["solid"])
    return str(layer.get("material", ""))


def _tip(control: w.Widget, text: str) -> None:
    """Set a control's hover text (``description_tooltip`` before ipywidgets 8)."""
    if hasattr(control, "tooltip"):
        control.tooltip = text
    else:  # pragma: no cover - ipywidgets 7
        control.description_tooltip = text


class _LayerRow:
    """One editable layer (two lines); ``base`` keeps the keys the editor does not show (note,
    densities inside a solid mixture)."""

    def __init__(self, config: dict[str, Any], names: list[str]) -> None:
        self.base = dict(config)
        small = {"description_width": "initial"}
        self.name = w.Text(
            value=str(config.get("name", "")),
            continuous_update=False,
            layout=w.Layout(width="120px"),
        )
        self.material = w.Combobox(
            value=_solid_text(config),
            options=names,
            ensure_option=False,
            continuous_update=False,
            placeholder="name, formula or mat:fraction, …",
            layout=w.Layout(width="170px"),
        )
        density = config.get("density_g_cm3")
        self.density = w.FloatText(
            value=float(density) if density else 0.0,
            description="ρ",
            style=small,
            layout=w.Layout(width="78px"),
        )
        self.thickness = w.FloatText(
            value=float(config.get("thickness_um", 10.0)),
            description="µm",
            style=small,
            layout=w.Layout(width="92px"),
        )
        self.porosity = w.FloatText(
            value=float(config.get("porosity", 0.0)),
            step=0.05,
            description="φ",
            style=small,
            layout=w.Layout(width="70px"),
        )
        self.filler = w.Combobox(
            value=str(config.get("pore_filler", "")),
            options=names,
            ensure_option=False,
            continuous_update=False,
            placeholder="pore filler",
            layout=w.Layout(width="100px"),
        )
        self.up = w.Button(icon="arrow-up", layout=w.Layout(width="30px"), tooltip="move up")
        self.down = w.Button(icon="arrow-down", layout=w.Layout(width="30px"), tooltip="move down")
        self.remove = w.Button(
            icon="trash", layout=w.Layout(width="30px"), tooltip="remove this layer"
        )
        for key, control in self.controls.items():
            _, _, tip = LAYER_TOOLTIPS[key]
            _tip(control, f"{tip}")
        self.message = w.HTML()
        self.box = w.VBox(
            [
                w.HBox([self.name, self.material, self.up, self.down, self.remove]),
                w.HBox([self.thickness, self.density, self.porosity, self.filler]),
                self.message,
            ],
            layout=w.Layout(border_bottom="1px solid #ddd", padding="2px 0"),
        )

    @property
    def controls(self) -> dict[str, w.Widget]:
        return {
            "name": self.name,
            "material": self.material,
            "density_g_cm3": self.density,
            "thickness_um": self.thickness,
            "porosity": self.porosity,
            "pore_filler": self.filler,
        }

    def values(self) -> dict[str, Any]:
        return {k: c.value for k, c in self.controls.items()}

    def config(self, field: str) -> dict[str, Any]:
        """The layer mapping; ``field`` (``stack.layers[i]``) prefixes error fields."""
        cfg = {
            k: v
            for k, v in self.base.items()
            if k not in {"material", "solid", "density_g_cm3", "porosity", "pore_filler"}
        }
        cfg["name"] = self.name.value
        cfg["thickness_um"] = self.thickness.value
        text = self.material.value.strip()
        if text == _solid_text(self.base) and "solid" in self.base:
            cfg["solid"] = [dict(s) for s in self.base["solid"]]
        elif ":" in text:
            solid = []
            for part in text.split(","):
                name, _, fraction = part.partition(":")
                try:
                    solid.append({"material": name.strip(), "mass_fraction": float(fraction)})
                except ValueError:
                    raise InputError(
                        f"{field}.material", text, "a material, or 'material:mass_fraction, …'"
                    ) from None
            cfg["solid"] = solid
        else:
            cfg["material"] = text
        density = self.density.value
        if density > 0 and "material" in cfg:
            cfg["density_g_cm3"] = density
        elif density > 0:  # a mixture: scale its components to this solid density
            cfg["solid"] = _scaled_mixture(cfg["solid"], density, f"{field}.material")
        elif density < 0:
            raise InputError(
                f"{field}.density_g_cm3",
                density,
                "must be > 0 (g/cm³), or 0 for the library density",
            )
        if self.porosity.value != 0 or self.filler.value.strip():
            cfg["porosity"] = self.porosity.value
            cfg["pore_filler"] = self.filler.value.strip()
        return cfg


def _scaled_mixture(
    solid: list[dict[str, Any]], density_g_cm3: float, field: str
) -> list[dict[str, Any]]:
    """Component densities scaled by one factor so that the mixture's solid density
    (1 / Σ wᵢ/ρᵢ, mass fractions wᵢ normalised) is ``density_g_cm3``; the volume ratios of the
    components are kept."""
    densities = []
    for part in solid:
        given = part.get("density_g_cm3")
        densities.append(
            float(given) if given else resolve_material(part["material"], field).density_g_cm3
        )
    fractions = [float(p["mass_fraction"]) for p in solid]
    total = sum(fractions)
    if not total > 0:
        raise InputError(field, fractions, "mass fractions must add up to more than 0")
    mixture = 1.0 / sum(f / total / rho for f, rho in zip(fractions, densities, strict=True))
    factor = density_g_cm3 / mixture
    return [{**p, "density_g_cm3": rho * factor} for p, rho in zip(solid, densities, strict=True)]


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
    """

    # the toolbar buttons (made in a loop by ``_build_controls``)
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
        self._rows: list[_LayerRow] = []
        self._undo: list[dict[str, Any]] = []
        self._energy_key: str | None = None
        self._energy_cache: dict[str, Any] | None = None
        self._dirty: set[str] = set()
        self._advice_for: Plan | None = None
        self._edited = False  # changed since the plan was loaded
        self._build_controls()
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
        self.figure_tabs = w.Tab(
            children=[self.models[k] for k, _ in FIGURE_TABS] + [verdicts, advice],
            titles=[t for _, t in FIGURE_TABS] + ["Verdicts", "Advice"],
            selected_index=0,
        )
        self.figure_tabs.add_class("bd-figure-tabs")
        self._show_result()
        self._observe()
        self.widget = self._layout()

    # ------------------------------------------------------------------ controls
    def _build_controls(self) -> None:
        c: dict[str, w.Widget] = {}
        wide = w.Layout(width="370px")
        c["title"] = w.Text(description="title", continuous_update=False, layout=wide)
        c["notes"] = w.Textarea(
            description="notes",
            continuous_update=False,
            layout=w.Layout(width="370px", height="60px"),
        )
        for key in METADATA_KEYS:
            label = "PI" if key == "principal_investigator" else key
            c[f"meta_{key}"] = w.Text(description=label, continuous_update=False, layout=wide)
        c["builtin"] = w.Dropdown(
            options=["(choose)", *builtin_plan_names()],
            value="(choose)",
            description="built-in plan",
            layout=wide,
        )
        c["preset"] = w.Dropdown(
            options=["(custom)", *preset_names()], description="cell preset", layout=wide
        )
        c["probe"] = w.Dropdown(options=[], description="probed layer", layout=wide)
        c["energy_keV"] = w.FloatText(
            description="energy (keV)",
            step=1.0,
            continuous_update=False,
            layout=w.Layout(width="200px"),
        )
        c["energy_slider"] = w.FloatSlider(
            min=5,
            max=100,
            step=0.5,
            description="",
            continuous_update=False,
            readout=False,
            layout=w.Layout(width="165px"),
        )
        number = w.Layout(width="260px")
        c["flux_ph_s"] = w.FloatText(description="flux (ph/s)", layout=w.Layout(width="235px"))
        c["spot_w_um"] = w.FloatText(description="spot w (µm)", layout=number)
        c["spot_h_um"] = w.FloatText(description="spot h (µm)", layout=number)
        c["profile"] = w.Dropdown(options=list(PROFILES), description="profile", layout=number)
        c["convention"] = w.Dropdown(
            options=list(CONVENTIONS), description="convention", layout=wide
        )
        c["attenuator_transmission"] = w.FloatText(
            value=1.0, description="attenuator T", layout=number
        )
        c["schedule_mode"] = w.ToggleButtons(
            options=["raster", "locations"], description="mode", style={"button_width": "110px"}
        )
        c["raster_pattern"] = w.Dropdown(
            options=list(RASTER_PATTERNS), description="pattern", layout=number
        )
        c["nx"] = w.IntText(description="nx", layout=number)
        c["ny"] = w.IntText(description="ny", layout=number)
        c["step_x_um"] = w.FloatText(description="step x (µm)", layout=number)
        c["step_y_um"] = w.FloatText(description="step y (µm)", layout=number)
        c["locations"] = w.Textarea(
            description="locations",
            continuous_update=False,
            placeholder="name, x_um, y_um[, exposure_s] — one per line",
            layout=w.Layout(width="370px", height="100px"),
        )
        c["exposure_s"] = w.FloatText(description="exposure (s)", layout=number)
        c["move_s"] = w.FloatText(description="move (s)", layout=number)
        c["loop"] = w.Text(
            description="loop",
            placeholder="until-end, once or a number",
            continuous_update=False,
            layout=number,
        )
        c["pause_s"] = w.FloatText(description="pause (s)", layout=number)
        c["protocol"] = w.Textarea(
            description="protocol",
            continuous_update=False,
            layout=w.Layout(width="370px", height="140px"),
            placeholder="one step per line, e.g. Charge at C/10 until 100%",
        )
        c["plan_path"] = w.Text(
            value="my_plan.yaml", description="plan file", continuous_update=False, layout=wide
        )
        c["overwrite"] = w.Checkbox(
            value=False,
            description="Save may overwrite an existing file",
            indent=False,
            layout=wide,
        )
        for name, control in c.items():
            control.add_class(f"bd-{name}")
            if hasattr(control.style, "description_width") and name != "overwrite":
                control.style.description_width = "95px"
            _tip(control, TOOLTIPS[name][2])
        self._static_controls = c
        self.controls: dict[str, w.Widget] = dict(c)
        msg = (
            "plan",
            "cell",
            "probe",
            "energy_keV",
            "flux_ph_s",
            "spot",
            "profile",
            "convention",
            "attenuator_transmission",
            "raster",
            "locations",
            "exposure_s",
            "move_s",
            "loop",
            "pause_s",
            "schedule",
            "protocol",
            "general",
            "file",
        )
        self._messages = {k: w.HTML() for k in msg}
        for k, m in self._messages.items():
            m.add_class(f"bd-msg-{k}")
        self.verdict_html = w.HTML()
        self.summary_html = w.HTML()
        self.summary_html.add_class("bd-summary")
        self.advice_html = w.HTML(
            "<i>Press <b>Compute advice</b> for ways to stay below the "
            "thresholds (each option re-runs the model).</i>"
        )
        self.advice_html.add_class("bd-advice")
        self.busy = w.HTML()
        self.busy.add_class("bd-busy-indicator")
        self.flux_readout = w.HTML(layout=w.Layout(margin="0 0 0 6px"))
        self.flux_readout.add_class("bd-flux-readout")
        self.file_html = self._messages["file"]
        self.layer_box = w.VBox()
        buttons = {
            "add_layer": ("add layer", "plus", "Append a 25 µm Kapton layer; edit it below"),
            "save_button": ("Save", "save", "Save the plan to the plan file (YAML/JSON)"),
            "load_button": ("Load", "folder-open", "Load the plan file (your edits can be undone)"),
            "undo_button": ("Undo", "undo", "Undo the last preset, built-in plan or load"),
            "report_button": (
                "Render report",
                "file",
                "Render the HTML report of this plan beside the plan file",
            ),
            "advice_button": (
                "Compute advice",
                "lightbulb-o",
                "Ways to stay below the thresholds (re-runs the model for each option)",
            ),
        }
        for attr, (text, icon, tip) in buttons.items():
            button = w.Button(
                description=text,
                icon=icon,
                tooltip=tip,
                layout=w.Layout(width="auto", min_width="90px"),
            )
            button.add_class(f"bd-{attr}")
            setattr(self, attr, button)
        self.undo_button.disabled = True
        self.add_layer.on_click(lambda _: self._edit_layers("add", None))
        self.save_button.on_click(lambda _: self.save())
        self.load_button.on_click(lambda _: self.load())
        self.undo_button.on_click(lambda _: self.undo())
        self.report_button.on_click(lambda _: self.render_report())
        self.advice_button.on_click(lambda _: self.compute_advice())

    def _make_rows(self, layers: list[dict[str, Any]]) -> None:
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
        header = w.HTML(
            "<small>Per layer: name · material (name, formula or "
            "mat:fraction, …) · thickness µm · ρ density g/cm³ (0 = library) · "
            "φ porosity · pore filler. Hover a field for its meaning.</small>"
        )
        self.layer_box.children = [header] + [row.box for row in self._rows]
        self._refresh_probe_options()

    def _refresh_probe_options(self, renamed: tuple[str, str] | None = None) -> None:
        probe = self.controls["probe"]
        names = [row.name.value for row in self._rows]
        current = probe.value
        if renamed is not None and current == renamed[0]:
            current = renamed[1]  # the probe follows its renamed layer
        with self.hold():
            probe.options = ["(highest dose rate)", *names]
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
            self.controls["preset"].value = "(custom)"
        self.update()

    @staticmethod
    def _row_config_or_base(row: _LayerRow, i: int) -> dict[str, Any]:
        try:
            return row.config(f"stack.layers[{i}]")
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

    def _push_undo(self, what: str) -> None:
        self._undo.append({"what": what, "state": self._snapshot()})
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
            for key, value in state["static"].items():
                self._static_controls[key].value = value
        self.undo_button.disabled = not self._undo
        self.update()
        self._messages["general"].value = f"<span style='color:#555'>undone: {entry['what']}</span>"
        return True

    # ------------------------------------------------------------------ plan -> controls
    def _set_from_plan(self, plan: Plan) -> None:
        """Put a plan's values into the controls (no re-run)."""
        cfg = plan.to_config()
        self._base = cfg
        c = self.controls
        with self.hold():
            c["title"].value = str(cfg.get("title", plan.title))
            c["notes"].value = str(cfg.get("notes", ""))
            metadata = plan.metadata
            for key in METADATA_KEYS:
                c[f"meta_{key}"].value = str(metadata.get(key, ""))
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
            fixed = [
                a.fixed_transmission for a in beam.attenuators if a.fixed_transmission is not None
            ]
            t = 1.0
            for transmission in fixed:
                t *= transmission
            c["attenuator_transmission"].value = t
            self._material_attenuators = [
                a.to_config() for a in beam.attenuators if a.fixed_transmission is None
            ]
            sched = cfg["schedule"]
            raster = sched.get("raster")
            c["schedule_mode"].value = "raster" if raster else "locations"
            raster = raster or {
                "pattern": "snake",
                "nx": 3,
                "ny": 1,
                "step_um": [max(beam.spot_um)] * 2,
            }
            c["raster_pattern"].value = raster.get("pattern", "snake")
            c["nx"].value, c["ny"].value = int(raster.get("nx", 1)), int(raster.get("ny", 1))
            step = raster.get("step_um", [0, 0])
            step = [step, step] if isinstance(step, (int, float)) else step
            c["step_x_um"].value, c["step_y_um"].value = float(step[0]), float(step[1])
            self._origin_um = raster.get("origin_um", [0, 0])
            locs = plan.schedule.locations
            c["locations"].value = "\n".join(
                f"{loc.name}, {loc.x_um:g}, {loc.y_um:g}, {loc.exposure_s:g}" for loc in locs
            )
            exposures = [loc.exposure_s for loc in locs]
            c["exposure_s"].value = float(sched.get("exposure_s", exposures[0] if exposures else 1))
            c["move_s"].value = float(sched.get("move_s", 0))
            c["loop"].value = str(sched.get("loop", "until-end"))
            c["pause_s"].value = float(sched.get("pause_s", 0))
            protocol = cfg["protocol"]
            protocol = [protocol] if isinstance(protocol, str) else protocol
            c["protocol"].value = "\n".join(
                str(p) if isinstance(p, str) else _repeat_text(p) for p in protocol
            )

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
            if change["new"] == "(choose)":
                return
            self._push_undo(f"built-in plan {change['new']}")
            with self.hold():
                self._set_from_plan(load_plan(change["new"]))
                c["builtin"].value = "(choose)"
            note = (
                f"loaded the built-in plan {html.escape(change['new'])} — <b>Undo</b> "
                "restores your edits"
            )
        elif owner is c["preset"]:
            if change["new"] == "(custom)":
                return
            self._push_undo(f"cell preset {change['new']}")
            with self.hold():
                self._make_rows([dict(x) for x in preset_config(change["new"])["layers"]])
            note = (
                f"layers replaced by the preset {html.escape(change['new'])} — "
                "<b>Undo</b> restores your layers"
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
        self.update()
        if note and not self._messages["general"].value:
            self._messages["general"].value = f"<span style='color:#555'>{note}</span>"

    def config(self) -> dict[str, Any]:
        """The plan config the controls describe (raises InputError for unparsable text)."""
        c = self.controls
        cfg = {k: v for k, v in self._base.items() if k in ("version", "thresholds", "soc0")}
        cfg["title"] = c["title"].value.strip() or "untitled plan"
        if c["notes"].value.strip():
            cfg["notes"] = c["notes"].value.strip()
        metadata = {
            k: c[f"meta_{k}"].value.strip() for k in METADATA_KEYS if c[f"meta_{k}"].value.strip()
        }
        if metadata:
            cfg["metadata"] = metadata
        layers = [row.config(f"stack.layers[{i}]") for i, row in enumerate(self._rows)]
        name = c["preset"].value if c["preset"].value != "(custom)" else "custom"
        cfg["stack"] = {"name": name, "layers": layers}
        attenuators = list(self._material_attenuators)
        if c["attenuator_transmission"].value != 1.0:
            attenuators.append({"transmission": c["attenuator_transmission"].value})
        cfg["beam"] = {
            "energy_keV": c["energy_keV"].value,
            "flux_ph_s": c["flux_ph_s"].value,
            "spot_um": [c["spot_w_um"].value, c["spot_h_um"].value],
            "profile": c["profile"].value,
            "convention": c["convention"].value,
        }
        if attenuators:
            cfg["beam"]["attenuators"] = attenuators
        cfg["protocol"] = [
            line.strip() for line in c["protocol"].value.splitlines() if line.strip()
        ]
        loop = c["loop"].value.strip()
        sched: dict[str, Any] = {
            "exposure_s": c["exposure_s"].value,
            "move_s": c["move_s"].value,
            "loop": int(loop) if loop.isdigit() else loop,
            "pause_s": c["pause_s"].value,
        }
        if c["schedule_mode"].value == "raster":
            sched["raster"] = {
                "pattern": c["raster_pattern"].value,
                "nx": c["nx"].value,
                "ny": c["ny"].value,
                "step_um": [c["step_x_um"].value, c["step_y_um"].value],
                "origin_um": list(self._origin_um),
            }
        else:
            sched["locations"] = _parse_locations(c["locations"].value)
        cfg["schedule"] = sched
        if c["probe"].value != "(highest dose rate)":
            cfg["probe"] = c["probe"].value
        return cfg

    def update(self) -> None:
        """Rebuild the plan from the controls, run it and refresh the summary and the figure on
        screen (the other figures when their tab is opened)."""
        self.busy.value = BUSY_HTML
        try:
            if self._run():
                self._show_result()
            else:
                for fig in self.figures.values():
                    mark_stale(fig, True)
        finally:
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
        return True

    def _message_widget(self, field: str) -> w.HTML:
        """The message panel next to the control that ``field`` (an InputError field) names."""
        m = _LAYER_FIELD.match(field)
        if m and int(m.group(1)) < len(self._rows):
            return self._rows[int(m.group(1))].message
        for prefix, key in _FIELD_PANELS:
            if field == prefix or field.startswith(prefix + ".") or field.startswith(prefix + "["):
                return self._messages[key]
        return self._messages["general"]

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
    def _figure_data(self, key: str) -> dict[str, Any]:
        r = self.result
        if key == "energy":  # depends on stack, beam and probe only: cached
            cfg = r.plan.to_config()
            cache_key = json.dumps(
                [cfg["stack"], cfg["beam"], r.probe], sort_keys=True, default=str
            )
            if cache_key != self._energy_key:
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
        key = self._visible_figure()
        if key in self._dirty and self.result is not None and not self.stale:
            self.busy.value = BUSY_HTML
            try:
                self._refresh_figure(key)
            finally:
                self.busy.value = ""

    def sync_figures(self) -> None:
        """Bring every figure up to date now (the planner otherwise refreshes a figure when its
        tab is shown; call this before exporting or inspecting all figures)."""
        for key in list(self._dirty):
            self._refresh_figure(key)

    def _show_result(self) -> None:
        r = self.result
        if not hasattr(self, "figures"):
            return
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
        if self._advice_for is not None and self._advice_for is not r.plan:
            self.advice_html.value = (
                "<i class='bd-advice-old'>The plan changed: press <b>Compute advice</b> again.</i>"
            )
            self._advice_for = None

    def compute_advice(self) -> list[str]:
        """Advice for the current plan (each option re-runs the model; can take seconds on a
        large raster, so it runs only on request)."""
        if self.result is None or self.stale:
            self.advice_html.value = "<i>Fix the inputs marked ⚠ first.</i>"
            return []
        self.busy.value = BUSY_HTML
        try:
            sentences = advise(self.result.plan, result=self.result).sentences
        except InputError as error:
            self.advice_html.value = (
                f"<span style='color:#b00020'>⚠ {html.escape(str(error))}</span>"
            )
            return []
        finally:
            self.busy.value = ""
        self._advice_for = self.result.plan
        self.advice_html.value = (
            ("<ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in sentences) + "</ul>")
            if sentences
            else "<i>No advice: the plan is safe.</i>"
        )
        return list(sentences)

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

    # ------------------------------------------------------------------ layout
    def _layout(self) -> w.Widget:
        c, m = self.controls, self._messages
        meta = [c[f"meta_{k}"] for k in METADATA_KEYS]
        buttons = w.HBox(
            [self.save_button, self.load_button, self.report_button],
            layout=w.Layout(flex_flow="row wrap"),
        )
        plan_tab = w.VBox(
            [
                c["title"],
                c["notes"],
                *meta,
                m["plan"],
                c["builtin"],
                c["plan_path"],
                c["overwrite"],
                buttons,
                m["file"],
            ]
        )
        cell = w.VBox(
            [c["preset"], m["cell"], self.layer_box, self.add_layer, c["probe"], m["probe"]]
        )
        beam = w.VBox(
            [
                w.HBox([c["energy_keV"], c["energy_slider"]]),
                m["energy_keV"],
                w.HBox([c["flux_ph_s"], self.flux_readout], layout=w.Layout(align_items="center")),
                m["flux_ph_s"],
                c["spot_w_um"],
                c["spot_h_um"],
                m["spot"],
                c["profile"],
                m["profile"],
                c["convention"],
                m["convention"],
                c["attenuator_transmission"],
                m["attenuator_transmission"],
            ]
        )
        schedule = w.VBox(
            [
                c["schedule_mode"],
                c["raster_pattern"],
                c["nx"],
                c["ny"],
                c["step_x_um"],
                c["step_y_um"],
                m["raster"],
                c["locations"],
                m["locations"],
                c["exposure_s"],
                m["exposure_s"],
                c["move_s"],
                m["move_s"],
                c["loop"],
                m["loop"],
                c["pause_s"],
                m["pause_s"],
                m["schedule"],
            ]
        )
        protocol = w.VBox(
            [
                c["protocol"],
                m["protocol"],
                w.HTML(
                    "<small>Examples: Charge at C/8 for 8 h · Rest for 30 min · "
                    "Discharge at 1C until 0% · Repeat 3 times: [Charge at C/2 "
                    "until 100%, Discharge at C/2 until 0%]</small>"
                ),
            ]
        )
        tabs = w.Tab(
            children=[beam, schedule, cell, protocol, plan_tab],
            titles=("Beam", "Schedule", "Cell", "Protocol", "Plan"),
        )
        tabs.add_class("bd-control-tabs")
        for box in tabs.children:
            box.layout.padding = "4px"
        top = w.HBox(
            [self.undo_button, self.busy, w.HTML(STYLE_HTML)], layout=w.Layout(align_items="center")
        )
        left = w.VBox([top, tabs, m["general"]], layout=w.Layout(width="410px", min_width="410px"))
        right = w.VBox(
            [self.summary_html, self.figure_tabs], layout=w.Layout(flex="1 1 auto", min_width="0")
        )
        box = w.HBox([left, right], layout=w.Layout(width="100%", grid_gap="8px"))
        box.add_class("bd-planner")
        return box

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """Displaying the planner displays its widget."""
        return self.widget._repr_mimebundle_(**kwargs)


def _repeat_text(entry: dict[str, Any]) -> str:
    ((head, steps),) = entry.items()
    inner = ", ".join(s if isinstance(s, str) else _repeat_text(s) for s in steps)
    return f"{head[0].upper()}{head[1:]}: [{inner}]"


def _parse_locations(text: str) -> list[dict[str, Any]]:
    """Lines "name, x_um, y_um[, exposure_s]" -> schedule location mappings."""
    out = []
    for i, line in enumerate(x for x in text.splitlines() if x.strip()):
        parts = [p.strip() for p in line.split(",")]
        if len(parts) not in (3, 4):
            raise InputError(
                f"schedule.locations[{i}]",
                line,
                "one location per line: name, x_um, y_um[, exposure_s]",
            )
        try:
            loc = {"name": parts[0], "x_um": float(parts[1]), "y_um": float(parts[2])}
            if len(parts) == 4:
                loc["exposure_s"] = float(parts[3])
        except ValueError:
            raise InputError(
                f"schedule.locations[{i}]", line, "x_um, y_um and exposure_s are numbers"
            ) from None
        out.append(loc)
    if not out:
        raise InputError("schedule.locations", text, "at least one line: name, x_um, y_um")
    return out
