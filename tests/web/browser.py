"""Headless Chromium for the dashboard's browser tests: the browser, logging in, and a
camera that saves a screenshot of each page (checking that nothing spills sideways and
that every field has a label).

Skips without Chromium or playwright unless QOIMA_TEST_BROWSER=required (then fails).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from qoima.adapters.report_pdf import find_browser
from tests.web.world import PASSWORD

REQUIRED = os.environ.get("QOIMA_TEST_BROWSER", "") == "required"
LAPTOP, TABLET = 1280, 820
UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter(e => !e.labels.length && !e.getAttribute('aria-label')).map(e => e.name)"""


def need(found: object, what: str) -> None:
    if found:
        return
    if REQUIRED:
        pytest.fail(f"QOIMA_TEST_BROWSER=required but {what} is missing")
    pytest.skip(f"{what} is missing (apt-get install chromium; pip install playwright)")


@contextmanager
def launched() -> Iterator[Any]:
    """Debian's Chromium driven by playwright (skips or fails when either is missing)."""
    executable = find_browser(os.environ.get("QOIMA_BROWSER"))
    need(executable, "Chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need(False, "the playwright package")
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(executable),
                                         args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


class Camera:
    """Full-page screenshots, numbered in the order taken; checks nothing spills sideways."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.taken = folder, 0

    def shoot(self, page: Any, name: str) -> Path:
        page.wait_for_selector("body[data-charts]", timeout=60_000)
        width = page.viewport_size["width"]
        assert page.evaluate("document.documentElement.scrollWidth") <= width, name
        assert page.evaluate(UNLABELLED) == [], name
        self.taken += 1
        path = self.folder / f"{self.taken:02d}-{name}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        print(f"screenshot: {path}")
        return path


def log_in(chromium: Any, base: str, user: str, width: int = LAPTOP) -> Any:
    page = chromium.new_context(viewport={"width": width, "height": 900}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    page.goto(f"{base}/")
    assert page.url == f"{base}/login?next=/"
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")
    assert page.get_by_test_id("user").inner_text() == user
    return page


def charts_drawn(page: Any) -> int:
    """How many charts the page drew (each one at a readable size, none left undrawn)."""
    page.wait_for_selector("body[data-charts=ready]", timeout=60_000)
    figures = page.locator("figure.chart")
    for i in range(figures.count()):
        box = figures.nth(i).locator(".main-svg").first.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 100
    assert page.locator(".not-drawn").count() == 0
    return int(figures.count())
