"""``beamdesign design PLAN``: the Pareto front of plans keeping a dose limit and an SNR floor."""

from __future__ import annotations

import argparse
import json
from typing import Any

from beamdesign.errors import InputError
from beamdesign.units import si


def _handler(args: argparse.Namespace) -> int:
    from beamdesign.design import design_plan, read_design
    from beamdesign.plan import load_plan
    from beamdesign.signal import signal_block
    from beamdesign.sweep import load_plan_config

    config, section = load_plan_config(args.plan)
    if args.design:
        section = read_design(args.design)
    else:  # the plan's own design section: checked as loading and running the plan check it
        signal_block(load_plan(args.plan))
    if section is None:
        raise InputError(
            "design",
            None,
            "give the plan a 'design' section or a --design FILE",
            "keys: technique, limit, minimum, vary",
        )
    result = design_plan(
        config,
        section,
        scheduler=args.scheduler,
        workers=args.workers,
        progress=None if not args.json else False,
    )
    if args.json:
        print(json.dumps(result.to_dict(), indent=1))
        return 0
    d = result.design
    print(f"plan: {config.get('title', 'untitled plan')}")
    print(
        f"technique: {d.quality.technique}   limit: {d.limit_name} = {si(d.limit_dose_Gy, 'Gy')} "
        f"({d.quality.convention})   floor: SNR per scan >= {d.min_snr_per_scan:g}"
    )
    print(
        f"{result.evaluated} plans tried, {result.feasible} keep both; "
        "Pareto front, least dose first (each re-checked by running it):"
    )
    for rank, c in enumerate(result.candidates, 1):
        values = ", ".join(
            f"{k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v}" for k, v in c.values.items()
        )
        print(
            f"{rank:>3}. dose {si(c.dose_Gy, 'Gy'):>9}  SNR {c.snr_per_scan:>8.3g}  "
            f"SOC step {c.time_resolution_soc_pct:.3g} %   {values}"
        )
    return 0


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add the ``design`` sub-command."""
    parser = commands.add_parser(
        "design", help="plans that keep a dose limit and an SNR floor (Pareto front)"
    )
    parser.add_argument(
        "plan", help="plan file (YAML/JSON, may hold a 'design' section) or built-in plan"
    )
    parser.add_argument(
        "--design", metavar="FILE", help="the design section in its own YAML/JSON file"
    )
    parser.add_argument(
        "--scheduler", metavar="ADDRESS", help="run the grid on this Dask scheduler"
    )
    parser.add_argument("--workers", type=int, help="local processes (default: CPU count)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(handler=_handler)
