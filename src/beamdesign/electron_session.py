"""Electron sessions (STEM, TEM, ETEM, electron tomography) as plans: the same dose-vs-time
figures, verdicts and report as a synchrotron plan (issue 13, item 4).

A plan with ``probe_type: electron`` holds an ``electron`` section instead of ``stack`` and
``beam``::

    probe_type: electron
    electron:
      energy_keV: 300          # kinetic energy (keV) = accelerating voltage (kV), 1–1000
      specimen: {material: ZrO2, density_g_cm3: 5.68, thickness_nm: 10}
      beam:                    # exactly one of
        scanned: {current_pA: 19, dwell_us: 10, pixel_A: 0.088, pixels: [1024, 1024]}
        flood: {current_nA: 2, area_um2: 0.01}
        fluence_rate: {e_per_A2_s: 100, area_um2: 0.01}

It resolves to what :func:`beamdesign.experiment.run_plan` already runs:

- the specimen is a one-layer stack (layer ``specimen``);
- the beam is an :class:`ElectronBeam`: a top-hat footprint (the scanned field of view, or a
  square of the flood / fluence-rate area) receiving ``electrons_per_s``. A scanned probe
  spreads its current over the field, so the footprint's fluence rate is ``I / (e × field)``;
  one frame lasts ``nx × ny × dwell`` and gives ``I × dwell / (e p²)`` (the ``ebeam`` per-frame
  fluence). While the probe sits on one pixel the local rate is ``nx × ny`` times higher
  (``local_fluence_rate_e_per_A2_s``, shown in the beam's summary; the engine's "local dose
  rate" is the rate over the field, averaged over a frame);
- the dose comes from :mod:`beamdesign.ebeam` (collision stopping power, ICRU 37 Bethe formula):
  at the entrance face the thin-specimen dose ``F × S_col/ρ`` (Egerton, Micron 2019, 119, 72);
  over the thickness (``column-mean``) the mean along a straight CSDA path
  (``ebeam.collision_energy_lost_keV``), which equals it within a few per cent for a specimen
  much thinner than the electron range and is the better number otherwise;
- ``schedule`` and ``protocol`` are the plan's own: an exposure is a frame, the frames of one
  tilt angle, or one ETEM imaging interval; beam-off time is blanking, tilting or waiting;
- ``thresholds`` (default ``electron``): the scale name ``electron`` is the critical fluences
  of ``thresholds.csv`` converted to Gy in this specimen at this energy
  (``ebeam.electron_threshold_scale``), ``electron:<id>`` one of them; they are compared at
  the entrance face, where Gy and e/Å² are proportional, so crossing the dose is crossing the
  fluence. A custom ``{name, dose_Gy}`` without ``convention`` is an electron dose. Every
  other scale (``jousseaume2023-active-only`` ...) holds X-ray doses: they are compared with
  the electron dose in Gy and carry a caveat (same unit, different spatial scale, dose rate
  and mechanisms; PHYSICS.md "Electron beams");
- warnings (:func:`electron_warnings`): a specimen thicker than 10 % of the CSDA range, and the
  elements the beam can knock on (``ebeam.knock_on``), a damage path the Gy do not measure.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from beamdesign import ebeam, stopping, validate
from beamdesign.beam import Beam
from beamdesign.dose import DoseSpectrum
from beamdesign.errors import InputError, did_you_mean
from beamdesign.materials import Material, resolve_material
from beamdesign.reprs import compact_repr
from beamdesign.stack import Stack
from beamdesign.thresholds import Threshold, thresholds_from_config

if TYPE_CHECKING:
    from beamdesign.experiment import ExperimentResult

PROBE_TYPES = ("x-ray", "electron")
ELECTRON_KEYS = ("energy_keV", "specimen", "beam")
SPECIMEN_KEYS = ("material", "density_g_cm3", "thickness_nm")
BEAM_FORMS = ("scanned", "flood", "fluence_rate")
SCANNED_KEYS = ("current_pA", "dwell_us", "pixel_A", "pixels")
FLOOD_KEYS = ("current_nA", "area_um2")
FLUENCE_RATE_KEYS = ("e_per_A2_s", "area_um2")
#: The scale name of the literature's critical fluences (thresholds.csv, e/Å²).
ELECTRON_SCALE = "electron"
SPECIMEN_LAYER = "specimen"
#: 1 nm to 100 µm: a TEM lamella is 10–200 nm; beyond ~µm the electrons stop inside.
THICKNESS_NM = validate.Range(1.0, 1e5, "nm")
#: Pixels of a scanned frame along one side.
PIXELS = validate.Range(1, 1e5, "pixels", integer=True)
_NM_PER_UM = 1e3
_A_PER_UM = 1e4
_KG_PER_G = 1e-3
XRAY_CAVEAT = (
    "an X-ray dose threshold ({convention}, measured on {measured_for}) compared with an "
    "electron dose: the same J/kg, but deposited in a nm-wide column at a far higher dose "
    "rate, and electrons also displace atoms (knock-on); read it as an order of magnitude"
)


@dataclass(frozen=True, repr=False)
class ElectronBeam(Beam):
    """An electron beam on a specimen, shaped as a :class:`~beamdesign.beam.Beam` for the engine.

    Attributes
    ----------
    energy_keV : kinetic energy of the electrons (keV), 1–1000
    flux_ph_s : electrons per second reaching the footprint (the engine's particle rate; read
        it as ``electrons_per_s``)
    spot_um : footprint (width, height) in µm, a top-hat: the scanned field of view, or a square
        of the illuminated area
    mode : ``scanned``, ``flood`` or ``fluence_rate`` (the plan's beam form)
    inputs : the numbers the beam was made from, with units in their names
    local_fluence_rate_e_per_A2_s : fluence rate on the pixel under a scanned probe (e/Å²/s);
        the footprint's mean rate for the other forms
    frame_s : time of one scanned frame (s); None for the other forms
    """

    profile: str = "tophat"
    convention: str = ebeam.ELECTRON_CONVENTION
    mode: str = "fluence_rate"
    inputs: tuple[tuple[str, float], ...] = ()
    local_fluence_rate_e_per_A2_s: float = 0.0
    frame_s: float | None = None

    def __post_init__(self) -> None:
        ebeam.check_energy_keV(self.energy_keV, "electron.energy_keV")
        ebeam.positive(self.flux_ph_s, "electron.beam electrons per second", "e/s")
        for i, side in enumerate(self.spot_um):
            ebeam.positive(side, f"electron.beam footprint[{i}]", "µm")
        if self.profile != "tophat" or self.attenuators:
            raise InputError(
                "electron.beam", self.profile, "an electron beam is a top-hat without attenuators"
            )
        if self.convention != ebeam.ELECTRON_CONVENTION:
            raise InputError(
                "beam.convention",
                self.convention,
                f"an electron beam's dose is always '{ebeam.ELECTRON_CONVENTION}' "
                "(collision stopping power)",
            )

    def __repr__(self) -> str:
        w, h = self.spot_um
        return (
            f"ElectronBeam({self.energy_keV:g} keV, {self.mode}, "
            f"{self.electrons_per_s:.3g} e/s over {w * _NM_PER_UM:.4g} x {h * _NM_PER_UM:.4g} nm)"
        )

    @property
    def electrons_per_s(self) -> float:
        """Electrons per second reaching the footprint."""
        return float(self.flux_ph_s)

    @property
    def fluence_rate_e_per_A2_s(self) -> float:
        """Mean fluence rate over the footprint (e/Å²/s)."""
        w, h = self.spot_um
        return self.electrons_per_s / (w * h * _A_PER_UM**2)

    @property
    def summary(self) -> str:
        """The beam in a microscopist's words, one line."""
        inputs = ", ".join(f"{k} {v:g}" for k, v in self.inputs)
        w, h = self.spot_um
        text = (
            f"electrons {self.energy_keV:g} keV, {self.mode} ({inputs}); field "
            f"{w * _NM_PER_UM:.4g} x {h * _NM_PER_UM:.4g} nm; "
            f"{self.fluence_rate_e_per_A2_s:.3g} e/Å²/s over the field"
        )
        if self.frame_s is not None:
            frame_fluence = self.fluence_rate_e_per_A2_s * self.frame_s
            text += (
                f", {self.local_fluence_rate_e_per_A2_s:.3g} e/Å²/s on the probed pixel; "
                f"frame {self.frame_s:.4g} s = {frame_fluence:.3g} e/Å²"
            )
        return text

    def replace(self, **changes: object) -> ElectronBeam:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def to_config(self) -> dict[str, Any]:
        return {self.mode: dict(self.inputs)}


@dataclass(frozen=True, repr=False)
class ElectronSpectrum(DoseSpectrum):
    """A :class:`~beamdesign.dose.DoseSpectrum` of an electron beam.

    ``peak_dose_rate_Gy_per_s`` and ``dose_rate_Gy_per_s`` are means over the specimen's
    thickness (CSDA straight path); the entrance face gets the thin-specimen rate
    ``entrance_rate_Gy_per_s``. ``coefficient_cm2_g`` is the share of the electron's energy
    lost per unit mass thickness, ``ΔE / (E ρ t)``, so that ``rate = Φ E c`` as for photons.
    ``layer_transmission`` is the share of electrons crossing the layer (1, or 0 when the
    CSDA range is shorter than the thickness).
    """

    entrance_rate_Gy_per_s: np.ndarray

    @property
    def entrance_peak_dose_rate_Gy_per_s(self) -> np.ndarray:
        """(n_const, n_E) thin-specimen dose rate ``Φ × S_col/ρ`` at the entrance face, Gy/s."""
        return self.entrance_rate_Gy_per_s


def mean_collision_loss_keV(
    material: Material, energies_keV: np.ndarray, thickness_nm: float, steps: int = 100
) -> np.ndarray:
    """Energy (keV) one electron of each energy leaves in ``thickness_nm`` of ``material``.

    Vectorised form of :func:`beamdesign.ebeam.collision_energy_lost_keV` (same midpoint
    integration of the CSDA slowing down); energies whose range is shorter than twice the
    thickness go through that function itself.
    """
    energies = np.asarray(energies_keV, dtype=float).reshape(-1)
    mass_thickness = thickness_nm * 1e-7 * material.density_g_cm3
    ranges = stopping.csda_range_g_per_cm2(material, energies)
    thin = mass_thickness <= 0.5 * ranges
    step = mass_thickness / steps * 1e3  # keV per (MeV cm²/g)
    current, lost = energies[thin].copy(), np.zeros(int(np.count_nonzero(thin)))

    def total(e: np.ndarray) -> np.ndarray:
        return np.asarray(
            stopping.collision_stopping_power_MeV_cm2_per_g(material, e)
            + stopping.radiative_stopping_power_MeV_cm2_per_g(material, e)
        )

    for _ in range(steps if current.size else 0):
        middle = current - 0.5 * step * total(current)
        s_col = np.asarray(stopping.collision_stopping_power_MeV_cm2_per_g(material, middle))
        lost += s_col * step
        current = current - total(middle) * step
    out = np.empty_like(energies)
    out[thin] = lost
    out[~thin] = [
        ebeam.collision_energy_lost_keV(material, float(e), thickness_nm) for e in energies[~thin]
    ]
    return out


def electron_spectrum(
    stack: Stack, beam: ElectronBeam, energies_keV: np.ndarray | float | None = None
) -> ElectronSpectrum:
    """Dose rates of the specimen in an electron beam at each electron energy (keV).

    The stack must be one layer (the specimen); its constituents each get their own stopping
    power over the layer's thickness.
    """
    if len(stack.layers) != 1:
        raise InputError(
            "stack", stack.name, "an electron session's specimen is a single layer (1 layer)"
        )
    raw = beam.energy_keV if energies_keV is None else energies_keV
    energies = np.array([ebeam.check_energy_keV(e) for e in np.ravel(np.asarray(raw, dtype=float))])
    layer = stack.layers[0]
    thickness_nm = layer.thickness_um * _NM_PER_UM
    fluence_rate_cm2 = beam.electrons_per_s / beam.footprint_area_cm2  # e/cm²/s, top-hat
    keys, fractions, entrance, mean, coefficient, crossing = [], [], [], [], [], []
    for c in layer.constituents:
        s_col = np.asarray(stopping.collision_stopping_power_MeV_cm2_per_g(c.material, energies))
        lost_keV = mean_collision_loss_keV(c.material, energies, thickness_nm)
        mass_thickness_kg_cm2 = thickness_nm * 1e-7 * c.material.density_g_cm3 * _KG_PER_G
        keys.append(f"{layer.name}/{c.name}")
        fractions.append(c.volume_fraction * c.material.density_g_cm3)
        entrance.append(fluence_rate_cm2 * s_col * ebeam.J_PER_MeV / _KG_PER_G)
        mean.append(fluence_rate_cm2 * lost_keV * ebeam.J_PER_keV / mass_thickness_kg_cm2)
        coefficient.append(lost_keV / (energies * mass_thickness_kg_cm2 / _KG_PER_G))
        ranges = stopping.csda_range_g_per_cm2(c.material, energies)
        crossing.append(ranges > mass_thickness_kg_cm2 / _KG_PER_G)
    n = len(keys)
    rate = np.array(mean)
    mass_g = np.array(fractions) * beam.footprint_area_cm2 * thickness_nm * 1e-7
    power_W = rate * mass_g[:, None] * _KG_PER_G
    transmitted = np.all(np.array(crossing), axis=0).astype(float)
    beam_power_W = beam.electrons_per_s * energies * ebeam.J_PER_keV
    return ElectronSpectrum(
        stack=stack,
        beam=beam,
        energies_keV=energies,
        keys=tuple(keys),
        layer_index=np.zeros(n, dtype=int),
        coefficient_cm2_g=np.array(coefficient),
        dose_rate_Gy_per_s=rate,
        peak_dose_rate_Gy_per_s=rate,
        absorbed_power_W=power_W,
        mass_g=mass_g,
        layer_transmission=transmitted[None, :],
        incident_fraction=np.ones((1, energies.size)),
        attenuator_transmission=np.ones(energies.size),
        transmission=transmitted,
        escaped_power_W=beam_power_W - power_W.sum(axis=0),
        secondary_photon_power_W=np.zeros_like(power_W),
        entrance_rate_Gy_per_s=np.array(entrance),
    )


# ---------------------------------------------------------------- the plan's electron section


@dataclass(frozen=True, repr=False)
class ElectronSession:
    """What an ``electron`` section resolves to: the specimen's stack mapping (a plan builds it
    with ``load_stack``), the beam, the specimen material and the thresholds."""

    stack_config: dict[str, Any]
    beam: ElectronBeam
    material: Material
    thresholds: tuple[Threshold, ...]

    def __repr__(self) -> str:
        n = len(self.thresholds)
        return f"ElectronSession({self.material.name}, {self.beam!r}, {n} thresholds)"


def electron_session(config: Mapping[str, Any]) -> ElectronSession | None:
    """The electron session of a plan mapping, or None for an X-ray plan.

    Checks ``probe_type`` (``x-ray`` by default, or ``electron``) against the sections present:
    an electron plan has ``electron`` and neither ``stack`` nor ``beam``; an X-ray plan has no
    ``electron`` section.
    """
    probe_type = validate.choice(config.get("probe_type", "x-ray"), "probe_type", PROBE_TYPES)
    if probe_type == "x-ray":
        if "electron" in config:
            raise InputError(
                "probe_type",
                config.get("probe_type", "x-ray"),
                "an 'electron' section needs probe_type: electron",
                "add probe_type: electron, or remove the electron section",
            )
        return None
    for key in ("stack", "beam"):
        if key in config:
            raise InputError(
                key,
                "given",
                "an electron plan (probe_type: electron) takes its specimen and beam from the "
                f"'electron' section; remove '{key}'",
            )
    if "electron" not in config:
        raise InputError(
            "electron",
            validate.MISSING,
            "probe_type: electron needs an 'electron' section with energy_keV, specimen and beam",
        )
    section = validate.mapping(config["electron"], "electron", ELECTRON_KEYS, ELECTRON_KEYS)
    energy = ebeam.check_energy_keV(section["energy_keV"], "electron.energy_keV")
    stack_config, material = _specimen(section["specimen"], "electron.specimen")
    beam = electron_beam(section["beam"], energy, "electron.beam")
    thresholds = electron_plan_thresholds(
        config.get("thresholds", ELECTRON_SCALE), material, energy
    )
    return ElectronSession(stack_config, beam, material, thresholds)


def _specimen(value: object, field: str) -> tuple[dict[str, Any], Material]:
    spec = validate.mapping(value, field, SPECIMEN_KEYS, ("material", "thickness_nm"))
    density = spec.get("density_g_cm3")
    if density is not None:
        density = validate.DENSITY_G_CM3.check(density, f"{field}.density_g_cm3")
    material = resolve_material(spec["material"], f"{field}.material", density)  # type: ignore[arg-type]
    thickness_nm = THICKNESS_NM.check(spec["thickness_nm"], f"{field}.thickness_nm")
    layer: dict[str, Any] = {
        "name": SPECIMEN_LAYER,
        "material": spec["material"],
        "thickness_um": thickness_nm / _NM_PER_UM,
    }
    if density is not None:
        layer["density_g_cm3"] = density
    stack = {
        "name": f"specimen {material.name}",
        "title": f"{material.name} specimen, {thickness_nm:g} nm (electron session)",
        "source": "the plan's electron.specimen section; material and density from "
        f"{material.source or 'the material library'}",
        "layers": [layer],
    }
    return stack, material


def electron_beam(value: object, energy_keV: float, field: str = "electron.beam") -> ElectronBeam:
    """An :class:`ElectronBeam` from a plan's ``electron.beam`` mapping (one of BEAM_FORMS)."""
    beam = validate.mapping(value, field, BEAM_FORMS)
    forms = [form for form in BEAM_FORMS if form in beam]
    if len(forms) != 1:
        raise InputError(
            field,
            " and ".join(forms) if forms else "empty",
            "give exactly one of scanned {current_pA, dwell_us, pixel_A, pixels}, "
            "flood {current_nA, area_um2} or fluence_rate {e_per_A2_s, area_um2}",
            "a fluence rate and a beam current cannot both set the beam" if len(forms) > 1 else "",
        )
    form = forms[0]
    where = f"{field}.{form}"
    if form == "scanned":
        spec = validate.mapping(beam[form], where, SCANNED_KEYS, SCANNED_KEYS)
        current = quantity(spec["current_pA"], f"{where}.current_pA")
        dwell = quantity(spec["dwell_us"], f"{where}.dwell_us")
        pixel = quantity(spec["pixel_A"], f"{where}.pixel_A")
        nx, ny = _pixels(spec["pixels"], f"{where}.pixels")
        electrons_per_s = current * 1e-12 / ebeam.ELEMENTARY_CHARGE_C
        return ElectronBeam(
            energy_keV=energy_keV,
            flux_ph_s=electrons_per_s,
            spot_um=(nx * pixel / _A_PER_UM, ny * pixel / _A_PER_UM),
            mode=form,
            inputs=(
                ("current_pA", current),
                ("dwell_us", dwell),
                ("pixel_A", pixel),
                ("pixels_x", float(nx)),
                ("pixels_y", float(ny)),
            ),
            local_fluence_rate_e_per_A2_s=electrons_per_s / pixel**2,
            frame_s=nx * ny * dwell * 1e-6,
        )
    keys = FLOOD_KEYS if form == "flood" else FLUENCE_RATE_KEYS
    spec = validate.mapping(beam[form], where, keys, keys)
    area = quantity(spec["area_um2"], f"{where}.area_um2")
    if form == "flood":
        current = quantity(spec["current_nA"], f"{where}.current_nA")
        electrons_per_s = current * 1e-9 / ebeam.ELEMENTARY_CHARGE_C
        inputs = (("current_nA", current), ("area_um2", area))
    else:
        rate = quantity(spec["e_per_A2_s"], f"{where}.e_per_A2_s")
        electrons_per_s = rate * area * ebeam.A2_PER_UM2
        inputs = (("e_per_A2_s", rate), ("area_um2", area))
    side = float(np.sqrt(area))
    return ElectronBeam(
        energy_keV=energy_keV,
        flux_ph_s=electrons_per_s,
        spot_um=(side, side),
        mode=form,
        inputs=inputs,
        local_fluence_rate_e_per_A2_s=electrons_per_s / (area * ebeam.A2_PER_UM2),
    )


#: Bounds of the beam's numbers (unit, low, high): wide enough for every TEM, STEM and SEM,
#: narrow enough that a typo (nA taken for pA, µm² for nm²) or an overflow is caught.
QUANTITIES = {
    "current_pA": ("pA", 1e-3, 1e6),  # 1 fA to 1 µA
    "current_nA": ("nA", 1e-6, 1e3),
    "dwell_us": ("µs", 1e-3, 1e6),  # 1 ns to 1 s per pixel
    "pixel_A": ("Å", 1e-3, 1e5),  # to 10 µm
    "area_um2": ("µm²", 1e-8, 1e8),  # 1 Å² to 1 cm²
    "e_per_A2_s": ("e/Å²/s", 1e-9, 1e12),
}


def quantity(value: object, field: str) -> float:
    """A number of the electron beam: > 0 (one sentence if not), then inside its bounds."""
    unit, low, high = QUANTITIES[field.rsplit(".", 1)[-1]]
    number = ebeam.positive(value, field, unit)
    if not low <= number <= high:
        raise InputError(field, number, f"a number from {low:g} to {high:g} {unit}")
    return number


def _pixels(value: object, field: str) -> tuple[int, int]:
    """``n`` (a square frame) or ``[nx, ny]`` pixels."""
    values = list(value) if isinstance(value, (list, tuple)) else [value, value]
    if len(values) != 2:
        raise InputError(field, value, "a number of pixels n (square frame) or [nx, ny]")
    names = [f"{field}[{i}]" for i in range(2)] if isinstance(value, (list, tuple)) else [field] * 2
    nx, ny = (int(PIXELS.check(v, name)) for v, name in zip(values, names, strict=True))
    return nx, ny


# ---------------------------------------------------------------- thresholds


@dataclass(frozen=True)
class XrayThreshold(Threshold):
    """An X-ray dose threshold applied to an electron dose: always with its caveat."""

    xray_convention: str = ""

    __repr__ = compact_repr

    def caveat(self, material_name: str, energy_keV: float) -> str:
        return XRAY_CAVEAT.format(
            convention=self.xray_convention, measured_for=self.measured_for or "not stated"
        )


def _electron_rows(
    item: str, material: Material, energy_keV: float, field: str
) -> tuple[Threshold, ...]:
    """``electron`` (every critical fluence) or ``electron:<id>`` (one row of thresholds.csv)."""
    scale = ebeam.electron_threshold_scale(material, energy_keV)
    wanted = item.strip().partition(":")[2].strip()
    if not wanted:
        return scale
    ids = [t.id for t in ebeam.electron_thresholds()]
    if wanted not in ids:
        raise InputError(
            field,
            item,
            f"'{ELECTRON_SCALE}' or '{ELECTRON_SCALE}:<id>' with an electron-fluence row of "
            "thresholds.csv: " + ", ".join(ids),
            did_you_mean(wanted, ids),
        )
    return (scale[ids.index(wanted)],)


def _thresholds_of(item: object, field: str) -> tuple[Threshold, ...]:
    """One scale name or custom threshold through ``thresholds_from_config``, errors named at
    ``field``."""
    if isinstance(item, str):
        return thresholds_from_config(item, field)
    try:
        return thresholds_from_config([item], "")
    except InputError as error:  # "[0].dose_Gy" -> "thresholds[1].dose_Gy"
        raise InputError(
            field + error.field.removeprefix("[0]"), error.value, error.allowed, error.hint
        ) from None


def electron_plan_thresholds(
    config: object, material: Material, energy_keV: float, field: str = "thresholds"
) -> tuple[Threshold, ...]:
    """An electron plan's thresholds: scale names (``electron``, ``electron:<id>`` and the
    X-ray scales) and custom ``{name, dose_Gy, ...}`` entries.

    ``electron`` gives the critical fluences as Gy (``ebeam.electron_threshold_scale``),
    ``electron:<id>`` one of them (its ``thresholds.csv`` id). An
    X-ray scale's thresholds become :class:`XrayThreshold` (compared with the electron dose,
    with a caveat). A custom threshold without ``convention`` is an electron dose (Gy,
    mean over the thickness); with one, it is an X-ray dose.
    """
    items = [config] if isinstance(config, str) else config
    if not isinstance(items, list) or not items:
        raise InputError(
            field,
            config,
            f"a scale name ('{ELECTRON_SCALE}', '{ELECTRON_SCALE}:<id>' or an X-ray scale) or "
            "a list of scale names and {name, dose_Gy}",
        )
    out: list[Threshold] = []
    for i, item in enumerate(items):
        item_field = field if isinstance(config, str) else f"{field}[{i}]"
        if isinstance(item, str) and item.strip().lower().partition(":")[0] == ELECTRON_SCALE:
            out.extend(_electron_rows(item, material, energy_keV, item_field))
            continue
        electron_dose = isinstance(item, Mapping) and "convention" not in item
        for threshold in _thresholds_of(item, item_field):
            if electron_dose:
                out.append(dataclasses.replace(threshold, convention=ebeam.ELECTRON_CONVENTION))
                continue
            out.append(
                XrayThreshold(
                    threshold.name,
                    threshold.dose_Gy,
                    threshold.constituent,
                    threshold.verdict,
                    threshold.source,
                    ebeam.ELECTRON_CONVENTION,
                    threshold.where,
                    threshold.measured_for,
                    threshold.materials,
                    None,
                    threshold.convention,
                )
            )
    return tuple(out)


# ---------------------------------------------------------------- warnings


def electron_warnings(beam: ElectronBeam, stack: Stack) -> tuple[str, ...]:
    """What a dose of this electron session cannot say: a specimen not thin compared with the
    electron range (``ebeam.THIN_LIMIT``), and the elements the beam can knock on (a damage
    path that does not scale with Gy)."""
    out = []
    layer = stack.layers[0]
    for c in layer.constituents:
        range_um = float(stopping.csda_range_um(c.material, beam.energy_keV)[0])
        ratio = layer.thickness_um / range_um
        if ratio > ebeam.THIN_LIMIT:
            stops = " and the electrons stop inside it" if ratio >= 1 else ""
            out.append(
                f"not a thin specimen: {layer.thickness_um * _NM_PER_UM:g} nm of "
                f"{c.material.name} is {ratio:.0%} of the CSDA range of "
                f"{beam.energy_keV:g} keV electrons ({range_um:.3g} µm){stops}: the dose over the "
                "thickness follows the slowing down along a straight path (multiple scattering "
                "and backscatter ignored), the entrance dose is the thin-specimen one"
            )
        knocked = [k for k in ebeam.knock_on(c.material, beam.energy_keV) if k.knocked_on]
        if knocked:
            out.append(
                f"knock-on: at {beam.energy_keV:g} keV the electrons can displace "
                + ", ".join(
                    f"{k.symbol} (E_max {k.max_transfer_eV:.3g} eV ≥ E_d "
                    f"{k.displacement_energy_eV:g} eV)"
                    for k in knocked
                )
                + f" in {c.material.name}: damage that depends on fluence and energy, not on Gy"
            )
    return tuple(out)


# ---------------------------------------------------------------- advice


_CURRENT_KEYS = {"scanned": "current_pA", "flood": "current_nA", "fluence_rate": "e_per_A2_s"}
_CURRENT_UNITS = {"current_pA": "pA", "current_nA": "nA", "e_per_A2_s": "e/Å²/s"}


def scaled_current(config: Mapping[str, Any], factor: float) -> dict[str, Any]:
    """``{"electron": section}``: the plan's electron section with its beam current (or fluence
    rate) times ``factor``: the electron counterpart of lowering an X-ray flux."""
    section = dict(config["electron"])
    beam = dict(section["beam"])
    form = next(f for f in BEAM_FORMS if f in beam)
    key = _CURRENT_KEYS[form]
    beam[form] = {**beam[form], key: float(beam[form][key]) * factor}
    return {"electron": {**section, "beam": beam}}


def current_words(beam: ElectronBeam, factor: float) -> str:
    """'lower the beam current to ...' for :func:`scaled_current` with ``factor``."""
    key = _CURRENT_KEYS[beam.mode]
    value = dict(beam.inputs)[key] * factor
    what = "fluence rate" if beam.mode == "fluence_rate" else "beam current"
    return (
        f"lower the {what} to {value:.3g} {_CURRENT_UNITS[key]} (×{factor:.3g}; or spread the "
        "same current over a larger field)"
    )


# ---------------------------------------------------------------- outputs


def electron_summary(result: ExperimentResult) -> dict[str, Any]:
    """A microscopist's view of a run of an electron session (``run --json`` key ``electron``):
    the beam, each location's fluence (e/Å²) at its hottest point, the thin-specimen check and
    the knock-on verdicts. The fluence is the entrance dose over ``S_col/ρ`` (exact)."""
    beam = result.plan.beam
    if not isinstance(beam, ElectronBeam):
        raise InputError("plan", result.plan.title, "an electron session (probe_type: electron)")
    layer = result.plan.stack.layers[0]
    probe = next(c for c in layer.constituents if f"{layer.name}/{c.name}" == result.probe)
    per_fluence = ebeam.gray_per_e_per_A2(probe.material, beam.energy_keV)
    range_um = float(stopping.csda_range_um(probe.material, beam.energy_keV)[0])
    return {
        "energy_keV": beam.energy_keV,
        "mode": beam.mode,
        "inputs": dict(beam.inputs),
        "field_um": list(beam.spot_um),
        "electrons_per_s": beam.electrons_per_s,
        "fluence_rate_e_per_A2_s": beam.fluence_rate_e_per_A2_s,
        "local_fluence_rate_e_per_A2_s": beam.local_fluence_rate_e_per_A2_s,
        # while a scanned probe dwells on a pixel (the engine's local rate is frame-averaged)
        "local_dose_rate_Gy_per_s": beam.local_fluence_rate_e_per_A2_s * per_fluence,
        "frame_s": beam.frame_s,
        "fluence_per_frame_e_per_A2": None
        if beam.frame_s is None
        else beam.fluence_rate_e_per_A2_s * beam.frame_s,
        "gray_per_e_per_A2": per_fluence,
        "thickness_nm": layer.thickness_um * _NM_PER_UM,
        "csda_range_um": range_um,
        "thickness_to_range": layer.thickness_um / range_um,
        "locations": [
            {
                "name": loc.name,
                "fluence_e_per_A2": loc.entrance_dose_Gy[result.probe] / per_fluence,
            }
            for loc in result.locations
        ],
        "knock_on": [k.to_dict() for k in ebeam.knock_on(probe.material, beam.energy_keV)],
    }
