"""``beamdesign advise PLAN``: computed options that keep a threshold (and, for a plan with a
design section, its SNR floor), each re-checked by running the changed plan."""

from __future__ import annotations

import argparse
import json
from typing import Any

from beamdesign.commands import number_or_text


def _handler(args: argparse.Namespace) -> int:
    from beamdesign.advice import advise
    from beamdesign.cli import clean
    from beamdesign.plan import load_plan

    advice = advise(load_plan(args.plan), threshold=number_or_text(args.threshold))
    if not args.json:
        for sentence in advice.sentences:
            print(clean(sentence))
        return 0
    t = advice.threshold
    out = {
        "threshold": {
            "name": t.name,
            "dose_Gy": t.dose_Gy,
            "convention": t.convention,
            "where": t.where,
            "constituent": advice.constituent,
        },
        "worst_location": advice.worst_location,
        "worst_dose_Gy": advice.worst_dose_Gy,
        "needed": advice.needed,
        "snr_per_scan": advice.snr_per_scan,
        "snr_floor": advice.snr_floor,
        "options": [
            {
                "name": o.name,
                "feasible": o.feasible,
                "sentence": o.sentence,
                "rechecked_dose_Gy": o.rechecked_dose_Gy,
                "snr_per_scan": o.snr_per_scan,
                "plan_changes": o.plan_changes,
            }
            for o in advice.options
        ],
        "sentences": list(advice.sentences),
    }
    print(json.dumps(out, indent=1))
    return 0


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add the ``advise`` sub-command."""
    parser = commands.add_parser(
        "advise",
        help="options that keep a threshold (and the design's SNR floor), each re-checked",
    )
    parser.add_argument("plan", help="plan file (YAML/JSON) or built-in plan name")
    parser.add_argument(
        "--threshold",
        metavar="NAME|GY",
        help="one of the plan's thresholds, or a dose in Gy (default: the lowest on the probe)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of sentences")
    parser.set_defaults(handler=_handler)
