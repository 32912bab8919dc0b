"""The JSON Schema (draft 2020-12) of a plan file, built from the code's key sets and ranges.

``data/plan.schema.json`` is this schema, written by
``python -m beamdesign.schema > src/beamdesign/data/plan.schema.json``; a test checks that the
file matches the code, so an editor validating plan files never disagrees with beamdesign about
keys, types or ranges. The schema cannot say everything the code checks (material names, the
protocol grammar, SOC limits, unique names): a file the schema accepts may still be refused with
an ``InputError`` sentence, never the reverse.
"""

from __future__ import annotations

import json
from typing import Any

from beamdesign import validate
from beamdesign.beam import ATTENUATOR_KEYS, BEAM_KEYS, PROFILES
from beamdesign.coefficients import CONVENTIONS
from beamdesign.design import DESIGN_KEYS, LIMIT_KEYS, MAX_POINTS, MIN_POINTS, MINIMUM_KEYS
from beamdesign.files import MAX_TEXT_CHARS
from beamdesign.plan import MAX_NOTES_CHARS, METADATA_KEYS, PLAN_KEYS, PLAN_VERSION
from beamdesign.profile import PROFILE_KEYS
from beamdesign.schedule import (
    LOCATION_KEYS,
    LOOP_WORDS,
    MAX_RASTER_POINTS,
    RASTER_KEYS,
    RASTER_PATTERNS,
    SCAN_KEYS,
    SCAN_POINTS,
    SCHEDULE_KEYS,
)
from beamdesign.signal import DETECTOR_KEYS, EDGES, TECHNIQUES
from beamdesign.stack import (
    LAYER_KEYS,
    MASS_FRACTION,
    MAX_NOTE_CHARS,
    PARTICLE_SIZE_UM,
    SOLID_KEYS,
    STACK_KEYS,
)
from beamdesign.thresholds import THRESHOLD_KEYS, WHERE

Schema = dict[str, Any]


def _number(rule: validate.Range, description: str = "") -> Schema:
    out: Schema = {"type": "integer" if rule.integer else "number"}
    if rule.low is not None:
        out["exclusiveMinimum" if rule.low_open else "minimum"] = rule.low
    if rule.high is not None:
        out["exclusiveMaximum" if rule.high_open else "maximum"] = rule.high
    text = " ".join(filter(None, [description, f"({rule.rule()})" if rule.rule() else ""]))
    if text:
        out["description"] = text
    return out


def _text(max_chars: int = validate.MAX_NAME_CHARS, description: str = "") -> Schema:
    out: Schema = {"type": "string", "minLength": 1, "maxLength": max_chars}
    if description:
        out["description"] = description
    return out


def _object(
    keys: tuple[str, ...], properties: Schema, required: tuple[str, ...] = (), description: str = ""
) -> Schema:
    if set(properties) != set(keys):  # the schema must describe exactly the code's keys
        raise RuntimeError(f"schema and code keys differ: {sorted(set(properties) ^ set(keys))}")
    out: Schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {key: properties[key] for key in keys},
    }
    if required:
        out["required"] = list(required)
    if description:
        out["description"] = description
    return out


def _pair(rule: validate.Range, description: str) -> Schema:
    return {
        "description": description,
        "oneOf": [
            _number(rule),
            {"type": "array", "items": _number(rule), "minItems": 2, "maxItems": 2},
        ],
    }


def _nullable(schema: Schema) -> Schema:
    """``schema`` or null: for the keys whose null the code reads as "not given"."""
    return {"anyOf": [schema, {"type": "null"}]}


def _free_text(max_chars: int) -> Schema:
    return {"type": "string", "maxLength": max_chars}


