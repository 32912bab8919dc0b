"""Cycling protocol: PyBaMM-style step strings -> state of charge over time (PHYSICS.md §3).

A constant-current step at rate C/n changes SOC by 1/n per hour (up on charge, down on
discharge); rests and holds keep SOC (a constant-voltage hold is approximated as a plateau).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from beamdesign import validate
from beamdesign.errors import InputError, did_you_mean
from beamdesign.reprs import compact_repr
from beamdesign.units import duration

#: Every accepted form of step, cited by error messages and parsed by the tests.
EXAMPLES: tuple[str, ...] = (
    "Charge at C/8 for 8 h",
    "Charge at 0.5C until 100 %",
    "charge at 2C for 30 min",
    "Charge at C/2 for 1 h or until 100%",
    "Discharge at 1C until 0%",
    "Discharge at 2 C for 15 min or until 0 %",
    "Rest for 30 min",
    "Hold for 1 h",
    "Hold at 4.2 V for 1 h",
    "Repeat 3 times: [Charge at C/2 until 100%, Discharge at C/2 until 0%]",
)

_SECONDS_PER_UNIT = {
    **dict.fromkeys(("s", "sec", "second", "seconds"), 1.0),
    **dict.fromkeys(("min", "minute", "minutes"), 60.0),
    **dict.fromkeys(("h", "hr", "hour", "hours"), 3600.0),
}
_VERBS = ("charge", "discharge", "rest", "hold", "repeat")
_YEAR_S = validate.YEAR_S
_MAX_STEPS = 1_000_000  # after expanding repeats; guards memory against "repeat 10**12 times"
_MAX_NESTING = 8  # repeats inside repeats
_SOC_TOL = 1e-9  # SOC fraction; absorbs float round-off summed over many steps

_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)"
_RATE = rf"(?:(?P<mult>{_NUM})\s*)?c(?:\s*/\s*(?P<div>{_NUM}))?"
_DURATION = rf"(?P<amount>{_NUM})\s*(?P<unit>[a-z]+)"
_TARGET = rf"(?P<soc>{_NUM})\s*%"
_CURRENT = rf"(?P<kind>charge|discharge)\s+at\s+{_RATE}\s+"


def _compile(*patterns: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p, re.IGNORECASE) for p in patterns)


_CURRENT_STEP = _compile(
    _CURRENT + rf"for\s+{_DURATION}(?:\s+or\s+until\s+{_TARGET})?", _CURRENT + rf"until\s+{_TARGET}"
)
_GRAMMAR = {  # verb -> whole-string patterns; the first that matches wins
    "charge": _CURRENT_STEP,
    "discharge": _CURRENT_STEP,
    "rest": _compile(rf"(?P<kind>rest)\s+for\s+{_DURATION}"),
    "hold": _compile(rf"(?P<kind>hold)(?:\s+at\s+(?P<volt>{_NUM})\s*v)?\s+for\s+{_DURATION}"),
}
_REPEAT_KEY = rf"repeat\s+(?P<count>{_NUM})\s+times?"
_REPEAT_KEY_RE = re.compile(_REPEAT_KEY, re.IGNORECASE)
_REPEAT_STRING_RE = re.compile(_REPEAT_KEY + r"\s*:\s*\[(?P<body>.*)\]", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Step:
    """One protocol step, parsed from its text.

    Attributes
    ----------
    text : str
        The user's text, kept verbatim.
    kind : str
        ``"charge"``, ``"discharge"``, ``"rest"`` or ``"hold"``.
    c_rate_per_h : float or None
        Current as a C-rate, 1/h (C/8 -> 0.125); None for rests and holds.
    duration_s : float or None
        Duration, s; None for a step that runs only until an SOC.
    until_soc : float or None
        SOC at which the step ends, fraction 0-1; with a duration, whichever comes first.
    voltage_V : float or None
        Hold voltage, V, kept for display only (the hold is an SOC plateau).
    """

    text: str
    kind: str
    c_rate_per_h: float | None
    duration_s: float | None
    until_soc: float | None
    voltage_V: float | None = None

    __repr__ = compact_repr


def _verb(text: str) -> str:
    words = text.split(maxsplit=1)
    return words[0].lower() if words else ""


def _examples(verb: str | None = None) -> str:
    """'e.g. ...' citing EXAMPLES: all those of one verb, or the first of each verb."""
    chosen: dict[str, list[str]] = {}
    for example in EXAMPLES:
        chosen.setdefault(_verb(example), []).append(example)
    cited = chosen[verb] if verb else [examples[0] for examples in chosen.values()]
    return "e.g. " + ", ".join(map(repr, cited))


def parse_step(text: str, field: str = "protocol[0]") -> Step:
    """Parse one step such as ``"Charge at C/8 for 8 h"`` (case-insensitive; see EXAMPLES).

    Parameters
    ----------
    text : str
        The step.
    field : str
        Where the step sits in the protocol, for error messages.

    Raises
    ------
    InputError
        Unknown words, a C-rate, duration or hold voltage that is not above 0, an unknown
        time unit, or an SOC target outside 0-100 %.
    """
    if not isinstance(text, str):
        raise InputError(field, text, f"a step string, {_examples()}")
    verb = _verb(text)
    if verb not in _GRAMMAR:
        raise InputError(
            field,
            text,
            "a step starting with Charge, Discharge, Rest or Hold "
            f"(or a Repeat in a protocol list), {_examples()}",
            did_you_mean(verb, _VERBS),
        )
    match = next(filter(None, (p.fullmatch(text.strip()) for p in _GRAMMAR[verb])), None)
    if match is None:
        raise InputError(field, text, f"a {verb} step, {_examples(verb)}")
    groups = match.groupdict()

    def number(name: str, allowed: str) -> float | None:
        if groups.get(name) is None:
            return None
        value = float(groups[name])
        if not 0 < value < math.inf:
            raise InputError(field, text, f"{allowed}, {_examples(verb)}")
        return value

    c_rate = None
    if verb in ("charge", "discharge"):
        allowed = f"a C-rate {validate.C_RATE_PER_H.rule()} written C/8, 0.5C, 2 C or C"
        c_rate = (number("mult", allowed) or 1.0) / (number("div", allowed) or 1.0)
        if not validate.C_RATE_PER_H.contains(c_rate):
            raise InputError(field, text, f"{allowed}, {_examples(verb)}")
    duration_s = number("amount", f"a duration {validate.STEP_S.rule()}")
    if duration_s is not None:
        unit = groups["unit"].lower()
        if unit not in _SECONDS_PER_UNIT:
            raise InputError(
                field,
                text,
                "a time unit s, min or h (or sec, second(s), "
                f"minute(s), hr, hour(s)), {_examples(verb)}",
                did_you_mean(unit, _SECONDS_PER_UNIT),
            )
        duration_s *= _SECONDS_PER_UNIT[unit]
        if not validate.STEP_S.contains(duration_s):
            raise InputError(field, text, f"a duration {validate.STEP_S.rule()}, {_examples(verb)}")
    until_soc = None
    if groups.get("soc") is not None:
        until_soc = float(groups["soc"]) / 100.0
        if not 0.0 <= until_soc <= 1.0:
            raise InputError(field, text, f"an SOC target from 0 % to 100 %, {_examples(verb)}")
    voltage_V = number("volt", f"a hold voltage {validate.VOLTAGE_V.rule()}")
    if voltage_V is not None and not validate.VOLTAGE_V.contains(voltage_V):
        raise InputError(
            field, text, f"a hold voltage {validate.VOLTAGE_V.rule()}, {_examples(verb)}"
        )
    return Step(text, groups["kind"].lower(), c_rate, duration_s, until_soc, voltage_V)


def _expand(item: object, field: str) -> tuple[str | tuple[Any, ...], list[tuple[str, Step]]]:
    """Check one protocol entry; return its frozen form and its (field, step) pairs in order.

    An entry is a step string, a ``"Repeat N times: [a, b]"`` string, or a one-key mapping
    ``{"repeat N times": [a, b]}`` whose frozen form is the pair ``("repeat N times", (a, b))``.
    """
    if isinstance(item, str) and _verb(item) != "repeat":
        return item, [(field, parse_step(item, field))]
    if field.count(".repeat[") >= _MAX_NESTING:
        raise InputError(
            field, item, f"repeats nested at most {_MAX_NESTING} deep, {_examples('repeat')}"
        )
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
        item = {item[0]: item[1]}  # a frozen mapping, from Protocol.config
    if isinstance(item, str):
        key, match = item, _REPEAT_STRING_RE.fullmatch(item.strip())
        children = _split_top_level(match["body"]) if match and match["body"].strip() else []
    elif isinstance(item, Mapping) and len(item) == 1:
        ((key, children),) = item.items()
        match = _REPEAT_KEY_RE.fullmatch(key.strip()) if isinstance(key, str) else None
    else:
        raise InputError(
            field,
            item,
            "a step string or a one-key mapping such as "
            f"{{'repeat 3 times': [steps]}}, {_examples()}",
        )
    if match is None:
        raise InputError(
            field,
            key,
            f"a repeat, {_examples('repeat')} or, in YAML, a mapping {{'repeat 3 times': [steps]}}",
        )
    if not isinstance(children, (list, tuple)) or not children:
        raise InputError(f"{field}.repeat", children, f"a non-empty list of steps, {_examples()}")
    count = float(match["count"])
    if not validate.REPEATS.contains(count):
        raise InputError(
            field,
            key,
            f"a whole number of repeats {validate.REPEATS.rule()}, {_examples('repeat')}",
        )
    frozen, pairs = [], []
    for i, child in enumerate(children):
        child_frozen, child_pairs = _expand(child, f"{field}.repeat[{i}]")
        frozen.append(child_frozen)
        pairs.extend(child_pairs)
    if count * len(pairs) > _MAX_STEPS:
        raise InputError(
            field,
            key,
            f"at most {_MAX_STEPS} steps once repeats are expanded, {_examples('repeat')}",
        )
    return (key if isinstance(item, str) else (key, tuple(frozen))), pairs * int(count)


def _split_top_level(body: str) -> list[str]:
    """Split ``"a, Repeat 2 times: [b, c]"`` at the commas outside brackets."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(body):
        depth += (char == "[") - (char == "]")
        if char == "," and depth == 0:
            parts.append(body[start:i].strip())
            start = i + 1
    return [*parts, body[start:].strip()]


