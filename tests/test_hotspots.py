"""Hottest points of footprints: exact for top-hats, checked by brute force for Gaussians;
neighbour lists equal a dense search; doses and averaged rates continuous in the geometry."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beamdesign.beam import Beam
from beamdesign.experiment import run_plan
from beamdesign.hotspots import _search, hotspots, neighbours
from beamdesign.plan import load_plan


def beam(profile: str, w: float, h: float) -> Beam:
    return Beam(energy_keV=27, flux_ph_s=1e10, spot_um=(w, h), profile=profile)


def test_tophat_line_by_hand():
    """Spots 100 µm wide at x = 0, 40, 80 with 1, 2 and 4 s: every point of [30, 50] is under
    all three spots (closed edges), so each location's hottest point gets 1 + 2 + 4 = 7 s;
    at the centres the old model gave 3, 7 and 6 s."""
    xy = np.array([[0.0, 0.0], [40.0, 0.0], [80.0, 0.0]])
    spots = hotspots(xy, np.array([1.0, 2.0, 4.0]), beam("tophat", 100, 100))
    np.testing.assert_allclose(spots.fluence_s, [7.0, 7.0, 7.0])
    assert np.all((spots.xy_um[:, 0] >= 30 - 1e-9) & (spots.xy_um[:, 0] <= 50 + 1e-9))


def test_tophat_grid_by_hand():
    """2 × 2 spots 100 µm square on a 80 µm grid plus a far spot: the central square
    [30, 50]² is under all four (1 + 2 + 3 + 4 = 10 s); the far spot keeps its own 5 s."""
    xy = np.array([[0.0, 0.0], [80.0, 0.0], [0.0, 80.0], [80.0, 80.0], [1000.0, 0.0]])
    spots = hotspots(xy, np.array([1.0, 2.0, 3.0, 4.0, 5.0]), beam("tophat", 100, 100))
    np.testing.assert_allclose(spots.fluence_s, [10.0, 10.0, 10.0, 10.0, 5.0])
    # overlaps in x only (step 80 in x, 200 in y): strips under two spots
    xy = np.array([[0.0, 0.0], [80.0, 0.0], [0.0, 200.0]])
    spots = hotspots(xy, np.array([1.0, 2.0, 3.0]), beam("tophat", 100, 100))
    np.testing.assert_allclose(spots.fluence_s, [3.0, 3.0, 3.0])


def test_touching_tophats_share_their_edge_and_the_limit_is_continuous():
    """Closed edges: at step = spot the shared edge is under both spots, as it is for any
    smaller step; the dose is the limit from the overlapping side."""
    b = beam("tophat", 100, 50)
    for step in (100.0, 100.0 - 1e-3, 60.0):
        xy = np.array([[0.0, 0.0], [step, 0.0]])
        np.testing.assert_allclose(hotspots(xy, np.array([1.0, 1.0]), b).fluence_s, [2.0, 2.0])
    xy = np.array([[0.0, 0.0], [100.0 + 1e-3, 0.0]])
    np.testing.assert_allclose(hotspots(xy, np.array([1.0, 1.0]), b).fluence_s, [1.0, 1.0])


def brute_force_max(xy, seconds, b, q, n=161):
    """Field maximum over a dense grid of location q's footprint (top-hat or FWHM ellipse)."""
    w, h = b.spot_um
    u = np.linspace(-0.5, 0.5, n)
    gx, gy = np.meshgrid(u * w, u * h)
    if b.profile == "gaussian":
        inside = (gx / (w / 2)) ** 2 + (gy / (h / 2)) ** 2 <= 1
        gx, gy = gx[inside], gy[inside]
    px, py = xy[q, 0] + gx.ravel(), xy[q, 1] + gy.ravel()
    profile = b.relative_fluence()
    field = sum(s * profile(px - x, py - y) for (x, y), s in zip(xy, seconds, strict=True))
    return float(np.max(field))


positions = st.lists(st.tuples(st.floats(0, 300), st.floats(0, 300)), min_size=1, max_size=6)


@settings(max_examples=40, deadline=None)
@given(
    positions,
    st.lists(st.floats(0.1, 10), min_size=6, max_size=6),
    st.sampled_from(["tophat", "gaussian"]),
)
def test_hot_points_match_a_dense_brute_force_search(points, durations, profile):
    """The hot point lies in the footprint, its value is the field there, and no point of a
    dense grid over the footprint is higher (top-hat: exactly, the grid holding the edges;
    Gaussian: within 0.2 %, the mean-shift climb's tolerance)."""
    xy = np.array(points, dtype=float)
    seconds = np.array(durations[: len(points)])
    b = beam(profile, 100, 70)
    spots = hotspots(xy, seconds, b)
    profile_at = b.relative_fluence()
    for q in range(len(points)):
        dx, dy = spots.xy_um[q] - xy[q]
        if profile == "tophat":
            assert abs(dx) <= 50 * (1 + 1e-9) and abs(dy) <= 35 * (1 + 1e-9)
        else:
            assert (dx / 50) ** 2 + (dy / 35) ** 2 <= 1 + 1e-9
        d = spots.xy_um[q] - xy
        assert spots.fluence_s[q] == pytest.approx(
            float(profile_at(d[:, 0], d[:, 1]) @ seconds), rel=1e-12
        )
        grid = brute_force_max(xy, seconds, b, q)
        tolerance = 1e-12 if profile == "tophat" else 2e-3
        assert spots.fluence_s[q] >= grid * (1 - tolerance)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-500, 500), st.floats(-500, 500)), min_size=1, max_size=40),
    st.floats(1, 300),
    st.floats(1, 300),
)
def test_neighbour_lists_equal_a_dense_search(points, reach_x, reach_y):
    xy = np.array(points, dtype=float)
    q, p = neighbours(xy, reach_x, reach_y)
    d = np.abs(xy[:, None, :] - xy[None, :, :])
    dense = np.argwhere((d[..., 0] <= reach_x * (1 + 1e-9)) & (d[..., 1] <= reach_y * (1 + 1e-9)))
    found = np.stack([q, p], axis=1)
    np.testing.assert_array_equal(found, dense)  # both sorted by q, then p


