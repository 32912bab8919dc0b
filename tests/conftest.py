"""Shared test configuration. Reference data live in ``tests/data`` (see its SOURCES.md).

In CI (``CI=true``) hypothesis runs derandomised: the same examples on every run, so a CI
verdict is reproducible; locally it explores new examples each run.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI") == "true":
    settings.load_profile("ci")
