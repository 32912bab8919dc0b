"""HTML reports of a plan for a review panel: run the report notebook with papermill, assemble
its HTML outputs into one self-contained page (optionally printed to PDF).

This is an optional feature on top of the pure core: it needs the ``jupyter`` extra (papermill,
ipykernel, bokeh). Those packages are imported inside the functions that use them, never when
``beamdesign.report`` is imported, so the core stays free of Jupyter.

The template is package data, ``beamdesign/data/report_template.ipynb``, found with
``importlib.resources``; ``notebooks/report_template.ipynb`` is an identical copy for people who
open it in Jupyter (a test asserts the two are byte-identical). The plan reaches the notebook as
plain strings only (the YAML text, the source, the SHA-256), never as Python code.

Safety of the output
--------------------
- Every user string is HTML-escaped by the template; data for scripts is JSON with ``<``, ``>``
  and ``&`` written as ``\\u003c``... (bokeh's own embedding HTML-escapes its JSON likewise).
- The page carries a Content-Security-Policy that runs only the scripts this module wrote
  (BokehJS and the plot script, by SHA-256): an injected ``<script>`` or ``onerror`` is inert.
- Output paths are checked before the kernel starts; every file is written to a temporary
  name in the target folder and renamed over the target (atomic). The scratch folder of a
  report lives in the target folder (``.beamdesign-tmp-<pid>-*``); one left by a killed run
  (SIGKILL cannot be caught) is removed by the next report into that folder.
- ``index.html`` of a batch is rebuilt from the reports on disk under an ``fcntl`` lock, so
  concurrent commands into one folder all end up in it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import html
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, NoReturn

from beamdesign.compare import MAX_PLANS
from beamdesign.errors import InputError
from beamdesign.plan import Plan, builtin_plan_names, builtin_plan_text, load_plan, plan_text
from beamdesign.reprs import compact_repr

if TYPE_CHECKING:
    from importlib.abc import Traversable  # importlib.resources.abc from Python 3.11

    from beamdesign.experiment import ExperimentResult

TEMPLATE = "data/report_template.ipynb"
#: the kernel the report runs in: the ipykernel spec of the current environment
KERNEL_NAME = "python3"
#: a report cell taking longer than this fails the report instead of hanging it
CELL_TIMEOUT_S = 300
#: headless Chromium used for ``pdf=True``
CHROMIUM = Path("/usr/bin/chromium")
PDF_TIMEOUT_S = 120
#: mimetype of the notebook outputs that carry a script the page may run (hashed into the CSP)
SCRIPT_MIME = "application/x-beamdesign-script"
SCRATCH_PREFIX = ".beamdesign-tmp-"
INDEX_LOCK = ".beamdesign-index.lock"
FAILED_PREFIX = ".beamdesign-failed-"
META_NAME = "beamdesign-report"
#: longest text kept per field of a report's index metadata (characters)
META_TEXT_MAX = 2000

#: progress hook: (stage in plain words, fraction done 0–1)
Progress = Callable[[str, float], None]


class ReportError(RuntimeError):
    """The report notebook failed for a reason other than an invalid plan (a bug, a kernel)."""


@dataclass(frozen=True)
class BatchResult:
    """What ``render_batch`` made: reports (plan, HTML path, verdict summary), failures, index."""

    index: Path
    reports: list[tuple[str, Path, str]] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)

    __repr__ = compact_repr


def template_path() -> Traversable:
    """The packaged report template."""
    return resources.files("beamdesign").joinpath(TEMPLATE)


# --------------------------------------------------------------------------- review summary
def review_summary(result: ExperimentResult) -> dict[str, Any]:
    """The review panel's first-page facts of an ``ExperimentResult``: one row per threshold
    (pass / at risk, its dose metric and the highest dose in that metric), the warnings on the
    plan and its result (``ExperimentResult.warnings``), and the hottest point. The one place
    that reads those fields.

    Returns
    -------
    {"thresholds": [dict per threshold, plan order], "warnings": [sentence],
     "hottest": {location, x_um, y_um, dose_Gy}, "at_risk": number of thresholds crossed}
    """
    rows: dict[int, dict[str, Any]] = {}
    for threshold in result.plan.thresholds:
        rows[id(threshold)] = {
            "name": threshold.name,
            "threshold_Gy": threshold.dose_Gy,
            "constituent": "",
            "convention": threshold.convention,
            "where": threshold.where,
            "measured_for": threshold.measured_for,
            "caveat": "",
            "source": threshold.source,
            "verdict": threshold.verdict,
            "status": "not applicable",
            "crossed_at": 0,
            "locations": 0,
            "max_dose_Gy": 0.0,
            "max_location": "",
            "first_time_s": None,
            "first_soc": None,
            "first_location": "",
        }
    for loc in result.locations:
        for c in loc.crossings:
            row = rows[id(c.threshold)]
            row["constituent"] = c.constituent
            row["convention"], row["where"] = c.convention, c.where
            row["caveat"] = row["caveat"] or c.caveat
            row["locations"] += 1
            if row["locations"] == 1 or c.final_dose_Gy > row["max_dose_Gy"]:
                row["max_dose_Gy"], row["max_location"] = c.final_dose_Gy, loc.name
            if c.time_s is not None:
                row["crossed_at"] += 1
                if row["first_time_s"] is None or c.time_s < row["first_time_s"]:
                    row["first_time_s"], row["first_soc"] = c.time_s, c.soc
                    row["first_location"] = loc.name
    for row in rows.values():
        if row["locations"]:
            row["status"] = "at risk" if row["crossed_at"] else "pass"
    table = list(rows.values())
    hottest = result.hottest
    return {
        "thresholds": table,
        "warnings": [str(w) for w in result.warnings],
        "hottest": {
            "location": hottest.location,
            "x_um": float(hottest.x_um),
            "y_um": float(hottest.y_um),
            "dose_Gy": float(hottest.dose_Gy),
        },
        "at_risk": sum(row["status"] == "at risk" for row in table),
    }


# --------------------------------------------------------------------------- plan input
def _read_plan(spec: str | Path | Plan) -> tuple[Plan, str, str, str]:
    """(plan, source, SHA-256, file text): the source is the plan file's path or "built-in plan
    NAME"; the hash is of the file bytes, or of the YAML text for a Plan object (then the file
    text is empty and the report shows the plan's YAML)."""
    if isinstance(spec, Plan):
        return spec, "", hashlib.sha256(plan_text(spec, "yaml").encode("utf-8")).hexdigest(), ""
    text = str(spec)
    plan = load_plan(text)  # raises InputError with the plan's own sentence
    if text in builtin_plan_names():  # the order load_plan resolves in: a built-in name first
        data = builtin_plan_text(text).encode("utf-8")
        source = f"built-in plan {text}"
    else:
        path = Path(text).expanduser()
        data = path.read_bytes()
        source = str(path.resolve())
    return plan, source, hashlib.sha256(data).hexdigest(), data.decode("utf-8", "replace")


