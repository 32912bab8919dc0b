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
from beamdesign.frozen import freeze, freeze_arrays
from beamdesign.hotspots import Hotspots, hotspots
from beamdesign.plan import Plan, probe_key, threshold_key
from beamdesign.provenance import provenance
from beamdesign.reprs import compact_repr, summary
from beamdesign.schedule import Exposures
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
        object.__setattr__(self, "dose_Gy", freeze(self.dose_Gy))
        object.__setattr__(self, "entrance_dose_Gy", freeze(self.entrance_dose_Gy))


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
    spectrum: DoseSpectrum  # dose rates at the beam energy (one column), plan's convention
    probe: str  # "<layer>/<constituent>"
    exposures: Exposures
    hotspots: Hotspots
    beam_on_s: np.ndarray  # (n_loc,) beam-on seconds centred on each location
    time_s: np.ndarray  # (n_t,) timeline
    soc: np.ndarray  # (n_t,)
    probe_dose_Gy: np.ndarray  # (n_timeline, n_t) cumulative dose of the probe at hot points
    timeline_index: np.ndarray  # (n_timeline,) location of each timeline row
    locations: tuple[LocationResult, ...]
    #: peak dose rate (Gy/s) of every constituent in each thresholds' metric (convention, where)
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
        """(n_loc,) final peak-fluence-seconds at each location's hottest point."""
        return self.hotspots.fluence_s

    @property
    def probe_peak_rate_Gy_per_s(self) -> float:
        return float(self.spectrum.peak_dose_rate_Gy_per_s[self.spectrum.index(self.probe), 0])

    @cached_property
    def final_dose_Gy(self) -> np.ndarray:
        """(n_const, n_loc) final dose of every constituent at every location."""
        dose_Gy: np.ndarray = self.spectrum.peak_dose_rate_Gy_per_s[:, :1] * self.fluence_s[None, :]
        return dose_Gy

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
        pairs = _pairs(self.exposures, self.hotspots, len(self.locations))
        fluence = _fluence_at(pairs, self.exposures, np.array([q]), np.array([float(time_s)]))
        rate = self.spectrum.peak_dose_rate_Gy_per_s[
            self.spectrum.index(constituent or self.probe), 0
        ]
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
        raw = dose_map(self.plan.schedule.xy_um, self.beam_on_s, beam.relative_fluence(), step)
        rate = float(
            self.spectrum.peak_dose_rate_Gy_per_s[self.spectrum.index(constituent or self.probe), 0]
        )
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


def _pairs(exposures: Exposures, spots: Hotspots, n_loc: int) -> dict[str, np.ndarray]:
    """Every (location q, exposure k) lighting q's hot point, grouped by q in time order.

    Returns arrays over pairs: ``q``, ``k``, ``rate`` (relative fluence at q's hot point during
    k), ``cumulative`` (peak-fluence-seconds there by the end of k) and, per location,
    ``first`` (index of its first pair).
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
    q, k, rate = q[order], k[order], spots.weight[pair][order]
    cumulative = np.cumsum(rate * exposures.duration_s[k])
    first = np.searchsorted(q, np.arange(n_loc))
    group_start = np.concatenate([[0.0], cumulative])[first]
    cumulative = cumulative - np.repeat(group_start, np.bincount(q, minlength=n_loc))
    return {"q": q, "k": k, "rate": rate, "cumulative": cumulative, "first": first}


def _fluence_at(
    pairs: dict[str, np.ndarray], exposures: Exposures, q: np.ndarray, time_s: np.ndarray
) -> np.ndarray:
    """Peak-fluence-seconds at the hot point of location ``q[i]`` by ``time_s[i]`` (same shape).

    Completed exposures: the cumulative value of the last pair of q ending by t; the one
    exposure under way at t (if it lights q) adds ``rate * (t - start)``.
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
    partial = np.where(running, pairs["rate"][j] * (time_s - exposures.start_s[k]), 0.0)
    return completed + partial


def _crossing_times(
    pairs: dict[str, np.ndarray], exposures: Exposures, q: np.ndarray, level: np.ndarray
) -> np.ndarray:
    """Exact time at which location ``q[i]`` reaches ``level[i]`` peak-fluence-seconds (nan:
    never)."""
    if not pairs["q"].size:
        return np.full(q.shape, np.nan)
    ends = np.append(pairs["first"][1:], pairs["q"].size)
    span = float(pairs["cumulative"].max(initial=0.0)) * 2.0 + 1.0
    key = pairs["q"] * span + pairs["cumulative"]
    index = np.searchsorted(key, q * span + level * (1 - 1e-12), side="left")
    found = index < ends[q]
    safe = np.minimum(index, pairs["q"].size - 1)
    k = pairs["k"][safe]
    before = pairs["cumulative"][safe] - pairs["rate"][safe] * exposures.duration_s[k]
    times = exposures.start_s[k] + (level - before) / pairs["rate"][safe]
    return np.where(found, np.minimum(times, exposures.end_s[k]), np.nan)


