"""``beamdesign ebeam``: fluence, dose (Gy) and knock-on check of a TEM/STEM exposure."""

from __future__ import annotations

import argparse
import json
from typing import Any

from beamdesign.ebeam import (
    ElectronDose,
    ElectronExposure,
    check_energy_keV,
    electron_dose,
    flood_beam,
    given_fluence,
    positive,
    scanned_probe,
)
from beamdesign.errors import InputError
from beamdesign.materials import resolve_material
from beamdesign.units import si

_SCANNED = ("current_pA", "dwell_us", "pixel_A")
_FLOOD = ("current_nA", "area_um2", "time_s")


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


_UNITS = {
    "current_pA": "pA",
    "dwell_us": "µs",
    "pixel_A": "Å",
    "current_nA": "nA",
    "area_um2": "µm²",
    "time_s": "s",
    "thickness_nm": "nm",
    "density_g_cm3": "g/cm³",
}


def _value(args: argparse.Namespace, name: str) -> float | None:
    """The number given for flag ``name`` (> 0, finite), None when absent."""
    return None if getattr(args, name) is None else _given(args, name)


def _given(args: argparse.Namespace, name: str) -> float:
    """The number given for flag ``name`` (> 0, finite); the caller checked it was given."""
    text = getattr(args, name)
    if name == "fluence_e_per_A2":
        return positive(text, "--fluence-e-per-A2", "e/Å²")
    return positive(text, _flag(name), _UNITS[name])


def _frames(text: str | None) -> int:
    if text is None:
        return 1
    try:
        frames = int(text)
    except ValueError:
        raise InputError("--frames", text, "a whole number of frames ≥ 1") from None
    if frames < 1:
        raise InputError("--frames", text, "a whole number of frames ≥ 1")
    return frames


def _exposure(args: argparse.Namespace) -> ElectronExposure:
    """The exposure the flags describe, or an InputError naming the flag at fault."""
    given = {
        name: getattr(args, name)
        for name in (*_SCANNED, *_FLOOD, "fluence_e_per_A2", "frames")
        if getattr(args, name) is not None
    }
    if args.fluence_e_per_A2 is not None:
        for name in ("current_pA", "current_nA", "dwell_us", "pixel_A", "frames"):
            if name in given:
                raise InputError(
                    "--fluence-e-per-A2",
                    args.fluence_e_per_A2,
                    f"give either a fluence or a beam current, not both (drop {_flag(name)})",
                )
        return given_fluence(
            _given(args, "fluence_e_per_A2"), _value(args, "time_s"), _value(args, "area_um2")
        )
    if args.current_pA is not None and args.current_nA is not None:
        raise InputError(
            "--current-nA",
            args.current_nA,
            "give one current: --current-pA for a scanned probe or --current-nA for a flood beam",
        )
    if args.current_pA is not None:
        for name in ("area_um2", "time_s"):
            if name in given:
                raise InputError(
                    _flag(name),
                    given[name],
                    "not used by a scanned probe (--current-pA --dwell-us --pixel-A [--frames])",
                )
        for name in ("dwell_us", "pixel_A"):
            if name not in given:
                raise InputError(
                    _flag(name),
                    None,
                    "a scanned probe (--current-pA) needs --dwell-us (µs) and --pixel-A (Å)",
                )
        return scanned_probe(
            _given(args, "current_pA"),
            _given(args, "dwell_us"),
            _given(args, "pixel_A"),
            _frames(args.frames),
        )
    if args.current_nA is not None:
        for name in ("dwell_us", "pixel_A", "frames"):
            if name in given:
                raise InputError(
                    _flag(name),
                    given[name],
                    "not used by a flood beam (--current-nA --area-um2 --time-s)",
                )
        for name in ("area_um2", "time_s"):
            if name not in given:
                raise InputError(
                    _flag(name),
                    None,
                    "a flood beam (--current-nA) needs --area-um2 (µm²) and --time-s (s)",
                )
        return flood_beam(
            _given(args, "current_nA"), _given(args, "area_um2"), _given(args, "time_s")
        )
    raise InputError(
        "beam",
        None,
        "give --fluence-e-per-A2, or --current-pA --dwell-us "
        "--pixel-A [--frames] (scanned probe), or --current-nA --area-um2 "
        "--time-s (flood beam)",
    )


def _optional(value: float | None, unit: str) -> str:
    return "—" if value is None else si(value, unit)


