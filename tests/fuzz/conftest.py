"""Fuzz suite settings and the tally of outcomes printed at the end of the run.

``BEAMDESIGN_FUZZ_EXAMPLES`` sets hypothesis' ``max_examples`` per fuzz test (default 40, so
the suite stays under a minute in CI); run 10,000 with e.g.
``BEAMDESIGN_FUZZ_EXAMPLES=10000 pytest tests/fuzz --hypothesis-seed=1``.
"""

from __future__ import annotations

from fuzz_helpers import TALLY


def pytest_terminal_summary(terminalreporter) -> None:
    if TALLY:
        total = sum(TALLY.values())
        terminalreporter.write_line(
            f"fuzz: {total} generated cases: "
            + ", ".join(f"{k} {v}" for k, v in sorted(TALLY.items()))
        )
