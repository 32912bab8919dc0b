"""Electron-beam dose (TEM, STEM, ETEM, electron tomography) on the same Gy scale as X-rays.

Fluence ``F = I t / (e A)`` (1 e/Å² = 10¹⁶ e/cm²). Dose in a thin specimen, the conversion
microscopists use (Egerton, Micron 2019, 119, 72; PHYSICS.md "Electron beams"):

    D [Gy] = F [e/cm²] × (S_col/ρ) [MeV cm²/g] × 1.602e-13 J/MeV × 1000 g/kg

with the collision stopping power of :mod:`beamdesign.stopping` (Bethe, ICRU 37). "Thin" means
thickness ≪ CSDA range: the electron keeps its energy across the specimen. When a thickness is
given, the mean dose over it also follows the slowing down along a straight path (CSDA), and a
warning is attached above 10 % of the range. Backscattering, multiple-scattering path
lengthening and secondary-electron escape are ignored (they change the dose by tens of per cent
in thick specimens; Reimer & Kohl, Transmission Electron Microscopy, 5th ed., 2008, ch. 10).

Knock-on displacement: an electron of kinetic energy ``E`` transfers at most
``E_max = 2 E (E + 2 m c²) / (M c²)`` to a nucleus of mass ``M`` (relativistic head-on
collision; Egerton, Li & Malac, Micron 2004, 35, 399, eq. 1), compared with the element's
displacement energy ``E_d`` from ``data/displacement_energies.csv``.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import xraylib

from beamdesign import stopping
from beamdesign.errors import InputError
from beamdesign.materials import Material
from beamdesign.reprs import compact_repr
from beamdesign.thresholds import Threshold, literature

# CODATA 2018 exact / recommended values
ELEMENTARY_CHARGE_C = 1.602176634e-19
ELECTRON_REST_ENERGY_keV = 510.99895000
ATOMIC_MASS_UNIT_keV = 931494.10242
J_PER_MeV = 1.602176634e-13
J_PER_keV = 1.602176634e-16
A2_PER_CM2 = 1e16
A2_PER_UM2 = 1e8
ENERGY_RANGE_keV = (1.0, 1000.0)
THIN_LIMIT = 0.1  # thickness / CSDA range above which the thin-specimen dose gets a warning
_STOPPING_FLOOR_keV = 0.1  # lowest energy of beamdesign.stopping

THIN_APPROXIMATION = (
    "thin specimen: every electron crosses it at the beam energy and deposits "
    "S_col/ρ per unit mass thickness (D = F × S_col/ρ); backscatter and secondary escape ignored"
)


def positive(value: object, field: str, unit: str) -> float:
    """``value`` as a finite float > 0 (a bool is not a number), or an InputError."""
    allowed = f"must be a number > 0 ({unit})"
    if isinstance(value, bool):
        raise InputError(field, value, allowed)
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(field, value, allowed) from None
    if not np.isfinite(number) or number <= 0:
        raise InputError(field, value, allowed)
    return number


def check_energy_keV(value: object, field: str = "energy_keV") -> float:
    """A beam energy in keV within ``ENERGY_RANGE_keV``, or an InputError."""
    low, high = ENERGY_RANGE_keV
    allowed = f"an electron energy between {low:g} and {high:g} keV"
    if isinstance(value, bool):
        raise InputError(field, value, allowed)
    try:
        energy = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(field, value, allowed) from None
    if not np.isfinite(energy) or not low <= energy <= high:
        raise InputError(field, value, allowed)
    return energy


@dataclass(frozen=True)
class ElectronExposure:
    """How many electrons per Å² a specimen receives, and how fast.

    Attributes
    ----------
    mode : ``fluence`` (given), ``scanned-probe`` or ``flood``
    fluence_e_per_A2 : total fluence (e/Å²)
    fluence_rate_e_per_A2_s : fluence rate while the beam is on the point (e/Å²/s); for a
        scanned probe, during the dwell on a pixel (the local rate); None when no time is known
    beam_on_time_s : time the beam is on the point (s); None when unknown
    electrons : electrons delivered to ``area_A2`` (None when no area is known)
    area_A2 : irradiated area the electrons are counted over (Å²): the pixel for a scanned
        probe, the illuminated area for a flood beam
    fluence_per_frame_e_per_A2 : one frame of a scanned probe (None otherwise)
    frames : number of frames of a scanned probe (1 otherwise)
    inputs : the numbers it was made from, with units in their names
    """

    mode: str
    fluence_e_per_A2: float
    fluence_rate_e_per_A2_s: float | None
    beam_on_time_s: float | None
    electrons: float | None
    area_A2: float | None
    fluence_per_frame_e_per_A2: float | None
    frames: int
    inputs: tuple[tuple[str, float], ...]

    __repr__ = compact_repr

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["inputs"] = dict(self.inputs)
        return out


def given_fluence(
    fluence_e_per_A2: float, time_s: float | None = None, area_um2: float | None = None
) -> ElectronExposure:
    """An exposure from a fluence (e/Å²), optionally over a time (s) and an area (µm²)."""
    fluence = positive(fluence_e_per_A2, "fluence_e_per_A2", "e/Å²")
    time = None if time_s is None else positive(time_s, "time_s", "s")
    area = None if area_um2 is None else positive(area_um2, "area_um2", "µm²")
    inputs = [("fluence_e_per_A2", fluence)]
    inputs += [] if time is None else [("time_s", time)]
    inputs += [] if area is None else [("area_um2", area)]
    return ElectronExposure(
        "fluence",
        fluence,
        None if time is None else fluence / time,
        time,
        None if area is None else fluence * area * A2_PER_UM2,
        None if area is None else area * A2_PER_UM2,
        None,
        1,
        tuple(inputs),
    )


def scanned_probe(
    current_pA: float, dwell_us: float, pixel_A: float, frames: int = 1
) -> ElectronExposure:
    """A focused probe rastered over square pixels: ``I t_dwell / (e p²)`` per frame.

    The fluence is the mean over a pixel (probe tails overlapping neighbouring pixels average
    out over a frame). The rate is the local one, during the dwell on a pixel: ``I / (e p²)``.
    """
    current = positive(current_pA, "current_pA", "pA")
    dwell = positive(dwell_us, "dwell_us", "µs")
    pixel = positive(pixel_A, "pixel_A", "Å")
    if isinstance(frames, bool) or not isinstance(frames, (int, np.integer)) or frames < 1:
        raise InputError("frames", frames, "a whole number of frames ≥ 1")
    electrons_per_frame = current * 1e-12 * dwell * 1e-6 / ELEMENTARY_CHARGE_C
    per_frame = electrons_per_frame / pixel**2
    return ElectronExposure(
        "scanned-probe",
        per_frame * frames,
        current * 1e-12 / ELEMENTARY_CHARGE_C / pixel**2,
        dwell * 1e-6 * frames,
        electrons_per_frame * frames,
        pixel**2,
        per_frame,
        int(frames),
        (
            ("current_pA", current),
            ("dwell_us", dwell),
            ("pixel_A", pixel),
            ("frames", float(frames)),
        ),
    )


def flood_beam(current_nA: float, area_um2: float, time_s: float) -> ElectronExposure:
    """A parallel (TEM) beam spread uniformly over ``area_um2`` for ``time_s``."""
    current = positive(current_nA, "current_nA", "nA")
    area = positive(area_um2, "area_um2", "µm²")
    time = positive(time_s, "time_s", "s")
    electrons_per_s = current * 1e-9 / ELEMENTARY_CHARGE_C
    rate = electrons_per_s / (area * A2_PER_UM2)
    return ElectronExposure(
        "flood",
        rate * time,
        rate,
        time,
        electrons_per_s * time,
        area * A2_PER_UM2,
        None,
        1,
        (("current_nA", current), ("area_um2", area), ("time_s", time)),
    )


def gray_per_e_per_A2(material: Material, energy_keV: float) -> float:
    """Thin-specimen dose (Gy) of 1 e/Å² at ``energy_keV`` (keV): ``10¹⁶ × S_col/ρ × 1.602e-10``."""
    energy = check_energy_keV(energy_keV)
    s_col = _scalar(stopping.collision_stopping_power_MeV_cm2_per_g(material, energy))
    return A2_PER_CM2 * s_col * J_PER_MeV * 1000.0


def _scalar(values: np.ndarray) -> float:
    """The one value of a 1-element array returned by :mod:`beamdesign.stopping`."""
    return float(np.asarray(values, dtype=float).reshape(-1)[0])


def _path_grid(
    material: Material, energy_keV: float, points: int = 400
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Energies (keV), CSDA range (g/cm²) and S_col/S_tot on a log grid from 0.1 keV to E."""
    energies = np.geomspace(_STOPPING_FLOOR_keV, energy_keV, points)
    s_col = stopping.collision_stopping_power_MeV_cm2_per_g(material, energies)
    s_rad = stopping.radiative_stopping_power_MeV_cm2_per_g(material, energies)
    return energies, stopping.csda_range_g_per_cm2(material, energies), s_col / (s_col + s_rad)


