"""The published plan-file JSON Schema: up to date with the code, valid, and agreeing with it."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import pytest

from beamdesign import beam, plan, schedule, stack, thresholds
from beamdesign.files import parse_mapping
from beamdesign.plan import builtin_plan_names, builtin_plan_text, load_plan
from beamdesign.schema import THRESHOLD_KEYS, plan_schema, schema_text
from beamdesign.stack import preset_config, preset_names

SCHEMA = json.loads(
    resources.files("beamdesign").joinpath("data/plan.schema.json").read_text("utf-8")
)
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def test_the_published_file_is_the_generated_schema():
    """Regenerate with ``python -m beamdesign.schema > src/beamdesign/data/plan.schema.json``."""
    text = resources.files("beamdesign").joinpath("data/plan.schema.json").read_text("utf-8")
    assert text == schema_text()


def test_the_schema_is_valid_draft_2020_12():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("name", builtin_plan_names())
def test_every_builtin_plan_validates(name):
    config = parse_mapping(builtin_plan_text(name), "plan")
    assert list(VALIDATOR.iter_errors(config)) == []
    assert list(VALIDATOR.iter_errors(load_plan(name).to_config())) == []


@pytest.mark.parametrize("name", preset_names())
def test_every_builtin_stack_validates_inline(name):
    config = parse_mapping(builtin_plan_text("default"), "plan")
    config["stack"] = preset_config(name)
    assert list(VALIDATOR.iter_errors(config)) == []


def keys(node):
    return set(node["properties"])


def test_property_names_equal_the_code_key_sets():
    schema = plan_schema()
    sched = schema["properties"]["schedule"]
    stack_schema = schema["$defs"]["stack"]
    layer = stack_schema["properties"]["layers"]["items"]
    attenuators = schema["properties"]["beam"]["properties"]["attenuators"]["items"]["oneOf"]
    assert keys(schema) == set(plan.PLAN_KEYS)
    assert keys(schema["properties"]["metadata"]) == set(plan.METADATA_KEYS)
    assert keys(schema["properties"]["beam"]) == set(beam.BEAM_KEYS)
    assert keys(attenuators[0]) | keys(attenuators[1]) == set(beam.ATTENUATOR_KEYS)
    assert keys(sched) == set(schedule.SCHEDULE_KEYS)
    assert keys(sched["properties"]["locations"]["items"]) == set(schedule.LOCATION_KEYS)
    assert keys(sched["properties"]["raster"]) == set(schedule.RASTER_KEYS)
    assert keys(stack_schema) == set(stack.STACK_KEYS)
    assert keys(layer) == set(stack.LAYER_KEYS)
    assert keys(layer["properties"]["solid"]["items"]) == set(stack.SOLID_KEYS)


def test_threshold_keys_equal_the_code():
    assert set(thresholds.THRESHOLD_KEYS) == set(THRESHOLD_KEYS)


@pytest.mark.parametrize(
    "change, path",
    [
        ({"beam": {"energy_keV": 27, "flux_ph_s": True, "spot_um": 10}}, "beam.flux_ph_s"),
        ({"beam": {"energy_keV": 500, "flux_ph_s": 1e10, "spot_um": 10}}, "beam.energy_keV"),
        ({"colour": "red"}, ""),
        (
            {"schedule": {"locations": [{"x_um": 0, "y_um": 0, "exposure_s": 1}], "loop": 0}},
            "schedule.loop",
        ),
        ({"thresholds": [{"name": "x", "dose_Gy": 1e6, "where": "everywhere"}]}, "thresholds"),
    ],
)
def test_the_schema_refuses_what_the_code_refuses(change, path):
    from beamdesign.errors import InputError
    from beamdesign.plan import plan_from_config

    config = {**parse_mapping(builtin_plan_text("default"), "plan"), **change}
    errors = list(VALIDATOR.iter_errors(config))
    assert errors and ".".join(str(p) for p in errors[0].absolute_path).startswith(path)
    if "thresholds" not in change:  # the integrator's thresholds.py checks its new keys
        with pytest.raises(InputError, match=path.replace(".", r"\.") or "colour"):
            plan_from_config(config)
