"""Signal of the probed layer per scan, per technique: the data-quality side of the dose trade.

Geometry (stated, kept simple): layers are laterally infinite slabs, the beam is monochromatic;
``N_p`` photons/s reach the probed layer after the beam's attenuators and every layer upstream
(the same ``N_j`` as the dose engine, PHYSICS.md §1). Cross sections come from xraylib.

``xrd-transmission`` (beam normal to the layers, area detector downstream)
    Kinematic powder diffraction, integrated power of one Debye–Scherrer ring (Warren, *X-Ray
    Diffraction*, Addison-Wesley 1969, powder-pattern intensity; Als-Nielsen & McMorrow,
    *Elements of Modern X-ray Physics*, 2nd ed., Wiley 2011, kinematical diffraction by a
    crystal and by a powder):
    ``N_hkl = N_p t_s r0² λ³ m |F_hkl|² P / (4 V_c² sin θ) · v · g · T_out · ε · f_ring``
    with ``P = (1 + cos² 2θ)/2`` (ring-averaged polarisation), ``v`` the volume fraction of the
    crystalline constituent, ``F_hkl = Σ occ f(q) exp(2πi h·x)``, ``f = FF_Rayl(Z, q) + f' + i f''``
    (xraylib ``FF_Rayl``, ``Fi``, ``Fii``; Debye–Waller factor omitted), ``q = 1/(2d)``.
    Path factor through the probed layer (flat plate, incidence normal, exit at 2θ):
    ``g = ∫0^t exp(-μz) exp(-μ(t - z)/cos 2θ) dz`` → ``t exp(-μt)`` for 2θ → 0, maximal at μt = 1.
    ``T_out``: the layers downstream, crossed at 2θ. Without a named reflection the coherent
    (Rayleigh) cross section ``CS_Rayl`` of the constituent is used as a proxy of the
    diffracted signal (all of it collected in ``f_ring``; 2θ → 0).
    Background: Compton + Rayleigh (independent-atom ``DCS_Compt``, ``DCS_Rayl``) of every layer
    into the peak's window ``ΔΩ = 2π sin 2θ Δ2θ f_ring``, with the same path factors; for the
    proxy, the whole-sphere Compton of the stack plus the Rayleigh of the other constituents.
    ``SNR = S / sqrt(S + 2B)``: background subtracted from an equal-width window (Knoll,
    *Radiation Detection and Measurement*, 4th ed., Wiley 2010: net counts after background
    subtraction).

``xas-transmission`` (Bunker, *Introduction to XAFS*, Cambridge University Press 2010)
    Edge jump ``Δμt = ρ_Z t [τ_Z(E0 + δ) - τ_Z(E0 - δ)]`` (xraylib ``CS_Photo`` of the element,
    δ = 10 eV either side of ``EdgeEnergy``; ``ρ_Z`` the element's partial density in the layer).
    Counts per point: ``N_1 = N_0 exp(-μt_total) ε`` transmitted through the whole stack at
    ``E0 + δ``; ``N_0`` counted by an I0 chamber absorbing ``i0_fraction``. Noise of
    ``μt = ln(I0/I1)``: ``σ = sqrt(1/N_1 + 1/(i0_fraction N_0))``; ``SNR = Δμt / σ``.

``xas-fluorescence`` (Bunker 2010; self-absorption: Tröger et al., Phys. Rev. B 46, 3283 (1992))
    Cell tilted so that beam and detector make 45° with the layer normal (90° between them, the
    detector on the beam side): incidence and exit paths are ``t / cos 45°``. Kα counts
    (``CS_FluorLine_Kissel_Cascade`` of KL2 + KL3, cm²/g of the element):
    ``N_f = N_p t_s ε Ω/(4π) σ_f ρ_Z [1 - exp(-χ t)] / (χ cos α) · T_exit``,
    ``χ = μ(E)/cos α + μ(E_Kα)/cos β`` (self-absorption in the probed layer); ``T_exit`` through
    the layers upstream of the probe at ``E_Kα``. ``N_p`` here uses the upstream layers crossed
    at 45°. An energy-dispersive detector separates Kα from the scatter: ``SNR = sqrt(N_f)``.

Limits: one energy per scan point (no bandwidth), no harmonics, no sample inhomogeneity, no
dead time or pile-up; diffraction peaks of the other layers are not subtracted; the XAS
above-edge cross section is the smooth atomic one (no fine structure).
"""  # noqa: RUF002 -- K-alpha line and angle notation

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np
import xraylib
import yaml

