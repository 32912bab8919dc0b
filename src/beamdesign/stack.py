"""Cell stacks: ordered layers (upstream first), each a dense material or a porous solid whose
pores hold a filler (electrolyte).

A porous layer is written as electrode recipes are: the solid's mass fractions. They become
volume fractions of the layer: ``v_k = (1 - porosity) * (w_k / rho_k) / sum_i (w_i / rho_i)``
for the solid constituents, and ``v = porosity`` for the pore filler.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from beamdesign import validate
from beamdesign.errors import InputError, did_you_mean
from beamdesign.files import builtin_texts, parse_mapping, read_mapping
from beamdesign.frozen import freeze, thaw
from beamdesign.materials import Material, default_particle_size_um, resolve_material
from beamdesign.reprs import compact_repr

STACK_KEYS = ("name", "title", "source", "layers")
LAYER_KEYS = (
    "name",
    "material",
    "density_g_cm3",
    "thickness_um",
    "porosity",
    "pore_filler",
    "solid",
    "note",
)
SOLID_KEYS = ("material", "density_g_cm3", "mass_fraction", "particle_size_um")
MASS_FRACTION_TOLERANCE = 0.01
#: A mass fraction of the solid; up to 1 + MASS_FRACTION_TOLERANCE for rounded recipes.
MASS_FRACTION = validate.Range(0.0, 1.0 + MASS_FRACTION_TOLERANCE, low_open=True)
#: A solid's particle diameter: above 0 to 1 mm (electrode particles are 0.01–50 µm).
PARTICLE_SIZE_UM = validate.Range(0.0, 1000.0, "µm", low_open=True)
#: Longest free text (title, source, note), characters.
MAX_NOTE_CHARS = 5000


@dataclass(frozen=True)
class Constituent:
    """One material of a layer, with its volume fraction of the layer."""

    name: str
    material: Material
    volume_fraction: float
    role: str  # "solid" or "pore filler"
    mass_fraction_of_solid: float | None = None
    particle_size_um: float | None = None  # particle diameter, for the transport convention

    __repr__ = compact_repr


@dataclass(frozen=True)
class Layer:
    """A slab of ``thickness_um`` perpendicular to the beam."""

    name: str
    thickness_um: float
    constituents: tuple[Constituent, ...]
    porosity: float
    note: str
    config: Mapping[str, Any]  # the stack-file mapping, as a read-only deep view

    __repr__ = compact_repr

    def __post_init__(self) -> None:
        object.__setattr__(self, "config", freeze(self.config))

    @property
    def solid_constituents(self) -> tuple[Constituent, ...]:
        return tuple(c for c in self.constituents if c.role == "solid")

    @property
    def main_constituent(self) -> Constituent:
        """The solid constituent with the largest mass fraction (what ``probe: <layer>`` means)."""
        return max(self.solid_constituents, key=lambda c: c.mass_fraction_of_solid or 0.0)


@dataclass(frozen=True)
class Stack:
    """Layers in beam order, upstream first."""

    name: str
    layers: tuple[Layer, ...]
    title: str = ""
    source: str = ""

    __repr__ = compact_repr

    def layer(self, name: str, field: str = "layer") -> Layer:
        """The layer called ``name`` (case-insensitive); ``field`` names the source of errors."""
        for layer in self.layers:
            if layer.name.lower() == name.lower():
                return layer
        names = [layer.name for layer in self.layers]
        raise InputError(
            field, name, "one of " + ", ".join(repr(n) for n in names), did_you_mean(name, names)
        )

    @property
    def thickness_um(self) -> float:
        return sum(layer.thickness_um for layer in self.layers)

    def to_config(self) -> dict[str, Any]:
        """The stack as the mapping a stack file holds (round-trips through
        ``stack_from_config``)."""
        config: dict[str, Any] = {"name": self.name}
        if self.title:
            config["title"] = self.title
        if self.source:
            config["source"] = self.source
        config["layers"] = [thaw(layer.config) for layer in self.layers]
        return config


def layer_from_config(config: dict[str, Any], field: str) -> Layer:
    """Build a layer from its stack-file mapping (see the module docstring)."""
    validate.mapping(config, field, LAYER_KEYS, required=("name", "thickness_um"))
    name = validate.text(config["name"], f"{field}.name")
    thickness_um = validate.THICKNESS_UM.check(config["thickness_um"], f"{field}.thickness_um")
    porosity = validate.POROSITY.check(config.get("porosity", 0.0), f"{field}.porosity")
    note = validate.text(
        config.get("note", ""), f"{field}.note", max_chars=MAX_NOTE_CHARS, empty=True
    )
    has_material, has_solid = "material" in config, "solid" in config
    if has_material == has_solid:
        raise InputError(
            field,
            name,
            "give either 'material' (one material) or 'solid' "
            "(a list of {material, mass_fraction}), not both or neither",
        )
    if has_material:
        solid_parts = [
            (
                {"material": config["material"], "density_g_cm3": config.get("density_g_cm3")},
                1.0,
                f"{field}.material",
            )
        ]
    else:
        if "density_g_cm3" in config:
            raise InputError(
                f"{field}.density_g_cm3",
                config["density_g_cm3"],
                "a layer with 'solid' takes densities per solid component",
            )
        items = config["solid"]
        if not isinstance(items, list) or not items:
            raise InputError(
                f"{field}.solid", items, "a non-empty list of {material, mass_fraction}"
            )
        solid_parts = []
        for i, item in enumerate(items):
            item_field = f"{field}.solid[{i}]"
            validate.mapping(item, item_field, SOLID_KEYS, required=("material", "mass_fraction"))
            fraction = MASS_FRACTION.check(item["mass_fraction"], f"{item_field}.mass_fraction")
            solid_parts.append((item, fraction, f"{item_field}.material"))
            if "particle_size_um" in item:
                PARTICLE_SIZE_UM.check(item["particle_size_um"], f"{item_field}.particle_size_um")
        total = sum(f for _, f, _ in solid_parts)
        if abs(total - 1.0) > MASS_FRACTION_TOLERANCE:
            raise InputError(
                f"{field}.solid",
                f"mass fractions summing to {total:.4g}",
                f"the mass fractions must sum to 1 (±{MASS_FRACTION_TOLERANCE:.0%})",
            )
    solids = []
    for spec, fraction, spec_field in solid_parts:
        density = spec.get("density_g_cm3")
        if density is not None:
            density = validate.DENSITY_G_CM3.check(
                density, spec_field.removesuffix(".material") + ".density_g_cm3"
            )
        material = resolve_material(spec["material"], spec_field, density)
        size = spec.get("particle_size_um")
        solids.append(
            (
                material,
                fraction,
                default_particle_size_um(material) if size is None else float(size),
            )
        )
    total = sum(f for _, f, _ in solids)
    specific_volume = sum(f / total / m.density_g_cm3 for m, f, _ in solids)
    constituents = [
        Constituent(
            m.name,
            m,
            (1 - porosity) * (f / total / m.density_g_cm3) / specific_volume,
            "solid",
            f / total,
            size,
        )
        for m, f, size in solids
    ]
    filler = config.get("pore_filler")
    if porosity > 0:
        if filler is None:
            raise InputError(
                f"{field}.pore_filler",
                None,
                f"a layer with porosity {porosity:g} needs a pore_filler, e.g. 'LP57'",
            )
        filler_material = resolve_material(filler, f"{field}.pore_filler")
        filler_name = filler_material.name
        if any(c.name == filler_name for c in constituents):
            filler_name += " (pores)"
        constituents.append(Constituent(filler_name, filler_material, porosity, "pore filler"))
    elif filler is not None:
        raise InputError(f"{field}.pore_filler", filler, "a pore filler needs a porosity > 0")
    names = [c.name for c in constituents]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise InputError(f"{field}.solid", duplicate, "each material appears once in a layer")
    return Layer(name, thickness_um, tuple(constituents), porosity, note, dict(config))


def stack_from_config(config: dict[str, Any], field: str = "stack") -> Stack:
    """Build a stack from the mapping a stack file holds."""
    validate.mapping(config, field, STACK_KEYS, required=("layers",))
    layers_config = config.get("layers")
    if not isinstance(layers_config, list) or not layers_config:
        raise InputError(
            f"{field}.layers", layers_config, "a non-empty list of layers, upstream first"
        )
    layers = tuple(
        layer_from_config(c, f"{field}.layers[{i}]") for i, c in enumerate(layers_config)
    )
    seen: set[str] = set()
    for i, layer in enumerate(layers):
        if layer.name.lower() in seen:
            raise InputError(f"{field}.layers[{i}].name", layer.name, "layer names must be unique")
        seen.add(layer.name.lower())
    return Stack(
        validate.text(config.get("name", "custom stack"), f"{field}.name"),
        layers,
        validate.text(config.get("title", ""), f"{field}.title", empty=True),
        validate.text(
            config.get("source", ""), f"{field}.source", max_chars=MAX_NOTE_CHARS, empty=True
        ),
    )


@cache
def _preset_configs() -> dict[str, dict[str, Any]]:
    return {
        name: parse_mapping(text, "stack", source=f"built-in stack {name}.yaml")
        for name, text in builtin_texts("stacks").items()
    }


def preset_names() -> list[str]:
    """Names of the built-in stacks."""
    return list(_preset_configs())


def preset_config(name: str) -> dict[str, Any]:
    """A fresh copy of a built-in stack's mapping."""
    configs = _preset_configs()
    if name.lower() not in configs:
        raise InputError(
            "stack",
            name,
            "not a built-in stack or an existing file; built-in: " + ", ".join(configs),
            did_you_mean(name, configs),
        )
    copy: dict[str, Any] = json.loads(json.dumps(configs[name.lower()]))
    return copy


def load_stack(spec: str | Path | dict[str, Any], field: str = "stack") -> Stack:
    """A stack from a preset name, a YAML/JSON file path, or an inline mapping."""
    if isinstance(spec, dict):
        return stack_from_config(spec, field)
    text = str(spec)
    if text.lower() in _preset_configs():
        return stack_from_config(preset_config(text), field)
    path = Path(text).expanduser()
    if path.suffix.lower() in {".yaml", ".yml", ".json"} or path.exists():
        return stack_from_config(read_mapping(path, field), field)
    return stack_from_config(preset_config(text), field)
