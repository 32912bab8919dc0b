"""Threshold scales, their sources, and verdicts."""

from __future__ import annotations

from importlib import resources

import pytest

from beamdesign.errors import InputError
from beamdesign.thresholds import SAFE_VERDICT, SCALES, literature, thresholds_from_config, verdict


def test_jousseaume_scale_is_the_papers():
    scale = thresholds_from_config("jousseaume2023")
    doses = sorted(t.dose_Gy for t in scale if t.constituent is None)
    assert doses == [80e3, 1e6, 4e6, 11e6]
    radiolysis = [t for t in scale if t.constituent == "electrolyte"]
    assert [t.dose_Gy for t in radiolysis] == [20e3]
    assert all("Jousseaume" in t.source or "Ortiz" in t.source for t in scale)


@pytest.mark.parametrize("name", list(SCALES))
def test_every_scale_has_sourced_positive_thresholds(name):
    for threshold in thresholds_from_config(name):
        assert threshold.dose_Gy > 0 and threshold.source and threshold.verdict


def test_literature_table_is_the_packaged_file():
    packaged = resources.files("beamdesign").joinpath("data/thresholds.csv")
    reference = packaged.read_text("utf-8").splitlines()
    assert len(literature()) == len(reference) - 1
    assert {row["id"] for row in literature()} >= {"jousseaume2023-safe", "ortiz2015-radiolysis"}


def test_custom_thresholds_and_mixed_lists():
    config = ["jousseaume2023-active-only", {"name": "my binder limit", "dose_Gy": 5e5, "constituent": "PVDF"}]
    scale = thresholds_from_config(config)
    assert scale[-1].constituent == "PVDF" and scale[-1].dose_Gy == 5e5


def test_verdicts():
    scale = {t.dose_Gy: t for t in thresholds_from_config("jousseaume2023")}
    assert verdict([]) == SAFE_VERDICT
    assert verdict([scale[80e3]]).startswith("mechanism only")
    assert verdict([scale[80e3], scale[1e6], scale[4e6], scale[11e6]]) == "kinetics likely affected"
    assert verdict([scale[20e3]]) == f"{SAFE_VERDICT}; electrolyte radiolysis likely"


@pytest.mark.parametrize("config, message", [
    ([{"name": "x"}], r"thresholds\[0\].dose_Gy = None: threshold 'x' needs a dose_Gy > 0"),
    ([{"name": "x", "dose_Gy": -5}], r"thresholds\[0\].dose_Gy = -5"),
    ([{"dose_Gy": 5}], r"thresholds\[0\].name = None: every threshold needs a name"),
    ([{"name": "x", "dose_Gy": 5, "unit": "Gy"}], r"thresholds\[0\].unit = 'Gy': not a known key"),
    ("nope", r"thresholds = 'nope': a threshold scale: jousseaume2023"),
    ([], r"thresholds = \[\]"),
])
def test_bad_thresholds(config, message):
    with pytest.raises(InputError, match=message):
        thresholds_from_config(config)
