"""Packaging and environment checks: what a fresh machine, a wheel and Binder will see.

- the root and Binder conda environments agree, and cover pyproject's dependencies;
- the core (src/beamdesign) imports and runs its CLI with only its declared dependencies;
- the wheel carries every module (including beamdesign.widgets) and every data file;
- repo2docker builds Binder's image from binder/ (checked without Docker);
- the one-command entry points (Makefile, .ci/run, README) stay consistent.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
CORE_DIR = ROOT / "src" / "beamdesign"
WIDGETS_DIR = ROOT / "widgets"
ENV_FILES = {"root": ROOT / "environment.yml", "binder": ROOT / "binder" / "environment.yml"}
# The distributions the core may import (pyproject `dependencies`); everything else,
# Jupyter included, must stay optional.
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
DATA_GLOBS = PYPROJECT["tool"]["setuptools"]["package-data"]["beamdesign"]
NOTEBOOKS = [
    "00_start_here",
    "01_dose_basics",
    "02_jousseaume2023",
    "03_plan_my_beamtime",
    "04_classroom_exercises",
    "05_where_the_energy_goes",
    "06_electrons_and_xrays",
    "07_design_your_experiment",
    "report_template",
]


# ---------------------------------------------------------------- conda environments


def _conda_specs(path: Path) -> dict[str, str]:
    """Map canonical package name -> version spec ('' if unpinned) of a conda env file."""
    env = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert env.get("channels") == ["conda-forge"], f"{path.name}: use conda-forge only"
    specs = {}
    for entry in env["dependencies"]:
        if isinstance(entry, dict):  # the `pip:` sub-list
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*(.*)", entry.strip())
        assert match, f"{path}: cannot parse dependency {entry!r}"
        name, spec = match.groups()
        specs[canonicalize_name(name)] = spec.strip()
    return specs


def _pinned_version(spec: str) -> str:
    """'==2.4.6' -> '2.4.6'; conda's '=3.11' (fuzzy) -> '3.11'."""
    return spec.lstrip("=")


def test_root_and_binder_environments_agree():
    root, binder = (_conda_specs(p) for p in ENV_FILES.values())
    root.pop("pip", None)  # the root file needs pip for its `pip: [-e .]` entry
    assert root == binder


@pytest.mark.parametrize("which", sorted(ENV_FILES))
def test_environment_pins_every_package_exactly(which):
    for name, spec in _conda_specs(ENV_FILES[which]).items():
        if name in ("python", "pip"):
            continue
        assert spec.startswith("=="), f"{ENV_FILES[which].name}: pin {name} with ==, got {spec!r}"


def test_root_environment_installs_the_package():
    env = yaml.safe_load(ENV_FILES["root"].read_text(encoding="utf-8"))
    pip_lists = [e["pip"] for e in env["dependencies"] if isinstance(e, dict) and "pip" in e]
    assert pip_lists == [["-e ."]]


