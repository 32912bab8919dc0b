"""Read-only views for the frozen results: nested mappings, sequences and numpy arrays.

A frozen dataclass only stops re-binding its fields; a dict or an array it holds can still be
edited in place, and a cached number computed from it would then be silently wrong. These
helpers make the contents read-only too (``types.MappingProxyType``, tuples, non-writeable
array views), and turn a frozen mapping back into plain, editable dicts and lists.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np


def freeze(value: Any) -> Any:
    """A read-only deep view of ``value``: mappings become ``MappingProxyType`` over a fresh
    dict, lists and tuples become tuples, arrays become read-only views; other values as they
    are (numbers and strings are immutable already).

    >>> config = freeze({"beam": {"spot_um": [200, 200]}})
    >>> config["beam"]["spot_um"]
    (200, 200)
    >>> config["beam"]["energy_keV"] = 30
    Traceback (most recent call last):
    TypeError: 'mappingproxy' object does not support item assignment
    """
    if isinstance(value, Mapping):
        return MappingProxyType({key: freeze(item) for key, item in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(freeze(item) for item in value)
    if isinstance(value, np.ndarray):
        return readonly(value)
    return value


def thaw(value: Any) -> Any:
    """A plain, editable deep copy of a (possibly frozen) mapping: dicts and lists.

    >>> thaw(freeze({"spot_um": [200, 200]}))
    {'spot_um': [200, 200]}
    """
    if isinstance(value, Mapping):
        return {key: thaw(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [thaw(item) for item in value]
    return value


def readonly(array: np.ndarray) -> np.ndarray:
    """A read-only view of ``array`` (no copy; ``array`` itself stays as it was)."""
    view: np.ndarray = array.view()
    view.flags.writeable = False
    return view


def freeze_arrays(obj: object, *names: str) -> None:
    """Replace the array fields ``names`` of the frozen dataclass ``obj`` by read-only views
    (call from ``__post_init__``)."""
    for name in names:
        value = getattr(obj, name)
        if isinstance(value, np.ndarray):
            object.__setattr__(obj, name, readonly(value))
