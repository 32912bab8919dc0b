"""Beam profiles, beam-on time and the 2-D dose map.

A beam *profile* is a vectorised callable ``relative_fluence(dx_um, dy_um) -> ndarray`` that
broadcasts its arguments and gives 1.0 at the beam centre. Everything here is in units of the
peak fluence: "peak-fluence-seconds" (s) are the seconds at the beam centre that would give
the same dose. Multiply by a peak dose rate (Gy/s) to get a dose (Gy).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Real
from typing import cast

import numpy as np

from beamdesign.errors import InputError
from beamdesign.frozen import freeze_arrays
from beamdesign.reprs import compact_repr
from beamdesign.schedule import Exposures

Profile = Callable[[np.ndarray, np.ndarray], np.ndarray]

#: Most pixels of a dose map.
MAX_MAP_PIXELS = 4_000_000
#: "auto" evaluates the profile exactly when points × pixels stays below this.
EXACT_MAP_LIMIT = 5_000_000
#: Default map margin: where the profile falls below this fraction of its peak.
MARGIN_LEVEL = 1e-3
#: FFT kernel reach: the profile is treated as 0 below this fraction of its peak.
KERNEL_LEVEL = 1e-9

FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))
#: Gaussian tails below this fraction of the peak are 0.
PROFILE_FLOOR = 1e-12
#: Relative tolerance of a closed top-hat edge (floating-point round-off of positions).
EDGE_TOLERANCE = 1e-9


def _positive(value: object, field: str) -> float:
    number = cast(float, value)  # mypy's numeric tower has no float <: Real
    if (
        isinstance(value, bool)
        or not isinstance(value, Real)
        or not (math.isfinite(number) and number > 0)
    ):
        raise InputError(field, value, "must be a finite number > 0 (µm)")
    return float(value)


def tophat_profile(w_um: float, h_um: float) -> Profile:
    """Uniform beam of ``w_um × h_um`` (µm): 1 on ``|dx| <= w/2`` and ``|dy| <= h/2``.

    The edges are closed (a point on an edge is inside, within ``EDGE_TOLERANCE`` of round-off):
    where two spots touch, the shared edge counts for both, so a location's hottest point, and
    every dose derived from it, is continuous as footprints begin to overlap.
    """
    half_w = _positive(w_um, "w_um") / 2 * (1 + EDGE_TOLERANCE)
    half_h = _positive(h_um, "h_um") / 2 * (1 + EDGE_TOLERANCE)

    def relative_fluence(dx_um: np.ndarray, dy_um: np.ndarray) -> np.ndarray:
        inside: np.ndarray = (np.abs(dx_um) <= half_w) & (np.abs(dy_um) <= half_h)
        return inside.astype(float)

    return relative_fluence


def gaussian_profile(fwhm_x_um: float, fwhm_y_um: float) -> Profile:
    """Gaussian beam with the given full widths at half maximum (µm), 1 at the centre.

    Tails below ``PROFILE_FLOOR`` of the peak are 0 (a scan's dose there is negligible).
    """
    sx = _positive(fwhm_x_um, "fwhm_x_um") / FWHM_PER_SIGMA
    sy = _positive(fwhm_y_um, "fwhm_y_um") / FWHM_PER_SIGMA

    def relative_fluence(dx_um: np.ndarray, dy_um: np.ndarray) -> np.ndarray:
        value = np.exp(-0.5 * ((np.asarray(dx_um) / sx) ** 2 + (np.asarray(dy_um) / sy) ** 2))
        return np.where(value >= PROFILE_FLOOR, value, 0.0)

    return relative_fluence


def _xy(xy_um: object) -> np.ndarray:
    xy = np.asarray(xy_um, dtype=float)
    if xy.ndim != 2 or xy.shape[1] != 2 or not np.all(np.isfinite(xy)):
        raise InputError(
            "xy_um",
            f"an array of shape {xy.shape}",
            "must be finite positions of shape (n_locations, 2) in µm",
        )
    return xy


def _times(times_s: object) -> np.ndarray:
    times = np.asarray(times_s, dtype=float)
    if times.ndim != 1 or not np.all(np.isfinite(times)):
        raise InputError(
            "times_s", f"an array of shape {times.shape}", "must be a 1-D array of finite times (s)"
        )
    return times


def beam_on_time(exposures: Exposures, n_locations: int, times_s: np.ndarray) -> np.ndarray:
    """Cumulative beam-on time of each location at each requested time.

    Completed exposures are summed exactly (a per-location cumulative sum over the times at
    which they end); at most one exposure is under way at any time and adds ``t - start``.

    Parameters
    ----------
    exposures : Exposures
        Beam-on intervals (time-ordered, non-overlapping).
    n_locations : int
        Number of locations (rows of the result).
    times_s : array, shape (n_times,)
        Times since the protocol started, s, in any order.

    Returns
    -------
    numpy.ndarray, shape (n_locations, n_times)
        Beam-on seconds with the beam centred on each location by each time, s.
    """
    times = _times(times_s)
    index = exposures.location_index
    if (
        isinstance(n_locations, bool)
        or not isinstance(n_locations, (int, np.integer))
        or (n_locations < 1 or (index.size and index.max() >= n_locations))
    ):
        raise InputError(
            "n_locations",
            n_locations,
            "must be a whole number >= 1 that exceeds every exposure's location_index",
        )
    order = np.argsort(times, kind="stable")
    sorted_t = times[order]
    n_t = times.size
    # completed exposures: deposit each duration at the first time >= its end, then cumsum
    first = np.searchsorted(sorted_t, exposures.end_s, side="left")
    done = np.bincount(
        index * (n_t + 1) + first, weights=exposures.duration_s, minlength=n_locations * (n_t + 1)
    ).reshape(n_locations, n_t + 1)
    result_sorted = np.cumsum(done, axis=1, dtype=float)[:, :n_t]
    # the one exposure (if any) under way at each time
    current = np.searchsorted(exposures.start_s, sorted_t, side="right") - 1
    valid = current >= 0
    j = current[valid]
    running = sorted_t[valid] < exposures.end_s[j]
    columns = np.flatnonzero(valid)[running]
    j = j[running]
    result_sorted[index[j], columns] += sorted_t[columns] - exposures.start_s[j]
    result = np.empty_like(result_sorted)
    result[:, order] = result_sorted
    return result


@dataclass(frozen=True, eq=False)
class DoseMap:
    """Final relative dose over the measured area.

    Attributes
    ----------
    x_um, y_um : numpy.ndarray
        Pixel centres along x (nx,) and y (ny,), µm.
    values : numpy.ndarray, shape (ny, nx)
        Peak-fluence-seconds, s (multiply by a peak dose rate in Gy/s to get Gy).
    peak_value : float
        Largest value, s.
    peak_xy_um : tuple of float
        Where it is, µm.
    resolution_um : float
        Pixel pitch, µm.
    method : str
        ``"exact"`` or ``"fft"`` (see :func:`dose_map`).
    """

    x_um: np.ndarray
    y_um: np.ndarray
    values: np.ndarray
    peak_value: float
    peak_xy_um: tuple[float, float]
    resolution_um: float
    method: str

    __repr__ = compact_repr

    def __post_init__(self) -> None:
        freeze_arrays(self, "x_um", "y_um", "values")


def _reach_um(
    profile: Profile, level: float, step_um: float, limit_um: float
) -> tuple[float, float]:
    """Distance along x and along y, on a ``step_um`` grid, where the profile falls below
    ``level``."""
    reach = []
    for axis in (0, 1):

        def along(r: np.ndarray, axis: int = axis) -> np.ndarray:  # this iteration's axis
            zero = np.zeros_like(r)
            return np.asarray(profile(r, zero) if axis == 0 else profile(zero, r), dtype=float)

        r_hi = step_um
        while r_hi < limit_um and along(np.array([r_hi]))[0] >= level:  # doubling: ~log2 steps
            r_hi *= 2
        r = np.arange(0.0, min(r_hi, limit_um) + step_um / 2, step_um)
        below = np.flatnonzero(along(r) < level)
        reach.append(float(r[below[0]]) if below.size else float(r[-1]))
    return reach[0], reach[1]


def dose_map(
    xy_um: np.ndarray,
    beam_seconds_per_location: np.ndarray,
    profile: Profile,
    resolution_um: float,
    margin_um: float | None = None,
    method: str = "auto",
) -> DoseMap:
    """The 2-D map of ``sum_p s_p * profile(x - x_p, y - y_p)`` on a regular grid.

    Parameters
    ----------
    xy_um : array, shape (n, 2)
        Location centres, µm.
    beam_seconds_per_location : array, shape (n,)
        Total beam-on time with the beam centred on each location, s.
    profile : callable
        Beam profile ``relative_fluence(dx_um, dy_um)``.
    resolution_um : float
        Pixel pitch, µm. The grid is aligned so that the leftmost/lowest location sits on a
        pixel centre (a raster whose step is a multiple of it lands exactly on pixels).
    margin_um : float, optional
        Map extent beyond the outermost locations, µm. Default: where the profile falls below
        1e-3 of its peak along x and along y (the larger of the two).
    method : {"auto", "exact", "fft"}
        ``"exact"`` evaluates the profile at every pixel for every location (vectorised, in
        chunks). ``"fft"`` deposits the beam seconds bilinearly onto the grid (exact for
        locations on pixel centres) and convolves with the sampled profile by FFT, treating the
        profile as zero below 1e-9 of its peak. ``"auto"`` is exact when locations × pixels
        <= 5e6, FFT otherwise.

    Returns
    -------
    DoseMap
        Values in peak-fluence-seconds, s.
    """
    xy = _xy(xy_um)
    seconds = np.asarray(beam_seconds_per_location, dtype=float)
    if seconds.shape != (xy.shape[0],) or not np.all(np.isfinite(seconds) & (seconds >= 0)):
        raise InputError(
            "beam_seconds_per_location",
            f"an array of shape {seconds.shape}",
            f"must hold one time >= 0 s per location, shape ({xy.shape[0]},)",
        )
    res = _positive(resolution_um, "resolution_um")
    if method not in ("auto", "exact", "fft"):
        raise InputError("method", method, "must be 'auto', 'exact' or 'fft'")
    if margin_um is None:
        margin_um = max(_reach_um(profile, MARGIN_LEVEL, res, limit_um=2048 * res))
    elif (
        isinstance(margin_um, bool)
        or not isinstance(margin_um, (int, float, Real))  # int, float: mypy has no float <: Real
        or not (math.isfinite(margin_um) and margin_um >= 0)
    ):
        raise InputError("margin_um", margin_um, "must be a finite number >= 0 (µm)")

    pad = math.ceil(margin_um / res - 1e-9)
    lo = xy.min(axis=0) - pad * res
    nx, ny = (np.ceil(np.ptp(xy, axis=0) / res - 1e-9).astype(int) + 2 * pad + 1).tolist()
    nx, ny = max(nx, 2), max(ny, 2)
    if nx * ny > MAX_MAP_PIXELS:
        raise InputError(
            "resolution_um",
            res,
            f"the map would have {nx} x {ny} = {nx * ny} pixels, at most {MAX_MAP_PIXELS}",
            "use a coarser resolution_um or a smaller margin_um",
        )
    x_um = lo[0] + res * np.arange(nx)
    y_um = lo[1] + res * np.arange(ny)

    if method == "auto":
        method = "exact" if xy.shape[0] * nx * ny <= EXACT_MAP_LIMIT else "fft"
    if method == "exact":
        values = _exact_map(xy, seconds, profile, x_um, y_um)
    else:
        values = _fft_map(xy, seconds, profile, lo, res, nx, ny)
    iy, ix = np.unravel_index(int(np.argmax(values)), values.shape)
    return DoseMap(
        x_um=x_um,
        y_um=y_um,
        values=values,
        peak_value=float(values[iy, ix]),
        peak_xy_um=(float(x_um[ix]), float(y_um[iy])),
        resolution_um=res,
        method=method,
    )


def _exact_map(
    xy: np.ndarray, seconds: np.ndarray, profile: Profile, x_um: np.ndarray, y_um: np.ndarray
) -> np.ndarray:
    values = np.zeros((y_um.size, x_um.size))
    lit = seconds > 0
    xy, seconds = xy[lit], seconds[lit]
    chunk = max(1, EXACT_MAP_LIMIT // values.size)
    for i in range(0, seconds.size, chunk):  # chunks of locations bound the memory
        p = slice(i, i + chunk)
        f = profile(
            x_um[None, None, :] - xy[p, 0, None, None], y_um[None, :, None] - xy[p, 1, None, None]
        )
        values += np.tensordot(seconds[p], f, axes=1)
    return values


def _fft_map(
    xy: np.ndarray,
    seconds: np.ndarray,
    profile: Profile,
    lo: np.ndarray,
    res: float,
    nx: int,
    ny: int,
) -> np.ndarray:
    # bilinear deposition of the beam seconds onto the pixel grid
    f = (xy - lo) / res
    f = np.where(np.abs(f - np.rint(f)) < 1e-9, np.rint(f), f)  # on-grid points stay on their pixel
    i0 = np.minimum(np.floor(f).astype(int), [nx - 2, ny - 2])
    w = f - i0
    grid: np.ndarray = np.zeros(ny * nx)
    for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1)):
        weight = (w[:, 0] if dx else 1 - w[:, 0]) * (w[:, 1] if dy else 1 - w[:, 1])
        grid += np.bincount(
            (i0[:, 1] + dy) * nx + i0[:, 0] + dx, weights=seconds * weight, minlength=ny * nx
        )
    grid = grid.reshape(ny, nx)
    # kernel sampled on pixel offsets, as far as the profile reaches (at most across the map)
    reach_x, reach_y = _reach_um(profile, KERNEL_LEVEL, res, limit_um=res * max(nx, ny))
    kx = min(nx - 1, math.ceil(reach_x / res - 1e-9))
    ky = min(ny - 1, math.ceil(reach_y / res - 1e-9))
    kernel = np.asarray(
        profile(res * np.arange(-kx, kx + 1)[None, :], res * np.arange(-ky, ky + 1)[:, None]),
        dtype=float,
    )
    shape = (ny + 2 * ky, nx + 2 * kx)
    full = np.fft.irfft2(np.fft.rfft2(grid, shape) * np.fft.rfft2(kernel, shape), shape)
    return np.maximum(full[ky : ky + ny, kx : kx + nx], 0.0)  # clip FFT round-off below zero
