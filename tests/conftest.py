"""Shared test fixtures: paths to the read-only reference data beside the checkout."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("BEAMDESIGN_SHARED", ROOT.parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"reference data folder {SHARED} is missing (set BEAMDESIGN_SHARED)")
    return SHARED
