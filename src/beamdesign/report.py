"""HTML reports of a plan: run the report notebook with papermill, export it without code.

This is an optional feature on top of the pure core: it needs the ``jupyter`` extra
(papermill, nbconvert, ipykernel, bokeh). Those packages are imported inside the functions that
use them, never when ``beamdesign.report`` is imported, so the core stays free of Jupyter.

The template is package data, ``beamdesign/data/report_template.ipynb``, found with
``importlib.resources`` (so it ships in the wheel and works from an editable install alike).
``notebooks/report_template.ipynb`` is an identical copy for people who open it in Jupyter; a
test asserts the two files are byte-identical. The template draws its plots with
``beamdesign.widgets.figures`` (static bokeh figures, BokehJS inlined: the HTML works offline).

The plan reaches the notebook as plain strings only (the YAML text, the file name, the SHA-256),
never as Python code; the notebook parses the YAML with ``yaml.safe_load`` and validates it.
"""

from __future__ import annotations

import hashlib
import html
import os
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from beamdesign.errors import InputError
from beamdesign.plan import Plan, builtin_plan_names, builtin_plan_text, load_plan, plan_text

TEMPLATE = "data/report_template.ipynb"
#: the kernel the report runs in: the ipykernel spec of the current environment
KERNEL_NAME = "python3"
#: a report cell taking longer than this fails the report instead of hanging it
CELL_TIMEOUT_S = 300


class ReportError(RuntimeError):
    """The report notebook failed for a reason other than an invalid plan (a bug, a kernel)."""


@dataclass(frozen=True)
class BatchResult:
    """What ``render_batch`` made: reports (plan, HTML path, verdict summary), failures, index."""

    index: Path
    reports: list[tuple[str, Path, str]] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)


def template_path() -> resources.abc.Traversable:
    """The packaged report template."""
    return resources.files("beamdesign").joinpath(TEMPLATE)


def _read_plan(spec: str | Path | Plan) -> tuple[Plan, str, str, str]:
    """(plan, source name, SHA-256, file text): the hash is of the file bytes, or of the YAML
    text for a Plan object (then the file text is empty and the report shows the plan's YAML)."""
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
        source = path.name
    return plan, source, hashlib.sha256(data).hexdigest(), data.decode("utf-8", "replace")


def _execute(plan: Plan, source: str, sha256: str, file_text: str, out_ipynb: Path) -> None:
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

    # plain strings only; the validated plan as YAML (a relative stack path already resolved)
    parameters = {"plan_yaml": plan_text(plan, "yaml"), "plan_source": source, "plan_sha256": sha256,
                  "plan_file_text": file_text}
    with ExitStack() as stack:
        workdir = stack.enter_context(tempfile.TemporaryDirectory(prefix="beamdesign-report-"))
        template = stack.enter_context(resources.as_file(template_path()))
        previous = os.environ.get("BOKEH_RESOURCES")
        os.environ["BOKEH_RESOURCES"] = "inline"  # the kernel inherits it; the template also asks INLINE
        try:
            papermill.execute_notebook(
                str(template), str(out_ipynb), parameters=parameters, kernel_name=KERNEL_NAME,
                cwd=workdir, progress_bar=False, log_output=False, request_save_on_cell_execute=False,
                start_timeout=60, execution_timeout=CELL_TIMEOUT_S,
                **({"kernel_manager_class": IPCKernelManager} if os.name == "posix" else {}))
        except PapermillExecutionError as error:
            if error.ename == "InputError":
                raise InputError("plan", source or plan.title, error.evalue) from None
            raise ReportError(f"the report notebook failed ({error.ename}: {error.evalue}); "
                              f"the executed notebook is {out_ipynb}") from None
        finally:
            if previous is None:
                os.environ.pop("BOKEH_RESOURCES", None)
            else:
                os.environ["BOKEH_RESOURCES"] = previous


