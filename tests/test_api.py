"""The public API: what ``import beamdesign as bd`` exports, its doctests, short reprs of every
public dataclass, read-only results, and the provenance block every result carries."""

from __future__ import annotations

import copy
import dataclasses
import doctest
import importlib
import inspect
import io
import json
import pickle
import pkgutil
from collections.abc import Iterator, Mapping
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import beamdesign
import beamdesign as bd
from beamdesign import advice, atlas, ebeam, profile, signal, transport, validate
from beamdesign.compare import compare
from beamdesign.design import design_plan
from beamdesign.dose import stack_dose
from beamdesign.experiment import run_plan
from beamdesign.materials import resolve_material
from beamdesign.plan import builtin_plan_text, load_plan, plan_from_config
from beamdesign.provenance import provenance
from beamdesign.report import BatchResult
from beamdesign.reprs import MAX_REPR_CHARS, compact_repr
from beamdesign.stack import load_stack
from beamdesign.sweep import sweep

#: The plan whose default reprs were 0.1 MB (1600 locations, 20 cycles of steps).
RASTER_40x40 = {
    "version": 1,
    "title": "40 x 40 Gaussian raster over 10 cycles of C/2, behind a 20 µm aluminium filter",
    "stack": "pouch-nmc811-graphite",
    "beam": {
        "energy_keV": 27,
        "flux_ph_s": 1e11,
        "spot_um": [60, 30],
        "profile": "gaussian",
        "attenuators": [{"material": "Al", "thickness_um": 20}, {"transmission": 0.5}],
    },
    "protocol": [{"repeat 10 times": ["Charge at C/2 until 100%", "Discharge at C/2 until 0%"]}],
    "schedule": {
        "raster": {"pattern": "snake", "nx": 40, "ny": 40, "step_um": 50},
        "exposure_s": 2,
        "move_s": 1,
        "loop": "until-end",
    },
    "probe": "NMC811 cathode",
}
DESIGN = {
    "technique": "xrd-transmission",
    "signal": {"reflection": "NMC811-003"},
    "limit": {"threshold": "jousseaume2023-safe"},
    "minimum": {"snr_per_scan": 100},
    "vary": {"beam.flux_ph_s": {"values": [1e8, 1e9]}},
}


# ------------------------------------------------------------------------------ exports
WORKFLOW = (
    "load_plan",
    "plan_from_config",
    "plan_text",
    "save_plan",
    "builtin_plan_names",
    "run_plan",
    "advise",
    "render_report",
    "design_plan",
    "sweep",
    "compare",
    "thresholds_from_config",
    "threshold_table",
)


@pytest.mark.parametrize("name", WORKFLOW)
def test_the_workflow_is_exported_with_a_docstring(name):
    assert name in bd.__all__
    function = getattr(bd, name)
    assert callable(function)
    assert inspect.getdoc(function), f"bd.{name} has no docstring"


def test_the_sweep_and_compare_modules_stay_importable_by_name():
    sweep_module = importlib.import_module("beamdesign.sweep")
    assert bd.sweep is sweep_module.sweep and bd.compare is compare
    assert importlib.import_module("beamdesign.compare").MAX_PLANS == 4


def test_every_exported_name_exists_and_is_listed_once():
    assert len(set(bd.__all__)) == len(bd.__all__)
    missing = [name for name in bd.__all__ if not hasattr(bd, name)]
    assert missing == []