from beamdesign import validate
from beamdesign.beam import Beam
from beamdesign.coefficients import check_energies
from beamdesign.errors import InputError, did_you_mean
from beamdesign.materials import Material
from beamdesign.reprs import compact_repr
from beamdesign.stack import Constituent, Layer, Stack

if TYPE_CHECKING:
    from beamdesign.plan import Plan

TECHNIQUES = ("xrd-transmission", "xas-transmission", "xas-fluorescence")
R0_CM = 2.8179403262e-13  # classical electron radius (CODATA 2018)
HC_KEV_A = 12.398419843320026  # h c (keV Å)
A3_TO_CM3 = 1e-24
UM_TO_CM = 1e-4
EDGE_OFFSET_KEV = 0.010  # below/above the edge, clear of xraylib's 1 eV edge window
EDGES = {
    "K": xraylib.K_SHELL,
    "L1": xraylib.L1_SHELL,
    "L2": xraylib.L2_SHELL,
    "L3": xraylib.L3_SHELL,
}
_KALPHA = (xraylib.KL2_LINE, xraylib.KL3_LINE)
#: Error fields of the technique's options, named under the options' field (``signal``) in errors.
OPTION_FIELDS = ("element", "edge", "reflection")
MAX_Z = 98  # xraylib's edge energies and cross sections stop at californium
DETECTOR_KEYS = (
    "efficiency",
    "ring_fraction",
    "window_deg",
    "i0_fraction",
    "solid_angle_sr",
    "points",
)


@dataclass(frozen=True)
class Detector:
    """What the detector collects (defaults stated here; a beamline profile may set them).

    Attributes
    ----------
    efficiency : quantum efficiency of the signal detector, (0, 1]
    ring_fraction : XRD: share of the Debye–Scherrer ring's azimuth on the detector, (0, 1]
    window_deg : XRD: width in 2θ (deg) of the window integrated for one peak
    i0_fraction : XAS transmission: share of the incident photons counted by the I0 chamber
    solid_angle_sr : XAS fluorescence: solid angle of the fluorescence detector (sr)
    points : XAS: energy points per scan; each point gets exposure / points
    """

    efficiency: float = 1.0
    ring_fraction: float = 1.0
    window_deg: float = 0.1
    i0_fraction: float = 0.1
    solid_angle_sr: float = 0.2
    points: int = 1

    __repr__ = compact_repr

    def __post_init__(self) -> None:
        for name in ("efficiency", "ring_fraction", "i0_fraction"):
            _check_number(getattr(self, name), f"detector.{name}", 0.0, 1.0, "a fraction in (0, 1]")
        _check_number(
            self.window_deg, "detector.window_deg", 0.0, 10.0, "a 2θ window in (0, 10] deg"
        )
        _check_number(
            self.solid_angle_sr,
            "detector.solid_angle_sr",
            0.0,
            2 * np.pi,
            "a solid angle in (0, 2π] sr",
        )
        if isinstance(self.points, bool) or not isinstance(self.points, int) or self.points < 1:
            raise InputError("detector.points", self.points, "a whole number of points >= 1")

    @classmethod
    def from_config(cls, config: dict[str, Any] | None, field: str = "detector") -> Detector:
        """A detector from a mapping with any of ``efficiency, ring_fraction, window_deg,
        i0_fraction, solid_angle_sr, points``."""
        if config is None:
            return cls()
        if not isinstance(config, dict):
            raise InputError(field, config, "a mapping with any of " + ", ".join(DETECTOR_KEYS))
        validate.unknown_keys(config, DETECTOR_KEYS, field)
        return cls(**config)


def _check_number(value: object, field: str, low: float, high: float, allowed: str) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not np.isfinite(value)
        or not low < value <= high
    ):
        raise InputError(field, value, allowed)


