"""The hottest point of every location's footprint, and the sparse weights that light it.

A location's dose is the dose at the hottest point of its footprint (the top-hat rectangle, or
the FWHM ellipse of a Gaussian), not at the beam centre: where footprints overlap in a raster,
the overlap strips receive the dose of every spot that covers them.

- **top-hat** (closed edges: a point on an edge is inside): the fluence field is piecewise
  constant and, with closed edges, never lower on an edge than on either side of it, so its
  maximum over the footprint is found exactly on the grid of the edges of the overlapping
  spots (``x_p ± w/2``, ``y_p ± h/2``) that fall inside the footprint. Rasters finer than a
  quarter of the spot give more edges than ``MAX_EDGES_PER_AXIS``; the grid is then thinned
  evenly (the field there is a near-uniform plateau; the error is below one neighbour's share).
- **Gaussian**: the field is smooth; it is sampled at 25 points of the FWHM ellipse (centre,
  rings at half and full semi-axes), then climbed from the best sample by mean-shift steps
  (clipped to the ellipse). Checked against a dense brute-force grid in the tests.

Neighbours are found by hashing locations into cells of the beam's reach, so time and memory
grow linearly with the number of locations. A Gaussian's tails are followed down to
``PROFILE_FLOOR`` of the peak (3.7 FWHM): a neighbour farther away changes a dose by less than
1e-12 of a scan's peak dose.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from beamdesign.beam import Beam
from beamdesign.dosemap import EDGE_TOLERANCE, FWHM_PER_SIGMA, PROFILE_FLOOR
from beamdesign.frozen import freeze_arrays
from beamdesign.reprs import compact_repr

#: Most edge positions per axis searched inside one top-hat footprint.
MAX_EDGES_PER_AXIS = 17
#: Pairs evaluated per chunk (bounds the memory of the Gaussian search).
CHUNK_PAIRS = 2_000_000
#: Mean-shift steps from the best sampled point of a Gaussian footprint (at most), and the
#: move (in FWHM semi-axes) below which every point has converged.
MEAN_SHIFT_STEPS = 30
MEAN_SHIFT_TOLERANCE = 1e-6
#: Mean-shift climbs per Gaussian footprint, from its best samples (2 found every maximum in
#: 600 random layouts checked against a dense grid; 1 missed a second maximum by 0.65 %).
MEAN_SHIFT_STARTS = 2
#: Hot-point searches kept in memory (each is linear in the number of locations).
HOTSPOT_CACHE = 8


@dataclass(frozen=True, eq=False)
class Hotspots:
    """Each location's hottest point and what lights it.

    Attributes
    ----------
    xy_um : (n_loc, 2) hottest point of each location's footprint, µm
    fluence_s : (n_loc,) final peak-fluence-seconds there (× a peak dose rate in Gy/s = Gy)
    q, p : (n_pairs,) the hot point of location ``q`` is lit when the beam sits on ``p``
    weight : (n_pairs,) relative fluence (0–1] at that hot point with the beam on ``p``
    """

    xy_um: np.ndarray
    fluence_s: np.ndarray
    q: np.ndarray
    p: np.ndarray
    weight: np.ndarray

    __repr__ = compact_repr

    def __post_init__(self) -> None:
        freeze_arrays(self, "xy_um", "fluence_s", "q", "p", "weight")


def reach_um(beam: Beam) -> tuple[float, float]:
    """Largest |dx|, |dy| (µm) at which a beam centred on p still lights q's footprint."""
    w, h = beam.spot_um
    if beam.profile == "tophat":
        return float(w), float(h)
    tail = math.sqrt(2.0 * math.log(1.0 / PROFILE_FLOOR)) / FWHM_PER_SIGMA  # in FWHM
    return (0.5 + tail) * w, (0.5 + tail) * h


def neighbours(
    xy_um: np.ndarray, reach_x_um: float, reach_y_um: float
) -> tuple[np.ndarray, np.ndarray]:
    """All pairs (q, p), self included, with |x_q - x_p| <= reach_x and |y_q - y_p| <= reach_y.

    Locations are hashed into cells of the reach; each looks in its own and the 8 adjacent
    cells. Pairs come sorted by q, then p.
    """
    xy = np.asarray(xy_um, dtype=float)
    n = xy.shape[0]
    cell = np.floor((xy - xy.min(axis=0)) / [reach_x_um, reach_y_um]).astype(np.int64)
    width = int(cell[:, 1].max()) + 3
    key = (cell[:, 0] + 1) * width + (cell[:, 1] + 1)
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    qs, ps = [], []
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            target = key + dx * width + dy
            start = np.searchsorted(sorted_key, target, side="left")
            count = np.searchsorted(sorted_key, target, side="right") - start
            q = np.repeat(np.arange(n), count)
            offsets = np.arange(q.size) - np.repeat(np.cumsum(count) - count, count)
            qs.append(q)
            ps.append(order[np.repeat(start, count) + offsets])
    q, p = np.concatenate(qs), np.concatenate(ps)
    d = np.abs(xy[q] - xy[p])
    tol = EDGE_TOLERANCE * np.array([reach_x_um, reach_y_um])
    keep = (d[:, 0] <= reach_x_um + tol[0]) & (d[:, 1] <= reach_y_um + tol[1])
    q, p = q[keep], p[keep]
    order = np.lexsort((p, q))
    return q[order], p[order]


