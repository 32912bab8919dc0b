"""Materials: a chemical composition and a density, resolved by one shared resolver.

Lookup order: a library name or alias written exactly; then a chemical formula parsed by
xraylib, which keeps its own label and needs a density (except a bare element symbol, whose
density comes from ``xraylib.ElementDensity``); then a library name or alias in any case.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import numpy as np
import xraylib
import yaml

from beamdesign.coefficients import mixture_coefficients
from beamdesign.errors import InputError, did_you_mean
from beamdesign.frozen import FrozenMapping
from beamdesign.reprs import compact_repr
from beamdesign.validate import number

_TOKEN = re.compile(r"[A-Z][a-z]?|\d+(\.\d+)?|\.\d+|[()\[\]]")


@dataclass(frozen=True)
class Material:
    """A homogeneous material.

    Attributes
    ----------
    name : library name, or the formula as typed
    density_g_cm3 : density (g/cm³)
    mass_fractions : ((Z, mass fraction), ...), fractions summing to 1
    formula : chemical formula, or a description of a mixture's components
    category, source : what it is and where its numbers come from
    """

    name: str
    density_g_cm3: float
    mass_fractions: tuple[tuple[int, float], ...]
    formula: str = ""
    category: str = ""
    source: str = ""

    __repr__ = compact_repr

    def coefficients(self, energy_keV: np.ndarray) -> Mapping[str, np.ndarray]:
        """Mass coefficients (cm²/g) ``total``, ``photo``, ``energy`` at ``energy_keV``
        (cached: a read-only mapping of read-only arrays)."""
        energies = tuple(np.atleast_1d(np.asarray(energy_keV, dtype=float)).tolist())
        return _cached_coefficients(self.mass_fractions, energies)

    def with_density(self, density_g_cm3: float, field: str) -> Material:
        """The same composition at another density (validated)."""
        return Material(
            self.name,
            check_positive(density_g_cm3, field, "g/cm³"),
            self.mass_fractions,
            self.formula,
            self.category,
            self.source
            + (" (density set by the user)" if self.source else "density set by the user"),
        )


@lru_cache(maxsize=4096)
def _cached_coefficients(
    mass_fractions: tuple[tuple[int, float], ...], energies: tuple[float, ...]
) -> Mapping[str, np.ndarray]:
    values = mixture_coefficients(dict(mass_fractions), np.array(energies))
    for array in values.values():
        array.setflags(write=False)
    return FrozenMapping(values)


def check_positive(value: object, field: str, unit: str) -> float:
    """``value`` as a finite float > 0, or an InputError naming ``field`` (``validate.number``)."""
    return number(value, field, unit, low=0.0, low_open=True)


def _atomic_number(symbol: str) -> int:
    """Z of an element symbol, 0 when it is not one."""
    try:
        return int(xraylib.SymbolToAtomicNumber(symbol))
    except ValueError:
        return 0


def parse_formula(formula: str, field: str) -> tuple[tuple[int, float], ...]:
    """Element mass fractions of a chemical formula, or an error pointing at the bad character."""
    position = 0
    for match in _TOKEN.finditer(formula):
        if match.start() != position:
            break
        symbol = match.group()
        if symbol[0].isupper() and _atomic_number(symbol) == 0:
            raise InputError(
                field,
                formula,
                "not a known material or chemical formula",
                f"unknown element '{symbol}' at character {match.start() + 1}",
            )
        position = match.end()
    if position != len(formula) or not formula:
        raise InputError(
            field,
            formula,
            "not a known material or chemical formula",
            f"unexpected character at position {position + 1}" if formula else "",
        )
    try:
        parsed = xraylib.CompoundParser(formula)
    except ValueError as error:
        raise InputError(
            field, formula, "not a known material or chemical formula", str(error)
        ) from None
    return tuple(sorted(zip(parsed["Elements"], parsed["massFractions"], strict=True)))


def _composition(name: str, field: str) -> tuple[str, tuple[tuple[int, float], ...]]:
    """A mixture component's element mass fractions: a library entry or a formula (no density)."""
    if name.lower() in _library_entries():
        material = _library_material(name.lower())
        return material.name, material.mass_fractions
    return name, parse_formula(name, field)


def _mix(
    parts: list[tuple[tuple[str, tuple[tuple[int, float], ...]], float]],
) -> tuple[tuple[int, float], ...]:
    mixed: dict[int, float] = {}
    for (_, fractions), weight in parts:
        for z, w in fractions:
            mixed[z] = mixed.get(z, 0.0) + weight * w
    return tuple(sorted(mixed.items()))


@cache
def _library_entries() -> dict[str, dict[str, Any]]:
    text = resources.files("beamdesign").joinpath("data/materials.yaml").read_text("utf-8")
    entries: dict[str, dict[str, Any]] = {}
    for entry in yaml.safe_load(text):
        for key in [entry["name"], *entry.get("aliases", [])]:
            entries[key.lower()] = entry
    return entries