@dataclass(frozen=True)
class XRDSignal:
    """Diffracted photons of the probed constituent per scan (xrd-transmission)."""

    technique: str
    probe: str
    energy_keV: float
    exposure_s: float
    reflection: str  # name, or "Rayleigh proxy"
    two_theta_deg: float
    signal_counts: float
    background_counts: float
    probe_mu_t: float  # μt of the probed layer at the beam energy
    snr_per_scan: float

    @property
    def counts(self) -> float:
        """Diffracted photons counted per scan."""
        return self.signal_counts

    __repr__ = compact_repr

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class XASTransmissionSignal:
    """Edge jump and its noise per energy point (xas-transmission)."""

    technique: str
    probe: str
    element: str
    edge: str
    edge_keV: float
    exposure_s: float  # per scan; each point gets exposure_s / points
    edge_jump_mu_t: float  # Δμt of the element in the probed layer
    total_mu_t: float  # whole stack just above the edge
    incident_counts: float  # per point, counted in I0
    transmitted_counts: float  # per point
    sigma_mu_t: float  # noise of μt per point
    snr_per_scan: float  # Δμt / σ(μt) per point

    @property
    def counts(self) -> float:
        """Photons transmitted and counted per point."""
        return self.transmitted_counts

    __repr__ = compact_repr

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class XASFluorescenceSignal:
    """Kα fluorescence counts per energy point reaching the detector (xas-fluorescence)."""  # noqa: RUF002 -- K-alpha line notation

    technique: str
    probe: str
    element: str
    energy_keV: float
    line_keV: float
    exposure_s: float
    fluorescence_counts: float  # per point
    self_absorption_factor: float  # [1 - exp(-χt)]/(χt): 1 for a thin layer
    exit_transmission: float  # through the layers upstream of the probe, at the line energy
    snr_per_scan: float

    @property
    def counts(self) -> float:
        """Fluorescence photons counted per point."""
        return self.fluorescence_counts

    __repr__ = compact_repr

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


Signal = XRDSignal | XASTransmissionSignal | XASFluorescenceSignal
"""What ``signal`` returns: the result of the technique's model."""


@dataclass(frozen=True)
class Reflection:
    """A Bragg reflection of a named crystal (``data/reflections.yaml``)."""

    name: str
    material: str
    hkl: tuple[int, int, int]
    multiplicity: int
    d_A: float
    cell_volume_A3: float
    atoms: tuple[tuple[int, float, tuple[float, float, float]], ...]  # (Z, occupancy, xyz)
    source: str

    __repr__ = compact_repr

    def structure_factor_sq(self, energy_keV: float) -> float:
        """|F_hkl|² (electrons²) at ``energy_keV``, from FF_Rayl(q = 1/2d) + Fi + i|Fii|."""
        q = 0.5 / self.d_A
        total = 0j
        for z, occupancy, xyz in self.atoms:
            f = (
                xraylib.FF_Rayl(z, q)
                + xraylib.Fi(z, energy_keV)
                + 1j * abs(xraylib.Fii(z, energy_keV))
            )
            total += occupancy * f * np.exp(2j * np.pi * float(np.dot(self.hkl, xyz)))
        return float(abs(total) ** 2)


def _xyz(values: list[float]) -> tuple[float, float, float]:
    """Fractional coordinates of an atom in the cell."""
    x, y, z = values
    return float(x), float(y), float(z)


@cache
def reflections() -> dict[str, Reflection]:
    """The named reflections, by lower-case name."""
    text = resources.files("beamdesign").joinpath("data/reflections.yaml").read_text("utf-8")
    out = {}
    for entry in yaml.safe_load(text):
        cell = entry["cell"]
        a, c = cell["a_A"], cell["c_A"]
        h, k, l = entry["hkl"]  # noqa: E741 -- Miller indices, as in the formula below
        # hexagonal metric: 1/d² = 4/3 (h² + hk + k²)/a² + l²/c²
        d = 1.0 / np.sqrt(4.0 / 3.0 * (h * h + h * k + k * k) / a**2 + l * l / c**2)
        atoms = tuple(
            (
                xraylib.SymbolToAtomicNumber(at["element"]),
                float(at["occupancy"]),
                _xyz(at["xyz"]),
            )
            for at in entry["atoms"]
        )
        out[entry["name"].lower()] = Reflection(
            entry["name"],
            entry["material"],
            (h, k, l),
            int(entry["multiplicity"]),
            float(d),
            float(np.sqrt(3.0) / 2.0 * a * a * c),
            atoms,
            " ".join(entry["source"].split()),
        )
    return out


def reflection(name: str, field: str = "reflection") -> Reflection:
    """A named reflection (case-insensitive)."""
    table = reflections()
    if not isinstance(name, str) or name.lower() not in table:
        names = [r.name for r in table.values()]
        raise InputError(
            field, name, "a named reflection: " + ", ".join(names), did_you_mean(str(name), names)
        )
    return table[name.lower()]


