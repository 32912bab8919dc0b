"""Sweeps: dotted keys, the grid, and equality with single runs (local processes and Dask)."""

from __future__ import annotations

import importlib
import json

import pytest
import yaml

from beamdesign.cli import main
from beamdesign.errors import InputError
from beamdesign.experiment import run_plan
from beamdesign.plan import builtin_plan_text, plan_from_config
from beamdesign.sweep import get_dotted, grid, load_plan_config, parse_vary, set_dotted, sweep

PCC = "jousseaume2023-exp2-pcc"
# the module: ``beamdesign.sweep`` as an attribute is the function the package exports
sweep_module = importlib.import_module("beamdesign.sweep")


def _pcc() -> dict:
    return yaml.safe_load(builtin_plan_text(PCC))


def _single_run_dose(config: dict) -> float:
    result = run_plan(plan_from_config(config))
    return result.worst().dose_Gy[result.probe]


def test_parse_vary_reads_numbers_and_words():
    assert parse_vary("beam.flux_ph_s=1e9, 8e10") == ("beam.flux_ph_s", [1e9, 8e10])
    assert parse_vary("beam.energy_keV=27,60") == ("beam.energy_keV", [27, 60])
    assert parse_vary("beam.profile=gaussian,tophat") == ("beam.profile", ["gaussian", "tophat"])


@pytest.mark.parametrize(
    "text", ["beam.energy_keV", "=27,60", "beam.energy_keV=", "beam.energy_keV=27,,60"]
)
def test_parse_vary_errors(text):
    with pytest.raises(InputError, match=r"--vary = .*: KEY=V1,V2,\.\.\. with a dotted plan key"):
        parse_vary(text)


def test_set_dotted_sets_lists_and_every_location_exposure():
    config = _pcc()
    changed = set_dotted(config, "schedule.locations.1.exposure_s", 5.0)
    assert get_dotted(changed, "schedule.locations.1.exposure_s") == 5.0
    assert get_dotted(config, "schedule.locations.1.exposure_s") == 98  # the input is not modified
    every = set_dotted(config, "schedule.exposure_s", 3.0)
    assert [loc["exposure_s"] for loc in every["schedule"]["locations"]] == [3.0, 3.0, 3.0]


@pytest.mark.parametrize(
    "key, message",
    [
        (
            "schedule.locations.7.exposure_s",
            r"'schedule.locations.7' indexes a list of 3 items \(0–2\)",
        ),
        ("beam.energy_keV.low", r"'beam.energy_keV' is a value, not a section"),
    ],
)
def test_set_dotted_errors(key, message):
    with pytest.raises(InputError, match=message):
        set_dotted(_pcc(), key, 1.0)


def test_grid_first_key_slowest():
    points = grid(_pcc(), {"beam.energy_keV": [27, 60], "beam.flux_ph_s": [1e9, 1e10, 1e11]})
    assert [tuple(v.values()) for v, _ in points] == [
        (27, 1e9),
        (27, 1e10),
        (27, 1e11),
        (60, 1e9),
        (60, 1e10),
        (60, 1e11),
    ]
    assert points[4][1]["beam"] == {**_pcc()["beam"], "energy_keV": 60, "flux_ph_s": 1e10}


def test_local_parallel_sweep_equals_single_runs():
    vary = {"beam.flux_ph_s": [1e9, 8e10], "schedule.move_s": [0, 27, 60]}
    result = sweep(_pcc(), vary, workers=2, progress=False)
    assert len(result.rows) == 6
    for (values, config), row in zip(grid(_pcc(), vary), result.rows, strict=True):
        assert {k: row[k] for k in vary} == values
        assert row["worst_probe_dose_Gy"] == _single_run_dose(config)  # identical, not close


def test_dask_sweep_equals_single_runs():
    distributed = pytest.importorskip("distributed")
    vary = {"beam.energy_keV": [27, 60], "schedule.locations.0.exposure_s": [2.5, 10]}
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        result = sweep(_pcc(), vary, scheduler=cluster.scheduler_address, progress=False)
    for (_, config), row in zip(grid(_pcc(), vary), result.rows, strict=True):
        assert row["worst_probe_dose_Gy"] == _single_run_dose(config)


def test_unreachable_scheduler(monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr(sweep_module, "DASK_CONNECT_TIMEOUT_S", 1)
    with pytest.raises(
        InputError, match=r"--scheduler = 'tcp://127.0.0.1:9': no Dask scheduler answered"
    ):
        sweep(_pcc(), {"beam.energy_keV": [27]}, scheduler="tcp://127.0.0.1:9", progress=False)


def test_bad_value_in_the_grid_is_one_sentence():
    with pytest.raises(InputError, match=r"beam.energy_keV = 500: a number from 1 to 200 keV"):
        sweep(_pcc(), {"beam.energy_keV": [27, 500]}, workers=1, progress=False)


def test_load_plan_config_splits_design_and_resolves_stack(tmp_path):
    stack_file = tmp_path / "cell.yaml"
    stack_file.write_text(
        yaml.safe_dump(
            {
                "name": "cell",
                "layers": [{"name": "electrode", "material": "NMC811", "thickness_um": 50}],
            }
        ),
        encoding="utf-8",
    )
    plan = {
        **_pcc(),
        "stack": "cell.yaml",
        "probe": "electrode",
        "design": {"technique": "xrd-transmission"},
    }
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan), encoding="utf-8")
    config, design = load_plan_config(str(path))
    assert design == {"technique": "xrd-transmission"} and "design" not in config
    assert config["stack"] == str(stack_file.resolve())
    plan_from_config(config)  # runs from anywhere


def test_cli_sweep_json(capsys):
    assert main(["sweep", PCC, "--vary", "beam.energy_keV=27,60", "--workers", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [row["beam.energy_keV"] for row in out["results"]] == [27, 60]
    assert out["results"][0]["worst_probe_dose_Gy"] == _single_run_dose(_pcc())


def test_cli_sweep_error_is_one_line(capsys):
    assert main(["sweep", PCC, "--vary", "beam.energy_keV"]) == 2
    assert capsys.readouterr().err.startswith("beamdesign: error: --vary = 'beam.energy_keV'")


def test_progress_bar_draws_on_its_stream():
    import io

    stream = io.StringIO()
    bar = sweep_module._Progress(4, True, stream)
    bar.advance(2)
    bar.advance(2)
    assert stream.getvalue().endswith("] 4/4\n") and "#" * 15 + "." * 15 in stream.getvalue()
    quiet = io.StringIO()
    sweep_module._Progress(4, False, quiet).advance(4)
    assert quiet.getvalue() == ""
