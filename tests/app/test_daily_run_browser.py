"""The demo's own committee report, looked at: in headless Chromium and as PDF pages.

Every section and chart of the real run must be there, drawn, free of NaN, not cut off,
on a laptop and on a tablet; the PDF's pages must be non-blank and carry every section.
Skips without Chromium/poppler unless QOIMA_TEST_BROWSER=required (CI).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageStat

from qoima.app.daily_run import RunRequest, RunResult
from qoima.app.run_numbers import RunSettings
from qoima.bootstrap.settings import Settings
from qoima.bootstrap.wiring import open_reserve
from tests.adapters.test_report_browser import (
    BAD_WORDS,
    browser_path,
    chromium,  # noqa: F401 - the module's browser fixture
    rasterise,
    visible_text,
)
from tests.app.governance import governed_demo

pytestmark = pytest.mark.xdist_group("report_browser")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunResult]:
    root = tmp_path_factory.mktemp("browser-run")
    reserve = open_reserve(workspace=root / "ws", create=True, settings=Settings(
        browser=str(browser_path())))
    try:
        governed_demo(reserve)
        yield reserve.daily.run(RunRequest(settings=RunSettings(mc_scenarios=5_000),
                                           salt_key=b"s" * 32, label="TEST"), actor="risk")
    finally:
        reserve.close()


@pytest.mark.parametrize("width", [1280, 820])
def test_committee_report_in_a_browser(chromium: Any, run: RunResult,  # noqa: F811
                                       tmp_path: Path, width: int) -> None:
    folder = Path(run.summary["folder"])
    context = chromium.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto((folder / "report.html").as_uri())
    page.wait_for_selector("body[data-charts=ready]", timeout=60_000)
    assert errors == []
    for section in run.committee.sections:
        assert page.locator(f"#section-{section.id} h2").is_visible(), section.id
        assert not section.failed, (section.id, section.failed)
    figures = run.committee.figures()
    assert {f.id for f in figures} >= {"allocation_sunburst", "correlation",
                                       "rolling_correlation", "stress_losses",
                                       "reverse_stress", "liquidity_ladder_chart"}
    for figure in figures:
        box = page.locator(f'figure[data-figure-id="{figure.id}"]')
        svg = box.locator(".main-svg").first
        drawn = svg.bounding_box()
        assert drawn is not None and drawn["width"] > 100 and drawn["height"] > 100, figure.id
        outer = box.bounding_box()
        assert outer is not None and outer["x"] >= 0
        assert outer["x"] + outer["width"] <= width, f"{figure.id} is cut off at {width}px"
        assert "not drawn" not in box.inner_text(), figure.id
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    body = page.locator("body").inner_text()
    assert not BAD_WORDS.search(visible_text(body)), BAD_WORDS.findall(body)
    assert "SYNTHETIC" in body
    shot = tmp_path / f"committee-{width}.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"\nscreenshot: {shot}")
    context.close()


def test_committee_report_pdf_pages(run: RunResult, tmp_path: Path) -> None:
    assert run.summary["pdf_renderer"] == "chromium"
    for name in ("report.pdf", "public/transparency.pdf"):
        pages, text = rasterise(Path(run.summary["folder"]) / name, tmp_path)
        assert pages
        for page in pages:
            with Image.open(page) as image:
                spread = ImageStat.Stat(image.convert("L")).stddev[0]
            assert spread > 3, f"{name} {page.name} looks blank"
        flat = " ".join(text.split())
        document = run.committee if name == "report.pdf" else run.public.document  # type: ignore[union-attr]
        for section in document.sections:
            assert section.title in flat, (name, section.title)
        assert not BAD_WORDS.search(visible_text(text)), (name, BAD_WORDS.findall(text))
        assert "Figure not drawn" not in flat, name
