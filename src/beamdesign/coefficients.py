"""Mass attenuation and energy-absorption coefficients from xraylib primitives.

Every coefficient is in cm²/g, every energy in keV (xraylib's unit; the one place where it is
given to xraylib). Per-element values are mixed by mass fraction.

``mu_en/rho`` is rebuilt as PHYSICS.md §1 prescribes, because xraylib 4.3's ``CS_Energy`` is
wrong for light elements (carbon −47 % at 20 keV)::

    mu_en/rho = tau * (1 - X/E) + ∫ dσ_C/dΩ (1 - E'(θ)/E) dΩ

with ``tau`` the photoabsorption (``CS_Photo``), ``X`` the mean fluorescence energy emitted per
photoabsorption (K and L1–L3 shells above their edge: shell share × fluorescence yield × mean line
energy weighted by radiative rate), and the Compton term integrated over the sphere from
``DCS_Compt`` and ``ComptonEnergy``. The Compton term is smooth in energy (no edges): it is
tabulated once per element on a log grid and interpolated log-log; the photoabsorption and
fluorescence terms are evaluated exactly at the requested energies, so absorption edges are
never interpolated across.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

import numpy as np
import xraylib
import xraylib_np

from beamdesign.errors import InputError

ENERGY_MIN_keV = 1.0
ENERGY_MAX_keV = 200.0

CONVENTIONS = ("energy-absorption", "photoabsorption", "total-attenuation", "transport")
CONVENTION_MEANING = {
    "energy-absorption": "mu_en/rho: energy kept locally; scattered and fluorescence photons "
    "escape (kerma approximation, the physics standard)",
    "photoabsorption": "mu_photo/rho: every photoabsorbed photon deposits all its energy "
    "locally; Compton scattering ignored",
    "total-attenuation": "mu/rho: every attenuated photon deposits all its energy "
    "(the founding paper's convention; an upper bound on the local deposit, but not on the "
    "transport dose of organics next to heavy absorbers)",
    "transport": "mu_en/rho, then photoelectrons and Auger electrons leave particles, thin layers "
    "and small footprints, and fluorescence and scattered photons are re-absorbed in the other "
    "layers (secondary transport; energy conserved, the rest leaves the cell)",
}

_SHELLS = {
    "K": xraylib.K_SHELL,
    "L1": xraylib.L1_SHELL,
    "L2": xraylib.L2_SHELL,
    "L3": xraylib.L3_SHELL,
}
_COMPTON_GRID_keV = np.geomspace(0.5, 400.0, 240)
_COMPTON_THETA_rad = np.linspace(0.0, np.pi, 721)


def check_energies(energy_keV: float | np.ndarray, field: str = "beam.energy_keV") -> np.ndarray:
    """Return energies as a 1-D float array, or raise if any is outside 1–200 keV."""
    energies = np.atleast_1d(np.asarray(energy_keV, dtype=float))
    bad = ~np.isfinite(energies) | (energies < ENERGY_MIN_keV) | (energies > ENERGY_MAX_keV)
    if energies.size == 0 or bad.any():
        value = energies[bad][0] if bad.any() else "[]"
        raise InputError(
            field, value, f"the energy must be between {ENERGY_MIN_keV:g} and {ENERGY_MAX_keV:g} keV"
        )
    return energies


def _line_macros(shell: str) -> tuple[int, ...]:
    """xraylib line macros (IUPAC, e.g. KL3_LINE) whose vacancy is in ``shell``."""
    iupac = re.compile(rf"^{shell}[KLMNOPQ][1-7]_LINE$")  # not composites such as KA_LINE
    return tuple(getattr(xraylib, n) for n in dir(xraylib) if iupac.match(n))


@lru_cache(maxsize=None)
def _fluorescence(z: int) -> tuple[tuple[int, float, float], ...]:
    """(shell macro, yield × mean line energy keV, edge keV) for the K and L1–L3 shells."""
    out = []
    for shell, macro in _SHELLS.items():
        try:
            edge = xraylib.EdgeEnergy(z, macro)
            omega = xraylib.FluorYield(z, macro)
        except ValueError:
            continue
        rates, energies = [], []
        for line in _line_macros(shell):
            try:
                rate, energy = xraylib.RadRate(z, line), xraylib.LineEnergy(z, line)
            except ValueError:
                continue
            if rate > 0 and energy > 0:
                rates.append(rate)
                energies.append(energy)
        if rates and omega > 0:
            mean_line_keV = float(np.dot(rates, energies) / np.sum(rates))
            out.append((macro, omega * mean_line_keV, edge))
    return tuple(out)


@lru_cache(maxsize=None)
def _compton_absorption_table(z: int) -> np.ndarray:
    """Compton energy-transfer coefficient (cm²/g) on ``_COMPTON_GRID_keV`` for element ``z``."""
    e = _COMPTON_GRID_keV
    theta = _COMPTON_THETA_rad
    dcs = xraylib_np.DCS_Compt(np.array([z]), e, theta)[0]  # (n_E, n_theta), cm²/g/sr
    e_scattered = xraylib_np.ComptonEnergy(e, theta)  # (n_E, n_theta), keV
    kept = 1.0 - e_scattered / e[:, None]
    integrand = dcs * kept * 2.0 * np.pi * np.sin(theta)[None, :]
    return np.trapezoid(integrand, theta, axis=1)


def element_coefficients(z: int, energy_keV: np.ndarray) -> dict[str, np.ndarray]:
    """Mass coefficients of element ``z`` (cm²/g) at ``energy_keV`` (1-D array, keV).

    Returns ``total`` (mu/rho: Rayleigh + Compton + photo), ``photo`` (tau) and ``energy``
    (mu_en/rho, rebuilt as described in the module docstring).
    """
    e = np.asarray(energy_keV, dtype=float)
    zs = np.array([z])
    total = xraylib_np.CS_Total(zs, e)[0]
    photo = xraylib_np.CS_Photo(zs, e)[0]
    fluorescence_keV = np.zeros_like(e)  # sum over shells of tau_s * omega_s * <E_line>_s
    for macro, yield_energy_keV, edge_keV in _fluorescence(z):
        tau_shell = xraylib_np.CS_Photo_Partial(zs, np.array([macro]), e)[0, 0]
        fluorescence_keV += np.where(e > edge_keV, tau_shell * yield_energy_keV, 0.0)
    compton = np.exp(
        np.interp(np.log(e), np.log(_COMPTON_GRID_keV), np.log(_compton_absorption_table(z)))
    )
    energy = photo - fluorescence_keV / e + compton
    return {"total": total, "photo": photo, "energy": energy}


def mixture_coefficients(
    mass_fractions: Mapping[int, float], energy_keV: np.ndarray
) -> dict[str, np.ndarray]:
    """Mass coefficients (cm²/g) of a mixture given by element mass fractions {Z: w}."""
    result = {"total": 0.0, "photo": 0.0, "energy": 0.0}
    for z, w in mass_fractions.items():
        for key, value in element_coefficients(z, energy_keV).items():
            result[key] = result[key] + w * value
    return result


def convention_coefficient(coefficients: Mapping[str, np.ndarray], convention: str) -> np.ndarray:
    """The coefficient ``c_k`` (cm²/g) that a dose convention keeps (PHYSICS.md §1)."""
    key = {"energy-absorption": "energy", "photoabsorption": "photo", "total-attenuation": "total"}
    if convention not in key:
        raise InputError("convention", convention, "allowed: " + ", ".join(CONVENTIONS))
    return coefficients[key[convention]]
