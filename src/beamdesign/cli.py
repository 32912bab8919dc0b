"""Command-line interface: a thin shell over the Python API.

Every user error is printed as one sentence on stderr; no traceback. Exit status: 0 ok,
1 a plan crosses a threshold (``run --check``) or a report failed, 2 bad input, 3 usage error,
4 internal error (a bug: please report it; ``BEAMDESIGN_DEBUG=1`` shows the traceback).
Every user text printed to the terminal has its control characters neutralised (``clean``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from typing import Any

from beamdesign import __version__
from beamdesign.beam import PROFILES, Beam
from beamdesign.checks import beam_warnings
from beamdesign.coefficients import CONVENTION_MEANING, CONVENTIONS
from beamdesign.commands import advise as advise_command
from beamdesign.commands import compare as compare_command
from beamdesign.commands import design as design_command
from beamdesign.commands import ebeam as ebeam_command
from beamdesign.commands import report as report_command
from beamdesign.commands import stopping as stopping_command
from beamdesign.commands import sweep as sweep_command
from beamdesign.dose import StackDose, stack_dose
from beamdesign.electron_session import ElectronBeam, electron_summary
from beamdesign.errors import InputError
from beamdesign.experiment import ExperimentResult, run_plan
from beamdesign.files import check_output, reason, write_text_atomic
from beamdesign.materials import library
from beamdesign.plan import builtin_plan_names, load_plan
from beamdesign.signal import signal_block, signal_sentence
from beamdesign.stack import load_stack, preset_config, preset_names
from beamdesign.units import duration, si

EXIT_OK, EXIT_LIMIT, EXIT_INPUT, EXIT_USAGE, EXIT_BUG = 0, 1, 2, 3, 4
EXIT_CODES = f"""exit status:
  {EXIT_OK}  success
  {EXIT_LIMIT}  run --check: a location crosses a threshold (report: a report failed)
  {EXIT_INPUT}  bad input: a plan, stack or option value (one sentence on stderr)
  {EXIT_USAGE}  usage error: unknown option, missing argument
  {EXIT_BUG}  internal error (please report it; BEAMDESIGN_DEBUG=1 shows the traceback)"""
ISSUES_URL = "the beamdesign issue tracker"
#: C0/C1 controls (ESC, newline, carriage return, backspace ...), DEL, and the invisible
#: direction and joiner marks that can reorder or hide text (Unicode BiDi overrides/isolates).
_CONTROL = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]"
)


def clean(text: object) -> str:
    """``text`` with every control character shown as an escape (ESC -> ``\\x1b``, a newline
    -> ``\\n``, RIGHT-TO-LEFT OVERRIDE -> ``\\u202e``): a name cannot move the cursor,
    colour the terminal, start a new line or reverse the text that follows it."""
    return _CONTROL.sub(
        lambda m: m.group().encode("unicode_escape", "backslashreplace").decode("ascii"), str(text)
    )


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


def _dose_table(result: StackDose) -> str:
    beam = result.beam
    lines = [
        f"stack: {clean(result.stack.name)}   energy: {beam.energy_keV:g} keV"
        f"   flux: {beam.flux_ph_s:.3g} ph/s"
        f"   spot: {beam.spot_um[0]:g} x {beam.spot_um[1]:g} µm ({beam.profile})",
        f"convention: {result.convention} — {CONVENTION_MEANING[result.convention]}",
        f"attenuators: transmission {result.attenuator_transmission:.4g}"
        f"   cell transmission: {result.transmission:.4g}",
        "",
        f"{'layer / constituent':<34}{'thick µm':>9}{'T layer':>9}{'mean rate':>14}"
        f"{'peak rate':>14}{'entrance':>14}{'power':>11}{'mass':>11}",
    ]
    for layer in result.layers:
        lines.append(
            f"{clean(layer.name):<34}{layer.thickness_um:>9.4g}{layer.transmission:>9.4f}"
            f"{si(layer.dose_rate_Gy_per_s, 'Gy/s'):>14}"
        )
        for c in layer.constituents:
            label = f"  {clean(c.name)}" + (
                " (pores)" if c.role == "pore filler" and not c.name.endswith("(pores)") else ""
            )
            lines.append(
                f"{label:<34}{'':>18}{si(c.dose_rate_Gy_per_s, 'Gy/s'):>14}"
                f"{si(c.peak_dose_rate_Gy_per_s, 'Gy/s'):>14}"
                f"{si(c.entrance_peak_dose_rate_Gy_per_s, 'Gy/s'):>14}"
                f"{si(c.absorbed_power_W, 'W'):>11}{si(c.mass_g, 'g'):>11}"
            )
    lines.append("")
    lines.append(
        "mean = averaged over the footprint (top-hat) or FWHM ellipse (Gaussian); "
        "peak = beam centre; both averaged over the layer's thickness; entrance = peak at the "
        "layer's entrance face; power = whole beam; mass = inside the footprint."
    )
    return "\n".join(lines)


def _cmd_dose(args: argparse.Namespace) -> int:
    stack = load_stack(args.stack, "--stack")
    width, height = _spot(args.spot_um)
    beam = Beam.from_config(
        {
            "energy_keV": _number(args.energy_kev),
            "flux_ph_s": _number(args.flux_ph_s),
            "spot_um": [width, height],
            "profile": args.profile,
            "convention": args.convention,
        },
        "beam",
    )
    result = stack_dose(stack, beam)
    warnings = beam_warnings(beam, stack)
    _warn(warnings)
    if args.json:
        print(json.dumps({**result.to_dict(), "warnings": list(warnings)}, indent=2))
    else:
        print(_dose_table(result))
    return EXIT_OK


def _warn(warnings: Sequence[str]) -> None:
    for warning in warnings:
        print(f"beamdesign: warning: {clean(warning)}", file=sys.stderr)


def _cmd_materials(args: argparse.Namespace) -> int:
    for m in library():
        print(
            f"{clean(m.name):<18} {m.density_g_cm3:>7.4g} g/cm³  {clean(m.category):<20} "
            f"{clean(m.formula)}"
        )
        if args.sources:
            print(f"{'':<18} source: {clean(m.source)}")
    return 0


def _cmd_stacks(args: argparse.Namespace) -> int:
    for name in preset_names():
        config = preset_config(name)
        print(f"{clean(name):<26} {clean(config.get('title', ''))}")
        if args.sources:
            print(f"{'':<26} source: {clean(' '.join(str(config.get('source', '')).split()))}")
    return 0


#: Locations listed in the run table; larger plans show their hottest ones (JSON has all).
TABLE_LOCATIONS = 30


def _beam_text(beam: Beam) -> str:
    """The run table's beam: energy, flux and spot, or an electron beam's own summary."""
    if isinstance(beam, ElectronBeam):
        return beam.summary
    return (
        f"{beam.energy_keV:g} keV, {beam.flux_ph_s:.3g} ph/s, "
        f"{beam.spot_um[0]:g} x {beam.spot_um[1]:g} µm {beam.profile}"
    )


def _run_table(result: ExperimentResult, signal: dict[str, Any] | None = None) -> str:
    plan = result.plan
    shown = sorted(result.locations, key=lambda loc: -loc.dose_Gy[result.probe])[:TABLE_LOCATIONS]
    shown.sort(key=result.locations.index)
    hottest = result.hottest
    lines = [
        f"plan: {clean(plan.title)}",
        f"stack: {clean(plan.stack.name)}   beam: {_beam_text(plan.beam)}"
        + (f" (beamline {clean(plan.beamline.name)})" if plan.beamline is not None else ""),
        f"convention: {plan.beam.convention} — {CONVENTION_MEANING[plan.beam.convention]}",
        f"protocol: {clean(' / '.join(map(str, plan.protocol.to_config())))} "
        f"({duration(plan.protocol.duration_s)})   probed: {clean(result.probe)}",
        "doses: at the hottest point of each location's footprint, mean over the layer's "
        "thickness; averaged rate = dose received between a location's first and last exposure "
        "/ that time",
        f"hottest point of the sample: {si(hottest.dose_Gy, 'Gy')} at ({hottest.x_um:.4g}, "
        f"{hottest.y_um:.4g}) µm, in {clean(hottest.location)}",
        *([f"signal: {clean(signal_sentence(signal))}"] if signal is not None else []),
        "",
        f"{'location':<10}{'scans':>6}{'beam on':>10}{'probed dose':>13}{'local rate':>13}"
        f"{'avg rate':>13}  verdict",
    ]
    if plan.schedule.energy_scan is not None:
        lines.insert(2, plan.schedule.energy_scan.summary(plan.beam.energy_keV))
    for loc in shown:
        lines.append(
            f"{clean(loc.name):<10}{loc.scans:>6}{duration(loc.beam_on_s):>10}"
            f"{si(loc.dose_Gy[result.probe], 'Gy'):>13}"
            f"{si(loc.local_dose_rate_Gy_per_s, 'Gy/s'):>13}"
            f"{si(loc.averaged_dose_rate_Gy_per_s, 'Gy/s'):>13}  {clean(loc.verdict)}"
        )
    if len(shown) < len(result.locations):
        lines.append(
            f"(the {len(shown)} hottest of {len(result.locations)} locations; --json lists all)"
        )
    lines += ["", "thresholds, each compared with the dose in the metric it was measured in:"]
    for threshold in (
        t for t in plan.thresholds if any(c.threshold is t for c in result.locations[0].crossings)
    ):
        first = next(c for c in result.locations[0].crossings if c.threshold is threshold)
        caveat = f" — {clean(first.caveat)}" if first.caveat else ""
        lines.append(
            f"  {clean(threshold.name)} ({si(threshold.dose_Gy, 'Gy')} on "
            f"{clean(first.constituent)}; {threshold.metric}){caveat}"
        )
        for loc in shown:
            c = next(c for c in loc.crossings if c.threshold is threshold)
            when = (
                f"crossed at {duration(c.time_s)}, SOC {c.soc:.1%}"
                if c.time_s is not None
                else "not crossed"
            )
            here = ""
            if (threshold.convention, threshold.where) != (plan.beam.convention, "column-mean"):
                here = f" (shown in {plan.beam.convention}: {si(loc.dose_Gy[c.constituent], 'Gy')})"
            lines.append(
                f"    {clean(loc.name)}: {when}; final {si(c.final_dose_Gy, 'Gy')} in "
                f"this metric{here}"
            )
    lines += [
        "",
        "final dose per constituent (Gy, plan's convention; entrance face in brackets "
        "where it is 10 % above the mean):",
    ]
    for loc in shown:
        cells = []
        for key, dose in loc.dose_Gy.items():
            entrance = loc.entrance_dose_Gy[key]
            face = f" [{si(entrance, 'Gy')}]" if entrance > 1.1 * dose else ""
            cells.append(f"{clean(key)} {si(dose, 'Gy')}{face}")
        lines.append(f"  {clean(loc.name)}: " + ", ".join(cells))
    if isinstance(plan.beam, ElectronBeam):  # a microscopist reads fluences
        summary = electron_summary(result)
        lines += [
            "",
            f"fluence at the hottest point (1 e/Å² = {si(summary['gray_per_e_per_A2'], 'Gy')} "
            f"at the entrance face):",
            *(
                f"  {clean(loc['name'])}: {loc['fluence_e_per_A2']:.3g} e/Å²"
                for loc in summary["locations"][:TABLE_LOCATIONS]
            ),
        ]
    return "\n".join(lines)


def _cmd_run(args: argparse.Namespace) -> int:
    if args.list:
        for name in builtin_plan_names():
            print(name)
        return 0
    if args.plan is None:
        raise InputError("PLAN", None, "give a plan file or a built-in plan name (see --list)")
    if args.csv:
        check_output(args.csv, "--csv")  # before the work, not after it
    plan = load_plan(args.plan)
    result = run_plan(plan)
    signal = signal_block(plan)  # SNR next to dose when the plan has a design section
    if args.csv:
        write_text_atomic(args.csv, result.timeline_csv(), "--csv")
    _warn(result.warnings)
    if args.json:
        out = result.to_dict()
        if signal is not None:
            out["signal"] = signal
        if isinstance(result.plan.beam, ElectronBeam):  # fluences (e/Å²) and knock-on
            out["electron"] = electron_summary(result)
        print(json.dumps(out, indent=1))
    else:
        print(_run_table(result, signal))
    crossed = [
        loc.name for loc in result.locations if any(c.time_s is not None for c in loc.crossings)
    ]
    if args.check and crossed:
        print(
            f"beamdesign: {len(crossed)} of {len(result.locations)} locations cross a threshold "
            f"(first: {clean(crossed[0])})",
            file=sys.stderr,
        )
        return EXIT_LIMIT
    return EXIT_OK


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults shown in --help (not for on/off flags), epilogs kept as written."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False, argparse.SUPPRESS) or not action.option_strings:
            return action.help
        return super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    """Usage errors exit with status 3 (not argparse's 2, which is bad input here); every
    sub-command shows its defaults and the exit codes."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        kwargs.setdefault("epilog", EXIT_CODES)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: usage error: {clean(message)}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="beamdesign", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"beamdesign {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    dose = commands.add_parser("dose", help="dose rate per layer and constituent of a stack")
    dose.add_argument(
        "--stack", default="jousseaume2023-pcc", help="built-in name or YAML/JSON file"
    )
    dose.add_argument("--energy-kev", default="27", help="photon energy (keV), 1–200")
    dose.add_argument(
        "--flux-ph-s",
        "--flux",
        dest="flux_ph_s",
        default="8e10",
        help="photon flux (ph/s); --flux is the old spelling",
    )
    dose.add_argument("--spot-um", default="300x400", help="spot WxH (µm); FWHM for a Gaussian")
    dose.add_argument("--profile", default="tophat", choices=PROFILES, help="beam profile")
    dose.add_argument(
        "--convention",
        default="energy-absorption",
        choices=CONVENTIONS,
        help="which coefficient counts as deposited",
    )
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
    run.add_argument(
        "--check",
        action="store_true",
        help=f"exit with status {EXIT_LIMIT} when a location crosses a threshold",
    )
    run.set_defaults(handler=_cmd_run)
    report_command.register(commands)
    ebeam_command.register(commands)
    stopping_command.register(commands)
    sweep_command.register(commands)
    design_command.register(commands)
    compare_command.register(commands)
    advise_command.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``beamdesign`` command; returns the exit status (see EXIT_CODES)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as done:  # --help, --version (0) and usage errors (3)
        return done.code if isinstance(done.code, int) else EXIT_USAGE
    try:
        status: int = args.handler(args)
        return status
    except InputError as error:
        print(f"beamdesign: error: {clean(error)}", file=sys.stderr)
        return EXIT_INPUT
    except BrokenPipeError:  # output piped into `head` and closed early
        sys.stderr.close()
        return EXIT_OK
    except OSError as error:  # a full device or a vanished folder while writing the output
        where = f"{error.filename}: " if error.filename else ""
        print(f"beamdesign: error: {clean(where)}{reason(error)}.", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("beamdesign: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # the last resort: a bug, never a traceback
        if os.environ.get("BEAMDESIGN_DEBUG"):
            raise
        print(
            f"beamdesign: internal error ({type(error).__name__}: {clean(error)[:200]}); "
            f"this is a bug, please report it to {ISSUES_URL} with the command and its input "
            "files (BEAMDESIGN_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())
