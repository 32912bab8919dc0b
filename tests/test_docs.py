"""The documentation site: it builds with no warning, from the repository alone, without writing
into the source tree; its generated references (CLI, plan-file schema) follow the code.

The full build needs the `docs` extra (Sphinx, MyST-NB, Furo). Without it the build test is
skipped, unless BEAMDESIGN_REQUIRE_DOCS=1 (CI), which turns the skip into a failure.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
NOTEBOOKS = ROOT / "notebooks"
NOT_A_TUTORIAL = {"report_template", "app"}  # papermill's template; the planner served by Voila


def _load(name: str) -> ModuleType:
    """A generator from docs/_ext, imported by path (docs/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, DOCS / "_ext" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


schema_to_md = _load("schema_to_md")
cli_to_md = _load("cli_to_md")


# ---------------------------------------------------------------- docstrings as autodoc reads them


def test_a_missing_schema_stops_the_build_with_the_fix(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(DOCS / "_ext"))
    glue = _load("beamdesign_docs")
    monkeypatch.setattr(glue, "SCHEMA_PATH", tmp_path / "plan.schema.json")
    with pytest.raises(FileNotFoundError, match=r"plan\.schema\.json, which is missing: python -m"):
        glue._schema_reference(app=None)


def test_absolute_value_bars_are_escaped_outside_literals(monkeypatch):
    monkeypatch.syspath_prepend(str(DOCS / "_ext"))  # the glue imports its sibling generators
    escape_bars = _load("beamdesign_docs").escape_bars
    assert escape_bars("(|error| < 2e-7)") == "(\\|error\\| < 2e-7)"
    assert escape_bars("|F_hkl|² from i|Fii|") == "\\|F_hkl\\|² from i\\|Fii\\|"
    assert escape_bars("NMC811 | graphite") == "NMC811 \\| graphite"
    assert escape_bars("``|x|`` and :math:`|x|` and |y|") == "``|x|`` and :math:`|x|` and \\|y\\|"
    # table rows and line blocks, and bars already escaped, are left alone
    for text in ("| a | b |", "  +---+---+", "\\|x\\|"):
        assert escape_bars(text) == text


# ---------------------------------------------------------------- the whole site


def _docs_tools_missing() -> list[str]:
    return [
        name for name in ("sphinx", "myst_nb", "furo") if importlib.util.find_spec(name) is None
    ]


def _tree(folder: Path) -> dict[str, int]:
    """Every file under `folder` (symlinks not followed) with its modification time."""
    return {
        str(p.relative_to(folder)): p.lstat().st_mtime_ns
        for p in folder.rglob("*")
        if "_build" not in p.relative_to(folder).parts
    }


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    missing = _docs_tools_missing()
    if missing:
        message = f"the docs extra is not installed ({', '.join(missing)} missing)"
        if os.environ.get("BEAMDESIGN_REQUIRE_DOCS") == "1":
            pytest.fail(f"BEAMDESIGN_REQUIRE_DOCS=1 but {message}: pip install -e '.[docs]'")
        pytest.skip(message)
    out = tmp_path_factory.mktemp("docs")
    before = _tree(DOCS)
    # A child process: Sphinx and its extensions may emit deprecation warnings, which this
    # suite turns into errors; -W makes the docs' own warnings fail the build instead.
    script = (
        "import sys; from sphinx.cmd.build import build_main; sys.exit(build_main(sys.argv[1:]))"
    )
    args = ["-W", "--keep-going", "-q", "-b", "html", "-d", str(out / "doctrees")]
    result = subprocess.run(
        [sys.executable, "-c", script, *args, str(DOCS), str(out / "html")],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"sphinx-build failed:\n{result.stderr[-5000:]}"
    assert _tree(DOCS) == before, "building the docs changed files under docs/"
    return out / "html"


def _page(site: Path, name: str) -> str:
    return (site / f"{name}.html").read_text(encoding="utf-8")


def test_site_has_every_page(site):
    pages = [
        "index",
        "getting-started",
        "physics",
        "validation",
        "reference/plan-file",
        "reference/cli",
        "reference/api",
        "changelog",
        "tutorials/index",
        *(f"tutorials/{nb.stem}" for nb in _tutorial_notebooks()),
    ]
    missing = [name for name in pages if not (site / f"{name}.html").is_file()]
    assert not missing, f"pages not built: {missing}"
    assert (site / "_images" / "planner.png").is_file()


def test_cli_reference_shows_every_subcommand(site):
    from beamdesign.cli import build_parser

    page = _page(site, "reference/cli")
    names = cli_to_md._subcommands(build_parser())
    assert names, "the CLI has no sub-command"
    for name in names:
        assert f"beamdesign {name}" in page, f"`beamdesign {name}` missing from the CLI page"


def test_api_reference_documents_the_workflow(site):
    page = _page(site, "reference/api")
    for name in ("load_plan", "run_plan", "advise", "render_report", "stack_dose"):
        assert re.search(rf'id="beamdesign\.\w+\.{name}"', page), f"{name} is not documented"


def test_tutorials_show_stored_outputs_with_working_links(site):
    page = _page(site, "tutorials/02_jousseaume2023")
    assert "model/paper" in page, "the stored output of the paper comparison is not shown"
    start = _page(site, "tutorials/00_start_here")
    assert 'href="01_dose_basics.html"' in start, "00_start_here's link to 01 is broken"
    assert "vnd.bokehjs_load" not in start


def test_changelog_page_is_the_changelog(site):
    assert "Keep a Changelog" in _page(site, "changelog")


# ---------------------------------------------------------------- tutorials = notebooks


def _tutorial_notebooks() -> list[Path]:
    return sorted(p for p in NOTEBOOKS.glob("*.ipynb") if p.stem not in NOT_A_TUTORIAL)


def test_every_notebook_is_a_tutorial_page():
    """docs/tutorials holds one symlink per notebook, listed in the tutorials' toctree."""
    links = sorted((DOCS / "tutorials").glob("*.ipynb"))
    assert [p.name for p in links] == [p.name for p in _tutorial_notebooks()]
    for link in links:
        assert link.is_symlink() and link.resolve() == (NOTEBOOKS / link.name).resolve()
    index = (DOCS / "tutorials" / "index.md").read_text(encoding="utf-8")
    toctree = re.search(r"```\{toctree\}\n(.*?)```", index, flags=re.S)
    assert toctree, "docs/tutorials/index.md has no toctree"
    entries = [line.strip() for line in toctree.group(1).splitlines()]
    assert [e for e in entries if e and not e.startswith(":")] == [p.stem for p in links]


# ---------------------------------------------------------------- plan-schema generator

# A minimal real JSON Schema of a plan (draft 2020-12): the generator must render whatever the
# shipped schema says, so it is tested on this fixture rather than on the shipped file.
PLAN_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "beamdesign plan",
    "description": "One experiment: cell stack, beam, protocol, schedule, thresholds.",
    "type": "object",
    "required": ["version", "stack", "beam"],
    "additionalProperties": False,
    "properties": {
        "version": {"const": 1, "description": "Plan-file format version."},
        "title": {"type": "string", "description": "Free text | shown in reports."},
        "stack": {
            "oneOf": [{"type": "string"}, {"$ref": "#/$defs/Stack"}],
            "description": "Built-in stack name, file, or inline stack.",
        },
        "beam": {"$ref": "#/$defs/Beam"},
        "protocol": {
            "type": "array",
            "items": {"type": "string"},
            "examples": [["Charge at C/8 for 8 h"]],
        },
        "schedule": {
            "type": "object",
            "description": "Where and how long the beam stays.",
            "properties": {
                "exposure_s": {"type": "number", "exclusiveMinimum": 0},
                "raster": {
                    "type": "object",
                    "properties": {"nx": {"type": "integer", "minimum": 1}},
                },
            },
        },
        "metadata": {"type": "object", "patternProperties": {"^x-": {"type": "string"}}},
        "attenuators": {
            "type": "array",
            "items": {
                "oneOf": [
                    {"type": "object", "properties": {"transmission": {"type": "number"}}},
                    {"type": "object", "properties": {"material": {"type": "string"}}},
                ]
            },
        },
    },
    "$defs": {
        "Beam": {
            "type": "object",
            "description": "The X-ray beam.",
            "required": ["energy_keV", "flux_ph_s"],
            "properties": {
                "energy_keV": {"type": "number", "minimum": 1, "maximum": 200},
                "flux_ph_s": {"type": "number", "exclusiveMinimum": 0},
                "spot_um": {
                    "type": "array",
                    "items": {"type": "number"},
                    "minItems": 2,
                    "maxItems": 2,
                },
                "profile": {"enum": ["tophat", "gaussian"], "default": "gaussian"},
            },
        },
        "Stack": {
            "type": "object",
            "properties": {"layers": {"type": "array", "items": {"type": "object"}}},
            "additionalProperties": {"type": "string"},
        },
    },
}


def _row(markdown: str, key: str) -> list[str]:
    """The cells of the table row of `key` (escaped pipes kept inside their cell)."""
    (line,) = [ln for ln in markdown.splitlines() if ln.startswith(f"| `{key}` |")]
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]