def two_spot_plan(distance_um: float):
    plan = load_plan("default")
    schedule = {
        "locations": [
            {"name": "A", "x_um": 0.0, "y_um": 0.0},
            {"name": "B", "x_um": distance_um, "y_um": 0.0},
        ],
        "exposure_s": 10,
        "move_s": 2,
        "loop": "until-end",
    }
    beam_config = {**plan.config["beam"], "spot_um": [100, 100], "profile": "gaussian"}
    return plan.replace(schedule=schedule, beam=beam_config)


@settings(max_examples=25, deadline=None)
@given(st.floats(20, 600))
def test_doses_and_averaged_rates_are_continuous_in_the_geometry(distance_um):
    """Moving one Gaussian spot (FWHM 100 µm) by 1 µm changes no dose or averaged rate by more
    than the profile's own slope allows (< 1.5 %: the overlap term falls by d/(4 sigma²), about
    1.1 %/µm for two spots 80 µm apart), and 100× less for a 0.01 µm move: continuous, no jump
    (the first version jumped 300× between 273 and 274 µm)."""
    a = run_plan(two_spot_plan(distance_um))
    for move, tolerance in ((1.0, 0.015), (0.01, 0.00015)):
        b = run_plan(two_spot_plan(distance_um + move))
        for la, lb in zip(a.locations, b.locations, strict=True):
            assert lb.averaged_dose_rate_Gy_per_s == pytest.approx(
                la.averaged_dose_rate_Gy_per_s, rel=tolerance
            )
            assert lb.dose_Gy[b.probe] == pytest.approx(la.dose_Gy[a.probe], rel=tolerance)


def test_the_reported_jump_is_gone():
    a, b = run_plan(two_spot_plan(273.0)), run_plan(two_spot_plan(274.0))
    ratio = b.locations[0].averaged_dose_rate_Gy_per_s / a.locations[0].averaged_dose_rate_Gy_per_s
    assert ratio == pytest.approx(1.0, abs=1e-3)


def test_tophat_raster_reports_its_true_hottest_point_and_advice_respects_it():
    """A top-hat raster whose footprints overlap: the hottest point of each location is in an
    overlap, and its dose equals a dense search over the final map."""
    plan = load_plan("jousseaume2023-exp1-pca")
    assert plan.beam.profile == "tophat"
    result = run_plan(plan)
    xy = plan.schedule.xy_um
    for q in range(0, len(result.locations), 5):
        grid = brute_force_max(xy, result.beam_on_s, plan.beam, q, n=201)
        assert result.fluence_s[q] == pytest.approx(grid, rel=1e-12)
    centre = result.beam_on_s  # the dose at the beam centre, without neighbours
    assert np.all(result.fluence_s >= centre)


def test_a_search_is_reused_for_another_energy_or_flux_and_only_then():
    """The search depends on the locations, their times, the spot and its profile: another
    energy or flux reuses it (the same object); any of the four changed gives a new search,
    equal to one made from scratch."""
    xy = np.array([[0.0, 0.0], [60.0, 0.0], [0.0, 60.0]])
    seconds = np.array([1.0, 2.0, 3.0])
    first = hotspots(xy, seconds, beam("gaussian", 100, 80))
    again = hotspots(xy.tolist(), seconds.tolist(), Beam(60, 1e12, (100, 80), "gaussian"))
    assert again is first
    assert not first.fluence_s.flags.writeable  # shared results are read-only
    for changed in (
        hotspots(xy + np.array([0.0, 1.0]), seconds, beam("gaussian", 100, 80)),
        hotspots(xy, seconds * 2, beam("gaussian", 100, 80)),
        hotspots(xy, seconds, beam("gaussian", 100, 81)),
        hotspots(xy, seconds, beam("tophat", 100, 80)),
    ):
        assert changed is not first
    _search.cache_clear()
    fresh = hotspots(xy, seconds, beam("gaussian", 100, 80))
    assert fresh is not first
    for name in ("xy_um", "fluence_s", "q", "p", "weight"):
        np.testing.assert_array_equal(getattr(fresh, name), getattr(first, name))
