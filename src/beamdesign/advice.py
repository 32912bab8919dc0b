"""Computed advice: what to change so that no location's hottest point crosses a threshold
(in the threshold's own dose metric) before the protocol ends. Every option is solved from the
model and re-checked by running the modified plan.

Options, for one threshold and the constituent it applies to:

- **flux**: dose is linear in flux, so the largest flux is ``flux * D_threshold / D_worst``
  (equivalently an attenuator of that transmission);
- **beamline filter** (a plan naming a beamline): its real filters, one or two stacked, with
  the largest transmission at the beam energy that keeps the threshold;
- **exposure per scan**: all exposures scaled by one factor, found by bisection (with
  ``loop: until-end`` shorter scans mean more loops, so the dose is not proportional to it);
- **raster step**: the smallest step (both axes scaled) that removes enough overlap, by bisection;
- **fresh locations**: split the worst location's scans over ``n`` non-overlapping spots, moving
  on after ``k`` scans, with ``k`` the most scans one spot takes below the threshold (counting
  the location's own scans: spots a beam size apart do not share dose).

Signal-aware, for a plan with a ``design`` section: every option above also gives the SNR per
scan it leaves (``signal.plan_signal`` of the changed plan) and is refused below the design's
floor; the design's own least-dose candidates (``design.try_design``: plans of its grid that
keep its limit and its floor, each re-checked here against the advised threshold) are added as
options, or one sentence says that no plan of the grid keeps both, and what would help.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from beamdesign.dose import DoseSpectrum
from beamdesign.errors import InputError
from beamdesign.experiment import ExperimentResult, metric_rates, plan_spectrum
from beamdesign.hotspots import hotspots
from beamdesign.plan import Plan, probe_key, threshold_key
from beamdesign.reprs import compact_repr
from beamdesign.schedule import Schedule
from beamdesign.signal import plan_signal
from beamdesign.thresholds import Threshold
from beamdesign.units import si

BISECTION_STEPS = 24
MARGIN = 0.999  # solve for 99.9 % of the threshold so that rounding never lands above it
SMALLEST_EXPOSURE_FACTOR = 1e-4
WIDEST_STEP_FACTOR = 20.0
DESIGN_OPTIONS = 3  # design candidates offered, least dose first


@dataclass(frozen=True)
class Option:
    """One way to stay below the threshold; ``rechecked_dose_Gy`` is the worst dose re-run."""

    name: str
    feasible: bool
    sentence: str
    rechecked_dose_Gy: float | None = None
    plan_changes: dict[str, Any] | None = None
    snr_per_scan: float | None = None  # with a design section: the SNR per scan it leaves

    __repr__ = compact_repr


@dataclass(frozen=True)
class Advice:
    threshold: Threshold
    constituent: str
    worst_location: str
    worst_dose_Gy: float
    options: tuple[Option, ...]
    snr_per_scan: float | None = None  # the plan's own, with a design section
    snr_floor: float | None = None  # the design's minimum SNR per scan

    __repr__ = compact_repr

    @property
    def needed(self) -> bool:
        return self.worst_dose_Gy > self.threshold.dose_Gy

    @property
    def low_signal(self) -> bool:
        """The plan's SNR per scan is below its design's floor."""
        return self.snr_floor is not None and (self.snr_per_scan or 0.0) < self.snr_floor

    @property
    def sentences(self) -> tuple[str, ...]:
        target = f"{self.constituent} below {si(self.threshold.dose_Gy, 'Gy')}"
        options = tuple(o.sentence[0].upper() + o.sentence[1:] + "." for o in self.options)
        snr = f"its SNR per scan, {self.snr_per_scan or 0.0:.3g},"
        if self.needed:
            head = (
                f"To keep {target} ({self.threshold.name}) until the protocol ends "
                f"(now {si(self.worst_dose_Gy, 'Gy')} at {self.worst_location}):"
            )
            return (head, *options)
        head = (
            f"Every location keeps {target} ({self.threshold.name}) until the protocol "
            f"ends; the highest is {si(self.worst_dose_Gy, 'Gy')} at {self.worst_location}."
        )
        if self.snr_floor is None:
            return (head,)
        if not self.low_signal:
            return (f"{head[:-1]}, and {snr} keeps the design's floor {self.snr_floor:g}.",)
        return (f"{head[:-1]}, but {snr} is below the design's floor {self.snr_floor:g}:", *options)


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
    changed = plan.replace(beam={**plan.config["beam"], "flux_ph_s": flux})
    recheck = _worst_dose(changed, changed.schedule, rate * factor)[0]
    return Option(
        "flux",
        recheck <= limit,
        f"lower the flux to {flux:.3g} ph/s (an attenuator transmitting {factor:.3g}): "
        f"worst dose {si(recheck, 'Gy')}",
        recheck,
        {"beam": changed.to_config()["beam"]},
    )


def _filter_option(
    plan: Plan, chosen: Threshold, key: str, limit: float, worst_dose: float
) -> Option | None:
    """For a plan on a beamline: its real filters (one, or two stacked) whose transmission at
    the beam energy is the largest that keeps the limit; re-checked by running the plan."""
    if plan.beamline is None or not plan.beamline.attenuators:
        return None
    profile, energy = plan.beamline, np.array([plan.beam.energy_keV])
    needed = limit / worst_dose * MARGIN
    single = {name: float(f.transmission(energy)[0]) for name, f in profile.attenuators}
    combos = {(name,): t for name, t in single.items()} | {
        (a, b): single[a] * single[b] for a, b in itertools.combinations(single, 2)
    }
    enough = {names: t for names, t in combos.items() if t <= needed}
    if not enough:
        return Option(
            "beamline filter",
            False,
            f"the filters of beamline '{profile.name}' transmit at least "
            f"{min(combos.values()):.3g} at {plan.beam.energy_keV:g} keV, two stacked: not "
            f"enough (needed {needed:.3g})",
        )
    names, transmission = max(enough.items(), key=lambda item: (item[1], -len(item[0])))
    beam = {
        **plan.config["beam"],
        "attenuators": [*(plan.config["beam"].get("attenuators") or []), *names],
    }
    changed = plan.replace(beam=beam)
    recheck = _worst_dose(changed, changed.schedule, _threshold_rate(changed, chosen, key))[0]
    return Option(
        "beamline filter",
        recheck <= limit,
        f"insert the filter{'s' if len(names) > 1 else ''} {' + '.join(names)} of beamline "
        f"'{profile.name}' (transmitting {transmission:.3g} at {plan.beam.energy_keV:g} keV): "
        f"worst dose {si(recheck, 'Gy')}",
        recheck,
        {"beam": beam},
    )


def _exposure_option(plan: Plan, limit: float, rate: float) -> Option:
    """All exposures scaled by one factor, found by bisection."""
    schedule = plan.schedule
    schedule_config = schedule.to_config()

    def scaled(s: float) -> Schedule:
        config = dict(schedule_config)
        if "energy_scan" in config:  # a scan: every point's dwell
            config["energy_scan"] = {
                **config["energy_scan"],
                "dwell_s": config["energy_scan"]["dwell_s"] * s,
            }
        elif "locations" in config:
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
    shortest = float(new.exposure_s.min())
    if plan.beamline is not None and shortest < plan.beamline.shortest_exposure_s:
        return Option(
            "exposure per scan",
            False,
            f"shorter exposures would need {shortest:.2g} s scans, below the shortest exposure "
            f"of beamline '{plan.beamline.name}' ({plan.beamline.shortest_exposure_s:g} s)",
        )
    recheck = _worst_dose(plan, new, rate)[0]
    listing = (
        ", ".join(f"{p.name} {p.exposure_s:.2g} s" for p in new.locations[:4])
        if schedule.raster is None
        else f"{new.locations[0].exposure_s:.2g} s per scan"
    )
    if new.energy_scan is not None:
        listing = f"{new.energy_scan.dwell_s:.2g} s per point of each energy scan"
    elif schedule.raster is None and len(new.locations) > 4:
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
    mine = exposures.location_index == worst
    # one scan per visit (an energy scan's points summed; ``rate`` is its scan mean)
    starts = np.flatnonzero(exposures.visits[mine])
    per_scan = rate * np.add.reduceat(exposures.duration_s[mine], starts) if starts.size else starts
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


def _snr(plan: Plan) -> float:
    """SNR per scan of a plan with a design section (its technique, at its shortest exposure)."""
    assert plan.design is not None  # only called for plans with a design section
    quality = plan.design.quality
    return plan_signal(
        plan, quality.technique, dict(quality.options), quality.detector, "design.signal"
    ).snr_per_scan


def _with_snr(plan: Plan, option: Option, floor: float, snr_now: float) -> Option:
    """The option with the SNR per scan it leaves; refused below the floor."""
    if option.plan_changes is None and not option.feasible:
        return option  # nothing to measure: the option says why it does not apply
    # fresh locations keep the flux and the exposures: the SNR of the plan itself
    snr = _snr(plan.replace(**option.plan_changes)) if option.plan_changes else snr_now
    keeps = snr >= floor
    verdict = f"floor {floor:g} kept" if keeps else f"below the floor {floor:g}: refused"
    return dataclasses.replace(
        option,
        feasible=option.feasible and keeps,
        sentence=f"{option.sentence}; SNR per scan {snr:.3g} ({verdict})",
        snr_per_scan=snr,
    )


def _threshold_rate(
    plan: Plan, chosen: Threshold, key: str, spectrum: DoseSpectrum | None = None
) -> float:
    """Peak dose rate (Gy/s) of ``key`` in the threshold's own metric."""
    spectrum = spectrum if spectrum is not None else plan_spectrum(plan)
    return float(metric_rates(plan, spectrum, chosen.convention, chosen.where)[spectrum.index(key)])


