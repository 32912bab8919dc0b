"""Command-line interface: a thin shell over the Python API.

Every user error is printed as one sentence on stderr with exit status 2; no traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from collections.abc import Sequence

from beamdesign.beam import PROFILES, Beam
from beamdesign.commands import report as report_command
from beamdesign.coefficients import CONVENTION_MEANING, CONVENTIONS
from beamdesign.dose import stack_dose
from beamdesign.errors import InputError
from beamdesign.materials import library
from beamdesign.stack import load_stack, preset_config, preset_names
from beamdesign.experiment import run_plan
from beamdesign.plan import builtin_plan_names, load_plan
from beamdesign.units import duration, si


def _number(text: str) -> float | str:
    """A number typed on the command line, or the text itself for the validator to reject."""
    try:
        return float(text)
    except ValueError:
        return text


def _spot(text: str) -> tuple[float | str, float | str]:
    parts = text.lower().replace("×", "x").split("x")
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2:
        raise InputError("--spot-um", text, "a spot is WxH in µm, e.g. 300x400")
    return _number(parts[0]), _number(parts[1])


def _dose_table(result) -> str:
    beam = result.beam
    lines = [
        f"stack: {result.stack.name}   energy: {beam.energy_keV:g} keV   flux: {beam.flux_ph_s:.3g} ph/s"
        f"   spot: {beam.spot_um[0]:g} x {beam.spot_um[1]:g} µm ({beam.profile})",
        f"convention: {result.convention} — {CONVENTION_MEANING[result.convention]}",
        f"attenuators: transmission {result.attenuator_transmission:.4g}"
        f"   cell transmission: {result.transmission:.4g}",
        "",
        f"{'layer / constituent':<34}{'thick µm':>9}{'T layer':>9}{'mean rate':>14}"
        f"{'peak rate':>14}{'power':>11}{'mass':>11}",
    ]
    for layer in result.layers:
        lines.append(f"{layer.name:<34}{layer.thickness_um:>9.4g}{layer.transmission:>9.4f}"
                     f"{si(layer.dose_rate_Gy_per_s, 'Gy/s'):>14}")
        for c in layer.constituents:
            label = f"  {c.name}" + (" (pores)" if c.role == "pore filler" and
                                     not c.name.endswith("(pores)") else "")
            lines.append(f"{label:<34}{'':>18}{si(c.dose_rate_Gy_per_s, 'Gy/s'):>14}"
                         f"{si(c.peak_dose_rate_Gy_per_s, 'Gy/s'):>14}"
                         f"{si(c.absorbed_power_W, 'W'):>11}{si(c.mass_g, 'g'):>11}")
    lines.append("")
    lines.append("mean = averaged over the footprint (top-hat) or FWHM ellipse (Gaussian); "
                 "peak = beam centre; power = whole beam; mass = inside the footprint.")
    return "\n".join(lines)


def _cmd_dose(args: argparse.Namespace) -> int:
    stack = load_stack(args.stack, "--stack")
    width, height = _spot(args.spot_um)
    beam = Beam.from_config({"energy_keV": _number(args.energy_kev), "flux_ph_s": _number(args.flux),
                             "spot_um": [width, height], "profile": args.profile,
                             "convention": args.convention}, "beam")
    result = stack_dose(stack, beam)
    print(json.dumps(result.to_dict(), indent=2) if args.json else _dose_table(result))
    return 0


def _cmd_materials(args: argparse.Namespace) -> int:
    for m in library():
        print(f"{m.name:<18} {m.density_g_cm3:>7.4g} g/cm³  {m.category:<20} {m.formula}")
        if args.sources:
            print(f"{'':<18} source: {m.source}")
    return 0


def _cmd_stacks(args: argparse.Namespace) -> int:
    for name in preset_names():
        config = preset_config(name)
        print(f"{name:<26} {config.get('title', '')}")
        if args.sources:
            print(f"{'':<26} source: {' '.join(str(config.get('source', '')).split())}")
    return 0


def _run_table(result) -> str:
    plan = result.plan
    lines = [
        f"plan: {plan.title}",
        f"stack: {plan.stack.name}   beam: {plan.beam.energy_keV:g} keV, {plan.beam.flux_ph_s:.3g} ph/s, "
        f"{plan.beam.spot_um[0]:g} x {plan.beam.spot_um[1]:g} µm {plan.beam.profile}",
        f"convention: {plan.beam.convention} — {CONVENTION_MEANING[plan.beam.convention]}",
        f"protocol: {' / '.join(map(str, plan.protocol.to_config()))} "
        f"({duration(plan.protocol.duration_s)})   probed: {result.probe}",
        "",
        f"{'location':<10}{'scans':>6}{'beam on':>10}{'probed dose':>13}{'local rate':>13}"
        f"{'avg rate':>13}  verdict",
    ]
    for loc in result.locations:
        lines.append(f"{loc.name:<10}{loc.scans:>6}{duration(loc.beam_on_s):>10}"
                     f"{si(loc.dose_Gy[result.probe], 'Gy'):>13}"
                     f"{si(loc.local_dose_rate_Gy_per_s, 'Gy/s'):>13}"
                     f"{si(loc.averaged_dose_rate_Gy_per_s, 'Gy/s'):>13}  {loc.verdict}")
    lines += ["", "threshold crossings (time, SOC):"]
    for loc in result.locations:
        cells = [f"{c.threshold.name} [{c.constituent.split('/')[-1]}]: " + (
                 f"{duration(c.time_s)}, SOC {c.soc:.1%}" if c.time_s is not None else "never")
                 for c in loc.crossings]
        lines.append(f"  {loc.name}: " + "; ".join(cells))
    lines += ["", "final dose per constituent (Gy):"]
    for loc in result.locations:
        lines.append(f"  {loc.name}: " + ", ".join(f"{key} {si(dose, 'Gy')}"
                                                 for key, dose in loc.dose_Gy.items()))
    return "\n".join(lines)


def _cmd_run(args: argparse.Namespace) -> int:
    if args.list:
        for name in builtin_plan_names():
            print(name)
        return 0
    if args.plan is None:
        raise InputError("PLAN", None, "give a plan file or a built-in plan name (see --list)")
    result = run_plan(load_plan(args.plan))
    if args.csv:
        Path(args.csv).write_text(result.timeline_csv(), encoding="utf-8")
    print(json.dumps(result.to_dict(), indent=1) if args.json else _run_table(result))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="beamdesign", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    dose = commands.add_parser("dose", help="dose rate per layer and constituent of a stack")
    dose.add_argument("--stack", default="jousseaume2023-pcc", help="built-in name or YAML/JSON file")
    dose.add_argument("--energy-kev", default="27", help="photon energy (keV), 1–200")
    dose.add_argument("--flux", default="8e10", help="photon flux (ph/s)")
    dose.add_argument("--spot-um", default="300x400", help="spot WxH (µm); FWHM for a Gaussian")
    dose.add_argument("--profile", default="tophat", choices=PROFILES)
    dose.add_argument("--convention", default="energy-absorption", choices=CONVENTIONS)
    dose.add_argument("--json", action="store_true", help="print JSON instead of a table")
    dose.set_defaults(handler=_cmd_dose)

    materials = commands.add_parser("materials", help="list the materials library")
    materials.add_argument("--sources", action="store_true", help="show where numbers come from")
    materials.set_defaults(handler=_cmd_materials)

    stacks = commands.add_parser("stacks", help="list the built-in cell stacks")
    stacks.add_argument("--sources", action="store_true", help="show where numbers come from")
    stacks.set_defaults(handler=_cmd_stacks)
    run = commands.add_parser("run", help="dose at every location over a whole plan")
    run.add_argument("plan", nargs="?", help="plan file (YAML/JSON) or built-in plan name")
    run.add_argument("--json", action="store_true", help="print JSON instead of a table")
    run.add_argument("--csv", metavar="OUT", help="also write the timeline as CSV")
    run.add_argument("--list", action="store_true", help="list the built-in plans")
    run.set_defaults(handler=_cmd_run)
    report_command.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``beamdesign`` command."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except InputError as error:
        print(f"beamdesign: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and closed early
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