def _layer_mu_per_cm(layer: Layer, energy_keV: float) -> float:
    """Linear attenuation coefficient (1/cm) of a layer (xraylib CS_Total via the materials)."""
    return float(
        sum(
            c.volume_fraction
            * c.material.density_g_cm3
            * c.material.coefficients(np.array([energy_keV]))["total"][0]
            for c in layer.constituents
        )
    )


def _optical_depths(stack: Stack, energy_keV: float) -> np.ndarray:
    """μ_j t_j of every layer at normal incidence."""
    return np.array(
        [
            _layer_mu_per_cm(layer, energy_keV) * layer.thickness_um * UM_TO_CM
            for layer in stack.layers
        ]
    )


def path_factor_cm(mu_per_cm: float, thickness_cm: float, two_theta_rad: float = 0.0) -> float:
    """``g = ∫0^t exp(-μz) exp(-μ(t - z)/cos 2θ) dz`` (cm): flat plate, normal incidence.

    ``t exp(-μt)`` at 2θ = 0 (maximal at μt = 1); otherwise
    ``exp(-μt/c) (1 - exp(-μt(1 - 1/c))) / (μ(1 - 1/c))`` with ``c = cos 2θ``.
    """
    c = np.cos(two_theta_rad)
    a = mu_per_cm * (1.0 - 1.0 / c)  # <= 0
    if abs(a * thickness_cm) < 1e-12:
        return float(thickness_cm * np.exp(-mu_per_cm * thickness_cm))
    return float(np.exp(-mu_per_cm * thickness_cm / c) * np.expm1(-a * thickness_cm) / (-a))


def _probe(stack: Stack, probe: str) -> tuple[int, Layer, str]:
    layer_name, _, constituent = probe.partition("/")
    layer = stack.layer(layer_name, "probe")
    index = stack.layers.index(layer)
    return index, layer, constituent or layer.main_constituent.name


def _constituent(layer: Layer, name: str) -> Constituent:
    for c in layer.constituents:
        if c.name.lower() == name.lower():
            return c
    raise InputError(
        "probe",
        name,
        f"layer '{layer.name}' holds " + ", ".join(c.name for c in layer.constituents),
    )


def _mass_dcs(material: Material, energy_keV: float, theta_rad: float) -> float:
    """Compton + Rayleigh differential cross section (cm²/g/sr) at scattering angle ``theta``."""
    return float(
        sum(
            w
            * (
                xraylib.DCS_Compt(z, energy_keV, theta_rad)
                + xraylib.DCS_Rayl(z, energy_keV, theta_rad)
            )
            for z, w in material.mass_fractions
        )
    )


def _mass_cs(material: Material, energy_keV: float, kind: str) -> float:
    function = {"rayleigh": xraylib.CS_Rayl, "compton": xraylib.CS_Compt}[kind]
    return float(sum(w * function(z, energy_keV) for z, w in material.mass_fractions))


