"""The technique atlas (Chen, Leung & Huang 2024, Table 1) and its typical doses."""

from __future__ import annotations

import pytest

from beamdesign.atlas import DOI, SOURCE, TYPICAL_STEM, technique, techniques, typical_dose
from beamdesign.ebeam import gray_per_e_per_A2
from beamdesign.errors import InputError
from beamdesign.materials import resolve_material


def test_atlas_is_the_reviews_table():
    names = [t.technique for t in techniques()]
    assert names == [
        "STEM",
        "APT",
        "ToF-SIMS",
        "XANES",
        "RIXS",
        "Neutron diffraction",
        "ssNMR",
        "XCS",
    ]
    for row in techniques():
        assert row.source == SOURCE + " (CC BY 4.0)" and row.doi == DOI == "10.1002/adfm.202308165"
        assert row.spatial_resolution and row.information and row.penetration_depth and row.refs


def test_numeric_bounds_are_ordered_and_match_the_text():
    for row in techniques():
        assert row.sample_mass_min_g <= row.sample_mass_max_g
        assert row.penetration_depth_min_m <= row.penetration_depth_max_m
        if row.time_resolution_worst_s is not None:
            assert row.time_resolution_best_s <= row.time_resolution_worst_s
    stem = technique("STEM")
    assert stem.spatial_resolution.startswith("0.4 Å") and stem.spatial_resolution_best_m == 4e-11
    assert technique("Neutron diffraction").sample_mass_max_g == 1.0  # "50 mg – 1 g"
    assert technique("ssNMR").spatial_resolution_best_m is None  # no length given


def test_lookup_is_case_insensitive_and_errors_suggest():
    assert technique("tof-sims").technique == "ToF-SIMS"
    with pytest.raises(
        InputError, match=r"technique = 'XANS': one of STEM, APT.*did you mean 'XANES'"
    ):
        technique("XANS")


def test_typical_stem_dose_is_one_seed_frame():
    water = resolve_material("water", "material")
    dose = typical_dose("stem", water)
    frame = 19e-12 * 10e-6 / 1.602176634e-19 / 0.088**2
    assert dose.exposure.fluence_e_per_A2 == pytest.approx(frame, rel=1e-12)
    assert dose.energy_keV == TYPICAL_STEM["energy_keV"] == 300
    assert dose.dose_Gy == pytest.approx(frame * gray_per_e_per_A2(water, 300), rel=1e-12)
    assert typical_dose("XANES", water) is None and typical_dose("APT", water) is None
