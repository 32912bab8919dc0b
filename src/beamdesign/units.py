"""Display of quantities with SI prefixes (values stay in base units everywhere else)."""

from __future__ import annotations

import math

_PREFIXES = [
    (1e12, "T"),
    (1e9, "G"),
    (1e6, "M"),
    (1e3, "k"),
    (1.0, ""),
    (1e-3, "m"),
    (1e-6, "µ"),
    (1e-9, "n"),
    (1e-12, "p"),
]


def si(value: float, unit: str, digits: int = 3) -> str:
    """``value`` in ``unit`` with an SI prefix and ``digits`` significant digits: 1.23 kGy/s."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g} {unit}"
    magnitude = abs(value)
    factor, prefix = next(((f, p) for f, p in _PREFIXES if magnitude >= f * 0.9995), _PREFIXES[-1])
    return f"{value / factor:.{digits}g} {prefix}{unit}"


def duration(time_s: float) -> str:
    """A duration in the largest sensible unit: 45 s, 12.5 min, 3.20 h, 2.1 d."""
    if time_s < 120:
        return f"{time_s:.3g} s"
    if time_s < 7200:
        return f"{time_s / 60:.3g} min"
    if time_s < 3 * 86400:
        return f"{time_s / 3600:.3g} h"
    return f"{time_s / 86400:.3g} d"