def test_importing_the_package_loads_no_jupyter_module():
    import subprocess
    import sys

    code = (
        "import sys, beamdesign; bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('ipywidgets', 'bokeh', 'nbformat', 'nbconvert', 'papermill', 'IPython', 'jupyter_client')"
        "); print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------------------------ doctests
def _modules() -> list[str]:
    names = ["beamdesign"]
    for info in pkgutil.walk_packages(beamdesign.__path__, "beamdesign."):
        if not info.name.startswith("beamdesign.widgets"):
            names.append(info.name)
    return names


def _modules_with_examples() -> list[str]:
    out = []
    for name in _modules():
        spec = importlib.util.find_spec(name)
        if spec and spec.origin and ">>>" in Path(spec.origin).read_text("utf-8"):
            out.append(name)
    return out


@pytest.mark.parametrize("name", _modules_with_examples())
def test_docstring_examples_run(name, tmp_path, monkeypatch):
    """Every ``>>>`` example in the package runs and prints what it shows (ELLIPSIS allowed)."""
    monkeypatch.chdir(tmp_path)  # an example that writes a file writes it here
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    tests = [t for t in finder.find(module, name) if t.examples]
    assert tests, f"{name} holds '>>>' but no runnable example"
    out = io.StringIO()
    with redirect_stdout(out):
        for test in tests:
            runner.run(test, out=out.write)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, out.getvalue()
    assert result.attempted > 0


def test_the_package_docstring_walks_through_the_workflow():
    text = inspect.getdoc(bd) or ""
    for name in ("load_plan", "run_plan", "advise", "render_report", "design_plan", "sweep"):
        assert f"bd.{name}(" in text, name


# ------------------------------------------------------------------------------ reprs
@pytest.fixture(scope="module")
def raster():
    plan = plan_from_config(RASTER_40x40)
    return plan, run_plan(plan)


def _walk(obj: object, seen: set[int]) -> Iterator[object]:
    """Every dataclass instance reachable from ``obj`` (fields, sequences, mapping values)."""
    if id(obj) in seen or isinstance(obj, (str, bytes, int, float, np.ndarray, type)):
        return
    seen.add(id(obj))
    if dataclasses.is_dataclass(obj):
        yield obj
        children: list[object] = [getattr(obj, f.name) for f in dataclasses.fields(obj)]
    elif isinstance(obj, (list, tuple)):
        children = list(obj[:3]) + list(obj[-2:])  # the first and last of a long sequence
    elif isinstance(obj, Mapping):
        children = list(obj.values())[:5]
    else:
        return
    for child in children:
        yield from _walk(child, seen)


@pytest.fixture(scope="module")
def instances(raster):
    """One or more instances of every public dataclass, from the 40 × 40 raster plan."""
    plan, result = raster
    default = load_plan("default")  # for what a raster's size does not change: faster
    pcc = yaml.safe_load(builtin_plan_text("jousseaume2023-exp2-pcc"))
    nmc = resolve_material("NMC811", "material")
    roots: list[object] = [
        plan,
        result,
        result.hottest,
        result.dose_map(resolution_um=20.0),
        stack_dose(plan.stack, plan.beam),
        advice.advise(default),
        sweep(default.to_config(), {"schedule.exposure_s": [1, 2]}, workers=1, progress=False),
        compare(["default", {**default.to_config(), "title": "the same, once more"}]),
        design_plan(pcc, DESIGN, workers=1, progress=False),
        profile.load_profile(profile.profile_names()[0]),
        load_plan("example-xanes-ni-k"),
        signal.plan_signal(plan, "xrd-transmission", {"reflection": "NMC811-003"}),
        signal.plan_signal(plan, "xas-transmission", {"element": "Ni"}),
        signal.plan_signal(plan, "xas-fluorescence", {"element": "Ni"}),
        signal.reflection("NMC811-003"),
        transport.partition(nmc, 27.0),
        transport.secondary_transport(
            plan.stack, np.array([27.0]), np.full((len(plan.stack.layers), 1), 1e11), 1e-4
        ),
        ebeam.electron_dose(nmc, 300.0, ebeam.scanned_probe(19.0, 10.0, 0.088, frames=40)),
        ebeam.knock_on(nmc, 300.0),
        ebeam.electron_thresholds(),
        atlas.techniques(),
        validate.DOSE_GY,
        BatchResult(Path("index.html"), [("default", Path("default.html"), "safe")] * 50),
    ]
    seen: set[int] = set()
    return [obj for root in roots for obj in _walk(root, seen)]


def _public_dataclasses() -> set[type]:
    out = set()
    for name in _modules():
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if (
                isinstance(value, type)
                and dataclasses.is_dataclass(value)
                and value.__module__ == name
                and not attr.startswith("_")
            ):
                out.add(value)
    return out


def test_every_public_dataclass_has_an_instance_in_the_repr_check(instances):
    reached = {type(obj) for obj in instances}
    missing = sorted(c.__qualname__ for c in _public_dataclasses() - reached)
    assert missing == [], f"add an instance of {missing} to the `instances` fixture"


def test_reprs_stay_short_for_the_40x40_raster(instances):
    long = {
        f"{type(o).__module__}.{type(o).__qualname__}": len(repr(o))
        for o in instances
        if len(repr(o)) > MAX_REPR_CHARS
    }
    assert long == {}, "; ".join(f"{k}: {v}" for k, v in sorted(long.items()))


def test_plan_repr_names_the_plan(raster):
    plan, result = raster
    assert repr(plan) == (
        "Plan('40 x 40 Gaussian raster over 10 cycles …', stack='pouch-nmc811-graphite', "
        "27 keV, 1600 locations, 20 steps, 5 thresholds)"
    )
    assert repr(result) == (
        "ExperimentResult('40 x 40 Gaussian raster over 10 cycles …', "
        f"probe='NMC811 cathode/NMC811', 1600 locations, hottest {result.hottest.dose_Gy / 1e6:.3g}"
        " MGy (energy-absorption))"
    )


def test_a_long_title_keeps_the_reprs_short():
    plan = load_plan("default").replace(title="a long title " * 15)  # 195 characters
    assert len(repr(plan)) <= MAX_REPR_CHARS
    assert len(repr(run_plan(plan))) <= MAX_REPR_CHARS


def test_compact_repr_summarises_each_kind_of_field():
    @dataclasses.dataclass(frozen=True)
    class Example:
        name: str
        energy_keV: float
        counts: np.ndarray
        spot_um: tuple[float, float]
        rows: tuple[dict[str, float], ...]
        options: dict[str, object]
        hidden: str = dataclasses.field(default="x", repr=False)

        __repr__ = compact_repr

    example = Example(
        "a" * 100, 27.123456, np.zeros((40, 40)), (60.0, 30.0), ({"a": 1.0},) * 7, {"x": 1}
    )
    assert repr(example) == (
        f"Example(name='{'a' * 39}…', energy_keV=27.12, counts=array(shape=(40, 40)), "
        "spot_um=(60, 30), rows=<7 dict>, options={'x': 1})"
    )
    wide = Example("n", 1.0, np.zeros(1), (1.0,) * 2, (), {f"k{i}": "v" * 40 for i in range(3)})
    assert len(repr(wide)) == MAX_REPR_CHARS and repr(wide).endswith("…)")


@dataclasses.dataclass(frozen=True)
class _Anything:
    a: object
    b: object
    c: object

    __repr__ = compact_repr


_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=300),
    lambda inner: st.lists(inner, max_size=50) | st.dictionaries(st.text(max_size=20), inner),
    max_leaves=40,
)


