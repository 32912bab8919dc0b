"""Plain-words messages for the planner: numbers as people write them, and the sentence shown
next to a control for an InputError (its label and unit taken from the adapter's tables)."""

from __future__ import annotations

import math
import re
from numbers import Real
from typing import cast

from beamdesign.errors import InputError

from .adapter import FIELD_LABELS, LAYER_TOOLTIPS, TOOLTIPS

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def format_number(x: object, unit: str = "") -> str:
    """A number as people write it: 3 significant digits, ``−1 × 10¹²`` for large/small ones,
    a true minus sign, the unit after a space."""
    if isinstance(x, bool) or not isinstance(x, Real):
        text = repr(x) if isinstance(x, str) else str(x)
    elif not math.isfinite(x):
        text = {math.inf: "∞", -math.inf: "−∞"}.get(float(x), "not a number")
    elif x != 0 and not 1e-3 <= cast(float, abs(x)) < 1e4:
        exponent = math.floor(math.log10(cast(float, abs(x))))
        mantissa = x / 10**exponent
        if round(mantissa, 2) in (10.0, -10.0):
            mantissa, exponent = mantissa / 10, exponent + 1
        text = f"{mantissa:.3g} × 10{str(exponent).translate(_SUPERSCRIPT)}".replace("-", "−")
    else:
        text = f"{x:.4g}".replace("-", "−")
    return f"{text} {unit}".rstrip() if unit and isinstance(x, Real) else text


def _format_value(value: object, unit: str) -> str:
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, Real) for v in value):
        return " × ".join(format_number(v) for v in value) + (f" {unit}" if unit else "")
    if isinstance(value, str):
        return f"'{value}'" if value.strip() else "nothing"
    return format_number(value, unit) if isinstance(value, Real) else str(value)


def human_message(error: InputError, label: str | None = None, unit: str | None = None) -> str:
    """The plain-words sentence shown next to a control: what is allowed, what was given (with
    its unit, numbers formatted), the hint."""
    last = re.sub(r"\[\d+\]$", "", error.field.split(".")[-1])
    guess_label, guess_unit = FIELD_LABELS.get(last, (None, None))
    if guess_label is None:
        entry = TOOLTIPS.get(last) or LAYER_TOOLTIPS.get(last)
        guess_label, guess_unit = (entry[0], entry[1]) if entry else (last.replace("_", " "), "")
    label = label or guess_label
    unit = (guess_unit or "") if unit is None else unit
    allowed = error.allowed.rstrip(".")
    low = allowed.lower()
    if low.startswith(("must", "is ", "are ")):
        text = f"{label} {allowed}"
    elif low.startswith((label.lower(), last.replace("_", " ").lower())):
        text = allowed  # the core's sentence already names it
    elif low.startswith(("a ", "an ", "one ", "at ", "between ", "in ")):
        text = f"{label} must be {allowed}"
    else:
        text = f"{label}: {allowed}"
    text += f"; got {_format_value(error.value, unit)}"
    if error.hint:
        text += f" ({error.hint.rstrip('.')})"
    return text[0].upper() + text[1:] + "."
