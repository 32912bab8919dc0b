"""Dose over an experiment: every location's cumulative dose against time and state of charge,
its dose rates, the thresholds it crosses and when (PHYSICS.md §3).

Dose accumulates only while the beam is on: for location *q* and exposure *e* centred on
``p_e`` lasting ``t_e``, ``D_q += Ddot_peak * profile(q - p_e) * t_e``, with ``Ddot_peak`` the
dose rate at the beam centre. A Gaussian's tails, or a raster step smaller than the spot, give
dose to neighbours; every exposure counts at every location it reaches.

- **local dose rate**: the dose rate while the beam is on the location (its peak value);
- **averaged dose rate**: dose / elapsed time from the start of the first exposure reaching the
  location to the end of the last one, beam-off time included.

Threshold crossings are exact: the dose at a location is piecewise linear in time, so the
crossing is solved inside the exposure during which it happens.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from beamdesign.dose import DoseSpectrum, dose_spectrum
from beamdesign.dosemap import DoseMap, dose_map, overlap_matrix
from beamdesign.plan import Plan, probe_key
from beamdesign.schedule import Exposures
from beamdesign.thresholds import Threshold, verdict

#: overlap below this fraction of the peak fluence is neglected when solving crossings
OVERLAP_CUTOFF = 1e-9
TIMELINE_POINTS = 1001


@dataclass(frozen=True)
class Crossing:
    """When (time, SOC) a constituent's dose at a location crosses a threshold; None if never."""

    threshold: Threshold
    constituent: str
    time_s: float | None
    soc: float | None


@dataclass(frozen=True)
class LocationResult:
    """What one location receives over the whole experiment."""

    name: str
    x_um: float
    y_um: float
    scans: int
    beam_on_s: float
    dose_Gy: dict[str, float]  # "<layer>/<constituent>" -> final dose
    local_dose_rate_Gy_per_s: float
    averaged_dose_rate_Gy_per_s: float
    crossings: tuple[Crossing, ...]
    verdict: str


