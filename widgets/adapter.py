"""The config adapter: control values <-> plan config mapping, with no widgets.

:func:`values_from_plan` gives the value of every control for a plan; :func:`config_from_values`
builds the plan mapping ``plan_from_config`` takes from the values of the controls (raising
InputError for text it cannot parse: locations, mixtures). The tables here name each control
(label, unit, tooltip) and say which message panel shows an error of a given field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from beamdesign.errors import InputError
from beamdesign.materials import resolve_material
from beamdesign.plan import METADATA_KEYS, Plan
from beamdesign.stack import preset_config, preset_names

#: the probe dropdown's entry for "no probe named": the constituent with the highest dose rate
NO_PROBE = "(highest dose rate)"
#: the preset dropdown's entry for layers that are not a preset
CUSTOM = "(custom)"
#: the keys of a plan mapping that no control edits, carried from the loaded plan
KEPT_KEYS = ("version", "thresholds", "soc0", "design", "beamline")

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
#: message panels, in the order they are made
MESSAGE_PANELS = (
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
#: error-field prefix -> message panel key (first match wins)
FIELD_PANELS = (
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
FIELD_LABELS = {
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
_LAYER_FIELD = re.compile(r"^stack\.layers\[(\d+)\](?:\.(\w+))?")


def message_panel(field: str, n_layers: int) -> str | int:
    """Where an error of ``field`` is shown: a layer row's index, or a message panel key."""
    m = _LAYER_FIELD.match(field)
    if m and int(m.group(1)) < n_layers:
        return int(m.group(1))
    for prefix, key in FIELD_PANELS:
        if field == prefix or field.startswith(prefix + ".") or field.startswith(prefix + "["):
            return key
    return "general"


# ---------------------------------------------------------------------- layers
def solid_text(layer: dict[str, Any]) -> str:
    """A layer's material as typed in the editor: a name/formula, or "mat:fraction, ..."."""
    if "solid" in layer:
        return ", ".join(f"{s['material']}:{s['mass_fraction']:g}" for s in layer["solid"])
    return str(layer.get("material", ""))


def layer_values(layer: dict[str, Any]) -> dict[str, Any]:
    """The layer row's control values for a layer mapping."""
    density = layer.get("density_g_cm3")
    return {
        "name": str(layer.get("name", "")),
        "material": solid_text(layer),
        "density_g_cm3": float(density) if density else 0.0,
        "thickness_um": float(layer.get("thickness_um", 10.0)),
        "porosity": float(layer.get("porosity", 0.0)),
        "pore_filler": str(layer.get("pore_filler", "")),
    }


def layer_config(base: dict[str, Any], values: dict[str, Any], field: str) -> dict[str, Any]:
    """The layer mapping from a row's control ``values``; ``base`` is the layer as loaded (its
    keys the editor does not show are kept: note, densities inside a solid mixture); ``field``
    (``stack.layers[i]``) prefixes error fields."""
    cfg = {
        k: v
        for k, v in base.items()
        if k not in {"material", "solid", "density_g_cm3", "porosity", "pore_filler"}
    }
    cfg["name"] = values["name"]
    cfg["thickness_um"] = values["thickness_um"]
    text = values["material"].strip()
    if text == solid_text(base) and "solid" in base:
        cfg["solid"] = [dict(s) for s in base["solid"]]
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
    density = float(values["density_g_cm3"])
    if density > 0 and "material" in cfg:
        cfg["density_g_cm3"] = density
    elif density > 0:  # a mixture: scale its components to this solid density
        cfg["solid"] = scaled_mixture(cfg["solid"], density, f"{field}.material")
    elif density < 0:
        raise InputError(
            f"{field}.density_g_cm3",
            density,
            "must be > 0 (g/cm³), or 0 for the library density",
        )
    if values["porosity"] != 0 or values["pore_filler"].strip():
        cfg["porosity"] = values["porosity"]
        cfg["pore_filler"] = values["pore_filler"].strip()
    return cfg


