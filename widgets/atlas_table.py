"""The technique atlas (``beamdesign.atlas``: Table 1 of Chen, Leung & Huang 2024) as a sortable
bokeh table, shared by notebook 06 and the planner's Atlas tab. Click a header to sort."""

from __future__ import annotations

from typing import Any

from bokeh.models import ColumnDataSource
from bokeh.models.widgets.tables import DataTable, NumberFormatter, TableColumn

from beamdesign.atlas import SOURCE, techniques, typical_dose
from beamdesign.materials import Material

__all__ = ["COLUMNS", "atlas_data", "atlas_table"]

#: field -> column title (numeric bounds in SI units, as read off the review's text)
COLUMNS = {
    "technique": "technique",
    "probe": "probe",
    "spatial_resolution_best_m": "best spatial resolution (m)",
    "time_resolution_best_s": "best time resolution (s)",
    "sample_mass_min_g": "least sample (g)",
    "penetration_depth_max_m": "deepest probing (m)",
    "information": "what it measures",
    "typical_dose_Gy": "one measurement (Gy)",
}


def atlas_data(material: Material) -> dict[str, list[Any]]:
    """The atlas's columns; ``typical_dose_Gy`` of one measurement in ``material`` where
    beamdesign computes it (NaN elsewhere: not guessed)."""
    rows = techniques()
    data: dict[str, list[Any]] = {
        field: [
            value if (value := getattr(t, field)) is not None else float("nan") for t in rows
        ]
        for field in COLUMNS
        if field != "typical_dose_Gy"
    }
    doses = [typical_dose(t.technique, material) for t in rows]
    data["typical_dose_Gy"] = [float("nan") if d is None else d.dose_Gy for d in doses]
    return data


def atlas_table(material: Material, width: int = 980, height: int = 280) -> DataTable:
    """A sortable table of every technique (its source named in the table's ``name``)."""
    number = NumberFormatter(format="0.0e+0", nan_format="—")
    columns = [
        TableColumn(field=field, title=title, formatter=number)
        if field.endswith(("_m", "_s", "_g", "_Gy"))
        else TableColumn(field=field, title=title)
        for field, title in COLUMNS.items()
    ]
    return DataTable(
        source=ColumnDataSource(atlas_data(material), name="atlas"),
        columns=columns,
        width=width,
        height=height,
        sortable=True,
        index_position=None,
        name=f"atlas: {SOURCE}",
    )