# --------------------------------------------------------------------------- output paths
def check_output(out_html: str | Path, pdf: bool = False) -> Path:
    """The report path, checked before any kernel starts: ends in .html, is not a folder or a
    special file, its folder exists and is writable (``beamdesign.files.check_output``); with
    ``pdf``, Chromium is installed."""
    from beamdesign.files import check_output as check_writable

    out = Path(out_html).expanduser()
    if out.is_dir():
        raise InputError("-o", str(out), "a folder; give a file name ending in .html")
    if out.suffix.lower() not in {".html", ".htm"}:
        raise InputError("-o", str(out), "a report file name ends in .html")
    check_writable(out, "-o")  # folder exists and is writable, not a FIFO or device
    _check_pdf(pdf)
    return out


def _check_pdf(pdf: bool) -> None:
    if pdf and not CHROMIUM.is_file():
        raise InputError(
            "--pdf",
            str(CHROMIUM),
            "PDF export needs headless Chromium at that path "
            "(apt-get install chromium); the HTML report prints from any browser",
        )


@contextlib.contextmanager
def _scratch(folder: Path) -> Iterator[Path]:
    """A private scratch folder inside ``folder`` (same filesystem: renames are atomic), named
    after this process and removed on exit; those left by killed runs are removed first."""
    _clean_stale(folder)
    try:
        path = Path(tempfile.mkdtemp(prefix=_scratch_prefix(), dir=folder))
    except OSError as error:
        raise InputError(
            "-o", str(folder), f"a folder you can write to ({error.strerror})"
        ) from None
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _scratch_prefix() -> str:
    return f"{SCRATCH_PREFIX}{os.getpid()}-"


