"""Secondary transport: where photoelectrons, Auger electrons and secondary photons deposit energy.

The ``transport`` dose convention starts from the energy-absorption convention (the kerma of
each constituent, ``mu_en/rho``) and moves energy where it really goes. Every step conserves
energy: what one place loses another gains, or it is counted as leaving the cell
(``escaped_power_W``). Per layer *j* and constituent *k* the attenuated power
``P_att = N_j E (1 - T_j) v rho (mu/rho) / mu_j`` (PHYSICS.md §1) is partitioned as

    mu/rho = mu_en/rho  (kerma: photoelectrons + Auger + Compton electrons)
           + fluorescence lines (K alpha, K beta, L alpha, L beta; lines < 1 keV kept locally)
           + scattered photons (Rayleigh + Compton, the remainder)

**Electrons** (three groups per constituent: photoelectrons of energy ``E - B``, with ``B`` the
photoabsorption-weighted binding energy of the K and L shells, from xraylib's Kissel partial
cross sections; Auger electrons carrying ``B`` minus the fluorescence; Compton electrons with the
mean energy transfer). Ranges are CSDA ranges (``beamdesign.stopping``), paths straight, energy
lost uniformly along the path (constant stopping power). The two simplifications err in
opposite directions (straight paths overestimate escape by the detour factor 1.3–2; a stopping
power that rises towards the end of the track underestimates it).

1. *Particles* (``particles``): an electron born in a uniform sphere of radius ``r`` leaves it
   with the energy fraction ``phi(x) = 3x/8 - x³/64`` (x = R/r <= 2) or ``1 - 3/(4x)`` (x > 2),
   from the chord-length distribution of a sphere (``P(s < x) = 3x/(4r) - x³/(16r³)``, the
   number fraction PHYSICS.md quotes) weighted by the energy left after the chord. The energy
   that leaves the particles of a layer is shared by all its constituents in proportion to their
   linear stopping power ``v_m rho_m (S/rho)_m`` at the electron's energy (the mixture the
   electron crosses). The pore filler and constituents without a particle size take the
   hydraulic diameter of the pores, ``4 porosity / sum_k v_k 6/d_k`` (Kozeny). A layer with no
   particle size anywhere keeps the energy-absorption split.
2. *Thin layers* (``layers``): from a uniform slab of thickness ``t`` the energy fraction leaving
   through each face is ``R/(8t)`` (t >= R) or ``1/2 - 3t/(8R) + (t/4R) ln(t/R)`` (t < R); it is
   deposited in the neighbouring layer in proportion to linear stopping power. The cell's outer
   faces keep their electrons (windows and pouch films are far thicker than the ranges here; a
   free-standing foil would lose ``R/(8t)`` per face).
3. *Footprint* (``lateral``): energy leaving the beam column sideways stays in the layer
   (``absorbed_power_W``) but not in the column dose; the column (radius
   ``R_b = sqrt(A/pi)``) is treated as the sphere with the same surface-to-volume ratio
   (``r = 1.5 R_b``), Cauchy's mean-chord argument that makes short-range escape depend on S/V only.

**Photons** (``photons``): each line and the scattered photons (followed at ``E / (1 + E/mc²)``,
Compton at 90°, Rayleigh photons included: 5 % error in energy at 27 keV, a few % in their
attenuation; emission taken isotropic) are followed through the
laterally infinite slabs: for emission at optical coordinate ``x`` (depths sampled with the
primary interaction profile, 8-point Gauss–Legendre in the absorbed fraction), the fraction
interacting in a layer at optical distance ``a`` with optical thickness ``b`` is
``(E2(a) - E2(a + b)) / 2`` (integral over direction cosine of ``exp(-a/u)``), the fraction
interacting in the emitting layer ``1 - E2(x_top)/2 - E2(x_bottom)/2``, and what reaches the
outer faces leaves the cell. An interaction deposits the ``mu_en/mu`` share (split between the
layer's constituents by ``v rho mu_en``); the rest (tertiary photons) is counted as leaving.
The part landing in the beam column is estimated with the solid angle of the column seen from
the emission point, ``1 - l / sqrt(l² + R_b²)``, with ``l`` the depth to the middle of the
absorption (at most one mean free path) — an estimate, exact only in the limits.

``E1`` is the Abramowitz & Stegun 5.1.53/5.1.56 approximation (|error| < 2e-7), ``E2(x) =
exp(-x) - x E1(x)``. The range of an electron in a layer's mixture is the mass-weighted harmonic
mean of its constituents' CSDA ranges (exact when their stopping-power ratios do not change
with energy).

Checked in tests/test_transport.py: energy conservation to 1e-9; the tiny-particle (stopping-
power shares) and huge-particle (energy-absorption) limits; the sphere and slab escape
fractions and E2 against direct Monte Carlo or quadrature; the secondary-photon power reaching a
graphite electrode from a Cu or Ni foil just above the K edge against a seeded Monte Carlo of
emission depth and direction (agreement 0.2 %).

Every step is linear in the primary power, so for one stack, energy, beam column and set of
steps the transport is a few matrices, cached: re-evaluating a cell at another flux, attenuator
or time costs a few matrix products.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import xraylib

from beamdesign.materials import Material
from beamdesign.reprs import compact_repr
from beamdesign.stack import Stack
from beamdesign.stopping import (
    ELECTRON_REST_ENERGY_keV,
    collision_stopping_power_MeV_cm2_per_g,
    csda_range_g_per_cm2,
)

STEPS = ("particles", "layers", "lateral", "photons")
KEV_TO_J = 1.602176634e-16
UM_TO_CM = 1e-4
_SHELLS = (xraylib.K_SHELL, xraylib.L1_SHELL, xraylib.L2_SHELL, xraylib.L3_SHELL)
_LINES = (xraylib.KA_LINE, xraylib.KB_LINE, xraylib.LA_LINE, xraylib.LB_LINE)
LOCAL_LINE_keV = 1.0  # lines below this are absorbed within ~1 µm: kept where they are emitted
ELECTRON_MIN_keV = 0.1  # lowest energy of the stopping tables
_GAUSS_S, _GAUSS_W = np.polynomial.legendre.leggauss(8)
_GAUSS_S = 0.5 * (_GAUSS_S + 1.0)
_GAUSS_W = 0.5 * _GAUSS_W
#: (thickness µm, porosity, ((material, volume fraction, particle diameter µm or None), ...))
_LayerSignature = tuple[float, float, tuple[tuple[Material, float, float | None], ...]]


@dataclass(frozen=True)
class Partition:
    """How one material's attenuation at one energy splits (all in cm²/g of power).

    ``total = kerma + sum(line_power) + local_lines + scattered`` exactly.
    """

    total: float
    kerma: float
    electron_keV: tuple[float, float, float]  # photoelectron, Auger, Compton electron energies
    electron_power: tuple[float, float, float]  # their shares of ``kerma``
    line_keV: tuple[float, ...]
    line_power: tuple[float, ...]
    local_lines: float
    scattered: float  # Rayleigh + Compton-scattered photons (followed at scattered_photon_keV)

    __repr__ = compact_repr


@dataclass(frozen=True)
class TransportResult:
    """Where the attenuated power goes, per constituent (rows in stack order) and energy."""

    absorbed_power_W: np.ndarray  # (n_const, n_E) deposited anywhere in the (infinite) layer
    column_power_W: np.ndarray  # (n_const, n_E) deposited inside the beam column
    secondary_photon_power_W: (
        np.ndarray
    )  # (n_const, n_E) part of absorbed from other layers' photons
    escaped_power_W: np.ndarray  # (n_E,) leaving the cell
    attenuated_power_W: np.ndarray  # (n_E,) attenuated in the cell

    __repr__ = compact_repr


def exponential_integral_e2(x: np.ndarray) -> np.ndarray:
    """E2(x) for x >= 0 (A&S 5.1.53 / 5.1.56 for E1, |error| < 2e-7)."""
    x = np.asarray(x, dtype=float)
    small = np.clip(x, 1e-300, 1.0)
    e1_small = (
        -np.log(small)
        - 0.57721566
        + small
        * (
            0.99999193
            + small
            * (-0.24991055 + small * (0.05519968 + small * (-0.00976004 + small * 0.00107857)))
        )
    )
    big = np.maximum(x, 1.0)
    x_exp_e1 = (
        (((big + 8.5733287401) * big + 18.0590169730) * big + 8.6347608925) * big + 0.2677737343
    ) / (
        (((big + 9.5733223454) * big + 25.6329561486) * big + 21.0996530827) * big + 3.9584969228
    )  # x e^x E1(x)
    e2_small = np.exp(-small) - small * e1_small
    e2_big = np.exp(-big) * (1.0 - x_exp_e1)
    return np.where(x <= 0.0, 1.0, np.where(x < 1.0, e2_small, e2_big))


def sphere_energy_escape(range_over_radius: np.ndarray) -> np.ndarray:
    """Energy fraction of electrons (straight paths, uniform loss) leaving a uniform sphere."""
    x = np.asarray(range_over_radius, dtype=float)
    return np.where(x <= 2.0, 3.0 * x / 8.0 - x**3 / 64.0, 1.0 - 0.75 / np.maximum(x, 2.0))


def slab_face_escape(range_over_thickness: np.ndarray) -> np.ndarray:
    """Energy fraction leaving a uniform slab through one face (straight paths, uniform loss)."""
    x = np.asarray(range_over_thickness, dtype=float)
    inverse = 1.0 / np.maximum(x, 1.0)  # t/R when t < R
    thin = 0.5 - 3.0 * inverse / 8.0 + inverse / 4.0 * np.log(inverse)
    return np.where(x <= 1.0, x / 8.0, thin)


def _clamp01(value: float) -> float:
    return min(max(value, 0.0), 1.0)


#: energies whose tables stay cached (~75 kB each): the points of a 2,000-point energy scan, so
#: that re-running a scan plan (each planner change) does not recompute them (1,000 points:
#: 190 ms warm instead of ~20 s cold)
SCAN_CACHE = 2_048


@lru_cache(maxsize=4096)
def _element_partition(
    z: int, energy_keV: float
) -> tuple[float, float, tuple[tuple[float, float], ...], float]:
    """Per element at one energy: (tau, binding keV, [(line keV, line power cm²/g)], sigma_C)."""
    tau = xraylib.CS_Photo(z, energy_keV)
    try:
        kissel = xraylib.CS_Photo_Total(z, energy_keV)
    except ValueError:  # no Kissel data (light elements at high energy): no shells, no lines
        return (tau, 0.0, (), xraylib.CS_Compt(z, energy_keV))
    binding, share_sum = 0.0, 0.0
    for macro in _SHELLS:
        try:
            edge = xraylib.EdgeEnergy(z, macro)
        except ValueError:
            continue
        if energy_keV <= edge or kissel <= 0:
            continue
        try:
            partial = xraylib.CS_Photo_Partial(z, macro, energy_keV)
        except ValueError:  # no Kissel partial for this shell and energy
            continue
        share = _clamp01(partial / kissel)
        share = min(share, 1.0 - share_sum)
        share_sum += share
        binding += share * edge
    lines = []
    for line in _LINES:
        try:
            emitted = xraylib.CS_FluorLine_Kissel_Cascade(z, line, energy_keV)
            line_keV = xraylib.LineEnergy(z, line)
        except ValueError:
            continue
        if emitted > 0 and line_keV > 0 and kissel > 0:
            # shares taken within one source (Kissel), applied to CS_Photo (PHYSICS.md §1)
            lines.append((line_keV, tau * emitted / kissel * line_keV / energy_keV))
    return (tau, binding, tuple(lines), xraylib.CS_Compt(z, energy_keV))


@lru_cache(maxsize=4096)
def partition(material: Material, energy_keV: float) -> Partition:
    """Split ``material``'s attenuation at ``energy_keV`` into kerma groups, lines and scatter."""
    coefficients = material.coefficients(np.array([energy_keV]))
    total = float(coefficients["total"][0])
    kerma = float(coefficients["energy"][0])
    tau_sum = pe_power = binding_power = compton = 0.0
    lines: dict[float, float] = {}
    for z, w in material.mass_fractions:
        tau, binding, element_lines, sigma_c = _element_partition(int(z), float(energy_keV))
        tau_sum += w * tau
        pe_power += w * tau * (energy_keV - binding) / energy_keV
        binding_power += w * tau * binding / energy_keV
        compton += w * sigma_c
        for line_keV, power in element_lines:
            lines[line_keV] = lines.get(line_keV, 0.0) + w * power
    fluorescence = sum(lines.values())
    room = max(total - kerma, 0.0)  # what the kerma convention lets go as photons
    scale = min(1.0, room / fluorescence) if fluorescence > 0 else 1.0
    far = {e: p * scale for e, p in lines.items() if e >= LOCAL_LINE_keV}
    local_lines = sum(p * scale for e, p in lines.items() if e < LOCAL_LINE_keV)
    scattered = total - kerma - sum(far.values()) - local_lines
    auger_power = max(binding_power - fluorescence * scale, 0.0)
    pe_power = min(pe_power, kerma)
    auger_power = min(auger_power, kerma - pe_power)
    compton_power = kerma - pe_power - auger_power
    binding_mean = binding_power * energy_keV / tau_sum if tau_sum > 0 else 0.0
    compton_keV = compton_power / compton * energy_keV if compton > 0 else 0.0
    photo_e_keV, auger_e_keV, compton_e_keV = (
        min(max(t, ELECTRON_MIN_keV), energy_keV)
        for t in (energy_keV - binding_mean, binding_mean, compton_keV)
    )
    electron_keV = (photo_e_keV, auger_e_keV, compton_e_keV)
    return Partition(
        total,
        kerma,
        electron_keV,
        (pe_power, auger_power, compton_power),
        tuple(far),
        tuple(far.values()),
        local_lines,
        max(scattered, 0.0),
    )


