"""Computed advice: what to change so that no location's hottest point crosses a threshold
(in the threshold's own dose metric) before the protocol ends. Every option is solved from the
model and re-checked by running the modified plan.

Options, for one threshold and the constituent it applies to:

- **flux**: dose is linear in flux, so the largest flux is ``flux * D_threshold / D_worst``
  (equivalently an attenuator of that transmission);
- **exposure per scan**: all exposures scaled by one factor, found by bisection (with
  ``loop: until-end`` shorter scans mean more loops, so the dose is not proportional to it);
- **raster step**: the smallest step (both axes scaled) that removes enough overlap, by bisection;
- **fresh locations**: split the worst location's scans over ``n`` non-overlapping spots, moving
  on after ``k`` scans, with ``k`` the most scans one spot takes below the threshold (counting
  the location's own scans: spots a beam size apart do not share dose).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from beamdesign.dose import dose_spectrum
from beamdesign.electron_session import ElectronBeam, current_words, scaled_current
from beamdesign.errors import InputError
from beamdesign.experiment import ExperimentResult, metric_rates
from beamdesign.hotspots import hotspots
from beamdesign.plan import Plan, probe_key, threshold_key
from beamdesign.schedule import Schedule
from beamdesign.thresholds import Threshold
from beamdesign.units import si

BISECTION_STEPS = 24
MARGIN = 0.999  # solve for 99.9 % of the threshold so that rounding never lands above it
SMALLEST_EXPOSURE_FACTOR = 1e-4
WIDEST_STEP_FACTOR = 20.0


@dataclass(frozen=True)
class Option:
    """One way to stay below the threshold; ``rechecked_dose_Gy`` is the worst dose re-run."""

    name: str
    feasible: bool
    sentence: str
    rechecked_dose_Gy: float | None = None
    plan_changes: dict[str, Any] | None = None


@dataclass(frozen=True)
class Advice:
    threshold: Threshold
    constituent: str
    worst_location: str
    worst_dose_Gy: float
    options: tuple[Option, ...]

    @property
    def needed(self) -> bool:
        return self.worst_dose_Gy > self.threshold.dose_Gy

    @property
    def sentences(self) -> tuple[str, ...]:
        target = f"{self.constituent} below {si(self.threshold.dose_Gy, 'Gy')}"
        if not self.needed:
            return (
                f"Every location keeps {target} ({self.threshold.name}) until the protocol "
                f"ends; the highest is {si(self.worst_dose_Gy, 'Gy')} at {self.worst_location}.",
            )
        head = (
            f"To keep {target} ({self.threshold.name}) until the protocol ends "
            f"(now {si(self.worst_dose_Gy, 'Gy')} at {self.worst_location}):"
        )
        return (head, *(o.sentence[0].upper() + o.sentence[1:] + "." for o in self.options))


def _worst_dose(plan: Plan, schedule: Schedule, rate_Gy_per_s: float) -> tuple[float, int]:
    """Highest final dose over the locations' hottest points, and where (location index)."""
    exposures = schedule.exposures(plan.protocol.duration_s)
    seconds = np.bincount(
        exposures.location_index, weights=exposures.duration_s, minlength=len(schedule.locations)
    )
    fluence = hotspots(schedule.xy_um, seconds, plan.beam).fluence_s
    worst = int(np.argmax(fluence))
    return rate_Gy_per_s * float(fluence[worst]), worst


def _pick_threshold(plan: Plan, threshold: Threshold | str | float | None) -> Threshold:
    if isinstance(threshold, Threshold):
        return threshold
    if isinstance(threshold, (int, float)):
        if not threshold > 0:
            raise InputError("advice threshold", threshold, "a dose > 0 Gy")
        return Threshold(
            f"{si(threshold, 'Gy')} limit", float(threshold), None, f"above {si(threshold, 'Gy')}"
        )
    if threshold is None:  # the lowest on the probe, else the lowest on any constituent
        on_probe = [t for t in plan.thresholds if t.constituent is None]
        return min(on_probe or plan.thresholds, key=lambda t: t.dose_Gy)
    for t in plan.thresholds:
        if t.name.lower() == str(threshold).lower():
            return t
    raise InputError(
        "advice threshold",
        threshold,
        "one of the plan's thresholds: " + ", ".join(t.name for t in plan.thresholds),
    )


