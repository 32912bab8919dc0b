"""HTML reports (papermill + nbconvert): numbers equal the engine's, injection-safe, batch mode.

Reports start a kernel (~8 s each), so the built-in plans are rendered once, two at a time in
worker processes, by a module-scoped fixture; the batch test uses two small plans.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from html.parser import HTMLParser
from multiprocessing import get_context
from pathlib import Path

import pytest
import yaml

pytest.importorskip("papermill")
pytest.importorskip("nbconvert")

from beamdesign import __version__  # noqa: E402
from beamdesign.cli import main  # noqa: E402
from beamdesign.errors import InputError  # noqa: E402
from beamdesign.experiment import run_plan  # noqa: E402
from beamdesign.plan import builtin_plan_names, builtin_plan_text, load_plan  # noqa: E402
from beamdesign.report import render_report, template_path  # noqa: E402
from beamdesign.units import si  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BUILTIN = builtin_plan_names()
#: the report and this test run the same code on the same inputs and JSON round-trips floats
#: exactly; the tolerance only absorbs a different summation order (e.g. another BLAS thread count)
REL = 1e-12


class _Collector(HTMLParser):
    """Collects the bd-result JSON, bokeh's JSON docs, table rows with data-* and the title."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[tuple[dict, str]] = []
        self.tables: dict[str, list[dict]] = {}
        self._script: dict | None = None
        self._text: list[str] = []
        self._table: str | None = None
        self._in_title = False
        self.title = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self._script, self._text = attrs, []
        elif tag == "table":
            classes = (attrs.get("class") or "").split()
            self._table = next((c for c in classes if c.startswith("bd-") and c != "bd-table"), None)
            if self._table:
                self.tables.setdefault(self._table, [])
        elif tag == "tr" and self._table and any(k.startswith("data-") for k in attrs):
            self.tables[self._table].append(attrs)
        elif tag == "h1" and "bd-title" in (attrs.get("class") or ""):
            self._in_title = True

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script, "".join(self._text)))
            self._script = None
        elif tag == "table":
            self._table = None
        elif tag == "h1":
            self._in_title = False

    def handle_data(self, data):
        if self._script is not None:
            self._text.append(data)
        if self._in_title:
            self.title += data


def _parse(html_path: Path) -> _Collector:
    parser = _Collector()
    parser.feed(html_path.read_text(encoding="utf-8"))
    return parser


def _bd_result(parsed: _Collector) -> dict:
    texts = [text for attrs, text in parsed.scripts if attrs.get("id") == "bd-result"]
    assert len(texts) == 1
    return json.loads(texts[0])


def _bokeh_docs(parsed: _Collector) -> list[dict]:
    """The bokeh documents that ``show()`` embedded (``const docs_json = {...};`` in a script)."""
    docs = []
    decoder = json.JSONDecoder()
    for _, text in parsed.scripts:
        start = text.find("docs_json = ")
        if start >= 0:
            data, _ = decoder.raw_decode(text, start + len("docs_json = "))
            docs += list(data.values())
    return docs


def _sources(node, found=None) -> dict[str, dict]:
    """Named ColumnDataSources of bokeh JSON docs: {name: {column: plain list or ndarray ref}}."""
    found = {} if found is None else found
    if isinstance(node, dict):
        attrs = node.get("attributes", {})
        if node.get("name") == "ColumnDataSource" and attrs.get("name"):
            data = attrs.get("data", {})
            found[attrs["name"]] = dict(data.get("entries", [])) if data.get("type") == "map" else data
        for value in node.values():
            _sources(value, found)
    elif isinstance(node, list):
        for value in node:
            _sources(value, found)
    return found


