"""Provenance: how a result was made, so that a number in a JSON file or a report can be traced.

The block names the software versions (beamdesign, xraylib, numpy, Python), the whole plan
(its config and the SHA-256 of that config in canonical JSON), the stack and beam in a few
fields, the probed constituent, the thresholds and the dose convention with its meaning. It
holds no date or host name: the same plan on the same versions gives the same block, byte for
byte (``ExperimentResult.to_dict`` and ``beamdesign run --json`` carry it).
"""

from __future__ import annotations

import hashlib
import json
import platform
from typing import Any

import numpy as np
import xraylib

from beamdesign.coefficients import CONVENTION_MEANING
from beamdesign.plan import Plan, probe_key


def _version() -> str:
    from beamdesign import __version__  # the package is initialised by the time this runs

    return __version__


def config_sha256(config: dict[str, Any]) -> str:
    """SHA-256 (hex) of a plan config as canonical JSON (sorted keys, no spaces, UTF-8)."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def provenance(plan: Plan) -> dict[str, Any]:
    """The provenance block of a result computed from ``plan`` (JSON-ready, date-free).

    >>> from beamdesign.plan import load_plan
    >>> block = provenance(load_plan("default"))
    >>> sorted(block)
    ['beam', 'convention', 'plan', 'probe', 'stack', 'thresholds', 'versions']
    >>> block["beam"]["energy_keV"], block["convention"]["name"]
    (27.0, 'energy-absorption')
    >>> sorted(block["versions"])
    ['beamdesign', 'numpy', 'python', 'xraylib']
    """
    config = plan.to_config()
    beam = plan.beam
    energy = np.array([beam.energy_keV])
    attenuation = float(np.prod([a.transmission(energy)[0] for a in beam.attenuators]))
    return {
        "versions": {
            "beamdesign": _version(),
            "xraylib": str(xraylib.__version__),
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
        "plan": {
            "title": plan.title,
            "config_sha256": config_sha256(config),
            "config": config,
        },
        "stack": {
            "name": plan.stack.name,
            "title": plan.stack.title,
            "source": plan.stack.source,
            "thickness_um": plan.stack.thickness_um,
            "layers": [
                {
                    "name": layer.name,
                    "thickness_um": layer.thickness_um,
                    "porosity": layer.porosity,
                    "constituents": {
                        c.name: {
                            "material": c.material.name,
                            "density_g_cm3": c.material.density_g_cm3,
                            "volume_fraction": c.volume_fraction,
                        }
                        for c in layer.constituents
                    },
                }
                for layer in plan.stack.layers
            ],
        },
        "beam": {
            "energy_keV": float(beam.energy_keV),
            "flux_ph_s": float(beam.flux_ph_s),
            "spot_um": [float(v) for v in beam.spot_um],
            "profile": beam.profile,
            "attenuator_transmission": attenuation,
        },
        "probe": probe_key(plan),
        "thresholds": [
            {
                "name": t.name,
                "dose_Gy": t.dose_Gy,
                "convention": t.convention,
                "where": t.where,
                "source": t.source,
            }
            for t in plan.thresholds
        ],
        "convention": {
            "name": beam.convention,
            "meaning": CONVENTION_MEANING[beam.convention],
        },
    }