def _design_options(plan: Plan, chosen: Threshold, key: str) -> list[Option]:
    """The design's least-dose candidates, re-checked against ``chosen``, or the one sentence
    that no plan of its grid keeps both its limit and its floor."""
    from beamdesign.design import try_design, values_text  # design imports the sweep engine

    config = plan.to_config()
    section = config.pop("design")
    result = try_design(config, section)
    if isinstance(result, InputError):
        found = result.allowed.removeprefix("not reachable: ")
        return [
            Option(
                "design",
                False,
                f"no plan of the design's grid keeps both its limit and an SNR per scan >= "
                f"{result.value:g}: {found}; {result.hint}",
            )
        ]
    options = []
    for c in result.candidates[:DESIGN_OPTIONS]:
        changes = {k: v for k, v in c.plan.items() if k in config and config[k] != v}
        changed = plan.replace(**changes)
        recheck = _worst_dose(changed, changed.schedule, _threshold_rate(changed, chosen, key))[0]
        options.append(
            Option(
                "design",
                recheck <= chosen.dose_Gy,
                f"set {values_text(c.values)} (a design candidate): worst dose "
                f"{si(recheck, 'Gy')}; SNR per scan {c.snr_per_scan:.3g} (floor "
                f"{result.design.min_snr_per_scan:g} kept)",
                recheck,
                changes,
                c.snr_per_scan,
            )
        )
    return options


