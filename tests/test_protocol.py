"""Tests for beamdesign.protocol: step grammar, SOC(t), round-trips and error messages."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from beamdesign.errors import InputError
from beamdesign.protocol import EXAMPLES, Protocol, Step, parse_protocol, parse_step

HOUR = 3600.0
# SOC knots are products and quotients of a few decimal numbers: a few ulps of round-off.
RTOL = 1e-12


def soc0_for(example: str) -> float:
    """A start SOC from which the example runs: full before a discharge, empty otherwise."""
    return 1.0 if example.lower().startswith("discharge") else 0.0


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_example_parses_and_round_trips(example: str) -> None:
    protocol = parse_protocol(example, soc0_for(example))
    assert protocol.duration_s > 0
    assert protocol.to_config() == [example]
    assert parse_protocol(protocol.to_config(), protocol.soc0) == protocol
    for step in protocol.steps:
        assert parse_step(step.text) == step


def test_step_fields_and_units() -> None:
    assert parse_step("Charge at C/8 for 8 h") == Step(
        "Charge at C/8 for 8 h", "charge", 0.125, 8 * HOUR, None
    )
    assert parse_step("DISCHARGE AT 2 C UNTIL 20 %").c_rate_per_h == 2.0
    assert parse_step("Discharge at C until 20 %").until_soc == pytest.approx(0.2, rel=RTOL)
    assert parse_step("Hold at 4.2 V for 1 h").voltage_V == 4.2
    rates = {"C/8": 0.125, "1C": 1.0, "0.5C": 0.5, "2 C": 2.0, "C": 1.0, "C / 4": 0.25}
    for rate, per_h in rates.items():
        assert parse_step(f"Charge at {rate} for 1 h").c_rate_per_h == per_h
    units = {
        "90 s": 90,
        "90 sec": 90,
        "1 second": 1,
        "2 seconds": 2,
        "30 min": 1800,
        "1 minute": 60,
        "2 minutes": 120,
        "1.5 h": 5400,
        "2 hr": 7200,
        "1 hour": 3600,
        "3 hours": 10800,
        "30min": 1800,
    }
    for text, seconds in units.items():
        assert parse_step(f"Rest for {text}").duration_s == seconds


def test_charge_at_c8_for_8h() -> None:
    protocol = parse_protocol(["Charge at C/8 for 8 h"])
    assert protocol.duration_s == 28800.0
    assert protocol.soc_at(3 * HOUR) == pytest.approx(0.375, rel=RTOL)
    assert protocol.soc_at(4.48 * HOUR) == pytest.approx(0.56, rel=RTOL)
    # Clamped outside the protocol; vectorized with the input's shape.
    np.testing.assert_allclose(
        protocol.soc_at([[-HOUR, 0.0], [8 * HOUR, 100 * HOUR]]), [[0.0, 0.0], [1.0, 1.0]], rtol=RTOL
    )


def test_discharge_until_empty_at_1c_takes_one_hour() -> None:
    protocol = parse_protocol(["Discharge at 1C until 0%"], soc0=1.0)
    assert protocol.duration_s == pytest.approx(3600.0, rel=RTOL)
    assert protocol.soc_at(1800.0) == pytest.approx(0.5, rel=RTOL)


@pytest.mark.parametrize(
    "config",
    [
        [{"repeat 3 times": ["Charge at C/2 until 100%", "Discharge at C/2 until 0%"]}],
        ["Repeat 3 times: [Charge at C/2 until 100%, Discharge at C/2 until 0%]"],
    ],
)
def test_repeat_expands_in_order(config: list) -> None:
    protocol = parse_protocol(config)
    assert [s.kind for s in protocol.steps] == ["charge", "discharge"] * 3
    assert protocol.duration_s == pytest.approx(12 * HOUR, rel=RTOL)
    np.testing.assert_allclose(protocol.soc_end, [1, 0] * 3)
    assert protocol.to_config() == config
    assert parse_protocol(protocol.to_config()) == protocol


def test_nested_repeats_and_step_at() -> None:
    config = [
        "Rest for 1 h",
        {
            "Repeat 2 times": [
                "Charge at 1C for 30 min",
                "Repeat 2 times: [Rest for 10 min, Hold at 4.2 V for 5 min]",
                "Discharge at 1C until 0 %",
            ]
        },
    ]
    protocol = parse_protocol(config)
    assert len(protocol.steps) == 1 + 2 * (1 + 4 + 1)
    assert protocol.duration_s == pytest.approx(HOUR + 2 * (1800 + 1800 + 1800), rel=RTOL)
    assert parse_protocol(protocol.to_config()) == protocol
    times = protocol.start_s + 1.0
    np.testing.assert_array_equal(protocol.step_at(times), np.arange(len(protocol.steps)))
    assert protocol.step_at(protocol.duration_s + 1.0) == len(protocol.steps) - 1


def test_rest_and_hold_keep_soc() -> None:
    protocol = parse_protocol(["Charge at 1C for 30 min", "Rest for 30 min", "Hold for 1 h"])
    np.testing.assert_allclose(protocol.soc_at(np.linspace(1800, 7200, 7)), 0.5, rtol=RTOL)


def test_for_or_until_ends_at_whichever_comes_first() -> None:
    until_first = parse_protocol("Charge at 1C for 2 h or until 50%")
    assert until_first.duration_s == pytest.approx(1800.0, rel=RTOL)
    assert until_first.soc_end[0] == 0.5
    for_first = parse_protocol("Charge at C/4 for 1 h or until 100%")
    assert for_first.duration_s == 3600.0
    assert for_first.soc_end[0] == pytest.approx(0.25, rel=RTOL)


def test_until_the_current_soc_is_a_zero_length_step() -> None:
    protocol = parse_protocol(["Charge at 1C until 100%", "Rest for 1 h"], soc0=1.0)
    np.testing.assert_array_equal(protocol.end_s, [0.0, 3600.0])
    assert protocol.step_at(0.0) == 1


def test_protocol_is_frozen_and_hashable() -> None:
    protocol = parse_protocol([{"repeat 2 times": ["Rest for 1 h"]}])
    assert hash(protocol) == hash(parse_protocol(protocol.to_config()))
    with pytest.raises(ValueError, match="read-only"):
        protocol.soc_end[0] = 0.5


RATES = st.sampled_from(["C/8", "C/3", "C/2", "0.5C", "1C", "2 C", "C"])


@given(
    soc0=st.integers(0, 100),
    targets=st.lists(st.tuples(RATES, st.integers(0, 100)), min_size=1, max_size=12),
)
def test_until_sequences_stay_in_range_and_follow_the_c_rate(
    soc0: int, targets: list[tuple[str, int]]
) -> None:
    steps, soc = [], soc0
    for rate, target in targets:
        steps.append(f"{'Charge' if target >= soc else 'Discharge'} at {rate} until {target}%")
        soc = target
    protocol = parse_protocol(steps, soc0=soc0 / 100)
    np.testing.assert_allclose(protocol.soc_end, [t / 100 for _, t in targets], rtol=RTOL)
    times = np.linspace(-1.0, protocol.duration_s + 1.0, 2001)
    soc_t = protocol.soc_at(times)
    assert soc_t.min() >= 0.0 and soc_t.max() <= 1.0
    # Segments join (continuity) and each moves at its C-rate, monotone in its direction.
    np.testing.assert_array_equal(protocol.start_s[1:], protocol.end_s[:-1])
    np.testing.assert_array_equal(protocol.soc_start[1:], protocol.soc_end[:-1])
    for i, step in enumerate(protocol.steps):
        inside = (times >= protocol.start_s[i]) & (times < protocol.end_s[i])
        sign = 1 if step.kind == "charge" else -1
        assert np.all(sign * np.diff(soc_t[inside]) >= 0)
        change = protocol.soc_end[i] - protocol.soc_start[i]
        assert change * 3600.0 == pytest.approx(
            sign * step.c_rate_per_h * (protocol.end_s[i] - protocol.start_s[i]),
            rel=1e-9,
            abs=1e-12,
        )  # SOC within 1e-9 of its target by construction


@pytest.mark.parametrize(
    ("config", "soc0", "field", "allowed"),
    [
        (["Charge at C/0 for 1 h"], 0.0, "protocol[0]", "a C-rate above 0"),
        (["Charge at 0C for 1 h"], 0.0, "protocol[0]", "a C-rate above 0"),
        (["Charge at C/8 for -1 h"], 0.0, "protocol[0]", "a duration above 0"),
        (["Rest for 0 min"], 0.0, "protocol[0]", "a duration above 0"),
        (
            ["Charge at C/8 for 9 h"],
            0.0,
            "protocol[0]",
            "within 0 % to 100 %.*at 8 h into this step .*SOC reaches 100 %.*'until 100%'",
        ),
        (
            ["Rest for 1 h", "Discharge at 1C for 1 h"],
            0.5,
            "protocol[1]",
            r"at 30 min into this step \(90 min into the protocol\) SOC reaches 0 %",
        ),
        (
            ["Charge at 1C until 50%"],
            0.8,
            "protocol[0]",
            "a charge target at or above the 80 % SOC.*discharge to reach 50 %",
        ),
        (["Charge at 1C until 120%"], 0.0, "protocol[0]", "an SOC target from 0 % to 100 %"),
        (["Dance for 1 h"], 0.0, "protocol[0]", "a step starting with Charge, Discharge, Rest"),
        (["Chrage at 1C for 1 h"], 0.0, "protocol[0]", "did you mean 'charge'"),
        (["Charge at 1C"], 0.0, "protocol[0]", "a charge step, e.g. "),
        (["Rest for 2 years"], 0.0, "protocol[0]", "a time unit s, min or h"),
        (["Hold at 0 V for 1 h"], 0.0, "protocol[0]", "a hold voltage above 0 and at most 10 V"),
        (["Hold at 11 V for 1 h"], 0.0, "protocol[0]", "a hold voltage above 0 and at most 10 V"),
        (["Charge at 2000C for 1 h"], 0.0, "protocol[0]", "a C-rate above 0 and at most 1000 C"),
        (
            ["Rest for " + "9" * 400 + " s"],
            0.0,
            "protocol[0]",
            "a duration above 0 and at most 3.156e",
        ),
        ([{"repeat 0 times": ["Rest for 1 h"]}], 0.0, "protocol[0]", r"from 1 to 1e\+06 repeats"),
        (["Repeat 2.5 times: [Rest for 1 h]"], 0.0, "protocol[0]", "a whole number of repeats"),
        (["Repeat three times: [Rest for 1 h]"], 0.0, "protocol[0]", "a repeat, e.g. "),
        ([{"repeat 2 times": []}], 0.0, "protocol[0].repeat", "a non-empty list of steps"),
        (["Repeat 2 times: []"], 0.0, "protocol[0].repeat", "a non-empty list of steps"),
        (
            [{"repeat 2 times": ["Rest for 1 h"], "repeat 3 times": ["Rest for 1 h"]}],
            0.0,
            "protocol[0]",
            "a one-key mapping",
        ),
        (
            [{"repeat 1000001 times": ["Rest for 1 s"]}],
            0.0,
            "protocol[0]",
            r"from 1 to 1e\+06 repeats",
        ),
        (
            [{"repeat 600000 times": ["Rest for 1 s", "Rest for 1 s"]}],
            0.0,
            "protocol[0]",
            "at most 1000000 steps once repeats are expanded",
        ),
        (
            ["Repeat 2 times: [" * 9 + "Rest for 1 s" + "]" * 9],
            0.0,
            "protocol[0]" + ".repeat[0]" * 8,
            "repeats nested at most 8 deep",
        ),
        (
            ["Rest for 1 h", {"repeat 2 times": ["Charge at C/2 until 100%", "Dance"]}],
            0.0,
            "protocol[1].repeat[1]",
            "a step starting with",
        ),
        (
            ["Rest for 1 h", "Repeat 2 times: [Rest for 1 h, Repeat 2 times: [Hold for -1 h]]"],
            0.0,
            "protocol[1].repeat[1].repeat[0]",
            "a duration above 0",
        ),
        (
            ["Rest for 5000 h", "Rest for 5000 h"],
            0.0,
            "protocol[1]",
            "ends within 1 year.*never ends",
        ),
        # 5 h cycles: the charge of cycle 1754 ends at 8768 h, past 1 year (8766 h).
        (
            [{"repeat 2000 times": ["Charge at C/3 until 100%", "Discharge at C/2 until 0%"]}],
            0.0,
            "protocol[0].repeat[0]",
            "never ends",
        ),
        ([], 0.0, "protocol", "a list of at least one step"),
    ],
)
def test_bad_input_names_field_value_and_an_example(
    config: list, soc0: float, field: str, allowed: str
) -> None:
    with pytest.raises(InputError, match=re.escape(field) + " = .*" + allowed) as info:
        parse_protocol(config, soc0)
    assert info.value.field == field
    assert any(repr(example) in info.value.allowed for example in EXAMPLES)


@pytest.mark.parametrize("soc0", [-0.1, 1.5, float("nan"), True, "0.5"])
def test_bad_soc0(soc0: object) -> None:
    with pytest.raises(InputError, match=r"^soc0 = .*: a number from 0 to 1"):
        parse_protocol(["Rest for 1 h"], soc0)


def test_protocol_built_directly_matches_parse_protocol() -> None:
    assert Protocol(("Rest for 1 h",), 0.25) == parse_protocol("Rest for 1 h", soc0=0.25)