def pore_size_um(porosity: float, sized: list[tuple[float, float]]) -> float | None:
    """Hydraulic diameter of the pores (µm) from (volume fraction, particle diameter µm) pairs."""
    surface = sum(v * 6.0 / d for v, d in sized)
    if surface <= 0:
        return None
    return 4.0 * max(porosity, 0.0) / surface if porosity > 0 else min(d for _, d in sized)


@dataclass(frozen=True)
class _Tables:
    """Everything that depends only on the constituents' materials and the photon energy."""

    parts: tuple[Partition, ...]
    total: np.ndarray  # (n,) mu/rho
    electron_power: np.ndarray  # (n, 3) cm²/g
    electron_keV: np.ndarray  # (n, 3)
    stopping: np.ndarray  # (n receiving, 3n emitted) MeV cm²/g at the emitted energies
    range_g_cm2: np.ndarray  # (n receiving, 3n emitted)
    local_lines: np.ndarray  # (n,) cm²/g
    photon_keV: np.ndarray  # (U,) distinct secondary photon energies
    source_power: np.ndarray  # (n, U) cm²/g emitted by each constituent at each energy
    photon_total: np.ndarray  # (n, U) mu/rho at the secondary energies
    photon_kerma: np.ndarray  # (n, U) mu_en/rho at the secondary energies


