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

from beamdesign.electron_session import BEAM_FORMS, ElectronBeam
from beamdesign.errors import InputError
from beamdesign.materials import resolve_material
from beamdesign.plan import METADATA_KEYS, Plan
from beamdesign.profile import profile_names
from beamdesign.stack import preset_config, preset_names

#: the probe dropdown's entry for "no probe named": the constituent with the highest dose rate
NO_PROBE = "(highest dose rate)"
#: the preset dropdown's entry for layers that are not a preset
CUSTOM = "(custom)"
#: the keys of a plan mapping that no control edits, carried from the loaded plan
KEPT_KEYS = ("version", "thresholds", "soc0", "design", "probe_type")
#: the beamline dropdown's entry for "no beamline profile"
NO_BEAMLINE = "(none)"
#: the beamline dropdown's entry for a profile the plan gives as a file path or a mapping
PLAN_BEAMLINE = "(the plan's own profile)"
#: the beamline filter dropdown's entry for "no filter of the beamline"
NO_FILTER = "(no filter)"
#: the electron controls' values for an X-ray plan: the iDPC-STEM settings of the built-in plan
#: zhang-idpc-stem-frames (300 kV, 19 pA, 10 µs, 0.088 Å pixels, 10 nm ZrO2 at the monoclinic
#: density 5.68 g/cm³: ZrO2 is a formula, not a library name, so it needs its density)
ELECTRON_DEFAULTS: dict[str, Any] = {
    "electron_energy_keV": 300.0,
    "specimen_material": "ZrO2",
    "specimen_density_g_cm3": 5.68,
    "specimen_thickness_nm": 10.0,
    "beam_form": "scanned",
    "current_pA": 19.0,
    "dwell_us": 10.0,
    "pixel_A": 0.088,
    "pixels_x": 1024,
    "pixels_y": 1024,
    "current_nA": 2.0,
    "area_um2": 1.0,
    "e_per_A2_s": 100.0,
}
#: beam form -> the controls that set it (the others are hidden)
BEAM_FORM_CONTROLS = {
    "scanned": ("current_pA", "dwell_us", "pixel_A", "pixels_x", "pixels_y"),
    "flood": ("current_nA", "area_um2"),
    "fluence_rate": ("e_per_A2_s", "area_um2"),
}
#: the energy-scan controls (shown with the scan toggle on, instead of the exposure)
SCAN_CONTROLS = ("scan_start_keV", "scan_stop_keV", "scan_points", "scan_dwell_s")
#: the controls of an X-ray plan's cell and beam (an electron plan leaves them out)
XRAY_CONTROLS = (
    "preset",
    "probe",
    "energy_keV",
    "energy_slider",
    "flux_ph_s",
    "spot_w_um",
    "spot_h_um",
    "profile",
    "convention",
    "attenuator_transmission",
    "beamline",
    "flux_from_beamline",
    "beamline_filter",
    "scan",
    *SCAN_CONTROLS,
)

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
    "scan": (
        "energy scan",
        "",
        "Make an energy scan (XANES/EXAFS) at every visit instead of one exposure at the beam "
        "energy; the dose is integrated point by point, edges included",
    ),
    "scan_start_keV": ("scan start", "keV", "First energy of the scan (keV)"),
    "scan_stop_keV": ("scan stop", "keV", "Last energy of the scan (keV), above the start"),
    "scan_points": ("scan points", "", "Energies in the scan, evenly spaced, both ends included"),
    "scan_dwell_s": ("dwell per point", "s", "Beam-on time at each energy of the scan (s)"),
    "beamline": (
        "beamline profile",
        "",
        "A beamline profile: its flux table sets the flux at the energy, its filters become "
        "attenuators, its spots and shortest exposure are checked",
    ),
    "flux_from_beamline": (
        "flux from the beamline",
        "",
        "Take the flux from the beamline's flux table at the beam energy (untick to type a "
        "lower measured flux)",
    ),
    "beamline_filter": (
        "beamline filter",
        "",
        "One of the beamline's filters (a real material: its transmission depends on energy)",
    ),
    "probe_type": (
        "probe type",
        "",
        "x-ray: a synchrotron beam through a cell; electron: a TEM/STEM session on a thin "
        "specimen (dose in Gy from the collision stopping power)",
    ),
    "electron_energy_keV": (
        "electron energy",
        "keV",
        "Kinetic energy of the electrons (keV) = accelerating voltage (kV), 1–1000",
    ),
    "specimen_material": (
        "specimen material",
        "",
        "The specimen's material: a library name or a formula (a formula needs a density)",
    ),
    "specimen_density_g_cm3": (
        "specimen density",
        "g/cm³",
        "Specimen density (g/cm³); 0 = from the material library",
    ),
    "specimen_thickness_nm": (
        "specimen thickness",
        "nm",
        "Specimen (lamella) thickness along the beam (nm), 1 nm to 100 µm",
    ),
    "beam_form": (
        "electron beam",
        "",
        "scanned: a STEM probe rastered over pixels; flood: a TEM beam of a current over an "
        "area; fluence rate: electrons per Å² per second over an area",
    ),
    "current_pA": ("probe current", "pA", "Current of the scanned probe (pA)"),
    "dwell_us": ("dwell time", "µs", "Time the probe stays on each pixel (µs)"),
    "pixel_A": ("pixel size", "Å", "Side of one (square) pixel of the scan (Å)"),
    "pixels_x": ("pixels along x", "", "Pixels per row of a frame"),
    "pixels_y": ("pixels along y", "", "Rows of pixels in a frame"),
    "current_nA": ("beam current", "nA", "Current of the flood beam on the specimen (nA)"),
    "area_um2": ("illuminated area", "µm²", "Area the electrons spread over (µm²)"),
    "e_per_A2_s": ("fluence rate", "e/Å²/s", "Electrons per Å² per second on the specimen"),
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
    "beamline",
    "electron_energy",
    "specimen",
    "electron_beam",
    "raster",
    "locations",
    "exposure_s",
    "energy_scan",
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
    ("electron.energy_keV", "electron_energy"),
    ("electron.specimen", "specimen"),
    ("electron", "electron_beam"),
    ("probe_type", "electron_beam"),
    ("beam.convention", "convention"),
    ("beamline", "beamline"),
    ("schedule.energy_scan", "energy_scan"),
    ("beam.energy_keV", "energy_keV"),
    ("energies_keV", "energy_keV"),
    ("beam.flux_ph_s", "flux_ph_s"),
    ("beam.spot_um", "spot"),
    ("beam.profile", "profile"),
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
    "thickness_nm": ("specimen thickness", "nm"),
    "pixels": ("pixels per side", ""),
    "start_keV": ("scan start", "keV"),
    "stop_keV": ("scan stop", "keV"),
    "points": ("scan points", ""),
    "dwell_s": ("dwell per point", "s"),
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
    material_attenuators : attenuators no control shows: material filters, named beamline
        filters after the first (kept as they are)
    origin_um : the raster origin (no control)
    """

    config: dict[str, Any]
    values: dict[str, Any]
    layers: list[dict[str, Any]]
    material_attenuators: list[Any]
    origin_um: list[float]


def exact(x: float) -> str:
    """A number as short as ``:g`` writes it when that reads back the same, else in full (a
    location's 10.48576 s exposure must not become 10.4858 s on the way back)."""
    short = f"{x:g}"
    return short if float(short) == x else repr(float(x))


def electron_values(cfg: dict[str, Any]) -> dict[str, Any]:
    """The electron controls' values for an electron plan's mapping (``probe_type: electron``)."""
    section = cfg["electron"]
    specimen = section["specimen"]
    ((form, spec),) = ((k, section["beam"][k]) for k in BEAM_FORMS if k in section["beam"])
    v: dict[str, Any] = {
        "electron_energy_keV": float(section["energy_keV"]),
        "specimen_material": str(specimen["material"]),
        "specimen_density_g_cm3": float(specimen.get("density_g_cm3") or 0.0),
        "specimen_thickness_nm": float(specimen["thickness_nm"]),
        "beam_form": form,
    }
    for key in BEAM_FORM_CONTROLS[form]:
        if key.startswith("pixels_"):
            pixels = spec["pixels"]
            pixels = [pixels, pixels] if isinstance(pixels, (int, float)) else pixels
            v[key] = int(pixels[0 if key == "pixels_x" else 1])
        else:
            v[key] = float(spec[key])
    return v


def beam_values(plan: Plan, cfg: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    """The X-ray beam controls' values, and the attenuators no control shows (material filters,
    and named beamline filters after the first, kept as they are)."""
    beam = plan.beam
    v: dict[str, Any] = {
        "energy_keV": beam.energy_keV,
        "energy_slider": min(max(beam.energy_keV, 5), 100),
        "flux_ph_s": beam.flux_ph_s,
        "profile": beam.profile,
        "convention": beam.convention,
        "beamline_filter": NO_FILTER,
    }
    v["spot_w_um"], v["spot_h_um"] = beam.spot_um
    line = cfg.get("beamline")
    if line is None:
        v["beamline"] = NO_BEAMLINE
    else:
        v["beamline"] = line if isinstance(line, str) and line in profile_names() else PLAN_BEAMLINE
    raw = cfg["beam"] if isinstance(cfg.get("beam"), dict) else {}
    v["flux_from_beamline"] = line is not None and "flux_ph_s" not in raw
    if line is None:  # the beam's attenuators are the plan's
        entries: list[Any] = [a.to_config() for a in beam.attenuators]
    else:  # named filters are resolved in plan.beam: read the plan's own entries
        entries = list(raw.get("attenuators") or [])
    transmission, kept = 1.0, []
    for entry in entries:
        if isinstance(entry, dict) and set(entry) == {"transmission"}:
            transmission *= float(entry["transmission"])
        elif isinstance(entry, str) and v["beamline_filter"] == NO_FILTER:
            v["beamline_filter"] = entry
        else:
            kept.append(entry)
    v["attenuator_transmission"] = transmission
    return v, kept


def scan_values(plan: Plan) -> dict[str, Any]:
    """The energy-scan controls: the plan's scan, or (toggle off) a 0.3 keV scan from the beam
    energy as a starting point."""
    scan = plan.schedule.energy_scan
    if scan is None:
        e = float(plan.beam.energy_keV)
        return {
            "scan": False,
            "scan_start_keV": e,
            "scan_stop_keV": e + 0.3,
            "scan_points": 31,
            "scan_dwell_s": 1.0,
        }
    return {
        "scan": True,
        "scan_start_keV": scan.start_keV,
        "scan_stop_keV": scan.stop_keV,
        "scan_points": scan.points,
        "scan_dwell_s": scan.dwell_s,
    }


def values_from_plan(plan: Plan) -> PlanValues:
    """The control values that describe ``plan``. An electron plan sets the electron controls
    and leaves the X-ray cell and beam controls out (they keep their values, unused)."""
    cfg = plan.to_config()
    v: dict[str, Any] = {
        "title": str(cfg.get("title", plan.title)),
        "notes": str(cfg.get("notes", "")),
        "probe_type": "electron" if isinstance(plan.beam, ElectronBeam) else "x-ray",
    }
    for key in METADATA_KEYS:
        v[f"meta_{key}"] = str(plan.metadata.get(key, ""))
    layers: list[dict[str, Any]] = []
    kept: list[Any] = []
    if v["probe_type"] == "electron":
        v.update(electron_values(cfg))
        v["scan"] = False  # an electron session has no photon-energy scan
    else:
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
        beam_v, kept = beam_values(plan, cfg)
        v.update(beam_v)
        v.update(scan_values(plan))
    beam = plan.beam
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
        f"{loc.name}, {exact(loc.x_um)}, {exact(loc.y_um)}"
        + ("" if scanned else f", {exact(loc.exposure_s)}")
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
    return PlanValues(cfg, v, layers, kept, origin)


def electron_config(v: dict[str, Any]) -> dict[str, Any]:
    """The plan's ``electron`` section from the electron controls' values."""
    specimen: dict[str, Any] = {
        "material": v["specimen_material"].strip(),
        "thickness_nm": v["specimen_thickness_nm"],
    }
    density = float(v["specimen_density_g_cm3"])
    if density < 0:
        raise InputError(
            "electron.specimen.density_g_cm3",
            density,
            "must be > 0 (g/cm³), or 0 for the library density",
        )
    if density > 0:
        specimen["density_g_cm3"] = density
    form = v["beam_form"]
    spec: dict[str, Any] = {}
    for key in BEAM_FORM_CONTROLS[form]:
        if key.startswith("pixels_"):
            spec["pixels"] = [v["pixels_x"], v["pixels_y"]]
        else:
            spec[key] = v[key]
    return {"energy_keV": v["electron_energy_keV"], "specimen": specimen, "beam": {form: spec}}


def config_from_values(
    values: dict[str, Any],
    rows: list[tuple[dict[str, Any], dict[str, Any]]],
    base: dict[str, Any],
    material_attenuators: list[Any],
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
    electron = v["probe_type"] == "electron"
    if electron != (base.get("probe_type") == "electron"):  # made for the other probe type
        cfg.pop("thresholds", None)
        cfg.pop("design", None)
    if electron:
        cfg["probe_type"] = "electron"
        cfg["electron"] = electron_config(v)
    else:
        cfg.pop("probe_type", None)
        layers = [
            layer_config(layer, row, f"stack.layers[{i}]") for i, (layer, row) in enumerate(rows)
        ]
        name = v["preset"] if v["preset"] != CUSTOM else "custom"
        cfg["stack"] = {"name": name, "layers": layers}
        cfg["beam"] = beam_config(v, base, material_attenuators)
        if v["beamline"] == PLAN_BEAMLINE and "beamline" in base:
            cfg["beamline"] = base["beamline"]
        elif v["beamline"] not in (NO_BEAMLINE, PLAN_BEAMLINE):
            cfg["beamline"] = v["beamline"]
    cfg["protocol"] = [line.strip() for line in v["protocol"].splitlines() if line.strip()]
    loop = v["loop"].strip()
    sched: dict[str, Any] = {
        "exposure_s": v["exposure_s"],
        "move_s": v["move_s"],
        "loop": int(loop) if loop.isdigit() else loop,
        "pause_s": v["pause_s"],
    }
    scanned = v["scan"] and not electron
    if scanned:  # each visit is one scan, which sets the exposure
        del sched["exposure_s"]
        sched["energy_scan"] = {
            "start_keV": v["scan_start_keV"],
            "stop_keV": v["scan_stop_keV"],
            "points": v["scan_points"],
            "dwell_s": v["scan_dwell_s"],
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
        locations = parse_locations(v["locations"])
        for loc in locations if scanned else ():  # the scan sets each visit's beam-on time
            loc.pop("exposure_s", None)
        sched["locations"] = locations
    cfg["schedule"] = sched
    if not electron and v["probe"] != NO_PROBE:
        cfg["probe"] = v["probe"]
    return cfg


def beam_config(
    v: dict[str, Any], base: dict[str, Any], material_attenuators: list[Any]
) -> dict[str, Any]:
    """The X-ray ``beam`` mapping; with a beamline profile, the flux is left out when it comes
    from the profile's table, and the chosen filter is named (the profile resolves it)."""
    chosen = v["beamline"]
    beamline = chosen != NO_BEAMLINE and (chosen != PLAN_BEAMLINE or "beamline" in base)
    attenuators = list(material_attenuators)
    if v["attenuator_transmission"] != 1.0:
        attenuators.append({"transmission": v["attenuator_transmission"]})
    if beamline and v["beamline_filter"] != NO_FILTER:
        attenuators.append(v["beamline_filter"])
    beam: dict[str, Any] = {
        "energy_keV": v["energy_keV"],
        "flux_ph_s": v["flux_ph_s"],
        "spot_um": [v["spot_w_um"], v["spot_h_um"]],
        "profile": v["profile"],
        "convention": v["convention"],
    }
    if beamline and v["flux_from_beamline"]:
        del beam["flux_ph_s"]
    if attenuators:
        beam["attenuators"] = attenuators
    return beam