@settings(max_examples=100, deadline=None)
@given(_values, _values, _values)
def test_compact_repr_is_never_longer_than_the_limit(a, b, c):
    text = repr(_Anything(a, b, c))
    assert text.startswith("_Anything(a=") and len(text) <= MAX_REPR_CHARS


# ------------------------------------------------------------------------------ immutability
def test_plan_config_is_read_only_and_never_drifts():
    plan = load_plan("default")
    before = plan.to_config()
    with pytest.raises(TypeError):
        plan.config["beam"]["energy_keV"] = 60  # type: ignore[index]
    with pytest.raises(TypeError):
        plan.config["title"] = "edited"  # type: ignore[index]
    with pytest.raises(AttributeError):
        plan.config["schedule"]["raster"]["step_um"].append(1)  # a tuple: no append
    copy = plan.to_config()
    copy["beam"]["energy_keV"] = 60  # an editable copy, detached from the plan
    copy["schedule"]["raster"]["step_um"].append(1)
    assert plan.to_config() == before
    assert plan.beam.energy_keV == 27


def test_plans_and_results_pickle_and_copy(raster):
    plan, result = raster
    again = pickle.loads(pickle.dumps(plan))
    assert again == plan and again.to_config() == plan.to_config()
    assert copy.deepcopy(plan) == plan
    back = pickle.loads(pickle.dumps(result))
    assert back.locations == result.locations and back.plan == plan
    np.testing.assert_array_equal(back.probe_dose_Gy, result.probe_dose_Gy)


def test_the_callers_mapping_does_not_reach_into_the_plan():
    config = yaml.safe_load(builtin_plan_text("default"))
    plan = plan_from_config(config)
    config["beam"]["spot_um"][0] = 1.0
    config["schedule"]["raster"]["nx"] = 1
    assert plan.config["beam"]["spot_um"] == (200, 200)
    assert plan.config["schedule"]["raster"]["nx"] == 5


def test_a_plans_own_config_builds_the_same_plan():
    plan = load_plan("default")
    again = plan_from_config(plan.config)  # type: ignore[arg-type]
    assert again == plan
    moved = plan.replace(beam={**plan.config["beam"], "energy_keV": 30})
    assert moved.beam.energy_keV == 30 and moved.beam.spot_um == plan.beam.spot_um
    assert json.loads(bd.plan_text(moved, "json"))["beam"]["spot_um"] == [200, 200]


def test_advice_plan_changes_are_plain_json():
    option = next(o for o in bd.advise(load_plan("default")).options if o.name == "flux")
    assert json.loads(json.dumps(option.plan_changes))["beam"]["spot_um"] == [200, 200]


def test_layer_config_is_read_only():
    stack = load_stack("pouch-nmc811-graphite")
    with pytest.raises(TypeError):
        stack.layers[0].config["thickness_um"] = 1  # type: ignore[index]
    assert stack.to_config()["layers"][0] == dict(stack.layers[0].config)
    stack.to_config()["layers"][0]["thickness_um"] = 1  # a copy
    assert stack.layers[0].config["thickness_um"] == stack.layers[0].thickness_um