def _bisect(feasible: Callable[[float], bool], low: float, high: float, log: bool = True) -> float:
    """Largest x in [low, high] with feasible(x), assuming feasible(low) and monotonicity."""
    for _ in range(BISECTION_STEPS):
        middle = math.sqrt(low * high) if log else (low + high) / 2
        low, high = (middle, high) if feasible(middle) else (low, middle)
    return low


def _round_down(value: float, digits: int = 2) -> float:
    if value <= 0:
        return value
    scale: float = 10 ** (math.floor(math.log10(value)) - digits + 1)
    return math.floor(value / scale) * scale


def _round_up(value: float, digits: int = 2) -> float:
    scale: float = 10 ** (math.floor(math.log10(value)) - digits + 1)
    return math.ceil(value / scale) * scale


def _flux_option(plan: Plan, limit: float, rate: float, worst_dose: float) -> Option:
    """Dose is linear in flux: the largest flux is ``flux * limit / worst``."""
    factor = _round_down(limit / worst_dose * MARGIN, 3)
    flux = plan.beam.flux_ph_s * factor
    section: dict[str, Any]
    if isinstance(plan.beam, ElectronBeam):  # an electron session: scale its current
        section, words = scaled_current(plan.config, factor), current_words(plan.beam, factor)
    else:
        section = {"beam": {**plan.config["beam"], "flux_ph_s": flux}}
        words = f"lower the flux to {flux:.3g} ph/s (an attenuator transmitting {factor:.3g})"
    changed = plan.replace(**section)
    recheck = _worst_dose(changed, changed.schedule, rate * factor)[0]
    return Option(
        "flux",
        recheck <= limit,
        f"{words}: worst dose {si(recheck, 'Gy')}",
        recheck,
        {key: changed.config[key] for key in section},
    )


def _exposure_option(plan: Plan, limit: float, rate: float) -> Option:
    """All exposures scaled by one factor, found by bisection."""
    schedule = plan.schedule
    schedule_config = schedule.to_config()

    def scaled(s: float) -> Schedule:
        config = dict(schedule_config)
        if "locations" in config:
            config["locations"] = [
                {**p, "exposure_s": p["exposure_s"] * s} for p in config["locations"]
            ]
        else:
            config["exposure_s"] = config["exposure_s"] * s
        return Schedule.from_config(config)

    def exposure_ok(s: float) -> bool:
        return _worst_dose(plan, scaled(s), rate)[0] <= limit * MARGIN

    if not exposure_ok(SMALLEST_EXPOSURE_FACTOR):
        return Option(
            "exposure per scan",
            False,
            "shorter exposures alone do not help: with the loop running until the end, "
            "the locations are then measured more often; add a pause between loops or "
            "lower the flux",
        )
    s = _bisect(exposure_ok, SMALLEST_EXPOSURE_FACTOR, 1.0)
    longest = float(schedule.exposure_s.max())
    s = _round_down(longest * s) / longest
    new = scaled(s)
    recheck = _worst_dose(plan, new, rate)[0]
    listing = (
        ", ".join(f"{p.name} {p.exposure_s:.2g} s" for p in new.locations[:4])
        if schedule.raster is None
        else f"{new.locations[0].exposure_s:.2g} s per scan"
    )
    if schedule.raster is None and len(new.locations) > 4:
        listing += ", ..."
    return Option(
        "exposure per scan",
        recheck <= limit,
        f"shorten every exposure by ×{s:.3g} ({listing}): worst dose {si(recheck, 'Gy')}",
        recheck,
        {"schedule": new.to_config()},
    )