@dataclass(frozen=True, eq=False)
class ExperimentResult:
    """The outcome of running a plan: per-location results and the probed-dose timeline."""

    plan: Plan
    spectrum: DoseSpectrum  # dose rates at the beam energy (one column)
    probe: str  # "<layer>/<constituent>"
    exposures: Exposures
    overlap: np.ndarray  # (n_loc, n_loc) relative fluence at q with the beam on p
    beam_on_s: np.ndarray  # (n_loc,) beam-on seconds centred on each location
    fluence_s: np.ndarray  # (n_loc,) final peak-fluence-seconds at each location
    time_s: np.ndarray  # (n_t,) timeline
    soc: np.ndarray  # (n_t,)
    probe_dose_Gy: np.ndarray  # (n_loc, n_t) cumulative dose of the probed constituent
    locations: tuple[LocationResult, ...]

    @property
    def probe_peak_rate_Gy_per_s(self) -> float:
        return float(self.spectrum.peak_dose_rate_Gy_per_s[self.spectrum.index(self.probe), 0])

    @cached_property
    def final_dose_Gy(self) -> np.ndarray:
        """(n_const, n_loc) final dose of every constituent at every location."""
        return self.spectrum.peak_dose_rate_Gy_per_s[:, :1] * self.fluence_s[None, :]

    def worst(self, constituent: str | None = None) -> LocationResult:
        """The location with the highest final dose of ``constituent`` (default: the probe)."""
        key = constituent or self.probe
        return max(self.locations, key=lambda loc: loc.dose_Gy[key])

    def dose_map(self, resolution_um: float | None = None, constituent: str | None = None) -> DoseMap:
        """2-D map of the final dose (Gy) of ``constituent`` (default: the probe)."""
        beam = self.plan.beam
        step = resolution_um or max(min(beam.spot_um) / 8.0, 1.0)
        raw = dose_map(self.plan.schedule.xy_um, self.beam_on_s, beam.relative_fluence(), step)
        rate = float(self.spectrum.peak_dose_rate_Gy_per_s[
            self.spectrum.index(constituent or self.probe), 0])
        return DoseMap(x_um=raw.x_um, y_um=raw.y_um, values=raw.values * rate,
                       peak_value=raw.peak_value * rate, peak_xy_um=raw.peak_xy_um,
                       resolution_um=raw.resolution_um, method=raw.method)

    def to_dict(self, timeline: bool = True) -> dict:
        """The JSON form printed by ``beamdesign run --json``."""
        out = {
            "title": self.plan.title,
            "convention": self.plan.beam.convention,
            "probe": self.probe,
            "protocol_duration_s": self.plan.protocol.duration_s,
            "locations": [
                {
                    "name": loc.name, "x_um": loc.x_um, "y_um": loc.y_um, "scans": loc.scans,
                    "beam_on_s": loc.beam_on_s, "dose_Gy": loc.dose_Gy,
                    "local_dose_rate_Gy_per_s": loc.local_dose_rate_Gy_per_s,
                    "averaged_dose_rate_Gy_per_s": loc.averaged_dose_rate_Gy_per_s,
                    "verdict": loc.verdict,
                    "crossings": [
                        {"threshold": c.threshold.name, "dose_Gy": c.threshold.dose_Gy,
                         "constituent": c.constituent, "time_s": c.time_s, "soc": c.soc}
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
                "dose_Gy": {loc.name: row.tolist()
                            for loc, row in zip(self.locations, self.probe_dose_Gy)},
            }
        return out

    def timeline_csv(self) -> str:
        """The timeline as CSV: time, SOC, then the probed dose (Gy) at each location."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["time_s", "soc"] + [f"dose_Gy[{loc.name}]" for loc in self.locations])
        columns = np.vstack([self.time_s, self.soc, self.probe_dose_Gy]).T
        writer.writerows([f"{v:.6g}" for v in row] for row in columns)
        return buffer.getvalue()


def _pairs(exposures: Exposures, overlap: np.ndarray) -> dict[str, np.ndarray]:
    """Every (location q, exposure k) with a non-negligible overlap, grouped by q in time order.

    Returns arrays over pairs: ``q``, ``k``, ``rate`` (relative fluence at q during k) and
    ``cumulative`` (peak-fluence-seconds at q by the end of k).
    """
    reach = overlap > OVERLAP_CUTOFF
    p_of, q_of = np.nonzero(reach.T)  # neighbour lists, grouped by the beam position p
    starts = np.searchsorted(p_of, np.arange(overlap.shape[0]))
    counts = np.bincount(p_of, minlength=overlap.shape[0])
    position = exposures.location_index
    n_per_exposure = counts[position]
    k = np.repeat(np.arange(position.size), n_per_exposure)
    offsets = np.arange(k.size) - np.repeat(np.cumsum(n_per_exposure) - n_per_exposure,
                                            n_per_exposure)
    q = q_of[starts[position[k]] + offsets]
    order = np.argsort(q, kind="stable")  # pairs were built in exposure (time) order
    q, k = q[order], k[order]
    rate = overlap[q, position[k]]
    gained = rate * exposures.duration_s[k]
    cumulative = np.cumsum(gained)
    first = np.searchsorted(q, np.arange(overlap.shape[0]))
    group_start = np.concatenate([[0.0], cumulative])[first]
    cumulative = cumulative - np.repeat(group_start, np.bincount(q, minlength=overlap.shape[0]))
    return {"q": q, "k": k, "rate": rate, "cumulative": cumulative, "first": first}


def _fluence_timeline(pairs: dict[str, np.ndarray], exposures: Exposures, overlap: np.ndarray,
                      time_s: np.ndarray) -> np.ndarray:
    """Peak-fluence-seconds (n_loc, n_t) at each location and time, from the sparse pairs.

    Completed exposures: the cumulative value of the last pair ending by ``t`` in each
    location's group; the one exposure under way at ``t`` adds ``overlap * (t - start)``.
    """
    n_loc = overlap.shape[0]
    if not exposures.start_s.size:
        return np.zeros((n_loc, time_s.size))
    span = float(max(exposures.end_s[-1], time_s.max())) + 1.0
    key = pairs["q"] * span + exposures.end_s[pairs["k"]]
    query = np.arange(n_loc)[:, None] * span + time_s[None, :]
    last = np.searchsorted(key, query, side="right") - 1
    completed = np.where(last >= pairs["first"][:, None],
                         pairs["cumulative"][np.maximum(last, 0)], 0.0)
    running = np.searchsorted(exposures.start_s, time_s, side="right") - 1
    under_way = (running >= 0) & (time_s < exposures.end_s[np.maximum(running, 0)])
    j = np.maximum(running, 0)
    reach = np.where(overlap > OVERLAP_CUTOFF, overlap, 0.0)  # the same cut as the pairs
    partial = reach[:, exposures.location_index[j]] * np.where(
        under_way, time_s - exposures.start_s[j], 0.0)[None, :]
    return completed + partial


def _crossing_times(pairs: dict[str, np.ndarray], exposures: Exposures, q: np.ndarray,
                    level: np.ndarray) -> np.ndarray:
    """Exact time at which location ``q[i]`` reaches ``level[i]`` peak-fluence-seconds (nan: never)."""
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


def threshold_constituent(threshold: Threshold, probe: str, plan: Plan) -> str | None:
    """The constituent a threshold is checked on, or None when the stack has no such thing."""
    if threshold.constituent is None:
        return probe
    layer = plan.stack.layer(probe.split("/")[0])
    if threshold.constituent.lower() == "electrolyte":
        fillers = [c for c in layer.constituents if c.role == "pore filler"]
        return f"{layer.name}/{fillers[0].name}" if fillers else None
    return threshold.constituent if "/" in threshold.constituent else (
        f"{layer.name}/{threshold.constituent}")


def run_plan(plan: Plan, timeline_points: int = TIMELINE_POINTS) -> ExperimentResult:
    """Run a plan through the dose engine and the schedule; see the module docstring."""
    spectrum = dose_spectrum(plan.stack, plan.beam)
    peak_rates = spectrum.peak_dose_rate_Gy_per_s[:, 0]
    probe = probe_key(plan) or spectrum.keys[int(np.argmax(peak_rates))]
    schedule = plan.schedule
    end_s = plan.protocol.duration_s
    exposures = schedule.exposures(end_s)
    n_loc = len(schedule.locations)
    overlap = overlap_matrix(schedule.xy_um, plan.beam.relative_fluence())
    beam_seconds = np.bincount(exposures.location_index, weights=exposures.duration_s,
                               minlength=n_loc)
    fluence_s = overlap @ beam_seconds
    time_s = np.linspace(0.0, end_s, timeline_points)
    probe_rate = float(peak_rates[spectrum.index(probe)])
    pairs = _pairs(exposures, overlap)
    probe_dose = probe_rate * _fluence_timeline(pairs, exposures, overlap, time_s)

    counts = np.bincount(pairs["q"], minlength=n_loc)
    has_pairs = counts > 0
    first = np.minimum(pairs["first"], max(pairs["q"].size - 1, 0))
    last = np.maximum(pairs["first"] + counts - 1, 0)
    window_start = np.where(has_pairs, exposures.start_s[pairs["k"][first]] if pairs["q"].size
                            else 0.0, np.nan)
    window_end = np.where(has_pairs, exposures.end_s[pairs["k"][last]] if pairs["q"].size
                          else 0.0, np.nan)
    local_rate = np.zeros(n_loc)
    np.maximum.at(local_rate, pairs["q"], pairs["rate"])

    checks = []  # (threshold, key, peak rate of that constituent)
    for threshold in plan.thresholds:
        key = threshold_constituent(threshold, probe, plan)
        if key is not None:
            checks.append((threshold, key, float(peak_rates[spectrum.index(key)])))
    q_grid = np.repeat(np.arange(n_loc), len(checks))
    levels = np.tile([t.dose_Gy / rate if rate > 0 else np.inf for t, _, rate in checks], n_loc)
    times = _crossing_times(pairs, exposures, q_grid, levels).reshape(n_loc, len(checks))
    socs = plan.protocol.soc_at(np.nan_to_num(times))

    final = peak_rates[:, None] * fluence_s[None, :]
    scans = np.bincount(exposures.location_index, minlength=n_loc)
    locations = []
    for q, point in enumerate(schedule.locations):
        crossings = tuple(
            Crossing(t, key, None if np.isnan(times[q, i]) else float(times[q, i]),
                     None if np.isnan(times[q, i]) else float(socs[q, i]))
            for i, (t, key, _) in enumerate(checks))
        dose_probe = float(final[spectrum.index(probe), q])
        elapsed = window_end[q] - window_start[q]
        locations.append(LocationResult(
            name=point.name, x_um=point.x_um, y_um=point.y_um,
            scans=int(scans[q]),
            beam_on_s=float(beam_seconds[q]),
            dose_Gy={key: float(final[i, q]) for i, key in enumerate(spectrum.keys)},
            local_dose_rate_Gy_per_s=probe_rate * float(local_rate[q]),
            averaged_dose_rate_Gy_per_s=dose_probe / elapsed if elapsed > 0 else 0.0,
            crossings=crossings,
            verdict=verdict([c.threshold for c in crossings if c.time_s is not None]),
        ))
    return ExperimentResult(plan, spectrum, probe, exposures, overlap, beam_seconds, fluence_s, time_s,
                            plan.protocol.soc_at(time_s), probe_dose, tuple(locations))
