"""Warnings that a result cannot be trusted as it reads: a pure function of a plan and its result.

``plan_warnings(plan, result)`` returns one sentence per problem; the CLI prints them on stderr
(``beamdesign: warning: ...``) and puts them in ``run --json`` under ``warnings``. A plan that
cannot be computed at all is refused earlier with an ``InputError``; these are plans that run but
whose numbers need a second look:

- the plan measures nothing (a 0 s protocol, or no exposure before the protocol ends), some
  locations are never measured, planned exposures were dropped or cut at the protocol end;
- a threshold could not be checked (it names a constituent the probed layer does not hold);
- numbers outside the engine's validated range: an energy within ``EDGE_MARGIN_keV`` of an
  absorption edge of an element of the stack, or a spot smaller than the photoelectron range.

With an energy scan the energies checked are the scan's points (the photoelectron range at the
highest), and the beam's reference ``energy_keV`` is checked only for lying inside the scan. A
XANES scan crosses its edge by design: the near-edge structure then changes the dose of a few of
its points only, so the edge warning fires when more than ``SCAN_NEAR_EDGE_SHARE`` of the points
lie within ``EDGE_MARGIN_keV`` of an edge (the scan's dose is then mostly near-edge).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xraylib

from beamdesign.beam import Beam
from beamdesign.materials import resolve_material
from beamdesign.stack import Stack
from beamdesign.stopping import csda_range_g_per_cm2
from beamdesign.units import duration

#: Distance to a K or L absorption edge below which the tabulated (free-atom) coefficients are
#: not trusted, keV: near-edge structure (XANES) spans ~50 eV above an edge and is absent from
#: xraylib's cross sections; a Si(111) monochromator's bandwidth is ~1.4e-4 E (4 eV at 27 keV).
EDGE_MARGIN_keV = 0.05
#: Share of an energy scan's points near one edge above which the scan is warned about.
SCAN_NEAR_EDGE_SHARE = 0.5
_EDGES = {
    "K": xraylib.K_SHELL,
    "L1": xraylib.L1_SHELL,
    "L2": xraylib.L2_SHELL,
    "L3": xraylib.L3_SHELL,
}


def photoelectron_range_um(energy_keV: float, density_g_cm3: float = 1.0) -> float:
    """CSDA range (µm) of an electron carrying the whole photon energy, in water scaled to
    ``density_g_cm3`` (ranges in g/cm² differ little between light materials): the longest
    range a photoelectron of this beam can have in a battery's light constituents."""
    water = resolve_material("water", "water")
    range_g_cm2 = float(csda_range_g_per_cm2(water, energy_keV)[0])
    return range_g_cm2 / density_g_cm3 * 1e4


def beam_warnings(
    beam: Beam, stack: Stack, scan_energies_keV: np.ndarray | None = None
) -> tuple[str, ...]:
    """Warnings on a beam and a stack alone (also used by ``beamdesign dose``); with
    ``scan_energies_keV``, on the points of an energy scan instead of the beam's energy."""
    out = []
    scanned = scan_energies_keV is not None
    energies = np.atleast_1d(beam.energy_keV if scan_energies_keV is None else scan_energies_keV)
    elements = sorted(
        {
            z
            for layer in stack.layers
            for c in layer.constituents
            for z, _ in c.material.mass_fractions
        }
    )
    for z in elements:
        for shell, macro in _EDGES.items():
            try:
                edge_keV = xraylib.EdgeEnergy(z, macro)
            except ValueError:  # no such shell for this element
                continue
            near = int(np.count_nonzero(np.abs(energies - edge_keV) < EDGE_MARGIN_keV))
            if scanned and near > SCAN_NEAR_EDGE_SHARE * energies.size:
                out.append(
                    f"{near} of the {energies.size} points of the energy scan lie within "
                    f"{EDGE_MARGIN_keV * 1000:g} eV of the {xraylib.AtomicNumberToSymbol(z)} "
                    f"{shell} edge ({edge_keV:.4g} keV), where tabulated coefficients ignore "
                    "near-edge structure (the XANES white line): the scan's dose may be off "
                    "by a large factor; check it or widen the scan"
                )
            elif near and not scanned:
                out.append(
                    f"the beam energy {beam.energy_keV:g} keV is within "
                    f"{EDGE_MARGIN_keV * 1000:g} eV of the {xraylib.AtomicNumberToSymbol(z)} "
                    f"{shell} edge ({edge_keV:.4g} keV), where tabulated coefficients "
                    "ignore near-edge structure: the dose may be off by a large factor; "
                    "move the energy away from the edge or check it"
                )
    highest_keV = float(energies.max())
    range_um = photoelectron_range_um(highest_keV)
    if min(beam.spot_um) < range_um:
        out.append(
            f"the spot ({beam.spot_um[0]:g} x {beam.spot_um[1]:g} µm) is smaller than the "
            f"range of the photoelectrons ({range_um:.3g} µm in water at "
            f"{highest_keV:g} keV{', the top of the scan' if scanned else ''}, CSDA): "
            "photoelectrons leave the footprint, "
            "so the local dose is overestimated and the surroundings receive dose"
        )
    return tuple(out)