def advise(
    plan: Plan,
    threshold: Threshold | str | float | None = None,
    result: ExperimentResult | None = None,
) -> Advice:
    """Computed options that keep every location's hottest point below ``threshold`` (default:
    the lowest threshold on the probed constituent, or on any constituent when none is on the
    probe) until the protocol ends, in the threshold's own dose metric; with a design section,
    also its SNR floor (module docstring).

    ``result``, when given, must be ``run_plan(plan)``: its dose rates are reused.
    """
    chosen = _pick_threshold(plan, threshold)
    probe = probe_key(plan)
    key = threshold_key(plan, chosen, probe) or probe
    rate = _threshold_rate(plan, chosen, key, result.spectrum if result is not None else None)
    limit = chosen.dose_Gy
    worst_dose, worst = _worst_dose(plan, plan.schedule, rate)
    worst_name = plan.schedule.locations[worst].name
    options: list[Option] = []
    if worst_dose > limit:
        options = [_flux_option(plan, limit, rate, worst_dose)]
        filters = _filter_option(plan, chosen, key, limit, worst_dose)
        if filters is not None:
            options.append(filters)
        options.append(_exposure_option(plan, limit, rate))
        if plan.schedule.raster is not None:
            options.append(_step_option(plan, limit, rate))
        fresh = _fresh_locations_option(plan, limit, rate, worst)
        if fresh is not None:
            options.append(fresh)
    if plan.design is None:
        return Advice(chosen, key, worst_name, worst_dose, tuple(options))
    floor, snr_now = plan.design.min_snr_per_scan, _snr(plan)
    options = [_with_snr(plan, option, floor, snr_now) for option in options]
    if worst_dose > limit or snr_now < floor:
        options += _design_options(plan, chosen, key)
    return Advice(chosen, key, worst_name, worst_dose, tuple(options), snr_now, floor)
