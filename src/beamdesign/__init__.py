"""beamdesign: plan synchrotron operando battery experiments so that the beam does not damage
what it measures. Pure core (numpy + xraylib); widgets and notebooks sit on top."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from beamdesign.beam import Attenuator, Beam
from beamdesign.coefficients import CONVENTION_MEANING, CONVENTIONS
from beamdesign.dose import DoseSpectrum, StackDose, dose_spectrum, stack_dose
from beamdesign.errors import InputError
from beamdesign.materials import Material, library, resolve_material
from beamdesign.stack import Constituent, Layer, Stack, load_stack, preset_names

try:
    __version__ = version("beamdesign")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"

__all__ = [
    "CONVENTIONS",
    "CONVENTION_MEANING",
    "Attenuator",
    "Beam",
    "Constituent",
    "DoseSpectrum",
    "InputError",
    "Layer",
    "Material",
    "Stack",
    "StackDose",
    "__version__",
    "dose_spectrum",
    "library",
    "load_stack",
    "preset_names",
    "resolve_material",
    "stack_dose",
]
