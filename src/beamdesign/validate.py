"""One validation layer for every field of a plan, stack, beam, schedule, protocol or threshold.

Each check returns the clean value or raises one ``InputError`` sentence naming the field path,
the value (shown readably: ``-1e+12``) and what is allowed. The rules are the same everywhere:

- a number is an ``int`` or a ``float``, never a bool (``true`` is not 1) nor a text ("8e10"
  in quotes), always finite; a whole number may be written ``3`` or ``3.0``;
- the physically meaningful range of each quantity is written once, below, as a ``Range``;
- a mapping has text keys and no unknown key (the error suggests the closest allowed key).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from numbers import Real
from typing import Any, cast

from beamdesign.coefficients import ENERGY_MAX_keV, ENERGY_MIN_keV
from beamdesign.errors import InputError, did_you_mean

#: Longest name (layer, location, threshold, plan title), characters.
MAX_NAME_CHARS = 200
#: One year, s: the longest protocol, and the bound of every time in a plan.
YEAR_S = 365.25 * 86400.0


class _Missing:
    """What an error shows for a required key that is absent."""

    def __repr__(self) -> str:
        return "missing"


#: Stand-in value for an absent key (shown as ``missing``).
MISSING = _Missing()


def _g(x: float) -> str:
    return f"{x:.4g}"


@dataclass(frozen=True)
class Range:
    """Allowed values of one quantity: ``low``/``high`` (None: unbounded), open or closed ends.

    ``rule()`` says it in words ("from 1 to 1e+16 ph/s"); ``check(value, field)`` applies it.
    """

    low: float | None
    high: float | None
    unit: str = ""
    low_open: bool = False
    high_open: bool = False
    integer: bool = False

    def rule(self) -> str:
        low, high = self.low, self.high
        if low is not None and high is not None:
            if self.low_open:
                words = f"above {_g(low)} and at most {_g(high)}"
            elif self.high_open:
                words = f"from {_g(low)} to below {_g(high)}"
            else:
                words = f"from {_g(low)} to {_g(high)}"
        elif low is not None:
            words = f"{'above' if self.low_open else 'at least'} {_g(low)}"
        elif high is not None:
            words = f"{'below' if self.high_open else 'at most'} {_g(high)}"
        else:
            words = ""
        return f"{words} {self.unit}".strip()

    def contains(self, x: float) -> bool:
        """Whether the finite number ``x`` is inside the range."""
        if self.low is not None and (x <= self.low if self.low_open else x < self.low):
            return False
        if self.high is not None and (x >= self.high if self.high_open else x > self.high):
            return False
        return not self.integer or float(x).is_integer()

    def check(self, value: object, field: str) -> float:
        """``value`` as a float (an int when ``integer``) inside the range, or an InputError."""
        return number(
            value,
            field,
            self.unit,
            low=self.low,
            high=self.high,
            low_open=self.low_open,
            high_open=self.high_open,
            integer=self.integer,
        )


# The ranges, written once. Each is wide enough for every real experiment and narrow enough
# that a typo (a missing exponent, µm taken for mm) or an overflow is caught.
#: xraylib's validated energy range (coefficients.ENERGY_MIN_keV/ENERGY_MAX_keV).
ENERGY_KEV = Range(ENERGY_MIN_keV, ENERGY_MAX_keV, "keV")
#: 1 ph/s to 1e16 ph/s: above the brightest 4th-generation undulator beams (~1e15 ph/s).
FLUX_PH_S = Range(1.0, 1e16, "ph/s")
#: 10 nm (nano-focus) to 100 mm (a whole pouch cell).
SPOT_UM = Range(0.01, 1e5, "µm")
#: 1 nm (a coating) to 100 mm.
THICKNESS_UM = Range(1e-3, 1e5, "µm")
#: Gases (helium 1.6e-4 g/cm³) to above the densest element (osmium 22.6 g/cm³).
DENSITY_G_CM3 = Range(1e-5, 30.0, "g/cm³")
#: Beam-on time of one measurement: above 0 to 1e7 s (116 days).
EXPOSURE_S = Range(0.0, 1e7, "s", low_open=True)
#: Beam-off times and start times: 0 to one year (the longest protocol).
WAIT_S = Range(0.0, YEAR_S, "s")
#: A position on the cell: ±1 m.
POSITION_UM = Range(-1e6, 1e6, "µm")
#: A raster step: 10 nm to 100 mm.
STEP_UM = Range(0.01, 1e5, "µm")
#: Number of schedule loops.
LOOPS = Range(1, 1e6, "loops", integer=True)
#: Porosity of a layer: a volume fraction, 1 would be no solid at all.
POROSITY = Range(0.0, 1.0, high_open=True)
#: A fixed attenuator transmission.
TRANSMISSION = Range(0.0, 1.0, low_open=True)
#: State of charge, a fraction.
SOC = Range(0.0, 1.0)
#: A damage threshold: above 0 to 1 GGy (published thresholds stop near 1e8 Gy).
DOSE_GY = Range(0.0, 1e9, "Gy", low_open=True)
#: A C-rate in a protocol step, 1/h: above 0 to 1000C.
C_RATE_PER_H = Range(0.0, 1000.0, "C", low_open=True)
#: One protocol step: above 0 to one year.
STEP_S = Range(0.0, YEAR_S, "s", low_open=True)
#: A hold voltage (display only): above 0 to 10 V.
VOLTAGE_V = Range(0.0, 10.0, "V", low_open=True)
#: Repeats of a protocol block.
REPEATS = Range(1, 1e6, "repeats", integer=True)


def number(
    value: object,
    field: str,
    unit: str = "",
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
) -> float:
    """``value`` as a finite float (an int when ``integer``) within the bounds, or an InputError.

    Parameters
    ----------
    value : what the user gave
    field : the field path, e.g. ``beam.flux_ph_s``
    unit : shown after the rule, e.g. "ph/s"
    low, high : bounds (None: unbounded); ``low_open``/``high_open`` exclude them
    integer : a whole number (``3`` or ``3.0``), returned as int
    """
    rule = Range(low, high, unit, low_open, high_open, integer)
    kind = "a whole number" if integer else "a number"
    allowed = f"{kind} {rule.rule()}".strip()
    if isinstance(value, bool):
        raise InputError(field, value, allowed, "true/false is not a number")
    if isinstance(value, str):
        hint = "text is not a number"
        try:
            float(value.replace("_", "x"))
            hint = "a number in quotes is text; write it without quotes"
        except ValueError:
            if "_" in value:
                hint = "write the number without underscores, e.g. 1000 not 1_000"
        raise InputError(field, value, allowed, hint)
    if not isinstance(value, Real):
        raise InputError(field, MISSING if value is None else value, allowed)
    # mypy's numeric tower has no float <: Real; the value itself stays as given (an int too
    # large for a float is compared exactly)
    number = cast(float, value)
    if isinstance(number, float) and not math.isfinite(number):
        raise InputError(field, number, allowed, "finite numbers only")
    if not rule.contains(number):  # exact comparison, also for integers too large for a float
        raise InputError(field, number, allowed)
    return int(number) if integer else float(number)


def text(value: object, field: str, *, max_chars: int = MAX_NAME_CHARS, empty: bool = False) -> str:
    """``value`` as text without surrounding blanks, non-empty unless ``empty``, at most
    ``max_chars`` characters."""
    if not isinstance(value, str):
        raise InputError(
            field,
            MISSING if value is None else value,
            "text" + ("" if empty else " (not empty)"),
            "put it in quotes" if isinstance(value, (bool, Real)) else "",
        )
    cleaned = value.strip()
    if not cleaned and not empty:
        raise InputError(field, value, "a non-empty text")
    if len(cleaned) > max_chars:
        raise InputError(field, value, f"a text of at most {max_chars} characters")
    return cleaned


def choice(value: object, field: str, choices: Collection[str]) -> str:
    """One of ``choices`` (case-insensitive), returned as spelled in ``choices``."""
    by_lower = {c.lower(): c for c in choices}
    if isinstance(value, str) and value.strip().lower() in by_lower:
        return by_lower[value.strip().lower()]
    raise InputError(
        field,
        value,
        "one of " + ", ".join(choices),
        did_you_mean(value, choices) if isinstance(value, str) else "",
    )


def unknown_keys(mapping: Mapping[Any, object], allowed: Collection[str], field: str) -> None:
    """Refuse any key of ``mapping`` not in ``allowed`` (and any key that is not text)."""
    for key in mapping:
        if not isinstance(key, str) or key not in allowed:
            where = f"{field}.{key}" if field else str(key)
            raise InputError(
                where,
                mapping[key],
                "not a known key; allowed: " + ", ".join(allowed),
                did_you_mean(str(key), allowed),
            )


def mapping(
    value: object, field: str, allowed: Collection[str], required: Collection[str] = ()
) -> Mapping[str, object]:
    """``value`` as a mapping whose keys are all in ``allowed`` and include ``required``."""
    if not isinstance(value, Mapping):
        what = ", ".join(required or allowed)
        raise InputError(field, MISSING if value is None else value, f"a mapping with keys {what}")
    unknown_keys(value, allowed, field)
    for key in required:
        if key not in value:
            raise InputError(f"{field}.{key}" if field else key, MISSING, "required")
    return value