def xrd_transmission(
    stack: Stack,
    beam: Beam,
    probe: str,
    exposure_s: float,
    reflection_name: str | None = None,
    detector: Detector = Detector(),
) -> XRDSignal:
    """Diffracted and background photons per scan of ``exposure_s`` (module docstring).

    Parameters
    ----------
    stack, beam : the cell and the beam (its energy, flux and attenuators)
    probe : "<layer>/<constituent>", the crystalline constituent that diffracts
    exposure_s : beam-on time of one scan (s)
    reflection_name : a named reflection (``reflections()``), or None for the Rayleigh proxy
    detector : ring coverage, 2θ window and efficiency
    """
    _check_number(exposure_s, "exposure_s", 0.0, np.inf, "a scan exposure > 0 s")
    energy = float(check_energies(beam.energy_keV)[0])
    index, layer, name = _probe(stack, probe)
    crystal = _constituent(layer, name)
    depths = _optical_depths(stack, energy)
    incident = (
        beam.flux_ph_s
        * float(beam.attenuator_transmission(np.array([energy]))[0])
        * np.exp(-depths[:index].sum())
    )
    thickness_cm = np.array([lay.thickness_um for lay in stack.layers]) * UM_TO_CM
    mu = depths / thickness_cm
    wavelength_A = HC_KEV_A / energy
    if reflection_name is None:
        two_theta = 0.0
        label = "Rayleigh proxy"
        per_cm = (
            crystal.volume_fraction
            * crystal.material.density_g_cm3
            * _mass_cs(crystal.material, energy, "rayleigh")
        )
    else:
        hkl = reflection(reflection_name)
        if hkl.material.lower() != crystal.material.name.lower():
            raise InputError(
                "reflection",
                reflection_name,
                f"a reflection of the probed constituent '{crystal.material.name}'",
                "named reflections: "
                + ", ".join(
                    r.name
                    for r in reflections().values()
                    if r.material.lower() == crystal.material.name.lower()
                ),
            )
        sin_theta = wavelength_A / (2.0 * hkl.d_A)
        if sin_theta >= 1.0:
            raise InputError(
                "beam.energy_keV",
                energy,
                f"above {HC_KEV_A / (2 * hkl.d_A):.3g} keV for reflection {hkl.name} (λ < 2d)",
            )
        theta = np.arcsin(sin_theta)
        two_theta = 2.0 * theta
        polarisation = (1.0 + np.cos(two_theta) ** 2) / 2.0
        per_cm = (
            R0_CM**2
            * (wavelength_A * 1e-8) ** 3
            * hkl.multiplicity
            * hkl.structure_factor_sq(energy)
            * polarisation
            / (4.0 * (hkl.cell_volume_A3 * A3_TO_CM3) ** 2 * sin_theta)
        ) * crystal.volume_fraction
        label = hkl.name
    exit_down = np.exp(-depths[index + 1 :].sum() / np.cos(two_theta))
    scale = exposure_s * detector.efficiency * detector.ring_fraction
    signal = (
        incident
        * per_cm
        * path_factor_cm(mu[index], thickness_cm[index], two_theta)
        * exit_down
        * scale
    )

    # background of every layer j: incident N_j, path factor in j, exit through j+1..end
    incident_j = (
        beam.flux_ph_s
        * float(beam.attenuator_transmission(np.array([energy]))[0])
        * np.exp(-np.concatenate([[0.0], np.cumsum(depths)[:-1]]))
    )
    exit_j = np.exp(-(depths.sum() - np.cumsum(depths)) / np.cos(two_theta))
    background = 0.0
    for j, lay in enumerate(stack.layers):
        if reflection_name is None:
            per_cm_j = sum(
                c.volume_fraction
                * c.material.density_g_cm3
                * (
                    _mass_cs(c.material, energy, "compton")
                    + (
                        0.0
                        if (j == index and c is crystal)
                        else _mass_cs(c.material, energy, "rayleigh")
                    )
                )
                for c in lay.constituents
            )
        else:
            window_sr = 2 * np.pi * np.sin(two_theta) * np.radians(detector.window_deg)
            per_cm_j = (
                sum(
                    c.volume_fraction
                    * c.material.density_g_cm3
                    * _mass_dcs(c.material, energy, two_theta)
                    for c in lay.constituents
                )
                * window_sr
            )
        background += (
            incident_j[j] * per_cm_j * path_factor_cm(mu[j], thickness_cm[j], two_theta) * exit_j[j]
        )
    background *= scale
    snr = signal / np.sqrt(signal + 2.0 * background) if signal > 0 else 0.0
    return XRDSignal(
        "xrd-transmission",
        f"{layer.name}/{crystal.name}",
        energy,
        float(exposure_s),
        label,
        float(np.degrees(two_theta)),
        float(signal),
        float(background),
        float(depths[index]),
        float(snr),
    )


def _element(symbol: object, layer: Layer, field: str = "element") -> int:
    try:
        z = xraylib.SymbolToAtomicNumber(str(symbol))
    except ValueError:
        z = 0
    present = sorted(
        {zz for c in layer.constituents for zz, w in c.material.mass_fractions if w > 0}
    )
    if z not in present:
        names = [xraylib.AtomicNumberToSymbol(zz) for zz in present]
        raise InputError(
            field, symbol, f"an element of the probed layer '{layer.name}': " + ", ".join(names)
        )
    return int(z)


def _partial_density(layer: Layer, z: int) -> float:
    """Mass of element ``z`` per volume of the layer (g/cm³)."""
    return sum(
        c.volume_fraction * c.material.density_g_cm3 * dict(c.material.mass_fractions).get(z, 0.0)
        for c in layer.constituents
    )


