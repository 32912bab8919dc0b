"""The technique atlas (``beamdesign.atlas``: Table 1 of Chen, Leung & Huang 2024) as a sortable
bokeh table, shared by notebook 06 and the planner's Atlas tab (:class:`AtlasPanel`). Click a
header to sort."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as w
from bokeh.models import ColumnDataSource
from bokeh.models.widgets.tables import DataTable, NumberFormatter, TableColumn

from beamdesign.atlas import DOI, SOURCE, TYPICAL_STEM, techniques, typical_dose
from beamdesign.materials import Material

from .layout import html_panel

__all__ = ["COLUMNS", "AtlasPanel", "atlas_data", "atlas_table"]

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


def _numeric(field: str) -> bool:
    """A column of numbers (its SI unit ends its name), as opposed to the review's text."""
    return field.endswith(("_m", "_s", "_g", "_Gy"))


def atlas_data(material: Material) -> dict[str, list[Any]]:
    """The atlas's columns; ``typical_dose_Gy`` of one measurement in ``material`` where
    beamdesign computes it (NaN elsewhere: not guessed)."""
    rows = techniques()
    data: dict[str, list[Any]] = {
        field: [value if (value := getattr(t, field)) is not None else float("nan") for t in rows]
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
        if _numeric(field)
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


class AtlasPanel:
    """The planner's Atlas tab: the atlas as an HTML table sorted by the chosen column (no bokeh
    table bundle to load), with the typical doses in the probed material; made when the tab is
    first shown, refreshed when shown after the material changed."""

    def __init__(self, material: Callable[[], Material | None]) -> None:
        self._material = material
        self._data: dict[str, list[Any]] | None = None
        self._shown_for: str | None = None
        self.sort = w.Dropdown(
            options=[(title, field) for field, title in COLUMNS.items()],
            value="technique",
            description="sort by",
            layout=w.Layout(width="330px"),
        )
        self.descending = w.ToggleButton(value=False, description="descending", icon="sort")
        self.sort.add_class("bd-atlas-sort")
        self.table = html_panel("bd-atlas-table")
        self.note = html_panel("bd-atlas-note")
        for control in (self.sort, self.descending):
            control.observe(lambda _: self._show(), names="value")
        self.widget = w.VBox(
            [self.note, w.HBox([self.sort, self.descending]), self.table],
            layout=w.Layout(overflow="auto"),
        )
        self.widget.add_class("bd-atlas")

    def ensure_plot(self) -> dict[str, list[Any]] | None:
        """The atlas's columns, made or brought up to date for the current probed material."""
        material = self._material()
        if material is None:
            self.note.value = "<i>Fix the inputs marked ⚠ first: the plan is not valid.</i>"
            return self._data
        if self._data is None or material.name != self._shown_for:
            self._data, self._shown_for = atlas_data(material), material.name
            self.note.value = (
                f"<small>Characterization techniques side by side: {html.escape(SOURCE)} "
                f"(doi:{DOI}, CC BY 4.0), numeric bounds in SI read off its text. "
                "<i>One measurement</i> is computed only where beamdesign can: "
                f"{html.escape(TYPICAL_STEM['description'])}, in {html.escape(material.name)} "
                "(the probed material); the review gives no beam settings for its X-ray rows "
                "(plan those here).</small>"
            )
            self._show()
        return self._data

    def _show(self) -> None:
        if self._data is None:
            return
        data, key = self._data, self.sort.value
        numeric = _numeric(key)

        def order(i: int) -> tuple[bool, Any]:
            value = data[key][i]
            missing = numeric and value != value  # NaN: not given, always last
            return (missing, (-value if self.descending.value else value) if numeric else value)

        rows = sorted(range(len(data["technique"])), key=order)
        if not numeric and self.descending.value:
            rows.reverse()
        head = "".join(f"<th>{html.escape(title)}</th>" for title in COLUMNS.values())
        body = "".join(
            "<tr>"
            + "".join(f"<td>{html.escape(_cell(data[field][i]))}</td>" for field in COLUMNS)
            + "</tr>"
            for i in rows
        )
        self.table.value = (
            "<table class='bd-atlas-rows' "
            "style='border-collapse:collapse;font-size:12px;line-height:1.3'>"
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        )


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "—" if value != value else f"{value:.1e}"
    return str(value)
