"""The incident beam: energy, flux, spot size and profile, attenuators upstream of the sample.

Fluence-rate conventions (PHYSICS.md §2), for a spot ``w × h`` (µm; FWHM for a Gaussian):

- ``tophat``: uniform over ``w × h``; peak = mean = ``N / (w h)``.
- ``gaussian``: peak ``N / (2 pi sx sy)`` with ``s = FWHM / (2 sqrt(2 ln 2))``; the *mean* is
  taken over the FWHM ellipse (area ``pi w h / 4``, half the photons): ``2 N / (pi w h)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from beamdesign import validate
from beamdesign.coefficients import CONVENTIONS
from beamdesign.dosemap import gaussian_profile, tophat_profile
from beamdesign.errors import InputError
from beamdesign.materials import Material, resolve_material
from beamdesign.reprs import compact_repr

PROFILES = ("tophat", "gaussian")
FWHM_TO_SIGMA: float = 1.0 / (2.0 * np.sqrt(2.0 * np.log(2.0)))
UM2_TO_CM2 = 1e-8
BEAM_KEYS = ("energy_keV", "flux_ph_s", "spot_um", "profile", "convention", "attenuators")
ATTENUATOR_KEYS = ("material", "thickness_um", "density_g_cm3", "transmission")


@dataclass(frozen=True)
class Attenuator:
    """A filter upstream of the sample: a material slab, or a fixed transmission factor."""

    material: Material | None = None
    thickness_um: float | None = None
    fixed_transmission: float | None = None

    __repr__ = compact_repr

    def transmission(self, energy_keV: np.ndarray) -> np.ndarray:
        """Fraction of photons passing the attenuator at each energy."""
        if self.fixed_transmission is not None:
            return np.full(np.shape(energy_keV), self.fixed_transmission)
        assert self.material is not None and self.thickness_um is not None  # a slab has both
        mu_per_cm = self.material.density_g_cm3 * self.material.coefficients(energy_keV)["total"]
        return np.exp(-mu_per_cm * self.thickness_um * 1e-4)

    def to_config(self) -> dict[str, Any]:
        if self.fixed_transmission is not None:
            return {"transmission": self.fixed_transmission}
        assert self.material is not None  # a slab attenuator has a material
        return {
            "material": self.material.name,
            "density_g_cm3": self.material.density_g_cm3,
            "thickness_um": self.thickness_um,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any], field: str) -> Attenuator:
        validate.mapping(config, field, ATTENUATOR_KEYS)
        if "transmission" in config:
            if set(config) != {"transmission"}:
                raise InputError(
                    field,
                    config,
                    "give either {transmission} or {material, thickness_um}, not both",
                )
            return cls(
                fixed_transmission=validate.TRANSMISSION.check(
                    config["transmission"], f"{field}.transmission"
                )
            )
        validate.mapping(config, field, ATTENUATOR_KEYS, required=("material", "thickness_um"))
        density = config.get("density_g_cm3")
        if density is not None:
            density = validate.DENSITY_G_CM3.check(density, f"{field}.density_g_cm3")
        material = resolve_material(config["material"], f"{field}.material", density)
        thickness = validate.THICKNESS_UM.check(config["thickness_um"], f"{field}.thickness_um")
        return cls(material=material, thickness_um=thickness)


@dataclass(frozen=True)
class Beam:
    """A monochromatic beam.

    Attributes
    ----------
    energy_keV : photon energy (keV), 1–200
    flux_ph_s : photons per second reaching the attenuators (ph/s)
    spot_um : (width, height) in µm; full size for a top-hat, FWHM for a Gaussian
    profile : "tophat" or "gaussian"
    convention : which coefficient counts as deposited (see ``coefficients.CONVENTIONS``)
    attenuators : filters upstream of the sample
    """

    energy_keV: float
    flux_ph_s: float
    spot_um: tuple[float, float]
    profile: str = "tophat"
    convention: str = "energy-absorption"
    attenuators: tuple[Attenuator, ...] = field(default_factory=tuple)

    __repr__ = compact_repr

    def __post_init__(self) -> None:
        validate.ENERGY_KEV.check(self.energy_keV, "beam.energy_keV")
        validate.FLUX_PH_S.check(self.flux_ph_s, "beam.flux_ph_s")
        if not isinstance(self.spot_um, (tuple, list)) or len(self.spot_um) != 2:
            raise InputError("beam.spot_um", self.spot_um, "a spot is [width, height] in µm")
        for i, value in enumerate(self.spot_um):
            validate.SPOT_UM.check(value, f"beam.spot_um[{i}]")
        if self.profile not in PROFILES:
            raise InputError("beam.profile", self.profile, "one of " + ", ".join(PROFILES))
        if self.convention not in CONVENTIONS:
            raise InputError("beam.convention", self.convention, "one of " + ", ".join(CONVENTIONS))

    @property
    def mean_area_cm2(self) -> float:
        """Area A with mean fluence rate = flux / A over the mean region."""
        w, h = self.spot_um
        factor = 1.0 if self.profile == "tophat" else np.pi / 2.0
        return factor * w * h * UM2_TO_CM2

    @property
    def peak_area_cm2(self) -> float:
        """Area A with peak (centre) fluence rate = flux / A."""
        w, h = self.spot_um
        if self.profile == "tophat":
            return w * h * UM2_TO_CM2
        return 2.0 * np.pi * (w * FWHM_TO_SIGMA) * (h * FWHM_TO_SIGMA) * UM2_TO_CM2

    @property
    def footprint_area_cm2(self) -> float:
        """Area over which the mean is taken: the spot, or the FWHM ellipse of a Gaussian."""
        w, h = self.spot_um
        factor = 1.0 if self.profile == "tophat" else np.pi / 4.0
        return factor * w * h * UM2_TO_CM2

    @property
    def footprint_photon_fraction(self) -> float:
        """Share of the photons falling inside the footprint.

        1 for a top-hat, 1/2 for a Gaussian.
        """
        return 1.0 if self.profile == "tophat" else 0.5

    def relative_fluence(self) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        """Vectorized profile ``f(dx_um, dy_um)``: fluence relative to the centre (1 at 0, 0)."""
        w, h = self.spot_um
        return tophat_profile(w, h) if self.profile == "tophat" else gaussian_profile(w, h)

    def attenuator_transmission(self, energy_keV: np.ndarray) -> np.ndarray:
        """Product of the attenuators' transmissions at each energy."""
        result = np.ones(np.shape(energy_keV))
        for attenuator in self.attenuators:
            result = result * attenuator.transmission(energy_keV)
        return result

    def replace(self, **changes: object) -> Beam:
        """A copy with some fields changed (validated again)."""
        values = {name: getattr(self, name) for name in self.__dataclass_fields__}
        values.update(changes)
        return Beam(**values)

    def to_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "energy_keV": float(self.energy_keV),
            "flux_ph_s": float(self.flux_ph_s),
            "spot_um": [float(v) for v in self.spot_um],
            "profile": self.profile,
            "convention": self.convention,
        }
        if self.attenuators:
            config["attenuators"] = [a.to_config() for a in self.attenuators]
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], field: str = "beam") -> Beam:
        """Build a beam from a plan's ``beam`` mapping."""
        validate.mapping(config, field, BEAM_KEYS, required=("energy_keV", "flux_ph_s", "spot_um"))
        spot = config["spot_um"]
        if not isinstance(spot, (list, tuple)):
            spot = [validate.SPOT_UM.check(spot, f"{field}.spot_um")] * 2
        if len(spot) != 2:
            raise InputError(f"{field}.spot_um", spot, "[width, height] in µm, or one number")
        attenuators = config.get("attenuators", [])
        if not isinstance(attenuators, list):
            raise InputError(f"{field}.attenuators", attenuators, "a list of attenuators")
        return cls(
            energy_keV=validate.ENERGY_KEV.check(config["energy_keV"], f"{field}.energy_keV"),
            flux_ph_s=validate.FLUX_PH_S.check(config["flux_ph_s"], f"{field}.flux_ph_s"),
            spot_um=(
                validate.SPOT_UM.check(spot[0], f"{field}.spot_um[0]"),
                validate.SPOT_UM.check(spot[1], f"{field}.spot_um[1]"),
            ),
            profile=validate.choice(config.get("profile", "tophat"), f"{field}.profile", PROFILES),
            convention=validate.choice(
                config.get("convention", "energy-absorption"), f"{field}.convention", CONVENTIONS
            ),
            attenuators=tuple(
                Attenuator.from_config(a, f"{field}.attenuators[{i}]")
                for i, a in enumerate(attenuators)
            ),
        )
