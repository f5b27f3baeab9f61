"""The dashboard's look, checked without a browser: every text colour pair in the style
sheet meets WCAG 2.1 AA contrast, and numbers are formatted as the committee reads them."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from qoima.web.render import money, percent, quantity, short, words

CSS = (Path(__file__).resolve().parents[2] / "src" / "qoima" / "web" / "static" /
       "web.css").read_text(encoding="utf-8")
VARIABLES = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", CSS))


def luminance(colour: str) -> float:
    """WCAG 2.1 relative luminance of ``#rrggbb``."""
    def channel(byte: str) -> float:
        c = int(byte, 16) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(colour[i:i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(foreground: str, background: str) -> float:
    lighter, darker = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def colour(name: str) -> str:
    return VARIABLES[name[2:]] if name.startswith("--") else name


def test_contrast_formula_matches_published_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic miss
    assert contrast("#ffffff", "#ffffff") == pytest.approx(1.0)


@pytest.mark.parametrize(("text", "background"), [
    ("--ink", "--paper"), ("--ink", "--wash"), ("--muted", "--paper"), ("--muted", "--wash"),
    ("--link", "--paper"), ("--link", "--wash"), ("#ffffff", "--brand"), ("#d7e3f0", "--brand"),
    ("--brand", "#ffffff"), ("--good", "--good-bg"), ("--warn", "--warn-bg"),
    ("--bad", "--bad-bg"), ("#0b3c6b", "#e1ecf7"), ("#323f4b", "#e4e7eb"),
    ("#323f4b", "--wash"), ("#ffffff", "--bad"), ("#0b3c6b", "#e8f1fa"), ("#000000", "--focus"),
])
def test_text_colours_meet_wcag_aa(text: str, background: str) -> None:
    for literal in (text, background):
        if literal.startswith("#"):
            assert literal.lower() in CSS.lower(), f"{literal} is no longer in web.css"
    assert contrast(colour(text), colour(background)) >= 4.5, (text, background)


def test_the_focus_ring_stands_out_on_light_and_dark_backgrounds() -> None:
    assert ":focus-visible" in CSS
    ring = colour("--focus")
    assert contrast(ring, colour("--brand")) >= 3  # non-text contrast on the header
    assert contrast(colour("--ink"), colour("--paper")) >= 3  # its dark halo on white


def test_numbers_are_formatted_exactly_for_reading() -> None:
    assert money(Decimal("47602553398.54")) == "47,602,553,398.54"
    assert money("44592000") == "44,592,000.00"
    assert money(None) == money(float("nan")) == "—"
    assert money(-1234.5, 0) == "-1,234"  # half-even, as Decimal formats
    assert quantity(Decimal("600000")) == "600,000"
    assert quantity(Decimal("0.123456789012345678")) == "0.123456789012345678"
    assert short(Decimal("47602553398.54")) == "47.60 bn"
    assert short(Decimal("100000000")) == "100.00 M"
    assert percent(0.052) == "5.2 %" and percent(-0.0177, 2) == "-1.77 %"
    assert percent(None) == "—"
    assert words("under_court_review") == "under court review"
