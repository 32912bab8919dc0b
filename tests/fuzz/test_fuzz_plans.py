"""Generated hostile plan files: one clean sentence (exit 2) or a checked result, never a
traceback, a silent wrong answer or a hang. Counts are printed at the end of the run."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from fuzz_helpers import FUZZ, TALLY, judge, run_cli, write
from fuzz_strategies import THRESHOLD_PATHS, Case, hostile_cases, value_cases
from hypothesis import given, seed
from hypothesis import strategies as st


def outcome(case: Case, folder, capsys, suffix: str = ".yaml") -> str:
    path = write(folder, "plan" + suffix, case.data)
    status, out, err = run_cli(["run", str(path), "--json"], capsys)
    return judge(status, out, err, case.config)


@FUZZ
@given(case=hostile_cases)
def test_hostile_plan_files(case, tmp_path_factory, capsys):
    result = outcome(case, tmp_path_factory.mktemp("fuzz"), capsys)
    TALLY[result] += 1
    assert result in ("refused", "ran"), f"{result}: {case.description}"


@FUZZ
@given(case=value_cases())
def test_hostile_plan_files_as_json(case, tmp_path_factory, capsys):
    """The same values written as JSON (only the plain-data ones)."""
    import json

    if case.config is None:
        return
    text = json.dumps(case.config, allow_nan=True)
    result = outcome(
        Case(text.encode("utf-8", "surrogatepass"), case.description, case.config),
        tmp_path_factory.mktemp("fuzz"),
        capsys,
        ".json",
    )
    TALLY[result] += 1
    assert result in ("refused", "ran"), f"{result}: {case.description}"


@seed(1)
@FUZZ
@given(case=value_cases(THRESHOLD_PATHS))
def test_hostile_threshold_values(case, tmp_path_factory, capsys):
    result = outcome(case, tmp_path_factory.mktemp("fuzz"), capsys)
    assert result in ("refused", "ran"), f"{result}: {case.description}"


@FUZZ
@given(
    kind=st.sampled_from(["folder", "fifo", "missing", "binary", "self", "loop"]),
    where=st.sampled_from(["relative", "absolute"]),
)
def test_hostile_stack_paths(kind, where, tmp_path_factory, capsys):
    from fuzz_strategies import BASE

    from beamdesign.files import dump_yaml

    folder = tmp_path_factory.mktemp("fuzz")
    target = folder / "cell.yaml"
    if kind == "folder":
        target.mkdir()
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "binary":
        target.write_bytes(bytes(range(256)))
    elif kind == "loop":
        target.symlink_to(target)
    elif kind == "self":
        target = folder / "plan.yaml"
    stack = target.name if where == "relative" else str(target)
    path = write(folder, "plan.yaml", dump_yaml({**BASE, "stack": stack}).encode())
    status, _, err = run_cli(["run", str(path)], capsys)
    result = judge(status, "", err, None) if status != 0 else "silent-wrong"
    TALLY[result] += 1
    assert result == "refused", f"{result}: stack {kind} {where}: {err}"


LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"b{i}: &b{i} [" + ", ".join(["*a" if i == 0 else f"*b{i - 1}"] * 10) + "]\n" for i in range(9)
)


@pytest.mark.parametrize(
    "data, message",
    [
        (bytes(range(256)), r"not UTF-8 text \(byte 0x80 at position 128\)"),
        (
            LAUGHS.encode(),
            r"no YAML anchors \(&\) or aliases \(\*\); write each value out \(line 1\)",
        ),
        (b"#" * 1_000_001, r"a file of 1000001 bytes; at most 1000000 bytes are read"),
        ("title: x\n".encode("utf-16"), r"not UTF-8 text \(byte 0xff at position 0\)"),
        (b"a:\n" + b"".join(b"  " * i + b"b:\n" for i in range(1, 200)), r"at most 32 levels"),
    ],
)
def test_hostile_files_in_a_subprocess(tmp_path, data, message):
    """The installed entry point, not just main(): exit 2 and one sentence, quickly."""
    import re

    path = write(tmp_path, "plan.yaml", data)
    done = subprocess.run(
        [sys.executable, "-m", "beamdesign", "run", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert re.match(rf"beamdesign: error: plan = '{re.escape(str(path))}': {message}", done.stderr)
