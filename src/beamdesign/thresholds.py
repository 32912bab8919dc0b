"""Damage thresholds: named scales with their sources, the dose metric each was measured in, and
the verdict they give a dose.

A threshold is only meaningful in the metric its authors computed it with: the founding paper's
scale (80 kGy / ~1–4 MGy / 11 MGy) is a ``total-attenuation`` dose averaged over the beam column
(depth mean at the beam's footprint); electrolyte radiolysis (Ortiz 2015) and the MX limits
(Henderson, Garman) are absorbed doses (``energy-absorption``). Each :class:`Threshold` carries
``convention`` and ``where``; the engine compares it with the dose in that metric, whatever
convention the plan displays.

``where`` is ``column-mean`` (the mean over the layer's thickness at the hottest point of the
footprint) or ``hottest-point`` (the entrance face of the layer at that point, where the beam is
strongest). Laterally, every dose is taken at the hottest point of a location's footprint.

The data file ``data/thresholds.csv`` is the literature table (one row per published threshold,
with DOI, metric and the system it was measured on). Named scales pick rows from it. A threshold
applies to the probed constituent unless it names another constituent; the word ``electrolyte``
means the pore filler of the probed layer.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from beamdesign import validate
from beamdesign.coefficients import CONVENTIONS
from beamdesign.errors import InputError, did_you_mean
from beamdesign.frozen import FrozenMapping
from beamdesign.reprs import compact_repr

WHERE = ("column-mean", "hottest-point")
THRESHOLD_KEYS = (
    "name",
    "dose_Gy",
    "constituent",
    "verdict",
    "source",
    "convention",
    "where",
    "measured_for",
)
#: What the founding paper's scale was measured on: active materials and an energy window.
_JOUSSEAUME_MATERIALS = ("NMC811", "NMC622", "NMC532", "NMC111", "graphite")
_JOUSSEAUME_MEASURED_FOR = "NMC811/NMC622 | graphite pouch cells, operando XRD at 27 keV"
#: Energies (keV) over which a 27 keV scale is not called borrowed: the photoelectron spectrum
#: (the damage mechanism the paper proposes) changes little within this window.
_JOUSSEAUME_ENERGY_keV = (20.0, 35.0)


@dataclass(frozen=True)
class Threshold:
    """A dose (Gy) above which an effect is expected, in the metric it was measured in.

    Attributes
    ----------
    name, dose_Gy : what it is and its level (Gy)
    constituent : None for the probed constituent, ``electrolyte`` for the probed layer's pore
        filler, or a constituent name / ``layer/constituent``
    verdict : the words shown when it is crossed
    source : citation
    convention : dose convention of the threshold (one of ``coefficients.CONVENTIONS``)
    where : ``column-mean`` or ``hottest-point`` (see the module docstring)
    measured_for : chemistry, technique and energy it was measured for ('' when not stated)
    materials : library names of the materials it was measured on (empty: not restricted)
    energy_range_keV : energies where it was measured (None: not restricted)
    """

    name: str
    dose_Gy: float
    constituent: str | None = None
    verdict: str = ""
    source: str = ""
    convention: str = "energy-absorption"
    where: str = "column-mean"
    measured_for: str = ""
    materials: tuple[str, ...] = ()
    energy_range_keV: tuple[float, float] | None = None

    __repr__ = compact_repr

    @property
    def metric(self) -> str:
        """The metric in words, e.g. 'total-attenuation, column-mean'."""
        return f"{self.convention}, {self.where}"

    def caveat(self, material_name: str, energy_keV: float) -> str:
        """'' when the threshold was measured on this material and energy, else a warning."""
        borrowed_material = bool(self.materials) and material_name not in self.materials
        low, high = self.energy_range_keV or (0.0, math.inf)
        if borrowed_material or not low <= energy_keV <= high:
            return f"borrowed: scale measured on {self.measured_for}"
        return ""

    def to_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"name": self.name, "dose_Gy": self.dose_Gy}
        for key in ("constituent", "verdict", "source"):
            if getattr(self, key):
                config[key] = getattr(self, key)
        config["convention"] = self.convention
        config["where"] = self.where
        if self.measured_for:
            config["measured_for"] = self.measured_for
        return config


@cache
def literature() -> tuple[Mapping[str, Any], ...]:
    """Rows of the literature table (thresholds.csv), as read (read-only: the rows are cached).

    >>> row = literature()[0]
    >>> row["id"], row["convention"], row["doi"]
    ('jousseaume2023-safe', 'total-attenuation', '10.1021/acsenergylett.3c00815')
    """
    text = resources.files("beamdesign").joinpath("data/thresholds.csv").read_text("utf-8")
    return tuple(FrozenMapping(row) for row in csv.DictReader(text.splitlines()))


def _row(row_id: str) -> Mapping[str, Any]:
    return next(r for r in literature() if r["id"] == row_id)


def _from_row(
    row_id: str,
    name: str,
    column: str,
    constituent: str | None,
    verdict_text: str,
    **restrictions: Any,
) -> Threshold:
    row = _row(row_id)
    return Threshold(
        name,
        float(row[column]),
        constituent,
        verdict_text,
        row["source"],
        row["convention"],
        row["where"],
        **restrictions,
    )


def _jousseaume2023() -> tuple[Threshold, ...]:
    scope = {
        "measured_for": _JOUSSEAUME_MEASURED_FOR,
        "materials": _JOUSSEAUME_MATERIALS,
        "energy_range_keV": _JOUSSEAUME_ENERGY_keV,
    }
    return (
        _from_row(
            "jousseaume2023-safe",
            "no damage recorded below 80 kGy",
            "high",
            None,
            "mechanism only: microstructure (peak shapes) may be affected",
            **scope,
        ),
        _from_row(
            "jousseaume2023-microstructure",
            "apparent microstructure modified (~1 MGy)",
            "low",
            None,
            "mechanism only: peak intensity and width already modified",
            **scope,
        ),
        _from_row(
            "jousseaume2023-microstructure",
            "limit for mechanism studies (~4 MGy)",
            "high",
            None,
            "mechanism at risk: beyond the ~4 MGy limit",
            **scope,
        ),
        _from_row(
            "jousseaume2023-kinetics",
            "clear kinetic limitation (11 MGy)",
            "low",
            None,
            "kinetics likely affected",
            **scope,
        ),
    )


def _radiolysis() -> tuple[Threshold, ...]:
    row = _row("ortiz2015-radiolysis")
    return (
        _from_row(
            "ortiz2015-radiolysis",
            "electrolyte radiolysis (~20 kGy)",
            "low",
            "electrolyte",
            "electrolyte radiolysis likely",
            measured_for=row["system"],
        ),
    )


def _literature_scale() -> tuple[Threshold, ...]:
    out = []
    for row in literature():
        column = "low" if row["low"] else "high"
        if row["level"] == "context" or not row[column] or row["unit"] != "Gy":
            continue
        constituent = "electrolyte" if row["constituent"] == "electrolyte" else None
        scope: dict[str, Any] = {"measured_for": f"{row['system']}, {row['technique']}"}
        if row["id"].startswith("jousseaume2023"):
            scope = {
                "measured_for": _JOUSSEAUME_MEASURED_FOR,
                "materials": _JOUSSEAUME_MATERIALS,
                "energy_range_keV": _JOUSSEAUME_ENERGY_keV,
            }
        out.append(
            _from_row(
                row["id"],
                f"{row['id']}: {row['effect'].split(';')[0]}",
                column,
                constituent,
                f"above {row['id']}",
                **scope,
            )
        )
    return tuple(out)


SCALES = {
    "jousseaume2023": lambda: _jousseaume2023() + _radiolysis(),
    "jousseaume2023-active-only": _jousseaume2023,
    "literature": _literature_scale,
}
SAFE_VERDICT = "safe for microstructure"
#: The scale a plan uses when it names none.
DEFAULT_SCALE = "jousseaume2023"


def _custom(item: object, field: str) -> Threshold:
    """A threshold written in a plan file: {name, dose_Gy, convention?, where?, ...}."""
    item = validate.mapping(item, field, THRESHOLD_KEYS, required=("name", "dose_Gy"))

    def optional(key: str) -> str | None:
        value = item.get(key)
        return None if value is None else validate.text(value, f"{field}.{key}")

    name = validate.text(item["name"], f"{field}.name")
    return Threshold(
        name,
        validate.DOSE_GY.check(item["dose_Gy"], f"{field}.dose_Gy"),
        optional("constituent"),
        optional("verdict") or f"above '{name}'",
        optional("source") or "given in the plan",
        validate.choice(
            item.get("convention", "energy-absorption"), f"{field}.convention", CONVENTIONS
        ),
        validate.choice(item.get("where", "column-mean"), f"{field}.where", WHERE),
        optional("measured_for") or "",
    )


def thresholds_from_config(config: object, field: str = "thresholds") -> tuple[Threshold, ...]:
    """Thresholds from a scale name, or a list of scale names and custom thresholds.

    A custom threshold is ``{name, dose_Gy, constituent?, verdict?, source?, convention?,
    where?, measured_for?}``; ``convention`` defaults to ``energy-absorption`` (absorbed dose)
    and ``where`` to ``column-mean``.
    """
    items = [config] if isinstance(config, str) else config
    if not isinstance(items, list) or not items:
        raise InputError(
            field,
            config,
            "a scale name (" + ", ".join(SCALES) + ") or a list of "
            "scale names and {name, dose_Gy, constituent?, convention?, where?}",
        )
    out: list[Threshold] = []
    for i, item in enumerate(items):
        item_field = field if isinstance(config, str) else f"{field}[{i}]"
        if isinstance(item, str):
            if item.lower() not in SCALES:
                raise InputError(
                    item_field,
                    item,
                    "a threshold scale: " + ", ".join(SCALES),
                    did_you_mean(item, SCALES),
                )
            out.extend(SCALES[item.lower()]())
        else:
            out.append(_custom(item, item_field))
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
