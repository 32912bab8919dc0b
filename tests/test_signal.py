"""Signal models checked against limits derivable by hand and one published figure."""

from __future__ import annotations

import numpy as np
import pytest
import xraylib
from hypothesis import given, settings
from hypothesis import strategies as st

from beamdesign.beam import Beam
from beamdesign.errors import InputError
from beamdesign.plan import load_plan
from beamdesign.signal import (
    EDGE_OFFSET_KEV,
    Detector,
    path_factor_cm,
    reflection,
    signal,
    xas_fluorescence,
    xas_transmission,
    xrd_transmission,
)
from beamdesign.stack import stack_from_config


def _slab(material: str, thickness_um: float, extra: list | None = None):
    layers = [{"name": "foil", "material": material, "thickness_um": thickness_um}]
    return stack_from_config({"name": "slab", "layers": layers + (extra or [])})


BEAM = Beam(energy_keV=27.0, flux_ph_s=1e10, spot_um=(100.0, 100.0))


def test_single_slab_diffraction_peaks_at_mu_t_one():
    """Diffracted intensity ∝ t exp(-μt) (2θ → 0, constant cross section): maximal at μt = 1."""
    mu_per_cm = (
        _slab("Cu", 10).layers[0].constituents[0].material.coefficients(27.0)["total"][0] * 8.96
    )
    thickness_um = np.linspace(0.2, 3.0, 141) / mu_per_cm * 1e4  # μt from 0.2 to 3 in steps of 0.02
    counts = [
        xrd_transmission(_slab("Cu", t), BEAM, "foil/Cu", 1.0).signal_counts for t in thickness_um
    ]
    best_mu_t = thickness_um[int(np.argmax(counts))] * 1e-4 * mu_per_cm
    assert best_mu_t == pytest.approx(1.0, abs=0.02)  # the grid step


@settings(max_examples=30, deadline=None)
@given(st.floats(0.01, 5.0), st.floats(0.0, 0.5))
def test_path_factor_matches_quadrature(mu_t, two_theta_rad):
    t = 0.01  # cm
    mu = mu_t / t
    z = np.linspace(0.0, t, 20001)
    integrand = np.exp(-mu * z) * np.exp(-mu * (t - z) / np.cos(two_theta_rad))
    quadrature = np.trapezoid(integrand, z)
    # trapezoid error on 20000 intervals is < 1e-7 relative for these smooth integrands
    assert path_factor_cm(mu, t, two_theta_rad) == pytest.approx(quadrature, rel=1e-6)


def test_bragg_intensity_scales_as_lambda_squared_at_small_angle():
    """Integrated ring ∝ λ³/sin θ = 2 d λ²: from 40 to 80 keV a thin, weakly absorbing graphite
    layer loses 4×, corrected for the form factor's anomalous part, polarisation and
    attenuation (each < 1 % here) by dividing them out."""
    stack = _slab("graphite", 1.0)
    hkl = reflection("graphite-002")
    ratio = []
    for energy in (40.0, 80.0):
        s = xrd_transmission(
            stack, BEAM.replace(energy_keV=energy), "foil/graphite", 1.0, "graphite-002"
        )
        p = (1 + np.cos(np.radians(s.two_theta_deg)) ** 2) / 2
        ratio.append(
            s.signal_counts / (hkl.structure_factor_sq(energy) * p * np.exp(-s.probe_mu_t))
        )
    assert ratio[0] / ratio[1] == pytest.approx(4.0, rel=1e-3)  # cos 2θ path correction < 1e-4


def test_graphite_002_structure_factor_is_four_carbon_form_factors():
    """C at z = 1/4, 3/4 (×2 sites): F(002) = -4 f_C, |F|² = 16 |f_C|² (Trucano & Chen 1975)."""
    hkl = reflection("graphite-002")
    f = xraylib.FF_Rayl(6, 0.5 / hkl.d_A) + xraylib.Fi(6, 30.0) + 1j * abs(xraylib.Fii(6, 30.0))
    assert hkl.d_A == pytest.approx(3.3555, rel=1e-4)
    assert hkl.structure_factor_sq(30.0) == pytest.approx(16 * abs(f) ** 2, rel=1e-9)