def _edge_keV(z: int, edge: str) -> float:
    if edge not in EDGES:
        raise InputError("edge", edge, "one of " + ", ".join(EDGES))
    energy = xraylib.EdgeEnergy(z, EDGES[edge])
    if not 1.0 + EDGE_OFFSET_KEV <= energy <= 200.0 - EDGE_OFFSET_KEV:
        raise InputError(
            "element",
            xraylib.AtomicNumberToSymbol(z),
            f"an element whose {edge} edge lies in 1–200 keV (this one: {energy:.3g} keV)",
        )
    return float(energy)


def xas_transmission(
    stack: Stack,
    beam: Beam,
    probe: str,
    exposure_s: float,
    element: str,
    edge: str = "K",
    detector: Detector = Detector(),
) -> XASTransmissionSignal:
    """Edge jump of ``element`` in the probed layer and the noise of μt per point.

    The beam's flux and attenuators are used at the edge (the plan's energy is the dose
    energy; an energy scan's dose belongs to the schedule). See the module docstring.
    """
    _check_number(exposure_s, "exposure_s", 0.0, np.inf, "a scan exposure > 0 s")
    _, layer, _ = _probe(stack, probe)
    z = _element(element, layer)
    e0 = _edge_keV(z, edge)
    below, above = e0 - EDGE_OFFSET_KEV, e0 + EDGE_OFFSET_KEV
    rho_z = _partial_density(layer, z)
    thickness_cm = layer.thickness_um * UM_TO_CM
    jump = rho_z * thickness_cm * (xraylib.CS_Photo(z, above) - xraylib.CS_Photo(z, below))
    total = float(_optical_depths(stack, above).sum())
    dwell = exposure_s / detector.points
    n0 = beam.flux_ph_s * float(beam.attenuator_transmission(np.array([above]))[0]) * dwell
    counted0 = n0 * detector.i0_fraction
    n1 = n0 * (1.0 - detector.i0_fraction) * np.exp(-total) * detector.efficiency
    sigma = float(np.sqrt(1.0 / n1 + 1.0 / counted0))
    return XASTransmissionSignal(
        "xas-transmission",
        f"{layer.name}",
        xraylib.AtomicNumberToSymbol(z),
        edge,
        e0,
        float(exposure_s),
        float(jump),
        total,
        float(counted0),
        float(n1),
        sigma,
        float(jump / sigma),
    )


def xas_fluorescence(
    stack: Stack,
    beam: Beam,
    probe: str,
    exposure_s: float,
    element: str,
    detector: Detector = Detector(),
    angle_deg: float = 45.0,
) -> XASFluorescenceSignal:
    """Kα counts per point of ``element`` in the probed layer reaching the detector.

    The beam's energy must lie above the element's K edge (fluorescence needs a K vacancy).
    ``angle_deg``: incidence and exit angle from the layer normal (45°/45°, detector at 90°
    to the beam on the beam side).
    """  # noqa: RUF002 -- K-alpha line notation
    _check_number(exposure_s, "exposure_s", 0.0, np.inf, "a scan exposure > 0 s")
    energy = float(check_energies(beam.energy_keV)[0])
    index, layer, _ = _probe(stack, probe)
    z = _element(element, layer)
    e0 = _edge_keV(z, "K")
    if energy <= e0:
        raise InputError(
            "beam.energy_keV",
            energy,
            f"above the {xraylib.AtomicNumberToSymbol(z)} "
            f"K edge ({e0:.4g} keV) for Kα fluorescence",  # noqa: RUF001 -- K-alpha line notation
        )
    cos_a = np.cos(np.radians(angle_deg))
    rates = [xraylib.CS_FluorLine_Kissel_Cascade(z, line, energy) for line in _KALPHA]
    sigma_f = float(sum(rates))  # cm²/g of the element
    line_keV = float(
        sum(r * xraylib.LineEnergy(z, line) for r, line in zip(rates, _KALPHA, strict=True))
        / sigma_f
    )
    depths_in = _optical_depths(stack, energy) / cos_a
    depths_out = _optical_depths(stack, line_keV) / cos_a
    dwell = exposure_s / detector.points
    incident = (
        beam.flux_ph_s
        * float(beam.attenuator_transmission(np.array([energy]))[0])
        * np.exp(-depths_in[:index].sum())
        * dwell
    )
    chi_t = depths_in[index] + depths_out[index]  # χ t
    thickness_cm = layer.thickness_um * UM_TO_CM
    self_absorption = float(-np.expm1(-chi_t) / chi_t)
    exit_transmission = float(np.exp(-depths_out[:index].sum()))
    counts = (
        incident
        * detector.efficiency
        * detector.solid_angle_sr
        / (4 * np.pi)
        * sigma_f
        * _partial_density(layer, z)
        * thickness_cm
        / cos_a
        * self_absorption
        * exit_transmission
    )
    return XASFluorescenceSignal(
        "xas-fluorescence",
        layer.name,
        xraylib.AtomicNumberToSymbol(z),
        energy,
        line_keV,
        float(exposure_s),
        float(counts),
        self_absorption,
        exit_transmission,
        float(np.sqrt(counts)),
    )