def test_schema_tables_give_type_required_default_and_allowed_values():
    md = schema_to_md.schema_markdown(PLAN_SCHEMA)
    assert md.startswith("## beamdesign plan\n")
    assert _row(md, "version") == ["`version`", "`1`", "yes", "", "Plan-file format version."]
    assert _row(md, "title")[4] == "Free text \\| shown in reports."
    assert _row(md, "stack")[1] == "string or [Stack](#schema-stack)"
    assert _row(md, "beam")[1:3] == ["[Beam](#schema-beam)", "yes"]
    assert _row(md, "protocol")[1] == "array of string"
    assert _row(md, "protocol")[4] == 'e.g. `["Charge at C/8 for 8 h"]`'
    assert _row(md, "energy_keV")[1:] == ["number", "yes", "", "≥ 1; ≤ 200"]
    assert _row(md, "flux_ph_s")[4] == "> 0"
    assert _row(md, "spot_um")[1:] == ["array of number", "no", "", "items ≥ 2; items ≤ 2"]
    assert _row(md, "profile")[3:] == ['`"gaussian"`', 'one of `"tophat"`, `"gaussian"`']


def test_schema_definitions_get_linked_sections_and_extra_key_rules():
    md = schema_to_md.schema_markdown(PLAN_SCHEMA, heading_level=3)
    assert "(schema-beam)=\n### `Beam`\n\nThe X-ray beam." in md
    assert "(schema-stack)=\n### `Stack`" in md
    top, rest = md.split("(schema-beam)=", 1)
    assert "No other key is allowed." in top
    assert "Other keys: string." in rest


