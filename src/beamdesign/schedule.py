"""Measurement schedule: where the beam sits, for how long, and when (PHYSICS.md §3).

A schedule is a list of locations (explicit points or a raster) visited in turn. Timing rules:

- within a loop the locations are visited in order: an exposure (beam on), then ``move_s``
  (beam off) before the next location;
- after the last exposure of a loop the beam stays off for ``move_s + pause_s`` (the move back
  to the first location, then the pause) before the next loop starts;
- the first exposure starts at ``start_s`` (time since the protocol started);
- ``loop`` is ``"until-end"`` (loop as long as exposures start before the protocol end),
  ``"once"`` or an integer number of loops;
- every exposure is cut at the protocol end ``end_s``: an exposure straddling it is truncated,
  and with a finite ``loop`` the planned exposures that would start after it are dropped
  (``Exposures.truncated`` and ``Exposures.dropped`` count them).

An ``energy_scan: {start_keV, stop_keV, points, dwell_s}`` (a XANES/EXAFS step scan) replaces
the single exposure: each visit of a location is one whole scan, ``points`` consecutive
exposures of ``dwell_s`` at the evenly spaced energies from ``start_keV`` to ``stop_keV``
(upwards). The beam stays on the location between points (``dwell_s`` counts every beam-on
second of a point, monochromator moves included). Every exposure carries the index of its energy
(``Exposures.energy_index``; 0 without a scan), and the cut at the protocol end applies to the
points: the scan under way at the end keeps its points that started before it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from beamdesign import validate
from beamdesign.errors import InputError, did_you_mean
from beamdesign.reprs import compact_repr

#: Most beam-on intervals one schedule may expand to (memory and time stay small).
MAX_EXPOSURES = 2_000_000
#: Most points a raster may hold.
MAX_RASTER_POINTS = 100_000

SCHEDULE_KEYS = (
    "locations",
    "raster",
    "exposure_s",
    "energy_scan",
    "move_s",
    "loop",
    "pause_s",
    "start_s",
)
LOCATION_KEYS = ("name", "x_um", "y_um", "exposure_s")
RASTER_KEYS = ("pattern", "nx", "ny", "step_um", "origin_um")
RASTER_PATTERNS = ("snake", "grid", "line")
LOOP_WORDS = ("until-end", "once")
SCAN_KEYS = ("start_keV", "stop_keV", "points", "dwell_s")
#: Points of one energy scan: 2 (below and above an edge) to 10,000 (a long EXAFS scan at a
#: fine step; a quick-EXAFS sweep is also described by its points and dwell).
SCAN_POINTS = validate.Range(2, 10_000, "points", integer=True)


_MISSING = validate.MISSING


@dataclass(frozen=True)
class Location:
    """One measurement point.

    Attributes
    ----------
    name : str
        Unique label, e.g. ``"#1"`` or ``"r2c3"`` (raster row 2, column 3, counted from 1).
    x_um, y_um : float
        Beam centre on the cell, µm.
    exposure_s : float
        Beam-on time of one measurement at this point, s.
    """

    name: str
    x_um: float
    y_um: float
    exposure_s: float

    __repr__ = compact_repr


@dataclass(frozen=True)
class EnergyScan:
    """A step scan in energy made at every visit of a location (module docstring).

    Attributes
    ----------
    start_keV, stop_keV : float
        First and last energy, keV (``start_keV < stop_keV``).
    points : int
        Energies in the scan, evenly spaced, both ends included.
    dwell_s : float
        Beam-on time at each energy, s.
    """

    start_keV: float
    stop_keV: float
    points: int
    dwell_s: float

    @property
    def energies_keV(self) -> np.ndarray:
        """(points,) the scan's energies, keV."""
        return np.linspace(self.start_keV, self.stop_keV, self.points)

    @property
    def duration_s(self) -> float:
        """Beam-on time of one whole scan, s."""
        return self.points * self.dwell_s

    @classmethod
    def from_config(cls, cfg: object, field: str = "schedule.energy_scan") -> EnergyScan:
        """Validate ``{start_keV, stop_keV, points, dwell_s}`` (InputError naming the field)."""
        config = validate.mapping(cfg, field, SCAN_KEYS, required=SCAN_KEYS)
        start = validate.ENERGY_KEV.check(config["start_keV"], f"{field}.start_keV")
        stop = validate.ENERGY_KEV.check(config["stop_keV"], f"{field}.stop_keV")
        if not stop > start:
            raise InputError(
                f"{field}.stop_keV",
                stop,
                f"an energy above start_keV = {start:g} keV (a scan runs upwards)",
            )
        points = int(SCAN_POINTS.check(config["points"], f"{field}.points"))
        dwell_s = validate.EXPOSURE_S.check(config["dwell_s"], f"{field}.dwell_s")
        if not validate.EXPOSURE_S.contains(points * dwell_s):
            raise InputError(
                f"{field}.dwell_s",
                dwell_s,
                f"one scan lasts points × dwell_s = {points * dwell_s:g} s, at most "
                f"{validate.EXPOSURE_S.high:g} s are allowed (as for one exposure)",
            )
        return cls(start, stop, points, dwell_s)

    def summary(self, reference_keV: float) -> str:
        """One line for tables and reports, with the beam's reference energy (keV)."""
        return (
            f"energy scan at every visit: {self.start_keV:g} to {self.stop_keV:g} keV, "
            f"{self.points} points × {self.dwell_s:g} s ({self.duration_s:g} s per scan), "
            f"dose integrated point by point; beam energy {reference_keV:g} keV is the reference"
        )

    def to_config(self) -> dict[str, Any]:
        """The plan-file mapping; ``EnergyScan.from_config(s.to_config()) == s``."""
        return {
            "start_keV": self.start_keV,
            "stop_keV": self.stop_keV,
            "points": self.points,
            "dwell_s": self.dwell_s,
        }


