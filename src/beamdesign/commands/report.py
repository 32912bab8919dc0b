"""``beamdesign report``: HTML (and optionally PDF) reports of one or several plans."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from beamdesign.errors import InputError


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add the ``report`` sub-command to the CLI's sub-parsers."""
    report = commands.add_parser(
        "report", help="HTML report of one or several plans (needs the jupyter extra)"
    )
    report.add_argument("plan", nargs="+", help="plan files (YAML/JSON) or built-in plan names")
    report.add_argument(
        "-o",
        "--output",
        required=True,
        help="OUT.html for one plan; a folder (reports + index.html) for several",
    )
    report.add_argument(
        "--keep-ipynb",
        action="store_true",
        help="also keep the executed notebook next to each report (OUT.ipynb)",
    )
    report.add_argument(
        "--no-ipynb",
        action="store_true",
        help="accepted for old scripts; the notebook is not kept unless --keep-ipynb",
    )
    report.add_argument(
        "--pdf",
        action="store_true",
        help="also print each report to PDF with headless Chromium (OUT.pdf)",
    )
    report.add_argument(
        "--compare",
        nargs="+",
        default=[],
        metavar="OTHER",
        help="one to three other plans shown side by side with PLAN (one plan only)",
    )
    report.set_defaults(handler=run)


def _stderr_progress() -> Callable[[str, float], None] | None:
    """Stage lines on stderr when it is a terminal (one line, rewritten); nothing otherwise."""
    from beamdesign.cli import clean

    if not sys.stderr.isatty():
        return None

    def show(stage: str, fraction: float) -> None:
        text = clean(" ".join(stage.split()))[:70]
        end = "\n" if fraction >= 1.0 else ""
        sys.stderr.write(f"\r\033[Kbeamdesign report: {100 * fraction:3.0f} % {text}{end}")
        sys.stderr.flush()

    return show


def run(args: argparse.Namespace) -> int:
    """Handler of ``beamdesign report``: EXIT_OK if every report was written, EXIT_LIMIT if one
    failed; bad input is raised as InputError (exit 2) before any kernel starts."""
    from beamdesign.cli import EXIT_LIMIT, EXIT_OK, clean
    from beamdesign.report import ReportError, render_batch, render_report

    if args.keep_ipynb and args.no_ipynb:
        raise InputError("--no-ipynb", True, "either --keep-ipynb or --no-ipynb, not both")
    out = Path(args.output).expanduser()
    progress = _stderr_progress()
    if args.compare and len(args.plan) > 1:
        raise InputError("--compare", " ".join(args.compare), "with one PLAN and an .html output")
    if len(args.plan) == 1 and out.suffix.lower() in {".html", ".htm"}:
        try:
            path = render_report(
                args.plan[0],
                out,
                keep_ipynb=args.keep_ipynb,
                pdf=args.pdf,
                progress=progress,
                compare_with=args.compare,
            )
        except ReportError as error:
            print(f"beamdesign: error: {clean(error)}", file=sys.stderr)
            return EXIT_LIMIT
        print(clean(path))
        return EXIT_OK
    if out.suffix.lower() in {".html", ".htm"}:
        raise InputError("-o", str(out), "several plans need an output folder, not an .html file")
    batch = render_batch(
        args.plan, out, keep_ipynb=args.keep_ipynb, pdf=args.pdf, progress=progress
    )
    for _, path, summary in batch.reports:
        print(clean(f"{path}: {summary}"))
    print(clean(batch.index))
    for spec, message in batch.failures:
        print(f"beamdesign: error: {clean(spec)}: {clean(message)}", file=sys.stderr)
    if batch.failures:
        print(
            f"beamdesign: {len(batch.failures)} of {len(args.plan)} reports failed", file=sys.stderr
        )
        return EXIT_LIMIT
    return EXIT_OK
