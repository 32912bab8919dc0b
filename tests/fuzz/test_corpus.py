"""Every bad input listed in issue 9, as a regression test: one sentence and exit 2, a
warning, or a correct result."""

from __future__ import annotations

import copy
import errno
import os
import re
import time

import pytest
from fuzz_helpers import judge, run_cli, write
from fuzz_strategies import BASE, SENTINEL

from beamdesign.files import dump_yaml


def plan_text(raw: str | None = None, **sections: object) -> str:
    """The fuzz base plan with sections replaced; ``raw`` replaces the value ``SENTINEL``."""
    config = copy.deepcopy(BASE)
    config.update(sections)
    text = dump_yaml(config)
    return text.replace(SENTINEL, raw, 1) if raw is not None else text


BEAM = BASE["beam"]
LOCS = BASE["schedule"]["locations"]
LAUGHS = "lol: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"l{i}: &l{i} [" + ", ".join(["*a" if i == 0 else f"*l{i - 1}"] * 10) + "]\n" for i in range(9)
)
DEEP_REPEAT = "[" + "{Repeat 1 times: [" * 1500 + "Rest for 1 s" + "]}" * 1500 + "]"

REFUSED = [  # (id, file bytes, the sentence on stderr after "beamdesign: error: ")
    (
        "billion-laughs",
        (LAUGHS + plan_text()).encode(),
        r"plan = '.*': no YAML anchors \(&\) or aliases \(\*\); write each value out \(line 1\)\.",
    ),
    (
        "duplicate-beam",
        (plan_text() + dump_yaml({"beam": {**BEAM, "energy_keV": 60}})).encode(),
        r"beam = 'given twice': each key once \(lines \d+ and \d+\); a second one would silently "
        r"win\.",
    ),
    (
        "flux-true",
        plan_text(beam={**BEAM, "flux_ph_s": True}).encode(),
        r"beam.flux_ph_s = true: a number from 1 to 1e\+16 ph/s; true/false is not a number\.",
    ),
    (
        "spot-true",
        plan_text(beam={**BEAM, "spot_um": True}).encode(),
        r"beam.spot_um = true: a number from 0.01 to 1e\+05 µm; true/false is not a number\.",
    ),
    (
        "threshold-inf",
        plan_text(".inf", thresholds=[{"name": "x", "dose_Gy": SENTINEL}]).encode(),
        r"thresholds\[0\].dose_Gy = '.inf': a finite number \(no .inf or .nan\)\.",
    ),
    (
        "layer-1e-320",
        plan_text(
            stack={"layers": [{"name": "a", "material": "Cu", "thickness_um": 1e-320}]}
        ).encode(),
        r"stack.layers\[0\].thickness_um = 9.99989e-321: a number from 0.001 to 1e\+05 µm\.",
    ),
    (
        "spot-underflow",
        plan_text(beam={**BEAM, "spot_um": [1e-200, 1e-200]}).encode(),
        r"beam.spot_um\[0\] = 1e-200: a number from 0.01 to 1e\+05 µm\.",
    ),
    (
        "spot-overflow",
        plan_text(beam={**BEAM, "spot_um": [1e300, 1e300]}).encode(),
        r"beam.spot_um\[0\] = 1e\+300: a number from 0.01 to 1e\+05 µm\.",
    ),
    (
        "binary-file",
        bytes(range(256)) * 4,
        r"plan = '.*': not UTF-8 text \(byte 0x80 at position 128\)",
    ),
    (
        "latin-1-file",
        "title: Müller\n".encode("latin-1") + plan_text().encode(),
        r"not UTF-8 text \(byte 0xfc at position 8\); save the file as UTF-8\.",
    ),
    ("yaml-date", plan_text("2024-01-01", title=SENTINEL).encode(), None),  # text: runs
    (
        "yaml-binary",
        plan_text("!!binary aGVsbG8=", title=SENTINEL).encode(),
        r"title = '!!binary': only text, numbers, true/false, null, lists and mappings with text "
        r"keys",
    ),
    ("yaml-set", plan_text("!!set {a, b}", notes=SENTINEL).encode(), r"notes = '!!set'"),
    (
        "yaml-timestamp-tag",
        plan_text("!!timestamp 2024-01-01", notes=SENTINEL).encode(),
        r"notes = '!!timestamp'",
    ),
    (
        "mixed-key-types",
        (plan_text() + "1: one\n").encode(),
        r"<key> = 1: keys are text \(line \d+\)\.",
    ),
    (
        "deep-nesting",
        plan_text("[" * 200 + "]" * 200, notes=SENTINEL).encode(),
        r"at most 32 levels of nested lists and mappings",
    ),
    (
        "loop-10**400",
        plan_text("1" + "0" * 400, schedule={**BASE["schedule"], "loop": SENTINEL}).encode(),
        r"schedule.loop = 1.000e\+400: a whole number from 1 to 1e\+06 loops\.",
    ),
    (
        "1500-nested-repeats",
        plan_text(DEEP_REPEAT, protocol=SENTINEL).encode(),
        r"at most 32 levels of nested lists and mappings",
    ),
    (
        "1500-nested-repeat-string",
        plan_text(protocol=["Repeat 1 times: [" * 500 + "Rest for 1 s" + "]" * 500]).encode(),
        r"protocol\[0\](\.repeat\[0\]){8} = 'Repeat 1 times: .*: repeats nested at most 8 deep",
    ),
    (
        "lone-surrogate",
        plan_text('"\\ud800"', title=SENTINEL).encode(),
        r"title = '\\\\ud800': text without lone surrogates",
    ),
    ("json-lone-surrogate", None, r"title = '\\\\ud800': text without lone surrogates"),
    ("json-nan", None, r"plan = '.*': finite numbers only, not NaN\."),
    (
        "raster-100001",
        plan_text(
            schedule={
                "raster": {"pattern": "grid", "nx": 1001, "ny": 100, "step_um": 10},
                "exposure_s": 1,
            }
        ).encode(),
        r"schedule.raster.nx = 1001: nx \* ny = 100100 points, at most 100000 are allowed",
    ),
]