def collision_energy_lost_keV(
    material: Material, energy_keV: float, thickness_nm: float, steps: int = 100
) -> float:
    """Energy (keV) one electron gives to the specimen's electrons across ``thickness_nm``.

    Straight path, continuous slowing down (CSDA), bremsstrahlung escaping: the collision
    share of the energy lost is kept locally. Up to half the CSDA range the slowing down
    ``dE/d(ρx) = −S_tot(E)`` is integrated in ``steps`` midpoint steps, depositing
    ``S_col(E) d(ρx)``; beyond it the exit energy is read off the range table
    (``R(E0) − R(E_exit) = ρ t``) and the collision share ``S_col/S_tot`` integrated over the
    energy lost. An electron whose range is shorter than the thickness gives up all of its
    collision share.
    """
    energy = check_energy_keV(energy_keV)
    mass_thickness = positive(thickness_nm, "thickness_nm", "nm") * 1e-7 * material.density_g_cm3
    full_range = _scalar(stopping.csda_range_g_per_cm2(material, energy))
    if mass_thickness <= 0.5 * full_range:
        step = mass_thickness / steps
        current, lost = energy, 0.0
        for _ in range(steps):
            middle = current - 0.5 * step * 1e3 * _scalar(
                stopping.collision_stopping_power_MeV_cm2_per_g(material, current)
                + stopping.radiative_stopping_power_MeV_cm2_per_g(material, current)
            )
            s_col = _scalar(stopping.collision_stopping_power_MeV_cm2_per_g(material, middle))
            s_rad = _scalar(stopping.radiative_stopping_power_MeV_cm2_per_g(material, middle))
            lost += s_col * step * 1e3
            current -= (s_col + s_rad) * step * 1e3
        return lost
    energies, range_g_cm2, collision_share = _path_grid(material, energy)
    exit_range = full_range - mass_thickness
    exit_energy = (
        energies[0]
        if exit_range <= range_g_cm2[0]
        else float(np.interp(exit_range, range_g_cm2, energies))
    )
    grid = np.geomspace(exit_energy, energy, 200)
    share = np.interp(grid, energies, collision_share)
    lost = float(np.sum(0.5 * (share[1:] + share[:-1]) * np.diff(grid)))
    if exit_range <= range_g_cm2[0]:  # stops inside: below 0.1 keV everything is collision loss
        lost += energies[0]
    return lost