def signal(
    technique: str,
    stack: Stack,
    beam: Beam,
    probe: str,
    exposure_s: float,
    options: dict[str, Any] | None = None,
    detector: Detector = Detector(),
    field: str = "signal",
) -> Signal:
    """Dispatch to the model of ``technique`` (one of ``TECHNIQUES``).

    ``options``: ``{reflection}`` for xrd-transmission; ``{element, edge}`` for
    xas-transmission; ``{element}`` for xas-fluorescence. ``field`` names the options in error
    sentences (``design.signal`` for a plan's design section).
    """
    try:
        return _dispatch(technique, stack, beam, probe, exposure_s, options, detector, field)
    except InputError as error:
        raise _under(field, error) from None


def _under(field: str, error: InputError) -> InputError:
    """``error`` with an option's field (``element``, ``edge``, ``reflection``) named under
    ``field``; any other error unchanged."""
    if error.field not in OPTION_FIELDS:
        return error
    return InputError(f"{field}.{error.field}", error.value, error.allowed, error.hint)


#: The options each technique takes.
TECHNIQUE_OPTIONS = {
    "xrd-transmission": ("reflection",),
    "xas-transmission": ("element", "edge"),
    "xas-fluorescence": ("element",),
}


def _check_options(technique: str, options: dict[str, Any], field: str) -> None:
    if technique not in TECHNIQUE_OPTIONS:
        raise InputError(
            "technique",
            technique,
            "one of " + ", ".join(TECHNIQUES),
            did_you_mean(str(technique), TECHNIQUES),
        )
    allowed = TECHNIQUE_OPTIONS[technique]
    for key in options:
        if key not in allowed:
            raise InputError(
                f"{field}.{key}", options[key], f"{technique} takes " + ", ".join(allowed)
            )
    if technique == "xrd-transmission":
        if options.get("reflection") is not None:
            reflection(options["reflection"])  # a named reflection (its material: at run time)
        return
    if "element" not in options:
        raise InputError(
            f"{field}.element", None, f"{technique} needs the element whose edge is measured"
        )
    symbol = options["element"]
    try:
        z = xraylib.SymbolToAtomicNumber(str(symbol))
    except ValueError:
        z = 0
    if not 0 < z <= MAX_Z:
        raise InputError("element", symbol, "an element symbol (H to Cf) such as Ni, Co or Mn")
    _edge_keV(z, options.get("edge", "K"))


def check_options(technique: str, options: dict[str, Any] | None, field: str = "signal") -> None:
    """What can be checked of a technique's options without a plan: the technique, its option
    keys, a named reflection, an element symbol whose edge lies in 1–200 keV, the edge's name.
    Whether the probe holds the element or the reflection's crystal, and whether the energy
    suits the edge, is checked when the signal is computed (``signal``)."""
    try:
        _check_options(technique, dict(options or {}), field)
    except InputError as error:
        raise _under(field, error) from None


def _dispatch(
    technique: str,
    stack: Stack,
    beam: Beam,
    probe: str,
    exposure_s: float,
    options: dict[str, Any] | None,
    detector: Detector,
    field: str,
) -> Signal:
    options = dict(options or {})
    _check_options(technique, options, field)
    if technique == "xrd-transmission":
        return xrd_transmission(stack, beam, probe, exposure_s, options.get("reflection"), detector)
    if technique == "xas-transmission":
        return xas_transmission(
            stack, beam, probe, exposure_s, options["element"], options.get("edge", "K"), detector
        )
    return xas_fluorescence(stack, beam, probe, exposure_s, options["element"], detector)