def plan_warnings(plan: Any, result: Any) -> tuple[str, ...]:
    """Every warning on a plan and the result of running it (see the module docstring).

    Uses only ``plan.protocol.duration_s``, ``plan.schedule``, ``plan.thresholds``,
    ``plan.beam``, ``plan.stack``, ``result.exposures`` (``start_s``,
    ``location_index``, ``dropped``) and
    ``result.locations`` (``name``, ``crossings``).
    """
    out = []
    end_s = float(plan.protocol.duration_s)
    exposures = result.exposures
    n_exposures = int(np.size(exposures.start_s))
    if end_s <= 0:
        out.append("the protocol lasts 0 s: the plan measures nothing and every dose is 0")
    elif n_exposures == 0:
        out.append(
            f"no exposure starts before the protocol ends ({duration(end_s)}; schedule "
            f"start_s = {plan.schedule.start_s:g} s): the plan measures nothing and "
            "every dose is 0"
        )
    scan = getattr(plan.schedule, "energy_scan", None)
    dropped = int(getattr(exposures, "dropped", 0))
    if dropped:
        out.append(
            f"{dropped} planned {'scan point' if scan else 'exposure'}(s) would start after "
            "the protocol ends "
            f"({duration(end_s)}) and were dropped: fewer loops are measured than the "
            "schedule asks"
        )
    if n_exposures:
        measured = (
            np.bincount(
                np.asarray(exposures.location_index), minlength=len(plan.schedule.locations)
            )
            > 0
        )
        never = [
            loc.name
            for loc, seen in zip(plan.schedule.locations, measured, strict=True)
            if not seen
        ]
        if never:
            out.append(
                f"{len(never)} of {len(measured)} locations are never measured before "
                f"the protocol ends (first: {never[0]!r}); their dose is only what "
                "neighbouring exposures give them"
            )
    checked = [c.threshold for c in result.locations[0].crossings] if result.locations else []
    for threshold in plan.thresholds:
        if threshold not in checked:
            out.append(
                f"threshold {threshold.name!r} was not checked: the probed layer holds "
                f"no {threshold.constituent!r}"
            )
    if scan is None:
        out.extend(beam_warnings(plan.beam, plan.stack))
        return tuple(out)
    if not scan.start_keV <= plan.beam.energy_keV <= scan.stop_keV:
        out.append(
            f"the beam energy {plan.beam.energy_keV:g} keV, the reference that single-energy "
            f"outputs show, lies outside the energy scan ({scan.start_keV:g} to "
            f"{scan.stop_keV:g} keV); the doses are the scan's"
        )
    out.extend(beam_warnings(plan.beam, plan.stack, scan.energies_keV))
    return tuple(out)