@lru_cache(maxsize=SCAN_CACHE)
def _tables(materials: tuple[Material, ...], energy_keV: float) -> _Tables:
    parts = tuple(partition(m, energy_keV) for m in materials)
    electron_keV = np.array([p.electron_keV for p in parts])
    emitted = electron_keV.ravel()
    stopping = np.array([collision_stopping_power_MeV_cm2_per_g(m, emitted) for m in materials])
    ranges = np.array([csda_range_g_per_cm2(m, emitted) for m in materials])
    scattered_keV = scattered_photon_keV(energy_keV)
    photon_keV = np.unique(np.round([scattered_keV, *(e for p in parts for e in p.line_keV)], 6))
    source_power = np.zeros((len(parts), photon_keV.size))
    for k, p in enumerate(parts):
        for line_keV, line_power in (
            *zip(p.line_keV, p.line_power, strict=True),
            (scattered_keV, p.scattered),
        ):
            source_power[k, np.searchsorted(photon_keV, round(line_keV, 6))] += line_power
    coefficients = [m.coefficients(photon_keV) for m in materials]
    return _Tables(
        parts,
        np.array([p.total for p in parts]),
        np.array([p.electron_power for p in parts]),
        electron_keV,
        stopping,
        ranges,
        np.array([p.local_lines for p in parts]),
        photon_keV,
        source_power,
        np.array([c["total"] for c in coefficients]),
        np.array([c["energy"] for c in coefficients]),
    )


