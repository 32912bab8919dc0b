"""``beamdesign stopping``: electron stopping powers and CSDA range of a material."""

from __future__ import annotations

import argparse
import json
from typing import Any

from beamdesign.commands import number_or_text
from beamdesign.materials import resolve_material
from beamdesign.stopping import (
    collision_stopping_power_MeV_cm2_per_g,
    csda_range_g_per_cm2,
    csda_range_um,
    mean_excitation_energy_eV,
    radiative_stopping_power_MeV_cm2_per_g,
)


def _handle(args: argparse.Namespace) -> int:
    material = resolve_material(args.material, "--material", number_or_text(args.density_g_cm3))
    energy = number_or_text(args.energy_kev)
    result = {
        "material": material.name,
        "formula": material.formula,
        "density_g_cm3": material.density_g_cm3,
        "energy_keV": energy,
        "mean_excitation_energy_eV": mean_excitation_energy_eV(material),
        "collision_stopping_power_MeV_cm2_per_g": float(
            collision_stopping_power_MeV_cm2_per_g(material, energy)[0]
        ),
        "radiative_stopping_power_MeV_cm2_per_g": float(
            radiative_stopping_power_MeV_cm2_per_g(material, energy)[0]
        ),
        "csda_range_g_per_cm2": float(csda_range_g_per_cm2(material, energy)[0]),
        "csda_range_um": float(csda_range_um(material, energy)[0]),
        "method": "Bethe (ICRU 37) with ICRU 37 I-values; CSDA range from 0.1 keV",
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"material: {material.name} ({material.formula})   "
        f"density: {material.density_g_cm3:g} g/cm³"
        f"   I = {result['mean_excitation_energy_eV']:.1f} eV"
    )
    print(f"electron energy: {energy:g} keV")
    print(
        "collision stopping power: "
        f"{result['collision_stopping_power_MeV_cm2_per_g']:.4g} MeV cm²/g"
    )
    print(
        "radiative stopping power: "
        f"{result['radiative_stopping_power_MeV_cm2_per_g']:.4g} MeV cm²/g"
    )
    print(
        f"CSDA range: {result['csda_range_g_per_cm2']:.4g} g/cm² = {result['csda_range_um']:.4g} µm"
    )
    return 0


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add the ``stopping`` sub-command to the CLI's sub-parsers."""
    parser = commands.add_parser(
        "stopping", help="electron stopping powers and CSDA range (0.1–1000 keV)"
    )
    parser.add_argument("--material", required=True, help="library name or chemical formula")
    parser.add_argument(
        "--density-g-cm3", help="density (g/cm³); required for a formula not in the library"
    )
    parser.add_argument(
        "--energy-kev", required=True, help="electron kinetic energy (keV), 0.1–1000"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.set_defaults(handler=_handle)
