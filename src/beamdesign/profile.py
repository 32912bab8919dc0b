"""Beamline profiles: what a beamline can deliver (flux vs energy, filters, spots, timing,
detector), read from YAML files, and applied to a plan.

A profile file holds::

    name, title, source, example (true for the illustrative profiles shipped)
    flux_table: {energy_keV: [...], flux_ph_s: [...]}   # photons/s reaching the filters
    beam_profile: tophat | gaussian
    spots_um: [[w, h], ...]                              # spot sizes offered (µm)
    attenuators: [{name, material, thickness_um}, ...]   # real filters: T depends on energy
    shortest_exposure_s, move_s                          # detector/shutter and motor limits (s)
    detector: {efficiency, ring_fraction, window_deg, i0_fraction, solid_angle_sr, points}

The flux between table points is interpolated log-log (undulator and bending-magnet spectra
are smooth power laws over such ranges); outside the table nothing is extrapolated.
A plan names a profile with the top-level key ``beamline``: a built-in name, a file path
(relative to the plan file) or an inline mapping (see ``apply_profile``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from beamdesign import validate
from beamdesign.beam import PROFILES, Attenuator
from beamdesign.errors import InputError, did_you_mean
from beamdesign.files import builtin_texts, read_mapping
from beamdesign.materials import check_positive
from beamdesign.reprs import compact_repr
from beamdesign.signal import Detector

PROFILE_KEYS = (
    "name",
    "title",
    "source",
    "example",
    "flux_table",
    "beam_profile",
    "spots_um",
    "attenuators",
    "shortest_exposure_s",
    "move_s",
    "detector",
)
SPOT_TOLERANCE_UM = 0.5  # a plan's spot matches an offered one within half a micrometre
FLUX_TOLERANCE = 1e-9  # a flux written back from the table (rounded) still counts as within it


@dataclass(frozen=True)
class Profile:
    """A beamline's capabilities (module docstring); ``config`` is the mapping it came from."""

    name: str
    title: str
    source: str
    example: bool
    energies_keV: tuple[float, ...]
    flux_table_ph_s: tuple[float, ...]
    beam_profile: str
    spots_um: tuple[tuple[float, float], ...]
    attenuators: tuple[tuple[str, Attenuator], ...]
    shortest_exposure_s: float
    move_s: float
    detector: Detector
    config: dict[str, Any]

    __repr__ = compact_repr

    def flux_ph_s(self, energy_keV: float, field: str = "beam.energy_keV") -> float:
        """Flux (ph/s) at ``energy_keV``, interpolated log-log inside the table only."""
        low, high = self.energies_keV[0], self.energies_keV[-1]
        if not low <= energy_keV <= high:
            raise InputError(
                field,
                energy_keV,
                f"beamline '{self.name}' has flux from {low:g} to {high:g} keV (its flux_table)",
            )
        return float(
            np.exp(
                np.interp(
                    np.log(energy_keV), np.log(self.energies_keV), np.log(self.flux_table_ph_s)
                )
            )
        )

    def attenuator(self, name: str, field: str = "attenuator") -> Attenuator:
        """The filter called ``name`` (case-insensitive)."""
        for key, value in self.attenuators:
            if key.lower() == str(name).lower():
                return value
        names = [key for key, _ in self.attenuators]
        raise InputError(
            field,
            name,
            f"a filter of beamline '{self.name}': " + ", ".join(names),
            did_you_mean(str(name), names),
        )


def _positive_list(values: object, field: str, unit: str) -> tuple[float, ...]:
    if not isinstance(values, list) or len(values) < 2:
        raise InputError(field, values, f"a list of at least two numbers > 0 ({unit})")
    for i, value in enumerate(values):
        if isinstance(value, bool):
            raise InputError(f"{field}[{i}]", value, f"a number > 0 ({unit})")
    return tuple(check_positive(v, f"{field}[{i}]", unit) for i, v in enumerate(values))


def _non_negative(value: object, field: str, unit: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not np.isfinite(value)
        or value < 0
    ):
        raise InputError(field, value, f"a number >= 0 ({unit})")
    return float(value)


