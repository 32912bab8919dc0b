"""Dose over an experiment: every location's cumulative dose against time and state of charge,
its dose rates, the thresholds it crosses and when.

Dose accumulates only while the beam is on: for a point *x* and exposure *e* centred on
``p_e`` lasting ``t_e``, ``D(x) += Ddot_peak * profile(x - p_e) * t_e``, with ``Ddot_peak`` the
dose rate at the beam centre. A location's dose is the dose at the **hottest point of its
footprint** (``hotspots``): a Gaussian's tails, or a raster step smaller than the spot, give
dose to neighbours, and overlap strips get the dose of every spot covering them.

- **local dose rate**: the highest instantaneous dose rate at the location's hot point;
- **averaged dose rate**: the dose the hot point receives between the start of the location's
  first exposure and the end of its last one, divided by that window (beam-off time between
  visits included). The window depends only on the location's own exposures, so the averaged
  rate is continuous in the geometry.

Each threshold is compared with the dose in its own metric (its ``convention`` and ``where``),
whatever convention the plan displays. Crossings are exact: the dose at a point is piecewise
linear in time, so each crossing is solved inside the exposure during which it happens; they
are the crossings of each location's final hottest point.

**Energy scans** (``schedule.energy_scan``). The dose rates are computed at every point's energy
``E_k`` (one column of the ``DoseSpectrum`` per point; ``E >= edge`` is above an absorption
edge, as everywhere in ``coefficients``) and every exposure is one point. A constituent's dose is
then exactly ``D_c(q) = sum_k F(q, k) Ddot_c(E_k)``, with ``F(q, k)`` the peak-fluence-seconds
that q's hot point receives at energy ``E_k``; within one point the dose is still linear in
time, so crossings stay exact. The engine follows a scan visit by visit: inside a visit the dose
rises along the scan's profile ``C(tau)``, piecewise linear over the points (``_ScanProfile``),
so time and memory do not grow with the number of points. The hot point of a location is where
the probe's dose (plan's convention) is highest: hot spots are found on beam-on seconds weighted
by the probe's dose rate at each point relative to its scan mean (for whole scans, simply the
beam-on seconds, since every location gets the same scan). Rates per constituent
(``probe_peak_rate_Gy_per_s``, ``metric_rates_Gy_per_s``) are scan means: the dose of one whole
scan is that rate times its peak-fluence-seconds. The local dose rate is the highest
instantaneous one, at the scan's most absorbed point. The beam's ``energy_keV`` is the scan's
reference energy (threshold caveats, ``reference_spectrum`` for single-energy views); it does
not enter the scan's doses. The flux is the beam's at every point.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np

from beamdesign.checks import plan_warnings
from beamdesign.coefficients import CONVENTION_MEANING
from beamdesign.dose import DoseSpectrum, dose_spectrum
from beamdesign.dosemap import DoseMap, dose_map
from beamdesign.frozen import FrozenMapping, freeze, freeze_arrays
from beamdesign.hotspots import Hotspots, hotspots
from beamdesign.plan import Plan, probe_key, threshold_key
from beamdesign.provenance import provenance
from beamdesign.reprs import compact_repr, summary
from beamdesign.schedule import EnergyScan, Exposures
from beamdesign.thresholds import Threshold, verdict
from beamdesign.units import si

TIMELINE_POINTS = 1001
#: The timeline keeps at most this many (location × time) values; larger rasters get fewer times.
TIMELINE_VALUES = 500_000


@dataclass(frozen=True)
class Crossing:
    """When (time, SOC) a constituent's dose at a location crosses a threshold; None if never.

    ``final_dose_Gy`` is the location's final dose in the threshold's own metric
    (``convention``, ``where``), which is what the threshold is compared with; ``caveat`` says
    when the threshold was measured on another chemistry or energy ('' otherwise).
    """

    threshold: Threshold
    constituent: str
    time_s: float | None
    soc: float | None
    final_dose_Gy: float
    caveat: str = ""

    __repr__ = compact_repr

    @classmethod
    def fast(
        cls,
        threshold: Threshold,
        constituent: str,
        time_s: float | None,
        soc: float | None,
        final_dose_Gy: float,
        caveat: str,
    ) -> Crossing:
        """The same as the constructor, without the frozen dataclass's per-field setattr (a
        40 x 40 raster makes ~10,000 of them per run)."""
        crossing = object.__new__(cls)
        crossing.__dict__.update(
            threshold=threshold,
            constituent=constituent,
            time_s=time_s,
            soc=soc,
            final_dose_Gy=final_dose_Gy,
            caveat=caveat,
        )
        return crossing

    @property
    def convention(self) -> str:
        return self.threshold.convention

    @property
    def where(self) -> str:
        return self.threshold.where


@dataclass(frozen=True)
class LocationResult:
    """What one location receives over the whole experiment, at its footprint's hottest point.

    ``dose_Gy`` is in the plan's convention, mean over each layer's thickness;
    ``entrance_dose_Gy`` the same at each layer's entrance face.
    """

    name: str
    x_um: float
    y_um: float
    hot_xy_um: tuple[float, float]
    scans: int
    beam_on_s: float
    dose_Gy: Mapping[str, float]  # "<layer>/<constituent>" -> final dose (read-only)
    entrance_dose_Gy: Mapping[str, float]
    local_dose_rate_Gy_per_s: float
    averaged_dose_rate_Gy_per_s: float
    crossings: tuple[Crossing, ...]
    verdict: str

    __repr__ = compact_repr

    def __post_init__(self) -> None:  # the dose tables read-only, like the rest of the result
        # flat name -> float tables: one FrozenMapping each, no deep walk (a 40 x 40 raster's
        # 1,600 locations: a few ms instead of 60 ms)
        for name in ("dose_Gy", "entrance_dose_Gy"):
            table = getattr(self, name)
            if not isinstance(table, FrozenMapping):
                object.__setattr__(self, name, FrozenMapping(table))


@dataclass(frozen=True)
class Hottest:
    """The hottest point of the whole sample: where, and the probe's dose there (Gy)."""

    location: str
    x_um: float
    y_um: float
    dose_Gy: float