@pytest.mark.parametrize("name, data, message", REFUSED, ids=[c[0] for c in REFUSED])
def test_issue_9_inputs_are_refused_in_one_sentence(tmp_path, capsys, name, data, message):
    suffix = ".yaml"
    if name.startswith("json-"):
        suffix = ".json"
        data = {
            "json-lone-surrogate": b'{"title": "\\ud800"}',
            "json-nan": b'{"title": "x", "soc0": NaN}',
        }[name]
    path = write(tmp_path, "plan" + suffix, data)
    start = time.perf_counter()
    status, out, err = run_cli(["run", str(path), "--json"], capsys)
    assert time.perf_counter() - start < 10
    if message is None:
        assert judge(status, out, err, None) == "ran" and status == 0
        return
    assert judge(status, out, err, None) == "refused", err
    assert re.search(message, err), err


@pytest.mark.parametrize(
    "name, sections, warning",
    [
        (
            "protocol-of-0-s",
            {"protocol": ["Discharge at 1C until 0%"], "soc0": 0.0},
            "the protocol lasts 0 s: the plan measures nothing and every dose is 0",
        ),
        (
            "all-exposures-after-the-end",
            {"schedule": {**BASE["schedule"], "start_s": 7200}},
            "no exposure starts before the protocol ends (70 min; schedule start_s = 7200 s): the "
            "plan measures nothing and every dose is 0",
        ),
        (
            "exposures-dropped",
            {"schedule": {**BASE["schedule"], "loop": 100}},
            "123 planned exposure(s) would start after the protocol ends (70 min) and were "
            "dropped: "
            "fewer loops are measured than the schedule asks",
        ),  # 100 loops x 2 points, 77 fit
    ],
)
def test_plans_that_measure_nothing_warn(tmp_path, capsys, name, sections, warning):
    path = write(tmp_path, "plan.yaml", plan_text(**sections).encode())
    status, out, err = run_cli(["run", str(path)], capsys)
    assert status == 0 and f"beamdesign: warning: {warning}\n" in err
    if "measures nothing" in warning:
        assert "safe for microstructure" in out  # still the verdict, but no longer silently