def _step_option(plan: Plan, limit: float, rate: float) -> Option:
    """The smallest raster step (both axes scaled) whose hottest point stays below the limit."""
    schedule_config = plan.schedule.to_config()
    step = np.atleast_1d(schedule_config["raster"]["step_um"]).astype(float)

    def stepped(f: float) -> Schedule:
        config = dict(schedule_config)
        config["raster"] = {
            **config["raster"],
            "step_um": [float(v) for v in np.resize(step * f, 2)],
        }
        return Schedule.from_config(config)

    def step_ok(f: float) -> bool:
        return _worst_dose(plan, stepped(f), rate)[0] <= limit * MARGIN

    if not step_ok(WIDEST_STEP_FACTOR):
        return Option(
            "raster step",
            False,
            "a wider raster step alone is not enough: each "
            "point's own scans already exceed the threshold",
        )
    low, high = 1.0, WIDEST_STEP_FACTOR
    for _ in range(BISECTION_STEPS):  # smallest f that is feasible
        middle = math.sqrt(low * high)
        low, high = (low, middle) if step_ok(middle) else (middle, high)
    new_step = [_round_up(v) for v in np.resize(step * high, 2)]
    config = dict(schedule_config)
    config["raster"] = {**config["raster"], "step_um": new_step}
    new = Schedule.from_config(config)
    recheck = _worst_dose(plan, new, rate)[0]
    return Option(
        "raster step",
        recheck <= limit,
        f"widen the raster step to {new_step[0]:g} × {new_step[1]:g} µm: worst dose "
        f"{si(recheck, 'Gy')}",
        recheck,
        {"schedule": new.to_config()},
    )


def _fresh_locations_option(plan: Plan, limit: float, rate: float, worst: int) -> Option | None:
    """Split the worst location's scans over fresh spots, moving on after ``k`` scans."""
    schedule = plan.schedule
    name = schedule.locations[worst].name
    exposures = schedule.exposures(plan.protocol.duration_s)
    per_scan = rate * exposures.duration_s[exposures.location_index == worst]
    if not per_scan.size:
        return None
    if per_scan.max() > limit:
        return Option(
            "fresh locations",
            False,
            f"fresh locations do not help: one scan at "
            f"{name} already gives {si(float(per_scan.max()), 'Gy')}",
        )
    fits = np.cumsum(per_scan) <= limit * MARGIN
    k = max(int(np.count_nonzero(fits)), 1)
    n = math.ceil(per_scan.size / k)
    spot_dose = float(np.add.reduceat(per_scan, np.arange(0, per_scan.size, k)).max())
    return Option(
        "fresh locations",
        spot_dose <= limit,
        f"spread {name}'s {per_scan.size} scans over {n} fresh locations ({k} "
        f"scan{'s' if k > 1 else ''} each, at least one beam size apart): dose per "
        f"location {si(spot_dose, 'Gy')}",
        spot_dose,
    )


def advise(
    plan: Plan,
    threshold: Threshold | str | float | None = None,
    result: ExperimentResult | None = None,
) -> Advice:
    """Computed options that keep every location's hottest point below ``threshold`` (default:
    the lowest threshold on the probed constituent, or on any constituent when none is on the
    probe) until the protocol ends, in the threshold's own dose metric.

    ``result``, when given, must be ``run_plan(plan)``: its dose rates are reused.
    """
    chosen = _pick_threshold(plan, threshold)
    spectrum = result.spectrum if result is not None else dose_spectrum(plan.stack, plan.beam)
    probe = probe_key(plan)
    key = threshold_key(plan, chosen, probe) or probe
    rate = float(metric_rates(plan, spectrum, chosen.convention, chosen.where)[spectrum.index(key)])
    limit = chosen.dose_Gy
    worst_dose, worst = _worst_dose(plan, plan.schedule, rate)
    worst_name = plan.schedule.locations[worst].name
    if worst_dose <= limit:
        return Advice(chosen, key, worst_name, worst_dose, ())
    options = [_flux_option(plan, limit, rate, worst_dose), _exposure_option(plan, limit, rate)]
    if plan.schedule.raster is not None:
        options.append(_step_option(plan, limit, rate))
    fresh = _fresh_locations_option(plan, limit, rate, worst)
    if fresh is not None:
        options.append(fresh)
    return Advice(chosen, key, worst_name, worst_dose, tuple(options))
