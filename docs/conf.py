"""Sphinx configuration of the beamdesign documentation (``make docs``; Read the Docs)."""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))
# The source tree first, so a checkout documents itself even where another beamdesign is
# installed (Read the Docs installs the same tree with `pip install .[docs]`).
sys.path.insert(0, str(DOCS.parent / "src"))

import beamdesign  # after the path set-up above

project = "beamdesign"
author = "the beamdesign developers"
copyright = "2026, the beamdesign developers"
release = beamdesign.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "beamdesign_docs",
]

exclude_patterns = ["_build", "_ext", "**.ipynb_checkpoints", "Thumbs.db", ".DS_Store"]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}

# MyST: $...$ maths, ::: fences, `(label)=` targets in generated pages.
myst_enable_extensions = ["colon_fence", "dollarmath", "deflist"]
myst_heading_anchors = 3

# Tutorials are the notebooks as committed: their stored outputs are shown, never re-executed
# (a docs build needs no kernel, and shows exactly what nbval checks).
nb_execution_mode = "off"
nb_merge_streams = True

# API reference: NumPy-style docstrings, members in source order, type hints in descriptions.
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = False
napoleon_numpy_docstring = True

html_theme = "furo"
html_title = f"beamdesign {release}"
html_static_path: list[str] = []