def _clean_stale(folder: Path) -> None:
    """Remove scratch folders and partial files whose process is gone (SIGKILL, power cut)."""
    for path in folder.glob(SCRATCH_PREFIX + "*"):
        pid = path.name.removeprefix(SCRATCH_PREFIX).split("-", 1)[0]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                path.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _write_atomic(target: Path, data: bytes) -> None:
    """Write ``data`` to a unique temporary file next to ``target`` and rename it over it."""
    fd, tmp = tempfile.mkstemp(prefix=_scratch_prefix(), suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _terminate_cleanly() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into SystemExit (main thread only) so ``finally`` blocks clean up."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: FrameType | None) -> NoReturn:
        raise SystemExit(128 + signum)

    signals = [
        sig for sig in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if sig
    ]
    previous = {sig: signal.signal(sig, stop) for sig in signals}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# --------------------------------------------------------------------------- notebook run
def _execute(
    plan: Plan,
    source: str,
    sha256: str,
    file_text: str,
    out_ipynb: Path,
    workdir: Path,
    progress: Progress,
    compare_json: str = "",
    compare_labels: list[str] | None = None,
) -> None:
    import papermill
    from jupyter_client.manager import AsyncKernelManager
    from papermill.exceptions import PapermillExecutionError
    from traitlets import default

    class IPCKernelManager(AsyncKernelManager):
        """Local sockets (files next to the connection file) instead of TCP on localhost: no
        open port, and no "running over TCP without encryption" warning on every report."""

        @default("transport")
        def _default_transport(self) -> str:
            return "ipc"

        # jupyter_client types start_kernel as KernelManager's blocking wrapper; the async
        # manager's is a coroutine function
        async def start_kernel(self, **kw: Any) -> Any:  # type: ignore[override]
            # the kernel's own log (e.g. "KeyboardInterrupt caught in kernel" when it is shut
            # down) is not for the user's terminal; cell errors come back as messages
            kw.setdefault("stdout", log)
            kw.setdefault("stderr", log)
            return await super().start_kernel(**kw)

    # plain strings only; the validated plan as YAML (a relative stack path already resolved)
    import beamdesign

    parameters = {
        "plan_yaml": plan_text(plan, "yaml"),
        "plan_source": source,
        "plan_sha256": sha256,
        "plan_file_text": file_text,
        "beamdesign_package": str(Path(beamdesign.__file__).resolve().parent),
        "compare_json": compare_json,
        "compare_labels": json.dumps(compare_labels),
    }
    with resources.as_file(template_path()) as template, open(workdir / "kernel.log", "wb") as log:
        n_cells = len(json.loads(Path(template).read_text("utf-8"))["cells"]) + 1  # + injected

        def cell_done(cell: Any, cell_index: int, **_: Any) -> None:
            progress(
                f"ran report cell {cell_index + 1} of {n_cells}",
                0.1 + 0.75 * (cell_index + 1) / n_cells,
            )

        try:
            papermill.execute_notebook(
                str(template),
                str(out_ipynb),
                parameters=parameters,
                kernel_name=KERNEL_NAME,
                cwd=str(workdir),
                progress_bar=False,
                log_output=False,
                request_save_on_cell_execute=False,
                start_timeout=60,
                execution_timeout=CELL_TIMEOUT_S,
                on_cell_complete=cell_done,
                **({"kernel_manager_class": IPCKernelManager} if os.name == "posix" else {}),
            )
        except PapermillExecutionError as error:
            if error.ename == "InputError":
                raise InputError("plan", source or plan.title, error.evalue) from None
            raise ReportError(
                f"the report notebook failed ({error.ename}: {error.evalue})"
            ) from None


_CSP = (
    "default-src 'none'; script-src {hashes}; style-src 'unsafe-inline'; img-src data:; "
    "font-src data:; base-uri 'none'; form-action 'none'"
)
_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="{meta_name}" content="{meta}">
<title>{title}</title>
<script>{bokehjs}</script>
</head><body class="bd-body">
{body}
<script>{plot_scripts}</script>
</body></html>
"""


def _assemble(ipynb: Path, title: str, meta: dict[str, Any]) -> str:
    """One self-contained page from the executed notebook's HTML outputs: BokehJS (core only)
    inlined once, the plot script last, a CSP allowing exactly these two scripts."""
    from bokeh.resources import Resources

    notebook = json.loads(ipynb.read_text("utf-8"))
    parts, scripts = [], []
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if SCRIPT_MIME in data:
                scripts.append("".join(data[SCRIPT_MIME]))
            elif "text/html" in data:
                parts.append("".join(data["text/html"]))
    bokehjs = "\n".join(Resources(mode="inline", components=["bokeh"]).js_raw)
    plot_scripts = "\n".join(scripts)
    for text in (bokehjs, plot_scripts):
        if re.search(r"</script", text, re.IGNORECASE):
            raise ReportError("a report script contains '</script'; refusing to write the page")
    hashes = " ".join(
        "'sha256-"
        + base64.b64encode(hashlib.sha256(s.encode("utf-8")).digest()).decode("ascii")
        + "'"
        for s in (bokehjs, plot_scripts)
    )
    return _PAGE.format(
        csp=_CSP.format(hashes=hashes),
        meta_name=META_NAME,
        meta=html.escape(json.dumps(meta, ensure_ascii=False), quote=True),
        title=html.escape(title),
        bokehjs=bokehjs,
        body="\n".join(parts),
        plot_scripts=plot_scripts,
    )


def _print_pdf(html_path: Path, pdf_path: Path, scratch: Path) -> None:
    """Print the report with headless Chromium (A4, print CSS) to ``pdf_path`` atomically."""
    tmp = scratch / "report.pdf"
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--no-first-run",
        "--no-pdf-header-footer",
        f"--user-data-dir={scratch / 'chromium'}",
        "--virtual-time-budget=10000",
        f"--print-to-pdf={tmp}",
        html_path.resolve().as_uri(),
    ]
    try:
        subprocess.run(command, capture_output=True, timeout=PDF_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise ReportError(f"Chromium did not print the report within {PDF_TIMEOUT_S} s") from None
    if not tmp.is_file() or tmp.stat().st_size == 0:
        raise ReportError("Chromium did not write the PDF")
    os.replace(tmp, pdf_path)


def _quiet(stage: str, fraction: float) -> None:
    """The default progress hook: says nothing."""


def _render(
    plan: Plan,
    source: str,
    sha256: str,
    file_text: str,
    out_html: Path,
    keep_ipynb: bool,
    pdf: bool,
    progress: Progress | None,
    others: tuple[tuple[str, Plan], ...] = (),
) -> dict[str, Any]:
    progress = progress or _quiet
    out_html = check_output(out_html, pdf)
    with _terminate_cleanly(), _scratch(out_html.parent) as scratch:
        progress("starting the report kernel", 0.05)
        ipynb = scratch / "report.ipynb"
        compare_json = json.dumps([p.to_config() for _, p in others]) if others else ""
        labels = [label for label, _ in others]
        _execute(plan, source, sha256, file_text, ipynb, scratch, progress, compare_json, labels)
        progress("assembling the HTML page", 0.88)
        title = " ".join(plan.title.split())[:200] or "beamdesign report"
        meta = _report_meta(ipynb, source or title)
        page = _assemble(ipynb, title, meta)
        _write_atomic(out_html, page.encode("utf-8"))
        if keep_ipynb:
            os.replace(ipynb, out_html.with_suffix(".ipynb"))
        if pdf:
            progress("printing the PDF with Chromium", 0.93)
            _print_pdf(out_html, out_html.with_suffix(".pdf"), scratch)
    progress("report written", 1.0)
    return meta


def _report_meta(ipynb: Path, source: str) -> dict[str, Any]:
    """The index line of a report (from the notebook's ``bd-meta`` output): plan, title, verdict."""
    notebook = json.loads(ipynb.read_text("utf-8"))
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "application/x-beamdesign-meta+json" in data:
                meta = {"plan": source, **data["application/x-beamdesign-meta+json"]}
                # short enough to sit in the page's first 64 KB, where the index reads it
                return {k: v[:META_TEXT_MAX] if isinstance(v, str) else v for k, v in meta.items()}
    raise ReportError("the report notebook gave no summary (bd-meta output missing)")


def render_report(
    plan_path_or_plan: str | Path | Plan,
    out_html: str | Path,
    keep_ipynb: bool = False,
    pdf: bool = False,
    progress: Progress | None = None,
    source: str = "",
    compare_with: Sequence[str | Path | Plan] = (),
) -> Path:
    """Render the HTML report of a plan (file path, built-in name or Plan object).

    The plan and the output path are checked first, so a bad plan or path raises
    ``InputError`` with one sentence before a kernel starts. The page is written atomically.

    Parameters
    ----------
    keep_ipynb : also keep the executed notebook next to the HTML (``OUT.ipynb``)
    pdf : also print it to ``OUT.pdf`` with headless Chromium
    progress : called with (stage, fraction done 0–1) as the report advances
    source : for a Plan object, where it comes from (e.g. the planner's plan file path), shown
        as the report's "Plan"; ignored for a path or a built-in name
    compare_with : one to three other plans (paths, built-in names or Plans) shown side by side
        with this one in a "Scenarios compared" section (``beamdesign compare``'s table)

    Returns the HTML path.
    """
    out = check_output(out_html, pdf)
    if progress:
        progress("validating the plan", 0.0)
    plan, origin, sha256, file_text = _read_plan(plan_path_or_plan)
    if isinstance(plan_path_or_plan, Plan):
        origin = str(source)
    others = _others(compare_with)
    if others and plan.config.get("probe_type") == "electron":
        raise InputError("--compare", origin or plan.title, "an X-ray plan to compare with others")
    _render(plan, origin, sha256, file_text, out, keep_ipynb, pdf, progress, others)
    return out


def _others(specs: Sequence[str | Path | Plan]) -> tuple[tuple[str, Plan], ...]:
    """The plans to compare with, validated now (one sentence each, before a kernel starts),
    each with its column label."""
    if len(specs) > MAX_PLANS - 1:
        raise InputError(
            "--compare", len(specs), f"at most {MAX_PLANS - 1} other plans (4 side by side)"
        )
    out = []
    for spec in specs:
        plan = spec if isinstance(spec, Plan) else _read_plan(spec)[0]
        if plan.config.get("probe_type") == "electron":
            raise InputError(
                "--compare", str(spec), "X-ray plans (an electron session has no flux or SNR)"
            )
        label = plan.title[:40] if isinstance(spec, Plan) else Path(str(spec)).stem
        out.append((label, plan))
    return tuple(out)


# --------------------------------------------------------------------------- batches
def _stem(spec: str, taken: set[str]) -> str:
    base = Path(spec).name
    for suffix in (".yaml", ".yml", ".json"):
        base = base.removesuffix(suffix)
    base = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in base).strip(".") or "plan"
    stem, n = base, 2
    while stem.lower() in taken:
        stem, n = f"{base}-{n}", n + 1
    taken.add(stem.lower())
    return stem


def check_output_folder(out_dir: str | Path) -> Path:
    """The batch output folder, checked (and created if its parent exists) before any kernel."""
    out = Path(out_dir).expanduser()
    if out.exists() and not out.is_dir():
        raise InputError(
            "-o",
            str(out),
            "OUT.html for one report or a folder for several; this is "
            "an existing file that is not HTML",
        )
    if not out.exists():
        if not out.parent.is_dir():
            raise InputError(
                "-o", str(out), "a folder whose parent exists; the parent does not exist"
            )
        try:
            out.mkdir()
        except FileExistsError:  # made by a concurrent command meanwhile
            pass
        except OSError as error:
            raise InputError(
                "-o", str(out), f"a folder you can create ({error.strerror})"
            ) from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise InputError("-o", str(out), "a folder you can write to")
    return out


def render_batch(
    plans: list[str | Path],
    out_dir: str | Path,
    keep_ipynb: bool = False,
    pdf: bool = False,
    progress: Progress | None = None,
) -> BatchResult:
    """One report per plan in ``out_dir`` plus ``index.html`` listing every report in the folder.

    A plan that fails (invalid, or its notebook fails) is listed in ``failures`` and in the
    index; the others are still rendered. ``index.html`` is rebuilt from the reports on disk
    under a lock, so concurrent batches into one folder all appear in it.
    """
    _check_pdf(pdf)
    out = check_output_folder(out_dir)
    result = BatchResult(index=out / "index.html")
    taken: set[str] = {"index"}
    for n, spec in enumerate(plans):
        stem = _stem(str(spec), taken)
        step = _scaled(progress, n, len(plans), str(spec))
        failed = out / f"{FAILED_PREFIX}{stem}.json"
        try:
            plan, source, sha256, file_text = _read_plan(spec)
            meta = _render(
                plan, source, sha256, file_text, out / f"{stem}.html", keep_ipynb, pdf, step
            )
            result.reports.append((str(spec), out / f"{stem}.html", meta["summary"]))
            with contextlib.suppress(FileNotFoundError):
                failed.unlink()
        except (InputError, ReportError) as error:
            result.failures.append((str(spec), str(error)))
            _write_atomic(
                failed, json.dumps({"plan": str(spec), "error": str(error)}).encode("utf-8")
            )
    write_index(out)
    return result


def _scaled(progress: Progress | None, n: int, total: int, spec: str) -> Progress | None:
    if progress is None:
        return None
    return lambda stage, fraction: progress(f"{spec}: {stage}", (n + fraction) / total)


class _MetaReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "meta" and values.get("name") == META_NAME and self.meta is None:
            with contextlib.suppress(ValueError, TypeError):
                self.meta = json.loads(values.get("content") or "")


def _read_meta(path: Path) -> dict[str, Any] | None:
    """The metadata a report carries in its head (within its first 64 KB), or None."""
    with path.open("rb") as handle:  # the head ends before the first script (BokehJS)
        head = handle.read(65536).decode("utf-8", "replace")
    reader = _MetaReader()
    reader.feed(head.split("<script", 1)[0])
    return reader.meta if isinstance(reader.meta, dict) else None


def write_index(folder: str | Path) -> Path:
    """Rebuild ``folder/index.html`` from the reports and failure notes on disk, under a lock."""
    import fcntl

    folder = Path(folder)
    lock = os.open(folder / INDEX_LOCK, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        reports, failures = [], []
        for path in sorted(folder.glob("*.htm*")):
            meta = None if path.name == "index.html" else _read_meta(path)
            if meta is not None:
                reports.append((path.name, meta))
        for path in sorted(folder.glob(FAILED_PREFIX + "*.json")):
            with contextlib.suppress(ValueError, OSError):
                failures.append(json.loads(path.read_text("utf-8")))
        _write_atomic(folder / "index.html", _index_page(reports, failures).encode("utf-8"))
    finally:
        os.close(lock)
    return folder / "index.html"


def _index_page(reports: list[tuple[str, dict[str, Any]]], failures: list[dict[str, Any]]) -> str:
    esc = html.escape
    rows = [
        f'<tr class="bd-ok bd-{"risk" if m.get("at_risk") else "pass"}">'
        f'<td><a href="{esc(name)}">{esc(str(m.get("plan", name)))}</a></td>'
        f"<td>{esc(str(m.get('title', '')))}</td><td>{esc(str(m.get('verdict', '')))}</td>"
        f"<td>{esc(str(m.get('summary', '')))}</td></tr>"
        for name, m in reports
    ]
    rows += [
        f'<tr class="bd-failed"><td>{esc(str(f.get("plan", "")))}</td><td></td>'
        f"<td>failed</td><td>{esc(str(f.get('error', '')))}</td></tr>"
        for f in failures
    ]
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta http-equiv='Content-Security-Policy' "
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        "<title>beamdesign reports</title><style>body{font-family:sans-serif;margin:1.5em}"
        "table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:3px 8px;"
        "text-align:left;vertical-align:top}.bd-failed{color:#a00}.bd-risk td:nth-child(3)"
        "{color:#a00;font-weight:bold}.bd-pass td:nth-child(3){color:#060;font-weight:bold}</style>"
        f"</head><body><h1>beamdesign reports</h1><p>{len(reports)} report(s), "
        f"{len(failures)} failed.</p><table class='bd-index'><tr><th>plan</th><th>title</th>"
        "<th>verdict</th><th>details</th></tr>" + "".join(rows) + "</table></body></html>\n"
    )


__all__ = [
    "BatchResult",
    "Progress",
    "ReportError",
    "check_output",
    "check_output_folder",
    "render_batch",
    "render_report",
    "review_summary",
    "template_path",
    "write_index",
]