def test_result_arrays_are_read_only(raster):
    _, result = raster
    arrays = {
        "probe_dose_Gy": result.probe_dose_Gy,
        "time_s": result.time_s,
        "soc": result.soc,
        "beam_on_s": result.beam_on_s,
        "timeline_index": result.timeline_index,
        "spectrum.peak_dose_rate_Gy_per_s": result.spectrum.peak_dose_rate_Gy_per_s,
        "spectrum.energies_keV": result.spectrum.energies_keV,
        "hotspots.fluence_s": result.hotspots.fluence_s,
        "hotspots.xy_um": result.hotspots.xy_um,
        "dose_map.values": result.dose_map(resolution_um=20.0).values,
        "exposures.start_s": result.exposures.start_s,
        "protocol.end_s": result.plan.protocol.end_s,
    }
    writable = [name for name, array in arrays.items() if array.flags.writeable]
    assert writable == []
    with pytest.raises(ValueError, match="read-only"):
        result.probe_dose_Gy[0, -1] = 0.0


def test_location_dose_tables_are_read_only(raster):
    _, result = raster
    loc = result.locations[0]
    with pytest.raises(TypeError):
        loc.dose_Gy[result.probe] = 0.0  # type: ignore[index]
    with pytest.raises(TypeError):
        loc.entrance_dose_Gy[result.probe] = 0.0  # type: ignore[index]
    assert json.loads(json.dumps(result.to_dict(timeline=False)["locations"][0]["dose_Gy"])) == (
        dict(loc.dose_Gy)
    )


def test_literature_rows_are_read_only():
    row = bd.threshold_table()[0]
    with pytest.raises(TypeError):
        row["high"] = "1e9"  # type: ignore[index]
    assert bd.threshold_table()[0]["high"] == "80e3"


def test_cached_material_coefficients_cannot_be_edited():
    material = bd.resolve_material("NMC811", "material")
    cached = material.coefficients(np.array([27.0]))
    with pytest.raises(TypeError):
        cached["total"] = np.zeros(1)  # type: ignore[index]
    with pytest.raises(ValueError, match="read-only"):
        cached["total"][0] = 0.0
    assert material.coefficients(np.array([27.0]))["total"][0] > 0


def test_a_callers_energy_array_stays_writable():
    energies = np.array([20.0, 30.0])
    spectrum = bd.dose_spectrum(
        load_stack("pouch-nmc811-graphite"), bd.Beam(27.0, 1e11, (100, 100)), energies
    )
    energies[0] = 25.0  # the caller's array is not frozen
    assert not spectrum.energies_keV.flags.writeable


# ------------------------------------------------------------------------------ provenance
def test_provenance_names_versions_inputs_and_convention():
    plan = load_plan("default")
    block = provenance(plan)
    assert block["versions"] == {
        "beamdesign": bd.__version__,
        "xraylib": importlib.import_module("xraylib").__version__,
        "numpy": np.__version__,
        "python": block["versions"]["python"],
    }
    assert block["plan"]["title"] == plan.title
    assert block["plan"]["config"] == plan.to_config()
    assert len(block["plan"]["config_sha256"]) == 64
    assert block["stack"]["name"] == "pouch-nmc811-graphite"
    assert [layer["name"] for layer in block["stack"]["layers"]] == [
        layer.name for layer in plan.stack.layers
    ]
    assert block["beam"]["energy_keV"] == 27.0 and block["beam"]["flux_ph_s"] == 1e11
    assert block["convention"]["name"] == "energy-absorption"
    assert block["convention"]["meaning"] == bd.CONVENTION_MEANING["energy-absorption"]
    assert block["probe"] == "NMC811 cathode/NMC811"
    assert [t["name"] for t in block["thresholds"]] == [t.name for t in plan.thresholds]


def test_provenance_is_reproducible_and_changes_with_the_plan():
    plan = load_plan("default")
    first = json.dumps(provenance(plan), sort_keys=True)
    assert json.dumps(provenance(load_plan("default")), sort_keys=True) == first
    other = provenance(plan.replace(beam={**plan.config["beam"], "energy_keV": 30}))
    assert other["plan"]["config_sha256"] != provenance(plan)["plan"]["config_sha256"]
    assert other["beam"]["energy_keV"] == 30.0


def test_run_json_carries_the_provenance(capsys):
    from beamdesign.cli import main

    assert main(["run", "default", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["provenance"] == json.loads(json.dumps(provenance(load_plan("default"))))
    assert run_plan(load_plan("default")).to_dict(timeline=False)["provenance"] == out["provenance"]
