"""The report shows the signal beside the dose verdict for a plan with a design section."""

from __future__ import annotations

import os
from html.parser import HTMLParser
from pathlib import Path

import pytest

pytest.importorskip("papermill")

ROOT = Path(__file__).resolve().parents[1]
# the report kernel starts elsewhere: give it this checkout's package by absolute path
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(ROOT / "src")] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
)

from beamdesign.plan import load_plan  # noqa: E402
from beamdesign.report import render_report  # noqa: E402
from beamdesign.signal import signal_block, signal_sentence  # noqa: E402


class _Signal(HTMLParser):
    """The attributes and text of the ``bd-signal`` paragraph, and the verdict banner's text."""

    def __init__(self) -> None:
        super().__init__()
        self.attrs: dict[str, str | None] | None = None
        self.text = ""
        self.verdict = ""
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag == "p" and "bd-signal" in classes:
            self.attrs, self._in = dict(attrs), "signal"
        elif tag == "p" and "bd-verdict" in classes:
            self._in = "verdict"

    def handle_endtag(self, tag):
        if tag == "p":
            self._in = None

    def handle_data(self, data):
        if self._in == "signal":
            self.text += data
        elif self._in == "verdict":
            self.verdict += data


def _page(path: Path) -> _Signal:
    parser = _Signal()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, _Signal]:
    out = tmp_path_factory.mktemp("signal-reports")
    return {
        name: _page(render_report(name, out / f"{name}.html"))
        for name in ("jousseaume2023-exp2-pcc", "jousseaume2023-exp1-pcb")
    }


def test_the_signal_section_sits_beside_the_dose_verdict(pages):
    block = signal_block(load_plan("jousseaume2023-exp2-pcc"))
    page = pages["jousseaume2023-exp2-pcc"]
    assert page.attrs is not None
    assert float(page.attrs["data-snr-per-scan"]) == pytest.approx(block["snr_per_scan"], rel=1e-12)
    assert float(page.attrs["data-counts"]) == pytest.approx(block["counts"], rel=1e-12)
    assert page.attrs["data-technique"] == "xrd-transmission"
    assert page.attrs["data-meets-floor"] == "true" and "bd-status-pass" in page.attrs["class"]
    assert page.text == signal_sentence(block)
    assert page.verdict.endswith(
        f"SNR per scan {block['snr_per_scan']:.3g} meets the design's floor 300"
    )


def test_a_plan_without_design_has_no_signal_section(pages):
    page = pages["jousseaume2023-exp1-pcb"]
    assert page.attrs is None and "SNR" not in page.verdict and page.verdict