def scattered_photon_keV(energy_keV: float) -> float:
    """Energy at which scattered photons are followed: Compton at 90°, ``E / (1 + E/mc²)``."""
    return energy_keV / (1.0 + energy_keV / ELECTRON_REST_ENERGY_keV)


def secondary_transport(
    stack: Stack,
    energies_keV: np.ndarray,
    incident_ph_s: np.ndarray,
    column_area_cm2: float,
    steps: tuple[str, ...] = STEPS,
) -> TransportResult:
    """Move the energy-absorption deposits of ``stack`` where secondaries take them.

    Every step is linear in the power deposited by the primary beam, so for a given stack,
    energy, column and steps the transport is a set of matrices (cached): evaluating the same
    cell at another flux, attenuation or time costs a few matrix products.

    Parameters
    ----------
    stack : layers in beam order
    energies_keV : photon energies (1-D, keV)
    incident_ph_s : (n_layers, n_E) photons per second reaching each layer
    column_area_cm2 : beam column area (cm²) for the lateral steps
    steps : which of ``STEPS`` to apply (all by default; tests switch them one by one)
    """
    energies = np.atleast_1d(np.asarray(energies_keV, dtype=float))
    signature = tuple(
        (
            layer.thickness_um,
            layer.porosity,
            tuple((c.material, c.volume_fraction, c.particle_size_um) for c in layer.constituents),
        )
        for layer in stack.layers
    )
    n = sum(len(layer.constituents) for layer in stack.layers)
    shape = (n, energies.size)
    absorbed, column, from_photons = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    escaped, attenuated = np.zeros(energies.size), np.zeros(energies.size)
    for e, energy in enumerate(energies):
        maps = _linear_maps(signature, float(energy), float(column_area_cm2), tuple(steps))
        layer_photons = incident_ph_s[:, e] * maps.layer_absorbed_fraction
        attenuated[e] = layer_photons.sum() * energy * KEV_TO_J
        # power (W) each constituent would get per cm²/g of its coefficient
        per_coefficient_W = layer_photons[maps.layer_of] * maps.per_photon * energy * KEV_TO_J
        power = (maps.electron_power * per_coefficient_W[:, None]).ravel()
        absorbed[:, e] = maps.electron_absorbed @ power
        column[:, e] = maps.electron_column @ power
        local = maps.local_lines * per_coefficient_W
        emitted = maps.group_source @ per_coefficient_W  # (G,) W
        if "photons" in steps:
            from_photons[:, e] = local + maps.photon_absorbed @ emitted
            absorbed[:, e] += from_photons[:, e]
            column[:, e] += local + maps.photon_column @ emitted
            escaped[e] = maps.photon_leaving @ emitted
        else:  # energy-absorption: every secondary photon leaves
            escaped[e] = emitted.sum() + local.sum()
    return TransportResult(absorbed, column, from_photons, escaped, attenuated)


