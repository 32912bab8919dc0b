"""One planner update reaches the browser as one bokeh patch (3 comm messages) whose inline
arrays decode to the data the kernel holds; the figures are one-way (the browser sends nothing
back)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from bokeh.core.json_encoder import serialize_json
from bokeh.document import Document
from bokeh.models import ColumnDataSource, Range1d
from bokeh.plotting import figure

from beamdesign.plan import load_plan
from beamdesign.widgets.bokeh_sync import BatchedBokehModel
from beamdesign.widgets.planner import Planner


def _capture(model: Any) -> list[tuple[dict[str, Any], list[Any]]]:
    sent: list[tuple[dict[str, Any], list[Any]]] = []
    model.send = lambda content, buffers=None: sent.append((content, buffers or []))
    return sent


def _figure() -> tuple[Any, ColumnDataSource, ColumnDataSource]:
    fig = figure(width=200, height=200, x_range=Range1d(0, 1))
    a = ColumnDataSource({"x": np.arange(5.0), "y": np.zeros(5)}, name="a")
    b = ColumnDataSource({"xs": [np.arange(3.0), np.arange(4.0)]}, name="b")
    fig.line("x", "y", source=a)
    fig.multi_line("xs", "xs", source=b)
    return fig, a, b


def test_a_batch_is_one_patch_of_three_messages_without_buffers():
    fig, a, b = _figure()
    model = BatchedBokehModel(fig)
    sent = _capture(model)
    with model.batch():
        a.data = {"x": np.arange(5.0), "y": np.linspace(1.0, 2.0, 5)}
        b.data = {"xs": [np.arange(3.0) * 2, np.arange(4.0) * 3]}
        fig.title.text = "new"
    assert len(sent) == 3 and all(not buffers for _, buffers in sent)
    events = json.loads(sent[2][0]["payload"])["events"]
    assert [e["kind"] for e in events] == ["ColumnDataChanged", "ColumnDataChanged", "ModelChanged"]


def test_the_inline_patch_decodes_to_the_kernel_data():
    fig, a, b = _figure()
    model = BatchedBokehModel(fig)
    browser = Document.from_json(json.loads(serialize_json(fig.document.to_json(deferred=False))))
    sent = _capture(model)
    y = np.linspace(-1.0, 3.5, 5)
    with model.batch():
        a.data = {"x": np.arange(5.0), "y": y}
        b.data = {"xs": [np.arange(3.0) * 2, np.arange(4.0) * 3]}
    browser.apply_json_patch(json.loads(sent[2][0]["payload"]))
    copy_a = browser.get_model_by_id(a.id)
    copy_b = browser.get_model_by_id(b.id)
    np.testing.assert_array_equal(copy_a.data["y"], y)
    np.testing.assert_array_equal(copy_b.data["xs"][1], np.arange(4.0) * 3)


def test_outside_a_batch_each_event_is_its_own_patch():
    fig, a, _ = _figure()
    model = BatchedBokehModel(fig)
    sent = _capture(model)
    a.data = {"x": np.arange(5.0), "y": np.ones(5)}
    fig.title.text = "again"
    assert len(sent) == 6


def test_the_figure_is_one_way_so_the_browser_sends_nothing_back():
    fig, a, b = _figure()
    model = BatchedBokehModel(fig)
    assert model._model is fig
    parts = fig.references()
    assert {a, b, fig, fig.x_range, a.selected} <= parts  # data, ranges, hover selections
    assert not any(part.syncable for part in parts)
    bundle = serialize_json(model.render_bundle["docs_json"])  # what BokehJS is given
    assert bundle.count('"syncable":false') == len(parts)


def test_a_planner_change_sends_the_visible_figure_as_three_messages():
    planner = Planner(load_plan("default"))
    sent = {key: _capture(model) for key, model in planner.models.items()}
    planner.controls["energy_keV"].value = 31.0
    assert len(sent["dose_time"]) == 3
    assert all(not buffers for _, buffers in sent["dose_time"])
    assert not any(sent[key] for key in sent if key != "dose_time")  # others wait for their tab


def test_an_energy_change_sends_only_the_columns_that_changed():
    planner = Planner(load_plan("default"))
    sent = _capture(planner.models["dose_time"])
    planner.controls["energy_keV"].value = 31.0
    events = json.loads(sent[2][0]["payload"])["events"]
    lines = planner._sources["dose_time"]["dose_lines"].id
    [event] = [e for e in events if e["kind"] == "ColumnDataChanged" and e["model"]["id"] == lines]
    assert set(event["cols"]) == {"ys", "final"}  # not the time axis, names or colours
    assert not any(
        e["model"]["id"] == planner._sources["dose_time"]["soc"].id for e in events
    )  # the SOC curve does not depend on the energy: nothing sent
