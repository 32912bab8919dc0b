"""Plan files: loading, validation messages, round-trip, atomic saving, versions."""

from __future__ import annotations

import os

import pytest
import yaml

from beamdesign.errors import InputError
from beamdesign.files import parse_mapping
from beamdesign.plan import (
    PLAN_VERSION,
    builtin_plan_names,
    builtin_plan_text,
    load_plan,
    plan_from_config,
    save_plan,
)

ISSUE_PLAN = """
version: 1
title: PCc, experiment 2 of Jousseaume 2023
stack: jousseaume2023-pcc
beam: {energy_keV: 27, flux_ph_s: 8.0e10, spot_um: [300, 400], profile: tophat,
       convention: total-attenuation}
protocol:
  - charge at C/8 for 8 h
schedule:
  locations:
    - {name: "#1", x_um: 0,    y_um: 0, exposure_s: 2.5}
    - {name: "#2", x_um: 1000, y_um: 0, exposure_s: 98}
    - {name: "#3", x_um: 2000, y_um: 0, exposure_s: 1050}
  move_s: 5
  loop: until-end
  pause_s: 0
thresholds: jousseaume2023
"""


def config(**changes):
    data = parse_mapping(ISSUE_PLAN, "plan")
    data.update(changes)
    return data


def test_issue_plan_loads_and_round_trips(tmp_path):
    plan = plan_from_config(config())
    assert plan.protocol.duration_s == 8 * 3600
    path = save_plan(plan, tmp_path / "plan.yaml")
    again = load_plan(str(path))
    assert again.to_config() == plan.to_config()
    json_path = save_plan(plan, tmp_path / "plan.json")
    assert load_plan(str(json_path)).to_config() == plan.to_config()


@pytest.mark.parametrize("name", builtin_plan_names())
def test_builtin_plans_validate_and_round_trip(name):
    plan = load_plan(name)
    assert plan_from_config(plan.to_config()).to_config() == plan.to_config()
    assert yaml.safe_load(builtin_plan_text(name))["version"] == PLAN_VERSION


def test_stack_file_relative_to_the_plan(tmp_path):
    (tmp_path / "cell.yaml").write_text("layers: [{name: foil, material: Cu, thickness_um: 10}]\n")
    (tmp_path / "plan.yaml").write_text(yaml.safe_dump(config(stack="cell.yaml")))
    assert load_plan(str(tmp_path / "plan.yaml")).stack.layers[0].name == "foil"


def schedule(**changes):
    data = config()["schedule"]
    data.update(changes)
    return data


@pytest.mark.parametrize(
    "data, message",
    [
        (config(colour="red"), r"colour = 'red': not a known key; allowed: version, title"),
        (
            config(
                schedule=schedule(
                    locations=[{"name": "#1", "x_um": 0, "y_um": 0, "exposure_s": -3}]
                )
            ),
            r"schedule.locations\[0\].exposure_s = -3",
        ),
        (config(protocol=["Charge at C/0 for 1 h"]), r"protocol\[0\]"),
        (
            config(
                schedule={
                    "raster": {"pattern": "snake", "nx": 0, "ny": 3, "step_um": 100},
                    "exposure_s": 1,
                }
            ),
            r"schedule.raster.nx = 0",
        ),
        (config(protocol=["Rest for 5000 h", "Rest for 5000 h"]), r"never ends"),
        (
            config(protocol=["Rest for 9000 h"]),
            r"protocol\[0\] = 'Rest for 9000 h': a duration above 0 and at most 3.156e\+07 s",
        ),
        (config(thresholds=[{"name": "my limit"}]), r"thresholds\[0\].dose_Gy = missing: required"),
        (
            config(thresholds="jousseaume2024"),
            r"thresholds = 'jousseaume2024': a threshold scale.*did you mean 'jousseaume2023'",
        ),
        (
            config(beam={"energy_keV": 500, "flux_ph_s": 1e10, "spot_um": [10, 10]}),
            r"beam.energy_keV = 500: a number from 1 to 200 keV\.",
        ),
        (
            config(beam={"energy_keV": 27, "flux_ph_s": 0, "spot_um": [10, 10]}),
            r"beam.flux_ph_s = 0: a number from 1 to 1e\+16 ph/s\.",
        ),
        (
            config(beam={"energy_keV": 27, "flux_ph_s": 1e10, "spot_um": [0, 10]}),
            r"beam.spot_um\[0\] = 0: a number from 0.01 to 1e\+05 µm\.",
        ),
        (
            config(probe="cathode/NMC812"),
            r"probe = 'cathode': one of 'silicon window'.*did you mean 'NMC811 cathode'",
        ),
        (
            config(probe="NMC811 cathode/NMC812"),
            r"probe = 'NMC811 cathode/NMC812': layer 'NMC811 cathode' holds NMC811",
        ),
        (config(version=7), r"plan.version = 7: a plan version from 1 to 1"),
        (
            {k: v for k, v in config().items() if k != "schedule"},
            r"schedule = missing: a plan needs a 'schedule' section",
        ),
    ],
)
def test_bad_plans_name_the_field(data, message):
    with pytest.raises(InputError, match=message):
        plan_from_config(data)