def _simulate(pairs: list[tuple[str, Step]], soc0: float) -> list[tuple[float, float]]:
    """(end time s, end SOC) of each step, checking SOC limits and the one-year bound."""
    time_s, soc, ends = 0.0, soc0, []
    for step_field, step in pairs:
        sign = {"charge": 1.0, "discharge": -1.0}.get(step.kind, 0.0)
        step_s = step.duration_s if step.duration_s is not None else np.inf
        if sign:
            assert step.c_rate_per_h is not None  # charge and discharge steps have a C-rate
            end_soc = soc + sign * step.c_rate_per_h * step_s / 3600.0
            if step.until_soc is not None:
                gap = (step.until_soc - soc) * sign
                if gap < -_SOC_TOL:
                    raise InputError(
                        step_field,
                        step.text,
                        f"a {step.kind} target "
                        f"{'at or above' if sign > 0 else 'at or below'} the "
                        f"{soc * 100:g} % SOC before this step, "
                        f"{_examples(step.kind)}",
                        f"{'discharge' if sign > 0 else 'charge'} to reach "
                        f"{step.until_soc * 100:g} %",
                    )
                reach_s = max(gap, 0.0) * 3600.0 / step.c_rate_per_h
                if reach_s <= step_s:  # exact target, so that round-off cannot accumulate
                    step_s, end_soc = reach_s, step.until_soc
            if not -_SOC_TOL <= end_soc <= 1.0 + _SOC_TOL:
                limit = 1.0 if sign > 0 else 0.0
                limit_s = abs(limit - soc) * 3600.0 / step.c_rate_per_h
                raise InputError(
                    step_field,
                    step.text,
                    f"a 'for' step that keeps SOC within 0 % to 100 %, {_examples(step.kind)}",
                    f"at {duration(limit_s)} into this step "
                    f"({duration(time_s + limit_s)} into the protocol) SOC reaches "
                    f"{limit * 100:g} %; end the step with 'until {limit * 100:g}%'",
                )
            soc = min(max(end_soc, 0.0), 1.0)
        time_s += step_s
        if time_s > _YEAR_S:
            raise InputError(
                step_field,
                step.text,
                f"a protocol that ends within 1 year "
                f"({_YEAR_S / 3600:g} h), {_examples(step.kind)}",
                f"with this step it never ends (at least {duration(time_s)})",
            )
        ends.append((time_s, soc))
    return ends


