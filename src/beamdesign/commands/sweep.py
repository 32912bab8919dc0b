"""``beamdesign sweep PLAN --vary KEY=V1,V2 ...``: the grid of plans, run in parallel."""

from __future__ import annotations

import argparse
import json
from typing import Any

from beamdesign.units import si


def _handler(args: argparse.Namespace) -> int:
    from beamdesign.design import parse_design, read_design
    from beamdesign.sweep import load_plan_config, sweep

    config, section = load_plan_config(args.plan)
    if args.design:
        section = read_design(args.design)
    quality = parse_design(section, config).quality if section is not None else None
    result = sweep(
        config,
        args.vary,
        quality,
        scheduler=args.scheduler,
        workers=args.workers,
        progress=None if not args.json else False,
    )
    if args.json:
        print(json.dumps(result.to_dict(), indent=1))
        return 0
    keys = list(result.vary)
    header = [*keys, "worst probe dose", "location"] + (
        ["SNR/scan", "limit-metric dose"] if quality else []
    )
    print(f"plan: {result.title}   {len(result.rows)} plans in {result.elapsed_s:.1f} s")
    print("".join(f"{h:>20}" for h in header))
    for row in result.rows:
        cells = [f"{row[k]:.4g}" if isinstance(row[k], float) else str(row[k]) for k in keys]
        cells += [si(row["worst_probe_dose_Gy"], "Gy"), row["worst_location"]]
        if quality:
            cells += [f"{row['snr_per_scan']:.3g}", si(row["dose_Gy"], "Gy")]
        print("".join(f"{c:>20}" for c in cells))
    return 0


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add the ``sweep`` sub-command."""
    parser = commands.add_parser("sweep", help="run the grid of plans made by varying plan keys")
    parser.add_argument("plan", help="plan file (YAML/JSON) or built-in plan name")
    parser.add_argument(
        "--vary",
        action="append",
        required=True,
        metavar="KEY=V1,V2,...",
        help="dotted plan key and its values, e.g. beam.energy_keV=27,60 (repeatable)",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on this Dask scheduler (tcp://host:8786; needs the sweep extra)",
    )
    parser.add_argument("--workers", type=int, help="local processes (default: CPU count)")
    parser.add_argument(
        "--design", metavar="FILE", help="design section (technique) for the SNR column"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(handler=_handler)