def test_save_is_atomic_and_leaves_no_partial_file(tmp_path, monkeypatch):
    plan = plan_from_config(config())
    target = tmp_path / "plan.yaml"
    target.write_text("previous content\n")

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(
        InputError, match=r"plan file = '.*plan.yaml': cannot be written \(disk full\)\."
    ):
        save_plan(plan, target)
    assert target.read_text() == "previous content\n"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.yaml"]  # temporary file removed


def test_save_rejects_bad_names(tmp_path):
    plan = plan_from_config(config())
    with pytest.raises(
        InputError, match=r"plan file = .*plan.txt': a plan file name ends in .yaml"
    ):
        save_plan(plan, tmp_path / "plan.txt")
    with pytest.raises(
        InputError, match=r"plan file = '.*plan.yaml': the folder '.*nope' does not exist\."
    ):
        save_plan(plan, tmp_path / "nope" / "plan.yaml")


def test_missing_plan_file_and_unknown_builtin():
    with pytest.raises(InputError, match=r"plan = '/nonexistent/p.yaml': no such file"):
        load_plan("/nonexistent/p.yaml")
    with pytest.raises(
        InputError,
        match=r"plan = 'defualt': not a plan file or a built-in plan.*did you mean 'default'",
    ):
        load_plan("defualt")


def test_stack_path_resolves_relative_to_the_plan_from_any_folder(tmp_path, monkeypatch):
    folder = tmp_path / "beamtime"
    (folder / "cells").mkdir(parents=True)
    (folder / "cells" / "cell.yaml").write_text(
        "layers: [{name: foil, material: Cu, thickness_um: 10}]\n"
    )
    (folder / "plan.yaml").write_text(yaml.safe_dump(config(stack="cells/cell.yaml")))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    plan = load_plan(str(folder / "plan.yaml"))
    assert plan.stack.layers[0].name == "foil"
    assert plan.config["stack"] == str(folder / "cells" / "cell.yaml")  # absolute once loaded
    monkeypatch.chdir(folder / "cells")
    assert load_plan("../plan.yaml").stack.layers[0].name == "foil"


def test_saved_plan_writes_the_stack_path_relative_to_its_own_folder(tmp_path, monkeypatch):
    (tmp_path / "cell.yaml").write_text("layers: [{name: foil, material: Cu, thickness_um: 10}]\n")
    (tmp_path / "plan.yaml").write_text(yaml.safe_dump(config(stack="cell.yaml")))
    plan = load_plan(str(tmp_path / "plan.yaml"))
    monkeypatch.chdir("/")
    saved = save_plan(plan, tmp_path / "copy.yaml")
    assert parse_mapping(saved.read_text(), "plan")["stack"] == "cell.yaml"
    (tmp_path / "sub").mkdir()
    saved = save_plan(plan, tmp_path / "sub" / "copy.json")  # the stack is not below sub/
    assert parse_mapping(saved.read_text(), "plan", "json")["stack"] == str(tmp_path / "cell.yaml")
    assert load_plan(str(saved)).to_config() == plan.to_config()


def test_missing_relative_stack_names_the_resolved_path(tmp_path):
    (tmp_path / "plan.yaml").write_text(yaml.safe_dump(config(stack="cell.yaml")))
    with pytest.raises(InputError, match=rf"stack = '{tmp_path}/cell.yaml': no such file\."):
        load_plan(str(tmp_path / "plan.yaml"))


@pytest.mark.parametrize(
    "text, message",
    [
        ("beam: 1\nbeam: 2\n", r"^beam = 'given twice': each key once \(lines 1 and 2\)"),
        ("stack: jousseaume2023-pcc\nbeam: &b {energy_keV: 27}\n", r"no YAML anchors"),
        (
            "title: 2024-01-01\n",
            r"^stack = missing: a plan needs a 'stack' section",
        ),  # a date is text
        (
            "title: [x]\nstack: jousseaume2023-pcc\n",
            r"^beam = missing: a plan needs a 'beam' section",
        ),
    ],
)
def test_hostile_plan_files(tmp_path, text, message):
    path = tmp_path / "plan.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        load_plan(str(path))


def test_plan_fields_are_checked_as_text():
    with pytest.raises(InputError, match=r"^title = \['x'\]: text \(not empty\)\."):
        plan_from_config(config(title=["x"]))
    with pytest.raises(InputError, match=r"^notes = 3: text; put it in quotes\."):
        plan_from_config(config(notes=3))
    with pytest.raises(InputError, match=r"^metadata.date = 2024: text; put it in quotes\."):
        plan_from_config(config(metadata={"date": 2024}))
    with pytest.raises(
        InputError, match=r"^metadata.beamlines = 'x': not a known key.*did you mean 'beamline'\?"
    ):
        plan_from_config(config(metadata={"beamlines": "x"}))
    with pytest.raises(
        InputError,
        match=r"^stack = 5: a built-in stack name, a stack file path or an inline mapping",
    ):
        plan_from_config(config(stack=5))
    with pytest.raises(InputError, match=r"^soc0 = true: a number from 0 to 1; true/false"):
        plan_from_config(config(soc0=True))
