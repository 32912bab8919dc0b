"""Sphinx glue for the generated reference pages (the generators themselves are Sphinx-free).

A page holding the line ``<!-- generated: cli-reference -->`` gets the CLI reference from
``beamdesign.cli.build_parser()``; a page holding ``<!-- generated: plan-schema -->`` gets the
plan-file reference from ``src/beamdesign/data/plan.schema.json``. Both are produced in memory
at every build (``source-read``), so no generated file lands in the source tree.

The tutorials are symlinks to ``notebooks/*.ipynb``, read as stored (never executed), with two
adjustments made in memory: Sphinx resolves a relative link through the symlink (to
``notebooks/``, outside the documentation), so a Markdown link to a sibling notebook,
``[text](01_dose_basics.ipynb)``, becomes a ``{doc}`` reference; and Bokeh's BokehJS bundles
for the classic notebook's loader (``BOKEH_BUNDLES``), which a web page cannot use, are dropped
(each has an ``application/javascript`` twin in the same output, which the page runs).

Docstrings are written as plain NumPy-style text: a bar there (``|x|``, ``|F|²``) is an
absolute value or a separator, never a reStructuredText substitution (the project defines none),
so autodoc gets every bar escaped.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli_to_md import cli_markdown
from schema_to_md import schema_file_markdown

if TYPE_CHECKING:
    from sphinx.application import Sphinx

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT / "src" / "beamdesign" / "data" / "plan.schema.json"
CLI_MARKER = "<!-- generated: cli-reference -->"
SCHEMA_MARKER = "<!-- generated: plan-schema -->"

SIBLING_NOTEBOOK_LINK = re.compile(r"\[([^\]\n]+)\]\(([\w.-]+)\.ipynb\)")
BOKEH_BUNDLES = ("application/vnd.bokehjs_load.v0+json", "application/vnd.bokehjs_exec.v0+json")


def _notebook_for_web(text: str) -> str:
    """A notebook's JSON with sibling links as ``{doc}`` references and no BokehJS bundles."""
    notebook = json.loads(text)
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            cell["source"] = SIBLING_NOTEBOOK_LINK.sub(r"{doc}`\1 <\2>`", source)
        for output in cell.get("outputs", ()):
            for mime_type in BOKEH_BUNDLES:
                output.get("data", {}).pop(mime_type, None)
    return json.dumps(notebook)


# A bar outside literals and roles, not already escaped.
BAR = re.compile(r"(?<!\\)\|")
LITERAL_OR_ROLE = re.compile(r"(``.+?``|`[^`]+`)")
TABLE_OR_LINE_BLOCK = re.compile(r"\s*(\|(\s|$)|\+[-=])")


def escape_bars(line: str) -> str:
    """``|F_hkl|² < |error|`` -> ``\\|F_hkl\\|² < \\|error\\|``: bars are absolute values or
    separators (``NMC811 | graphite``), never reStructuredText substitutions (the project defines
    none). Table rows and line blocks (``| a | b |``, ``+---+``) are left as written."""
    if TABLE_OR_LINE_BLOCK.match(line):
        return line
    parts = LITERAL_OR_ROLE.split(line)  # odd items: literals and role contents, kept as they are
    return "".join(part if i % 2 else BAR.sub(r"\\|", part) for i, part in enumerate(parts))


def _escape_docstring(
    app: Sphinx, what: str, name: str, obj: object, options: object, lines: list[str]
) -> None:
    lines[:] = [escape_bars(line) for line in lines]


def _cli_reference() -> str:
    from beamdesign.cli import build_parser

    return cli_markdown(build_parser())


def _schema_reference(app: Sphinx) -> str:
    if not SCHEMA_PATH.is_file():
        raise FileNotFoundError(
            f"the plan-file reference renders the package's JSON Schema, {SCHEMA_PATH}, "
            "which is missing: python -m beamdesign.schema > src/beamdesign/data/plan.schema.json"
        )
    app.env.note_dependency(str(SCHEMA_PATH))
    return schema_file_markdown(SCHEMA_PATH)


def _fill_generated(app: Sphinx, docname: str, source: list[str]) -> None:
    text = source[0]
    if docname.startswith("tutorials/") and text.lstrip().startswith("{"):
        text = _notebook_for_web(text)
    if CLI_MARKER in text:
        text = text.replace(CLI_MARKER, _cli_reference())
    if SCHEMA_MARKER in text:
        text = text.replace(SCHEMA_MARKER, _schema_reference(app))
    source[0] = text


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("source-read", _fill_generated)
    app.connect("autodoc-process-docstring", _escape_docstring)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