def test_copper_foil_edge_jump_from_tabulated_coefficients():
    """10 µm Cu (8.96 g/cm³): Δμt = ρ t [τ(E0+10 eV) - τ(E0-10 eV)] from xraylib's tables ≈ 2.15."""
    stack = _slab("Cu", 10.0)
    s = xas_transmission(stack, BEAM, "foil", 1.0, "Cu")
    e0 = xraylib.EdgeEnergy(29, xraylib.K_SHELL)
    by_hand = (
        8.96
        * 10e-4
        * (xraylib.CS_Photo(29, e0 + EDGE_OFFSET_KEV) - xraylib.CS_Photo(29, e0 - EDGE_OFFSET_KEV))
    )
    assert s.edge_keV == pytest.approx(8.979, abs=1e-3)
    assert s.edge_jump_mu_t == pytest.approx(by_hand, rel=1e-6)
    assert 2.0 < s.edge_jump_mu_t < 2.3  # jump ratio ~7.5 of Cu K: ~0.24 of ρt(μ above)


def test_transmission_xas_noise_is_counting_statistics():
    stack = _slab("Cu", 5.0)
    s = xas_transmission(
        stack, BEAM, "foil", 2.0, "Cu", detector=Detector(i0_fraction=0.2, points=4)
    )
    n0 = 1e10 * 0.5
    n1 = n0 * 0.8 * np.exp(-s.total_mu_t)
    assert s.sigma_mu_t == pytest.approx(np.sqrt(1 / n1 + 1 / (0.2 * n0)), rel=1e-12)
    assert s.snr_per_scan == pytest.approx(s.edge_jump_mu_t / s.sigma_mu_t, rel=1e-12)


def _optimal_total_mu_t(i0_fraction: float) -> float:
    e0 = xraylib.EdgeEnergy(29, xraylib.K_SHELL)
    mu_above = 8.96 * xraylib.CS_Total(29, e0 + EDGE_OFFSET_KEV)  # 1/cm
    thickness_um = np.linspace(0.5, 5.0, 451) / mu_above * 1e4  # total μt in steps of 0.01
    detector = Detector(i0_fraction=i0_fraction)
    snr = [
        xas_transmission(_slab("Cu", t), BEAM, "foil", 1.0, "Cu", detector=detector).snr_per_scan
        for t in thickness_um
    ]
    return float(thickness_um[int(np.argmax(snr))] * 1e-4 * mu_above)


def test_transmission_xas_optimum_thickness_by_hand():
    """SNR ∝ u / sqrt(e^u/(1-f) + 1/f) for a pure foil, u = μt: optimum u = 2(1 + (1-f)/f e^-u)."""
    for f in (0.5, 0.1):
        root = 2.0
        for _ in range(100):
            root = 2.0 * (1.0 + (1.0 - f) / f * np.exp(-root))
        assert _optimal_total_mu_t(f) == pytest.approx(root, abs=0.01)


def test_transmission_xas_optimum_matches_published_value():
    """Published: optimal total thickness μt ≈ 2.6 for transmission XAFS limited by counting
    statistics (Bunker, Introduction to XAFS, CUP 2010). Our model, with the I0 chamber's counting
    noise, gives it for an I0 chamber absorbing 20 % of the beam (u = 2(1 + 4 e^-u) = 2.59)."""
    assert _optimal_total_mu_t(0.2) == pytest.approx(2.6, abs=0.02)


def test_fluorescence_thin_and_thick_limits():
    """Thin layer: no self-absorption, counts ∝ t. Thick layer: counts → 1/χ, independent of t."""
    beam = BEAM.replace(energy_keV=9.5)
    thin = [xas_fluorescence(_slab("Cu", t), beam, "foil", 1.0, "Cu") for t in (0.001, 0.002)]
    assert thin[0].self_absorption_factor == pytest.approx(1.0, abs=1e-3)
    assert thin[1].fluorescence_counts / thin[0].fluorescence_counts == pytest.approx(2.0, rel=2e-3)
    thick = [
        xas_fluorescence(_slab("Cu", t), beam, "foil", 1.0, "Cu").fluorescence_counts
        for t in (200, 400)
    ]
    assert thick[1] == pytest.approx(thick[0], rel=1e-9)  # exp(-χt) < 1e-40 at 200 µm
    assert thin[0].snr_per_scan == pytest.approx(np.sqrt(thin[0].fluorescence_counts))