def plan_signal(
    plan: Plan,
    technique: str,
    options: dict[str, Any] | None = None,
    detector: Detector = Detector(),
    field: str = "signal",
) -> Signal:
    """The signal of a plan's probe per scan at its *shortest* exposure (the weakest data).

    ``plan``: a ``beamdesign.plan.Plan``; its ``probe`` names the measured layer (a plan
    without one raises: the measured layer is not guessed). ``field``: see ``signal``.
    For an XAS technique on a plan whose schedule makes an energy scan, a scan's points are
    the scan's own (each point gets its ``dwell_s``), whatever ``detector.points`` says.
    """
    if plan.probe is None:
        raise InputError("probe", None, "a signal needs the plan's probe (the measured layer)")
    layer_name, _, constituent = plan.probe.partition("/")
    layer = plan.stack.layer(layer_name.strip(), "probe")
    probe = f"{layer.name}/{constituent.strip() or layer.main_constituent.name}"
    exposure_s = float(np.min(plan.schedule.exposure_s))
    scan = plan.schedule.energy_scan
    if scan is not None and technique != "xrd-transmission":
        detector = replace(detector, points=scan.points)
    return signal(technique, plan.stack, plan.beam, probe, exposure_s, options, detector, field)


#: Per technique: (model, source, formula) as outputs state them (module docstring).
MODELS = {
    "xrd-transmission": (
        "kinematic powder diffraction of one reflection (the Rayleigh cross section as a proxy "
        "when none is named), attenuation in and out, background of every layer in the peak's "
        "window; SNR = S / sqrt(S + 2B)",
        "Warren, X-Ray Diffraction (1969); Als-Nielsen & McMorrow, Elements of Modern X-ray "
        "Physics, 2nd ed. (2011); Knoll, Radiation Detection and Measurement, 4th ed. (2010)",
        "N_hkl = N_p t_s r0^2 lambda^3 m |F_hkl|^2 P / (4 V_c^2 sin theta) v g T_out eps f_ring",
    ),
    "xas-transmission": (
        "edge jump of the element in the probed layer, photons transmitted through the stack, "
        "counting noise of mu t = ln(I0/I1) per energy point",
        "Bunker, Introduction to XAFS (2010)",
        "SNR = d(mu t) / sqrt(1/N_1 + 1/(i0_fraction N_0))",
    ),
    "xas-fluorescence": (
        "K-alpha fluorescence counts of the element reaching a detector at 90 degrees, with "
        "self-absorption in the probed layer and absorption in the layers it crosses",
        "Bunker, Introduction to XAFS (2010); Troger et al., Phys. Rev. B 46, 3283 (1992)",
        "N_f = N_p t_s eps Omega/(4 pi) sigma_f rho_Z [1 - exp(-chi t)] / (chi cos a) T_exit; "
        "SNR = sqrt(N_f)",
    ),
}


def signal_block(plan: Plan) -> dict[str, Any] | None:
    """The ``signal`` block that outputs show next to the dose, for a plan with a design section
    (None without one): technique, snr_per_scan and counts at the plan's shortest exposure,
    the SNR floor and whether it is met, model, source, formula, and the model's full output.
    """
    if plan.design is None:
        return None
    quality, floor = plan.design.quality, plan.design.min_snr_per_scan
    measured = plan_signal(
        plan, quality.technique, dict(quality.options), quality.detector, "design.signal"
    )
    model, source, formula = MODELS[quality.technique]
    return {
        "technique": quality.technique,
        "snr_per_scan": measured.snr_per_scan,
        "counts": measured.counts,
        "exposure_s": measured.exposure_s,
        "snr_floor": floor,
        "meets_floor": bool(measured.snr_per_scan >= floor),
        "model": model,
        "source": source,
        "formula": formula,
        "details": measured.to_dict(),
    }


def signal_sentence(block: dict[str, Any]) -> str:
    """One line for tables and reports: technique, SNR per scan, counts, the floor's verdict."""
    details = block["details"]
    what = details.get("reflection") or " ".join(
        str(details[key]) for key in ("element", "edge") if key in details
    )
    per = "scan" if block["technique"] == "xrd-transmission" else "energy point"
    return (
        f"{block['technique']} ({what}): SNR per scan {block['snr_per_scan']:.3g} at the "
        f"shortest exposure, {block['exposure_s']:g} s ({block['counts']:.3g} counts per {per}); "
        f"floor {block['snr_floor']:g}: {'met' if block['meets_floor'] else 'NOT met'}"
    )
