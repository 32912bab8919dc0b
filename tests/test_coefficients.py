"""Coefficients against independent references (NIST SRD 126, xraylib's CS_Energy and compound
sums) and at and near every absorption edge of the materials library."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import xraylib
from hypothesis import given, settings
from hypothesis import strategies as st

from beamdesign.coefficients import (
    ENERGY_MAX_keV,
    ENERGY_MIN_keV,
    check_energies,
    element_coefficients,
    mixture_coefficients,
)
from beamdesign.errors import InputError
from beamdesign.materials import library

NIST_CSV = Path(__file__).parent / "data" / "nist_mu_en.csv"
# Measured worst deviations of the rebuilt mu_en from NIST: Al +0.24 %, C +0.09 %, water +0.05 %
# (10-80 keV); the light-element bound is NIST's own quoted uncertainty scale for mu_en (~1 %)
# halved. Cu is -2.35 % at 10 keV, 1 keV above its K edge, where the Kissel partials
# (fluorescence share) and NIST's older model differ most; 2.5 % bounds it.
MU_EN_TOLERANCE = {"Al": 0.005, "C": 0.005, "H2O": 0.005, "Cu": 0.025}
MU_TOLERANCE = 0.002  # mu/rho is xraylib's CS_Total: within 0.07 % of NIST over 10-80 keV
KEYS = ("total", "photo", "energy")
LIBRARY_ZS = sorted({z for material in library() for z, _ in material.mass_fractions})
HEAVY_EXTRA_ZS = [53, 74, 82]  # I, W, Pb: not in the library, but the cascade matters most there
EDGE_SHELLS = {
    name: getattr(xraylib, f"{name}_SHELL")
    for name in ("K", "L1", "L2", "L3", "M1", "M2", "M3", "M4", "M5")
}


def _edge_keV(z: int, shell: int) -> float:
    """xraylib's EdgeEnergy, 0 where the element has no such shell."""
    try:
        return xraylib.EdgeEnergy(z, shell)
    except ValueError:
        return 0.0


def _edges(shells: tuple[str, ...]) -> list[tuple[int, str, float]]:
    """(Z, shell, edge keV) of the library's elements and I, W, Pb with the edge in 1-200 keV."""
    return [
        (z, shell, _edge_keV(z, EDGE_SHELLS[shell]))
        for z in LIBRARY_ZS + HEAVY_EXTRA_ZS
        for shell in shells
        if ENERGY_MIN_keV <= _edge_keV(z, EDGE_SHELLS[shell]) <= ENERGY_MAX_keV / 1.01
    ]


KL_EDGES = _edges(("K", "L1", "L2", "L3"))
# M edges (La, I, W, Pb above 1 keV) rise over tens of eV (delayed maximum of the 3d cross
# section, in CS_Photo and Kissel alike: W M5 +37 eV is 1.26x its value at +1 %), so the spike
# criterion is for K and L edges; M edges are checked for sign, continuity and side.
M_EDGES = _edges(("M1", "M2", "M3", "M4", "M5"))
SPIKE_LIMIT = 1.25  # no value just above an edge may exceed 1.25 x its value 1 % above the edge


def _nist_rows() -> list[dict[str, str]]:
    with open(NIST_CSV) as f:
        lines = [line for line in f if not line.startswith("#")]
    return list(csv.DictReader(lines))


def _fractions(formula: str) -> dict[int, float]:
    parsed = xraylib.CompoundParser(formula)
    return dict(zip(parsed["Elements"], parsed["massFractions"], strict=True))


def _assert_no_negative_and_no_spike(z: int, edge_keV: float, energies_keV: np.ndarray) -> None:
    """Energies at or above ``edge_keV``: every coefficient > 0,
    mu_en <= 1.25 x mu_en(1.01 edge)."""
    c = element_coefficients(z, np.append(energies_keV, 1.01 * edge_keV))  # one call: faster
    for key in KEYS:
        assert np.all(c[key] > 0), (z, edge_keV, key, energies_keV[np.argmin(c[key])], c[key].min())
    worst = np.argmax(c["energy"][:-1])
    assert c["energy"][worst] <= SPIKE_LIMIT * c["energy"][-1], (z, edge_keV, energies_keV[worst])


def test_library_has_edges_to_test():
    assert {42, 57, 29, 28} <= set(LIBRARY_ZS)
    assert {shell for _, shell, _ in KL_EDGES + M_EDGES} == set(EDGE_SHELLS)
    assert len(KL_EDGES) >= 40 and {57, 74, 82} <= {z for z, _, _ in M_EDGES}


