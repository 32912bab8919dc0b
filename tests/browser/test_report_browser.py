"""A report built from hostile names, opened in a real browser (headless Debian Chromium via
Playwright): no script of the plan runs, no injected element exists, the plots still draw.

Skipped when Chromium, Playwright or papermill is missing, unless BEAMDESIGN_REQUIRE_BROWSER=1
(CI), where that is a failure.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--no-first-run",
]


def _missing(reason: str) -> None:
    if os.environ.get("BEAMDESIGN_REQUIRE_BROWSER") == "1":
        pytest.fail(reason + " (BEAMDESIGN_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory) -> Path:
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} is not installed")
    try:
        import papermill  # noqa: F401
        from playwright.sync_api import sync_playwright  # noqa: F401
    except ImportError as error:
        _missing(f"{error.name} is not installed")
    # the kernel starts in another folder: this checkout's package by absolute path
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "src")] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    )
    sys.path.insert(0, str(ROOT / "tests"))
    from report_hostile import write_hostile_plan

    from beamdesign.report import render_report

    folder = tmp_path_factory.mktemp("hostile")
    write_hostile_plan(folder / "hostile.yaml")
    return render_report(folder / "hostile.yaml", folder / "hostile.html")


@pytest.mark.parametrize("viewport, bypass_csp", [((1366, 768), False), ((1920, 1080), True)])
def test_hostile_report_runs_no_injected_script(hostile_report, viewport, bypass_csp):
    """With the page's CSP, and with it switched off (the escaping alone must hold)."""
    from playwright.sync_api import sync_playwright
    from report_hostile import PWNED

    dialogs, errors, console = [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            page = browser.new_page(
                viewport={"width": viewport[0], "height": viewport[1]}, bypass_csp=bypass_csp
            )
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
            page.goto(hostile_report.as_uri())
            deadline = time.monotonic() + 30  # (wait_for_function would eval: the CSP forbids it)
            while page.locator(".bd-plot canvas").count() < 4:
                assert time.monotonic() < deadline, "the plots were not drawn"
                page.wait_for_timeout(200)
            page.wait_for_timeout(1000)  # let any onerror/onload handler fire
            injected = page.evaluate(f"document.querySelectorAll('.{PWNED}, img, svg').length")
            pwned = page.evaluate("typeof window.__pwned")
            title = page.title()
            text = page.inner_text("h1.bd-title")
            page.emulate_media(media="print")
            pdf = page.pdf(format="A4")
        finally:
            browser.close()
    assert dialogs == [], dialogs
    assert pwned == "undefined"
    assert injected == 0
    assert errors == [], errors
    # everything our page runs is allowed by its CSP: no violation reported
    assert not [m for m in console if "Content Security Policy" in m], console
    assert "onerror" in text and "<img" in text  # the name is shown as text
    assert title.startswith("</script><img")
    assert pdf.startswith(b"%PDF")
