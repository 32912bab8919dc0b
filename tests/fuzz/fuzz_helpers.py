"""Running the CLI in-process on a generated file and judging the outcome."""

from __future__ import annotations

import json
import math
import os
import signal
from collections import Counter
from importlib import resources
from pathlib import Path

import jsonschema
from hypothesis import HealthCheck, settings

from beamdesign.cli import main

EXAMPLES = int(os.environ.get("BEAMDESIGN_FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
#: outcome -> count over the session (see ``judge``), printed by conftest at the end
TALLY: Counter[str] = Counter()
#: A run longer than this is a hang (a normal run takes ~0.02 s, a refusal less).
HANG_S = 20
SCHEMA = jsonschema.Draft202012Validator(
    json.loads(resources.files("beamdesign").joinpath("data/plan.schema.json").read_text("utf-8"))
)


class Hang(BaseException):
    """Raised by the alarm; a BaseException so that the CLI's last-resort handler lets it by."""


def _alarm(signum, frame):
    raise Hang


def run_cli(args: list[str], capsys) -> tuple[int | str, str, str]:
    """(exit status or "hang", stdout, stderr) of ``beamdesign args`` run in this process."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(HANG_S)
    try:
        status: int | str = main(args)
    except Hang:
        status = "hang"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    out, err = capsys.readouterr()
    return status, out, err


def _finite(value: object) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(map(_finite, value))
    if isinstance(value, dict):
        return all(map(_finite, value.values()))
    return True


def _strict_json(text: str) -> object:
    def refuse(word: str) -> None:
        raise ValueError(word)

    return json.loads(text, parse_constant=refuse)


def judge(status: int | str, out: str, err: str, config: dict | None) -> str:
    """One word for the outcome of a ``run --json``:

    refused (exit 2, one sentence on stderr, nothing on stdout), ran (exit 0, strict JSON with
    finite numbers and non-negative doses, and a plain-data plan the published JSON Schema
    accepts), traceback, bug (exit 4), hang, silent-wrong (exit 0 for a plan the schema refuses,
    or non-finite/negative numbers), unclean (anything else).
    """
    if status == "hang":
        return "hang"
    if "Traceback" in err:
        return "traceback"
    if status == 4:
        return "bug"
    if status == 2:
        one_sentence = err.startswith("beamdesign: error: ") and err.count("\n") == 1
        return "refused" if one_sentence and out == "" else "unclean"
    if status != 0:
        return "unclean"
    try:
        result = _strict_json(out)
    except ValueError:
        return "silent-wrong"
    doses = [d for loc in result["locations"] for d in loc["dose_Gy"].values()]
    if not _finite(result) or min(doses) < 0:
        return "silent-wrong"
    if config is not None and not SCHEMA.is_valid(config):
        return "silent-wrong"
    return "ran"


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path
