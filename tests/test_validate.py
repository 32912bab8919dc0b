"""The one validation layer: numbers, texts, choices, mappings, and how values are shown."""

from __future__ import annotations

import math

import pytest

from beamdesign import validate
from beamdesign.errors import InputError, show
from beamdesign.validate import Range, choice, mapping, number, text, unknown_keys


@pytest.mark.parametrize(
    "value, message",
    [
        (True, r"f = true: a number from 1 to 1e\+16 ph/s; true/false is not a number\."),
        (False, r"f = false: .*true/false is not a number"),
        ("8e10", r"f = '8e10': .*a number in quotes is text; write it without quotes\."),
        ("1_000", r"f = '1_000': .*write the number without underscores, e.g. 1000 not 1_000\."),
        ("lots", r"f = 'lots': a number from 1 to 1e\+16 ph/s; text is not a number\."),
        (None, r"f = missing: a number from 1"),
        ([1], r"f = \[1\]: a number from 1"),
        (math.nan, r"f = nan: .*; finite numbers only\."),
        (-math.inf, r"f = -inf: .*; finite numbers only\."),
        (-1e12, r"f = -1e\+12: a number from 1 to 1e\+16 ph/s\."),
        (0.5, r"f = 0.5: a number from 1"),
        (2e16, r"f = 2e\+16: a number from 1 to 1e\+16 ph/s\."),
        (10**400, r"f = 1.000e\+400: a number from 1 to 1e\+16 ph/s\."),
    ],
)
def test_number_refusals(value, message):
    with pytest.raises(InputError, match=message):
        validate.FLUX_PH_S.check(value, "f")


def test_number_accepts_ints_floats_and_bounds():
    assert validate.FLUX_PH_S.check(1, "f") == 1.0 and validate.FLUX_PH_S.check(1e16, "f") == 1e16
    assert type(validate.FLUX_PH_S.check(8 * 10**10, "f")) is float
    assert validate.LOOPS.check(3.0, "f") == 3 and type(validate.LOOPS.check(3.0, "f")) is int
    with pytest.raises(InputError, match=r"f = 2.5: a whole number from 1 to 1e\+06 loops\."):
        validate.LOOPS.check(2.5, "f")
    with pytest.raises(InputError, match=r"f = 0: a number above 0 and at most 1e\+07 s\."):
        validate.EXPOSURE_S.check(0, "f")
    with pytest.raises(InputError, match=r"f = 1: a number from 0 to below 1\."):
        validate.POROSITY.check(1, "f")
    assert validate.POROSITY.check(0, "f") == 0.0


@pytest.mark.parametrize(
    "rule, words",
    [
        (Range(0, 1), "from 0 to 1"),
        (Range(0, 1, "s", low_open=True), "above 0 and at most 1 s"),
        (Range(0, 1, high_open=True), "from 0 to below 1"),
        (Range(0, None, "Gy", low_open=True), "above 0 Gy"),
        (Range(2, None), "at least 2"),
        (Range(None, 5, high_open=True), "below 5"),
        (Range(None, None), ""),
        (validate.WAIT_S, "from 0 to 3.156e+07 s"),
    ],
)
def test_range_in_words(rule, words):
    assert rule.rule() == words


def test_number_without_bounds_needs_only_a_finite_number():
    assert number(-1e300, "x") == -1e300
    with pytest.raises(InputError, match=r"^x = inf: a number; finite numbers only\.$"):
        number(math.inf, "x")


@pytest.mark.parametrize(
    "value, shown",
    [
        (-1e12, "-1e+12"),
        (1e-320, "9.99989e-321"),
        (0.1 + 0.2, "0.3"),
        (12, "12"),
        (True, "true"),
        (10**20, "1.000e+20"),
        ("a\nb", "'a\\nb'"),
        (None, "None"),
        ("x" * 300, "'" + "x" * 158 + "…' (302 characters)"),
    ],
)
def test_show(value, shown):
    assert show(value) == shown


def test_text():
    assert text("  cathode ", "f") == "cathode"
    assert text("", "f", empty=True) == ""
    with pytest.raises(InputError, match=r"f = 12: text \(not empty\); put it in quotes\."):
        text(12, "f")
    with pytest.raises(InputError, match=r"f = '  ': a non-empty text\."):
        text("  ", "f")
    with pytest.raises(InputError, match=r"a text of at most 5 characters"):
        text("abcdef", "f", max_chars=5)


def test_choice_is_case_insensitive_and_suggests():
    assert choice("Gaussian", "beam.profile", ("tophat", "gaussian")) == "gaussian"
    with pytest.raises(
        InputError,
        match=r"beam.profile = 'gausian': one of tophat, gaussian; did you mean 'gaussian'\?",
    ):
        choice("gausian", "beam.profile", ("tophat", "gaussian"))
    with pytest.raises(InputError, match=r"beam.profile = true: one of tophat, gaussian\.$"):
        choice(True, "beam.profile", ("tophat", "gaussian"))


def test_unknown_keys_and_mapping():
    with pytest.raises(
        InputError,
        match=(
            r"beam.flux = 1: not a known key; allowed: energy_keV, flux_ph_s; did you mean "
            r"'flux_ph_s'\?"
        ),
    ):
        unknown_keys({"flux": 1}, ("energy_keV", "flux_ph_s"), "beam")
    with pytest.raises(InputError, match=r"^colour = 'red': not a known key"):
        unknown_keys({"colour": "red"}, ("title",), "")
    with pytest.raises(InputError, match=r"beam.3 = 'x': not a known key"):
        unknown_keys({3: "x"}, ("energy_keV",), "beam")
    with pytest.raises(InputError, match=r"beam.spot_um = missing: required\."):
        mapping({"energy_keV": 1}, "beam", ("energy_keV", "spot_um"), required=("spot_um",))
    with pytest.raises(InputError, match=r"beam = \[\]: a mapping with keys spot_um\."):
        mapping([], "beam", ("energy_keV", "spot_um"), required=("spot_um",))