@dataclass(frozen=True, eq=False)
class Exposures:
    """The beam-on intervals of a schedule, time-ordered and non-overlapping.

    Attributes
    ----------
    location_index : numpy.ndarray of int
        Index into ``Schedule.locations`` of each interval.
    start_s, end_s : numpy.ndarray of float
        Beam on and off times since the protocol started, s.
    protocol_end_s : float
        The protocol end the intervals were cut at, s.
    truncated : int
        Exposures cut short at ``protocol_end_s`` (0 or 1).
    dropped : int
        Planned exposures (finite ``loop`` only) that would have started at or after
        ``protocol_end_s`` and were left out.
    energy_index : numpy.ndarray of int or None
        Index into ``EnergyScan.energies_keV`` of each interval (None: all 0, one energy).
    """

    location_index: np.ndarray
    start_s: np.ndarray
    end_s: np.ndarray
    protocol_end_s: float = math.inf
    truncated: int = 0
    dropped: int = 0
    energy_index: np.ndarray | None = None

    __repr__ = compact_repr

    def __post_init__(self) -> None:
        index = np.asarray(self.location_index, dtype=np.intp)
        start_s = np.asarray(self.start_s, dtype=float)
        end_s = np.asarray(self.end_s, dtype=float)
        energy = (
            np.zeros(index.shape, dtype=np.intp)
            if self.energy_index is None
            else np.asarray(self.energy_index, dtype=np.intp)
        )
        if not (index.ndim == start_s.ndim == end_s.ndim == energy.ndim == 1) or not (
            index.size == start_s.size == end_s.size == energy.size
        ):
            raise InputError(
                "exposures",
                f"arrays of shapes {index.shape}, {start_s.shape}, {end_s.shape}, {energy.shape}",
                "location_index, start_s, end_s and energy_index must be 1-D arrays of one length",
            )
        if (
            np.any(index < 0)
            or np.any(energy < 0)
            or not np.all(np.isfinite(start_s) & np.isfinite(end_s))
        ):
            raise InputError(
                "exposures",
                "negative index or non-finite time",
                "indices must be >= 0 and times finite",
            )
        if np.any(end_s < start_s) or np.any(start_s[1:] < end_s[:-1]):
            raise InputError(
                "exposures",
                "overlapping or reversed intervals",
                "intervals must be time-ordered, with end_s >= start_s, and must not overlap",
            )
        arrays = (
            ("location_index", index),
            ("start_s", start_s),
            ("end_s", end_s),
            ("energy_index", energy),
        )
        for name, array in arrays:
            array.flags.writeable = False
            object.__setattr__(self, name, array)

    @property
    def duration_s(self) -> np.ndarray:
        """Beam-on time of each interval, s."""
        duration: np.ndarray = self.end_s - self.start_s
        return duration

    @property
    def visits(self) -> np.ndarray:
        """(n,) True where an interval starts a visit: every exposure, or a scan's first point."""
        first: np.ndarray = np.asarray(self.energy_index) == 0
        return first

    def __len__(self) -> int:
        return int(self.start_s.size)