@dataclass(frozen=True, eq=False)
class ExperimentResult:
    """The outcome of running a plan: per-location results and the probed-dose timeline.

    ``timeline_index`` lists the locations whose timeline rows ``probe_dose_Gy`` holds (all of
    them, in order, unless the raster is too large to keep every one: then the hottest).
    """

    plan: Plan
    spectrum: DoseSpectrum  # plan's convention, at the beam energy (one column) or at every point
    # of the energy scan (one column per point)
    probe: str  # "<layer>/<constituent>"
    exposures: Exposures
    hotspots: Hotspots
    beam_on_s: np.ndarray  # (n_loc,) beam-on seconds centred on each location
    time_s: np.ndarray  # (n_t,) timeline
    soc: np.ndarray  # (n_t,)
    probe_dose_Gy: np.ndarray  # (n_timeline, n_t) cumulative dose of the probe at hot points
    timeline_index: np.ndarray  # (n_timeline,) location of each timeline row
    locations: tuple[LocationResult, ...]
    #: peak dose rate (Gy/s) of every constituent in each thresholds' metric (convention, where);
    #: with an energy scan, its mean over the scan's points
    metric_rates_Gy_per_s: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        freeze_arrays(self, "beam_on_s", "time_s", "soc", "probe_dose_Gy", "timeline_index")
        object.__setattr__(self, "metric_rates_Gy_per_s", freeze(self.metric_rates_Gy_per_s))

    def __repr__(self) -> str:
        return (
            f"ExperimentResult({summary(self.plan.title)}, probe={self.probe!r}, "
            f"{len(self.locations)} locations, hottest {si(self.hottest.dose_Gy, 'Gy')} "
            f"({self.plan.beam.convention}))"
        )

    @property
    def fluence_s(self) -> np.ndarray:
        """(n_loc,) final peak-fluence-seconds at each location's hottest point (with an energy
        scan, each point's weighted by the probe's dose rate there relative to its scan mean, so
        that ``probe_peak_rate_Gy_per_s * fluence_s`` is the probe's dose)."""
        return self.hotspots.fluence_s

    @property
    def energy_scan(self) -> EnergyScan | None:
        """The plan's energy scan, or None (one exposure at the beam energy)."""
        return self.plan.schedule.energy_scan

    @cached_property
    def reference_spectrum(self) -> DoseSpectrum:
        """Dose rates at the beam's energy alone (one column): ``spectrum`` without a scan, the
        scan's reference energy with one (what single-energy views such as the stack's dose
        rates and transmission show)."""
        if self.energy_scan is None:
            return self.spectrum
        return dose_spectrum(self.plan.stack, self.plan.beam)

    @property
    def probe_peak_rate_Gy_per_s(self) -> float:
        """Peak dose rate of the probe, Gy/s (mean over the points of an energy scan)."""
        return float(
            _scan_mean(self.spectrum.peak_dose_rate_Gy_per_s)[self.spectrum.index(self.probe)]
        )

    @cached_property
    def final_dose_Gy(self) -> np.ndarray:
        """(n_const, n_loc) final dose of every constituent at every location."""
        rates = self.spectrum.peak_dose_rate_Gy_per_s
        if self.energy_scan is None:
            dose_Gy: np.ndarray = rates[:, :1] * self.fluence_s[None, :]
            return dose_Gy
        dose_Gy = _scan_doses(self.hotspots, _seconds_by_energy(self.exposures), rates).T
        return dose_Gy

    def _slope(self, row: int) -> np.ndarray | None:
        """A constituent's per-point dose rate relative to its scan mean (None: no scan)."""
        if self.energy_scan is None:
            return None
        return _relative_rates(self.spectrum.peak_dose_rate_Gy_per_s[row])

    def _profile(self, row: int) -> tuple[Exposures, _ScanProfile | None]:
        """The intervals the engine follows (exposures, or a scan's visits) and the profile."""
        slope = self._slope(row)
        if self.energy_scan is None or slope is None:  # (both or neither)
            return self.exposures, None
        return _visits(self.exposures), _ScanProfile(self.energy_scan.dwell_s, slope)

    @property
    def hottest(self) -> Hottest:
        """The hottest point of the sample for the probe."""
        q = int(np.argmax(self.fluence_s))
        x, y = self.hotspots.xy_um[q]
        return Hottest(
            self.locations[q].name,
            float(x),
            float(y),
            self.probe_peak_rate_Gy_per_s * float(self.fluence_s[q]),
        )

    def dose_at(self, location: str, time_s: float, constituent: str | None = None) -> float:
        """Exact dose (Gy, plan's convention) of ``constituent`` (default: the probe) at the hot
        point of ``location`` by ``time_s`` (s since the protocol started)."""
        q = [loc.name for loc in self.locations].index(location)
        row = self.spectrum.index(constituent or self.probe)
        intervals, profile = self._profile(row)
        order = _pair_order(intervals, self.hotspots, len(self.locations))
        pairs = _pairs(order, intervals, profile)
        fluence = _fluence_at(pairs, intervals, np.array([q]), np.array([float(time_s)]), profile)
        rate = _scan_mean(self.spectrum.peak_dose_rate_Gy_per_s)[row]
        return float(rate * fluence[0])

    def worst(self, constituent: str | None = None) -> LocationResult:
        """The location with the highest final dose of ``constituent`` (default: the probe)."""
        key = constituent or self.probe
        return max(self.locations, key=lambda loc: loc.dose_Gy[key])

    def dose_map(
        self, resolution_um: float | None = None, constituent: str | None = None
    ) -> DoseMap:
        """2-D map of the final dose (Gy) of ``constituent`` (default: the probe)."""
        beam = self.plan.beam
        step = resolution_um or max(min(beam.spot_um) / 8.0, 1.0)
        row = self.spectrum.index(constituent or self.probe)
        slope = self._slope(row)
        seconds = (
            self.beam_on_s
            if slope is None
            else _delivered(_seconds_by_energy(self.exposures), len(self.locations), slope[None])[
                :, 0
            ]
        )
        raw = dose_map(self.plan.schedule.xy_um, seconds, beam.relative_fluence(), step)
        rate = float(_scan_mean(self.spectrum.peak_dose_rate_Gy_per_s)[row])
        return DoseMap(
            x_um=raw.x_um,
            y_um=raw.y_um,
            values=raw.values * rate,
            peak_value=raw.peak_value * rate,
            peak_xy_um=raw.peak_xy_um,
            resolution_um=raw.resolution_um,
            method=raw.method,
        )

    def to_dict(self, timeline: bool = True) -> dict[str, Any]:
        """The JSON form printed by ``beamdesign run --json``."""
        hottest = self.hottest
        out = {
            "title": self.plan.title,
            "provenance": provenance(self.plan),
            "convention": self.plan.beam.convention,
            "convention_meaning": CONVENTION_MEANING[self.plan.beam.convention],
            "dose_at": "hottest point of each location's footprint, mean over each layer's "
            "thickness (entrance_dose_Gy: at the layer's entrance face)",
            "probe": self.probe,
            "protocol_duration_s": self.plan.protocol.duration_s,
            "hottest": {
                "location": hottest.location,
                "x_um": hottest.x_um,
                "y_um": hottest.y_um,
                "dose_Gy": hottest.dose_Gy,
            },
            "warnings": list(self.warnings),
            "locations": [
                {
                    "name": loc.name,
                    "x_um": loc.x_um,
                    "y_um": loc.y_um,
                    "hot_xy_um": list(loc.hot_xy_um),
                    "scans": loc.scans,
                    "beam_on_s": loc.beam_on_s,
                    "dose_Gy": dict(loc.dose_Gy),
                    "entrance_dose_Gy": dict(loc.entrance_dose_Gy),
                    "local_dose_rate_Gy_per_s": loc.local_dose_rate_Gy_per_s,
                    "averaged_dose_rate_Gy_per_s": loc.averaged_dose_rate_Gy_per_s,
                    "verdict": loc.verdict,
                    "crossings": [
                        {
                            "threshold": c.threshold.name,
                            "dose_Gy": c.threshold.dose_Gy,
                            "constituent": c.constituent,
                            "time_s": c.time_s,
                            "soc": c.soc,
                            "convention": c.convention,
                            "where": c.where,
                            "final_dose_Gy": c.final_dose_Gy,
                            "caveat": c.caveat,
                        }
                        for c in loc.crossings
                    ],
                }
                for loc in self.locations
            ],
        }
        scan = self.energy_scan
        if scan is not None:
            out["energy_scan"] = {
                **scan.to_config(),
                "energies_keV": scan.energies_keV.tolist(),
                "reference_energy_keV": self.plan.beam.energy_keV,
                "dose": "integrated point by point at each energy; every visit of a location "
                "is one whole scan; the reference energy (beam.energy_keV) is what "
                "single-energy outputs show",
            }
        if timeline:
            out["timeline"] = {
                "time_s": self.time_s.tolist(),
                "soc": self.soc.tolist(),
                "dose_Gy": {
                    self.locations[q].name: row.tolist()
                    for q, row in zip(self.timeline_index, self.probe_dose_Gy, strict=True)
                },
            }
        return out

    def timeline_csv(self) -> str:
        """The timeline as CSV: time, SOC, then the probed dose (Gy) at each location."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(
            ["time_s", "soc"] + [f"dose_Gy[{self.locations[q].name}]" for q in self.timeline_index]
        )
        columns = np.vstack([self.time_s, self.soc, self.probe_dose_Gy]).T
        writer.writerows([f"{v:.6g}" for v in row] for row in columns)
        return buffer.getvalue()


def _pair_order(exposures: Exposures, spots: Hotspots, n_loc: int) -> dict[str, np.ndarray]:
    """Every (location q, exposure k) lighting q's hot point, grouped by q in time order.

    Returns arrays over pairs: ``q``, ``k``, ``weight`` (relative fluence at q's hot point
    during k) and, per location, ``first`` (index of its first pair).
    """
    by_location = np.argsort(exposures.location_index, kind="stable")  # time order kept
    count = np.bincount(exposures.location_index, minlength=n_loc)
    start = np.cumsum(count) - count
    n = count[spots.p]
    pair = np.repeat(np.arange(spots.q.size), n)
    offsets = np.arange(pair.size) - np.repeat(np.cumsum(n) - n, n)
    q = spots.q[pair]
    k = by_location[start[spots.p[pair]] + offsets]
    order = np.lexsort((k, q))
    q, k, weight = q[order], k[order], spots.weight[pair][order]
    return {"q": q, "k": k, "weight": weight, "first": np.searchsorted(q, np.arange(n_loc))}


@dataclass(frozen=True, eq=False)
class _ScanProfile:
    """What ``tau`` seconds into one visit (a whole energy scan) give, in seconds at the
    scan-mean dose rate of one constituent: ``C(tau)``, piecewise linear with slope ``u_k``
    (the constituent's rate at point k relative to its scan mean) over point k."""

    dwell_s: float
    slope: np.ndarray  # (n_points,) u_k

    @cached_property
    def knots(self) -> np.ndarray:
        """(n_points + 1,) C at the point boundaries k dwell_s."""
        return np.concatenate([[0.0], np.cumsum(self.slope * self.dwell_s)])

    def _point(self, tau: np.ndarray) -> np.ndarray:
        return np.clip(np.floor(tau / self.dwell_s), 0, self.slope.size - 1).astype(np.intp)

    def at(self, tau: np.ndarray) -> np.ndarray:
        """C(tau), tau in s since the visit started."""
        k = self._point(tau)
        value: np.ndarray = self.knots[k] + self.slope[k] * (tau - k * self.dwell_s)
        return value

    def inverse(self, value: np.ndarray) -> np.ndarray:
        """The first tau (s) with C(tau) = value (points with u = 0 are never where C rises)."""
        k = np.clip(np.searchsorted(self.knots, value, side="left") - 1, 0, self.slope.size - 1)
        u = self.slope[k]
        tau: np.ndarray = k * self.dwell_s + (value - self.knots[k]) / np.where(u > 0, u, 1.0)
        return tau

    def peak(self, tau_end: np.ndarray) -> np.ndarray:
        """Highest slope over the points started before ``tau_end`` (a visit cut short at the
        protocol end has not reached its last points)."""
        started = np.ceil(tau_end / self.dwell_s * (1 - 1e-12)).astype(np.intp)
        highest: np.ndarray = np.maximum.accumulate(self.slope)[
            np.clip(started - 1, 0, self.slope.size - 1)
        ]
        return highest


def _visits(exposures: Exposures) -> Exposures:
    """One interval per visit of an energy scan: its points back to back, first to last."""
    first = np.flatnonzero(exposures.visits)
    last = np.append(first[1:], len(exposures))[: first.size] - 1  # (none without exposures)
    return Exposures(
        exposures.location_index[first],
        exposures.start_s[first],
        exposures.end_s[last],
        exposures.protocol_end_s,
        exposures.truncated,
        exposures.dropped,
    )


def _pairs(
    order: dict[str, np.ndarray], exposures: Exposures, profile: _ScanProfile | None = None
) -> dict[str, np.ndarray]:
    """The pairs of ``_pair_order`` with ``rate``, ``done`` and ``cumulative``.

    Without a scan: ``rate`` is the relative fluence at q's hot point during exposure k and
    ``cumulative`` the peak-fluence-seconds there by the end of k. With a scan, k is a visit
    (``_visits``) and both are weighted by ``profile`` (the rate is the highest during k); times
    the scan-mean dose rate they give Gy/s and Gy. ``done`` is k's own share of ``cumulative``.
    """
    q, k, first = order["q"], order["k"], order["first"]
    weight = order["weight"]
    duration = exposures.duration_s[k]
    if profile is None:
        rate = weight
        done = rate * duration
    else:
        rate = weight * profile.peak(duration)
        done = weight * profile.at(duration)
    cumulative = np.cumsum(done)
    group_start = np.concatenate([[0.0], cumulative])[first]
    cumulative = cumulative - np.repeat(group_start, np.bincount(q, minlength=first.size))
    return {
        "q": q,
        "k": k,
        "weight": weight,
        "rate": rate,
        "done": done,
        "cumulative": cumulative,
        "first": first,
    }


def _fluence_at(
    pairs: dict[str, np.ndarray],
    exposures: Exposures,
    q: np.ndarray,
    time_s: np.ndarray,
    profile: _ScanProfile | None = None,
) -> np.ndarray:
    """Peak-fluence-seconds at the hot point of location ``q[i]`` by ``time_s[i]`` (same shape;
    weighted by ``profile`` for a scan, ``exposures`` then being the visits).

    Completed exposures: the cumulative value of the last pair of q ending by t; the one
    exposure under way at t (if it lights q) adds ``rate * (t - start)`` (a scan:
    ``weight * C(t - start)``).
    """
    if not pairs["q"].size:
        return np.zeros(np.broadcast(q, time_s).shape)
    span = float(max(exposures.end_s[-1], np.max(time_s))) + 1.0
    key = pairs["q"] * span + exposures.end_s[pairs["k"]]
    last = np.searchsorted(key, q * span + time_s, side="right") - 1
    ends = np.append(pairs["first"][1:], pairs["q"].size)
    has = last >= pairs["first"][q]
    completed = np.where(has, pairs["cumulative"][np.maximum(last, 0)], 0.0)
    # the next pair of q, if under way at t, adds its partial fluence
    nxt = np.where(has, last + 1, pairs["first"][q])
    valid = nxt < ends[q]
    j = np.minimum(nxt, pairs["q"].size - 1)
    k = pairs["k"][j]
    running = valid & (exposures.start_s[k] < time_s)
    if profile is None:
        partial = np.where(running, pairs["rate"][j] * (time_s - exposures.start_s[k]), 0.0)
    else:
        tau = np.maximum(time_s - exposures.start_s[k], 0.0)
        partial = np.where(running, pairs["weight"][j] * profile.at(tau), 0.0)
    return completed + partial


def _crossing_times(
    pairs: dict[str, np.ndarray],
    exposures: Exposures,
    q: np.ndarray,
    level: np.ndarray,
    profile: _ScanProfile | None = None,
) -> np.ndarray:
    """Exact time at which location ``q[i]`` reaches ``level[i]`` peak-fluence-seconds (nan:
    never); with a scan's ``profile``, inside the visit where it happens (``C`` inverted)."""
    if not pairs["q"].size:
        return np.full(q.shape, np.nan)
    ends = np.append(pairs["first"][1:], pairs["q"].size)
    span = float(pairs["cumulative"].max(initial=0.0)) * 2.0 + 1.0
    key = pairs["q"] * span + pairs["cumulative"]
    index = np.searchsorted(key, q * span + level * (1 - 1e-12), side="left")
    found = index < ends[q]
    safe = np.minimum(index, pairs["q"].size - 1)
    k = pairs["k"][safe]
    if profile is None:
        before = pairs["cumulative"][safe] - pairs["rate"][safe] * exposures.duration_s[k]
        times = exposures.start_s[k] + (level - before) / pairs["rate"][safe]
    else:
        before = pairs["cumulative"][safe] - pairs["done"][safe]
        times = exposures.start_s[k] + profile.inverse((level - before) / pairs["weight"][safe])
    return np.where(found, np.minimum(times, exposures.end_s[k]), np.nan)


def _scan_crossing_times(
    order: dict[str, np.ndarray],
    visits: Exposures,
    dwell_s: float,
    levels: np.ndarray,
    check_rates: list[np.ndarray],
) -> np.ndarray:
    """(n_loc, n_checks) exact crossing times (nan: never) during an energy scan.

    Check ``i`` is reached when its weighted fluence (``_pairs`` with its rates relative to
    their scan mean) reaches ``levels[i]``; checks sharing relative rates share one pass.
    """
    n_loc = order["first"].size
    times = np.full((n_loc, len(check_rates)), np.nan)
    groups: dict[bytes, list[int]] = {}
    slopes = [_relative_rates(r) for r in check_rates]
    for i, slope in enumerate(slopes):
        groups.setdefault(slope.tobytes(), []).append(i)
    q = np.arange(n_loc)
    for members in groups.values():
        profile = _ScanProfile(dwell_s, slopes[members[0]])
        pairs = _pairs(order, visits, profile)
        for i in members:
            times[:, i] = _crossing_times(pairs, visits, q, np.full(n_loc, levels[i]), profile)
    return times


def _averaged_rate_fluence(
    pairs: dict[str, np.ndarray],
    exposures: Exposures,
    n_loc: int,
    profile: _ScanProfile | None = None,
) -> np.ndarray:
    """Peak-fluence-seconds per second over each location's own measurement window.

    The window runs from the start of the location's first exposure to the end of its last
    (beam-off time between its visits included); the fluence counted is what its hot point
    receives inside that window, from its own exposures and its neighbours'. The window depends
    only on the location's own exposures, so the result is continuous in the geometry.
    """
    index = exposures.location_index
    has = np.bincount(index, minlength=n_loc) > 0
    first = np.full(n_loc, np.inf)
    last = np.full(n_loc, -np.inf)
    np.minimum.at(first, index, exposures.start_s)
    np.maximum.at(last, index, exposures.end_s)
    q = np.flatnonzero(has)
    gained = _fluence_at(pairs, exposures, q, last[q], profile) - _fluence_at(
        pairs, exposures, q, first[q], profile
    )
    out = np.zeros(n_loc)
    window = last[q] - first[q]
    out[q] = np.where(window > 0, gained / np.where(window > 0, window, 1.0), 0.0)
    return out


def plan_spectrum(plan: Plan) -> DoseSpectrum:
    """The dose rates ``run_plan`` uses (plan's convention): at the beam energy (one column), or
    at every point of the plan's energy scan (one column per point)."""
    scan = plan.schedule.energy_scan
    return dose_spectrum(plan.stack, plan.beam, None if scan is None else scan.energies_keV)


def metric_spectrum(plan: Plan, spectrum: DoseSpectrum, convention: str, where: str) -> np.ndarray:
    """(n_const, n_E) peak dose rate (Gy/s) of every constituent in a metric (a convention and
    ``where``) at each of ``spectrum``'s energies.

    ``column-mean`` is the mean over the layer's thickness; ``hottest-point`` its entrance face,
    where the fluence is ``1 / slab`` times the mean (``slab = (1 - T) / (mu t)``).
    """
    if convention != spectrum.convention:
        spectrum = dose_spectrum(
            plan.stack, plan.beam.replace(convention=convention), spectrum.energies_keV
        )
    if where == "column-mean":
        return spectrum.peak_dose_rate_Gy_per_s
    return spectrum.entrance_peak_dose_rate_Gy_per_s


def metric_rates(plan: Plan, spectrum: DoseSpectrum, convention: str, where: str) -> np.ndarray:
    """(n_const,) peak dose rate (Gy/s) of every constituent in a metric (``metric_spectrum``),
    averaged over ``spectrum``'s energies: an energy scan dwells equally at each of its points,
    so one whole scan gives this rate times its peak-fluence-seconds (one energy: that rate)."""
    return _scan_mean(metric_spectrum(plan, spectrum, convention, where))


def _scan_mean(rates: np.ndarray) -> np.ndarray:
    """(n_rows,) mean of (n_rows, n_E) rates over the energies (exact for one energy)."""
    mean: np.ndarray = rates[:, 0] if rates.shape[1] == 1 else rates.mean(axis=1)
    return mean


def _relative_rates(rates: np.ndarray) -> np.ndarray:
    """(n_E,) one constituent's rates divided by their scan mean (zeros if all are 0)."""
    mean = float(rates.mean())
    relative: np.ndarray = rates / mean if mean > 0 else np.zeros_like(rates)
    return relative


def _seconds_by_energy(exposures: Exposures) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Beam-on seconds centred on each location at each energy of the scan, for the (location,
    energy) pairs that occur (as many as the exposures at most): ``(location, energy,
    seconds)``."""
    energy = np.asarray(exposures.energy_index)
    n_energies = int(energy.max(initial=0)) + 1
    key = exposures.location_index * n_energies + energy
    occurring, inverse = np.unique(key, return_inverse=True)
    seconds = np.bincount(inverse, weights=exposures.duration_s)
    return occurring // n_energies, occurring % n_energies, seconds


def _delivered(
    by_energy: tuple[np.ndarray, np.ndarray, np.ndarray], n_loc: int, rates: np.ndarray
) -> np.ndarray:
    """(n_loc, n_rows) ``sum_k seconds(p, k) rate(E_k)`` for (n_rows, n_E) rates: Gy at each
    location's beam centre for peak dose rates, weighted seconds for relative rates."""
    location, energy, seconds = by_energy
    columns = [np.bincount(location, weights=seconds * r[energy], minlength=n_loc) for r in rates]
    return np.stack(columns, axis=1) if columns else np.zeros((n_loc, 0))


def _scan_doses(
    spots: Hotspots, by_energy: tuple[np.ndarray, np.ndarray, np.ndarray], rates: np.ndarray
) -> np.ndarray:
    """(n_loc, n_rows) final dose (Gy) at each location's hot point for (n_rows, n_E) peak dose
    rates: ``sum_p weight(q, p) sum_k seconds(p, k) rate(E_k)``."""
    n_loc = spots.xy_um.shape[0]
    lit = spots.weight[:, None] * _delivered(by_energy, n_loc, rates)[spots.p]
    doses = [np.bincount(spots.q, weights=lit[:, j], minlength=n_loc) for j in range(lit.shape[1])]
    return np.stack(doses, axis=1) if doses else np.zeros((n_loc, 0))


def _timeline_rows(fluence_s: np.ndarray, n_times: int) -> np.ndarray:
    """Locations that get a timeline row: all, or the hottest when there are too many."""
    keep = max(1, TIMELINE_VALUES // n_times)
    if fluence_s.size <= keep:
        return np.arange(fluence_s.size)
    return np.sort(np.argsort(-fluence_s, kind="stable")[:keep])


def run_plan(plan: Plan, timeline_points: int = TIMELINE_POINTS) -> ExperimentResult:
    """Run a plan through the dose engine and the schedule; see the module docstring."""
    spectrum = plan_spectrum(plan)
    peak = spectrum.peak_dose_rate_Gy_per_s  # (n_const, n_E)
    peak_rates = _scan_mean(peak)
    probe = probe_key(plan)
    probe_row = spectrum.index(probe)
    schedule = plan.schedule
    scanned = schedule.energy_scan is not None
    end_s = plan.protocol.duration_s
    exposures = schedule.exposures(end_s)
    n_loc = len(schedule.locations)
    beam_seconds = np.bincount(
        exposures.location_index, weights=exposures.duration_s, minlength=n_loc
    )
    by_energy = _seconds_by_energy(exposures) if scanned else None
    probe_slope = _relative_rates(peak[probe_row]) if scanned else None
    spot_seconds = beam_seconds
    if by_energy is not None and probe_slope is not None and probe_slope.any():
        # the probe's hottest point (module docstring)
        spot_seconds = _delivered(by_energy, n_loc, probe_slope[None])[:, 0]
    spots = hotspots(schedule.xy_um, spot_seconds, plan.beam)
    # a scan is followed visit by visit, each weighted by the scan's profile (``_ScanProfile``)
    visits = exposures if schedule.energy_scan is None else _visits(exposures)
    profile = None
    if schedule.energy_scan is not None and probe_slope is not None:  # (both or neither)
        profile = _ScanProfile(schedule.energy_scan.dwell_s, probe_slope)
    order = _pair_order(visits, spots, n_loc)
    pairs = _pairs(order, visits, profile)
    time_s = np.linspace(0.0, end_s, timeline_points)
    rows = _timeline_rows(spots.fluence_s, time_s.size)
    probe_rate = float(peak_rates[probe_row])
    probe_dose = probe_rate * _fluence_at(pairs, visits, rows[:, None], time_s[None, :], profile)
    local_rate = np.zeros(n_loc)
    np.maximum.at(local_rate, pairs["q"], pairs["rate"])
    averaged = _averaged_rate_fluence(pairs, visits, n_loc, profile)

    metrics = {(t.convention, t.where) for t in plan.thresholds}
    per_energy = {m: metric_spectrum(plan, spectrum, *m) for m in sorted(metrics)}
    rates = {m: _scan_mean(r) for m, r in per_energy.items()}
    entrance_per_energy = metric_spectrum(plan, spectrum, plan.beam.convention, "hottest-point")
    entrance = _scan_mean(entrance_per_energy)
    material = spectrum.stack.layer(probe.split("/")[0]).constituents
    probe_material = next(
        c.material.name
        for c in material
        if f"{probe.split('/')[0]}/{c.name}".lower() == probe.lower()
    )
    checks = []  # (threshold, key, rate in the threshold's metric, caveat)
    check_rates = []  # (n_E,) per check: its constituent's rate in its metric at each energy
    for threshold in plan.thresholds:
        key = threshold_key(plan, threshold, probe)
        if key is None:  # electrolyte threshold, probed layer without pores
            continue
        metric = (threshold.convention, threshold.where)
        checks.append(
            (
                threshold,
                key,
                float(rates[metric][spectrum.index(key)]),
                threshold.caveat(probe_material, plan.beam.energy_keV),
            )
        )
        check_rates.append(per_energy[metric][spectrum.index(key)])
    levels = np.array([t.dose_Gy / rate if rate > 0 else np.inf for t, _, rate, _ in checks])
    if profile is None:
        q_grid = np.repeat(np.arange(n_loc), len(checks))
        times = _crossing_times(pairs, visits, q_grid, np.tile(levels, n_loc)).reshape(
            n_loc, len(checks)
        )
    else:
        times = _scan_crossing_times(order, visits, profile.dwell_s, levels, check_rates)
    socs = plan.protocol.soc_at(np.nan_to_num(times))

    fluence = spots.fluence_s
    crossed = ~np.isnan(times)
    time_list = np.where(crossed, times, 0.0).tolist()
    soc_list = socs.tolist()
    if by_energy is None:
        final_in_metric = (
            np.array([rate for _, _, rate, _ in checks])[None, :] * fluence[:, None]
        ).tolist()
        doses = (peak_rates[None, :] * fluence[:, None]).tolist()
        entrance_doses = (entrance[None, :] * fluence[:, None]).tolist()
    else:
        in_metric = np.array(check_rates).reshape(len(checks), peak.shape[1])
        final_in_metric = _scan_doses(spots, by_energy, in_metric).tolist()
        doses = _scan_doses(spots, by_energy, peak).tolist()
        entrance_doses = _scan_doses(spots, by_energy, entrance_per_energy).tolist()
    columns = zip(
        schedule.locations,
        spots.xy_um.tolist(),
        crossed.tolist(),
        time_list,
        soc_list,
        final_in_metric,
        doses,
        entrance_doses,
        np.bincount(exposures.location_index[exposures.visits], minlength=n_loc).tolist(),
        beam_seconds.tolist(),
        (probe_rate * local_rate).tolist(),
        (probe_rate * averaged).tolist(),
        strict=True,  # one entry per location in every column
    )
    locations = []
    verdicts: dict[tuple[bool, ...], str] = {}  # a verdict depends on which were crossed only
    for point, hot, hit, when, soc, in_metric, dose, at_entrance, scans, on, local, avg in columns:
        crossings = tuple(
            Crossing.fast(
                t,
                key,
                when[i] if hit[i] else None,
                soc[i] if hit[i] else None,
                in_metric[i],
                caveat,
            )
            for i, (t, key, _, caveat) in enumerate(checks)
        )
        which = tuple(hit)
        if which not in verdicts:
            verdicts[which] = verdict([c.threshold for c in crossings if c.time_s is not None])
        locations.append(
            LocationResult(
                name=point.name,
                x_um=point.x_um,
                y_um=point.y_um,
                hot_xy_um=(hot[0], hot[1]),
                scans=scans,
                beam_on_s=on,
                dose_Gy=FrozenMapping.adopt(dict(zip(spectrum.keys, dose, strict=True))),
                entrance_dose_Gy=FrozenMapping.adopt(
                    dict(zip(spectrum.keys, at_entrance, strict=True))
                ),
                local_dose_rate_Gy_per_s=local,
                averaged_dose_rate_Gy_per_s=avg,
                crossings=crossings,
                verdict=verdicts[which],
            )
        )
    result = ExperimentResult(
        plan,
        spectrum,
        probe,
        exposures,
        spots,
        beam_seconds,
        time_s,
        plan.protocol.soc_at(time_s),
        probe_dose,
        rows,
        tuple(locations),
        rates,
    )
    return replace(result, warnings=plan_warnings(plan, result))
