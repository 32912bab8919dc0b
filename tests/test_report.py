"""HTML reports: numbers equal the engine's, review-panel first page, injection-safe, atomic,
safe under concurrency and kills, output paths checked before any kernel, size bounded.

Reports start a kernel (~8 s each), so the reports this module checks are rendered once by
module-scoped fixtures, two at a time in worker processes (2 kernels ≈ 2 CPUs).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import html
import io
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from html.parser import HTMLParser
from multiprocessing import get_context
from pathlib import Path

import pytest
import yaml

pytest.importorskip("papermill")

ROOT = Path(__file__).resolve().parents[1]
# report kernels and CLI subprocesses start in other folders: give them this checkout's package
# by absolute path (a relative PYTHONPATH=src would resolve elsewhere there)
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(ROOT / "src")] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
)

from report_hostile import CATHODE, HOSTILE, PWNED, hostile_config, write_hostile_plan  # noqa: E402

from beamdesign import __version__  # noqa: E402
from beamdesign import report as report_module  # noqa: E402
from beamdesign.cli import main  # noqa: E402
from beamdesign.compare import compare  # noqa: E402
from beamdesign.errors import InputError  # noqa: E402
from beamdesign.experiment import run_plan  # noqa: E402
from beamdesign.plan import builtin_plan_names, builtin_plan_text, load_plan, plan_from_config  # noqa: E402
from beamdesign.report import (  # noqa: E402
    SCRATCH_PREFIX,
    render_report,
    review_summary,
    template_path,
    write_index,
)

BUILTIN = builtin_plan_names()
#: the report and this test run the same code on the same inputs and JSON round-trips floats
#: exactly; the tolerance only absorbs a different summation order (e.g. another BLAS thread count)
REL = 1e-12
#: issue 9: the report of a 100 × 100 raster stays under 10 MB
MAX_BYTES_100x100 = 10_000_000


class _Page(HTMLParser):
    """Every element and attribute of a page, the scripts' text, rows with data-*, the title."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict]] = []
        self.scripts: list[tuple[dict, str]] = []
        self.tables: dict[str, list[dict]] = {}
        self.metas: dict[str, str] = {}
        self._script: dict | None = None
        self._text: list[str] = []
        self._table: str | None = None
        self._in_title = False
        self.title = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.elements.append((tag, attrs))
        if tag == "script":
            self._script, self._text = attrs, []
        elif tag == "meta":
            self.metas[attrs.get("name") or attrs.get("http-equiv") or ""] = (
                attrs.get("content") or ""
            )
        elif tag == "table":
            classes = (attrs.get("class") or "").split()
            self._table = next(
                (c for c in classes if c.startswith("bd-") and c != "bd-table"), None
            )
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


def _parse(html_path: Path) -> _Page:
    parser = _Page()
    parser.feed(html_path.read_text(encoding="utf-8"))
    parser.close()
    return parser


def _bd_result(page: _Page) -> dict:
    texts = [text for attrs, text in page.scripts if attrs.get("id") == "bd-result"]
    assert len(texts) == 1
    return json.loads(texts[0])


def _bokeh_docs(page: _Page) -> list[dict]:
    """The bokeh documents of the plot script (``const docs_json = '...';``: JSON in a JS string,
    HTML-escaped by bokeh)."""
    docs = []
    for attrs, text in page.scripts:
        match = re.search(r"const docs_json = '(.*?)';", text, re.S)
        if match and not attrs:
            raw = html.unescape(match.group(1).replace("\\\\", "\\"))
            docs += list(json.loads(raw).values())
    return docs


def _sources(node, found=None) -> dict[str, dict]:
    """Named ColumnDataSources of bokeh JSON docs: {name: {column: plain list or ndarray ref}}."""
    found = {} if found is None else found
    if isinstance(node, dict):
        attrs = node.get("attributes", {})
        if node.get("name") == "ColumnDataSource" and attrs.get("name"):
            data = attrs.get("data", {})
            found[attrs["name"]] = (
                dict(data.get("entries", [])) if data.get("type") == "map" else data
            )
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
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
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


