"""beamdesign: plan synchrotron operando battery experiments so that the beam does not damage
what it measures. Pure core (numpy + xraylib); widgets and notebooks sit on top.

The workflow, in a few calls (every example below runs as a test). Load a plan (a built-in
name, or a YAML/JSON plan file) and run it: every location's dose at its hottest point, the
thresholds it crosses and when.

>>> import beamdesign as bd
>>> bd.builtin_plan_names()
['default', ...]
>>> plan = bd.load_plan("default")
>>> plan
Plan('Default plan: operando XRD on an NMC811…', stack='pouch-nmc811-graphite', 27 keV,
     20 locations, 2 steps, 5 thresholds)
>>> result = bd.run_plan(plan)
>>> hottest = result.hottest
>>> print(f"{hottest.location}: {hottest.dose_Gy / 1e6:.2f} MGy ({plan.beam.convention})")
r2c3: 8.76 MGy (energy-absorption)
>>> result.worst().verdict
'mechanism at risk: beyond the ~4 MGy limit; electrolyte radiolysis likely'

The thresholds a plan is checked against, each in the dose metric it was measured in:

>>> [f"{t.dose_Gy:.3g} Gy {t.convention}" for t in plan.thresholds][:2]
['8e+04 Gy total-attenuation', '1e+06 Gy total-attenuation']
>>> len(bd.thresholds_from_config(["jousseaume2023-active-only"]))
4
>>> bd.threshold_table()[0]["id"]
'jousseaume2023-safe'

What would keep the plan below its lowest threshold (each option re-checked by a run):

>>> advice = bd.advise(plan, result=result)
>>> advice.needed
True
>>> print(advice.sentences[0])
To keep NMC811 cathode/NMC811 below 80 kGy (...) until the protocol ends (now ... at r2c3):

Edit a plan (plans are immutable: ``replace`` makes a new one), write it, read it back:

>>> import pathlib, tempfile
>>> brighter = plan.replace(beam={**plan.config["beam"], "flux_ph_s": 1e12})
>>> path = bd.save_plan(brighter, pathlib.Path(tempfile.mkdtemp()) / "brighter.yaml")
>>> bd.load_plan(path).beam.flux_ph_s
1000000000000.0
>>> print(bd.plan_text(plan).splitlines()[0])
version: 1

Sweep a grid of plans, compare plans side by side, or search the plans that keep a dose limit
and a signal-to-noise floor (``workers=1``: in this process):

>>> rows = bd.sweep(plan.to_config(), {"beam.energy_keV": [20, 40]}, workers=1).rows
>>> [(row["beam.energy_keV"], f"{row['worst_probe_dose_Gy']:.3g}") for row in rows]
[(20, '1.09e+07'), (40, '...')]
>>> comparison = bd.compare(["default", "jousseaume2023-exp2-pcc"])
>>> [s.row["worst_location"] for s in comparison.scenarios]
['r2c3', '#3']
>>> section = {
...     "technique": "xrd-transmission",
...     "signal": {"reflection": "NMC811-003"},
...     "limit": {"threshold": "jousseaume2023-safe"},
...     "minimum": {"snr_per_scan": 100},
...     "vary": {"beam.flux_ph_s": {"values": [1e8, 1e9, 1e10]}},
... }
>>> pcc = bd.load_plan("jousseaume2023-exp2-pcc")
>>> front = bd.design_plan(pcc.to_config(), section, workers=1, progress=False)
>>> [(c.values["beam.flux_ph_s"], round(c.snr_per_scan)) for c in front.candidates]
[(100000000.0, 145)]

Results say how they were made (versions, the whole plan, stack, beam, convention):

>>> sorted(result.to_dict(timeline=False)["provenance"])
['beam', 'convention', 'plan', 'probe', 'stack', 'thresholds', 'versions']

The HTML report runs the plan in a Jupyter kernel (a few seconds); its inputs are checked
before the kernel starts:

>>> bd.render_report("default", "report.html")  # doctest: +SKIP
PosixPath('report.html')
>>> bd.render_report("default", "report.txt")
Traceback (most recent call last):
beamdesign.errors.InputError: -o = 'report.txt': a report file name ends in .html.

``bd.sweep`` and ``bd.compare`` are the functions; their modules (where the helpers live) are
imported by name: ``from beamdesign.sweep import grid``.

Bad input always raises ``InputError`` with one sentence naming the field, the value and
what is allowed:

>>> bd.load_plan("defualt")
Traceback (most recent call last):
beamdesign.errors.InputError: plan = 'defualt': not a plan file or a built-in plan; ...
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from beamdesign.advice import Advice, advise
from beamdesign.beam import Attenuator, Beam
from beamdesign.coefficients import CONVENTION_MEANING, CONVENTIONS
from beamdesign.compare import Comparison, compare
from beamdesign.design import DesignResult, design_plan
from beamdesign.dose import DoseSpectrum, StackDose, dose_spectrum, stack_dose
from beamdesign.errors import InputError
from beamdesign.experiment import ExperimentResult, run_plan
from beamdesign.materials import Material, library, resolve_material
from beamdesign.plan import (
    Plan,
    builtin_plan_names,
    load_plan,
    plan_from_config,
    plan_text,
    save_plan,
)
from beamdesign.report import render_report
from beamdesign.stack import Constituent, Layer, Stack, load_stack, preset_names
from beamdesign.sweep import SweepResult, sweep
from beamdesign.thresholds import Threshold, thresholds_from_config
from beamdesign.thresholds import literature as threshold_table

try:
    __version__ = version("beamdesign")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"

__all__ = [
    "CONVENTIONS",
    "CONVENTION_MEANING",
    "Advice",
    "Attenuator",
    "Beam",
    "Comparison",
    "Constituent",
    "DesignResult",
    "DoseSpectrum",
    "ExperimentResult",
    "InputError",
    "Layer",
    "Material",
    "Plan",
    "Stack",
    "StackDose",
    "SweepResult",
    "Threshold",
    "__version__",
    "advise",
    "builtin_plan_names",
    "compare",
    "design_plan",
    "dose_spectrum",
    "library",
    "load_plan",
    "load_stack",
    "plan_from_config",
    "plan_text",
    "preset_names",
    "render_report",
    "resolve_material",
    "run_plan",
    "save_plan",
    "stack_dose",
    "sweep",
    "threshold_table",
    "thresholds_from_config",
]
