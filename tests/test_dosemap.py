from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beamdesign.dosemap import (
    FWHM_PER_SIGMA,
    beam_on_time,
    dose_map,
    gaussian_profile,
    tophat_profile,
)
from beamdesign.errors import InputError
from beamdesign.schedule import Exposures, Schedule

TWO = {
    "locations": [
        {"name": "A", "x_um": 0, "y_um": 0, "exposure_s": 2},
        {"name": "B", "x_um": 1000, "y_um": 0, "exposure_s": 3},
    ],
    "move_s": 5,
    "pause_s": 10,
}  # intervals A [0, 2], B [7, 10], A [25, 27], B [32, 35], ...


def raster(nx: int, ny: int, step_um: float) -> Schedule:
    return Schedule.from_config(
        {
            "raster": {"pattern": "snake", "nx": nx, "ny": ny, "step_um": step_um},
            "exposure_s": 2,
            "move_s": 1,
        }
    )


def test_profiles():
    tophat = tophat_profile(100, 50)
    # closed edges: |dx| <= w/2 and |dy| <= h/2 are inside (touching spots share their edge)
    np.testing.assert_array_equal(
        tophat(
            np.array([0, -50, 49.999, 50, 0, 0, 50.001]),
            np.array([0, -25, 24.999, 0, 25, -25.001, 0]),
        ),
        [1, 1, 1, 1, 1, 0, 0],
    )
    gauss = gaussian_profile(100, 50)
    np.testing.assert_allclose(gauss(np.array([0, 50, 0]), np.array([0, 0, 25])), [1, 0.5, 0.5])
    with pytest.raises(InputError, match=r"fwhm_y_um = 0: must be a finite number > 0 \(µm\)"):
        gaussian_profile(100, 0)
    with pytest.raises(InputError, match=r"w_um = -1: must be a finite number > 0"):
        tophat_profile(-1, 5)


def test_beam_on_time_exact_values_any_time_order():
    exposures = Schedule.from_config(TWO).exposures(end_s=60)
    times = np.array([40, -1, 0, 1, 2, 8, 10, 26, 33])
    expected = np.array(
        [
            [4, 0, 0, 1, 2, 2, 2, 3, 4],
            [6, 0, 0, 0, 0, 1, 3, 3, 4],
        ]
    )
    np.testing.assert_allclose(beam_on_time(exposures, 2, times), expected)


def test_beam_on_time_errors():
    exposures = Schedule.from_config(TWO).exposures(end_s=60)
    with pytest.raises(
        InputError, match=r"n_locations = 1: must be a whole number >= 1 that exceeds"
    ):
        beam_on_time(exposures, 1, np.array([1.0]))
    with pytest.raises(
        InputError, match=r"times_s = 'an array of shape \(1, 1\)': must be a 1-D array"
    ):
        beam_on_time(exposures, 2, np.array([[1.0]]))