def scaled_mixture(
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


# ---------------------------------------------------------------------- small parsers
def repeat_text(entry: dict[str, Any]) -> str:
    """A protocol ``{"repeat N times": [steps]}`` entry as one line of the protocol box."""
    ((head, steps),) = entry.items()
    inner = ", ".join(s if isinstance(s, str) else repeat_text(s) for s in steps)
    return f"{head[0].upper()}{head[1:]}: [{inner}]"


def parse_locations(text: str) -> list[dict[str, Any]]:
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
            loc: dict[str, Any] = {
                "name": parts[0],
                "x_um": float(parts[1]),
                "y_um": float(parts[2]),
            }
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


# ---------------------------------------------------------------------- plan <-> values
@dataclass(frozen=True)
class PlanValues:
    """What the controls show for a plan.

    Attributes
    ----------
    config : the plan's mapping (its keys no control edits are kept from it: ``KEPT_KEYS``)
    values : control name -> value (every control but the built-in plan and file controls)
    layers : the layer mappings, one row each
    material_attenuators : attenuators given as material filters (kept as they are)
    origin_um : the raster origin (no control)
    """

    config: dict[str, Any]
    values: dict[str, Any]
    layers: list[dict[str, Any]]
    material_attenuators: list[dict[str, Any]]
    origin_um: list[float]


def values_from_plan(plan: Plan) -> PlanValues:
    """The control values that describe ``plan``."""
    cfg = plan.to_config()
    v: dict[str, Any] = {
        "title": str(cfg.get("title", plan.title)),
        "notes": str(cfg.get("notes", "")),
    }
    for key in METADATA_KEYS:
        v[f"meta_{key}"] = str(plan.metadata.get(key, ""))
    stack = cfg["stack"]
    if isinstance(stack, str) and stack.lower() in [n.lower() for n in preset_names()]:
        v["preset"] = next(n for n in preset_names() if n.lower() == stack.lower())
        layers = preset_config(stack)["layers"]
    else:
        v["preset"] = CUSTOM
        layers = plan.stack.to_config()["layers"]
    layers = [dict(x) for x in layers]
    probe = (cfg.get("probe") or "").split("/")[0].strip()
    names = [str(layer.get("name", "")) for layer in layers]
    match = [n for n in names if n.lower() == probe.lower()]
    v["probe"] = match[0] if match else NO_PROBE
    beam = plan.beam
    v["energy_keV"] = beam.energy_keV
    v["energy_slider"] = min(max(beam.energy_keV, 5), 100)
    v["flux_ph_s"] = beam.flux_ph_s
    v["spot_w_um"], v["spot_h_um"] = beam.spot_um
    v["profile"] = beam.profile
    v["convention"] = beam.convention
    transmission = 1.0
    for a in beam.attenuators:
        if a.fixed_transmission is not None:
            transmission *= a.fixed_transmission
    v["attenuator_transmission"] = transmission
    material_attenuators = [a.to_config() for a in beam.attenuators if a.fixed_transmission is None]
    sched = cfg["schedule"]
    raster = sched.get("raster")
    v["schedule_mode"] = "raster" if raster else "locations"
    raster = raster or {"pattern": "snake", "nx": 3, "ny": 1, "step_um": [max(beam.spot_um)] * 2}
    v["raster_pattern"] = raster.get("pattern", "snake")
    v["nx"], v["ny"] = int(raster.get("nx", 1)), int(raster.get("ny", 1))
    step = raster.get("step_um", [0, 0])
    step = [step, step] if isinstance(step, (int, float)) else step
    v["step_x_um"], v["step_y_um"] = float(step[0]), float(step[1])
    origin = raster.get("origin_um", [0, 0])
    locs = plan.schedule.locations
    scanned = plan.schedule.energy_scan is not None  # the scan sets every exposure
    v["locations"] = "\n".join(
        f"{loc.name}, {loc.x_um:g}, {loc.y_um:g}" + ("" if scanned else f", {loc.exposure_s:g}")
        for loc in locs
    )
    exposures = [loc.exposure_s for loc in locs]
    v["exposure_s"] = float(sched.get("exposure_s", exposures[0] if exposures else 1))
    v["move_s"] = float(sched.get("move_s", 0))
    v["loop"] = str(sched.get("loop", "until-end"))
    v["pause_s"] = float(sched.get("pause_s", 0))
    protocol = cfg["protocol"]
    protocol = [protocol] if isinstance(protocol, str) else protocol
    v["protocol"] = "\n".join(str(p) if isinstance(p, str) else repeat_text(p) for p in protocol)
    return PlanValues(cfg, v, layers, material_attenuators, origin)


def config_from_values(
    values: dict[str, Any],
    rows: list[tuple[dict[str, Any], dict[str, Any]]],
    base: dict[str, Any],
    material_attenuators: list[dict[str, Any]],
    origin_um: list[float],
) -> dict[str, Any]:
    """The plan mapping the controls describe (raises InputError for unparsable text).

    Parameters
    ----------
    values : control name -> value
    rows : (layer as loaded, the row's control values), one per layer
    base : the plan mapping as loaded (``KEPT_KEYS`` are taken from it)
    material_attenuators, origin_um : as in :class:`PlanValues`
    """
    v = values
    cfg = {k: val for k, val in base.items() if k in KEPT_KEYS}
    cfg["title"] = v["title"].strip() or "untitled plan"
    if v["notes"].strip():
        cfg["notes"] = v["notes"].strip()
    metadata = {k: v[f"meta_{k}"].strip() for k in METADATA_KEYS if v[f"meta_{k}"].strip()}
    if metadata:
        cfg["metadata"] = metadata
    layers = [layer_config(layer, row, f"stack.layers[{i}]") for i, (layer, row) in enumerate(rows)]
    name = v["preset"] if v["preset"] != CUSTOM else "custom"
    cfg["stack"] = {"name": name, "layers": layers}
    attenuators = list(material_attenuators)
    if v["attenuator_transmission"] != 1.0:
        attenuators.append({"transmission": v["attenuator_transmission"]})
    cfg["beam"] = {
        "energy_keV": v["energy_keV"],
        "flux_ph_s": v["flux_ph_s"],
        "spot_um": [v["spot_w_um"], v["spot_h_um"]],
        "profile": v["profile"],
        "convention": v["convention"],
    }
    if attenuators:
        cfg["beam"]["attenuators"] = attenuators
    cfg["protocol"] = [line.strip() for line in v["protocol"].splitlines() if line.strip()]
    loop = v["loop"].strip()
    sched: dict[str, Any] = {
        "exposure_s": v["exposure_s"],
        "move_s": v["move_s"],
        "loop": int(loop) if loop.isdigit() else loop,
        "pause_s": v["pause_s"],
    }
    if v["schedule_mode"] == "raster":
        sched["raster"] = {
            "pattern": v["raster_pattern"],
            "nx": v["nx"],
            "ny": v["ny"],
            "step_um": [v["step_x_um"], v["step_y_um"]],
            "origin_um": list(origin_um),
        }
    else:
        sched["locations"] = parse_locations(v["locations"])
    scan = (base.get("schedule") or {}).get("energy_scan")
    if scan is not None:  # kept as loaded; each visit is one scan, which sets the exposure
        del sched["exposure_s"]
        sched["energy_scan"] = dict(scan)
    cfg["schedule"] = sched
    if v["probe"] != NO_PROBE:
        cfg["probe"] = v["probe"]
    return cfg
