"""Short reprs for the public dataclasses: one line under ``MAX_REPR_CHARS`` characters.

A dataclass's default repr prints every field in full: a 40 × 40 raster's plan printed as
0.1 MB. ``compact_repr`` keeps the class name and each field, summarised: numbers to 4
significant digits, strings cut to ``MAX_TEXT_CHARS``, arrays as their shape, long sequences
and mappings as their length, nested dataclasses by their name. A class opts in with
``__repr__ = compact_repr`` in its body (``dataclass`` keeps a ``__repr__`` the class defines).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

import numpy as np

#: Longest repr, characters (longer ones end with "…)").
MAX_REPR_CHARS = 200
#: Longest text shown for a string field, characters.
MAX_TEXT_CHARS = 40
#: Longest sequence or mapping shown item by item.
MAX_ITEMS = 3


def _text(value: str) -> str:
    if len(value) > MAX_TEXT_CHARS:
        value = value[: MAX_TEXT_CHARS - 1] + "…"
    return repr(value)


def _scalar(value: object) -> str | None:
    """The summary of a number, string, None or a short tuple of them; None otherwise."""
    if value is None or isinstance(value, (bool, np.bool_)):
        return repr(bool(value) if isinstance(value, np.bool_) else value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return f"{number:.4g}" if math.isfinite(number) else repr(number)
    if isinstance(value, str):
        return _text(value)
    return None


def summary(value: object) -> str:
    """A few characters saying what ``value`` is (see the module docstring)."""
    scalar = _scalar(value)
    if scalar is not None:
        return scalar
    if isinstance(value, np.ndarray):
        return f"array(shape={value.shape})"
    if isinstance(value, PurePath):
        return _text(str(value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = next(
            (getattr(value, a) for a in ("name", "title", "label", "key") if hasattr(value, a)),
            None,
        )
        inner = _text(name) if isinstance(name, str) else "…"
        return f"{type(value).__name__}({inner})"
    if isinstance(value, Mapping):
        if len(value) <= MAX_ITEMS and all(_scalar(v) is not None for v in value.values()):
            return "{" + ", ".join(f"{k!r}: {_scalar(v)}" for k, v in value.items()) + "}"
        return f"{{{len(value)} {'entry' if len(value) == 1 else 'entries'}}}"
    if isinstance(value, (list, tuple)):
        items = [_scalar(v) for v in value]
        if len(value) <= MAX_ITEMS and all(item is not None for item in items):
            inner = ", ".join(str(item) for item in items)
            return f"({inner},)" if len(items) == 1 else f"({inner})"
        kinds = sorted({type(v).__name__ for v in value})
        return f"<{len(value)} {'/'.join(kinds) if len(kinds) <= 2 else 'items'}>"
    return f"<{type(value).__name__}>"


def compact_repr(self: Any) -> str:
    """``ClassName(field=summary, ...)`` for a dataclass, at most ``MAX_REPR_CHARS`` long."""
    parts = [
        f"{f.name}={summary(getattr(self, f.name))}" for f in dataclasses.fields(self) if f.repr
    ]
    text = f"{type(self).__name__}({', '.join(parts)})"
    if len(text) > MAX_REPR_CHARS:
        text = text[: MAX_REPR_CHARS - 2] + "…)"
    return text
