"""Keep the notebooks small, stable documents; build the classroom copies from one source.

    python tools/notebooks.py normalise [--check] [FILES]   strip execution noise (default: all)
    python tools/notebooks.py classroom [--check]           student + teacher copies of 04
    python tools/notebooks.py execute [FILES]               re-run in place, then normalise

``make notebooks`` runs ``classroom`` and ``execute`` on every notebook; ``--check`` (used by the
tests) changes nothing and exits 1 when a file would change.

Normalising keeps what a reader needs (source, small text/HTML/image outputs) and drops what
changes on every run or cannot be shown without a kernel: timestamps, widget
state and widget views (they open as a raw ``VBox(children=…)`` text), BokehJS loaders (1–4 MB
each), stderr, papermill metadata. ``# NBVAL_CHECK_OUTPUT`` / ``# NBVAL_IGNORE_OUTPUT`` first
lines become the equivalent cell tags, which nbval reads and readers never see. Execution
counts are renumbered 1, 2, 3… over the code cells (nbval refuses stored outputs without a
count; fixed numbers never drift).

Classroom source (``classroom/04_classroom_exercises.source.ipynb``): a code cell may hold

    ### STUDENT: energy_keV, exposure_s = ..., ...   # replace ... by your answer
    ### BEGIN SOLUTION
    energy_keV, exposure_s = 60, 0.05
    ### END SOLUTION
    _ = check_exercise_1(energy_keV, exposure_s)

The student copy keeps the ``### STUDENT:`` text in place of the solution (and no outputs of
such cells); the teacher copy keeps the solution. Cells tagged ``teacher-only`` exist only in
the teacher copy.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CLASSROOM_SOURCE = ROOT / "classroom" / "04_classroom_exercises.source.ipynb"
STUDENT = NOTEBOOKS / "04_classroom_exercises.ipynb"
TEACHER = NOTEBOOKS / "teacher" / "04_classroom_exercises_teacher.ipynb"
#: notebooks that are templates run by the report (executed by papermill, never in place)
TEMPLATES = {"report_template.ipynb"}
MAX_BYTES = 1_000_000
_DROPPED_MIME = {
    "application/javascript",
    "application/vnd.bokehjs_load.v0+json",
    "application/vnd.bokehjs_exec.v0+json",
    "application/vnd.jupyter.widget-view+json",
    "application/vnd.jupyter.widget-state+json",
}
_COMMENT_TAGS = {
    "# NBVAL_CHECK_OUTPUT": "nbval-check-output",
    "# NBVAL_IGNORE_OUTPUT": "nbval-ignore-output",
}
_CELL_KEYS_KEPT = {"tags", "jupyter", "editable", "deletable"}


def all_notebooks() -> list[Path]:
    """The documents (not the report template, which the report helper owns and papermill runs)."""
    return sorted(
        p
        for p in NOTEBOOKS.rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts and p.name not in TEMPLATES
    )


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _keep_output(output: dict) -> dict | None:
    kind = output.get("output_type")
    if kind == "stream":
        return (
            None
            if output.get("name") == "stderr"
            else {"name": output["name"], "output_type": "stream", "text": output.get("text", "")}
        )
    if kind in ("display_data", "execute_result"):
        data = {k: v for k, v in output.get("data", {}).items() if k not in _DROPPED_MIME}
        if not data or set(output.get("data", {})) & {
            "application/vnd.jupyter.widget-view+json",
            "application/vnd.bokehjs_exec.v0+json",
        }:
            # a widget view without its state is a raw VBox(children=…) text; a bokeh plot
            # needs the BokehJS that is not stored (and its ids change on every run)
            return None
        html = "".join(data.get("text/html", ""))
        if "Bokeh" in html and ("BokehJS" in html or "bk-notebook-logo" in html):
            return None  # a BokehJS loader's banner
        return {"data": data, "metadata": {}, "output_type": "display_data"}
    if kind == "error":
        return {k: output[k] for k in ("ename", "evalue", "output_type", "traceback")}
    return None


def normalise(nb: dict) -> dict:
    """The notebook without execution noise (see the module docstring). Idempotent."""
    nb = copy.deepcopy(nb)
    nb["metadata"] = {
        k: v for k, v in nb.get("metadata", {}).items() if k in ("kernelspec", "language_info")
    }
    nb["metadata"]["kernelspec"] = {
        "display_name": "Python 3",
        "language": "python",
        "name": "python3",
    }
    if "language_info" in nb["metadata"]:
        nb["metadata"]["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    count = 0
    for cell in nb["cells"]:
        cell.pop("id", None)
        meta = {k: v for k, v in cell.get("metadata", {}).items() if k in _CELL_KEYS_KEPT}
        text = _source(cell)
        first, _, rest = text.partition("\n")
        if cell["cell_type"] == "code" and first.strip() in _COMMENT_TAGS:
            tags = meta.setdefault("tags", [])
            tag = _COMMENT_TAGS[first.strip()]
            if tag not in tags:
                tags.append(tag)
            text = rest
        cell["metadata"] = meta
        cell["source"] = _lines(text.rstrip("\n"))
        if cell["cell_type"] == "code":
            count += 1
            cell["execution_count"] = count
            cell["outputs"] = [o for o in map(_keep_output, cell.get("outputs", [])) if o]
        else:
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
    nb["nbformat"], nb["nbformat_minor"] = 4, 4
    return nb


def dumps(nb: dict) -> str:
    return json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def _write_if_changed(path: Path, text: str, check: bool) -> bool:
    """True when ``path`` would change."""
    old = path.read_text(encoding="utf-8") if path.exists() else None
    if old == text:
        return False
    if not check:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return True


# ---------------------------------------------------------------------------- classroom
def _split_solution(text: str, student: bool) -> tuple[str, bool]:
    out, in_solution, found = [], False, False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("### STUDENT:"):
            found = True
            if student:
                out.append(line[: line.index("###")] + stripped[len("### STUDENT:") :].strip())
        elif stripped == "### BEGIN SOLUTION":
            in_solution = found = True
        elif stripped == "### END SOLUTION":
            in_solution = False
        elif not (student and in_solution):
            out.append(line)
    return "\n".join(out), found


def classroom_copies(source: dict) -> tuple[dict, dict]:
    """(student, teacher) notebooks from the tagged source."""
    copies = []
    for student in (True, False):
        nb = copy.deepcopy(source)
        cells = []
        for cell in nb["cells"]:
            tags = cell.get("metadata", {}).get("tags", [])
            if student and "teacher-only" in tags:
                continue
            if cell["cell_type"] == "code":
                text, has_solution = _split_solution(_source(cell), student)
                cell["source"] = _lines(text)
                if has_solution and student:
                    cell["outputs"] = []  # the answer's output would give it away
                    tags = cell.setdefault("metadata", {}).setdefault("tags", [])
                    if "nbval-check-output" in tags:  # nothing stored to compare with
                        tags.remove("nbval-check-output")
                    tags.append("student")  # never stores outputs
            cells.append(cell)
        nb["cells"] = cells
        copies.append(normalise(nb))
    return copies[0], copies[1]


def build_classroom(check: bool) -> list[Path]:
    source = json.loads(CLASSROOM_SOURCE.read_text(encoding="utf-8"))
    student, teacher = classroom_copies(source)
    # keep the executed outputs of cells whose source did not change (`make notebooks`
    # re-executes; the generator alone never runs code)
    student, teacher = _carry_outputs(STUDENT, student), _carry_outputs(TEACHER, teacher)
    changed = []
    for path, nb in ((STUDENT, student), (TEACHER, teacher)):
        if _write_if_changed(path, dumps(nb), check):
            changed.append(path)
    return changed


def _carry_outputs(path: Path, nb: dict) -> dict:
    """Outputs of an existing executed copy for cells whose source is unchanged."""
    if not path.exists():
        return nb
    old = json.loads(path.read_text(encoding="utf-8"))
    by_source = {_source(c): c.get("outputs", []) for c in old["cells"] if c["cell_type"] == "code"}
    for cell in nb["cells"]:
        if (
            cell["cell_type"] == "code"
            and not cell.get("outputs")
            and _source(cell) in by_source
            and "student" not in cell["metadata"].get("tags", [])
        ):
            cell["outputs"] = by_source[_source(cell)]
    return nb


# ---------------------------------------------------------------------------- commands
def execute(paths: list[Path]) -> None:
    """Run each notebook in place from its own folder (BokehJS from the CDN: smaller and
    dropped by normalise anyway), then normalise it."""
    env = {**os.environ, "BOKEH_RESOURCES": "cdn"}
    for path in paths:
        if path.name in TEMPLATES:
            continue
        print(f"executing {path.relative_to(ROOT)}", flush=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "jupyter",
                "nbconvert",
                "--to",
                "notebook",
                "--execute",
                "--inplace",
                "--ExecutePreprocessor.timeout=900",
                path.name,
            ],
            cwd=path.parent,
            env=env,
            check=True,
        )
        _write_if_changed(path, dumps(normalise(json.loads(path.read_text("utf-8")))), False)
        if path == STUDENT:  # executed answers are never stored in the student copy
            student, _ = classroom_copies(json.loads(CLASSROOM_SOURCE.read_text("utf-8")))
            _write_if_changed(path, dumps(_carry_outputs(path, student)), False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["normalise", "classroom", "execute"])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument(
        "--check",
        action="store_true",
        help="change nothing; exit 1 if a file would change or is over 1 MB",
    )
    args = parser.parse_args(argv)
    paths = [p.resolve() for p in args.files] or all_notebooks()
    if args.command == "execute":
        execute(paths)
        return 0
    if args.command == "classroom":
        changed = build_classroom(args.check)
    else:
        changed = [
            p
            for p in paths
            if _write_if_changed(p, dumps(normalise(json.loads(p.read_text("utf-8")))), args.check)
        ]
    big = [p for p in paths if p.stat().st_size > MAX_BYTES]
    for p in changed:
        print(f"{'would change' if args.check else 'wrote'} {p.relative_to(ROOT)}")
    for p in big:
        print(f"{p.relative_to(ROOT)} is {p.stat().st_size / 1e6:.1f} MB (> 1 MB)")
    return 1 if args.check and (changed or big) else 0


if __name__ == "__main__":
    sys.exit(main())
