"""Read-only views for the frozen results: nested mappings, sequences and numpy arrays.

A frozen dataclass only stops re-binding its fields; a dict or an array it holds can still be
edited in place, and a cached number computed from it would then be silently wrong. These
helpers make the contents read-only too (``FrozenMapping``, tuples, non-writeable array views),
and turn a frozen mapping back into plain, editable dicts and lists.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, NoReturn

import numpy as np


class FrozenMapping(Mapping[Any, Any]):
    """A read-only mapping over its own copy of the items; equal to any mapping with the same
    items, and picklable (unlike ``types.MappingProxyType``), so plans and results can go to
    other processes."""

    __slots__ = ("_items",)
    _items: dict[Any, Any]

    def __init__(self, items: Mapping[Any, Any]) -> None:
        object.__setattr__(self, "_items", dict(items))

    @classmethod
    def adopt(cls, items: dict[Any, Any]) -> FrozenMapping:
        """A FrozenMapping over ``items`` itself, without a copy: for a dict the caller has
        just built and keeps no other reference to."""
        frozen = cls.__new__(cls)
        object.__setattr__(frozen, "_items", items)
        return frozen

    def __getitem__(self, key: Any) -> Any:
        return self._items[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"FrozenMapping({self._items!r})"

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"a FrozenMapping is read-only (setting {name!r})")

    def __reduce__(self) -> tuple[type[FrozenMapping], tuple[dict[Any, Any]]]:
        return (FrozenMapping, (self._items,))


def freeze(value: Any) -> Any:
    """A read-only deep view of ``value``: mappings become ``FrozenMapping``, lists and tuples
    become tuples, arrays become read-only views; other values as they are (numbers and
    strings are immutable already).

    >>> config = freeze({"beam": {"spot_um": [200, 200]}})
    >>> config["beam"]["spot_um"]
    (200, 200)
    >>> config["beam"]["energy_keV"] = 30
    Traceback (most recent call last):
    TypeError: 'FrozenMapping' object does not support item assignment
    >>> config == {"beam": {"spot_um": (200, 200)}}
    True
    """
    if isinstance(value, Mapping):
        return FrozenMapping({key: freeze(item) for key, item in value.items()})
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