@dataclass(frozen=True)
class _Maps:
    """Linear maps of one stack at one energy (see ``secondary_transport``)."""

    layer_of: np.ndarray  # (n,)
    layer_absorbed_fraction: np.ndarray  # (L,) 1 - T_j
    per_photon: np.ndarray  # (n,) v rho / mu_j: share of a layer's attenuated photons per cm²/g
    electron_power: np.ndarray  # (n, 3) cm²/g
    electron_absorbed: np.ndarray  # (n, 3n) deposit per W of each electron group
    electron_column: np.ndarray  # (n, 3n) of which in the beam column
    local_lines: np.ndarray  # (n,) cm²/g
    group_source: np.ndarray  # (G, n) cm²/g each constituent emits into each photon group
    photon_absorbed: np.ndarray  # (n, G) deposit per W emitted in each group
    photon_column: np.ndarray  # (n, G)
    photon_leaving: np.ndarray  # (G,) fraction leaving the cell


@lru_cache(maxsize=SCAN_CACHE)
def _linear_maps(
    signature: tuple[_LayerSignature, ...],
    energy_keV: float,
    column_area_cm2: float,
    steps: tuple[str, ...],
) -> _Maps:
    materials = tuple(m for _, _, items in signature for m, _, _ in items)
    tables = _tables(materials, energy_keV)
    layer_of = np.array([j for j, (_, _, items) in enumerate(signature) for _ in items])
    v_rho = np.array([v * m.density_g_cm3 for _, _, items in signature for m, v, _ in items])
    radius_um = []
    for _, porosity, items in signature:
        sized = [(v, size) for _, v, size in items if size]
        matrix = pore_size_um(porosity, sized) if sized else None
        radius_um += [
            diameter / 2.0 if (diameter := size or matrix) else np.inf for _, _, size in items
        ]
    geometry = _Geometry(
        layer_of=layer_of,
        v_rho=v_rho,
        thickness_cm=np.array([t for t, _, _ in signature]) * UM_TO_CM,
        radius_um=np.array(radius_um),
        density=np.array([m.density_g_cm3 for m in materials]),
        column_radius_um=float(np.sqrt(column_area_cm2 / np.pi) / UM_TO_CM),
    )
    mu = np.bincount(layer_of, v_rho * tables.total, minlength=len(signature))
    electron_absorbed, electron_column = _electron_maps(geometry, tables, steps)
    # photon groups: (layer, energy) pairs that some constituent of the layer emits
    emits = np.zeros((len(signature), tables.photon_keV.size), dtype=bool)
    np.logical_or.at(emits, layer_of, tables.source_power > 0)
    group_layer, group_energy = np.nonzero(emits)
    group_source = np.where(
        layer_of[None, :] == group_layer[:, None], tables.source_power[:, group_energy].T, 0.0
    )  # (G, n)
    photon_absorbed, photon_column, leaving = _photon_maps(
        geometry, tables, mu, group_layer, group_energy
    )
    return _Maps(
        layer_of,
        -np.expm1(-mu * geometry.thickness_cm),
        v_rho / mu[layer_of],
        tables.electron_power,
        electron_absorbed,
        electron_column,
        tables.local_lines,
        group_source,
        photon_absorbed,
        photon_column,
        leaving,
    )