def _assert_close(got, expected, where="result"):
    if isinstance(expected, dict):
        assert isinstance(got, dict) and list(got) == list(expected), where
        for key in expected:
            _assert_close(got[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, (list, tuple)):
        assert isinstance(got, list) and len(got) == len(expected), where
        for i, (g, e) in enumerate(zip(got, expected)):
            _assert_close(g, e, f"{where}[{i}]")
    elif isinstance(expected, float):
        assert math.isclose(got, expected, rel_tol=REL, abs_tol=0.0), (where, got, expected)
    else:
        assert got == expected, (where, got, expected)


def _cli(argv: list[str]) -> tuple[int, str]:
    """Run the CLI in a worker process; return (exit status, stderr)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        status = main(argv)
    return status, err.getvalue()


EVIL_TITLE = '"""; import os; os.system("touch PWNED") #\n<script>alert(1)</script>'


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict:
    """Every report this module checks, rendered by the CLI two at a time (2 kernels ≈ 2 CPUs).

    Built-in plans (one report each), the injection plan, and a batch of two good plans and one
    bad plan. Values: {"dir": folder, "<job>": (exit status, stderr)}.
    """
    out = tmp_path_factory.mktemp("reports")
    pwned = out / "PWNED"
    config = yaml.safe_load(builtin_plan_text("jousseaume2023-exp1-pcb"))
    config["title"] = EVIL_TITLE + f"\'\'\'; os.system('touch {pwned}') #\\"
    (out / "evil.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")

    config = yaml.safe_load(builtin_plan_text("jousseaume2023-exp3-pcd"))
    (out / "pcd copy.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    config["schedule"]["locations"][0]["exposure_s"] = -5
    (out / "negative.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")

    jobs = {name: ["report", name, "-o", str(out / f"{name}.html")] for name in BUILTIN}
    jobs["evil"] = ["report", str(out / "evil.yaml"), "-o", str(out / "evil.html"), "--no-ipynb"]
    jobs["batch"] = ["report", "jousseaume2023-exp1-pcb", str(out / "negative.yaml"),
                     str(out / "pcd copy.yaml"), "-o", str(out / "batch")]
    order = ["batch"] + [job for job in jobs if job != "batch"]  # the longest job first
    with ProcessPoolExecutor(max_workers=2, mp_context=get_context("spawn")) as pool:
        done = dict(zip(order, pool.map(_cli, [jobs[job] for job in order])))
    return {"dir": out, "title": yaml.safe_load((out / "evil.yaml").read_text())["title"],
            "pwned": pwned, **done}


@pytest.fixture(scope="module")
def builtin_reports(rendered) -> dict[str, Path]:
    for name in BUILTIN:
        assert rendered[name] == (0, ""), name
    return {name: rendered["dir"] / f"{name}.html" for name in BUILTIN}


def test_template_copy_in_notebooks_is_identical():
    packaged = template_path().read_bytes()
    assert (ROOT / "notebooks" / "report_template.ipynb").read_bytes() == packaged, (
        "notebooks/report_template.ipynb differs from src/beamdesign/data/report_template.ipynb; "
        "edit one and copy it over the other")
    cells = json.loads(packaged)["cells"]
    assert [c for c in cells if "parameters" in c["metadata"].get("tags", [])]


def test_importing_report_loads_no_jupyter_package():
    code = ("import sys, beamdesign.report; "
            "print(sorted(m for m in ('papermill', 'nbconvert', 'nbformat', 'bokeh', 'IPython', "
            "'ipykernel') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", BUILTIN)
def test_report_numbers_equal_the_engine(builtin_reports, name):
    html_path = builtin_reports[name]
    assert html_path.is_file()
    assert html_path.with_suffix(".ipynb").is_file()
    parsed = _parse(html_path)
    result = run_plan(load_plan(name))

    _assert_close(_bd_result(parsed), result.to_dict(timeline=False))

    rows = parsed.tables["bd-verdicts"]
    assert [r["data-location"] for r in rows] == [loc.name for loc in result.locations]
    for r, loc in zip(rows, result.locations):
        assert r["data-verdict"] == loc.verdict
        assert math.isclose(float(r["data-dose-gy"]), loc.dose_Gy[result.probe], rel_tol=REL)
        assert math.isclose(float(r["data-local-rate-gy-per-s"]), loc.local_dose_rate_Gy_per_s,
                            rel_tol=REL)

    largest = {r["data-constituent"]: float(r["data-dose-gy"]) for r in parsed.tables["bd-largest"]}
    assert largest.keys() == result.locations[0].dose_Gy.keys()
    for key, dose in largest.items():
        assert math.isclose(dose, result.worst(key).dose_Gy[key], rel_tol=REL)

    stack_rows = parsed.tables["bd-stack"]
    assert {r["data-constituent"] for r in stack_rows} == set(result.locations[0].dose_Gy)

    docs = _bokeh_docs(parsed)
    assert len(docs) == 4  # dose/time, dose map, stack dose rates, dose rate vs energy
    sources = _sources(docs)
    lines = sources["dose_lines"]
    assert si(result.worst().dose_Gy[result.probe], "Gy") in lines["final"]  # ties: any worst
    assert sources["thresholds"]["y"] == [th.dose_Gy for th in result.plan.thresholds]

    text = html_path.read_text(encoding="utf-8")
    assert "cdn.bokeh.org" not in text  # inline BokehJS: the report works offline
    assert hashlib.sha256(builtin_plan_text(name).encode()).hexdigest() in text
    assert f">{__version__}<" in text
    assert "data:text/csv;base64," in text


def test_injection_in_the_title_stays_text(rendered):
    title = rendered["title"]
    assert title.startswith(EVIL_TITLE) and str(rendered["pwned"]) in title
    assert rendered["evil"] == (0, "")
    html_path = rendered["dir"] / "evil.html"
    assert not rendered["pwned"].exists() and not Path("PWNED").exists()
    assert not html_path.with_suffix(".ipynb").exists()  # --no-ipynb
    text = html_path.read_text(encoding="utf-8")
    assert "<script>alert" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    parsed = _parse(html_path)
    assert parsed.title == title
    assert _bd_result(parsed)["title"] == title


def test_invalid_plan_is_one_sentence_before_any_kernel(tmp_path, capsys):
    config = yaml.safe_load(builtin_plan_text("jousseaume2023-exp1-pcb"))
    config["beam"]["flux_ph_s"] = -1
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(config), encoding="utf-8")
    with pytest.raises(InputError, match=r"beam\.flux_ph_s = -1"):
        render_report(bad, tmp_path / "bad.html")
    assert main(["report", str(bad), "-o", str(tmp_path / "bad.html")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("beamdesign: error: beam.flux_ph_s = -1") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "bad.html").exists()


def test_batch_renders_the_good_plans_and_lists_the_bad(rendered):
    status, err = rendered["batch"]
    out = rendered["dir"] / "batch"
    assert status == 1
    assert sorted(p.name for p in out.glob("*.html")) == [
        "index.html", "jousseaume2023-exp1-pcb.html", "pcd_copy.html"]
    assert (out / "pcd_copy.ipynb").is_file()
    assert "negative.yaml" in err and "exposure_s = -5" in err and "Traceback" not in err
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="jousseaume2023-exp1-pcb.html"' in index and 'href="pcd_copy.html"' in index
    assert "exposure_s = -5" in index
    for loc in run_plan(load_plan(str(rendered["dir"] / "pcd copy.yaml"))).locations:
        assert loc.verdict in index
    assert _bd_result(_parse(out / "pcd_copy.html"))["title"] == load_plan(
        "jousseaume2023-exp3-pcd").title