def test_10000_random_points_above_edges():
    """10,000 random (element, K or L edge, offset), offsets log-uniform from 0.01 eV to 1 %."""
    rng = np.random.default_rng(20231)
    pick = rng.integers(len(KL_EDGES), size=10_000)
    edges = np.array([edge for _, _, edge in KL_EDGES])[pick]
    offsets_keV = 1e-5 * (0.01 * edges / 1e-5) ** rng.uniform(size=10_000)  # 0.01 eV .. 1 %
    for index in np.unique(pick):
        z, _, edge = KL_EDGES[index]
        _assert_no_negative_and_no_spike(z, edge, edge + offsets_keV[pick == index])


@pytest.mark.parametrize(
    "z, shell, edge", KL_EDGES + M_EDGES, ids=[f"Z{z}-{s}" for z, s, _ in KL_EDGES + M_EDGES]
)
def test_fine_grid_across_edge(z, shell, edge):
    """±2 % around the edge in 0.001 % steps, plus 1 meV..2 % from it on a log scale."""
    near = np.geomspace(1e-6, 0.02 * edge, 60)
    above = np.unique(np.concatenate([edge * (1 + np.linspace(0, 0.02, 2001)), edge + near]))
    below = np.unique(np.concatenate([edge * (1 - np.linspace(0.02, 1e-5, 2000)), edge - near]))
    if shell[0] in "KL":
        _assert_no_negative_and_no_spike(z, edge, above)
    c_below = element_coefficients(z, below)
    c_above = element_coefficients(z, above)
    for c in (c_below, c_above):
        assert all(np.all(c[key] > 0) for key in KEYS)
        assert np.all(c["energy"] <= c["total"])
        # continuous on each side: a step of <= 0.001 % in energy changes a smooth coefficient by
        # <= 0.003 %; the largest measured is 0.05 % (mu_en of La in the rise of Kissel's partials
        # just above its K edge); an edge interpolated across or misplaced would move it >= 5 %
        for key in KEYS:
            assert np.max(np.abs(np.diff(np.log(c[key])))) < 0.005, (key, shell)
    # an absorption edge raises tau and mu/rho, and E == edge is on the upper side
    assert c_above["photo"][0] > c_below["photo"][-1]
    assert c_above["total"][0] > c_below["total"][-1]
    at_edge = element_coefficients(z, np.array([edge]))
    for key in KEYS:
        assert at_edge[key][0] == pytest.approx(c_above[key][1], rel=1e-3), key


def test_mo_k_edge_at_exactly_20_keV():
    """A Mo-containing cathode at 20.000 keV (Mo K edge 19.9995 keV) gets a positive mu_en."""
    c = element_coefficients(42, np.array([19.9995, 20.0, 20.2]))
    assert np.all(c["energy"] > 0)
    assert c["energy"][1] == pytest.approx(c["energy"][2], rel=0.02)  # smooth just above the edge


# CS_Energy is NIST's mu_en table interpolated log-log on NIST's own energy grid; between an edge
# and the next tabulated energies it is off by several per cent (Mo at 24.4 keV: 3.4 %; Sn at
# 35 keV: 6 %). "Away from edges" therefore means: at NIST's tabulation energies in 15-100 keV,
# more than 1 % from any absorption edge of the element. Measured worst deviation: 1.7 % (Au).
NIST_GRID_keV = (15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 80.0, 100.0)
HEAVY_ZS = (30, 40, 42, 47, 50, 53, 56, 57, 64, 74, 79, 82, 83)


@pytest.mark.parametrize("z", HEAVY_ZS)
def test_heavy_elements_agree_with_cs_energy(z):
    edges = [_edge_keV(z, m) for m in EDGE_SHELLS.values()]  # K, L and M
    energies = np.array(
        [e for e in NIST_GRID_keV if all(abs(e / edge - 1) > 0.01 for edge in edges)]
    )
    mu_en = element_coefficients(z, energies)["energy"]
    reference = np.array([xraylib.CS_Energy(z, e) for e in energies])
    assert energies.size >= 6
    np.testing.assert_allclose(mu_en, reference, rtol=0.02)


def test_against_nist():
    rows = _nist_rows()
    assert len(rows) == 28
    for row in rows:
        energy = np.array([float(row["energy_keV"])])
        c = mixture_coefficients(_fractions(row["material"]), energy)
        mu_en = float(row["mu_en_rho_cm2_g"])
        mu = float(row["mu_rho_cm2_g"])
        assert c["energy"][0] == pytest.approx(mu_en, rel=MU_EN_TOLERANCE[row["material"]]), row
        assert c["total"][0] == pytest.approx(mu, rel=MU_TOLERANCE), row