@dataclass(frozen=True)
class ElectronDose:
    """Dose of an electron exposure in a material, with its inputs and approximations.

    ``dose_Gy`` and ``dose_rate_Gy_per_s`` are thin-specimen values (the entrance dose).
    With a thickness, ``mean_dose_Gy`` is the mean over it along a straight CSDA path, and
    ``energy_deposited_J`` the energy kept in the specimen by ``exposure.electrons``.
    """

    material: str
    formula: str
    density_g_cm3: float
    energy_keV: float
    exposure: ElectronExposure
    stopping_power_MeV_cm2_per_g: float
    csda_range_um: float
    dose_Gy: float
    dose_rate_Gy_per_s: float | None
    thickness_nm: float | None
    thickness_to_range: float | None
    mean_dose_Gy: float | None
    energy_deposited_per_electron_keV: float | None
    energy_deposited_J: float | None
    approximation: str
    warning: str
    knock_on: tuple[KnockOn, ...]

    __repr__ = compact_repr

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in ("material", "formula", "density_g_cm3", "energy_keV")}
        out.update(
            {
                k: getattr(self.exposure, k)
                for k in (
                    "mode",
                    "fluence_e_per_A2",
                    "fluence_rate_e_per_A2_s",
                    "fluence_per_frame_e_per_A2",
                    "frames",
                    "beam_on_time_s",
                    "electrons",
                    "area_A2",
                )
            }
        )
        out.update(
            {
                k: getattr(self, k)
                for k in (
                    "dose_Gy",
                    "dose_rate_Gy_per_s",
                    "stopping_power_MeV_cm2_per_g",
                    "csda_range_um",
                    "thickness_nm",
                    "thickness_to_range",
                    "mean_dose_Gy",
                    "energy_deposited_per_electron_keV",
                    "energy_deposited_J",
                    "approximation",
                    "warning",
                )
            }
        )
        out["inputs"] = dict(self.exposure.inputs)
        out["knock_on"] = [k.to_dict() for k in self.knock_on]
        return out


