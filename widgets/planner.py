"""The beamtime planner: a side panel of ipywidgets controls beside live bokeh figures.

The planner is split into one concept per module: ``layout`` builds the widgets and the side
panel, ``adapter`` turns control values into a plan config and back (with the small parsers and
the tooltip and field-to-panel tables), ``messages`` words the errors, and ``state`` holds the
plan being edited (undo, save, the one observer that re-runs and updates the figures). This
module is the entry point notebooks import.

>>> planner = Planner()  # the default plan
>>> planner.controls["energy_keV"].value = 35  # re-runs the model
>>> planner.result.plan.beam.energy_keV
35.0
"""

from __future__ import annotations

from . import setup_notebook
from .adapter import LAYER_TOOLTIPS, TOOLTIPS
from .figures import summary_html, verdict_table
from .layout import BUSY_HTML, FIGURE_TABS, LiveBokehModel
from .messages import format_number, human_message
from .state import Planner

__all__ = [
    "BUSY_HTML",
    "FIGURE_TABS",
    "LAYER_TOOLTIPS",
    "TOOLTIPS",
    "LiveBokehModel",
    "Planner",
    "format_number",
    "human_message",
    "setup_notebook",
    "summary_html",
    "verdict_table",
]