def test_total_and_photo_equal_xraylib_compound_functions():
    energies = np.array([8.0, 27.0, 60.0])
    c = mixture_coefficients(_fractions("LiNi0.8Mn0.1Co0.1O2"), energies)
    for i, e in enumerate(energies):
        assert c["total"][i] == pytest.approx(
            xraylib.CS_Total_CP("LiNi0.8Mn0.1Co0.1O2", e), rel=1e-9
        )
        assert c["photo"][i] == pytest.approx(
            xraylib.CS_Photo_CP("LiNi0.8Mn0.1Co0.1O2", e), rel=1e-9
        )


def test_convention_ratios_at_27_keV():
    """NMC811 mu/rho 8.16 (CS_Total_CP), mu_en ~7.0; graphite mu/mu_en ~3.2; water ~2.1 (NIST)."""
    e = np.array([27.0])
    nmc = mixture_coefficients(_fractions("LiNi0.8Mn0.1Co0.1O2"), e)
    assert nmc["total"][0] == pytest.approx(8.16, rel=0.01)
    assert nmc["energy"][0] == pytest.approx(7.0, rel=0.03)
    carbon = element_coefficients(6, e)
    assert carbon["total"][0] / carbon["energy"][0] == pytest.approx(3.2, rel=0.05)
    water = mixture_coefficients(_fractions("H2O"), e)
    assert water["total"][0] / water["energy"][0] == pytest.approx(2.1, rel=0.05)


def test_ni_k_edge_is_not_interpolated_across():
    """Just above Ni's K edge (8.333 keV) mu_en jumps by the K-edge ratio (~7x)."""
    below, above = element_coefficients(28, np.array([8.30, 8.36]))["energy"]
    assert above / below > 5.0


def test_energy_absorption_never_exceeds_total():
    energies = np.geomspace(1, 200, 300)
    for z in LIBRARY_ZS:
        c = element_coefficients(z, energies)
        assert np.all(c["energy"] <= c["total"]), z
        assert np.all(c["energy"] > 0), z


@settings(max_examples=60, deadline=None)
@given(
    z=st.sampled_from(LIBRARY_ZS + list(HEAVY_ZS)),
    energies=st.lists(st.floats(ENERGY_MIN_keV, ENERGY_MAX_keV), min_size=1, max_size=5),
)
def test_coefficients_are_ordered_and_independent_of_batching(z, energies):
    e = np.array(energies)
    c = element_coefficients(z, e)
    assert np.all(c["photo"] > 0) and np.all(c["energy"] > 0)
    assert np.all(c["photo"] < c["total"]) and np.all(c["energy"] < c["total"])
    for i, energy in enumerate(energies):
        single = element_coefficients(z, np.array([energy]))
        for key in KEYS:
            assert single[key][0] == c[key][i]


@settings(max_examples=60, deadline=None)
@given(edge=st.sampled_from(KL_EDGES), offset_eV=st.floats(0.0, 50.0))
def test_edge_is_on_the_upper_side_from_its_energy(edge, offset_eV):
    z, _, edge_keV = edge
    energies = np.array([edge_keV + offset_eV * 1e-3])
    _assert_no_negative_and_no_spike(z, edge_keV, energies)


@settings(max_examples=60, deadline=None)
@given(
    w=st.floats(0.0, 1.0),
    energy=st.floats(ENERGY_MIN_keV, ENERGY_MAX_keV),
    pair=st.tuples(st.sampled_from(LIBRARY_ZS), st.sampled_from(LIBRARY_ZS)),
)
def test_mixture_is_mass_weighted(w, energy, pair):
    e = np.array([energy])
    a, b = (element_coefficients(z, e) for z in pair)
    if pair[0] == pair[1]:
        mixed = mixture_coefficients({pair[0]: 1.0}, e)
        w = 1.0
    else:
        mixed = mixture_coefficients({pair[0]: w, pair[1]: 1.0 - w}, e)
    for key in KEYS:
        assert mixed[key][0] == pytest.approx(w * a[key][0] + (1 - w) * b[key][0], rel=1e-12)


@pytest.mark.parametrize("bad", [0.5, 250, float("nan"), -3])
def test_energy_out_of_range(bad):
    with pytest.raises(InputError, match=r"beam.energy_keV = .*between 1 and 200 keV"):
        check_energies(bad)