def _averaged_rate_fluence(
    pairs: dict[str, np.ndarray], exposures: Exposures, n_loc: int
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
    gained = _fluence_at(pairs, exposures, q, last[q]) - _fluence_at(pairs, exposures, q, first[q])
    out = np.zeros(n_loc)
    window = last[q] - first[q]
    out[q] = np.where(window > 0, gained / np.where(window > 0, window, 1.0), 0.0)
    return out


def metric_rates(plan: Plan, spectrum: DoseSpectrum, convention: str, where: str) -> np.ndarray:
    """Peak dose rate (Gy/s) of every constituent in a metric: a convention and ``where``.

    ``column-mean`` is the mean over the layer's thickness; ``hottest-point`` its entrance face,
    where the fluence is ``1 / slab`` times the mean (``slab = (1 - T) / (mu t)``).
    """
    if convention != spectrum.convention:
        spectrum = dose_spectrum(plan.stack, plan.beam.replace(convention=convention))
    if where == "column-mean":
        column: np.ndarray = spectrum.peak_dose_rate_Gy_per_s[:, 0]
        return column
    entrance: np.ndarray = spectrum.entrance_peak_dose_rate_Gy_per_s[:, 0]
    return entrance


def _timeline_rows(fluence_s: np.ndarray, n_times: int) -> np.ndarray:
    """Locations that get a timeline row: all, or the hottest when there are too many."""
    keep = max(1, TIMELINE_VALUES // n_times)
    if fluence_s.size <= keep:
        return np.arange(fluence_s.size)
    return np.sort(np.argsort(-fluence_s, kind="stable")[:keep])


def run_plan(plan: Plan, timeline_points: int = TIMELINE_POINTS) -> ExperimentResult:
    """Run a plan through the dose engine and the schedule; see the module docstring."""
    spectrum = dose_spectrum(plan.stack, plan.beam)
    peak_rates = spectrum.peak_dose_rate_Gy_per_s[:, 0]
    probe = probe_key(plan)
    schedule = plan.schedule
    end_s = plan.protocol.duration_s
    exposures = schedule.exposures(end_s)
    n_loc = len(schedule.locations)
    beam_seconds = np.bincount(
        exposures.location_index, weights=exposures.duration_s, minlength=n_loc
    )
    spots = hotspots(schedule.xy_um, beam_seconds, plan.beam)
    pairs = _pairs(exposures, spots, n_loc)
    time_s = np.linspace(0.0, end_s, timeline_points)
    rows = _timeline_rows(spots.fluence_s, time_s.size)
    probe_rate = float(peak_rates[spectrum.index(probe)])
    probe_dose = probe_rate * _fluence_at(pairs, exposures, rows[:, None], time_s[None, :])
    local_rate = np.zeros(n_loc)
    np.maximum.at(local_rate, pairs["q"], pairs["rate"])
    averaged = _averaged_rate_fluence(pairs, exposures, n_loc)

    metrics = {(t.convention, t.where) for t in plan.thresholds}
    rates = {m: metric_rates(plan, spectrum, *m) for m in sorted(metrics)}
    entrance = metric_rates(plan, spectrum, plan.beam.convention, "hottest-point")
    material = spectrum.stack.layer(probe.split("/")[0]).constituents
    probe_material = next(
        c.material.name
        for c in material
        if f"{probe.split('/')[0]}/{c.name}".lower() == probe.lower()
    )
    checks = []  # (threshold, key, rate in the threshold's metric, caveat)
    for threshold in plan.thresholds:
        key = threshold_key(plan, threshold, probe)
        if key is None:  # electrolyte threshold, probed layer without pores
            continue
        checks.append(
            (
                threshold,
                key,
                float(rates[(threshold.convention, threshold.where)][spectrum.index(key)]),
                threshold.caveat(probe_material, plan.beam.energy_keV),
            )
        )
    q_grid = np.repeat(np.arange(n_loc), len(checks))
    levels = np.tile([t.dose_Gy / rate if rate > 0 else np.inf for t, _, rate, _ in checks], n_loc)
    times = _crossing_times(pairs, exposures, q_grid, levels).reshape(n_loc, len(checks))
    socs = plan.protocol.soc_at(np.nan_to_num(times))

    fluence = spots.fluence_s
    crossed = ~np.isnan(times)
    time_list = np.where(crossed, times, 0.0).tolist()
    soc_list = socs.tolist()
    final_in_metric = (
        np.array([rate for _, _, rate, _ in checks])[None, :] * fluence[:, None]
    ).tolist()
    doses = (peak_rates[None, :] * fluence[:, None]).tolist()
    entrance_doses = (entrance[None, :] * fluence[:, None]).tolist()
    columns = zip(
        schedule.locations,
        spots.xy_um.tolist(),
        crossed.tolist(),
        time_list,
        soc_list,
        final_in_metric,
        doses,
        entrance_doses,
        np.bincount(exposures.location_index, minlength=n_loc).tolist(),
        beam_seconds.tolist(),
        (probe_rate * local_rate).tolist(),
        (probe_rate * averaged).tolist(),
        strict=True,  # one entry per location in every column
    )
    locations = []
    for point, hot, hit, when, soc, in_metric, dose, at_entrance, scans, on, local, avg in columns:
        crossings = tuple(
            Crossing(
                t,
                key,
                when[i] if hit[i] else None,
                soc[i] if hit[i] else None,
                in_metric[i],
                caveat,
            )
            for i, (t, key, _, caveat) in enumerate(checks)
        )
        locations.append(
            LocationResult(
                name=point.name,
                x_um=point.x_um,
                y_um=point.y_um,
                hot_xy_um=(hot[0], hot[1]),
                scans=scans,
                beam_on_s=on,
                dose_Gy=dict(zip(spectrum.keys, dose, strict=True)),
                entrance_dose_Gy=dict(zip(spectrum.keys, at_entrance, strict=True)),
                local_dose_rate_Gy_per_s=local,
                averaged_dose_rate_Gy_per_s=avg,
                crossings=crossings,
                verdict=verdict([c.threshold for c in crossings if c.time_s is not None]),
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
