"""Everything the demo workspace contains, built purely from code and a seed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from qoima.app.book import BookService, ReferenceData
from qoima.app.demo.book import END, START, PriceBook, bill_maturities, build_entries
from qoima.app.demo.full_book import full_entries
from qoima.app.demo.full_market import FULL_START, full_quotes, full_series, full_synthetic
from qoima.app.demo.full_reference import full_reference, ladder_maturities
from qoima.app.demo.market import SOURCE, demo_market, demo_series, demo_synthetic
from qoima.app.demo.reference import LABEL, SLEEVE, SLEEVE_RANGE_USD, reference_data
from qoima.app.demo.universe import bond_universe, equity_universe, seizure_cases
from qoima.app.market_data import MarketDataService
from qoima.ledger.entries import EntryDraft
from qoima.market.calendars import CalendarName
from qoima.market.quotes import FxQuote, PriceQuote
from qoima.market.series import Bar, EtfFacts, Series, SeriesId, SeriesKind

__all__ = ["LABEL", "SLEEVE", "SLEEVE_RANGE_USD", "DemoReserve", "DemoSize", "build_demo",
           "load_demo"]


class DemoSize(StrEnum):
    """``small``: 21 positions on one year of market data (the tests' fixture);
    ``full``: about a thousand positions on ten years (the benchmark and the README)."""

    SMALL = "small"
    FULL = "full"


@dataclass(frozen=True, slots=True)
class DemoReserve:
    reference: ReferenceData
    entries: tuple[EntryDraft, ...]
    prices: tuple[PriceQuote, ...]
    fx: tuple[FxQuote, ...]
    start_date: date
    as_of_date: date
    series: tuple[Series, ...] = ()  # OHLCV, FX and rate histories for market data and risk
    etf_facts: tuple[EtfFacts, ...] = ()
    history_start_date: date | None = None  # first day of market history, when earlier


def build_demo(size: DemoSize = DemoSize.SMALL) -> DemoReserve:
    """The demo reserve's content, deterministic for each size."""
    if DemoSize(size) is DemoSize.FULL:
        return _build_full()
    market = demo_synthetic(START, END)
    prices, fx = demo_market(START, END, bill_maturities(), market)
    entries = build_entries(PriceBook(prices))
    # the National Bank's rate holds on every calendar day: store the series as valued
    usd_kzt = SeriesId(SeriesKind.FX, "USD/KZT")
    series = [s for s in demo_series(market) if s.id != usd_kzt]
    series.append(Series(usd_kzt, tuple(Bar(q.rate_date, q.rate) for q in fx), fx[0].source,
                         CalendarName.DAILY, "KZT"))
    return DemoReserve(reference_data(), tuple(entries), tuple(prices), tuple(fx), START, END,
                       tuple(series), market.etf_facts)


def _build_full() -> DemoReserve:
    bonds, equities = bond_universe(), equity_universe()
    cases = seizure_cases(START, END)
    bills = ladder_maturities(START, END)
    market = full_synthetic(END, equities)
    quotes, fx = full_quotes(market, START, END, bonds, bills)
    series = full_series(market, fx)
    since = START - timedelta(days=10)  # the book prices trades off closes of its year
    closes = [PriceQuote(s.id.code, bar.day, bar.close, "USD", SOURCE) for s in series
              if s.id.kind is SeriesKind.PRICE for bar in s.bars if bar.day >= since]
    entries = full_entries(PriceBook([*quotes, *closes]), bonds, equities, cases, bills)
    return DemoReserve(full_reference(bonds, equities, entries), tuple(entries), tuple(quotes),
                       tuple(fx), START, END, tuple(series), market.etf_facts, FULL_START)


@dataclass(frozen=True, slots=True)
class DemoLoadResult:
    created_reference: int
    entries_posted: int
    entries_replayed: int
    quotes_changed: int
    series_bars_written: int = 0


def load_demo(book: BookService, market_data: MarketDataService, demo: DemoReserve, *,
              actor: str) -> DemoLoadResult:
    """Write the demo into a workspace; running it again changes nothing (idempotent)."""
    registered = book.register(demo.reference, actor=actor)
    written = sum(o.written for o in market_data.import_series(
        demo.series, actor=actor, origin="qoima-demo"))
    market_data.import_etf_facts(demo.etf_facts, actor=actor, origin="qoima-demo")
    prices, fx = book.add_quotes(demo.prices, demo.fx, actor=actor, source_name="qoima-demo")
    results = book.post(demo.entries, actor=actor)
    replayed = sum(1 for r in results if r.replayed)
    return DemoLoadResult(registered.created, len(results) - replayed, replayed, prices + fx,
                          written)
