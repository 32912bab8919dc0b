"""The notebooks as documents: small, stable, no test code in them; their interactive parts are
driven from here with testbook (the kernel runs the notebook, then these drivers set widget
values and check what the widgets show)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
DOCUMENTS = [
    "00_start_here.ipynb",
    "01_dose_basics.ipynb",
    "02_jousseaume2023.ipynb",
    "03_plan_my_beamtime.ipynb",
    "04_classroom_exercises.ipynb",
    "app.ipynb",
    "teacher/04_classroom_exercises_teacher.ipynb",
]


def _tools():
    spec = importlib.util.spec_from_file_location("nbtools", ROOT / "tools" / "notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _code(name: str) -> list[str]:
    nb = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


@pytest.mark.parametrize("name", DOCUMENTS)
def test_notebook_is_small_and_normalised(name):
    path = NOTEBOOKS / name
    assert path.stat().st_size < 1_000_000
    nb = json.loads(path.read_text(encoding="utf-8"))
    tools = _tools()
    assert tools.dumps(tools.normalise(nb)) == path.read_text(encoding="utf-8"), (
        f"{name} is not normalised: run `python tools/notebooks.py normalise`"
    )
    text = path.read_text(encoding="utf-8")
    for noise in (
        "bokehjs_load",
        "widget-view+json",
        "widget-state+json",
        "iopub.status",
        "papermill",
    ):
        assert noise not in text
    counts = [c["execution_count"] for c in nb["cells"] if c["cell_type"] == "code"]
    assert counts == list(range(1, len(counts) + 1))  # renumbered: no drift between runs


@pytest.mark.parametrize("name", DOCUMENTS)
def test_no_test_code_in_the_documents(name):
    for source in _code(name):
        assert "assert " not in source and "NBVAL" not in source, source
        assert "planner._" not in source  # no private state poked at in a tutorial


def test_classroom_copies_are_generated_from_the_source():
    tools = _tools()
    source = json.loads(tools.CLASSROOM_SOURCE.read_text(encoding="utf-8"))
    student, teacher = tools.classroom_copies(source)
    student_code = "\n".join("".join(c["source"]) for c in student["cells"])
    teacher_code = "\n".join("".join(c["source"]) for c in teacher["cells"])
    assert "SOLUTION" not in student_code + teacher_code and "### STUDENT" not in teacher_code
    assert "0.04" not in student_code and "energy_keV, exposure_s = 60, 0.04" in teacher_code
    assert student_code.count("= ...") + student_code.count(", ...") >= 4  # a student cell each
    assert tools.build_classroom(check=True) == [], "run `python tools/notebooks.py classroom`"
    stored = json.loads((NOTEBOOKS / "04_classroom_exercises.ipynb").read_text(encoding="utf-8"))
    answers = [c for c in stored["cells"] if "student" in c["metadata"].get("tags", [])]
    assert len(answers) == 4 and all(not c["outputs"] for c in answers)


# ---------------------------------------------------------------------- testbook drivers
testbook = pytest.importorskip("testbook").testbook


@pytest.fixture(autouse=True)
def _inline_bokeh(monkeypatch):
    monkeypatch.setenv("BOKEH_RESOURCES", "inline")
    monkeypatch.chdir(NOTEBOOKS)  # never from the repo root (widgets/ would shadow the package)


def test_dose_basics_widgets_respond():
    with testbook(str(NOTEBOOKS / "01_dose_basics.ipynb"), execute=True, timeout=600) as tb:
        tb.inject("""
beer.controls["energy_keV"].value = 15
assert "17.6 %" in beer.readout.value, beer.readout.value
coef.controls["material"].value = "LP57"
assert "1.98" in coef.readout.value
prof.controls["fwhm_um"].value = 500
assert "0.883" in prof.readout.value
rate.controls["n_locations"].value = 5
assert "167 Gy/s" in rate.readout.value, rate.readout.value
rate.controls["exposure_s"].value = -1
assert "⚠" in rate.readout.value
curve = energy_data(plan)["energy_curve"]
assert np.interp(60, curve["energy"], curve["rate"]) < np.interp(27, curve["energy"], curve["rate"])
""")


def test_paper_notebook_checks():
    with testbook(str(NOTEBOOKS / "02_jousseaume2023.ipynb"), execute=True, timeout=900) as tb:
        tb.inject("""
i3 = names.index("#3")
# the exact dose agrees with the stored timeline (1001 points: linear interpolation, 1 %)
stored_Gy = np.interp(3 * 3600, pcc.time_s, pcc.probe_dose_Gy[i3])
assert abs(dose_at(pcc, "#3", 3 * 3600) / stored_Gy - 1) < 0.01
""")


def test_planner_notebook_responds():
    with testbook(str(NOTEBOOKS / "03_plan_my_beamtime.ipynb"), execute=True, timeout=600) as tb:
        tb.inject("""
c = planner.controls
c["energy_keV"].value = 35
assert planner.result.plan.beam.energy_keV == 35 and not planner.stale
d35 = planner.result.worst().dose_Gy[planner.result.probe]
c["exposure_s"].value = 5
assert planner.result.worst().dose_Gy[planner.result.probe] < d35
c["flux_ph_s"].value = -1e12
assert planner.stale and "−1 × 10¹² ph/s" in planner.message("beam.flux_ph_s")
c["flux_ph_s"].value = 1e11
assert not planner.stale and planner.errors == {}
""")


def test_student_copy_gives_feedback():
    with testbook(str(NOTEBOOKS / "04_classroom_exercises.ipynb"), execute=True, timeout=600) as tb:
        first = next(
            i for i, c in enumerate(tb.cells) if "energy_keV, exposure_s = ..." in c.source
        )
        assert "replace every ... by your answer" in tb.cell_output_text(first)
        tb.inject("assert check_exercise_1(60, 0.04) and check_exercise_3(3.8)")
        assert "✓" in tb.inject("_ = check_exercise_4(8e10 / 0.8825)").outputs[0]["text"]


def test_teacher_copy_passes_every_check():
    path = NOTEBOOKS / "teacher" / "04_classroom_exercises_teacher.ipynb"
    with testbook(str(path), execute=True, timeout=600) as tb:
        text = "".join(
            tb.cell_output_text(i) for i, c in enumerate(tb.cells) if c.cell_type == "code"
        )
        assert text.count("✓") == 4 and text.count("✗") == 1  # the default plan's ✗ only