@settings(max_examples=60, deadline=None)
@given(
    exposure_s=st.lists(st.floats(0.1, 50), min_size=1, max_size=6),
    move_s=st.floats(0, 20),
    pause_s=st.floats(0, 100),
    end_s=st.floats(1, 3000),
    times=st.lists(st.floats(-100, 3000), max_size=30),
)
def test_beam_on_time_at_end_equals_durations(exposure_s, move_s, pause_s, end_s, times):
    schedule = Schedule.from_config(
        {
            "locations": [
                {"x_um": i, "y_um": 0, "exposure_s": e} for i, e in enumerate(exposure_s)
            ],
            "move_s": move_s,
            "pause_s": pause_s,
        }
    )
    ex = schedule.exposures(end_s=end_s)
    n = len(exposure_s)
    at_end = beam_on_time(ex, n, np.array([end_s]))[:, 0]
    np.testing.assert_allclose(
        at_end, np.bincount(ex.location_index, ex.duration_s, minlength=n), rtol=1e-12, atol=1e-9
    )
    # against the direct sum over exposures of clip(t - start, 0, duration)
    t = np.array(times)
    direct = np.zeros((n, t.size))
    np.add.at(
        direct,
        ex.location_index,
        np.clip(t[None, :] - ex.start_s[:, None], 0, ex.duration_s[:, None]),
    )
    np.testing.assert_allclose(beam_on_time(ex, n, t), direct, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("method", ["exact", "fft"])
def test_single_tophat_peak_equals_exposure_seconds(method):
    m = dose_map(
        np.array([[100.0, 200.0]]), np.array([7.5]), tophat_profile(50, 30), 5.0, method=method
    )
    assert m.peak_value == pytest.approx(7.5, rel=1e-12)
    assert m.method == method
    lit = m.values > 0.5
    assert lit.sum() == 11 * 7  # pixel centres in [-25, 25] x [-15, 15] (closed edges), 5 µm grid
    assert m.x_um[0] <= 100 - 25 and m.y_um[0] <= 200 - 15  # the map covers the whole footprint
    assert m.x_um[-1] >= 100 + 25 - 5 and m.y_um[-1] >= 200 + 15 - 5


@pytest.mark.parametrize("method", ["exact", "fft"])
def test_gaussian_map_integral_is_seconds_times_beam_area(method):
    schedule = raster(3, 2, 40)
    seconds = np.full(6, 2.0)
    m = dose_map(schedule.xy_um, seconds, gaussian_profile(30, 20), 2.0, method=method)
    area_um2 = 2 * math.pi * (30 / FWHM_PER_SIGMA) * (20 / FWHM_PER_SIGMA)
    # the default margin keeps all but ~1e-3 of the tails; 2 µm pixels resolve a 20 µm FWHM
    assert m.values.sum() * 2.0**2 == pytest.approx(6 * 2.0 * area_um2, rel=0.01)


def test_exact_and_fft_agree():
    xy = np.array([[0, 0], [30, 0], [60, 10]], dtype=float)  # on the 5 µm grid
    seconds = np.array([1.0, 2.0, 3.0])
    for profile in (tophat_profile(40, 20), gaussian_profile(25, 15)):
        exact = dose_map(xy, seconds, profile, 5.0, method="exact")
        fft = dose_map(xy, seconds, profile, 5.0, method="fft")
        np.testing.assert_allclose(fft.values, exact.values, atol=1e-9)
        np.testing.assert_allclose(fft.x_um, exact.x_um)
    # off-grid points: bilinear deposition errs by ~ (pixel / sigma)^2 / 8 of the peak,
    # (1 / (15 / 2.355))^2 / 8 ~ 0.3 % here
    off = xy + np.array([[0.4, 0.3], [0.7, 0.1], [0.2, 0.9]])  # shifted element-wise
    g = gaussian_profile(25, 15)
    exact = dose_map(off, seconds, g, 1.0, method="exact")
    fft = dose_map(off, seconds, g, 1.0, method="fft")
    np.testing.assert_allclose(fft.values, exact.values, atol=0.005 * exact.peak_value)
    assert np.abs(fft.values - exact.values).max() > 1e-6  # the deposition is not exact off-grid


def test_dose_map_peak_location_and_guards():
    m = dose_map(
        np.array([[0.0, 0.0], [100.0, 0.0]]),
        np.array([1.0, 4.0]),
        gaussian_profile(20, 20),
        1.0,
        margin_um=0,
    )
    assert m.peak_xy_um == (100.0, 0.0) and m.values.shape == (2, 101)
    with pytest.raises(
        InputError,
        match=r"resolution_um = 0.01: the map would have .* pixels, at most 4000000; "
        r"use a coarser resolution_um or a smaller margin_um",
    ):
        dose_map(np.array([[0.0, 0.0], [1000.0, 1000.0]]), np.ones(2), tophat_profile(10, 10), 0.01)
    with pytest.raises(InputError, match=r"resolution_um = 0: must be a finite number > 0"):
        dose_map(np.zeros((1, 2)), np.ones(1), tophat_profile(10, 10), 0)
    with pytest.raises(
        InputError, match=r"beam_seconds_per_location = 'an array of shape \(2,\)': must hold one"
    ):
        dose_map(np.zeros((1, 2)), np.ones(2), tophat_profile(10, 10), 1)
    with pytest.raises(InputError, match=r"margin_um = -5: must be a finite number >= 0"):
        dose_map(np.zeros((1, 2)), np.ones(1), tophat_profile(10, 10), 1, margin_um=-5)
    with pytest.raises(InputError, match=r"method = 'fast': must be 'auto', 'exact' or 'fft'"):
        dose_map(np.zeros((1, 2)), np.ones(1), tophat_profile(10, 10), 1, method="fast")


def test_empty_exposures_give_zero_dose():
    ex = Exposures(np.array([], dtype=int), np.array([]), np.array([]))
    np.testing.assert_array_equal(beam_on_time(ex, 3, np.array([0.0, 5.0])), np.zeros((3, 2)))