@dataclass(frozen=True)
class Protocol:
    """A cycling protocol and the piecewise-linear SOC(t) it implies; build with parse_protocol.

    Attributes
    ----------
    config : tuple
        The entries as given, frozen: step strings, ``"Repeat N times: [...]"`` strings and
        ``("repeat N times", (entries...))`` pairs for repeat mappings.
    soc0 : float
        SOC at time 0, fraction 0-1.
    steps : tuple of Step
        The steps with repeats expanded, in order.
    start_s, end_s : numpy.ndarray
        Start and end of each step since the protocol started, s (read-only).
    soc_start, soc_end : numpy.ndarray
        SOC at the start and end of each step, fraction 0-1 (read-only).
    """

    config: Any  # as given (a list, or one step string); frozen to a tuple on init
    soc0: float = 0.0
    steps: tuple[Step, ...] = field(init=False)
    start_s: NDArray[np.float64] = field(init=False, repr=False, compare=False)
    end_s: NDArray[np.float64] = field(init=False, repr=False, compare=False)
    soc_start: NDArray[np.float64] = field(init=False, repr=False, compare=False)
    soc_end: NDArray[np.float64] = field(init=False, repr=False, compare=False)

    __repr__ = compact_repr

    def __post_init__(self) -> None:
        validate.SOC.check(self.soc0, "soc0")
        entries = (self.config,) if isinstance(self.config, str) else self.config
        if not isinstance(entries, (list, tuple)) or not entries:
            raise InputError("protocol", self.config, f"a list of at least one step, {_examples()}")
        frozen, pairs = [], []
        for i, entry in enumerate(entries):
            entry_frozen, entry_pairs = _expand(entry, f"protocol[{i}]")
            frozen.append(entry_frozen)
            pairs.extend(entry_pairs)
        ends = np.array(_simulate(pairs, float(self.soc0)), dtype=float).reshape(-1, 2)
        derived = {
            "config": tuple(frozen),
            "soc0": float(self.soc0),
            "steps": tuple(step for _, step in pairs),
            "end_s": ends[:, 0],
            "soc_end": ends[:, 1],
            "start_s": np.concatenate(([0.0], ends[:-1, 0])),
            "soc_start": np.concatenate(([float(self.soc0)], ends[:-1, 1])),
        }
        for name, value in derived.items():
            if isinstance(value, np.ndarray):
                value.flags.writeable = False
            object.__setattr__(self, name, value)

    @property
    def duration_s(self) -> float:
        """End of the last step since the protocol started, s."""
        return float(self.end_s[-1])

    def soc_at(self, time_s: ArrayLike) -> NDArray[np.float64]:
        """SOC (fraction 0-1) at ``time_s`` since the protocol started, s; same shape.

        Before 0 it is ``soc0``; after the end, the final SOC.
        """
        soc: NDArray[np.float64] = np.interp(
            np.asarray(time_s, dtype=float),
            np.append(0.0, self.end_s),
            np.append(self.soc0, self.soc_end),
        )
        return soc

    def step_at(self, time_s: ArrayLike) -> NDArray[np.intp]:
        """Index into ``steps`` of the step running at ``time_s``, s; same shape.

        A step runs over [start, end), so a zero-length step is never returned; times before
        0 give the first step, times at or after the end the last.
        """
        index = np.searchsorted(self.end_s, np.asarray(time_s, dtype=float), side="right")
        return np.minimum(index, len(self.steps) - 1)

    def to_config(self) -> list[str | dict[str, Any]]:
        """The entries as given, as a YAML-ready list.

        ``parse_protocol(p.to_config(), p.soc0) == p``.
        """

        def thaw(entry: str | tuple[Any, ...]) -> str | dict[str, Any]:
            return entry if isinstance(entry, str) else {entry[0]: [thaw(e) for e in entry[1]]}

        return [thaw(entry) for entry in self.config]


def parse_protocol(config: list[str | dict[str, Any]] | str, soc0: float = 0.0) -> Protocol:
    """Parse a protocol: a list of steps and repeats (see EXAMPLES), or one step string.

    Parameters
    ----------
    config : list of (str or dict) or str
        Step strings, ``"Repeat N times: [step, ...]"`` strings and, as YAML gives them,
        one-key mappings ``{"repeat N times": [entries...]}``; repeats nest.
    soc0 : float
        SOC at time 0, fraction 0-1.

    Raises
    ------
    InputError
        A bad step (see parse_step), a bad repeat, an empty protocol, a 'for' step that would
        take SOC past 0 % or 100 %, an 'until' target on the wrong side of the SOC, a protocol
        longer than 1 year, or ``soc0`` outside 0-1. The field is the entry's place, such as
        ``protocol[1].repeat[0]``.
    """
    return Protocol(config, soc0)