@dataclass(frozen=True)
class Schedule:
    """Where and when the beam is on (timing rules in the module docstring).

    Attributes
    ----------
    locations : tuple of Location
        Points in visiting order.
    move_s : float
        Beam-off time between two consecutive exposures, s.
    loop : str or int
        ``"until-end"``, ``"once"`` or a number of loops >= 1.
    pause_s : float
        Extra beam-off time between two loops, s.
    start_s : float
        Start of the first exposure since the protocol started, s.
    raster : dict or None
        The normalised raster the locations came from (kept so the config round-trips).
    energy_scan : EnergyScan or None
        The scan made at every visit (then each location's ``exposure_s`` is the scan's
        duration); None: one exposure at the beam energy.
    """

    locations: tuple[Location, ...]
    move_s: float = 0.0
    loop: str | int = "until-end"
    pause_s: float = 0.0
    start_s: float = 0.0
    raster: dict[str, Any] | None = field(default=None, hash=False)
    energy_scan: EnergyScan | None = None

    __repr__ = compact_repr

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any], field: str = "schedule") -> Schedule:
        """Build a schedule from its plan-file mapping.

        Parameters
        ----------
        cfg : mapping
            The ``schedule:`` mapping of a plan (keys in ``SCHEDULE_KEYS``).
        field : str
            Where ``cfg`` sits in the plan, used in error messages.

        Raises
        ------
        InputError
            Naming the offending field, e.g. ``schedule.locations[1].exposure_s``.
        """
        validate.mapping(cfg, field, SCHEDULE_KEYS)
        has_locations, has_raster = "locations" in cfg, "raster" in cfg
        if has_locations == has_raster:
            raise InputError(
                field,
                "both locations and raster" if has_locations else "neither",
                "give exactly one of 'locations' (explicit points) or 'raster'",
            )
        default_exposure_s = None
        scan = None
        if "energy_scan" in cfg:
            scan = EnergyScan.from_config(cfg["energy_scan"], f"{field}.energy_scan")
            if "exposure_s" in cfg:
                raise InputError(
                    f"{field}.exposure_s",
                    cfg["exposure_s"],
                    "not allowed with an energy_scan: each visit is one scan of points × dwell_s",
                    "remove exposure_s, or remove energy_scan for one exposure at the beam energy",
                )
            default_exposure_s = scan.duration_s
        elif "exposure_s" in cfg:
            default_exposure_s = validate.EXPOSURE_S.check(cfg["exposure_s"], f"{field}.exposure_s")
        if has_raster:
            if default_exposure_s is None:
                raise InputError(
                    f"{field}.exposure_s",
                    _MISSING,
                    "a raster needs an exposure time > 0 s per point (or an energy_scan)",
                )
            raster = _parse_raster(cfg["raster"], f"{field}.raster")
            locations = _raster_locations(raster, default_exposure_s)
        else:
            raster = None
            locations = _parse_locations(
                cfg["locations"], f"{field}.locations", default_exposure_s, scan is not None
            )
        return cls(
            locations=locations,
            move_s=validate.WAIT_S.check(cfg.get("move_s", 0.0), f"{field}.move_s"),
            loop=_parse_loop(cfg.get("loop", "until-end"), f"{field}.loop"),
            pause_s=validate.WAIT_S.check(cfg.get("pause_s", 0.0), f"{field}.pause_s"),
            start_s=validate.WAIT_S.check(cfg.get("start_s", 0.0), f"{field}.start_s"),
            raster=raster,
            energy_scan=scan,
        )

    def to_config(self) -> dict[str, Any]:
        """The plan-file mapping; ``Schedule.from_config(s.to_config()) == s``."""
        cfg: dict[str, Any] = {}
        scan = self.energy_scan
        if self.raster is not None:
            cfg["raster"] = {
                k: (list(v) if isinstance(v, list) else v) for k, v in self.raster.items()
            }
            if scan is None:
                cfg["exposure_s"] = self.locations[0].exposure_s
        else:
            cfg["locations"] = [
                {"name": p.name, "x_um": p.x_um, "y_um": p.y_um}
                | ({} if scan else {"exposure_s": p.exposure_s})
                for p in self.locations
            ]
        if scan is not None:
            cfg["energy_scan"] = scan.to_config()
        cfg.update(move_s=self.move_s, loop=self.loop, pause_s=self.pause_s, start_s=self.start_s)
        return cfg

    @property
    def xy_um(self) -> np.ndarray:
        """Location centres, shape (n_locations, 2), µm."""
        return np.array([(p.x_um, p.y_um) for p in self.locations], dtype=float).reshape(-1, 2)

    @property
    def exposure_s(self) -> np.ndarray:
        """Exposure time per location, shape (n_locations,), s."""
        return np.array([p.exposure_s for p in self.locations], dtype=float)

    @property
    def loop_s(self) -> float:
        """Time from the start of one loop to the start of the next, s."""
        n = len(self.locations)
        return float(self.exposure_s.sum()) + n * self.move_s + self.pause_s

    def exposures(self, end_s: float) -> Exposures:
        """Expand the schedule into beam-on intervals, cut at the protocol end.

        Parameters
        ----------
        end_s : float
            Protocol end since the protocol started, s. No exposure starts at or after it.

        Returns
        -------
        Exposures
            Time-ordered intervals (see the module docstring for the timing rules).

        Raises
        ------
        InputError
            If ``end_s`` is not finite, or the schedule would exceed ``MAX_EXPOSURES`` intervals.
        """
        end_s = validate.number(end_s, "end_s", "s")
        exposure_s = self.exposure_s
        n_loc = exposure_s.size
        period_s = self.loop_s
        if self.loop == "until-end":
            # floor + 1 (not ceil): a ratio that underflows to 0 must still give the loop
            # starting at start_s < end_s; a loop starting at or after end_s is dropped below
            n_loops_f = (
                math.floor((end_s - self.start_s) / period_s) + 1.0 if end_s > self.start_s else 0.0
            )
        else:
            n_loops_f = 1.0 if self.loop == "once" else float(self.loop)
        scan = self.energy_scan
        points = 1 if scan is None else scan.points
        if n_loops_f * n_loc * points > MAX_EXPOSURES:
            raise InputError(
                "schedule.loop",
                self.loop,
                f"the schedule would make {n_loops_f * n_loc * points:.3g} exposures "
                f"before end_s = {end_s:g} s, "
                f"at most {MAX_EXPOSURES} are allowed",
                "use fewer locations, a finite loop, or longer exposure_s, move_s or pause_s"
                + ("" if scan is None else ", or fewer scan points"),
            )
        n_loops = int(n_loops_f)
        offset_s = np.concatenate(([0.0], np.cumsum(exposure_s + self.move_s)[:-1]))
        start_s = (self.start_s + np.arange(n_loops)[:, None] * period_s + offset_s).ravel()
        stop_s = start_s + np.tile(exposure_s, n_loops)
        index = np.tile(np.arange(n_loc), n_loops)
        energy = None
        if scan is not None:  # each visit becomes its scan's points
            start_s, stop_s, index, energy = _scan_points(scan, start_s, stop_s, index)
        # with move_s = pause_s = 0, round-off could overlap consecutive intervals by an ulp
        stop_s[:-1] = np.minimum(stop_s[:-1], start_s[1:])
        keep = start_s < end_s
        truncated = int(np.count_nonzero(stop_s[keep] > end_s))
        return Exposures(
            location_index=index[keep],
            start_s=start_s[keep],
            end_s=np.minimum(stop_s[keep], end_s),
            protocol_end_s=end_s,
            truncated=truncated,
            dropped=0 if self.loop == "until-end" else int(keep.size - np.count_nonzero(keep)),
            energy_index=None if energy is None else energy[keep],
        )