def profile_from_config(config: dict[str, Any], field: str = "beamline") -> Profile:
    """Validate a profile mapping (module docstring) and build the profile."""
    if not isinstance(config, dict):
        raise InputError(field, config, "a beamline profile is a mapping with name and flux_table")
    validate.unknown_keys(config, PROFILE_KEYS, field)
    name = config.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"{field}.name", name, "a profile needs a non-empty name")
    table = config.get("flux_table")
    if not isinstance(table, dict) or set(table) != {"energy_keV", "flux_ph_s"}:
        raise InputError(f"{field}.flux_table", table, "{energy_keV: [...], flux_ph_s: [...]}")
    energies = _positive_list(table["energy_keV"], f"{field}.flux_table.energy_keV", "keV")
    fluxes = _positive_list(table["flux_ph_s"], f"{field}.flux_table.flux_ph_s", "ph/s")
    if len(energies) != len(fluxes):
        raise InputError(
            f"{field}.flux_table.flux_ph_s",
            len(fluxes),
            f"one flux per energy ({len(energies)} energies)",
        )
    if any(b <= a for a, b in pairwise(energies)):
        raise InputError(
            f"{field}.flux_table.energy_keV", list(energies), "energies in increasing order"
        )
    shape = config.get("beam_profile", "tophat")
    if shape not in PROFILES:
        raise InputError(f"{field}.beam_profile", shape, "one of " + ", ".join(PROFILES))
    spots = config.get("spots_um")
    if (
        not isinstance(spots, list)
        or not spots
        or not all(isinstance(s, list) and len(s) == 2 for s in spots)
    ):
        raise InputError(f"{field}.spots_um", spots, "a list of [width, height] spot sizes in µm")
    filters = config.get("attenuators", [])
    if not isinstance(filters, list):
        raise InputError(
            f"{field}.attenuators", filters, "a list of {name, material, thickness_um}"
        )
    attenuators = []
    for i, item in enumerate(filters):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise InputError(f"{field}.attenuators[{i}]", item, "{name, material, thickness_um}")
        rest = {k: v for k, v in item.items() if k != "name"}
        attenuators.append(
            (item["name"], Attenuator.from_config(rest, f"{field}.attenuators[{i}]"))
        )
    example = config.get("example", False)
    if not isinstance(example, bool):
        raise InputError(f"{field}.example", example, "true or false")
    return Profile(
        name=name.strip(),
        title=str(config.get("title", "")),
        source=" ".join(str(config.get("source", "")).split()),
        example=example,
        energies_keV=energies,
        flux_table_ph_s=fluxes,
        beam_profile=shape,
        spots_um=tuple(
            (
                check_positive(w, f"{field}.spots_um", "µm"),
                check_positive(h, f"{field}.spots_um", "µm"),
            )
            for w, h in spots
        ),
        attenuators=tuple(attenuators),
        shortest_exposure_s=check_positive(
            config.get("shortest_exposure_s"), f"{field}.shortest_exposure_s", "s"
        ),
        move_s=_non_negative(config.get("move_s", 0.0), f"{field}.move_s", "s"),
        detector=Detector.from_config(config.get("detector"), f"{field}.detector"),
        config=json.loads(json.dumps(config)),
    )


def _builtin() -> dict[str, str]:
    return builtin_texts("profiles")


def profile_names() -> list[str]:
    """Names of the built-in (example) profiles."""
    return list(_builtin())


def load_profile(spec: str | Path | dict[str, Any] | Profile, field: str = "beamline") -> Profile:
    """A profile from a built-in name, a YAML/JSON file, a mapping, or a profile (returned)."""
    import yaml

    if isinstance(spec, Profile):
        return spec
    if isinstance(spec, dict):
        return profile_from_config(spec, field)
    text = str(spec)
    if text in _builtin():
        return profile_from_config(yaml.safe_load(_builtin()[text]), field)
    path = Path(text).expanduser()
    if not path.is_file():
        raise InputError(
            field,
            text,
            "a beamline profile file or a built-in profile: " + ", ".join(_builtin()),
            did_you_mean(text, _builtin()),
        )
    return profile_from_config(read_mapping(path, field), field)


