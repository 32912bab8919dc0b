"""The CLI: tables, JSON keys, and one-sentence errors with a non-zero exit (no traceback)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from beamdesign.cli import main


def run(capsys, *args):
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_dose_json_has_the_documented_keys(capsys):
    status, out, _ = run(
        capsys,
        "dose",
        "--stack",
        "jousseaume2023-pcc",
        "--energy-kev",
        "27",
        "--flux",
        "8e10",
        "--spot-um",
        "300x400",
        "--json",
    )
    assert status == 0
    data = json.loads(out)
    assert {"convention", "energy_keV", "transmission", "layers"} <= set(data)
    layer = data["layers"][0]
    assert {"name", "thickness_um", "transmission", "constituents"} <= set(layer)
    assert {
        "name",
        "material",
        "dose_rate_Gy_per_s",
        "peak_dose_rate_Gy_per_s",
        "absorbed_power_W",
        "mass_g",
    } <= set(layer["constituents"][0])
    assert data["convention"] == "energy-absorption"


def test_dose_table_is_readable(capsys):
    status, out, _ = run(
        capsys,
        "dose",
        "--stack",
        "jousseaume2023-pcc",
        "--profile",
        "gaussian",
        "--convention",
        "total-attenuation",
    )
    assert status == 0
    assert "convention: total-attenuation" in out and "kGy/s" in out and "NMC811" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["dose", "--energy-kev", "0.2"], "beam.energy_keV = 0.2: a number from 1 to 200 keV."),
        (["dose", "--flux", "-1"], "beam.flux_ph_s = -1: a number from 1 to 1e+16 ph/s."),
        (["dose", "--flux-ph-s=-1e12"], "beam.flux_ph_s = -1e+12: a number from 1 to 1e+16 ph/s."),
        (
            ["dose", "--flux-ph-s", "nan"],
            "beam.flux_ph_s = nan: a number from 1 to 1e+16 ph/s; finite numbers only.",
        ),
        (["dose", "--spot-um", "0x10"], "beam.spot_um[0] = 0: a number from 0.01 to 1e+05 µm."),
        (["dose", "--spot-um", "1e-320x10"], "beam.spot_um[0] = 9.99989e-321: a number from 0.01"),
        (
            ["dose", "--stack", "/no/such/file.yaml"],
            "--stack = '/no/such/file.yaml': no such file.",
        ),
        (["run", "/no/such/plan.yaml"], "plan = '/no/such/plan.yaml': no such file."),
    ],
)
def test_errors_are_one_sentence_with_status_2(capsys, args, message):
    status, out, err = run(capsys, *args)
    assert status == 2 and out == ""
    assert message in err and "Traceback" not in err and err.count("\n") == 1


def test_run_json_and_csv(capsys, tmp_path):
    csv_path = tmp_path / "timeline.csv"
    status, out, _ = run(capsys, "run", "jousseaume2023-exp2-pcc", "--json", "--csv", str(csv_path))
    assert status == 0
    data = json.loads(out)
    assert [loc["name"] for loc in data["locations"]] == ["#1", "#2", "#3"]
    assert set(data["timeline"]) == {"time_s", "soc", "dose_Gy"}
    crossing = data["locations"][2]["crossings"][0]
    assert {"threshold", "constituent", "time_s", "soc"} <= set(crossing)
    assert csv_path.read_text().startswith("time_s,soc,dose_Gy[#1]")


def test_lists(capsys):
    assert run(capsys, "materials", "--sources")[1].count("source:") >= 45
    assert "jousseaume2023-pcc" in run(capsys, "stacks")[1]
    assert "default" in run(capsys, "run", "--list")[1]


def test_console_script_exit_status_without_traceback():
    done = subprocess.run(
        [sys.executable, "-m", "beamdesign.cli", "dose", "--stack", "nope"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2
    assert (
        done.stderr.startswith("beamdesign: error: stack = 'nope'")
        and "Traceback" not in done.stderr
    )


PCC = "jousseaume2023-exp2-pcc"


def write_plan(path, **changes):
    """A copy of a built-in plan with some top-level sections changed, as a YAML file."""
    from beamdesign.files import dump_yaml
    from beamdesign.plan import load_plan

    config = load_plan(PCC).to_config()
    config.update(changes)
    path.write_text(dump_yaml(config), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "args, status",
    [
        (["--version"], 0),
        (["run", "--list"], 0),
        (["run", PCC], 0),
        (["run", PCC, "--check"], 1),  # location #3 crosses the 80 kGy threshold in the paper
        (["run", "/no/such.yaml"], 2),
        (["dose", "--energy-kev", "x"], 2),
        (["dose", "--bogus"], 3),
        ([], 3),
        (["frobnicate"], 3),
        (["dose", "--profile", "square"], 3),
    ],
)
def test_exit_codes(capsys, args, status):
    assert run(capsys, *args)[0] == status


def test_version_and_help_show_defaults_and_exit_codes(capsys):
    from beamdesign import __version__

    assert run(capsys, "--version")[1] == f"beamdesign {__version__}\n"
    status, out, _ = run(capsys, "dose", "--help")
    assert status == 0
    out = " ".join(out.split())  # argparse wraps to the terminal width
    assert "(default: 8e10)" in out and "(default: jousseaume2023-pcc)" in out
    assert "--flux-ph-s FLUX_PH_S, --flux FLUX_PH_S" in out
    assert "3 usage error" in out and "2 bad input" in out and "1 run --check" in out


def test_usage_error_is_one_line_without_traceback(capsys):
    status, out, err = run(capsys, "dose", "--bogus")
    assert status == 3 and out == ""
    assert err.splitlines()[-1] == "beamdesign: usage error: unrecognized arguments: --bogus"


def test_flux_alias_gives_the_same_result(capsys):
    old = json.loads(run(capsys, "dose", "--flux", "1e10", "--json")[1])
    new = json.loads(run(capsys, "dose", "--flux-ph-s", "1e10", "--json")[1])
    assert old == new and old["layers"][0]["constituents"][0]["dose_rate_Gy_per_s"] > 0


def test_python_dash_m_beamdesign():
    done = subprocess.run(
        [sys.executable, "-m", "beamdesign", "run", "/no/such/plan.yaml"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2
    assert done.stderr == "beamdesign: error: plan = '/no/such/plan.yaml': no such file.\n"


@pytest.mark.parametrize(
    "text, shown",
    [
        ("a\x1b[2J\x1b[32mALL SAFE", "a\\x1b[2J\\x1b[32mALL SAFE"),
        ("one\ntwo\rthree", "one\\ntwo\\rthree"),
        ("abc\u202edcba\u2066x\u2069", "abc\\u202edcba\\u2066x\\u2069"),
        ("\x07\x08\x7f\x9b", "\\x07\\x08\\x7f\\x9b"),
        ("NMC811 – µm ÅÄÖ 日本", "NMC811 – µm ÅÄÖ 日本"),  # printable text is kept
    ],
)
def test_clean_neutralises_control_characters(text, shown):
    from beamdesign.cli import clean

    assert clean(text) == shown


def test_hostile_names_cannot_fake_lines_on_the_terminal(capsys, tmp_path):
    title = "x\n\x1b[1A\x1b[2KALL SAFE\u202e"
    plan = write_plan(tmp_path / "evil.yaml", title=title)
    status, out, err = run(capsys, "run", str(plan))
    assert status == 0 and err == ""
    assert "\x1b" not in out and "\u202e" not in out
    assert out.splitlines()[0] == "plan: x\\n\\x1b[1A\\x1b[2KALL SAFE\\u202e"


def test_hostile_key_in_an_error_is_neutralised(capsys, tmp_path):
    plan = tmp_path / "evil.yaml"
    plan.write_text('"\\e[31mbeam\\nALL SAFE": 1\n', encoding="utf-8")
    status, _, err = run(capsys, "run", str(plan))
    assert status == 2 and err.count("\n") == 1 and "\x1b" not in err
    assert err.startswith("beamdesign: error: \\x1b[31mbeam\\nALL SAFE = 1: not a known key")


@pytest.mark.parametrize(
    "target, message",
    [
        (
            "missing/out.csv",
            r"--csv = '.*missing/out.csv': the folder '.*missing' does not exist\.",
        ),
        (".", r"--csv = '.*': a folder; give a file name\."),
        (
            "plan.yaml/out.csv",
            r"--csv = '.*plan.yaml/out.csv': '.*plan.yaml' is a file, not a folder\.",
        ),
    ],
)
def test_csv_output_is_checked_before_the_run(capsys, tmp_path, monkeypatch, target, message):
    import re

    import beamdesign.cli

    def never(*args):
        raise AssertionError("the plan ran before the output was checked")

    (tmp_path / "plan.yaml").write_text("x: 1\n")
    monkeypatch.setattr(beamdesign.cli, "run_plan", never)
    status, out, err = run(capsys, "run", PCC, "--csv", str(tmp_path / target))
    assert status == 2 and out == ""
    assert re.fullmatch("beamdesign: error: " + message + "\n", err), err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_csv_into_a_read_only_folder(capsys, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o555)
    status, _, err = run(capsys, "run", PCC, "--csv", str(folder / "t.csv"))
    assert status == 2 and "is not writable" in err


def test_csv_on_a_full_device_is_one_sentence_and_leaves_nothing(capsys, tmp_path, monkeypatch):
    import errno

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    status, _, err = run(capsys, "run", PCC, "--csv", str(tmp_path / "t.csv"))
    assert status == 2
    assert err == (
        f"beamdesign: error: --csv = '{tmp_path / 't.csv'}': cannot be written "
        "(no space left on device).\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_csv_replaces_the_file_atomically(capsys, tmp_path):
    target = tmp_path / "t.csv"
    target.write_text("old\n")
    assert run(capsys, "run", PCC, "--csv", str(target))[0] == 0
    assert target.read_text().startswith("time_s,soc,") and [
        p.name for p in tmp_path.iterdir()
    ] == ["t.csv"]


def test_a_bug_is_one_sentence_with_status_4(capsys, monkeypatch):
    import beamdesign.cli

    def broken(plan):
        raise ZeroDivisionError("float division by zero")

    monkeypatch.setattr(beamdesign.cli, "run_plan", broken)
    monkeypatch.delenv("BEAMDESIGN_DEBUG", raising=False)
    status, out, err = run(capsys, "run", PCC)
    assert status == 4 and out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(
        "beamdesign: internal error (ZeroDivisionError: float division by zero);"
        " this is a bug, please report it"
    )
    monkeypatch.setenv("BEAMDESIGN_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        main(["run", PCC])


def test_warnings_on_stderr_and_in_json(capsys, tmp_path):
    schedule = {
        "locations": [{"name": "A", "x_um": 0, "y_um": 0, "exposure_s": 10}],
        "start_s": 9 * 3600,
    }  # the protocol lasts 8 h
    plan = write_plan(tmp_path / "late.yaml", schedule=schedule)
    status, out, err = run(capsys, "run", str(plan), "--json")
    assert status == 0
    warning = (
        "no exposure starts before the protocol ends (8 h; schedule start_s = 32400 s): "
        "the plan measures nothing and every dose is 0"
    )
    assert json.loads(out)["warnings"] == [warning]
    assert err == f"beamdesign: warning: {warning}\n"