def _stack() -> Schema:
    density = _nullable(
        _number(validate.DENSITY_G_CM3, "density, needed for a formula not in the library")
    )
    material = _text(description="a library material name or a chemical formula")
    solid = _object(
        SOLID_KEYS,
        {
            "material": material,
            "density_g_cm3": density,
            "mass_fraction": _number(MASS_FRACTION, "of the solid"),
            "particle_size_um": _number(
                PARTICLE_SIZE_UM,
                "particle diameter (transport convention); default from the materials library",
            ),
        },
        ("material", "mass_fraction"),
    )
    layer = _object(
        LAYER_KEYS,
        {
            "name": _text(),
            "material": material,
            "density_g_cm3": density,
            "thickness_um": _number(validate.THICKNESS_UM),
            "porosity": _number(validate.POROSITY, "pore volume fraction"),
            "pore_filler": _nullable(material),
            "solid": {"type": "array", "items": solid, "minItems": 1},
            "note": _free_text(MAX_NOTE_CHARS),
        },
        ("name", "thickness_um"),
        "a layer: one 'material', or 'solid' components with porosity and pore_filler",
    )
    return _object(
        STACK_KEYS,
        {
            "name": _text(),
            "title": _free_text(validate.MAX_NAME_CHARS),
            "source": _free_text(MAX_NOTE_CHARS),
            "layers": {
                "type": "array",
                "items": layer,
                "minItems": 1,
                "description": "upstream first",
            },
        },
        ("layers",),
    )


def _beam() -> Schema:
    attenuator = {
        "oneOf": [
            _object(
                ("transmission",),
                {"transmission": _number(validate.TRANSMISSION)},
                ("transmission",),
            ),
            _object(
                tuple(k for k in ATTENUATOR_KEYS if k != "transmission"),
                {
                    "material": _text(),
                    "thickness_um": _number(validate.THICKNESS_UM),
                    "density_g_cm3": _nullable(_number(validate.DENSITY_G_CM3)),
                },
                ("material", "thickness_um"),
            ),
            _text(description="the name of a filter of the plan's beamline, e.g. Al-1mm"),
        ]
    }
    return _object(
        BEAM_KEYS,
        {
            "energy_keV": _number(validate.ENERGY_KEV),
            "flux_ph_s": _number(
                validate.FLUX_PH_S,
                "photons per second before the attenuators; required unless the plan's "
                "beamline gives it (its flux table at the energy)",
            ),
            "spot_um": _pair(
                validate.SPOT_UM, "width and height, or one number for both; FWHM for a Gaussian"
            ),
            "profile": {"enum": list(PROFILES)},
            "convention": {"enum": list(CONVENTIONS)},
            "attenuators": {"type": "array", "items": attenuator},
        },
        ("energy_keV", "spot_um"),  # flux: required unless a beamline gives it (plan_schema)
    )


def _protocol() -> Schema:
    return {
        "oneOf": [
            {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_TEXT_CHARS,
                "description": "a step such as 'Charge at C/8 for 8 h' or 'Repeat 3 times: [...]'",
            },
            {
                "type": "object",
                "minProperties": 1,
                "maxProperties": 1,
                "propertyNames": {"pattern": "^\\s*[Rr][Ee][Pp][Ee][Aa][Tt]\\s"},
                "additionalProperties": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"$ref": "#/$defs/protocol_entry"},
                },
                "description": "{'repeat N times': [steps]}",
            },
        ]
    }