def _export(ipynb: Path, out_html: Path, title: str) -> None:
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    notebook = nbformat.read(str(ipynb), as_version=4)
    body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": title}})
    out_html.write_text(body, encoding="utf-8")


def _render(plan: Plan, source: str, sha256: str, file_text: str, out_html: Path,
            keep_ipynb: bool) -> Path:
    out_html = Path(out_html).expanduser()
    if out_html.suffix.lower() not in {".html", ".htm"}:
        raise InputError("-o", str(out_html), "a report file name ends in .html")
    if not out_html.parent.is_dir():
        raise InputError("-o", str(out_html), "the folder does not exist")
    with tempfile.TemporaryDirectory(prefix="beamdesign-report-") as scratch:
        ipynb = out_html.with_suffix(".ipynb") if keep_ipynb else Path(scratch) / "report.ipynb"
        _execute(plan, source, sha256, file_text, ipynb)
        _export(ipynb, out_html, " ".join(plan.title.split())[:120] or "beamdesign report")
    return out_html


def render_report(plan_path_or_plan: str | Path | Plan, out_html: str | Path,
                  keep_ipynb: bool = True) -> Path:
    """Render the HTML report of a plan (file path, built-in name or Plan object).

    The plan is validated here first, so an invalid plan raises ``InputError`` with the plan's
    own sentence before a kernel starts. The executed notebook is kept next to the HTML
    (``my_plan.html`` + ``my_plan.ipynb``) unless ``keep_ipynb`` is false. Returns the HTML path.
    """
    return _render(*_read_plan(plan_path_or_plan), Path(out_html), keep_ipynb)


def _summary(plan: Plan) -> str:
    from beamdesign.experiment import run_plan

    result = run_plan(plan)
    verdicts = [f"{loc.name}: {loc.verdict}" for loc in result.locations]
    if len(verdicts) > 4:
        worst = result.worst()
        verdicts = [f"{len(verdicts)} locations; worst {worst.name}: {worst.verdict}"]
    return "; ".join(verdicts)


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


def render_batch(plans: list[str | Path], out_dir: str | Path, keep_ipynb: bool = True) -> BatchResult:
    """One report per plan in ``out_dir`` plus ``index.html`` linking each with its verdicts.

    A plan that fails (invalid, or its notebook fails) is listed in ``failures`` and in the
    index; the others are still rendered.
    """
    out = Path(out_dir).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    result = BatchResult(index=out / "index.html")
    taken: set[str] = {"index"}
    for spec in plans:
        stem = _stem(str(spec), taken)
        try:
            plan, *provenance = _read_plan(spec)
            path = _render(plan, *provenance, out / f"{stem}.html", keep_ipynb)
            result.reports.append((str(spec), path, _summary(plan)))
        except (InputError, ReportError) as error:
            result.failures.append((str(spec), str(error)))
    _write_index(result)
    return result


def _write_index(batch: BatchResult) -> None:
    esc = html.escape
    rows = [f'<tr class="bd-ok"><td><a href="{esc(path.name)}">{esc(spec)}</a></td><td>{esc(summary)}</td></tr>'
            for spec, path, summary in batch.reports]
    rows += [f'<tr class="bd-failed"><td>{esc(spec)}</td><td>failed: {esc(message)}</td></tr>'
             for spec, message in batch.failures]
    batch.index.write_text(
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>beamdesign reports</title>"
        "<style>body{font-family:sans-serif}table{border-collapse:collapse}"
        "td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}.bd-failed{color:#a00}</style>"
        f"</head><body><h1>beamdesign reports</h1><p>{len(batch.reports)} rendered, "
        f"{len(batch.failures)} failed.</p><table class='bd-index'><tr><th>plan</th><th>verdicts</th></tr>"
        + "".join(rows) + "</table></body></html>\n", encoding="utf-8")


__all__ = ["BatchResult", "ReportError", "render_batch", "render_report", "template_path"]
