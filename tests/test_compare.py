"""Scenario comparison: each column equals the plan's single run."""

from __future__ import annotations

import json

import pytest
import yaml

from beamdesign.cli import main
from beamdesign.compare import compare
from beamdesign.errors import InputError
from beamdesign.experiment import run_plan
from beamdesign.plan import builtin_plan_text, load_plan, plan_from_config
from beamdesign.sweep import Quality

PCC, PCD = "jousseaume2023-exp2-pcc", "jousseaume2023-exp3-pcd"


def _pcc_at(energy_keV: float) -> dict:
    config = yaml.safe_load(builtin_plan_text(PCC))
    config["beam"]["energy_keV"] = energy_keV
    return config


def test_columns_equal_single_runs():
    result = compare([PCC, PCD])
    for spec, scenario in zip([PCC, PCD], result.scenarios, strict=True):
        run = run_plan(load_plan(spec))
        worst = run.worst()
        assert scenario.row["worst_probe_dose_Gy"] == worst.dose_Gy[run.probe]
        assert scenario.row["local_dose_rate_Gy_per_s"] == worst.local_dose_rate_Gy_per_s
        assert scenario.row["averaged_dose_rate_Gy_per_s"] == worst.averaged_dose_rate_Gy_per_s
        assert scenario.row["verdict"] == worst.verdict
    # the paper's PCd: a higher averaged rate than PCc #3 (no breaks)
    assert (
        result.scenarios[1].row["averaged_dose_rate_Gy_per_s"]
        > result.scenarios[0].row["averaged_dose_rate_Gy_per_s"]
    )


def test_27_vs_60_keV_with_signal():
    quality = Quality("xrd-transmission", (("reflection", "NMC811-003"),))
    result = compare([_pcc_at(27), _pcc_at(60)], quality, labels=["27 keV", "60 keV"])
    low, high = (s.row for s in result.scenarios)
    assert high["worst_probe_dose_Gy"] < low["worst_probe_dose_Gy"]
    assert (
        high["snr_per_scan"] < low["snr_per_scan"]
    )  # equal flux: fewer diffracted photons at 60 keV
    table = result.table()
    assert "SNR per scan" in table and "27 keV" in table and "60 keV" in table


@pytest.mark.parametrize("plans", [[PCC], [PCC] * 5])
def test_two_to_four_plans(plans):
    with pytest.raises(InputError, match=rf"PLAN = {len(plans)}: compare takes 2 to 4 plans"):
        compare(plans)


def test_cli_compare_json(capsys):
    assert main(["compare", PCC, PCD, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [s["label"] for s in out["scenarios"]] == [PCC, PCD]
    run = run_plan(plan_from_config(yaml.safe_load(builtin_plan_text(PCD))))
    assert out["scenarios"][1]["worst_probe_dose_Gy"] == run.worst().dose_Gy[run.probe]


def test_cli_compare_table_with_design_file(tmp_path, capsys):
    design = tmp_path / "design.yaml"
    design.write_text(
        yaml.safe_dump(
            {
                "technique": "xrd-transmission",
                "signal": {"reflection": "NMC811-003"},
                "limit": {"threshold": "jousseaume2023-safe"},
                "minimum": {"snr_per_scan": 100},
                "vary": {"beam.flux_ph_s": [1e9, 1e10]},
            }
        ),
        encoding="utf-8",
    )
    assert main(["compare", PCC, PCD, "--design", str(design)]) == 0
    out = capsys.readouterr().out
    assert "SNR per scan" in out and "verdicts:" in out