def _schedule() -> Schema:
    location = _object(
        LOCATION_KEYS,
        {
            "name": _text(),
            "x_um": _number(validate.POSITION_UM),
            "y_um": _number(validate.POSITION_UM),
            "exposure_s": _number(validate.EXPOSURE_S),
        },
        ("x_um", "y_um"),
    )
    count = _number(validate.Range(1, MAX_RASTER_POINTS, "points", integer=True))
    raster = _object(
        RASTER_KEYS,
        {
            "pattern": {"enum": list(RASTER_PATTERNS)},
            "nx": count,
            "ny": count,
            "step_um": _pair(validate.STEP_UM, "step along x and y"),
            "origin_um": _pair(validate.POSITION_UM, "first point"),
        },
        ("pattern", "nx", "step_um"),
    )
    energy_scan = _object(
        SCAN_KEYS,
        {
            "start_keV": _number(validate.ENERGY_KEV, "first energy"),
            "stop_keV": _number(validate.ENERGY_KEV, "last energy, above start_keV"),
            "points": _number(SCAN_POINTS, "evenly spaced energies, both ends included"),
            "dwell_s": _number(validate.EXPOSURE_S, "beam-on time at each energy"),
        },
        SCAN_KEYS,
        "a step scan in energy made at every visit; replaces exposure_s",
    )
    out = _object(
        SCHEDULE_KEYS,
        {
            "locations": {"type": "array", "items": location, "minItems": 1},
            "raster": raster,
            "exposure_s": _number(validate.EXPOSURE_S, "default beam-on time per point"),
            "energy_scan": energy_scan,
            "move_s": _number(validate.WAIT_S),
            "pause_s": _number(validate.WAIT_S),
            "start_s": _number(validate.WAIT_S),
            "loop": {"oneOf": [{"enum": list(LOOP_WORDS)}, _number(validate.LOOPS)]},
        },
    )
    out["oneOf"] = [
        {"required": ["locations"]},
        {"required": ["raster", "exposure_s"]},
        {"required": ["raster", "energy_scan"]},
    ]
    return out


def _thresholds() -> Schema:
    item = _object(
        THRESHOLD_KEYS,
        {
            "name": _text(),
            "dose_Gy": _number(validate.DOSE_GY),
            "constituent": _text(
                description="'electrolyte', a constituent or 'layer/constituent'; "
                "default: the probed constituent"
            ),
            "verdict": _text(),
            "source": _free_text(MAX_NOTES_CHARS),
            "convention": {"enum": list(CONVENTIONS)},
            "where": {"enum": list(WHERE)},
            "measured_for": _free_text(MAX_NOTES_CHARS),
        },
        ("name", "dose_Gy"),
    )
    scale = _text(description="a threshold scale name, e.g. 'jousseaume2023'")
    return {
        "oneOf": [
            scale,
            {"type": "array", "minItems": 1, "items": {"oneOf": [scale, item]}},
            {"type": "null", "description": "the default scale, jousseaume2023"},
        ]
    }


def _detector() -> Schema:
    fraction = {"type": "number", "exclusiveMinimum": 0, "maximum": 1}
    return _object(
        DETECTOR_KEYS,
        {
            "efficiency": fraction,
            "ring_fraction": fraction,
            "window_deg": {"type": "number", "exclusiveMinimum": 0, "maximum": 10},
            "i0_fraction": fraction,
            "solid_angle_sr": {"type": "number", "exclusiveMinimum": 0, "maximum": 6.283185307},
            "points": {"type": "integer", "minimum": 1},
        },
        description="what the detector collects (signal.Detector)",
    )


def _beamline() -> Schema:
    profile = _object(
        PROFILE_KEYS,
        {
            "name": _text(),
            "title": _free_text(validate.MAX_NAME_CHARS),
            "source": _free_text(MAX_NOTES_CHARS),
            "example": {"type": "boolean"},
            "flux_table": _object(
                ("energy_keV", "flux_ph_s"),
                {
                    "energy_keV": {"type": "array", "minItems": 2, "items": {"type": "number"}},
                    "flux_ph_s": {"type": "array", "minItems": 2, "items": {"type": "number"}},
                },
                ("energy_keV", "flux_ph_s"),
            ),
            "beam_profile": {"enum": list(PROFILES)},
            "spots_um": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "array",
                    "items": {"type": "number"},
                    "minItems": 2,
                    "maxItems": 2,
                },
            },
            "attenuators": {"type": "array", "items": {"type": "object"}},
            "shortest_exposure_s": {"type": "number", "exclusiveMinimum": 0},
            "move_s": {"type": "number", "minimum": 0},
            "detector": _detector(),
        },
        ("name", "flux_table", "spots_um", "shortest_exposure_s"),
    )
    return {
        "description": "the beamline: a built-in profile name, a profile file path relative to "
        "the plan file, or an inline profile; the beam's flux comes from its flux table unless "
        "beam.flux_ph_s is set",
        "oneOf": [_text(4096), profile],
    }


