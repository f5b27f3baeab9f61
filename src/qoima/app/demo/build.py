"""Everything the demo workspace contains, built purely from code and a seed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from qoima.app.book import BookService, ReferenceData
from qoima.app.demo.book import END, START, PriceBook, bill_maturities, build_entries
from qoima.app.demo.market import demo_market
from qoima.app.demo.reference import LABEL, SLEEVE, SLEEVE_RANGE_USD, reference_data
from qoima.ledger.entries import EntryDraft
from qoima.market.quotes import FxQuote, PriceQuote

__all__ = ["LABEL", "SLEEVE", "SLEEVE_RANGE_USD", "DemoReserve", "build_demo", "load_demo"]


@dataclass(frozen=True, slots=True)
class DemoReserve:
    reference: ReferenceData
    entries: tuple[EntryDraft, ...]
    prices: tuple[PriceQuote, ...]
    fx: tuple[FxQuote, ...]
    start_date: date
    as_of_date: date


def build_demo() -> DemoReserve:
    prices, fx = demo_market(START, END, bill_maturities())
    entries = build_entries(PriceBook(prices))
    return DemoReserve(reference_data(), tuple(entries), tuple(prices), tuple(fx), START, END)


@dataclass(frozen=True, slots=True)
class DemoLoadResult:
    created_reference: int
    entries_posted: int
    entries_replayed: int
    quotes_changed: int


def load_demo(book: BookService, demo: DemoReserve, *, actor: str) -> DemoLoadResult:
    """Write the demo into a workspace; running it again changes nothing (idempotent)."""
    registered = book.register(demo.reference, actor=actor)
    prices, fx = book.add_quotes(demo.prices, demo.fx, actor=actor, source_name="qoima-demo")
    results = book.post(demo.entries, actor=actor)
    replayed = sum(1 for r in results if r.replayed)
    return DemoLoadResult(registered.created, len(results) - replayed, replayed, prices + fx)