def _command(*argv: str) -> list[str]:
    return [sys.executable, "-m", "beamdesign.cli", *argv]


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob(SCRATCH_PREFIX + "*"))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict:
    """Built-in plans (one report each, the first with --keep-ipynb), the hostile plan, and a
    batch of two good plans and one bad plan. Values: {"dir": folder, "<job>": (status, stderr)}."""
    out = tmp_path_factory.mktemp("reports")
    write_hostile_plan(out / "hostile.yaml")
    config = yaml.safe_load(builtin_plan_text("jousseaume2023-exp3-pcd"))
    config["metadata"] = {
        "proposal": "MA-1234",
        "beamline": "ID31",
        "facility": "ESRF",
        "principal_investigator": "A. Scientist",
        "sample": "PCd pouch cell",
        "date": "2026-11-29",
    }
    (out / "pcd copy.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    config["schedule"]["locations"][0]["exposure_s"] = -5
    (out / "negative.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")

    jobs = {name: ["report", name, "-o", str(out / f"{name}.html")] for name in BUILTIN}
    jobs[BUILTIN[0]].append("--keep-ipynb")
    jobs["hostile"] = [
        "report",
        str(out / "hostile.yaml"),
        "-o",
        str(out / "hostile.html"),
        "--compare",  # its hostile names in the comparison table too
        "jousseaume2023-exp2-pcc",
    ]
    jobs["batch"] = [
        "report",
        "jousseaume2023-exp1-pcb",
        str(out / "negative.yaml"),
        str(out / "pcd copy.yaml"),
        "-o",
        str(out / "batch"),
    ]
    order = ["batch"] + [job for job in jobs if job != "batch"]  # the longest job first
    with ProcessPoolExecutor(max_workers=2, mp_context=get_context("spawn")) as pool:
        done = dict(zip(order, pool.map(_cli, [jobs[job] for job in order]), strict=True))
    return {"dir": out, **done}


@pytest.fixture(scope="module")
def builtin_reports(rendered) -> dict[str, Path]:
    for name in BUILTIN:
        assert rendered[name] == (0, ""), name
    return {name: rendered["dir"] / f"{name}.html" for name in BUILTIN}


# --------------------------------------------------------------------------- no kernel needed
def test_template_copy_in_notebooks_is_identical():
    packaged = template_path().read_bytes()
    assert (ROOT / "notebooks" / "report_template.ipynb").read_bytes() == packaged, (
        "notebooks/report_template.ipynb differs from src/beamdesign/data/report_template.ipynb; "
        "edit one and copy it over the other"
    )
    cells = json.loads(packaged)["cells"]
    assert [c for c in cells if "parameters" in c["metadata"].get("tags", [])]
    assert all(not c.get("outputs") for c in cells if c["cell_type"] == "code")  # stored clean


def test_importing_report_loads_no_jupyter_package():
    code = (
        "import sys, beamdesign.report; "
        "print(sorted(m for m in ('papermill', 'nbconvert', 'nbformat', 'bokeh', 'IPython', "
        "'ipykernel') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_review_summary_one_row_per_threshold_in_its_own_metric():
    result = run_plan(load_plan("default"))
    summary = review_summary(result)
    assert [r["name"] for r in summary["thresholds"]] == [t.name for t in result.plan.thresholds]
    for row, threshold in zip(summary["thresholds"], result.plan.thresholds, strict=True):
        crossings = [
            (loc, c) for loc in result.locations for c in loc.crossings if c.threshold is threshold
        ]
        crossed = [(loc, c) for loc, c in crossings if c.time_s is not None]
        assert row["status"] == ("at risk" if crossed else "pass")
        assert row["crossed_at"] == len(crossed) and row["locations"] == len(result.locations)
        assert row["max_dose_Gy"] == max(c.final_dose_Gy for _, c in crossings)
        assert (row["convention"], row["where"]) == (
            crossings[0][1].convention,
            crossings[0][1].where,
        )
        if crossed:
            assert row["first_time_s"] == min(c.time_s for _, c in crossed)
    assert summary["at_risk"] == sum(r["status"] == "at risk" for r in summary["thresholds"])
    assert summary["hottest"]["dose_Gy"] == result.hottest.dose_Gy
    assert summary["warnings"] == list(result.warnings)


def test_review_summary_carries_the_plan_warnings():
    config = yaml.safe_load(builtin_plan_text("jousseaume2023-exp1-pcb"))
    config["schedule"]["start_s"] = 3e7  # every exposure after the protocol ends (~1 year)
    summary = review_summary(run_plan(plan_from_config(config)))
    assert any("measures nothing" in w for w in summary["warnings"])
    assert {r["status"] for r in summary["thresholds"]} == {"pass"}


@pytest.mark.parametrize(
    "make, allowed, api_allowed",
    [
        (
            lambda d: d / "folder.html",
            "a folder; give a file name ending in .html",
            "a folder; give",
        ),
        (
            lambda d: d / "plan.yaml",
            "an existing file that is not HTML",
            "a report file name ends in .html",
        ),
        (lambda d: d / "missing" / "r.html", "does not exist", "does not exist"),
        (lambda d: d / "fifo.html", "not a regular file", "not a regular file"),
    ],
)
def test_bad_output_path_is_one_sentence_before_any_kernel(
    tmp_path, monkeypatch, capsys, make, allowed, api_allowed
):
    (tmp_path / "folder.html").mkdir()
    (tmp_path / "plan.yaml").write_text("keep me", encoding="utf-8")
    os.mkfifo(tmp_path / "fifo.html")
    monkeypatch.setattr(report_module, "_execute", lambda *a, **k: pytest.fail("a kernel started"))
    target = make(tmp_path)
    assert main(["report", "default", "-o", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"beamdesign: error: -o = '{target}'") and allowed in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert (tmp_path / "plan.yaml").read_text(encoding="utf-8") == "keep me"
    with pytest.raises(InputError, match=re.escape(api_allowed)):
        render_report("default", target)


def test_read_only_folder_is_refused_before_any_kernel(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        # root ignores the mode: make the folder immutable
        if (
            os.access(folder, os.W_OK)
            and subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode
        ):
            pytest.skip("running as root and chattr +i is not available here")
        monkeypatch.setattr(
            report_module, "_execute", lambda *a, **k: pytest.fail("a kernel started")
        )
        assert main(["report", "default", "-o", str(folder / "r.html")]) == 2
        err = capsys.readouterr().err
        assert "is not writable" in err or "a folder you can write to" in err
        assert len(err.strip().splitlines()) == 1
        assert main(["report", "default", "default", "-o", str(folder / "batch")]) == 2
        assert "-o" in capsys.readouterr().err
    finally:
        subprocess.run(["chattr", "-i", str(folder)], capture_output=True)
        folder.chmod(0o755)


def test_pdf_without_chromium_is_one_sentence_before_any_kernel(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(report_module, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.setattr(report_module, "_execute", lambda *a, **k: pytest.fail("a kernel started"))
    assert main(["report", "default", "-o", str(tmp_path / "r.html"), "--pdf"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("beamdesign: error: --pdf = ") and "needs headless Chromium" in err
    assert not list(tmp_path.iterdir())


def test_invalid_plan_is_one_sentence_before_any_kernel(tmp_path, monkeypatch, capsys):
    config = yaml.safe_load(builtin_plan_text("jousseaume2023-exp1-pcb"))
    config["beam"]["flux_ph_s"] = -1
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(config), encoding="utf-8")
    monkeypatch.setattr(report_module, "_execute", lambda *a, **k: pytest.fail("a kernel started"))
    with pytest.raises(InputError, match=r"beam\.flux_ph_s = -1"):
        render_report(bad, tmp_path / "bad.html")
    assert main(["report", str(bad), "-o", str(tmp_path / "bad.html")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("beamdesign: error: beam.flux_ph_s = -1") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]


def test_write_is_atomic_through_a_unique_temporary_neighbour(tmp_path, monkeypatch):
    target = tmp_path / "r.html"
    target.write_text("old", encoding="utf-8")
    renames = []
    real_replace = os.replace

    def spy(src, dst):
        renames.append((Path(src), Path(dst), Path(src).read_bytes()))
        real_replace(src, dst)

    monkeypatch.setattr(report_module.os, "replace", spy)
    report_module._write_atomic(target, b"new")
    report_module._write_atomic(target, b"newer")
    assert target.read_bytes() == b"newer"
    (src1, dst1, data1), (src2, _, _) = renames
    assert dst1 == target and data1 == b"new" and src1.parent == tmp_path and src1 != src2
    assert src1.name.startswith(f"{SCRATCH_PREFIX}{os.getpid()}-")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]

    def broken(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report_module.os, "replace", broken)
    with pytest.raises(OSError, match="No space"):
        report_module._write_atomic(target, b"half")
    assert target.read_bytes() == b"newer"  # the old report is intact, the temp file removed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]


def test_stale_scratch_of_a_dead_process_is_removed_live_ones_kept(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (tmp_path / f"{SCRATCH_PREFIX}{dead}-abc").mkdir()
    (tmp_path / f"{SCRATCH_PREFIX}{dead}-def.part").write_text("x")
    mine = tmp_path / f"{SCRATCH_PREFIX}{os.getpid()}-ghi"
    mine.mkdir()
    report_module._clean_stale(tmp_path)
    assert _leftovers(tmp_path) == [mine.name]


def test_index_is_rebuilt_from_the_reports_on_disk_and_escapes_them(tmp_path):
    for name, verdict in (("a.html", "pass"), ("b.html", "at risk")):
        meta = html.escape(
            json.dumps(
                {
                    "plan": HOSTILE[0],
                    "title": HOSTILE[1],
                    "verdict": verdict,
                    "summary": HOSTILE[2],
                    "at_risk": verdict != "pass",
                }
            )
        )
        (tmp_path / name).write_text(
            f'<!DOCTYPE html><html><head><meta name="beamdesign-report" '
            f'content="{meta}"><title>x</title></head></html>'
        )
    (tmp_path / "other.html").write_text("<html><head><title>not a report</title></head></html>")
    (tmp_path / ".beamdesign-failed-c.json").write_text(
        json.dumps({"plan": "c.yaml", "error": HOSTILE[3]})
    )
    index = write_index(tmp_path)
    page = _parse(index)
    links = [a.get("href") for tag, a in page.elements if tag == "a"]
    assert links == ["a.html", "b.html"]
    assert not [tag for tag, _ in page.elements if tag in {"img", "svg", "script"}]
    assert not [k for _, attrs in page.elements for k in attrs if k.startswith("on")]
    text = index.read_text(encoding="utf-8")
    assert "1 failed" in text and html.escape(HOSTILE[3]) in text


# --------------------------------------------------------------------------- rendered reports
@pytest.mark.parametrize("name", BUILTIN)
def test_report_numbers_equal_the_engine(builtin_reports, name):
    html_path = builtin_reports[name]
    assert html_path.is_file()
    assert html_path.with_suffix(".ipynb").is_file() == (name == BUILTIN[0])  # --keep-ipynb
    assert not _leftovers(html_path.parent)
    page = _parse(html_path)
    result = run_plan(load_plan(name))

    _assert_close(_bd_result(page), result.to_dict(timeline=False))

    rows = page.tables["bd-verdicts"]
    order = sorted(
        range(len(result.locations)), key=lambda i: -result.locations[i].dose_Gy[result.probe]
    )
    expected = (
        [result.locations[i] for i in order[:12]] if len(order) > 12 else list(result.locations)
    )
    assert [r["data-location"] for r in rows] == [loc.name for loc in expected]
    for r, loc in zip(rows, expected, strict=True):
        assert r["data-verdict"] == loc.verdict
        assert math.isclose(float(r["data-dose-gy"]), loc.dose_Gy[result.probe], rel_tol=REL)
        assert math.isclose(
            float(r["data-local-rate-gy-per-s"]), loc.local_dose_rate_Gy_per_s, rel_tol=REL
        )

    summary = review_summary(result)
    thresholds = page.tables["bd-thresholds"]
    assert [r["data-threshold"] for r in thresholds] == [t["name"] for t in summary["thresholds"]]
    for r, t in zip(thresholds, summary["thresholds"], strict=True):
        assert r["data-status"] == t["status"] and r["data-convention"] == t["convention"]
        assert r["data-where"] == t["where"] and int(r["data-crossed-at"]) == t["crossed_at"]
        assert math.isclose(float(r["data-max-dose-gy"]), t["max_dose_Gy"], rel_tol=REL)
    meta = json.loads(page.metas["beamdesign-report"])
    assert meta["verdict"] == ("at risk" if summary["at_risk"] else "pass")
    assert meta["plan"] == f"built-in plan {name}"

    largest = {r["data-constituent"]: float(r["data-dose-gy"]) for r in page.tables["bd-largest"]}
    assert largest.keys() == result.locations[0].dose_Gy.keys()
    for key, dose in largest.items():
        assert math.isclose(dose, result.worst(key).dose_Gy[key], rel_tol=REL)
    assert {r["data-constituent"] for r in page.tables["bd-stack"]} == set(
        result.locations[0].dose_Gy
    )

    docs = _bokeh_docs(page)
    assert len(docs) == 1 and len(docs[0]["roots"]) == 4  # dose/time, map, stack, energy
    sources = _sources(docs)
    lines = sources["dose_lines"]
    assert result.worst().name in lines["name"]  # the worst location is always drawn
    assert len(set(lines["name"])) == len(lines["name"]) == len(lines["final"])
    # the probe's thresholds, each at its level in the displayed convention
    from beamdesign.widgets.figures import probe_threshold_levels

    expected = list(probe_threshold_levels(result).values())
    assert sources["thresholds"]["y"] == pytest.approx(expected, rel=1e-6)

    text = html_path.read_text(encoding="utf-8")
    # offline page: nothing loaded from elsewhere (BokehJS mentions a MathJax CDN it never uses)
    assert not [
        a
        for _, a in page.elements
        for k in ("src", "href")
        if (a.get(k) or "").startswith(("http", "//"))
    ]
    assert hashlib.sha256(builtin_plan_text(name).encode()).hexdigest() in text
    assert f">{__version__}<" in text
    assert "data:text/csv;base64," in text
    assert f"built-in plan {name}" in text


def test_only_the_two_hashed_scripts_run(builtin_reports):
    """The CSP lists exactly the SHA-256 of BokehJS and of the plot script; other scripts are
    JSON data blocks, which never run."""
    page = _parse(builtin_reports["default"])
    csp = page.metas["Content-Security-Policy"]
    hashes = set(re.findall(r"'sha256-([^']+)'", csp))
    runnable = [
        text
        for attrs, text in page.scripts
        if attrs.get("type", "text/javascript") != "application/json"
    ]
    assert len(runnable) == 2 and "default-src 'none'" in csp
    assert hashes == {
        base64.b64encode(hashlib.sha256(t.encode()).digest()).decode() for t in runnable
    }


def test_first_page_carries_the_beamtime_fields(rendered):
    out = rendered["dir"] / "batch" / "pcd_copy.html"
    page = _parse(out)
    text = out.read_text(encoding="utf-8")
    for value in ("MA-1234", "ID31", "ESRF", "A. Scientist", "PCd pouch cell", "2026-11-29"):
        assert f">{value}<" in text
    assert str((rendered["dir"] / "pcd copy.yaml").resolve()) in text  # the plan file's path
    assert "not given in the plan" not in text.split("Verdict per threshold")[0]
    assert page.tables["bd-thresholds"]


def test_hostile_names_stay_text_everywhere(rendered):
    assert rendered["hostile"] == (0, "")
    out = rendered["dir"] / "hostile.html"
    assert not out.with_suffix(".ipynb").exists()  # no stray notebook unless --keep-ipynb
    assert not (rendered["dir"] / "PWNED").exists() and not Path("PWNED").exists()
    page = _parse(out)
    for tag, attrs in page.elements:
        assert PWNED not in (attrs.get("class") or ""), (tag, attrs)
        assert not [k for k in attrs if k.startswith("on")], (tag, attrs)
        assert tag not in {"img", "svg"}, (tag, attrs)
    runnable = [
        t for a, t in page.scripts if a.get("type", "text/javascript") != "application/json"
    ]
    assert len(runnable) == 2 and not any("__pwned" in t for t in runnable[:1])
    # the plot script carries the names only HTML-escaped inside a JS string
    assert "<img" not in runnable[1] and "</script" not in runnable[1]
    assert page.title == HOSTILE[0] + HOSTILE[3]
    data = _bd_result(page)
    assert data["title"] == HOSTILE[0] + HOSTILE[3]
    assert [loc["name"] for loc in data["locations"]] == list(HOSTILE)
    assert json.loads(page.metas["beamdesign-report"])["title"] == HOSTILE[0] + HOSTILE[3]
    names = _sources(_bokeh_docs(page))["dose_lines"]["name"]
    assert set(names) == set(HOSTILE)
    assert CATHODE in data["probe"]
    text = out.read_bytes().decode("utf-8")  # as written: keep the \r of the names
    for i, field in enumerate(("proposal", "beamline", "facility", "principal_investigator")):
        assert f'class="bd-meta-{field}">{html.escape(HOSTILE[i])}<' in text


def test_batch_renders_the_good_plans_and_lists_the_bad(rendered):
    status, err = rendered["batch"]
    out = rendered["dir"] / "batch"
    assert status == 1
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "index.html",
        "jousseaume2023-exp1-pcb.html",
        "pcd_copy.html",
    ]
    assert "negative.yaml" in err and "exposure_s = -5" in err and "Traceback" not in err
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="jousseaume2023-exp1-pcb.html"' in index and 'href="pcd_copy.html"' in index
    assert "exposure_s = -5" in index and "1 failed" in index
    assert (
        _bd_result(_parse(out / "pcd_copy.html"))["title"]
        == load_plan("jousseaume2023-exp3-pcd").title
    )


# --------------------------------------------------------------------------- kills, concurrency
@pytest.fixture(scope="module")
def crowded(tmp_path_factory) -> dict:
    """One folder that sees a SIGKILLed report, a SIGTERMed report, then 4 concurrent batches."""
    folder = tmp_path_factory.mktemp("crowded")
    facts = {"dir": folder}
    for sig in (signal.SIGKILL, signal.SIGTERM):
        proc = subprocess.Popen(
            _command("report", "jousseaume2023-exp1-pca", "-o", str(folder / "killed.html")),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while not list(folder.glob(f"{SCRATCH_PREFIX}{proc.pid}-*")):
            assert time.monotonic() < deadline and proc.poll() is None, "the report never started"
            time.sleep(0.05)
        time.sleep(2.0)  # the kernel is starting or running
        proc.send_signal(sig)
        proc.communicate(timeout=60)
        facts[sig.name] = (proc.returncode, _leftovers(folder), (folder / "killed.html").exists())
    plans = [
        "jousseaume2023-exp1-pca",
        "jousseaume2023-exp1-pcb",
        "jousseaume2023-exp2-pcc",
        "jousseaume2023-exp3-pcd",
    ]
    procs = [
        subprocess.Popen(
            _command("report", plan, "-o", str(folder)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for plan in plans
    ]
    facts["batches"] = [(p.wait(timeout=600), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    facts["plans"] = plans
    return facts


def test_sigterm_cleans_up_and_sigkill_leftovers_go_with_the_next_run(crowded):
    status, leftovers, written = crowded["SIGTERM"]
    assert status == 128 + signal.SIGTERM and not written
    # the SIGKILLed run's scratch folder was there after the kill (SIGKILL cannot be caught) ...
    status, leftovers, written = crowded["SIGKILL"]
    assert status == -signal.SIGKILL and len(leftovers) == 1 and not written
    # ... and the next report into the folder (the SIGTERMed one) removed it
    assert leftovers[0] not in crowded["SIGTERM"][1]
    assert _leftovers(crowded["dir"]) == []


def test_four_concurrent_batches_into_one_folder(crowded):
    folder = crowded["dir"]
    assert [status for status, _ in crowded["batches"]] == [0, 0, 0, 0], crowded["batches"]
    assert all("Traceback" not in err for _, err in crowded["batches"])
    reports = sorted(p.name for p in folder.glob("*.html"))
    assert reports == sorted([f"{plan}.html" for plan in crowded["plans"]] + ["index.html"])
    index = _parse(folder / "index.html")
    links = sorted(a["href"] for tag, a in index.elements if tag == "a")
    assert links == sorted(f"{plan}.html" for plan in crowded["plans"])
    for plan in crowded["plans"]:  # every page complete (parses, ends, its own plan)
        text = (folder / f"{plan}.html").read_text(encoding="utf-8")
        assert text.rstrip().endswith("</html>") and f"built-in plan {plan}" in text
    assert not list(folder.glob("*.ipynb")) and _leftovers(folder) == []


# --------------------------------------------------------------------------- progress, size, pdf
def test_progress_hook_and_size_of_a_100x100_raster(tmp_path):
    """Issue 9: the report of a 100 × 100 raster stays under 10 MB (the timeline, the map and
    the tables are downsampled; BokehJS core is embedded once)."""
    config = yaml.safe_load(builtin_plan_text("default"))
    config["schedule"]["raster"].update(nx=100, ny=100)
    plan = tmp_path / "raster.yaml"
    plan.write_text(yaml.safe_dump(config), encoding="utf-8")
    stages = []
    out = render_report(plan, tmp_path / "raster.html", progress=lambda s, f: stages.append((s, f)))
    size = out.stat().st_size
    print(f"100 x 100 raster report: {size / 1e6:.2f} MB")
    assert size < MAX_BYTES_100x100
    fractions = [f for _, f in stages]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert len(stages) >= 5 and all(isinstance(s, str) and s for s, _ in stages)
    page = _parse(out)
    assert len(
        page.tables["bd-verdicts"]
    ) == 12 and "Showing 12 of 10000 locations" in out.read_text("utf-8")
    data = _bd_result(page)
    assert data["locations_total"] == 10000 and len(data["locations"]) == 400
    image = _sources(_bokeh_docs(page))["map_image"]["image"][0]
    assert max(image["shape"]) <= 300
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raster.html", "raster.yaml"]


@pytest.mark.skipif(not Path("/usr/bin/chromium").is_file(), reason="needs /usr/bin/chromium")
def test_pdf_prints_in_a_few_pages(builtin_reports, tmp_path):
    pdf = tmp_path / "default.pdf"
    (tmp_path / "scratch").mkdir()
    report_module._print_pdf(builtin_reports["default"], pdf, tmp_path / "scratch")
    data = pdf.read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    print(f"default plan report: {pages} A4 pages")
    assert data.startswith(b"%PDF") and 3 <= pages <= 8
    # the four plots were drawn before printing (bokeh canvases print as images)
    assert len(re.findall(rb"/Subtype\s*/Image", data)) >= 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["default.pdf", "scratch"]


# --------------------------------------------------------------------------- terminal output
def test_progress_goes_to_stderr_only_on_a_terminal(monkeypatch):
    from beamdesign.commands import report as command

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert command._stderr_progress() is None
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    show = command._stderr_progress()
    show("starting the report kernel", 0.05)
    show("plan\x1b[2J\nALL SAFE", 0.5)
    show("report written", 1.0)
    text = terminal.getvalue()
    assert text.count("\r") == 3 and text.endswith("100 % report written\n")
    assert "  5 % starting the report kernel" in text
    assert "\x1b[2J" not in text and "plan\\x1b[2J ALL SAFE" in text  # one line, escape shown


def test_plan_object_report_names_the_source_it_is_given(tmp_path):
    """What the planner does: render its Plan object, saying where the plan came from."""
    out = render_report(
        load_plan("jousseaume2023-exp1-pca"),
        tmp_path / "mine.html",
        source="/beamtime/ma-1234.yaml (edited in the planner)",
    )
    page = _parse(out)
    assert (
        json.loads(page.metas["beamdesign-report"])["plan"]
        == "/beamtime/ma-1234.yaml (edited in the planner)"
    )
    assert 'class="bd-source">/beamtime/ma-1234.yaml (edited in the planner)<' in out.read_text(
        "utf-8"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.html"]


def test_notebook_kept_only_with_keep_ipynb_and_no_ipynb_still_accepted(
    tmp_path, monkeypatch, capsys
):
    calls = []
    monkeypatch.setattr(
        report_module, "render_report", lambda plan, out, **kw: calls.append(kw) or Path(out)
    )
    out = str(tmp_path / "r.html")
    assert main(["report", "default", "-o", out]) == 0
    assert main(["report", "default", "-o", out, "--no-ipynb"]) == 0
    assert main(["report", "default", "-o", out, "--keep-ipynb", "--pdf"]) == 0
    assert [(c["keep_ipynb"], c["pdf"]) for c in calls] == [
        (False, False),
        (False, False),
        (True, True),
    ]
    assert main(["report", "default", "-o", out, "--keep-ipynb", "--no-ipynb"]) == 2
    assert "either --keep-ipynb or --no-ipynb, not both" in capsys.readouterr().err


def test_kernel_with_another_beamdesign_is_refused(tmp_path):
    """A kernel importing another installation of beamdesign would report other numbers."""
    code = (
        f"import os, sys; sys.path.insert(0, {str(ROOT / 'src')!r}); "
        "from beamdesign.report import render_report, ReportError\n"
        "try:\n"
        f"    render_report('jousseaume2023-exp1-pca', {str(tmp_path / 'r.html')!r})\n"
        "except ReportError as e:\n"
        "    print(e)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "elsewhere")}
    fake = tmp_path / "elsewhere" / "beamdesign"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("__version__ = 'other'\n")
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert "the report kernel imports beamdesign from" in out.stdout, out.stderr[-2000:]
    assert str(fake) in out.stdout and not (tmp_path / "r.html").exists()


def test_a_report_compares_scenarios_side_by_side(rendered):
    """``report PLAN --compare OTHER``: beamdesign.compare's rows, this plan first."""
    text = (rendered["dir"] / "hostile.html").read_text(encoding="utf-8")
    [body] = re.findall(r'<table class="bd-table bd-compare".*?</table>', text, re.S)
    table = [
        [html.unescape(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)]
        for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]
    expected = compare(
        [plan_from_config(hostile_config()).to_config(), "jousseaume2023-exp2-pcc"],
        labels=["this plan", "jousseaume2023-exp2-pcc"],
    ).rows()
    assert table[0] == ["", "this plan", "jousseaume2023-exp2-pcc"]
    # HTML turns a CR LF in text into LF (the hostile names hold one)
    lf = [[v.replace("\r\n", "\n") for v in (name, *values)] for name, values in expected[1:]]
    assert table[1:] == lf


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--compare", "etem-nmc811-air"], r"--compare = 'etem-nmc811-air': X-ray plans"),
        (["--compare", "default", "default", "default", "default"], r"at most 3 other plans"),
    ],
)
def test_compare_refuses_in_one_sentence(tmp_path, extra, message):
    status, err = _cli(["report", "default", "-o", str(tmp_path / "a.html"), *extra])
    assert status == 2 and re.search(message, err), err
    assert not list(tmp_path.iterdir())  # refused before a kernel started: nothing written