def test_names_with_escapes_cannot_fake_an_all_safe_line(tmp_path, capsys):
    hostile = "ok\x1b[2K\r\nALL SAFE\u202e"
    locations = [{**LOCS[0], "name": hostile}, LOCS[1]]
    path = write(
        tmp_path,
        "plan.yaml",
        plan_text(title=hostile, schedule={**BASE["schedule"], "locations": locations}).encode(),
    )
    status, out, _ = run_cli(["run", str(path)], capsys)
    assert status == 0 and not re.search("[\x00-\x08\x0b-\x1f\x7f\u202e]", out)
    assert not any(line.startswith("ALL SAFE") for line in out.splitlines())


@pytest.mark.parametrize(
    "target, message",
    [
        ("missing/t.csv", r"--csv = '.*missing/t.csv': the folder '.*missing' does not exist\."),
        ("", r"--csv = '.*': a folder; give a file name\."),
    ],
)
def test_csv_into_a_missing_folder_or_onto_a_directory(tmp_path, capsys, target, message):
    status, _, err = run_cli(["run", "default", "--csv", str(tmp_path / target)], capsys)
    assert status == 2 and re.fullmatch("beamdesign: error: " + message + "\n", err)


def test_csv_onto_a_full_device(tmp_path, capsys, monkeypatch):
    def full(*args):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", full)
    status, _, err = run_cli(["run", "default", "--csv", str(tmp_path / "t.csv")], capsys)
    assert status == 2 and err.endswith("cannot be written (no space left on device).\n")


def test_relative_stack_is_found_from_another_folder_and_saved_relative(
    tmp_path, capsys, monkeypatch
):
    from beamdesign.plan import load_plan, save_plan
    from beamdesign.plan import plan_text as text_of

    (tmp_path / "cell.yaml").write_text(
        dump_yaml({"layers": [{"name": "foil", "material": "Cu", "thickness_um": 10}]})
    )
    path = write(tmp_path, "plan.yaml", plan_text(stack="cell.yaml", probe="foil").encode())
    monkeypatch.chdir("/")
    assert run_cli(["run", str(path)], capsys)[0] == 0
    plan = load_plan(str(path))
    assert f"stack: {tmp_path}/cell.yaml" in text_of(plan)  # what a report re-reads anywhere
    saved = save_plan(plan, tmp_path / "saved.yaml")
    assert "stack: cell.yaml\n" in saved.read_text()


THRESHOLD_CASES = [
    ("constituent-not-text", {"name": "x", "dose_Gy": 1e6, "constituent": 5}),
    ("verdict-not-text", {"name": "x", "dose_Gy": 1e6, "verdict": 5}),
    ("unknown-constituent", {"name": "x", "dose_Gy": 1e6, "constituent": "unobtainium"}),
    ("source-a-list", {"name": "x", "dose_Gy": 1e6, "source": [1]}),
    ("dose-10**400", {"name": "x", "dose_Gy": 10**400}),
    ("dose-absurd-1e300", {"name": "x", "dose_Gy": 1e300}),
]


@pytest.mark.parametrize("name, threshold", THRESHOLD_CASES, ids=[c[0] for c in THRESHOLD_CASES])
def test_hostile_thresholds_are_refused(tmp_path, capsys, name, threshold):
    path = write(tmp_path, "plan.yaml", plan_text(thresholds=[threshold]).encode())
    status, out, err = run_cli(["run", str(path)], capsys)
    assert judge(status, out, err, None) == "refused", err


def test_a_raster_the_schedule_accepts_runs_or_is_refused_with_a_plan_field(tmp_path, capsys):
    schedule = {
        "raster": {"pattern": "grid", "nx": 101, "ny": 100, "step_um": 10000},
        "exposure_s": 1,
        "loop": "once",
    }
    path = write(
        tmp_path, "plan.yaml", plan_text(schedule=schedule, protocol=["Rest for 1 h"]).encode()
    )
    status, _, err = run_cli(["run", str(path)], capsys)
    assert status == 0 or err.startswith("beamdesign: error: schedule.")
