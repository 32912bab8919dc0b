"""The dose engine: dose rate per layer and constituent of a stack in a beam (PHYSICS.md §1–2).

For layer *j* (thickness ``t_j``) and constituent *k* (volume fraction ``v_jk``, density
``rho_k``, mass attenuation ``(mu/rho)_k``, convention coefficient ``c_k``)::

    mu_j     = sum_k v_jk rho_k (mu/rho)_k                 linear attenuation (1/cm)
    T_j      = exp(-mu_j t_j)                              layer transmission
    N_j      = N_0 T_att prod_{i<j} T_i                    photons/s reaching layer j
    P_jk     = N_j E (1 - T_j) v_jk rho_k c_k / mu_j       power absorbed by k (W)
    Ddot_jk  = (N_j / A) E c_k (1 - T_j) / (mu_j t_j)      dose rate (Gy/s), 1 Gy = 1 J/kg

``A`` is ``Beam.mean_area_cm2`` for the mean dose rate and ``Beam.peak_area_cm2`` for the peak.
Everything is vectorized over energies: a dose-vs-energy sweep is one call.

The ``transport`` convention starts from ``energy-absorption`` and lets ``beamdesign.transport``
move the energy (photoelectrons out of particles, thin layers and small footprints; fluorescence
and scattered photons into the other layers). ``absorbed_power_W`` then counts every joule
deposited in a constituent anywhere in its (laterally infinite) layer, and the dose rates are the
energy-absorption ones scaled by the share of the constituent's power that lands in the beam
column. ``escaped_power_W`` is, for every convention, the power attenuated in the cell and not
deposited in it (for ``transport``: what leaves the cell).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import xraylib

from beamdesign.beam import Beam
from beamdesign.coefficients import CONVENTION_MEANING, check_energies, convention_coefficient
from beamdesign.frozen import freeze_arrays
from beamdesign.reprs import compact_repr
from beamdesign.stack import Stack
from beamdesign.transport import secondary_transport

KEV_TO_J = 1.602176634e-16
G_TO_KG = 1e-3
UM_TO_CM = 1e-4
XRAYLIB_VERSION = xraylib.__version__


@dataclass(frozen=True)
class DoseSpectrum:
    """Dose rates of every constituent over a set of energies.

    Arrays have one row per constituent (in ``keys`` order: layers upstream first) or per layer,
    and one column per energy.
    """

    stack: Stack
    beam: Beam
    energies_keV: np.ndarray
    keys: tuple[str, ...]  # "<layer>/<constituent>"
    layer_index: np.ndarray  # (n_const,) layer of each constituent
    coefficient_cm2_g: np.ndarray  # (n_const, n_E) c_k of the convention
    dose_rate_Gy_per_s: np.ndarray  # (n_const, n_E) mean over the footprint
    peak_dose_rate_Gy_per_s: np.ndarray  # (n_const, n_E) at the beam centre
    absorbed_power_W: np.ndarray  # (n_const, n_E) whole beam
    mass_g: np.ndarray  # (n_const,) inside the footprint
    layer_transmission: np.ndarray  # (n_layers, n_E)
    incident_fraction: np.ndarray  # (n_layers, n_E) N_j / N_0
    attenuator_transmission: np.ndarray  # (n_E,)
    transmission: np.ndarray  # (n_E,) whole cell (attenuators excluded)
    escaped_power_W: np.ndarray  # (n_E,) attenuated in the cell but not deposited in it
    secondary_photon_power_W: np.ndarray  # (n_const, n_E) share of absorbed_power_W brought by
    # secondary photons (zero except in the transport convention)

    __repr__ = compact_repr

    def __post_init__(self) -> None:
        freeze_arrays(self, *(f.name for f in fields(self)))

    @property
    def convention(self) -> str:
        return self.beam.convention

    @property
    def entrance_peak_dose_rate_Gy_per_s(self) -> np.ndarray:
        """(n_const, n_E) peak dose rate at each layer's entrance face, Gy/s: the column mean
        divided by ``(1 - T) / (mu t)`` (the fluence falls through the layer)."""
        depth = -np.log(self.layer_transmission)
        slab = np.where(depth > 0, -np.expm1(-depth) / np.where(depth > 0, depth, 1.0), 1.0)
        result: np.ndarray = self.peak_dose_rate_Gy_per_s / slab[self.layer_index]
        return result

    def index(self, key: str) -> int:
        """Row of a constituent given as "<layer>/<constituent>" (case-insensitive)."""
        lowered = [k.lower() for k in self.keys]
        return lowered.index(key.lower())


def dose_spectrum(
    stack: Stack, beam: Beam, energies_keV: np.ndarray | float | None = None
) -> DoseSpectrum:
    """Dose rates per constituent of ``stack`` in ``beam`` at each energy (default: the beam's).

    Parameters
    ----------
    stack : layers in beam order
    beam : flux (ph/s), spot, profile, convention and attenuators; its energy is used when
        ``energies_keV`` is None
    energies_keV : energies to evaluate (keV, 1–200), any shape flattened to 1-D
    """
    energies = check_energies(
        beam.energy_keV if energies_keV is None else energies_keV, "energies_keV"
    )
    keys, layer_index, volume_fraction, density, total, kept = [], [], [], [], [], []
    for j, layer in enumerate(stack.layers):
        for constituent in layer.constituents:
            coefficients = constituent.material.coefficients(energies)
            keys.append(f"{layer.name}/{constituent.name}")
            layer_index.append(j)
            volume_fraction.append(constituent.volume_fraction)
            density.append(constituent.material.density_g_cm3)
            total.append(coefficients["total"])
            kept.append(convention_coefficient(coefficients, _local_convention(beam.convention)))
    layer_of = np.array(layer_index)
    v_rho = (np.array(volume_fraction) * np.array(density))[:, None]  # g/cm³ of layer volume
    thickness_cm = np.array([layer.thickness_um for layer in stack.layers]) * UM_TO_CM
    n_layers = len(stack.layers)

    mu_per_cm = np.zeros((n_layers, energies.size))
    np.add.at(mu_per_cm, layer_of, v_rho * np.array(total))
    optical_depth = mu_per_cm * thickness_cm[:, None]
    layer_transmission = np.exp(-optical_depth)
    attenuators = beam.attenuator_transmission(energies)
    upstream = np.vstack([np.zeros(energies.size), np.cumsum(optical_depth, axis=0)[:-1]])
    incident = attenuators[None, :] * np.exp(-upstream)
    # (1 - T)/(mu t), written with expm1 so that thin layers do not lose precision
    slab_factor = -np.expm1(-optical_depth) / optical_depth

    c = np.array(kept)
    photons = beam.flux_ph_s * incident[layer_of]  # ph/s reaching each constituent's layer
    energy_J = energies[None, :] * KEV_TO_J
    fluence_factor = photons * energy_J * c * slab_factor[layer_of] / G_TO_KG  # Gy/s × area
    power_W = photons * energy_J * c * v_rho * thickness_cm[layer_of, None] * slab_factor[layer_of]
    mass_g = v_rho[:, 0] * beam.footprint_area_cm2 * thickness_cm[layer_of]
    attenuated_W = (
        beam.flux_ph_s * (incident * -np.expm1(-optical_depth)).sum(axis=0) * energies * KEV_TO_J
    )
    secondary_W = np.zeros_like(power_W)
    if beam.convention == "transport":
        moved = secondary_transport(stack, energies, beam.flux_ph_s * incident, beam.mean_area_cm2)
        scale = moved.column_power_W / power_W  # kerma > 0 for every material
        fluence_factor = fluence_factor * scale
        c = c * scale
        power_W = moved.absorbed_power_W
        secondary_W = moved.secondary_photon_power_W
    return DoseSpectrum(
        stack=stack,
        beam=beam,
        energies_keV=energies,
        keys=tuple(keys),
        layer_index=layer_of,
        coefficient_cm2_g=c,
        dose_rate_Gy_per_s=fluence_factor / beam.mean_area_cm2,
        peak_dose_rate_Gy_per_s=fluence_factor / beam.peak_area_cm2,
        absorbed_power_W=power_W,
        mass_g=mass_g,
        layer_transmission=layer_transmission,
        incident_fraction=incident,
        attenuator_transmission=attenuators,
        transmission=np.exp(-optical_depth.sum(axis=0)),
        escaped_power_W=attenuated_W - power_W.sum(axis=0),
        secondary_photon_power_W=secondary_W,
    )


def _local_convention(convention: str) -> str:
    """The coefficient convention the dose starts from (``transport`` starts from kerma)."""
    return "energy-absorption" if convention == "transport" else convention


@dataclass(frozen=True)
class ConstituentDose:
    """Dose figures of one constituent at one energy."""

    key: str
    name: str
    material: str
    role: str
    volume_fraction: float
    coefficient_cm2_g: float
    dose_rate_Gy_per_s: float
    peak_dose_rate_Gy_per_s: float
    entrance_peak_dose_rate_Gy_per_s: float
    absorbed_power_W: float
    mass_g: float

    __repr__ = compact_repr


@dataclass(frozen=True)
class LayerDose:
    """Dose figures of one layer at one energy."""

    name: str
    thickness_um: float
    transmission: float
    incident_fraction: float
    constituents: tuple[ConstituentDose, ...]

    __repr__ = compact_repr

    @property
    def dose_rate_Gy_per_s(self) -> float:
        """Mean dose rate of the whole layer (all constituents, mass-weighted)."""
        mass = sum(c.mass_g for c in self.constituents)
        return sum(c.dose_rate_Gy_per_s * c.mass_g for c in self.constituents) / mass


@dataclass(frozen=True)
class StackDose:
    """Dose rate per layer and constituent of a stack in a beam, at the beam's energy."""

    stack: Stack
    beam: Beam
    layers: tuple[LayerDose, ...]
    transmission: float
    attenuator_transmission: float
    xraylib_version: str = XRAYLIB_VERSION
    escaped_power_W: float = 0.0  # attenuated in the cell, not deposited in it (W)

    __repr__ = compact_repr

    @property
    def convention(self) -> str:
        return self.beam.convention

    @property
    def constituents(self) -> tuple[ConstituentDose, ...]:
        return tuple(c for layer in self.layers for c in layer.constituents)

    def constituent(self, key: str) -> ConstituentDose:
        for c in self.constituents:
            if c.key.lower() == key.lower():
                return c
        raise KeyError(key)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form printed by ``beamdesign dose --json``."""
        return {
            "stack": self.stack.name,
            "convention": self.convention,
            "convention_meaning": CONVENTION_MEANING[self.convention],
            "energy_keV": float(self.beam.energy_keV),
            "flux_ph_s": float(self.beam.flux_ph_s),
            "spot_um": list(self.beam.spot_um),
            "profile": self.beam.profile,
            "attenuator_transmission": self.attenuator_transmission,
            "transmission": self.transmission,
            "escaped_power_W": self.escaped_power_W,
            "xraylib_version": self.xraylib_version,
            "layers": [
                {
                    "name": layer.name,
                    "thickness_um": layer.thickness_um,
                    "transmission": layer.transmission,
                    "incident_fraction": layer.incident_fraction,
                    "constituents": [
                        {
                            "name": c.name,
                            "material": c.material,
                            "role": c.role,
                            "volume_fraction": c.volume_fraction,
                            "coefficient_cm2_g": c.coefficient_cm2_g,
                            "dose_rate_Gy_per_s": c.dose_rate_Gy_per_s,
                            "peak_dose_rate_Gy_per_s": c.peak_dose_rate_Gy_per_s,
                            "entrance_peak_dose_rate_Gy_per_s": (
                                c.entrance_peak_dose_rate_Gy_per_s
                            ),
                            "absorbed_power_W": c.absorbed_power_W,
                            "mass_g": c.mass_g,
                        }
                        for c in layer.constituents
                    ],
                }
                for layer in self.layers
            ],
        }


def stack_dose(stack: Stack, beam: Beam) -> StackDose:
    """Dose rate per layer and constituent at the beam's energy."""
    spectrum = dose_spectrum(stack, beam)
    entrance = spectrum.entrance_peak_dose_rate_Gy_per_s
    rows = iter(range(len(spectrum.keys)))
    layers = []
    for j, layer in enumerate(stack.layers):
        constituents = []
        for constituent in layer.constituents:
            i = next(rows)
            constituents.append(
                ConstituentDose(
                    key=spectrum.keys[i],
                    name=constituent.name,
                    material=constituent.material.formula or constituent.material.name,
                    role=constituent.role,
                    volume_fraction=constituent.volume_fraction,
                    coefficient_cm2_g=float(spectrum.coefficient_cm2_g[i, 0]),
                    dose_rate_Gy_per_s=float(spectrum.dose_rate_Gy_per_s[i, 0]),
                    peak_dose_rate_Gy_per_s=float(spectrum.peak_dose_rate_Gy_per_s[i, 0]),
                    entrance_peak_dose_rate_Gy_per_s=float(entrance[i, 0]),
                    absorbed_power_W=float(spectrum.absorbed_power_W[i, 0]),
                    mass_g=float(spectrum.mass_g[i]),
                )
            )
        layers.append(
            LayerDose(
                layer.name,
                layer.thickness_um,
                float(spectrum.layer_transmission[j, 0]),
                float(spectrum.incident_fraction[j, 0]),
                tuple(constituents),
            )
        )
    return StackDose(
        stack,
        beam,
        tuple(layers),
        float(spectrum.transmission[0]),
        float(spectrum.attenuator_transmission[0]),
        escaped_power_W=float(spectrum.escaped_power_W[0]),
    )