def _design() -> Schema:
    limit = _object(
        LIMIT_KEYS,
        {
            "threshold": _text(description="a row id of the thresholds table"),
            "dose_Gy": _number(validate.DOSE_GY),
            "constituent": _text(description="a constituent, 'electrolyte'; default: the probe"),
            "convention": {"enum": list(CONVENTIONS)},
        },
        description="{threshold: ID} or {dose_Gy, constituent, convention}",
    )
    limit["oneOf"] = [{"required": ["threshold"]}, {"required": ["dose_Gy"]}]
    vary_item = {
        "oneOf": [
            {"type": "array", "minItems": 1, "description": "[low, high] or the values"},
            _object(("values",), {"values": {"type": "array", "minItems": 1}}, ("values",)),
        ]
    }
    return _object(
        DESIGN_KEYS,
        {
            "technique": {"enum": list(TECHNIQUES)},
            "signal": _object(
                ("reflection", "element", "edge"),
                {
                    "reflection": _text(description="a named reflection, e.g. NMC811-003"),
                    "element": _text(description="the element whose edge is measured"),
                    "edge": {"enum": list(EDGES)},
                },
            ),
            "detector": _detector(),
            "limit": limit,
            "minimum": _object(
                MINIMUM_KEYS,
                {
                    "snr_per_scan": {"type": "number", "exclusiveMinimum": 0},
                    "time_resolution_soc_pct": {
                        "type": "number",
                        "exclusiveMinimum": 0,
                        "maximum": 100,
                    },
                },
                ("snr_per_scan",),
            ),
            "vary": {
                "type": "object",
                "minProperties": 1,
                "additionalProperties": vary_item,
                "description": "dotted plan keys, e.g. beam.energy_keV: [20, 80]",
            },
            "points": {"type": "integer", "minimum": MIN_POINTS, "maximum": MAX_POINTS},
        },
        ("technique", "limit", "minimum", "vary"),
        "the signal model, the dose limit, the SNR floor and what may vary "
        "(beamdesign design PLAN; SNR next to dose in every output)",
    )


def plan_schema() -> Schema:
    """The JSON Schema of a plan file (see the module docstring)."""
    plan = _object(
        PLAN_KEYS,
        {
            "version": {"type": "integer", "minimum": 1, "maximum": PLAN_VERSION},
            "title": _text(),
            "stack": {
                "oneOf": [
                    _text(
                        4096,
                        "a built-in stack name, or a stack file path relative to the plan file",
                    ),
                    {"$ref": "#/$defs/stack"},
                ]
            },
            "beam": _beam(),
            "protocol": {
                "oneOf": [
                    {"type": "string", "minLength": 1, "maxLength": MAX_TEXT_CHARS},
                    {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/protocol_entry"}},
                ]
            },
            "soc0": _number(validate.SOC, "state of charge at time 0"),
            "schedule": _schedule(),
            "thresholds": _thresholds(),
            "probe": _nullable(
                _text(
                    description="'layer' or 'layer/constituent'; default (or "
                    "null): the highest dose rate"
                )
            ),
            "notes": _free_text(MAX_NOTES_CHARS),
            "metadata": _object(
                METADATA_KEYS, {key: _free_text(MAX_NOTES_CHARS) for key in METADATA_KEYS}
            ),
            "beamline": _beamline(),
            "design": _design(),
        },
        ("stack", "beam", "protocol", "schedule"),
    )
    # the flux comes from the plan, or else from its beamline's flux table
    plan["anyOf"] = [
        {"required": ["beamline"]},
        {"properties": {"beam": {"required": ["flux_ph_s"]}}},
    ]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "beamdesign plan file",
        "description": "A synchrotron operando experiment: stack, beam, protocol, schedule "
        "and damage thresholds. Generated by beamdesign.schema.",
        **plan,
        "$defs": {"stack": _stack(), "protocol_entry": _protocol()},
    }


def schema_text() -> str:
    """The text of ``data/plan.schema.json``."""
    return json.dumps(plan_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    print(schema_text(), end="")
