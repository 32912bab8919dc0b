"""Mass attenuation and energy-absorption coefficients from xraylib primitives.

Every coefficient is in cm²/g, every energy in keV (xraylib's unit). Per-element values are mixed
by mass fraction. ``mu/rho`` and ``tau`` are xraylib's ``CS_Total`` and ``CS_Photo``;
``mu_en/rho`` is rebuilt from primitives because xraylib 4.3's ``CS_Energy`` is wrong for light
elements (carbon −47 % at 20 keV; tschoonj/xraylib issues 176 and 255)::

    mu_en/rho = tau * (1 - f) + ∫ dσ_C/dΩ (1 - E'(θ)/E) dΩ

following the definition of Hubbell & Seltzer (NIST SRD 126; bremsstrahlung of the secondary
electrons neglected below 200 keV). ``f`` is the fraction of the photoabsorbed energy re-emitted
as fluorescence, taken as a ratio within one source, Kissel's partial photoionisation data in
xraylib, and clamped to [0, 1]::

    f = Σ_lines CS_FluorLine_Kissel_Cascade(Z, line, E) · LineEnergy(Z, line)
        / (CS_Photo_Total(Z, E) · E)

The cascade variant counts the Coster–Kronig transfers and the L, M lines that follow a K vacancy
(xraylib documentation, Schoonjans et al., Spectrochim. Acta B 66 (2011) 776). The Compton term
integrates ``DCS_Compt`` weighted by the energy given to the electron (``ComptonEnergy``).

Edges. ``EdgeEnergy`` and the Kissel data jump exactly at the edge; ``CS_Photo`` jumps up to ~20 eV
away from it on its own grid. An energy ``E >= edge`` is above the edge everywhere here: within
``_EDGE_WINDOW_keV`` of an edge, ``CS_Photo`` (and so ``CS_Total``) is extrapolated log-log from
outside the window on the same side, and ``f`` is tabulated per element on a log-energy grid that
holds every edge from both sides (the above-edge value evaluated at edge + 1 eV) and is never
interpolated across an edge. ``f`` and the Compton term are smooth between edges; ``CS_Total`` and
``CS_Photo`` are exact away from the windows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

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
    # electron beams only (beamdesign.electron_session); not a photon convention
    "electron-collision": "electron beam: energy lost to the specimen's electrons (collision "
    "stopping power, ICRU 37); thin-specimen dose at the entrance, CSDA mean over the thickness",
}

_SHELL_MACROS = np.arange(xraylib.K_SHELL, xraylib.Q3_SHELL + 1)
# IUPAC lines (KL3, L3M5 ...; KO, L3O45 ... where xraylib only has the unresolved group, never
# together with its parts), not the Siegbahn composites (KA, LB ...), which would count twice.
_IUPAC_LINE = re.compile(r"^(K|[LMNOPQ][1-7])[KLMNOPQ][1-7]*_LINE$")
_LINE_MACROS = np.array(sorted(getattr(xraylib, n) for n in dir(xraylib) if _IUPAC_LINE.match(n)))
_TABLE_RANGE_keV = (0.5, 400.0)  # beyond ENERGY_MIN/MAX_keV for line energies and margins
_FLUORESCENCE_GRID_keV = np.geomspace(*_TABLE_RANGE_keV, 290)  # 100 points per decade
_EDGE_STEP_keV = 0.001  # the above-edge branch is evaluated from edge + 1 eV
# extra table points on each side of an edge: these distances (keV) and fractions of the edge
_NEAR_EDGE_keV = np.array([0.002, 0.005, 0.01, 0.02, 0.04, 0.07, 0.1, 0.2])
_NEAR_EDGE_RELATIVE = np.array([0.001, 0.002, 0.003, 0.005, 0.01])
_EDGE_WINDOW_keV = 0.020  # CS_Photo's own jumps lie within 20 eV of EdgeEnergy (xraylib 4.3)
_SCALAR_CALLS_MAX = 16  # energies evaluated one by one rather than through xraylib_np
_SEGMENT_SPACING = 100.0  # separates edge segments in the interpolation coordinate (> ln range)
_COMPTON_GRID_keV = np.geomspace(*_TABLE_RANGE_keV, 240)
_COMPTON_THETA_rad = np.linspace(0.0, np.pi, 721)


def check_energies(energy_keV: float | np.ndarray, field: str = "beam.energy_keV") -> np.ndarray:
    """Return energies as a 1-D float array, or raise if any is outside 1–200 keV."""
    energies = np.atleast_1d(np.asarray(energy_keV, dtype=float))
    bad = ~np.isfinite(energies) | (energies < ENERGY_MIN_keV) | (energies > ENERGY_MAX_keV)
    if energies.size == 0 or bad.any():
        value = energies[bad][0] if bad.any() else "[]"
        raise InputError(
            field,
            value,
            f"the energy must be between {ENERGY_MIN_keV:g} and {ENERGY_MAX_keV:g} keV",
        )
    return energies


@cache
def _edges_keV(z: int) -> np.ndarray:
    """Sorted absorption edges (keV, ``EdgeEnergy``, all shells) of ``z`` within the tables."""
    edges = xraylib_np.EdgeEnergy(np.array([z]), _SHELL_MACROS)[0]  # 0 where xraylib has no edge
    inside = (edges > _TABLE_RANGE_keV[0]) & (edges < _TABLE_RANGE_keV[1])
    return np.unique(edges[inside])


def _segment(z: int, energy_keV: np.ndarray) -> np.ndarray:
    """Index of the edge segment holding each energy; ``E >= edge`` is above that edge."""
    return np.searchsorted(_edges_keV(z), energy_keV, side="right")


def _cross_section(name: str, z: int, energy_keV: np.ndarray) -> np.ndarray:
    """xraylib's ``name`` (``CS_Photo`` or ``CS_Total``, cm²/g) of element ``z`` at each energy.

    A few energies go through scalar xraylib: on a busy machine xraylib_np's OpenMP start-up
    can cost milliseconds per call, far more than the values (the same C function) themselves.
    """
    if energy_keV.size <= _SCALAR_CALLS_MAX:
        function = getattr(xraylib, name)
        return np.array([function(z, e) for e in energy_keV.tolist()])
    values: np.ndarray = getattr(xraylib_np, name)(np.array([z]), energy_keV)[0]
    return values


@cache
def _edge_windows(z: int) -> tuple[np.ndarray, ...]:
    """Windows around each edge where ``CS_Photo`` is replaced by its log-log extrapolation.

    Returns (half width keV, below anchor keV, ln tau there, ln-ln slope there, and the same
    above). A window is at most 0.45 × the gap to a neighbouring edge, so windows never overlap.
    """
    edges = _edges_keV(z)
    half = np.full(edges.shape, _EDGE_WINDOW_keV)
    gaps = 0.45 * np.diff(edges)
    half[:-1] = np.minimum(half[:-1], gaps)
    half[1:] = np.minimum(half[1:], gaps)
    anchor = np.concatenate([edges - half, edges + half])
    further = anchor + np.concatenate([-half, half]) / 4.0  # slope on the side away from the edge
    log_tau = np.log(_cross_section("CS_Photo", z, np.concatenate([anchor, further])))
    log_anchor, log_further = np.split(log_tau, 2)
    slope = (log_further - log_anchor) / np.log(further / anchor)
    (anchor_lo, anchor_hi), (log_lo, log_hi), (slope_lo, slope_hi) = (
        np.split(a, 2) for a in (anchor, log_anchor, slope)
    )
    return half, anchor_lo, log_lo, slope_lo, anchor_hi, log_hi, slope_hi


def _photoabsorption(z: int, energy_keV: np.ndarray, cs_photo: np.ndarray) -> np.ndarray:
    """``CS_Photo`` (cm²/g) with its jump moved exactly to ``EdgeEnergy``.

    ``cs_photo`` is ``CS_Photo(z, energy_keV)``; within each edge's window the value is the
    log-log extrapolation from the window's end on the same side of the edge as the energy.
    """
    edges = _edges_keV(z)
    if edges.size == 0:
        return cs_photo
    half, anchor_lo, log_lo, slope_lo, anchor_hi, log_hi, slope_hi = _edge_windows(z)
    i = _segment(z, energy_keV)  # edges[i - 1] <= E < edges[i]
    below_edge = np.minimum(i, edges.size - 1)
    above_edge = np.maximum(i - 1, 0)
    log_e = np.log(energy_keV)
    in_below = (i < edges.size) & (energy_keV > edges[below_edge] - half[below_edge])
    in_above = (i > 0) & (energy_keV < edges[above_edge] + half[above_edge])
    from_below = log_lo[below_edge] + slope_lo[below_edge] * (log_e - np.log(anchor_lo[below_edge]))
    from_above = log_hi[above_edge] + slope_hi[above_edge] * (log_e - np.log(anchor_hi[above_edge]))
    photo = np.where(in_below, np.exp(from_below), cs_photo)
    return np.where(in_above, np.exp(from_above), photo)


def _fluorescence_fraction(z: int, energy_keV: np.ndarray) -> np.ndarray:
    """Fraction of the photoabsorbed energy re-emitted as fluorescence, clamped to [0, 1].

    ``Σ CS_FluorLine_Kissel_Cascade × LineEnergy / (CS_Photo_Total × E)``, every IUPAC line;
    numerator and denominator come from the same (Kissel) photoionisation data.
    """
    zs = np.array([z])
    line_keV = xraylib_np.LineEnergy(zs, _LINE_MACROS)[0]  # 0 for lines element z lacks
    lines = _LINE_MACROS[line_keV > 0]
    emitted = xraylib_np.CS_FluorLine_Kissel_Cascade(zs, lines, energy_keV)[0]  # cm²/g
    line_keV = line_keV[line_keV > 0]
    absorbed_keV = xraylib_np.CS_Photo_Total(zs, energy_keV)[0] * energy_keV
    emitted_keV = line_keV @ emitted
    ratio = np.divide(
        emitted_keV, absorbed_keV, out=np.zeros_like(energy_keV), where=absorbed_keV > 0
    )
    fraction: np.ndarray = np.clip(ratio, 0.0, 1.0)
    return fraction


def _coordinate(segment: np.ndarray, energy_keV: np.ndarray) -> np.ndarray:
    """Interpolation coordinate, increasing with energy, that puts each edge segment apart."""
    coordinate: np.ndarray = segment * _SEGMENT_SPACING + np.log(energy_keV)
    return coordinate


@cache
def _fluorescence_table(z: int) -> tuple[np.ndarray, np.ndarray]:
    """(coordinate, fluorescence fraction) of element ``z`` on a log grid with every edge in it.

    Each edge appears twice, at the edge itself: as the end of the segment below (value at
    edge − 1 eV) and as the start of the segment above (value at edge + 1 eV). Extra points
    close to each edge follow the rise of Kissel's partials over the first ~20 eV.
    """
    edges = _edges_keV(z)
    offsets = np.hstack(
        [
            np.broadcast_to(_NEAR_EDGE_keV, (edges.size, _NEAR_EDGE_keV.size)),
            edges[:, None] * _NEAR_EDGE_RELATIVE,
        ]
    )
    near = (edges[:, None] + np.hstack([-offsets, offsets])).ravel()
    free = np.concatenate([_FLUORESCENCE_GRID_keV, near])
    free = free[np.all(np.abs(free[:, None] - edges[None, :]) > _EDGE_STEP_keV, axis=1)]
    evaluated_at = np.concatenate([free, edges - _EDGE_STEP_keV, edges + _EDGE_STEP_keV])
    placed_at = np.concatenate([free, edges, edges])
    segment = np.concatenate([_segment(z, free), np.arange(edges.size), np.arange(edges.size) + 1])
    coordinate, unique = np.unique(_coordinate(segment, placed_at), return_index=True)
    return coordinate, _fluorescence_fraction(z, evaluated_at[unique])


@cache
def _compton_absorption_table(z: int) -> np.ndarray:
    """Compton energy-transfer coefficient (cm²/g) on ``_COMPTON_GRID_keV`` for element ``z``."""
    e = _COMPTON_GRID_keV
    theta = _COMPTON_THETA_rad
    dcs = xraylib_np.DCS_Compt(np.array([z]), e, theta)[0]  # (n_E, n_theta), cm²/g/sr
    e_scattered = xraylib_np.ComptonEnergy(e, theta)  # (n_E, n_theta), keV
    kept = 1.0 - e_scattered / e[:, None]
    integrand = dcs * kept * 2.0 * np.pi * np.sin(theta)[None, :]
    absorption: np.ndarray = np.trapezoid(integrand, theta, axis=1)
    return absorption


def element_coefficients(z: int, energy_keV: np.ndarray) -> dict[str, np.ndarray]:
    """Mass coefficients of element ``z`` (cm²/g) at ``energy_keV`` (1-D array, keV).

    Returns ``total`` (mu/rho: Rayleigh + Compton + photo), ``photo`` (tau) and ``energy``
    (mu_en/rho), built as described in the module docstring.
    """
    e = np.asarray(energy_keV, dtype=float)
    cs_photo = _cross_section("CS_Photo", z, e)
    photo = _photoabsorption(z, e, cs_photo)
    total = _cross_section("CS_Total", z, e) - cs_photo + photo  # CS_Total = Rayl + Compt + Photo
    coordinate, fraction = _fluorescence_table(z)
    fluorescence = np.interp(_coordinate(_segment(z, e), e), coordinate, fraction)
    compton = np.exp(
        np.interp(np.log(e), np.log(_COMPTON_GRID_keV), np.log(_compton_absorption_table(z)))
    )
    energy = photo * (1.0 - fluorescence) + compton
    return {"total": total, "photo": photo, "energy": energy}


def mixture_coefficients(
    mass_fractions: Mapping[int, float], energy_keV: np.ndarray
) -> dict[str, np.ndarray]:
    """Mass coefficients (cm²/g) of a mixture given by element mass fractions {Z: w}."""
    result: dict[str, Any] = {"total": 0.0, "photo": 0.0, "energy": 0.0}  # arrays once summed
    for z, w in mass_fractions.items():
        for key, value in element_coefficients(z, energy_keV).items():
            result[key] = result[key] + w * value
    return result


def convention_coefficient(coefficients: Mapping[str, np.ndarray], convention: str) -> np.ndarray:
    """The coefficient ``c_k`` (cm²/g) that a dose convention keeps.

    Hubbell & Seltzer, NIST SRD 126.
    """
    key = {"energy-absorption": "energy", "photoabsorption": "photo", "total-attenuation": "total"}
    if convention not in key:
        raise InputError("convention", convention, "allowed: " + ", ".join(CONVENTIONS))
    return coefficients[key[convention]]