def table(result: ElectronDose) -> str:
    """A plain-text report of an electron exposure."""
    e = result.exposure
    lines = [
        f"material: {result.material} ({result.formula}, {result.density_g_cm3:g} g/cm³)   "
        f"beam: {result.energy_keV:g} keV electrons, {e.mode}",
    ]
    if e.fluence_per_frame_e_per_A2 is not None:
        lines.append(
            f"fluence per frame       {e.fluence_per_frame_e_per_A2:.4g} e/Å²"
            f"   × {e.frames} frame(s)"
        )
    lines += [
        f"fluence                 {e.fluence_e_per_A2:.4g} e/Å²",
        "fluence rate            "
        + ("—" if e.fluence_rate_e_per_A2_s is None else f"{e.fluence_rate_e_per_A2_s:.4g} e/Å²/s")
        + ("   (during the dwell on a pixel)" if e.mode == "scanned-probe" else ""),
        f"stopping power (coll.)  {result.stopping_power_MeV_cm2_per_g:.4g} MeV cm²/g"
        f"   CSDA range {result.csda_range_um:.4g} µm",
        f"dose (thin specimen)    {si(result.dose_Gy, 'Gy')}",
        f"dose rate               {_optional(result.dose_rate_Gy_per_s, 'Gy/s')}",
    ]
    if result.thickness_nm is not None:
        lines += [
            f"thickness               {result.thickness_nm:g} nm"
            f" = {result.thickness_to_range:.3g} of the CSDA range",
            f"mean dose over it       {_optional(result.mean_dose_Gy, 'Gy')}",
            f"energy deposited        {_optional(result.energy_deposited_J, 'J')}"
            + ("   (one pixel, all frames)" if e.mode == "scanned-probe" else ""),
        ]
    lines += ["", f"approximation: {result.approximation}."]
    if result.warning:
        lines.append(f"warning: {result.warning}.")
    lines += ["", "knock-on: maximum energy transferred to a nucleus vs displacement energy"]
    for k in result.knock_on:
        ed = "—" if k.displacement_energy_eV is None else f"{k.displacement_energy_eV:g} eV"
        threshold = (
            ""
            if k.threshold_energy_keV is None
            else f"  (threshold {k.threshold_energy_keV:.0f} keV, {k.kind})"
        )
        lines.append(
            f"  {k.symbol:<3} E_max {k.max_transfer_eV:7.3g} eV   E_d {ed:>6}   "
            f"{k.verdict}{threshold}"
        )
    return "\n".join(lines)


def _handle(args: argparse.Namespace) -> int:
    energy = check_energy_keV(args.energy_kev, "--energy-kev")
    try:
        material = resolve_material(args.material, "--material", _value(args, "density_g_cm3"))
    except InputError as error:
        if not error.field.endswith("density_g_cm3"):
            raise
        raise InputError(
            "--density-g-cm3",
            None,
            f"'{args.material}' is not in the materials library, so give its density (g/cm³)",
        ) from None
    result = electron_dose(material, energy, _exposure(args), _value(args, "thickness_nm"))
    print(json.dumps(result.to_dict(), indent=2) if args.json else table(result))
    return 0


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add the ``ebeam`` sub-command to the CLI's sub-parsers."""
    parser = commands.add_parser(
        "ebeam",
        help="electron-beam fluence, dose (Gy) and knock-on check (TEM/STEM)",
        description="Fluence (e/Å²), dose (Gy) and knock-on check of an electron exposure. "
        "Give a fluence, a scanned probe or a flood beam.",
    )
    parser.add_argument(
        "--material", required=True, metavar="NAME|FORMULA", help="library name or chemical formula"
    )
    parser.add_argument(
        "--density-g-cm3",
        "--density",
        dest="density_g_cm3",
        metavar="G_CM3",
        help="density (g/cm³); needed for a formula not in the library",
    )
    parser.add_argument(
        "--energy-kev", required=True, metavar="E", help="electron energy (keV), 1–1000"
    )
    parser.add_argument(
        "--fluence-e-per-A2", dest="fluence_e_per_A2", metavar="F", help="fluence (e/Å²)"
    )
    parser.add_argument(
        "--current-pA", dest="current_pA", metavar="I", help="probe current (pA), scanned probe"
    )
    parser.add_argument(
        "--dwell-us", dest="dwell_us", metavar="T", help="dwell time per pixel (µs)"
    )
    parser.add_argument(
        "--pixel-A", dest="pixel_A", metavar="P", help="pixel size (Å), square pixels"
    )
    parser.add_argument("--frames", metavar="N", help="number of frames (scanned probe), default 1")
    parser.add_argument(
        "--current-nA", dest="current_nA", metavar="I", help="beam current (nA), flood beam"
    )
    parser.add_argument("--area-um2", dest="area_um2", metavar="A", help="illuminated area (µm²)")
    parser.add_argument("--time-s", dest="time_s", metavar="T", help="exposure time (s)")
    parser.add_argument(
        "--thickness-nm", dest="thickness_nm", metavar="T", help="specimen thickness (nm)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(handler=_handle)