def _field(
    beam: Beam,
    xy: np.ndarray,
    seconds: np.ndarray,
    q: np.ndarray,
    p: np.ndarray,
    offsets: np.ndarray,
) -> np.ndarray:
    """Peak-fluence-seconds at ``xy[q] + offsets[q, j]`` for every location and pattern point.

    ``offsets`` is (n, m, 2) µm; pairs (q, p) come sorted by q. Returns (n, m).
    """
    n, m = offsets.shape[:2]
    out = np.zeros((n, m))
    profile = beam.relative_fluence()
    step = max(1, CHUNK_PAIRS // m)
    for lo in range(0, q.size, step):
        qs, ps = q[lo : lo + step], p[lo : lo + step]
        d = (xy[qs] - xy[ps])[:, None, :] + offsets[qs]
        lit = profile(d[..., 0], d[..., 1]) * seconds[ps][:, None]
        starts = np.flatnonzero(np.r_[True, qs[1:] != qs[:-1]])
        out[qs[starts]] += np.add.reduceat(lit, starts, axis=0)
    return out


def _tophat_candidates(beam: Beam, xy: np.ndarray, q: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Offsets (n, m, 2) µm of the edge-grid points inside each footprint (see module doc)."""
    half = np.array(beam.spot_um, dtype=float) / 2
    per_axis = []
    for axis in (0, 1):
        own = np.arange(xy.shape[0])  # every footprint keeps its own edges
        edges = np.concatenate(
            [
                xy[p, axis] - half[axis],
                xy[p, axis] + half[axis],
                xy[own, axis] - half[axis],
                xy[own, axis] + half[axis],
            ]
        )
        owner = np.concatenate([q, q, own, own])
        offset = edges - xy[owner, axis]
        inside = np.abs(offset) <= half[axis] * (1 + EDGE_TOLERANCE)
        owner, offset = owner[inside], np.clip(offset[inside], -half[axis], half[axis])
        quantum = half[axis] * EDGE_TOLERANCE  # edges closer than this are one edge
        levels = 2 * int(1 / EDGE_TOLERANCE) + 3
        rounded = np.round(offset / quantum).astype(np.int64) + levels // 2
        _, first = np.unique(owner * levels + rounded, return_index=True)  # sorted by owner
        owner, value = owner[first], offset[first]  # exact positions, not the rounded ones
        count = np.bincount(owner, minlength=xy.shape[0])
        start = np.cumsum(count) - count
        rank = np.arange(owner.size) - start[owner]
        # thin very fine rasters evenly, always keeping both footprint edges
        keep_every = np.maximum(np.ceil((count - 1) / (MAX_EDGES_PER_AXIS - 1)), 1).astype(int)
        keep = (rank % keep_every[owner] == 0) | (rank == count[owner] - 1)
        per_axis.append((owner[keep], value[keep]))
    (ox, vx), (oy, vy) = per_axis
    cx, cy = np.bincount(ox, minlength=xy.shape[0]), np.bincount(oy, minlength=xy.shape[0])
    sx, sy = np.cumsum(cx) - cx, np.cumsum(cy) - cy
    m = int((cx * cy).max())
    rank = np.arange(m)[None, :] % (cx * cy)[:, None]  # pad by repeating the first points
    ix = sx[:, None] + rank // cy[:, None]
    iy = sy[:, None] + rank % cy[:, None]
    return np.stack([vx[ix], vy[iy]], axis=-1)


def _ellipse_pattern() -> np.ndarray:
    """Centre and two rings (8 and 16 points) in units of the FWHM semi-axes."""
    rings = [np.zeros((1, 2))]
    for radius, n in ((0.5, 8), (1.0, 16)):
        angle = np.arange(n) * 2 * np.pi / n
        rings.append(radius * np.stack([np.cos(angle), np.sin(angle)], axis=1))
    return np.vstack(rings)


def _mean_shift(
    beam: Beam,
    xy: np.ndarray,
    seconds: np.ndarray,
    q: np.ndarray,
    p: np.ndarray,
    hot: np.ndarray,
    fluence: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Climb from the best sampled point to the field's maximum (Gaussian beams).

    For a sum of Gaussians sharing one covariance, the mean-shift step
    ``x <- sum_p w_p g(x - x_p) x_p / sum_p w_p g(x - x_p)`` never lowers the field and stops at
    a maximum (Comaniciu & Meer, IEEE TPAMI 24, 603 (2002)); each step is clipped to the FWHM
    ellipse, and a point is kept only where it is higher than the sampled best.
    """
    n = xy.shape[0]
    semi = np.array(beam.spot_um, dtype=float) / 2
    profile = beam.relative_fluence()
    offset = hot.copy()
    qa, pa = q, p  # pairs of the locations still climbing
    for _ in range(MEAN_SHIFT_STEPS):
        if not qa.size:
            break
        d = xy[qa] + offset[qa] - xy[pa]
        g = profile(d[:, 0], d[:, 1]) * seconds[pa]
        total = np.bincount(qa, weights=g, minlength=n)
        centre = np.stack(
            [np.bincount(qa, weights=g * xy[pa, axis], minlength=n) for axis in (0, 1)], axis=1
        )
        active = np.zeros(n, dtype=bool)
        active[qa] = True
        climbing = active & (total > 0)
        moved = offset.copy()
        moved[climbing] = centre[climbing] / total[climbing, None] - xy[climbing]
        norm = np.hypot(moved[:, 0] / semi[0], moved[:, 1] / semi[1])
        moved = moved / np.maximum(norm, 1.0)[:, None]
        still = climbing & (np.max(np.abs(moved - offset) / semi, axis=1) >= MEAN_SHIFT_TOLERANCE)
        offset = moved
        keep = still[qa]
        qa, pa = qa[keep], pa[keep]
    value = _field(beam, xy, seconds, q, p, offset[:, None, :])[:, 0]
    better = value > fluence
    return np.where(better[:, None], offset, hot), np.where(better, value, fluence)


@dataclass(frozen=True)
class _Geometry:
    """What a hot-point search depends on: the locations, their beam-on times, the spot and
    its profile (``beam`` supplies the profile's functions; its energy and flux do not count)."""

    xy_um: bytes
    seconds: bytes
    spot_um: tuple[float, ...]
    profile: str
    beam: Beam = field(compare=False, hash=False)


def hotspots(xy_um: np.ndarray, beam_seconds: np.ndarray, beam: Beam) -> Hotspots:
    """Hottest point of every location's footprint (see the module docstring). The last
    ``HOTSPOT_CACHE`` searches are kept: another energy, flux or convention for the same
    locations, times and spot reuses the search.

    Parameters
    ----------
    xy_um : (n, 2) location centres, µm
    beam_seconds : (n,) beam-on time centred on each location, s
    beam : spot size and profile
    """
    xy = np.ascontiguousarray(xy_um, dtype=float).reshape(-1, 2)
    seconds = np.ascontiguousarray(beam_seconds, dtype=float).reshape(-1)
    spot = tuple(float(v) for v in beam.spot_um)
    return _search(_Geometry(xy.tobytes(), seconds.tobytes(), spot, beam.profile, beam))


@lru_cache(maxsize=HOTSPOT_CACHE)
def _search(geometry: _Geometry) -> Hotspots:
    beam = geometry.beam
    xy = np.frombuffer(geometry.xy_um, dtype=float).reshape(-1, 2)
    seconds = np.frombuffer(geometry.seconds, dtype=float)
    n = xy.shape[0]
    q, p = neighbours(xy, *reach_um(beam))
    exposed = seconds[p] > 0  # a position the beam never visits lights nothing
    q, p = q[exposed], p[exposed]
    if beam.profile == "tophat":
        offsets = _tophat_candidates(beam, xy, q, p)
    else:
        semi = np.array(beam.spot_um, dtype=float) / 2
        offsets = np.broadcast_to(_ellipse_pattern() * semi, (n, 25, 2))
    values = _field(beam, xy, seconds, q, p, offsets)
    best = np.argmax(values, axis=1)
    rows = np.arange(n)
    hot, fluence = offsets[rows, best], values[rows, best]
    if beam.profile == "gaussian":  # climb from the best few samples: the field can have
        ranked = np.argsort(-values, axis=1)  # several maxima in one footprint
        for start in range(min(MEAN_SHIFT_STARTS, ranked.shape[1])):
            k = ranked[:, start]
            top, top_fluence = _mean_shift(
                beam, xy, seconds, q, p, offsets[rows, k], values[rows, k]
            )
            better = top_fluence > fluence
            hot = np.where(better[:, None], top, hot)
            fluence = np.where(better, top_fluence, fluence)
    hot = xy + hot
    d = hot[q] - xy[p]
    weight = beam.relative_fluence()(d[:, 0], d[:, 1])
    lit = weight > 0
    return Hotspots(xy_um=hot, fluence_s=fluence, q=q[lit], p=p[lit], weight=weight[lit])