def test_fluorescence_crosses_upstream_layers():
    beam = BEAM.replace(energy_keV=9.5)
    window = {"name": "window", "material": "Al", "thickness_um": 20}
    bare = xas_fluorescence(_slab("Cu", 1.0), beam, "foil", 1.0, "Cu")
    stack = stack_from_config(
        {"name": "w", "layers": [window, {"name": "foil", "material": "Cu", "thickness_um": 1.0}]}
    )
    covered = xas_fluorescence(stack, beam, "foil", 1.0, "Cu")
    mu_in = 2.699 * xraylib.CS_Total(13, 9.5) * 20e-4 / np.cos(np.pi / 4)
    mu_out = 2.699 * xraylib.CS_Total(13, covered.line_keV) * 20e-4 / np.cos(np.pi / 4)
    assert covered.exit_transmission == pytest.approx(
        np.exp(-mu_out), rel=1e-3
    )  # Al density 2.699 vs library
    assert covered.fluorescence_counts / bare.fluorescence_counts == pytest.approx(
        np.exp(-mu_in - mu_out), rel=2e-3
    )


def test_pcc_60_keV_gives_fewer_counts_than_27_keV_at_equal_flux():
    plan = load_plan("jousseaume2023-exp2-pcc")
    low = xrd_transmission(plan.stack, plan.beam, "NMC811 cathode/NMC811", 2.5, "NMC811-003")
    high = xrd_transmission(
        plan.stack, plan.beam.replace(energy_keV=60.0), "NMC811 cathode/NMC811", 2.5, "NMC811-003"
    )
    assert high.signal_counts < low.signal_counts
    assert 2.0 < low.two_theta_deg / high.two_theta_deg < 2.5  # sin θ ∝ 1/E: 60/27 = 2.22


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda s: signal("saxs", s, BEAM, "foil", 1.0),
            r"technique = 'saxs': one of xrd-transmission",
        ),
        (
            lambda s: signal("xas-transmission", s, BEAM, "foil", 1.0),
            r"signal.element = None: xas-transmission needs",
        ),
        (
            lambda s: signal("xas-transmission", s, BEAM, "foil", 1.0, {"element": "Ni"}),
            r"element = 'Ni': an element of the probed layer 'foil': Cu",
        ),
        (
            lambda s: signal("xrd-transmission", s, BEAM, "foil", 1.0, {"element": "Cu"}),
            r"signal.element = 'Cu': xrd-transmission takes reflection",
        ),
        (
            lambda s: signal(
                "xrd-transmission", s, BEAM, "foil/Cu", 1.0, {"reflection": "graphite-002"}
            ),
            r"reflection = 'graphite-002': a reflection of the probed constituent 'Cu'",
        ),
        (
            lambda s: signal(
                "xrd-transmission", s, BEAM, "foil/Cu", 1.0, {"reflection": "NMC-003"}
            ),
            r"reflection = 'NMC-003': a named reflection",
        ),
        (
            lambda s: xas_fluorescence(s, BEAM.replace(energy_keV=8.0), "foil", 1.0, "Cu"),
            r"beam.energy_keV = 8: above the Cu K edge",
        ),
        (
            lambda s: xas_transmission(s, BEAM, "foil", 1.0, "Cu", edge="M5"),
            r"edge = 'M5': one of K, L1",
        ),
        (
            lambda s: xrd_transmission(s, BEAM, "foil/Cu", -1.0),
            r"exposure_s = -1: a scan exposure > 0 s",
        ),
        (
            lambda s: Detector.from_config({"efficency": 0.5}),
            r"detector.efficency = 0.5: not a known key.*efficiency",
        ),
        (
            lambda s: Detector(efficiency=True),
            r"detector.efficiency = true: a fraction in \(0, 1\]",
        ),
        (lambda s: Detector(points=0), r"detector.points = 0: a whole number"),
    ],
)
def test_bad_input_is_one_sentence(call, message):
    with pytest.raises(InputError, match=message):
        call(_slab("Cu", 10.0))


def test_light_element_edge_out_of_range():
    stack = _slab("graphite", 10.0)
    with pytest.raises(
        InputError, match=r"element = 'C': an element whose K edge lies in 1–200 keV"
    ):
        xas_transmission(stack, BEAM, "foil", 1.0, "C")