@cache
def _library_material(name_lower: str) -> Material:
    entry = _library_entries()[name_lower]
    field = f"materials.yaml[{entry['name']}]"
    if "components" in entry:
        parts = [
            (_composition(c["material"], field), c["mass_fraction"]) for c in entry["components"]
        ]
        fractions = _mix(parts)
        formula = " + ".join(f"{w:.4g} {name}" for (name, _), w in parts) + " (by mass)"
    else:
        fractions = parse_formula(entry["formula"], field)
        formula = entry["formula"]
    return Material(
        entry["name"],
        float(entry["density_g_cm3"]),
        fractions,
        formula,
        entry.get("category", ""),
        entry.get("source", ""),
    )


def default_particle_size_um(material: Material) -> float | None:
    """Typical particle diameter (µm) of a library material (``particle_size_um`` in
    materials.yaml, with its source in ``particle_size_source``), or None."""
    entry = _library_entries().get(material.name.lower())
    if entry is None or "particle_size_um" not in entry:
        return None
    return float(entry["particle_size_um"])


def library_names() -> list[str]:
    """Canonical names of the library's materials, in file order."""
    seen = dict.fromkeys(e["name"] for e in _library_entries().values())
    return list(seen)


def library() -> list[Material]:
    """Every library material, resolved."""
    return [_library_material(name.lower()) for name in library_names()]


def resolve_material(
    spec: str | dict[str, Any], field: str, density_g_cm3: float | None = None
) -> Material:
    """Resolve a material given by name, formula, or ``{material, density_g_cm3}``.

    Parameters
    ----------
    spec : library name/alias (case-insensitive), chemical formula, or a mapping with keys
        ``material`` and optionally ``density_g_cm3``
    field : where the value came from, for error messages (e.g. ``"layers[2].material"``)
    density_g_cm3 : overrides the library density; required for a formula the library lacks
    """
    if isinstance(spec, dict):
        unknown = set(spec) - {"material", "density_g_cm3"}
        if unknown or "material" not in spec:
            raise InputError(
                field, spec, "a material mapping has keys 'material' and optionally 'density_g_cm3'"
            )
        return resolve_material(spec["material"], f"{field}.material", spec.get("density_g_cm3"))
    if not isinstance(spec, str) or not spec.strip():
        raise InputError(field, spec, "a material name from the library or a chemical formula")
    name = spec.strip()
    material = _by_name(name, field)
    if material is None:
        fractions = parse_formula(name, field)
        z = _atomic_number(name) if re.fullmatch(r"[A-Z][a-z]?", name) else 0
        if density_g_cm3 is None and z:
            return Material(
                name,
                xraylib.ElementDensity(z),
                fractions,
                name,
                "element",
                "density: xraylib.ElementDensity",
            )
        if density_g_cm3 is None:
            same = sorted(
                {e["name"] for e in _library_entries().values() if e.get("formula") == name}
            )
            hint = (
                "library materials with this formula: " + ", ".join(same)
                if same
                else did_you_mean(name, library_names())
            )
            raise InputError(
                _density_field(field),
                None,
                f"the formula '{name}' is not a library name, so it needs a density_g_cm3 > 0",
                hint,
            )
        return Material(
            name,
            check_positive(density_g_cm3, _density_field(field), "g/cm³"),
            fractions,
            name,
            "",
            "formula and density given by the user",
        )
    if density_g_cm3 is not None:
        return material.with_density(density_g_cm3, _density_field(field))
    return material


def _by_name(name: str, field: str) -> Material | None:
    """A library entry named ``name``, or None for a chemical formula (STYLE.md §5).

    An exact (case-sensitive) name or alias wins; then a text that parses as a chemical
    formula is that formula (so "NCa" or "CB" never become NCA or carbon black); then a
    case-insensitive name or alias ("nmc811", "Carbon-Black").
    """
    entries = _library_entries()
    exact = {n: e for e in entries.values() for n in [e["name"], *e.get("aliases", [])]}
    if name in exact:
        return _library_material(exact[name]["name"].lower())
    formula_error: InputError | None = None
    if re.fullmatch(r"[A-Z][A-Za-z0-9.()\[\]]*", name):
        try:
            parse_formula(name, field)
            return None
        except InputError as error:
            formula_error = error
    if name.lower() in entries:
        return _library_material(name.lower())
    raise formula_error or InputError(
        field,
        name,
        "not a library material or a chemical formula",
        did_you_mean(name, library_names()) or "see `beamdesign materials`",
    )


def _density_field(field: str) -> str:
    return field.removesuffix(".material") + ".density_g_cm3"