def test_environments_cover_core_and_jupyter_dependencies():
    specs = _conda_specs(ENV_FILES["binder"])
    project = PYPROJECT["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["jupyter"]
    assert SpecifierSet(project["requires-python"]).contains(_pinned_version(specs["python"]))
    for text in wanted:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in specs, f"{requirement.name} (pyproject) is missing from environment.yml"
        version = Version(_pinned_version(specs[name]))
        assert requirement.specifier.contains(version), (
            f"environment.yml pins {name} {version}, outside pyproject's {requirement.specifier}"
        )


# ---------------------------------------------------------------- core without Jupyter


def _top_level_names(dist_name: str) -> set[str]:
    """Importable top-level names a distribution installs (modules, packages, extensions)."""
    names = set()
    for file in metadata.distribution(dist_name).files or ():
        parts = file.parts
        if len(parts) > 1:
            if not parts[0].endswith((".dist-info", ".data", ".libs")) and parts[0] not in (
                "..",
                "__pycache__",
            ):
                names.add(parts[0])
        elif file.suffix in (".py", ".so", ".pyd"):
            names.add(file.name.split(".")[0])
    return names


def _core_allowed_modules() -> set[str]:
    """Top-level modules of the core's declared dependencies, their requirements included."""
    todo = [Requirement(r).name for r in PYPROJECT["project"]["dependencies"]]
    seen: set[str] = set()
    allowed = {"beamdesign"}
    while todo:
        name = canonicalize_name(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        allowed |= _top_level_names(name)
        for text in metadata.distribution(name).requires or ():
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return allowed


def _core_modules() -> list[str]:
    modules = []
    for path in sorted(CORE_DIR.rglob("*.py")):
        parts = list(path.relative_to(CORE_DIR.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules.append(".".join(parts))
    return modules


def test_core_imports_and_runs_without_jupyter(tmp_path):
    """Every module of src/beamdesign imports, and the CLI runs, with only numpy, xraylib and
    PyYAML importable: a blocker refuses every other non-stdlib module (Jupyter, bokeh, ...)."""
    allowed = _core_allowed_modules()
    assert {"numpy", "xraylib", "yaml"} <= allowed
    script = textwrap.dedent(
        """
        import contextlib, importlib, io, json, sys

        allowed, modules = set(json.loads(sys.argv[1])), json.loads(sys.argv[2])
        refused = []

        class Blocker:
            def find_spec(self, name, path=None, target=None):
                top = name.partition(".")[0]
                if top in allowed or top in sys.stdlib_module_names:
                    return None
                refused.append(name)
                raise ModuleNotFoundError(f"blocked: {name} is not a core dependency", name=name)

        sys.meta_path.insert(0, Blocker())
        for name in modules:
            try:
                importlib.import_module(name)
            except ImportError as error:
                sys.exit(f"importing {name} without Jupyter failed: {error!r}")
        from beamdesign.cli import main
        for argv in (["stacks"], ["materials"], ["run", "default", "--json"]):
            with contextlib.redirect_stdout(io.StringIO()):
                status = main(argv)
            if status != 0:
                sys.exit(f"beamdesign {' '.join(argv)} exited with {status}")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script, json.dumps(sorted(allowed)), json.dumps(_core_modules())],
        cwd=tmp_path,  # not the repo root, where widgets/ would import as a top-level module
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]


# ---------------------------------------------------------------- the wheel


def _expected_wheel_files() -> set[str]:
    expected = set()
    for source, package in ((CORE_DIR, "beamdesign"), (WIDGETS_DIR, "beamdesign/widgets")):
        for path in source.rglob("*.py"):
            if "__pycache__" not in path.parts and ".ipynb_checkpoints" not in path.parts:
                expected.add(f"{package}/{path.relative_to(source).as_posix()}")
    for pattern in DATA_GLOBS:
        matches = list(CORE_DIR.glob(pattern))
        assert matches, f"package-data pattern {pattern!r} matches no file"
        expected |= {f"beamdesign/{p.relative_to(CORE_DIR).as_posix()}" for p in matches}
    return expected


def _can_build_offline() -> bool:
    """setuptools >= 70.1 builds wheels alone; older ones also need the `wheel` package."""
    try:
        setuptools_version = Version(metadata.version("setuptools"))
    except metadata.PackageNotFoundError:
        return False
    if setuptools_version >= Version("70.1"):
        return True
    try:
        metadata.version("wheel")
    except metadata.PackageNotFoundError:
        return False
    return setuptools_version >= Version("68")


def _copy_sources(dest: Path) -> Path:
    """The files a build reads, copied so that no stale build/ folder or concurrent edit of the
    checkout leaks into the wheel, and the checkout is left untouched."""
    ignore = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", "*.pyc")
    for name in ("src", "widgets"):
        shutil.copytree(ROOT / name, dest / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md", "setup.cfg", "setup.py", "MANIFEST.in", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, dest / name)
    return dest


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    source = _copy_sources(tmp_path_factory.mktemp("source"))
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)]
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
    if _can_build_offline():
        command.insert(5, "--no-build-isolation")
        env["PIP_NO_INDEX"] = "1"
    # Otherwise pip fetches pyproject's build requirements (setuptools, wheel) from the index.
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    (path,) = out.glob("beamdesign-*.whl")
    return path


def test_wheel_contains_every_module_and_data_file(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    missing = _expected_wheel_files() - names
    assert not missing, f"left out of the wheel: {sorted(missing)}"
    assert not any(n.startswith("widgets/") for n in names), "widgets/ must ship as beamdesign.widgets"


def test_wheel_imports_every_module(wheel, tmp_path):
    """Unpacked alone (not the editable checkout), every module of the wheel imports."""
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
        modules = sorted(
            n[: -len(".py")].replace("/", ".").removesuffix(".__init__")
            for n in archive.namelist()
            if n.endswith(".py")
        )
    script = textwrap.dedent(
        """
        import importlib, json, sys
        sys.path.insert(0, sys.argv[1])
        for name in json.loads(sys.argv[2]):
            module = importlib.import_module(name)
            assert module.__file__.startswith(sys.argv[1]), (name, module.__file__)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(site), json.dumps(modules)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]


# ---------------------------------------------------------------- Binder


def test_binder_scripts_are_executable_and_strict():
    post_build = ROOT / "binder" / "postBuild"
    start = ROOT / "binder" / "start"
    for script in (post_build, start, ROOT / ".ci" / "run"):
        assert os.access(script, os.X_OK), f"{script.relative_to(ROOT)} needs its executable bit"
        assert "set -euo pipefail" in script.read_text(encoding="utf-8")
    assert "pip install --no-deps -e ." in post_build.read_text(encoding="utf-8")
    assert start.read_text(encoding="utf-8").rstrip().splitlines()[-1] == 'exec "$@"'
    overrides = json.loads((ROOT / "binder" / "overrides.json").read_text(encoding="utf-8"))
    news = overrides["@jupyterlab/apputils-extension:notification"]
    assert news == {"fetchNews": "false", "checkForUpdates": False}


def test_repo2docker_builds_binder_from_binder_folder(tmp_path):
    """repo2docker --no-build prints the Dockerfile Binder would build, without Docker."""
    result = subprocess.run(
        [sys.executable, "-m", "repo2docker", "--no-build", "--debug", str(ROOT)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "binder/environment.yml" in output
    assert "./binder/postBuild" in output
    assert "binder/start" in output
    assert "python=3.11" in output or "python 3.11" in output.lower()


# ---------------------------------------------------------------- one-command entry points


def test_readme_gives_the_two_commands_verbatim():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```(?:\w+)?\n(.*?)```", readme, flags=re.S)
    commands = {line.strip() for block in blocks for line in block.splitlines()}
    assert {"make planner", "make test"} <= commands
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("planner", "cli", "test", "bench"):
        assert re.search(rf"^{target}:", makefile, flags=re.M), f"Makefile lacks `{target}`"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.startswith("#!/usr/bin/env bash") and "exec make test" in ci


def test_readme_lists_exactly_the_notebooks():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    on_disk = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    listed = sorted(set(re.findall(r"notebooks/(\w+)\.ipynb", readme)))
    assert listed == sorted(NOTEBOOKS)
    assert on_disk == sorted(NOTEBOOKS), "README's notebook list and notebooks/ disagree"
