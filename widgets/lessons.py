"""Small classroom widgets: each function returns an ipywidgets box holding its controls, a
BokehModel and a readout. The box carries ``.controls`` (name -> widget with ``.value``),
``.readout`` (an HTML widget) and ``.data()`` (the current pure data dict) so that a notebook's
driver cells can set values and check the effect. The numbers come from the core; the callbacks
only move them into the figure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as w
import numpy as np
from bokeh.models import ColumnDataSource, Range1d
from bokeh.plotting import figure

from beamdesign.beam import Beam
from beamdesign.dose import dose_spectrum
from beamdesign.dosemap import beam_on_time
from beamdesign.materials import library_names, resolve_material
from beamdesign.schedule import Schedule
from beamdesign.stack import load_stack
from beamdesign.units import si

from .bokeh_sync import BatchedBokehModel

ENERGIES_KEV = np.geomspace(8.0, 80.0, 200)


def _box(
    controls: dict[str, Any],
    fig: figure,
    readout: w.HTML,
    data_fn: Callable[[], dict[str, Any]],
    update: Callable[[], None],
) -> w.VBox:
    model = BatchedBokehModel(fig)  # one-way, one patch per update

    def refresh(_: object = None) -> None:
        with model.batch():
            update()

    box = w.VBox([w.HBox(list(controls.values())), model, readout])
    box.controls, box.readout, box.figure, box.data = controls, readout, fig, data_fn
    for control in controls.values():
        control.observe(refresh, names="value")
    refresh()
    return box


# ----------------------------------------------------------------- Beer–Lambert
def beer_lambert_data(stack_name: str, energy_keV: float) -> dict[str, Any]:
    """Fraction of the beam left (I/I0) vs depth (µm) through a preset stack."""
    stack = load_stack(stack_name)
    spec = dose_spectrum(stack, Beam(energy_keV, 1e10, (100.0, 100.0)))
    depth, frac = [0.0], [1.0]
    for j, layer in enumerate(stack.layers):
        inc = float(spec.incident_fraction[j, 0])
        t = float(spec.layer_transmission[j, 0])
        # exponential inside each layer: I(z) = I_in exp(-mu z)
        z = np.linspace(0.0, layer.thickness_um, 12)[1:]
        depth += list(depth[-1] + z)
        frac += list(inc * t ** (z / layer.thickness_um))
    return {
        "depth_um": np.array(depth),
        "fraction": np.array(frac),
        "transmission": float(spec.transmission[0]),
    }


def beer_lambert_widget(stack_name: str = "pouch-nmc811-graphite") -> w.VBox:
    """I/I0 vs depth through a stack, with an energy slider."""
    controls = {
        "energy_keV": w.FloatSlider(
            value=27, min=8, max=80, step=1, description="energy (keV)", continuous_update=False
        )
    }
    src = ColumnDataSource({"depth_um": [], "fraction": []})
    fig = figure(
        width=520,
        height=280,
        x_axis_label="depth (µm)",
        y_axis_label="I / I0",
        y_range=Range1d(start=0, end=1.05),
        title=f"Beer–Lambert through {stack_name}",
    )
    fig.line("depth_um", "fraction", source=src, line_width=2)
    readout = w.HTML()

    def data() -> dict[str, Any]:
        return beer_lambert_data(stack_name, controls["energy_keV"].value)

    def update() -> None:
        d = data()
        src.data = {"depth_um": d["depth_um"], "fraction": d["fraction"]}
        readout.value = (
            f"At {controls['energy_keV'].value:g} keV the cell transmits "
            f"<b>{100 * d['transmission']:.3g} %</b> of the beam."
        )

    return _box(controls, fig, readout, data, update)


# ----------------------------------------------------------------- µ vs µ_en
def coefficient_data(material: str, energy_keV: float) -> dict[str, Any]:
    """Mass coefficients (cm²/g) of a material vs energy and their ratio at ``energy_keV``."""
    mat = resolve_material(material, "material")
    c = mat.coefficients(ENERGIES_KEV)
    at = mat.coefficients(np.array([float(energy_keV)]))
    return {
        "energy_keV": ENERGIES_KEV,
        "total": c["total"],
        "photo": c["photo"],
        "energy": c["energy"],
        "ratio_total_to_energy": float(at["total"][0] / at["energy"][0]),
    }


def coefficient_widget(material: str = "graphite") -> w.VBox:
    """µ/ρ (total), τ/ρ (photo) and µ_en/ρ of a material vs energy."""
    controls = {
        "material": w.Dropdown(options=library_names(), value=material, description="material"),
        "energy_keV": w.FloatSlider(
            value=27, min=8, max=80, step=1, description="energy (keV)", continuous_update=False
        ),
    }
    src = ColumnDataSource({"energy_keV": [], "total": [], "photo": [], "energy": []})
    fig = figure(
        width=520,
        height=300,
        x_axis_type="log",
        y_axis_type="log",
        x_axis_label="energy (keV)",
        y_axis_label="cm²/g",
        title="Mass coefficients",
    )
    fig.line(
        "energy_keV", "total", source=src, legend_label="µ/ρ (total attenuation)", line_width=2
    )
    fig.line(
        "energy_keV",
        "photo",
        source=src,
        legend_label="τ/ρ (photoabsorption)",
        color="green",
        line_dash="dashed",
        line_width=2,
    )
    fig.line(
        "energy_keV",
        "energy",
        source=src,
        legend_label="µen/ρ (energy absorption)",
        color="firebrick",
        line_width=2,
    )
    fig.legend.location = "top_right"
    readout = w.HTML()

    def data() -> dict[str, Any]:
        return coefficient_data(controls["material"].value, controls["energy_keV"].value)

    def update() -> None:
        d = data()
        src.data = {k: d[k] for k in ("energy_keV", "total", "photo", "energy")}
        readout.value = (
            f"{controls['material'].value} at {controls['energy_keV'].value:g} keV: "
            f"µ/ρ ÷ µen/ρ = <b>{d['ratio_total_to_energy']:.3g}</b> — the "
            "total-attenuation convention counts that many times more dose."
        )

    return _box(controls, fig, readout, data, update)


# ----------------------------------------------------------------- beam profile
def profile_data(fwhm_um: float, flux_ph_s: float = 1e11) -> dict[str, Any]:
    """Fluence rate (ph/s/µm²) across the beam centre for a top-hat and a Gaussian of the same
    size (full width = FWHM) and flux."""
    x = np.linspace(-1.5 * fwhm_um, 1.5 * fwhm_um, 301)
    out: dict[str, Any] = {"x_um": x}
    for profile in ("tophat", "gaussian"):
        beam = Beam(27.0, flux_ph_s, (fwhm_um, fwhm_um), profile)
        peak = flux_ph_s / (beam.peak_area_cm2 * 1e8)  # ph/s/µm²
        out[profile] = peak * beam.relative_fluence()(x, np.zeros_like(x))
    out["peak_ratio"] = float(out["gaussian"].max() / out["tophat"].max())
    return out


def profile_widget() -> w.VBox:
    """Top-hat vs Gaussian beam of the same size and flux: the Gaussian peak is 0.883×."""
    controls = {
        "fwhm_um": w.FloatSlider(
            value=200, min=20, max=1000, step=10, description="size (µm)", continuous_update=False
        )
    }
    src = ColumnDataSource({"x_um": [], "tophat": [], "gaussian": []})
    fig = figure(
        width=520,
        height=280,
        x_axis_label="x (µm)",
        y_axis_label="ph/s/µm²",
        title="Beam profile through the centre",
    )
    fig.line("x_um", "tophat", source=src, legend_label="top-hat", line_width=2)
    fig.line(
        "x_um",
        "gaussian",
        source=src,
        legend_label="Gaussian (FWHM)",
        color="firebrick",
        line_width=2,
    )
    readout = w.HTML()

    def data() -> dict[str, Any]:
        return profile_data(controls["fwhm_um"].value)

    def update() -> None:
        d = data()
        src.data = {k: d[k] for k in ("x_um", "tophat", "gaussian")}
        readout.value = (
            f"Gaussian peak / top-hat level = <b>{d['peak_ratio']:.3f}</b> "
            "(= 4 ln 2 / π, whatever the size)."
        )

    return _box(controls, fig, readout, data, update)


# ----------------------------------------------------------------- dose vs dose rate
def dose_rate_data(
    exposure_s: float,
    move_s: float,
    n_locations: int,
    dose_rate_Gy_per_s: float = 1000.0,
    duration_s: float = 36000.0,
) -> dict[str, Any]:
    """Cumulative dose (Gy) at the first of ``n_locations`` visited in turn: the same local dose
    rate, a different averaged one."""
    config = {
        "locations": [
            {"name": f"L{i}", "x_um": 1000.0 * i, "y_um": 0.0} for i in range(n_locations)
        ],
        "exposure_s": exposure_s,
        "move_s": move_s,
        "loop": "until-end",
    }
    schedule = Schedule.from_config(config)
    times = np.linspace(0.0, duration_s, 600)
    on = beam_on_time(schedule.exposures(duration_s), n_locations, times)[0]
    dose = dose_rate_Gy_per_s * on
    return {
        "time_h": times / 3600.0,
        "dose_Gy": dose,
        "final_Gy": float(dose[-1]),
        "local_rate_Gy_per_s": dose_rate_Gy_per_s,
        "averaged_rate_Gy_per_s": float(dose[-1] / duration_s),
    }


def dose_rate_widget() -> w.VBox:
    """Dose vs dose rate: spreading exposure over several locations lowers the averaged rate."""
    controls = {
        "exposure_s": w.FloatText(value=10, description="exposure (s)"),
        "move_s": w.FloatText(value=2, description="move (s)"),
        "n_locations": w.IntSlider(
            value=1, min=1, max=20, description="locations", continuous_update=False
        ),
    }
    src = ColumnDataSource({"time_h": [], "dose_Gy": []})
    fig = figure(
        width=520,
        height=280,
        x_axis_label="time (h)",
        y_axis_label="dose (Gy)",
        title="Dose at location L0 (local rate 1 kGy/s)",
    )
    fig.line("time_h", "dose_Gy", source=src, line_width=2)
    readout = w.HTML()

    def data() -> dict[str, Any]:
        return dose_rate_data(
            controls["exposure_s"].value, controls["move_s"].value, controls["n_locations"].value
        )

    def update() -> None:
        try:
            d = data()
        except ValueError as error:  # InputError is a ValueError: shown, never raised
            readout.value = f"<span style='color:#b00020'>⚠ {error}</span>"
            return
        src.data = {"time_h": d["time_h"], "dose_Gy": d["dose_Gy"]}
        readout.value = (
            f"Final dose {si(d['final_Gy'], 'Gy')}; local rate "
            f"{si(d['local_rate_Gy_per_s'], 'Gy/s')}, averaged rate "
            f"<b>{si(d['averaged_rate_Gy_per_s'], 'Gy/s')}</b>."
        )

    return _box(controls, fig, readout, data, update)