def electron_dose(
    material: Material,
    energy_keV: float,
    exposure: ElectronExposure,
    thickness_nm: float | None = None,
) -> ElectronDose:
    """Dose (Gy), dose rate (Gy/s) and energy deposited (J) of an electron exposure.

    Parameters
    ----------
    material : the specimen (composition and density)
    energy_keV : beam kinetic energy (keV), 1–1000 (the accelerating voltage in kV)
    exposure : from :func:`given_fluence`, :func:`scanned_probe` or :func:`flood_beam`
    thickness_nm : specimen thickness (nm); enables the thin-specimen check, the CSDA mean
        dose and the energy deposited
    """
    energy = check_energy_keV(energy_keV)
    s_col = _scalar(stopping.collision_stopping_power_MeV_cm2_per_g(material, energy))
    per_fluence = A2_PER_CM2 * s_col * J_PER_MeV * 1000.0
    range_um = _scalar(stopping.csda_range_um(material, energy))
    dose = exposure.fluence_e_per_A2 * per_fluence
    rate = (
        None
        if exposure.fluence_rate_e_per_A2_s is None
        else exposure.fluence_rate_e_per_A2_s * per_fluence
    )
    thickness = ratio = mean_dose = per_electron = deposited_J = None
    warning = ""
    approximation = THIN_APPROXIMATION
    if thickness_nm is None:
        approximation += (
            f"; no thickness given: valid if the specimen is much thinner than the "
            f"CSDA range {range_um:.3g} µm"
        )
    else:
        thickness = positive(thickness_nm, "thickness_nm", "nm")
        ratio = thickness * 1e-3 / range_um
        per_electron = collision_energy_lost_keV(material, energy, thickness)
        mass_thickness = thickness * 1e-7 * material.density_g_cm3
        mean_dose = (
            exposure.fluence_e_per_A2
            * A2_PER_CM2
            * per_electron
            * J_PER_keV
            / (mass_thickness * 1e-3)
        )
        if exposure.electrons is not None:
            deposited_J = exposure.electrons * per_electron * J_PER_keV
        if ratio > THIN_LIMIT:
            stops = " and the electrons stop inside it" if ratio >= 1 else ""
            warning = (
                f"not a thin specimen: {thickness:g} nm is {ratio:.0%} of the CSDA range "
                f"({range_um:.3g} µm){stops}; dose_Gy is the entrance dose, mean_dose_Gy "
                f"follows the slowing down along a straight path (multiple scattering and "
                f"backscatter ignored)"
            )
    return ElectronDose(
        material.name,
        material.formula,
        material.density_g_cm3,
        energy,
        exposure,
        s_col,
        range_um,
        dose,
        rate,
        thickness,
        ratio,
        mean_dose,
        per_electron,
        deposited_J,
        approximation,
        warning,
        knock_on(material, energy),
    )


# ---------------------------------------------------------------- knock-on displacement


def max_transferred_energy_eV(
    energy_keV: float | np.ndarray, mass_u: float | np.ndarray
) -> np.ndarray:
    """Largest energy (eV) an electron of ``energy_keV`` gives a nucleus of ``mass_u`` (u).

    ``E_max = 2 E (E + 2 m c²) / (M c²)`` (head-on elastic collision, relativistic electron,
    non-relativistic nucleus; Egerton, Li & Malac, Micron 2004, 35, 399).
    """
    energy = np.asarray(energy_keV, dtype=float)
    mass_keV = np.asarray(mass_u, dtype=float) * ATOMIC_MASS_UNIT_keV
    return 2.0 * energy * (energy + 2.0 * ELECTRON_REST_ENERGY_keV) / mass_keV * 1e3


def threshold_energy_keV(
    displacement_energy_eV: float | np.ndarray, mass_u: float | np.ndarray
) -> np.ndarray:
    """Beam energy (keV) at which ``E_max`` reaches ``displacement_energy_eV``: inverse of
    :func:`max_transferred_energy_eV`, ``E = −mc² + sqrt((mc²)² + E_d M c² / 2)``."""
    ed_keV = np.asarray(displacement_energy_eV, dtype=float) * 1e-3
    mass_keV = np.asarray(mass_u, dtype=float) * ATOMIC_MASS_UNIT_keV
    mc2 = ELECTRON_REST_ENERGY_keV
    return -mc2 + np.sqrt(mc2**2 + ed_keV * mass_keV / 2.0)


