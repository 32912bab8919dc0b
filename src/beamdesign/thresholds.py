"""Damage thresholds: named scales with their sources, and the verdict they give a dose.

The data file ``data/thresholds.csv`` is the literature table (copied from the project's
reference folder, one row per published threshold, with DOI). Named scales pick rows from it.
A threshold applies to the probed constituent unless it names another constituent; the word
``electrolyte`` means the pore filler of the probed layer.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

from beamdesign.errors import InputError, did_you_mean

_KEYS = {"name", "dose_Gy", "constituent", "verdict", "source"}


@dataclass(frozen=True)
class Threshold:
    """A dose (Gy) above which an effect is expected, with the verdict it gives when crossed."""

    name: str
    dose_Gy: float
    constituent: str | None = None  # None: the probed constituent
    verdict: str = ""
    source: str = ""

    def to_config(self) -> dict:
        config: dict = {"name": self.name, "dose_Gy": self.dose_Gy}
        for key in ("constituent", "verdict", "source"):
            if getattr(self, key):
                config[key] = getattr(self, key)
        return config


@cache
def literature() -> tuple[dict, ...]:
    """Rows of the literature table (thresholds.csv), as read."""
    text = resources.files("beamdesign").joinpath("data/thresholds.csv").read_text("utf-8")
    return tuple(csv.DictReader(text.splitlines()))


def _row(row_id: str) -> dict:
    return next(r for r in literature() if r["id"] == row_id)


def _jousseaume2023() -> tuple[Threshold, ...]:
    cite = _row("jousseaume2023-safe")["source"]
    micro = _row("jousseaume2023-microstructure")
    return (
        Threshold("no damage recorded below 80 kGy", float(_row("jousseaume2023-safe")["high"]),
                  None, "mechanism only: microstructure (peak shapes) may be affected", cite),
        Threshold("apparent microstructure modified (~1 MGy)", float(micro["low"]), None,
                  "mechanism only: peak intensity and width already modified", cite),
        Threshold("limit for mechanism studies (~4 MGy)", float(micro["high"]), None,
                  "mechanism at risk: beyond the ~4 MGy limit", cite),
        Threshold("clear kinetic limitation (11 MGy)", float(_row("jousseaume2023-kinetics")["low"]),
                  None, "kinetics likely affected", cite),
    )


def _radiolysis() -> tuple[Threshold, ...]:
    row = _row("ortiz2015-radiolysis")
    return (Threshold("electrolyte radiolysis (~20 kGy)", float(row["low"]), "electrolyte",
                      "electrolyte radiolysis likely", row["source"]),)


def _literature_scale() -> tuple[Threshold, ...]:
    out = []
    for row in literature():
        dose = row["low"] or row["high"]
        if row["level"] == "context" or not dose:
            continue
        constituent = "electrolyte" if row["constituent"] == "electrolyte" else None
        out.append(Threshold(f"{row['id']}: {row['effect'].split(';')[0]}", float(dose),
                             constituent, f"above {row['id']}", row["source"]))
    return tuple(out)


SCALES = {
    "jousseaume2023": lambda: _jousseaume2023() + _radiolysis(),
    "jousseaume2023-active-only": _jousseaume2023,
    "literature": _literature_scale,
}
SAFE_VERDICT = "safe for microstructure"


def thresholds_from_config(config: str | list | None, field: str = "thresholds") -> tuple[Threshold, ...]:
    """Thresholds from a scale name, or a list of scale names and {name, dose_Gy, constituent?}."""
    if config is None:
        config = "jousseaume2023"
    items = [config] if isinstance(config, str) else config
    if not isinstance(items, list) or not items:
        raise InputError(field, config, "a scale name (" + ", ".join(SCALES) + ") or a list of "
                         "{name, dose_Gy, constituent?}")
    out: list[Threshold] = []
    for i, item in enumerate(items):
        item_field = field if isinstance(config, str) else f"{field}[{i}]"
        if isinstance(item, str):
            if item.lower() not in SCALES:
                raise InputError(item_field, item, "a threshold scale: " + ", ".join(SCALES),
                                 did_you_mean(item, SCALES))
            out.extend(SCALES[item.lower()]())
            continue
        if not isinstance(item, dict):
            raise InputError(item_field, item, "{name, dose_Gy, constituent?} or a scale name")
        unknown = sorted(set(item) - _KEYS)
        if unknown:
            raise InputError(f"{item_field}.{unknown[0]}", item[unknown[0]],
                             "not a known key; allowed: " + ", ".join(sorted(_KEYS)))
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            raise InputError(f"{item_field}.name", name, "every threshold needs a name")
        dose = item.get("dose_Gy")
        if isinstance(dose, bool) or not isinstance(dose, (int, float)) or not dose > 0:
            raise InputError(f"{item_field}.dose_Gy", dose,
                             f"threshold '{name}' needs a dose_Gy > 0 (Gy)")
        out.append(Threshold(name.strip(), float(dose), item.get("constituent"),
                             item.get("verdict") or f"above '{name.strip()}'",
                             item.get("source", "given in the plan")))
    return tuple(out)


def verdict(crossed: list[Threshold]) -> str:
    """Plain-words verdict from the thresholds a location crossed.

    The highest crossed threshold of the probed constituent gives the main verdict (or
    "safe for microstructure"); thresholds crossed by other constituents are appended.
    """
    probed = [t for t in crossed if t.constituent is None]
    words = [max(probed, key=lambda t: t.dose_Gy).verdict if probed else SAFE_VERDICT]
    words += [t.verdict for t in crossed if t.constituent is not None]
    return "; ".join(words)