def test_inline_objects_get_their_own_sections_named_by_path():
    md = schema_to_md.schema_markdown(PLAN_SCHEMA)
    assert _row(md, "schedule")[1] == "object [schedule](#schema-schedule)"
    assert _row(md, "raster")[1] == "object [schedule.raster](#schema-schedule-raster)"
    assert "(schema-schedule)=\n## `schedule`\n\nWhere and how long the beam stays." in md
    assert _row(md, "nx")[1:] == ["integer", "no", "", "≥ 1"]
    # sections in reading order: root, its inline objects depth first, then each definition
    order = re.findall(r"^## `(.+)`$", md, flags=re.M)
    assert order == [
        "schedule",
        "schedule.raster",
        "metadata",
        "attenuators[] (option 1)",
        "attenuators[] (option 2)",
        "Beam",
        "Stack",
    ]
    assert _row(md, "metadata")[1] == "object [metadata](#schema-metadata)"
    metadata = md.split("## `metadata`", 1)[1].split("## `attenuators[] (option 1)`", 1)[0]
    assert metadata.strip() == "Keys matching `^x-`: string.\n\n(schema-attenuators-option-1)="


def test_object_alternatives_get_one_section_each():
    md = schema_to_md.schema_markdown(PLAN_SCHEMA)
    assert _row(md, "attenuators")[1] == (
        "array of object [attenuators[] (option 1)](#schema-attenuators-option-1)"
        " or object [attenuators[] (option 2)](#schema-attenuators-option-2)"
    )
    assert _row(md, "transmission")[1] == "number"
    assert _row(md, "material")[1] == "string"


def test_section_names_that_would_share_an_anchor_are_numbered():
    sections = [("", {}), ("a.b", {}), ("a-b", {}), ("a b", {})]
    names = [name for name, _ in schema_to_md._unique_names(sections)]
    assert names == ["", "a.b", "a-b (2)", "a b (3)"]


def test_schema_file_is_rendered_whole(tmp_path):
    path = tmp_path / "plan.schema.json"
    path.write_text(json.dumps(PLAN_SCHEMA), encoding="utf-8")
    assert schema_to_md.schema_file_markdown(path) == schema_to_md.schema_markdown(PLAN_SCHEMA)


def test_schema_refs_outside_the_file_are_refused():
    schema = {"type": "object", "properties": {"x": {"$ref": "other.json#/x"}}}
    with pytest.raises(ValueError, match=r"only local \$refs .* got 'other.json#/x'"):
        schema_to_md.schema_markdown(schema)


# ---------------------------------------------------------------- CLI generator


def _toy_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="toy", description="A toy program.")
    commands = parser.add_subparsers(dest="command", required=True)
    fly = commands.add_parser("fly", help="fly somewhere")
    fly.add_argument("--height-m", type=float, default=10.0, help="height (m)")
    commands.add_parser("land", help="land", aliases=["touch-down"])
    return parser


def test_cli_markdown_has_one_section_per_subcommand_with_its_help():
    md = cli_to_md.cli_markdown(_toy_parser())
    assert md.startswith("```text\nusage: toy [-h] {fly,land,touch-down} ...")
    sections = re.findall(r"^## `(.+)`$", md, flags=re.M)
    assert sections == ["toy fly", "toy land"]  # the alias is not a second section
    fly = md.split("## `toy fly`", 1)[1].split("## `toy land`", 1)[0]
    assert "--height-m HEIGHT_M" in fly and "height (m)" in fly


def test_cli_markdown_does_not_depend_on_the_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")
    narrow = cli_to_md.cli_markdown(_toy_parser())
    monkeypatch.setenv("COLUMNS", "200")
    assert cli_to_md.cli_markdown(_toy_parser()) == narrow
    assert os.environ["COLUMNS"] == "200"
