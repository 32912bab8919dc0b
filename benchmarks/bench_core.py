"""Benchmarks of the dose engine and the experiment engine (pytest-benchmark; not timed tests).

Run: ``python -m pytest benchmarks/ --benchmark-only``.
"""

from __future__ import annotations

import numpy as np
import pytest

from beamdesign import coefficients
from beamdesign.beam import Beam
from beamdesign.dose import dose_spectrum, stack_dose
from beamdesign.experiment import run_plan
from beamdesign.plan import builtin_plan_names, load_plan, plan_from_config
from beamdesign.stack import load_stack

STACK = load_stack("jousseaume2023-pcc")
NMC811_FRACTIONS = {3: 0.0719, 28: 0.4827, 25: 0.0563, 27: 0.0604, 8: 0.3287}  # mass fractions
BEAM = Beam(27.0, 8e10, (300.0, 400.0))

RASTER_40x40 = {
    "version": 1,
    "title": "40 x 40 Gaussian raster over 10 cycles of C/2",
    "stack": "pouch-nmc811-graphite",
    "beam": {"energy_keV": 27, "flux_ph_s": 1e11, "spot_um": [60, 30], "profile": "gaussian"},
    "protocol": [{"repeat 10 times": ["Charge at C/2 until 100%", "Discharge at C/2 until 0%"]}],
    "schedule": {
        "raster": {"pattern": "snake", "nx": 40, "ny": 40, "step_um": 50},
        "exposure_s": 2,
        "move_s": 1,
        "loop": "until-end",
    },
    "probe": "NMC811 cathode",
}


def test_one_stack_evaluation(benchmark):
    result = benchmark(stack_dose, STACK, BEAM)
    assert result.transmission > 0


def test_nmc811_coefficients_at_one_new_energy(benchmark):
    """Warm element tables, energy not in materials' cache: what a planner energy change costs."""
    coefficients.mixture_coefficients(NMC811_FRACTIONS, np.array([27.0]))
    result = benchmark(coefficients.mixture_coefficients, NMC811_FRACTIONS, np.array([27.3]))
    assert result["energy"][0] > 0


@pytest.mark.parametrize("z", [8, 28, 42, 82])
def test_cold_element_tables(benchmark, z):
    """Building one element's tables (fluorescence share, CS_Photo edge windows, Compton)."""

    def build():
        for table in (
            coefficients._fluorescence_table,
            coefficients._edge_windows,
            coefficients._compton_absorption_table,
        ):
            table.cache_clear()
        return coefficients.element_coefficients(z, np.array([27.0]))

    result = benchmark.pedantic(build, rounds=3, iterations=1)
    assert result["energy"][0] > 0


def test_one_stack_evaluation_transport(benchmark):
    """The transport convention (issue 14 asks <= 3x test_one_stack_evaluation)."""
    beam = Beam(27.0, 8e10, (300.0, 400.0), convention="transport")
    result = benchmark(stack_dose, STACK, beam)
    assert result.escaped_power_W > 0


def test_500_energy_sweep(benchmark):
    energies = np.linspace(8, 80, 500)
    spectrum = benchmark(dose_spectrum, STACK, BEAM, energies)
    assert spectrum.dose_rate_Gy_per_s.shape[1] == 500


@pytest.mark.parametrize("name", builtin_plan_names())
def test_run_builtin_plan(benchmark, name):
    plan = load_plan(name)
    result = benchmark(run_plan, plan)
    assert result.locations


def test_run_40x40_gaussian_raster_10_cycles(benchmark):
    def validate_and_run():
        return run_plan(plan_from_config(RASTER_40x40))

    result = benchmark.pedantic(validate_and_run, rounds=3, iterations=1, warmup_rounds=1)
    assert len(result.locations) == 1600 and len(result.exposures) > 20000
