"""Beamline profiles: built-in examples load, flux interpolation, filters, application to a plan."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from beamdesign.errors import InputError
from beamdesign.experiment import run_plan
from beamdesign.plan import builtin_plan_text, plan_from_config
from beamdesign.profile import apply_profile, load_profile, profile_names


def _pcc() -> dict:
    return yaml.safe_load(builtin_plan_text("jousseaume2023-exp2-pcc"))


@pytest.mark.parametrize("name", profile_names())
def test_every_builtin_profile_is_an_example_with_a_source(name):
    profile = load_profile(name)
    assert profile.example is True
    assert "EXAMPLE" in profile.title and "NOT read" in profile.source
    assert profile.flux_ph_s(profile.energies_keV[0]) == pytest.approx(profile.flux_table_ph_s[0])


def test_two_examples_are_shipped():
    assert set(profile_names()) == {"example-high-energy-xrd", "example-xas"}


def test_flux_is_log_log_interpolated():
    profile = load_profile("example-high-energy-xrd")
    # between 45 keV (3.5e11) and 60 keV (2.5e11): power law through both points
    slope = np.log(2.5e11 / 3.5e11) / np.log(60 / 45)
    assert profile.flux_ph_s(50.0) == pytest.approx(3.5e11 * (50 / 45) ** slope, rel=1e-12)


def test_filter_transmission_depends_on_energy():
    copper = load_profile("example-high-energy-xrd").attenuator("cu-0.5MM")
    low, high = copper.transmission(np.array([27.0, 60.0]))
    assert low < 0.01 < 0.2 < high  # μ/ρ(Cu) 14.7 vs 1.59 cm²/g: T = exp(-6.6) vs exp(-0.71)


def _without_flux() -> dict:
    config = _pcc()
    del config["beam"]["flux_ph_s"], config["beam"]["profile"]
    return config


def test_apply_profile_sets_flux_shape_filter_and_move_time():
    config = apply_profile(
        {**_without_flux(), "beamline": "example-high-energy-xrd"},
        "example-high-energy-xrd",
        attenuator="Al-1mm",
    )
    assert "beamline" not in config
    assert config["beam"]["flux_ph_s"] == pytest.approx(4.0e11)  # table value at 27 keV
    assert config["beam"]["profile"] == "tophat"
    assert config["beam"]["attenuators"] == [
        {"material": "Al", "density_g_cm3": pytest.approx(2.699, rel=0.01), "thickness_um": 1000.0}
    ]
    assert config["schedule"]["move_s"] == 27  # already slower than the profile's 2 s
    result = run_plan(plan_from_config(config))
    assert 0.0 < result.spectrum.attenuator_transmission[0] < 1.0


def test_an_explicit_flux_is_kept_and_named_filters_become_real_filters():
    config = _pcc()  # 8e10 ph/s at 27 keV, below the table's 4e11
    config["beam"]["attenuators"] = ["cu-0.5mm"]
    applied = apply_profile(config, "example-high-energy-xrd")
    assert applied["beam"]["flux_ph_s"] == 8.0e10
    assert applied["beam"]["attenuators"] == [
        {"material": "Cu", "density_g_cm3": pytest.approx(8.96, rel=0.01), "thickness_um": 500.0}
    ]


def test_apply_profile_raises_a_short_move_time():
    plan = _pcc()
    plan["schedule"]["move_s"] = 0.5
    assert apply_profile(plan, "example-high-energy-xrd")["schedule"]["move_s"] == 2.0


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda c: c["beam"].update(energy_keV=150),
            r"beam.energy_keV = 150: beamline 'example-high-energy-xrd' "
            r"has flux from 20 to 110 keV \(its flux_table\)",
        ),
        (
            lambda c: c["beam"].update(spot_um=[50, 50]),
            r"beam.spot_um = \[50, 50\]: a spot offered by beamline",
        ),
        (
            lambda c: c["schedule"]["locations"][0].update(exposure_s=0.01),
            r"schedule.locations\[0\].exposure_s = 0.01: at least 0.1 s",
        ),
        (
            lambda c: c["beam"].update(flux_ph_s=1e12),
            r"beam.flux_ph_s = 1e\+12: at most 4e\+11 ph/s at 27 keV on beamline "
            r"'example-high-energy-xrd' \(its flux_table\); leave beam.flux_ph_s out",
        ),
        (
            lambda c: c["beam"].update(profile="gaussian"),
            r"beam.profile = 'gaussian': a tophat beam on beamline 'example-high-energy-xrd'",
        ),
        (
            lambda c: c["beam"].update(attenuators=["Al-3mm"]),
            r"beam.attenuators\[0\] = 'Al-3mm': a filter of beamline .*did you mean 'Al-2mm'",
        ),
    ],
)
def test_apply_profile_errors(change, message):
    config = _pcc()
    change(config)
    with pytest.raises(InputError, match=message):
        apply_profile(config, "example-high-energy-xrd")


def test_unknown_filter_and_profile():
    with pytest.raises(
        InputError, match=r"attenuator = 'Al-3mm': a filter of beamline .*did you mean"
    ):
        apply_profile(_pcc(), "example-high-energy-xrd", attenuator="Al-3mm")
    with pytest.raises(
        InputError, match=r"beamline = 'example-xrd': a beamline profile file or a built-in"
    ):
        load_profile("example-xrd")


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda c: c["flux_table"].update(flux_ph_s=[1e11]),
            r"flux_table.flux_ph_s = \[100000000000.0\]: a list",
        ),
        (
            lambda c: c["flux_table"].update(energy_keV=[20, 10]),
            r"energy_keV = \[20.0, 10.0\]: energies in increasing",
        ),
        (
            lambda c: c["flux_table"].update(energy_keV=[10, True]),
            r"energy_keV\[1\] = true: a number > 0",
        ),
        (lambda c: c.update(fluxx=1), r"beamline.fluxx = 1: not a known key"),
        (lambda c: c.update(move_s=-1), r"beamline.move_s = -1: a number >= 0"),
        (lambda c: c.update(detector={"window_deg": 0}), r"detector.window_deg = 0: a 2θ window"),
    ],
)
def test_bad_profile_files(change, message):
    config = {
        "name": "mine",
        "flux_table": {"energy_keV": [10, 20], "flux_ph_s": [1e11, 2e11]},
        "spots_um": [[100, 100]],
        "shortest_exposure_s": 0.1,
    }
    change(config)
    with pytest.raises(InputError, match=message):
        load_profile(config)


def test_profile_from_file(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "mine",
                "flux_table": {"energy_keV": [10, 30], "flux_ph_s": [1e11, 1e11]},
                "spots_um": [[300, 400]],
                "shortest_exposure_s": 1,
            }
        ),
        encoding="utf-8",
    )
    config = apply_profile(_without_flux(), str(path))
    assert config["beam"]["flux_ph_s"] == pytest.approx(1e11)
