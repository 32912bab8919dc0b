"""``beamdesign compare A B [C D]``: two to four plans side by side."""

from __future__ import annotations

import argparse
import json
from typing import Any


def _handler(args: argparse.Namespace) -> int:
    from beamdesign.compare import compare
    from beamdesign.design import parse_design, read_design
    from beamdesign.sweep import load_plan_config

    quality = None
    config, section = load_plan_config(args.plan[0])
    if args.design:
        section = read_design(args.design)
    if section is not None:  # the first plan's own design section, unless --design gives one
        quality = parse_design(section, config).quality
    result = compare(args.plan, quality)
    print(json.dumps(result.to_dict(), indent=1) if args.json else result.table())
    return 0


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add the ``compare`` sub-command."""
    parser = commands.add_parser("compare", help="two to four plans side by side")
    parser.add_argument("plan", nargs="+", help="2–4 plan files (YAML/JSON) or built-in plan names")
    parser.add_argument(
        "--design",
        metavar="FILE",
        help="design section whose technique gives the SNR row (default: the first plan's own)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(handler=_handler)