@cache
def displacement_energies() -> dict[str, dict[str, Any]]:
    """Rows of ``data/displacement_energies.csv`` by element symbol (as read, with sources)."""
    text = (
        resources.files("beamdesign").joinpath("data/displacement_energies.csv").read_text("utf-8")
    )
    return {
        row["symbol"]: row
        for row in csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    }


@dataclass(frozen=True)
class KnockOn:
    """Knock-on check of one element of a material at one beam energy."""

    symbol: str
    Z: int
    mass_u: float
    max_transfer_eV: float
    displacement_energy_eV: float | None
    threshold_energy_keV: float | None
    knocked_on: bool | None
    kind: str
    source: str

    __repr__ = compact_repr

    @property
    def verdict(self) -> str:
        if self.knocked_on is None:
            return "unknown (no displacement energy tabulated)"
        return "can be knocked on" if self.knocked_on else "below threshold"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "verdict": self.verdict}


def knock_on(material: Material, energy_keV: float) -> tuple[KnockOn, ...]:
    """For each element of ``material``: ``E_max`` at ``energy_keV`` vs its displacement energy."""
    energy = check_energy_keV(energy_keV)
    table = displacement_energies()
    out = []
    for z, _ in material.mass_fractions:
        symbol = xraylib.AtomicNumberToSymbol(z)
        mass = xraylib.AtomicWeight(z)
        e_max = float(max_transferred_energy_eV(energy, mass))
        row = table.get(symbol)
        if row is None:
            out.append(KnockOn(symbol, z, mass, e_max, None, None, None, "", ""))
            continue
        ed = float(row["displacement_energy_eV"])
        out.append(
            KnockOn(
                symbol,
                z,
                mass,
                e_max,
                ed,
                float(threshold_energy_keV(ed, mass)),
                e_max >= ed,
                row["kind"],
                row["source"],
            )
        )
    return tuple(out)


# ---------------------------------------------------------------- literature thresholds


@dataclass(frozen=True)
class FluenceThreshold:
    """An electron-beam threshold from ``thresholds.csv`` (convention ``electron-fluence``).

    ``bound`` is ``onset`` when the table gives a low value (damage from this fluence on) and
    ``safe-below`` when it gives only a high one (no damage seen up to it).
    """

    id: str
    system: str
    energy_keV: float | None
    fluence_e_per_A2: float
    bound: str
    level: str
    effect: str
    source: str
    doi: str
    note: str

    __repr__ = compact_repr


def electron_thresholds() -> tuple[FluenceThreshold, ...]:
    """The literature's electron-beam critical fluences (e/Å²), with conditions and sources."""
    out = []
    for row in literature():
        if row["convention"] != "electron-fluence" or row["unit"] != "e/A2":
            continue
        value = row["low"] or row["high"]
        out.append(
            FluenceThreshold(
                row["id"],
                row["system"],
                float(row["energy_keV"]) if row["energy_keV"] else None,
                float(value),
                "onset" if row["low"] else "safe-below",
                row["level"],
                row["effect"],
                row["source"],
                row["doi"],
                row["note"],
            )
        )
    return tuple(out)


def electron_threshold_scale(material: Material, energy_keV: float) -> tuple[Threshold, ...]:
    """The electron thresholds as :class:`~beamdesign.thresholds.Threshold` (Gy) for a plan.

    Each critical fluence becomes the dose that fluence gives ``material`` at the plan's
    ``energy_keV``, so crossing it in Gy is exactly crossing the fluence (the metric it was
    measured in, PHYSICS.md). A threshold measured at another beam energy or in another
    material is applied as it stands; its verdict says so.
    """
    per_fluence = gray_per_e_per_A2(material, energy_keV)
    out = []
    for t in electron_thresholds():
        where = f"{t.system}, {t.energy_keV:g} keV"
        verdict = (
            f"beyond the fluence shown safe for {where}"
            if t.bound == "safe-below"
            else f"above the critical fluence of {where}"
        )
        out.append(
            Threshold(
                f"{t.id} ({t.fluence_e_per_A2:g} e/Å²)",
                t.fluence_e_per_A2 * per_fluence,
                None,
                verdict,
                t.source,
            )
        )
    return tuple(out)
