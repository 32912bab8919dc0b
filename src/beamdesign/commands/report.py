"""``beamdesign report``: HTML (and optionally PDF) reports of one or several plans."""

from __future__ import annotations

import argparse
import sys
import unicodedata
from pathlib import Path

from beamdesign.errors import InputError


def register(commands) -> None:
    """Add the ``report`` sub-command to the CLI's sub-parsers."""
    report = commands.add_parser("report", help="HTML report of one or several plans (needs the jupyter extra)")
    report.add_argument("plan", nargs="+", help="plan files (YAML/JSON) or built-in plan names")
    report.add_argument("-o", "--output", required=True,
                        help="OUT.html for one plan; a folder (reports + index.html) for several")
    report.add_argument("--keep-ipynb", action="store_true",
                        help="also keep the executed notebook next to each report (OUT.ipynb)")
    report.add_argument("--no-ipynb", action="store_true",
                        help="accepted for old scripts; the notebook is not kept unless --keep-ipynb")
    report.add_argument("--pdf", action="store_true",
                        help="also print each report to PDF with headless Chromium (OUT.pdf)")
    report.set_defaults(handler=run)


def _printable(text: object) -> str:
    """Text for the terminal: control and format characters (ANSI escapes, newlines, bidi
    overrides) shown as escapes, so a plan name cannot fake or hide an output line."""
    return "".join(ch if unicodedata.category(ch) not in {"Cc", "Cf", "Cs"} else ascii(ch)[1:-1]
                   for ch in str(text))


def _stderr_progress():
    """Stage lines on stderr when it is a terminal (one line, rewritten); nothing otherwise."""
    if not sys.stderr.isatty():
        return None

    def show(stage: str, fraction: float) -> None:
        text = _printable(" ".join(stage.split()))[:70]
        end = "\n" if fraction >= 1.0 else ""
        sys.stderr.write(f"\r\033[Kbeamdesign report: {100 * fraction:3.0f} % {text}{end}")
        sys.stderr.flush()

    return show


def run(args: argparse.Namespace) -> int:
    """Handler of ``beamdesign report``: 0 if every report was written, 1 if one failed, 2 for
    bad input (raised as InputError before any kernel starts)."""
    from beamdesign.report import ReportError, render_batch, render_report

    if args.keep_ipynb and args.no_ipynb:
        raise InputError("--no-ipynb", True, "either --keep-ipynb or --no-ipynb, not both")
    out = Path(args.output).expanduser()
    progress = _stderr_progress()
    if len(args.plan) == 1 and out.suffix.lower() in {".html", ".htm"}:
        try:
            path = render_report(args.plan[0], out, keep_ipynb=args.keep_ipynb, pdf=args.pdf,
                                 progress=progress)
        except ReportError as error:
            print(f"beamdesign: error: {_printable(error)}", file=sys.stderr)
            return 1
        print(_printable(path))
        return 0
    if out.suffix.lower() in {".html", ".htm"}:
        raise InputError("-o", str(out), "several plans need an output folder, not an .html file")
    batch = render_batch(args.plan, out, keep_ipynb=args.keep_ipynb, pdf=args.pdf, progress=progress)
    for _, path, summary in batch.reports:
        print(_printable(f"{path}: {summary}"))
    print(_printable(batch.index))
    for spec, message in batch.failures:
        print(f"beamdesign: error: {_printable(spec)}: {_printable(message)}", file=sys.stderr)
    if batch.failures:
        print(f"beamdesign: {len(batch.failures)} of {len(args.plan)} reports failed", file=sys.stderr)
        return 1
    return 0
