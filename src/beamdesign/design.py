"""Experiment design: the plans that keep a dose limit and a data-quality floor, as a Pareto front.

A plan's ``design`` section (or a separate design file) says::

    technique: xrd-transmission | xas-transmission | xas-fluorescence
    signal: {reflection: NMC811-003}          # or {element: Ni, edge: K} for XAS (optional)
    detector: {efficiency: 0.8, ...}          # signal.Detector fields (optional; default: the
                                              # plan's beamline profile's detector, else Detector())
    limit: {threshold: jousseaume2023-safe}   # a row id of the thresholds table, or
           {dose_Gy: 8.0e4, constituent: electrolyte, convention: energy-absorption}
    minimum: {snr_per_scan: 100, time_resolution_soc_pct: 5}   # the latter optional: largest
                                              # SOC change allowed between two scans of a location
    vary: {beam.energy_keV: [20, 80], beam.flux_ph_s: [1.0e+9, 1.0e+11],
           schedule.exposure_s: {values: [1, 2.5, 10]}, ...}
    points: 5                                 # samples per [low, high] range (optional)

A ``[low, high]`` pair is a range, sampled at ``points`` values (geometric when high/low >= 10,
else linear); ``{values: [...]}`` or a list of any other length is taken as given. The grid runs
on the sweep engine; the feasible plans (worst dose of the limit's constituent, in the limit's
own convention, <= the limit; SNR per scan >= the floor; SOC step <= the maximum) are reduced to
the non-dominated set (lower dose, higher SNR, finer SOC resolution), sorted by dose (the least
damaging first), and each is run again on its own to confirm the numbers.

In a plan file the section is a first-class key: loading the plan validates it (``plan.Plan``'s
``design``), ``beamdesign run`` and the report show the SNR per scan beside the dose, and
``advice.advise`` keeps its floor. Each candidate's plan carries the section it was found with.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from beamdesign import validate
from beamdesign.coefficients import CONVENTIONS
from beamdesign.errors import InputError, did_you_mean
from beamdesign.files import read_mapping
from beamdesign.profile import load_profile
from beamdesign.reprs import compact_repr
from beamdesign.signal import TECHNIQUES, Detector
from beamdesign.sweep import (
    Quality,
    evaluate,
    get_dotted,
    grid,
    run_configs,
    runnable,
)
from beamdesign.thresholds import literature
from beamdesign.units import si

DESIGN_KEYS = ("technique", "signal", "detector", "limit", "minimum", "vary", "points")
LIMIT_KEYS = ("threshold", "dose_Gy", "constituent", "convention")
MINIMUM_KEYS = ("snr_per_scan", "time_resolution_soc_pct")
DEFAULT_POINTS = 5
MIN_POINTS, MAX_POINTS = 2, 50  # samples per [low, high] range
MAX_GRID = 20_000
RECHECK_RTOL = 1e-9  # a re-run reproduces the grid's numbers to round-off


@dataclass(frozen=True)
class Design:
    """A validated design section."""

    quality: Quality
    limit_dose_Gy: float
    limit_name: str
    min_snr_per_scan: float
    max_soc_step_pct: float | None
    vary: dict[str, list[Any]]

    __repr__ = compact_repr


@dataclass(frozen=True)
class Candidate:
    """One plan on the Pareto front."""

    plan: dict[str, Any]  # complete, runnable plan config
    values: dict[str, Any]  # the varied keys' values
    dose_Gy: float  # worst dose of the limit's constituent, in the limit's convention
    snr_per_scan: float
    time_resolution_soc_pct: float
    worst_probe_dose_Gy: float  # in the plan's own convention
    row: dict[str, Any]  # everything ``sweep.evaluate`` reported

    __repr__ = compact_repr

    def to_dict(self) -> dict[str, Any]:
        return {
            "values": self.values,
            "dose_Gy": self.dose_Gy,
            "snr_per_scan": self.snr_per_scan,
            "time_resolution_soc_pct": self.time_resolution_soc_pct,
            "worst_probe_dose_Gy": self.worst_probe_dose_Gy,
            "dose_constituent": self.row["dose_constituent"],
            "dose_convention": self.row["dose_convention"],
            "plan": self.plan,
        }


@dataclass(frozen=True)
class DesignResult:
    """The Pareto front (best first) and how it was found."""

    design: Design
    candidates: tuple[Candidate, ...]
    evaluated: int
    feasible: int

    __repr__ = compact_repr

    def to_dict(self) -> dict[str, Any]:
        d = self.design
        return {
            "technique": d.quality.technique,
            "limit": {
                "name": d.limit_name,
                "dose_Gy": d.limit_dose_Gy,
                "convention": d.quality.convention,
                "constituent": d.quality.constituent,
            },
            "minimum": {
                "snr_per_scan": d.min_snr_per_scan,
                "time_resolution_soc_pct": d.max_soc_step_pct,
            },
            "evaluated": self.evaluated,
            "feasible": self.feasible,
            "candidates": [c.to_dict() for c in self.candidates],
        }


def _number(value: object, field: str, allowed: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise InputError(field, value, allowed)
    return float(value)


def _keys(mapping: object, allowed: tuple[str, ...], field: str) -> dict[str, Any]:
    if not isinstance(mapping, dict):
        raise InputError(field, mapping, "a mapping with " + ", ".join(allowed))
    validate.unknown_keys(mapping, allowed, field)
    return mapping


def _limit(config: object, plan_convention: str) -> tuple[float, str, str | None, str]:
    """(dose_Gy, convention, constituent, name) of the limit section."""
    config = _keys(config, LIMIT_KEYS, "design.limit")
    if "threshold" in config:
        if set(config) != {"threshold"}:
            raise InputError(
                "design.limit",
                config,
                "either {threshold: ID} or {dose_Gy, constituent, convention}",
            )
        ids = [row["id"] for row in literature()]
        row = next((r for r in literature() if r["id"] == config["threshold"]), None)
        if row is None or not (row["low"] or row["high"]):
            raise InputError(
                "design.limit.threshold",
                config["threshold"],
                "a row id of the thresholds table: " + ", ".join(ids),
                did_you_mean(str(config["threshold"]), ids),
            )
        constituent = "electrolyte" if row["constituent"] == "electrolyte" else None
        return float(row["low"] or row["high"]), row["convention"], constituent, row["id"]
    if "dose_Gy" not in config:
        raise InputError(
            "design.limit", config, "either {threshold: ID} or {dose_Gy, constituent, convention}"
        )
    dose = _number(config["dose_Gy"], "design.limit.dose_Gy", "a dose > 0 (Gy)")
    if dose <= 0:
        raise InputError("design.limit.dose_Gy", config["dose_Gy"], "a dose > 0 (Gy)")
    convention = config.get("convention", plan_convention)
    if convention not in CONVENTIONS:
        raise InputError("design.limit.convention", convention, "one of " + ", ".join(CONVENTIONS))
    constituent = config.get("constituent")
    if constituent is not None and not isinstance(constituent, str):
        raise InputError(
            "design.limit.constituent",
            constituent,
            "a constituent name, 'electrolyte', or none (the probe)",
        )
    return dose, convention, constituent, f"{si(dose, 'Gy')} ({convention})"


def _samples(key: str, spec: object, points: int) -> list[Any]:
    field = f"design.vary.{key}"
    if isinstance(spec, dict):
        _keys(spec, ("values",), field)
        spec = spec["values"]
        if not isinstance(spec, list) or not spec:
            raise InputError(f"{field}.values", spec, "a non-empty list of values")
        return list(spec)
    if not isinstance(spec, list) or not spec:
        raise InputError(field, spec, "a range [low, high] or {values: [...]}")
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in spec)
    if len(spec) != 2 or not numeric:
        return list(spec)
    low, high = (_number(v, field, "numbers") for v in spec)
    if not low < high:
        raise InputError(
            field,
            spec,
            "a range [low, high] with low < high",
            "write {values: [a, b]} for two given values",
        )
    if low > 0 and high / low >= 10:
        return [float(v) for v in np.geomspace(low, high, points)]
    return [float(v) for v in np.linspace(low, high, points)]


def _check_key(plan_config: dict[str, Any], key: str) -> None:
    """A varied key must address the plan: its parent section exists (``beam``, ``schedule``,
    ``schedule.raster`` ...), so that a value cannot create a section the plan does not use."""
    parent, _, _ = key.rpartition(".")
    if not parent or not isinstance(get_dotted(plan_config, parent), (dict, list)):
        raise InputError(
            f"design.vary.{key}",
            "varied",
            f"a dotted key of this plan; it has no section '{parent or key}'",
            "e.g. beam.energy_keV, beam.flux_ph_s, schedule.exposure_s",
        )


def parse_design(section: object, plan_config: dict[str, Any]) -> Design:
    """Validate a design section (module docstring) against the plan it designs."""
    if plan_config.get("probe_type") == "electron":  # the signal models count photons
        raise InputError(
            "design",
            "given for an electron session",
            "design and its signal models are for X-ray plans (photon counts); an electron "
            "session (probe_type: electron) has none",
        )
    section = _keys(section, DESIGN_KEYS, "design")
    for key in ("technique", "limit", "minimum", "vary"):
        if key not in section:
            raise InputError(f"design.{key}", None, "required (see " + ", ".join(DESIGN_KEYS) + ")")
    technique = section["technique"]
    if technique not in TECHNIQUES:
        raise InputError(
            "design.technique",
            technique,
            "one of " + ", ".join(TECHNIQUES),
            did_you_mean(str(technique), TECHNIQUES),
        )
    options = section.get("signal") or {}
    if not isinstance(options, dict):
        raise InputError(
            "design.signal", options, "a mapping such as {reflection: NMC811-003} or {element: Ni}"
        )
    plan_convention = (plan_config.get("beam") or {}).get("convention", "energy-absorption")
    dose, convention, constituent, name = _limit(section["limit"], plan_convention)
    minimum = _keys(section["minimum"], MINIMUM_KEYS, "design.minimum")
    if "snr_per_scan" not in minimum:
        raise InputError(
            "design.minimum.snr_per_scan", None, "required: the SNR per scan the data need"
        )
    snr = _number(minimum["snr_per_scan"], "design.minimum.snr_per_scan", "an SNR > 0")
    if snr <= 0:
        raise InputError("design.minimum.snr_per_scan", snr, "an SNR > 0")
    soc = minimum.get("time_resolution_soc_pct")
    if soc is not None:
        soc = _number(soc, "design.minimum.time_resolution_soc_pct", "a SOC step in (0, 100] %")
        if not 0 < soc <= 100:
            raise InputError(
                "design.minimum.time_resolution_soc_pct", soc, "a SOC step in (0, 100] %"
            )
    points = section.get("points", DEFAULT_POINTS)
    if (
        isinstance(points, bool)
        or not isinstance(points, int)
        or not MIN_POINTS <= points <= MAX_POINTS
    ):
        raise InputError(
            "design.points",
            points,
            f"a whole number of samples per range, {MIN_POINTS}–{MAX_POINTS}",
        )
    vary_spec = section["vary"]
    if not isinstance(vary_spec, dict) or not vary_spec:
        raise InputError(
            "design.vary",
            vary_spec,
            "at least one dotted plan key with a range, e.g. beam.flux_ph_s: [1.0e+9, 1.0e+11]",
        )
    for key in vary_spec:
        _check_key(plan_config, key)
    vary = {key: _samples(key, spec, points) for key, spec in vary_spec.items()}
    size = int(np.prod([len(v) for v in vary.values()]))
    if size > MAX_GRID:
        raise InputError(
            "design.points",
            points,
            f"a grid of at most {MAX_GRID} plans (this one: {size})",
            "use fewer points or fewer varied keys",
        )
    if "detector" not in section and "beamline" in plan_config:
        detector = load_profile(plan_config["beamline"]).detector  # the beamline's own detector
    else:
        detector = Detector.from_config(section.get("detector"), "design.detector")
    quality = Quality(technique, tuple(sorted(options.items())), detector, convention, constituent)
    return Design(quality, dose, name, snr, soc, vary)


def _dominates(a: dict[str, Any], b: dict[str, Any]) -> bool:
    better_or_equal: bool = (
        a["dose_Gy"] <= b["dose_Gy"]
        and a["snr_per_scan"] >= b["snr_per_scan"]
        and a["time_resolution_soc_pct"] <= b["time_resolution_soc_pct"]
    )
    strictly: bool = (
        a["dose_Gy"] < b["dose_Gy"]
        or a["snr_per_scan"] > b["snr_per_scan"]
        or a["time_resolution_soc_pct"] < b["time_resolution_soc_pct"]
    )
    return better_or_equal and strictly


def pareto_front(rows: list[dict[str, Any]]) -> list[int]:
    """Indices of the non-dominated rows (one per distinct triple), sorted by dose then -SNR."""
    seen: set[tuple[float, float, float]] = set()
    keep = []
    for i, row in enumerate(rows):
        triple = (row["dose_Gy"], row["snr_per_scan"], row["time_resolution_soc_pct"])
        if triple in seen or any(_dominates(other, row) for other in rows):
            continue
        seen.add(triple)
        keep.append(i)
    return sorted(keep, key=lambda i: (rows[i]["dose_Gy"], -rows[i]["snr_per_scan"]))


def _feasible(row: dict[str, Any], design: Design) -> bool:
    return (
        row["dose_Gy"] <= design.limit_dose_Gy
        and row["snr_per_scan"] >= design.min_snr_per_scan
        and (
            design.max_soc_step_pct is None
            or row["time_resolution_soc_pct"] <= design.max_soc_step_pct
        )
    )


def _what_would_help(
    rows: list[dict[str, Any]], values: list[dict[str, Any]], design: Design
) -> InputError:
    """The sentence raised when no plan of the grid satisfies the design."""

    def where(i: int) -> str:
        return ", ".join(
            f"{k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v}" for k, v in values[i].items()
        )

    within = [i for i, r in enumerate(rows) if r["dose_Gy"] <= design.limit_dose_Gy]
    enough = [i for i, r in enumerate(rows) if r["snr_per_scan"] >= design.min_snr_per_scan]
    if within and enough and design.max_soc_step_pct is not None:
        best = min(range(len(rows)), key=lambda i: rows[i]["time_resolution_soc_pct"])
        found = (
            f"no plan of the {len(rows)} tried keeps the limit, the SNR floor and a SOC step <= "
            f"{design.max_soc_step_pct:g} % together (finest step tried: "
            f"{rows[best]['time_resolution_soc_pct']:.3g} % at {where(best)})"
        )
    elif within:
        best = max(within, key=lambda i: rows[i]["snr_per_scan"])
        found = (
            f"within the limit {design.limit_name} the best SNR per scan of the {len(rows)} "
            f"plans tried is {rows[best]['snr_per_scan']:.3g} (at {where(best)})"
        )
    elif enough:
        best = min(enough, key=lambda i: rows[i]["dose_Gy"])
        found = (
            f"the lowest dose meeting the floor is {si(rows[best]['dose_Gy'], 'Gy')}, "
            f"above the limit {design.limit_name} (at {where(best)})"
        )
    else:
        best = min(range(len(rows)), key=lambda i: rows[i]["dose_Gy"])
        found = (
            f"every one of the {len(rows)} plans tried exceeds the limit {design.limit_name} "
            f"(lowest: {si(rows[best]['dose_Gy'], 'Gy')} at {where(best)}) "
            "and none reaches the floor"
        )
    return InputError(
        "design.minimum.snr_per_scan",
        design.min_snr_per_scan,
        f"not reachable: {found}",
        "what would help: a larger spot (less dose per photon on each location), "
        "more locations or fewer scans per location (spread the dose), "
        "another energy or a wider range in design.vary, or a lower SNR floor",
    )


def design_plan(
    plan_config: dict[str, Any],
    section: dict[str, Any],
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: bool | None = None,
) -> DesignResult:
    """The Pareto front of the plans around ``plan_config`` allowed by ``section``.

    See the module docstring.

    ``plan_config``: a plan mapping; a ``design`` key in it is ignored (``section`` is the
    design). Every candidate's plan carries ``section`` as its own design section, so that
    running it shows its SNR beside its dose.
    """
    plan_config = {key: value for key, value in plan_config.items() if key != "design"}
    design = parse_design(section, plan_config)
    points = grid(plan_config, design.vary)
    configs = [config for _, config in points]
    rows = run_configs(
        configs, design.quality, scheduler=scheduler, workers=workers, progress=progress
    )
    ok = [i for i, row in enumerate(rows) if _feasible(row, design)]
    if not ok:
        raise _what_would_help(rows, [values for values, _ in points], design)
    front = [ok[i] for i in pareto_front([rows[i] for i in ok])]
    candidates = []
    for i in front:
        again = evaluate(configs[i], design.quality)  # each candidate re-checked on its own
        for key in ("dose_Gy", "snr_per_scan", "time_resolution_soc_pct"):
            if not np.isclose(again[key], rows[i][key], rtol=RECHECK_RTOL, atol=0.0):
                raise RuntimeError(
                    f"re-run of a design candidate changed {key}: {rows[i][key]} -> {again[key]}"
                )
        if not _feasible(again, design):
            raise RuntimeError("a design candidate failed its re-check")
        candidates.append(
            Candidate(
                json.loads(json.dumps({**runnable(configs[i]), "design": section})),
                points[i][0],
                again["dose_Gy"],
                again["snr_per_scan"],
                again["time_resolution_soc_pct"],
                again["worst_probe_dose_Gy"],
                again,
            )
        )
    return DesignResult(design, tuple(candidates), len(rows), len(ok))


def read_design(path: str | Path) -> dict[str, Any]:
    """A design section from its own YAML/JSON file (the mapping itself, or under ``design``)."""
    mapping = read_mapping(Path(path).expanduser(), "--design")
    return mapping["design"] if set(mapping) == {"design"} else mapping


def try_design(
    plan_config: dict[str, Any], section: dict[str, Any], *, workers: int | None = 1
) -> DesignResult | InputError:
    """``design_plan`` without a progress bar, or, when no plan of the grid keeps both the
    limit and the floor, the error whose sentence says so and what would help (returned, not
    raised: for advice it is an answer)."""
    try:
        return design_plan(plan_config, section, workers=workers, progress=False)
    except InputError as error:
        if error.field == "design.minimum.snr_per_scan" and error.allowed.startswith(
            "not reachable"
        ):
            return error
        raise


def values_text(values: dict[str, Any]) -> str:
    """A candidate's varied keys as ``key = value, ...``."""
    return ", ".join(
        f"{k} = {v:.3g}" if isinstance(v, float) else f"{k} = {v}" for k, v in values.items()
    )


def signal_aware_advice(
    plan_config: dict[str, Any],
    section: dict[str, Any],
    *,
    options: int = 3,
    workers: int | None = 1,
) -> tuple[str, ...]:
    """Sentences for ``advice``: the least-dose plans keeping the limit and the SNR floor, or
    the one sentence saying that none does and what would help.

    ``plan_config``: a plan mapping without ``design``; ``section``: its design section.
    """
    result = try_design(plan_config, section, workers=workers)
    if isinstance(result, InputError):
        return (str(result),)
    d = result.design
    out = [
        f"{len(result.candidates)} of {result.evaluated} plans keep {d.limit_name} "
        f"and an SNR per scan >= {d.min_snr_per_scan:g} ({d.quality.technique}); least dose first:"
    ]
    for c in result.candidates[:options]:
        out.append(
            f"{values_text(c.values)}: dose {si(c.dose_Gy, 'Gy')} ({d.quality.convention}), "
            f"SNR {c.snr_per_scan:.3g} per scan, SOC step {c.time_resolution_soc_pct:.2g} %."
        )
    return tuple(out)