def _scan_points(
    scan: EnergyScan, start_s: np.ndarray, stop_s: np.ndarray, index: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split every visit [start, stop) into the scan's points: point k lasts from
    ``start + k dwell`` to ``start + (k + 1) dwell`` (the last one ends with the visit)."""
    k = np.arange(scan.points)
    first = start_s[:, None] + k * scan.dwell_s
    last = start_s[:, None] + (k + 1) * scan.dwell_s
    last[:, -1] = stop_s
    energy = np.broadcast_to(k, first.shape).ravel()
    return first.ravel(), last.ravel(), np.repeat(index, scan.points), energy


def _parse_loop(value: object, field: str) -> str | int:
    if isinstance(value, str):
        if value not in LOOP_WORDS:
            raise InputError(
                field,
                value,
                f"'until-end', 'once' or a whole number of loops {validate.LOOPS.rule()}",
                did_you_mean(value, LOOP_WORDS),
            )
        return value
    return int(validate.LOOPS.check(value, field))


def _parse_locations(
    items: object, field: str, default_exposure_s: float | None, scan: bool = False
) -> tuple[Location, ...]:
    """The explicit points; with an energy ``scan`` the scan sets every exposure_s."""
    if not isinstance(items, (list, tuple)) or not items:
        raise InputError(field, items, "must be a non-empty list of {name, x_um, y_um, exposure_s}")
    locations: list[Location] = []
    first_use: dict[str, str] = {}
    for i, item in enumerate(items):
        where = f"{field}[{i}]"
        validate.mapping(item, where, LOCATION_KEYS)
        name = validate.text(item.get("name", f"#{i + 1}"), f"{where}.name")
        if name in first_use:
            raise InputError(
                f"{where}.name",
                name,
                "location names must be unique",
                f"it is already used by {first_use[name]}",
            )
        first_use[name] = where
        if scan and "exposure_s" in item:
            raise InputError(
                f"{where}.exposure_s",
                item["exposure_s"],
                "not allowed with an energy_scan: each visit is one scan of points × dwell_s",
                "remove exposure_s from the location",
            )
        if "exposure_s" not in item and default_exposure_s is None:
            raise InputError(
                f"{where}.exposure_s",
                _MISSING,
                "an exposure time > 0 s is required here or as schedule exposure_s",
            )
        locations.append(
            Location(
                name=name,
                x_um=validate.POSITION_UM.check(item.get("x_um"), f"{where}.x_um"),
                y_um=validate.POSITION_UM.check(item.get("y_um"), f"{where}.y_um"),
                exposure_s=validate.EXPOSURE_S.check(
                    item.get("exposure_s", default_exposure_s), f"{where}.exposure_s"
                ),
            )
        )
    return tuple(locations)


def _pair(value: object, field: str, rule: validate.Range) -> list[float]:
    """A number (used for x and y) or a [x, y] pair."""
    values = list(value) if isinstance(value, (list, tuple)) else [value, value]
    if len(values) != 2:
        raise InputError(field, value, "a number or a pair [x, y] (µm)")
    return [
        rule.check(v, f"{field}[{i}]" if isinstance(value, (list, tuple)) else field)
        for i, v in enumerate(values)
    ]


def _parse_raster(config: object, field: str) -> dict[str, Any]:
    cfg = validate.mapping(config, field, RASTER_KEYS)
    pattern = cfg.get("pattern", _MISSING)
    if pattern not in RASTER_PATTERNS:
        raise InputError(
            f"{field}.pattern",
            pattern,
            f"must be one of {', '.join(RASTER_PATTERNS)}",
            did_you_mean(pattern, RASTER_PATTERNS) if isinstance(pattern, str) else "",
        )
    counts = {}
    for key in ("nx", "ny"):
        value = cfg.get(key, 1 if key == "ny" else _MISSING)
        counts[key] = int(
            validate.number(
                value, f"{field}.{key}", "points", low=1, high=MAX_RASTER_POINTS, integer=True
            )
        )
    if pattern == "line" and counts["ny"] != 1:
        raise InputError(
            f"{field}.ny",
            counts["ny"],
            "a 'line' raster has ny = 1",
            "use pattern 'snake' or 'grid' for several rows",
        )
    if counts["nx"] * counts["ny"] > MAX_RASTER_POINTS:
        raise InputError(
            f"{field}.nx",
            counts["nx"],
            f"nx * ny = {counts['nx'] * counts['ny']} points, "
            f"at most {MAX_RASTER_POINTS} are allowed",
            "use a coarser raster",
        )
    return {
        "pattern": pattern,
        **counts,
        "step_um": _pair(cfg.get("step_um"), f"{field}.step_um", validate.STEP_UM),
        "origin_um": _pair(
            cfg.get("origin_um", [0.0, 0.0]), f"{field}.origin_um", validate.POSITION_UM
        ),
    }


def _raster_locations(raster: dict[str, Any], exposure_s: float) -> tuple[Location, ...]:
    """Points row by row (rows along y); 'snake' reverses every other row."""
    nx, ny = raster["nx"], raster["ny"]
    row = np.repeat(np.arange(ny), nx)
    col = np.tile(np.arange(nx), ny)
    if raster["pattern"] == "snake":
        col = np.where(row % 2 == 1, nx - 1 - col, col)
    x_um = raster["origin_um"][0] + col * raster["step_um"][0]
    y_um = raster["origin_um"][1] + row * raster["step_um"][1]
    return tuple(
        Location(f"r{r + 1}c{c + 1}", float(x), float(y), exposure_s)
        for r, c, x, y in zip(row.tolist(), col.tolist(), x_um.tolist(), y_um.tolist(), strict=True)
    )