def apply_profile(
    plan_config: dict[str, Any],
    profile: Profile | str | dict[str, Any],
    attenuator: str | None = None,
) -> dict[str, Any]:
    """A copy of ``plan_config`` made consistent with the beamline: the one resolver of a plan's
    ``beamline`` key (``plan.plan_from_config``, sweeps and designs all call it).

    - ``beam.flux_ph_s``: the profile's flux at ``beam.energy_keV`` when the plan does not set
      it; a flux the plan sets (measured on the day, a detuned undulator) is kept, but may not
      exceed the table's flux at that energy. The energy must lie inside the flux table either
      way (the beamline cannot deliver it otherwise);
    - ``beam.profile``: the profile's beam shape when the plan does not set it (a different
      shape is an error); ``beam.spot_um`` must be an offered spot;
    - ``beam.attenuators``: an entry may name one of the profile's filters (``Al-1mm``): it
      becomes that real filter (material and thickness, so that its transmission depends on
      energy); ``attenuator``: the name of one more filter, appended;
    - an energy scan must lie inside the flux table (the flux of its points is the table's at
      ``beam.energy_keV``, the scan's reference: a XANES scan spans a few hundred eV);
    - every exposure must be at least ``shortest_exposure_s``; ``schedule.move_s`` is raised to
      the profile's ``move_s`` when shorter (motors cannot move faster);
    - the top-level ``beamline`` key is removed.
    """
    profile = load_profile(profile)
    config: dict[str, Any] = json.loads(json.dumps(plan_config))
    config.pop("beamline", None)
    beam = config.get("beam")
    if not isinstance(beam, dict) or "energy_keV" not in beam:
        raise InputError(
            "beam.energy_keV", None, "a plan needs a beam energy to apply a beamline profile"
        )
    energy = beam["energy_keV"]
    if isinstance(energy, bool) or not isinstance(energy, (int, float)):
        raise InputError("beam.energy_keV", energy, "a number (keV)")
    available = profile.flux_ph_s(float(energy))
    flux = beam.get("flux_ph_s")
    if flux is None:
        beam["flux_ph_s"] = available
    elif (
        isinstance(flux, (int, float))
        and not isinstance(flux, bool)
        and flux > available * (1.0 + FLUX_TOLERANCE)
    ):
        raise InputError(
            "beam.flux_ph_s",
            flux,
            f"at most {available:.3g} ph/s at {float(energy):g} keV on beamline "
            f"'{profile.name}' (its flux_table)",
            "leave beam.flux_ph_s out to take the table's flux",
        )
    shape = beam.setdefault("profile", profile.beam_profile)
    if shape != profile.beam_profile:
        raise InputError(
            "beam.profile",
            shape,
            f"a {profile.beam_profile} beam on beamline '{profile.name}' (its beam_profile)",
            "leave beam.profile out to take the beamline's",
        )
    spot = beam.get("spot_um")
    spot = [spot, spot] if isinstance(spot, (int, float)) and not isinstance(spot, bool) else spot
    offered = ", ".join(f"{w:g}x{h:g}" for w, h in profile.spots_um)
    if (
        not isinstance(spot, list)
        or len(spot) != 2
        or not any(
            abs(float(spot[0]) - w) <= SPOT_TOLERANCE_UM
            and abs(float(spot[1]) - h) <= SPOT_TOLERANCE_UM
            for w, h in profile.spots_um
        )
    ):
        raise InputError(
            "beam.spot_um", spot, f"a spot offered by beamline '{profile.name}': {offered} µm"
        )
    filters = beam.get("attenuators") or []
    if isinstance(filters, list):
        resolved = [
            profile.attenuator(item, f"beam.attenuators[{i}]").to_config()
            if isinstance(item, str)
            else item
            for i, item in enumerate(filters)
        ]
        if attenuator is not None:
            resolved.append(profile.attenuator(attenuator).to_config())
        if resolved:
            beam["attenuators"] = resolved
    schedule = config.get("schedule", {})
    if isinstance(schedule, dict):
        scan = schedule.get("energy_scan")
        for end in ("start_keV", "stop_keV"):  # an energy scan's points all need flux
            value = scan.get(end) if isinstance(scan, dict) else None
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                profile.flux_ph_s(float(value), f"schedule.energy_scan.{end}")
        exposures = [("schedule.exposure_s", schedule.get("exposure_s"))] + [
            (f"schedule.locations[{i}].exposure_s", loc.get("exposure_s"))
            for i, loc in enumerate(schedule.get("locations") or [])
            if isinstance(loc, dict)
        ]
        for name, value in exposures:
            if (
                isinstance(value, (int, float))
                and not isinstance(value, bool)
                and value < profile.shortest_exposure_s
            ):
                raise InputError(
                    name,
                    value,
                    f"at least {profile.shortest_exposure_s:g} s on beamline "
                    f"'{profile.name}' (its shortest_exposure_s)",
                )
        move = schedule.get("move_s", 0.0)
        if isinstance(move, (int, float)) and not isinstance(move, bool) and move < profile.move_s:
            schedule["move_s"] = profile.move_s
    return config
