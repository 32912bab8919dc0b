"""The CLI: tables, JSON keys, and one-sentence errors with a non-zero exit (no traceback)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from beamdesign.cli import main


def run(capsys, *args):
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_dose_json_has_the_documented_keys(capsys):
    status, out, _ = run(capsys, "dose", "--stack", "jousseaume2023-pcc", "--energy-kev", "27",
                         "--flux", "8e10", "--spot-um", "300x400", "--json")
    assert status == 0
    data = json.loads(out)
    assert {"convention", "energy_keV", "transmission", "layers"} <= set(data)
    layer = data["layers"][0]
    assert {"name", "thickness_um", "transmission", "constituents"} <= set(layer)
    assert {"name", "material", "dose_rate_Gy_per_s", "peak_dose_rate_Gy_per_s", "absorbed_power_W",
            "mass_g"} <= set(layer["constituents"][0])
    assert data["convention"] == "energy-absorption"


def test_dose_table_is_readable(capsys):
    status, out, _ = run(capsys, "dose", "--stack", "jousseaume2023-pcc", "--profile", "gaussian",
                         "--convention", "total-attenuation")
    assert status == 0
    assert "convention: total-attenuation" in out and "kGy/s" in out and "NMC811" in out


@pytest.mark.parametrize("args, message", [
    (["dose", "--energy-kev", "0.2"], "beam.energy_keV = 0.2: the energy must be between 1 and 200 keV."),
    (["dose", "--flux", "-1"], "beam.flux_ph_s = -1.0: must be a number > 0 (ph/s)."),
    (["dose", "--spot-um", "0x10"], "beam.spot_um = 0.0: must be a number > 0"),
    (["dose", "--stack", "/no/such/file.yaml"], "--stack = '/no/such/file.yaml': no such file."),
    (["run", "/no/such/plan.yaml"], "plan = '/no/such/plan.yaml': no such file."),
])
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
    done = subprocess.run([sys.executable, "-m", "beamdesign.cli", "dose", "--stack", "nope"],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert done.returncode == 2
    assert done.stderr.startswith("beamdesign: error: stack = 'nope'") and "Traceback" not in done.stderr
