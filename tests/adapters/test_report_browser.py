"""The report as a person sees it: in a real browser, and as PDF pages rasterised by poppler.

Needs Chromium (``apt-get install chromium``), poppler-utils and the playwright package.
Without them these tests skip, unless ``QOIMA_TEST_BROWSER=required`` (CI sets it): then
a missing tool fails the test. Every test works in its own temporary folder and browser
profile, so pytest-xdist may run them side by side.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageStat

from qoima.adapters.report_html import render_html
from qoima.adapters.report_pdf import find_browser, render_pdf
from tests.adapters.report_fixture import BROKEN_FIGURE_ID, FIGURE_IDS, SECTION_IDS, sample_document

pytestmark = pytest.mark.xdist_group("report_browser")
REQUIRED = os.environ.get("QOIMA_TEST_BROWSER", "") == "required"
BAD_WORDS = re.compile(r"\b(NaN|undefined|Infinity|null)\b")


def need(condition: bool, what: str) -> None:
    if condition:
        return
    message = f"{what} is missing (apt-get install -y chromium poppler-utils)"
    if REQUIRED:
        pytest.fail(f"QOIMA_TEST_BROWSER=required but {message}")
    pytest.skip(message)


def browser_path() -> Path:
    """QOIMA_BROWSER names one; else the usual places (see find_browser)."""
    explicit = os.environ.get("QOIMA_BROWSER")
    found = find_browser(None) if explicit is None else (
        Path(explicit) if Path(explicit).is_file() else None)
    need(found is not None, "Chromium")
    assert found is not None
    return found


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    executable = browser_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need(False, "the playwright package (pip install qoima[dev])")
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(executable),
                                         args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


def rasterise(pdf: Path, folder: Path) -> tuple[list[Path], str]:
    need(shutil.which("pdftoppm") is not None and shutil.which("pdftotext") is not None,
         "pdftoppm/pdftotext (poppler-utils)")
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(folder / "page")], check=True,
                   capture_output=True)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    pages = sorted(folder.glob("page-*.png"))
    print(f"\n{pdf.name}: {len(pages)} pages in {folder}")
    return pages, text


def visible_text(text: str) -> str:
    """Body text less the "not drawn" boxes, which name the NaN that stopped a figure."""
    return "\n".join(line for line in text.splitlines() if "not drawn:" not in line)


def assert_pages_look_right(pages: list[Path], text: str) -> None:
    assert pages, "the PDF has no pages"
    for page in pages:
        with Image.open(page) as image:
            spread = ImageStat.Stat(image.convert("L")).stddev[0]
        assert spread > 3, f"{page.name} looks blank (grey spread {spread:.1f})"
    doc = sample_document()
    flat = " ".join(text.split())
    for section in doc.sections:
        assert section.title in flat
    assert "SYNTHETIC DATA." in flat and f"Page 1 of {len(pages)}" in flat
    assert f"as of {doc.as_of.isoformat()}" in flat
    assert flat.count("Figure not drawn:") == 1  # only the broken one; every other chart drew
    assert not BAD_WORDS.search(visible_text(text))


@pytest.mark.parametrize("width", [1280, 820])
def test_page_in_a_browser(chromium: Any, tmp_path: Path, width: int) -> None:
    page_file = tmp_path / "report.html"
    page_file.write_text(render_html(sample_document()), encoding="utf-8")
    context = chromium.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(page_file.as_uri())
    page.wait_for_selector("body[data-charts=ready]", timeout=30_000)
    assert errors == []
    for section_id in SECTION_IDS:
        assert page.locator(f"#section-{section_id} h2").is_visible()
    for figure_id in FIGURE_IDS:
        figure = page.locator(f'figure[data-figure-id="{figure_id}"]')
        svg = figure.locator(".main-svg").first
        box = svg.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 100, figure_id
        outer = figure.bounding_box()
        assert outer is not None and outer["x"] >= 0 and outer["x"] + outer["width"] <= width
        assert figure.locator(".main-svg text").count() > 0, f"{figure_id} drew no text"
    broken = page.locator(f'figure[data-figure-id="{BROKEN_FIGURE_ID}"]')
    assert broken.locator(".main-svg").count() == 0
    assert "Figure not drawn:" in broken.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scroll
    body = page.locator("body").inner_text()
    assert not BAD_WORDS.search(visible_text(body)), BAD_WORDS.findall(visible_text(body))
    shot = tmp_path / f"report-{width}.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"\nscreenshot: {shot}")
    context.close()


def test_pdf_printed_by_chromium(tmp_path: Path) -> None:
    browser = browser_path()
    out = render_pdf(sample_document(), browser=browser)
    assert out.renderer == "chromium" and out.data.startswith(b"%PDF")
    pdf = tmp_path / "report-chromium.pdf"
    pdf.write_bytes(out.data)
    assert_pages_look_right(*rasterise(pdf, tmp_path))


def test_pdf_laid_out_by_reportlab(tmp_path: Path) -> None:
    out = render_pdf(sample_document(), browser=None)
    pdf = tmp_path / "report-reportlab.pdf"
    pdf.write_bytes(out.data)
    assert_pages_look_right(*rasterise(pdf, tmp_path))
