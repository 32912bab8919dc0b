"""The planner's widgets and their layout: the controls (each with its CSS hook ``bd-<name>``
and tooltip), the message panels, the buttons, the layer rows, and the side panel of control
tabs beside the summary and the figure tabs. No plan logic here (see ``state``)."""

from __future__ import annotations

import contextlib
from typing import Any

import ipywidgets as w

from beamdesign.beam import PROFILES
from beamdesign.coefficients import CONVENTIONS
from beamdesign.electron_session import PROBE_TYPES
from beamdesign.materials import library_names
from beamdesign.plan import METADATA_KEYS, builtin_plan_names
from beamdesign.profile import profile_names
from beamdesign.schedule import RASTER_PATTERNS
from beamdesign.stack import preset_names

from .adapter import (
    BEAM_FORM_CONTROLS,
    CUSTOM,
    ELECTRON_DEFAULTS,
    LAYER_TOOLTIPS,
    MESSAGE_PANELS,
    NO_BEAMLINE,
    NO_FILTER,
    SCAN_CONTROLS,
    TOOLTIPS,
    layer_values,
)
from .bokeh_sync import BatchedBokehModel

#: figure tabs, in order (key, tab title)
FIGURE_TABS = (
    ("dose_time", "Dose vs time"),
    ("dose_map", "Dose map"),
    ("stack", "Cell stack"),
    ("energy", "Energy"),
)
#: page CSS the planner carries: its figure tabs are as wide as their titles (ipywidgets gives
#: every tab 144 px and shrinks them alike, so nine tabs beside the controls read "Dose ma…")
PLANNER_CSS = "<style>.bd-figure-tabs{--jp-widgets-horizontal-tab-width:auto}</style>"
#: the built-in plan dropdown's entry for "none chosen"
CHOOSE = "(choose)"
#: shown while the kernel computes, once it has taken longer than BUSY_AFTER_S (a timer sets
#: it: a fast change sends no busy message at all)
BUSY_HTML = "<span class='bd-busy' style='color:#555'>⏳ computing…</span>"
BUSY_AFTER_S = 0.2
#: toolbar buttons: attribute -> (label, icon, tooltip)
BUTTONS = {
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


def tip(control: w.Widget, text: str) -> None:
    """Set a control's hover text (``description_tooltip`` before ipywidgets 8)."""
    if hasattr(control, "tooltip"):
        control.tooltip = text
    else:  # pragma: no cover - ipywidgets 7
        control.description_tooltip = text


def html_panel(css_class: str, value: str = "", **layout: str) -> w.HTML:
    """A read-only HTML panel with its CSS hook."""
    panel = w.HTML(value, layout=w.Layout(**layout)) if layout else w.HTML(value)
    panel.add_class(css_class)
    return panel


def button(attr: str, label: str, icon: str, tooltip: str) -> w.Button:
    """A toolbar button with the CSS hook ``bd-<attr>``."""
    out = w.Button(
        description=label,
        icon=icon,
        tooltip=tooltip,
        layout=w.Layout(width="auto", min_width="90px"),
    )
    out.add_class(f"bd-{attr}")
    return out


class LayerRow:
    """The controls of one layer (two lines); ``base`` keeps the layer as loaded (the adapter
    keeps the keys the editor does not show: note, densities inside a solid mixture)."""

    def __init__(self, config: dict[str, Any], names: list[str]) -> None:
        self.base = dict(config)
        v = layer_values(config)
        small = {"description_width": "initial"}
        self.name = w.Text(value=v["name"], continuous_update=False, layout=w.Layout(width="120px"))
        self.material = w.Combobox(
            value=v["material"],
            options=names,
            ensure_option=False,
            continuous_update=False,
            placeholder="name, formula or mat:fraction, …",
            layout=w.Layout(width="170px"),
        )
        self.density = w.FloatText(
            value=v["density_g_cm3"], description="ρ", style=small, layout=w.Layout(width="78px")
        )
        self.thickness = w.FloatText(
            value=v["thickness_um"], description="µm", style=small, layout=w.Layout(width="92px")
        )
        self.porosity = w.FloatText(
            value=v["porosity"],
            step=0.05,
            description="φ",
            style=small,
            layout=w.Layout(width="70px"),
        )
        self.filler = w.Combobox(
            value=v["pore_filler"],
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
            tip(control, LAYER_TOOLTIPS[key][2])
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


def layer_header() -> w.HTML:
    return w.HTML(
        "<small>Per layer: name · material (name, formula or "
        "mat:fraction, …) · thickness µm · ρ density g/cm³ (0 = library) · "
        "φ porosity · pore filler. Hover a field for its meaning.</small>"
    )


def build_controls() -> dict[str, w.Widget]:
    """Every control but the layer rows, by name (``TOOLTIPS`` order is not assumed)."""
    c: dict[str, w.Widget] = {}
    c["title"] = w.Text(description="title", continuous_update=False, layout=wide())
    c["notes"] = w.Textarea(
        description="notes",
        continuous_update=False,
        layout=w.Layout(width="370px", height="60px"),
    )
    for key in METADATA_KEYS:
        label = "PI" if key == "principal_investigator" else key
        c[f"meta_{key}"] = w.Text(description=label, continuous_update=False, layout=wide())
    c["builtin"] = w.Dropdown(
        options=[CHOOSE, *builtin_plan_names()],
        value=CHOOSE,
        description="built-in plan",
        layout=wide(),
    )
    c["preset"] = w.Dropdown(
        options=[CUSTOM, *preset_names()], description="cell preset", layout=wide()
    )
    c["probe"] = w.Dropdown(options=[], description="probed layer", layout=wide())
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
    c["flux_ph_s"] = w.FloatText(description="flux (ph/s)", layout=w.Layout(width="235px"))
    c["spot_w_um"] = w.FloatText(description="spot w (µm)", layout=number())
    c["spot_h_um"] = w.FloatText(description="spot h (µm)", layout=number())
    c["profile"] = w.Dropdown(options=list(PROFILES), description="profile", layout=number())
    c["convention"] = w.Dropdown(options=list(CONVENTIONS), description="convention", layout=wide())
    c["attenuator_transmission"] = w.FloatText(
        value=1.0, description="attenuator T", layout=number()
    )
    c["beamline"] = w.Dropdown(
        options=[NO_BEAMLINE, *profile_names()], description="beamline", layout=wide()
    )
    c["flux_from_beamline"] = w.Checkbox(
        value=True, description="flux from the beamline's table", indent=False
    )
    c["beamline_filter"] = w.Dropdown(options=[NO_FILTER], description="filter", layout=number())
    electron_controls(c)
    c["schedule_mode"] = w.ToggleButtons(
        options=["raster", "locations"], description="mode", style={"button_width": "110px"}
    )
    c["raster_pattern"] = w.Dropdown(
        options=list(RASTER_PATTERNS), description="pattern", layout=number()
    )
    c["nx"] = w.IntText(description="nx", layout=number())
    c["ny"] = w.IntText(description="ny", layout=number())
    c["step_x_um"] = w.FloatText(description="step x (µm)", layout=number())
    c["step_y_um"] = w.FloatText(description="step y (µm)", layout=number())
    c["locations"] = w.Textarea(
        description="locations",
        continuous_update=False,
        placeholder="name, x_um, y_um[, exposure_s] — one per line",
        layout=w.Layout(width="370px", height="100px"),
    )
    c["exposure_s"] = w.FloatText(description="exposure (s)", layout=number())
    c["scan"] = w.Checkbox(value=False, description="energy scan at every visit", indent=False)
    c["scan_start_keV"] = w.FloatText(description="start (keV)", layout=number())
    c["scan_stop_keV"] = w.FloatText(description="stop (keV)", layout=number())
    c["scan_points"] = w.IntText(description="points", layout=number())
    c["scan_dwell_s"] = w.FloatText(description="dwell (s)", layout=number())
    c["move_s"] = w.FloatText(description="move (s)", layout=number())
    c["loop"] = w.Text(
        description="loop",
        placeholder="until-end, once or a number",
        continuous_update=False,
        layout=number(),
    )
    c["pause_s"] = w.FloatText(description="pause (s)", layout=number())
    c["protocol"] = w.Textarea(
        description="protocol",
        continuous_update=False,
        layout=w.Layout(width="370px", height="140px"),
        placeholder="one step per line, e.g. Charge at C/10 until 100%",
    )
    c["plan_path"] = w.Text(
        value="my_plan.yaml", description="plan file", continuous_update=False, layout=wide()
    )
    c["overwrite"] = w.Checkbox(
        value=False,
        description="Save may overwrite an existing file",
        indent=False,
        layout=wide(),
    )
    for name, control in c.items():
        control.add_class(f"bd-{name}")
        if hasattr(control.style, "description_width") and not isinstance(control, w.Checkbox):
            control.style.description_width = "95px"
        tip(control, TOOLTIPS[name][2])
    return c


def wide() -> w.Layout:
    """A wide control's layout (one per control: hiding one must not hide the others)."""
    return w.Layout(width="370px")


def number() -> w.Layout:
    """A number control's layout (one per control)."""
    return w.Layout(width="260px")


def electron_controls(c: dict[str, w.Widget]) -> None:
    """Add the probe-type toggle and the electron session's controls to ``c`` (values from
    ``ELECTRON_DEFAULTS``)."""
    c["probe_type"] = w.ToggleButtons(
        options=list(PROBE_TYPES), description="probe", style={"button_width": "110px"}
    )
    c["electron_energy_keV"] = w.FloatText(description="energy (keV)", layout=number())
    c["specimen_material"] = w.Combobox(
        options=library_names(),
        ensure_option=False,
        continuous_update=False,
        description="material",
        placeholder="name or formula",
        layout=w.Layout(width="370px"),
    )
    c["specimen_density_g_cm3"] = w.FloatText(description="ρ (g/cm³)", layout=number())
    c["specimen_thickness_nm"] = w.FloatText(description="thickness (nm)", layout=number())
    c["beam_form"] = w.ToggleButtons(
        options=[
            ("scanned probe", "scanned"),
            ("flood beam", "flood"),
            ("fluence rate", "fluence_rate"),
        ],
        style={"button_width": "112px"},
    )
    labels = {
        "current_pA": "current (pA)",
        "dwell_us": "dwell (µs)",
        "pixel_A": "pixel (Å)",
        "pixels_x": "pixels x",
        "pixels_y": "pixels y",
        "current_nA": "current (nA)",
        "area_um2": "area (µm²)",
        "e_per_A2_s": "rate (e/Å²/s)",
    }
    for key, label in labels.items():
        kind = w.IntText if key.startswith("pixels_") else w.FloatText
        c[key] = kind(description=label, layout=number())
    for key, value in ELECTRON_DEFAULTS.items():
        c[key].value = value


def build_messages() -> dict[str, w.HTML]:
    """The message panels (``bd-msg-<key>``) shown under the controls."""
    return {key: html_panel(f"bd-msg-{key}") for key in MESSAGE_PANELS}


def build_buttons() -> dict[str, w.Button]:
    """The toolbar buttons by attribute name (``BUTTONS``); Undo starts disabled."""
    out = {attr: button(attr, *spec) for attr, spec in BUTTONS.items()}
    out["undo_button"].disabled = True
    return out


def figure_tabs(children: list[w.Widget], titles: list[str]) -> w.Tab:
    """The tabs beside the controls (figures first, then the text panels)."""
    tabs = w.Tab(children=children, titles=titles, selected_index=0)
    tabs.add_class("bd-figure-tabs")
    return tabs


def arrange(
    controls: dict[str, w.Widget],
    messages: dict[str, w.HTML],
    buttons: dict[str, w.Button],
    layer_box: w.VBox,
    busy: w.HTML,
    readouts: dict[str, w.HTML],
    summary: w.HTML,
    tabs: w.Tab,
) -> tuple[w.HBox, dict[str, w.Widget]]:
    """The planner: a side panel of control tabs (Beam, Schedule, Cell, Protocol, Plan) beside
    the summary and the figure tabs. ``readouts``: the ``flux``, ``beamline``, ``electron`` and
    ``scan`` text panels. Returns the box and the parts shown or hidden by the probe type and
    the scan toggle (``xray_beam``, ``electron_beam``, ``xray_cell``, ``specimen``, ``scan``,
    ``beamline``, ``control_tabs``)."""
    c, m, b = controls, messages, buttons
    flux_readout = readouts["flux"]
    meta = [c[f"meta_{k}"] for k in METADATA_KEYS]
    file_buttons = w.HBox(
        [b["save_button"], b["load_button"], b["report_button"]],
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
            file_buttons,
            m["file"],
        ]
    )
    xray_cell = w.VBox([c["preset"], m["cell"], layer_box, b["add_layer"], c["probe"], m["probe"]])
    specimen = w.VBox(
        [
            w.HTML("<small>The specimen of an electron session: one layer.</small>"),
            c["specimen_material"],
            c["specimen_density_g_cm3"],
            c["specimen_thickness_nm"],
            m["specimen"],
        ]
    )
    cell = w.VBox([xray_cell, specimen])
    beamline = w.VBox([c["flux_from_beamline"], c["beamline_filter"], readouts["beamline"]])
    electron_beam = w.VBox(
        [
            c["electron_energy_keV"],
            m["electron_energy"],
            c["beam_form"],
            *[c[k] for k in dict.fromkeys(k for v in BEAM_FORM_CONTROLS.values() for k in v)],
            m["electron_beam"],
            readouts["electron"],
        ]
    )
    xray_beam = w.VBox(
        [
            w.HBox([c["energy_keV"], c["energy_slider"]]),
            m["energy_keV"],
            w.HBox([c["flux_ph_s"], flux_readout], layout=w.Layout(align_items="center")),
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
            c["beamline"],
            beamline,
            m["beamline"],
        ]
    )
    beam = w.VBox([c["probe_type"], xray_beam, electron_beam])
    scan = w.VBox([*[c[k] for k in SCAN_CONTROLS], readouts["scan"]])
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
            c["scan"],
            scan,
            c["exposure_s"],
            m["exposure_s"],
            m["energy_scan"],
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
    control_tabs = w.Tab(
        children=[beam, schedule, cell, protocol, plan_tab],
        titles=("Beam", "Schedule", "Cell", "Protocol", "Plan"),
    )
    control_tabs.add_class("bd-control-tabs")
    for box in control_tabs.children:
        box.layout.padding = "4px"
    css = w.HTML(PLANNER_CSS, layout=w.Layout(display="none"))
    top = w.HBox([b["undo_button"], busy, css], layout=w.Layout(align_items="center"))
    left = w.VBox(
        [top, control_tabs, m["general"]], layout=w.Layout(width="410px", min_width="410px")
    )
    right = w.VBox([summary, tabs], layout=w.Layout(flex="1 1 auto", min_width="0"))
    box = w.HBox([left, right], layout=w.Layout(width="100%", grid_gap="8px"))
    box.add_class("bd-planner")
    parts: dict[str, w.Widget] = {
        "xray_beam": xray_beam,
        "electron_beam": electron_beam,
        "xray_cell": xray_cell,
        "specimen": specimen,
        "scan": scan,
        "beamline": beamline,
        "control_tabs": control_tabs,
    }
    return box, parts


def show(widget: w.Widget, visible: bool) -> None:
    """Show or hide a widget (its layout's ``display``)."""
    display = None if visible else "none"
    if widget.layout.display != display:
        widget.layout.display = display