@dataclass(frozen=True)
class _Geometry:
    layer_of: np.ndarray  # (n,) layer of each constituent
    v_rho: np.ndarray  # (n,) g/cm³ of layer volume
    thickness_cm: np.ndarray  # (L,)
    radius_um: np.ndarray  # (n,) particle (or pore) radius; inf: no escape from particles
    density: np.ndarray  # (n,) g/cm³
    column_radius_um: float


def _electron_maps(
    geometry: _Geometry, tables: _Tables, steps: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Where one watt of each electron group (constituent k, group g) ends: (n, 3n) matrices
    for the whole layer and for the beam column. Each column of the first sums to 1."""
    layer_of, v_rho = geometry.layer_of, geometry.v_rho
    n, n_layers = layer_of.size, geometry.thickness_cm.size
    emitter = np.repeat(np.arange(n), 3)  # constituent of each emitted group
    emitter_layer = layer_of[emitter]
    linear = tables.stopping * v_rho[:, None]  # (m, kg) linear stopping power share
    same_layer = layer_of[:, None] == emitter_layer[None, :]  # (m, kg)
    deposit = (np.arange(n)[:, None] == emitter[None, :]).astype(float)
    if "particles" in steps:
        own_range_um = (
            tables.range_g_cm2[emitter, np.arange(3 * n)] / geometry.density[emitter] / UM_TO_CM
        )
        leaving = sphere_energy_escape(own_range_um / geometry.radius_um[emitter])
        weights = np.where(same_layer, linear, 0.0)
        deposit = (
            deposit * (1.0 - leaving)[None, :] + weights / weights.sum(axis=0) * leaving[None, :]
        )
    # range (µm) of each emitted electron in the mixture of its own layer: harmonic mean of the
    # constituents' ranges weighted by mass, divided by the layer density
    layer_density = np.bincount(layer_of, v_rho, minlength=n_layers)
    inverse = np.where(
        same_layer, (v_rho / layer_density[layer_of])[:, None] / tables.range_g_cm2, 0.0
    ).sum(axis=0)
    layer_range_um = 1.0 / inverse / layer_density[emitter_layer] / UM_TO_CM  # (3n,)
    if "layers" in steps and n_layers > 1:
        thickness_um = geometry.thickness_cm[emitter_layer] / UM_TO_CM
        face = slab_face_escape(layer_range_um / thickness_um)  # (3n,) per face
        moved = np.zeros_like(deposit)
        for step in (-1, 1):
            neighbour = emitter_layer + step
            exists = (neighbour >= 0) & (neighbour < n_layers)  # outer faces keep electrons
            out = np.where(exists, face, 0.0)  # each column holds 1 W so far
            weights = np.where(layer_of[:, None] == neighbour[None, :], linear, 0.0)
            total_weight = weights.sum(axis=0)
            moved += (
                np.divide(weights, total_weight, out=np.zeros_like(weights), where=total_weight > 0)
                * out[None, :]
            )
            moved -= deposit * out[None, :]
        deposit = deposit + moved
    if "lateral" in steps:
        kept = 1.0 - sphere_energy_escape(layer_range_um / (1.5 * geometry.column_radius_um))
        return deposit, deposit * kept[None, :]
    return deposit, deposit


def _photon_maps(
    geometry: _Geometry,
    tables: _Tables,
    mu: np.ndarray,
    source_layer: np.ndarray,
    which: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where one watt of secondary photons of each group (layer, energy) ends: (n, G) matrices
    for the whole layers and for the beam column, and the (G,) fraction leaving the cell."""
    layer_of, v_rho, thickness_cm = geometry.layer_of, geometry.v_rho, geometry.thickness_cm
    n_layers = thickness_cm.size
    layer_mu = np.zeros((n_layers, tables.photon_keV.size))
    layer_mu_en = np.zeros_like(layer_mu)
    np.add.at(layer_mu, layer_of, v_rho[:, None] * tables.photon_total)
    np.add.at(layer_mu_en, layer_of, v_rho[:, None] * tables.photon_kerma)
    optical = (layer_mu * thickness_cm[:, None])[:, which].T  # (G, L) at each group's energy
    edges = np.hstack([np.zeros((which.size, 1)), np.cumsum(optical, axis=1)])  # (G, L+1)
    rows = np.arange(which.size)
    # emission depths: uniform in the fraction of primaries absorbed (importance sampling)
    primary_mu = mu[source_layer]
    absorbed_fraction = -np.expm1(-primary_mu * thickness_cm[source_layer])
    depth_cm = -np.log1p(-_GAUSS_S[None, :] * absorbed_fraction[:, None]) / primary_mu[:, None]
    x = edges[rows, source_layer][:, None] + layer_mu[source_layer, which][:, None] * depth_cm
    top, bottom = edges[:, None, :-1], edges[:, None, 1:]  # (G, 1, L)
    downstream = np.arange(n_layers)[None, :] > source_layer[:, None]  # (G, L)
    distance = np.maximum(
        np.where(downstream[:, None, :], top - x[:, :, None], x[:, :, None] - bottom), 0.0
    )
    up = x - edges[rows, source_layer][:, None]
    down = edges[rows, source_layer + 1][:, None] - x
    e2 = exponential_integral_e2(
        np.concatenate(
            [distance.ravel(), (distance + (bottom - top)).ravel(), up.ravel(), down.ravel()]
        )
    )
    size = distance.size
    reach = 0.5 * (e2[:size] - e2[size : 2 * size]).reshape(distance.shape)
    stay = 1.0 - 0.5 * e2[2 * size : 2 * size + up.size] - 0.5 * e2[2 * size + up.size :]
    is_own = np.arange(n_layers)[None, :] == source_layer[:, None]  # (G, L)
    reach = np.where(is_own[:, None, :], stay.reshape(up.shape)[:, :, None], reach)
    interacts = np.einsum("gzl,z->gl", reach, _GAUSS_W)  # (G, L)
    mu_g = layer_mu[:, which].T
    deposit_share = np.divide(
        layer_mu_en[:, which].T, mu_g, out=np.zeros_like(mu_g), where=mu_g > 0
    )
    layer_fraction = interacts * deposit_share  # (G, L) deposited per W emitted
    # share of it in the beam column: solid angle of the column seen from the emission depth
    depth_top = np.concatenate([[0.0], np.cumsum(thickness_cm)])
    emit_z = depth_top[source_layer] + depth_cm @ _GAUSS_W
    near = np.where(
        is_own,
        0.0,
        np.maximum(
            np.where(
                downstream,
                depth_top[None, :-1] - emit_z[:, None],
                emit_z[:, None] - depth_top[None, 1:],
            ),
            0.0,
        ),
    )
    distance_cm = near + 0.5 * np.minimum(thickness_cm[None, :], 1.0 / np.maximum(mu_g, 1e-30))
    radius_cm = geometry.column_radius_um * UM_TO_CM
    in_column = 1.0 - distance_cm / np.sqrt(distance_cm**2 + radius_cm**2)
    # split each layer's deposit between its constituents by v rho mu_en
    share = v_rho[:, None] * tables.photon_kerma[:, which]  # (n, G)
    share = share / np.maximum(layer_mu_en[layer_of][:, which], 1e-300)
    absorbed = share * layer_fraction[:, layer_of].T
    column = share * (layer_fraction * in_column)[:, layer_of].T
    return absorbed, column, 1.0 - layer_fraction.sum(axis=1)
