"""Scenario comparison: two to four plans side by side (probe dose at the worst location, local
and averaged dose rates, verdict, and the SNR per scan when a design section gives a technique).

Each column is an ordinary plan run (``sweep.evaluate``), so it equals the plan's single run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from beamdesign.errors import InputError
from beamdesign.reprs import compact_repr
from beamdesign.sweep import Quality, evaluate, load_plan_config, runnable
from beamdesign.units import si

MIN_PLANS, MAX_PLANS = 2, 4


@dataclass(frozen=True)
class Scenario:
    """One compared plan and what its run gave (``row`` as ``sweep.evaluate`` reports it)."""

    label: str
    title: str
    energy_keV: float
    flux_ph_s: float
    spot_um: tuple[float, float]
    row: dict[str, Any]

    __repr__ = compact_repr


@dataclass(frozen=True)
class Comparison:
    scenarios: tuple[Scenario, ...]

    __repr__ = compact_repr

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenarios": [
                {
                    "label": s.label,
                    "title": s.title,
                    "energy_keV": s.energy_keV,
                    "flux_ph_s": s.flux_ph_s,
                    "spot_um": list(s.spot_um),
                    **s.row,
                }
                for s in self.scenarios
            ]
        }

    def rows(self) -> list[tuple[str, list[str]]]:
        """The comparison as (quantity, one text per plan) rows; the first row labels the
        plans, the last holds the verdicts (the text table and the report's table)."""

        def fmt(row: dict[str, Any], key: str, unit: str) -> str:
            return si(row[key], unit) if row.get(key) is not None else "—"

        lines = [
            ("", [s.label for s in self.scenarios]),
            ("energy", [f"{s.energy_keV:g} keV" for s in self.scenarios]),
            ("flux", [f"{s.flux_ph_s:.3g} ph/s" for s in self.scenarios]),
            ("spot", [f"{s.spot_um[0]:g} x {s.spot_um[1]:g} µm" for s in self.scenarios]),
            ("probe", [s.row["probe"].split("/")[-1] for s in self.scenarios]),
            ("worst location", [s.row["worst_location"] for s in self.scenarios]),
            (
                "probe dose (worst)",
                [
                    fmt(s.row, "worst_probe_dose_Gy", "Gy") + f" ({s.row['convention']})"
                    for s in self.scenarios
                ],
            ),
            (
                "local dose rate",
                [fmt(s.row, "local_dose_rate_Gy_per_s", "Gy/s") for s in self.scenarios],
            ),
            (
                "averaged dose rate",
                [fmt(s.row, "averaged_dose_rate_Gy_per_s", "Gy/s") for s in self.scenarios],
            ),
        ]
        if any("snr_per_scan" in s.row for s in self.scenarios):
            lines += [
                (
                    "limit-metric dose",
                    [
                        fmt(s.row, "dose_Gy", "Gy")
                        + (f" ({s.row['dose_convention']})" if s.row.get("dose_convention") else "")
                        for s in self.scenarios
                    ],
                ),
                (
                    "SNR per scan",
                    [
                        f"{s.row['snr_per_scan']:.3g}" if "snr_per_scan" in s.row else "—"
                        for s in self.scenarios
                    ],
                ),
                (
                    "SOC step between scans",
                    [
                        f"{s.row['time_resolution_soc_pct']:.3g} %"
                        if "snr_per_scan" in s.row
                        else "—"
                        for s in self.scenarios
                    ],
                ),
            ]
        lines.append(("verdict", [s.row["verdict"] for s in self.scenarios]))
        return lines

    def table(self) -> str:
        """A plain-text table, one column per plan."""
        lines = self.rows()
        width = max(len(name) for name, _ in lines) + 2
        column = max(22, *(len(v) + 2 for _, values in lines[:-1] for v in values))
        text = [
            f"{name:<{width}}" + "".join(f"{v:<{column}}" for v in values)
            for name, values in lines[:-1]
        ]
        text.append("verdicts:")
        text += [f"  {s.label}: {s.row['verdict']}" for s in self.scenarios]
        return "\n".join(text)


def compare(
    plans: list[str | Path | dict[str, Any]],
    quality: Quality | None = None,
    labels: list[str] | None = None,
) -> Comparison:
    """Run two to four plans and line them up.

    Parameters
    ----------
    plans : built-in plan names, plan files or plan mappings
    quality : signal model for every plan; None: each plan's own ``design`` section, if any
    labels : column names (default: the names given, or "A", "B", ...)
    """
    from beamdesign.design import parse_design

    if not MIN_PLANS <= len(plans) <= MAX_PLANS:
        raise InputError("PLAN", len(plans), f"compare takes {MIN_PLANS} to {MAX_PLANS} plans")
    if labels is not None and len(labels) != len(plans):
        raise InputError("labels", labels, f"one label per plan ({len(plans)})")
    scenarios = []
    for i, spec in enumerate(plans):
        config, section = load_plan_config(spec)
        if config.get("probe_type") == "electron":  # its table is in photons: flux, spot, SNR
            raise InputError(
                f"PLAN[{i}]",
                str(spec) if not isinstance(spec, dict) else "a mapping",
                "compare lines up X-ray plans; run an electron session (probe_type: electron) "
                "with beamdesign run",
            )
        own = quality
        if own is None and section is not None:
            own = parse_design(section, config).quality
        label = (
            labels[i]
            if labels
            else (str(spec) if not isinstance(spec, dict) else chr(ord("A") + i))
        )
        beam = runnable(config)["beam"]  # the flux a beamline profile sets
        spot = beam["spot_um"] if isinstance(beam["spot_um"], list) else [beam["spot_um"]] * 2
        row = evaluate(config, own)
        scenarios.append(
            Scenario(
                label,
                str(config.get("title", "untitled plan")),
                float(beam["energy_keV"]),
                float(beam["flux_ph_s"]),
                (float(spot[0]), float(spot[1])),
                row,
            )
        )
    return Comparison(tuple(scenarios))
