"""Technique atlas: what each characterization technique resolves, needs and probes.

``data/techniques.csv`` is Table 1 of Chen, Leung & Huang, Adv. Funct. Mater. 2024, 34,
2308165 (CC BY 4.0): its text columns as published, plus the probe and numeric bounds read off
the text (SI units in the column names) so that a table can be sorted. Where beamdesign can
compute it, :func:`typical_dose` gives the dose of one measurement.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, fields
from functools import cache
from importlib import resources
from typing import Any

from beamdesign.ebeam import ElectronDose, electron_dose, scanned_probe
from beamdesign.errors import InputError, did_you_mean
from beamdesign.materials import Material
from beamdesign.reprs import compact_repr

SOURCE = "Chen, Leung & Huang, Adv. Funct. Mater. 2024, 34, 2308165, Table 1"
DOI = "10.1002/adfm.202308165"

# One measurement beamdesign can put a number on, with where its settings come from.
TYPICAL_STEM: dict[str, Any] = {
    "description": "one atomic-resolution STEM frame: 19 pA, 10 µs dwell, 0.088 × 0.088 Å² "
    "pixels, 300 kV (settings of the Zr–ZrO2 electron-tomography study, Zhang, "
    "Li, Tong et al., Nat. Commun.)",
    "current_pA": 19.0,
    "dwell_us": 10.0,
    "pixel_A": 0.088,
    "energy_keV": 300.0,
}


@dataclass(frozen=True)
class Technique:
    """One row of the atlas (text as published; numeric bounds in SI, None when not given)."""

    technique: str
    probe: str
    spatial_resolution: str
    time_resolution: str
    sample_mass: str
    information: str
    detection_limit: str
    penetration_depth: str
    refs: str
    spatial_resolution_best_m: float | None
    time_resolution_best_s: float | None
    time_resolution_worst_s: float | None
    sample_mass_min_g: float | None
    sample_mass_max_g: float | None
    penetration_depth_min_m: float | None
    penetration_depth_max_m: float | None
    source: str
    doi: str

    __repr__ = compact_repr

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


_NUMERIC = {f.name for f in fields(Technique) if f.name.endswith(("_m", "_s", "_g"))}


@cache
def techniques() -> tuple[Technique, ...]:
    """Every row of the atlas, in the review's order."""
    text = resources.files("beamdesign").joinpath("data/techniques.csv").read_text("utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return tuple(Technique(**_parsed(row)) for row in rows)


def _parsed(row: dict[str, str]) -> dict[str, Any]:
    """One CSV row's fields: numeric columns as floats (None when empty), the rest as text."""
    return {k: (float(v) if v else None) if k in _NUMERIC else v for k, v in row.items()}


def technique(name: str) -> Technique:
    """The atlas row of ``name`` (case-insensitive)."""
    by_name = {t.technique.lower(): t for t in techniques()}
    if not isinstance(name, str) or name.strip().lower() not in by_name:
        names = [t.technique for t in techniques()]
        raise InputError(
            "technique", name, "one of " + ", ".join(names), did_you_mean(str(name), names)
        )
    return by_name[name.strip().lower()]


def typical_dose(name: str, material: Material) -> ElectronDose | None:
    """Dose of one typical measurement of technique ``name`` in ``material``, or None.

    Only STEM is computed: one frame at :data:`TYPICAL_STEM` (thin specimen, collision
    stopping power). The review gives no beam parameters (flux, spot, exposure) for its X-ray
    techniques and the other probes are not ionizing beams beamdesign models, so their dose
    is not computed rather than guessed; plan an X-ray measurement with ``beamdesign dose``.
    """
    row = technique(name)
    if row.technique != "STEM":
        return None
    exposure = scanned_probe(
        TYPICAL_STEM["current_pA"], TYPICAL_STEM["dwell_us"], TYPICAL_STEM["pixel_A"]
    )
    return electron_dose(material, TYPICAL_STEM["energy_keV"], exposure)
