"""The market store: single closes and FX quotes, and (via SqlSeriesStore) whole series."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, update

from qoima.market.quotes import FxQuote, PriceQuote
from qoima.store import tables as t
from qoima.store.series_repo import SqlSeriesStore


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class SqlMarketRepository(SqlSeriesStore):
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add_prices(self, quotes: Sequence[PriceQuote]) -> int:
        """Insert new closes, replace corrected ones, skip identical; returns rows changed.

        The stored rows are read per group of instruments over the quotes' date range (a
        handful of statements for a year of a thousand instruments), not per quote."""
        p = t.prices
        existing: dict[tuple[str, date], tuple[Any, ...]] = {}
        if quotes:
            first = min(q.price_date for q in quotes)
            last = max(q.price_date for q in quotes)
            for codes in _chunks(sorted({q.instrument_code for q in quotes}), 200):
                rows = self._c.execute(
                    select(p.c.instrument_code, p.c.price_date, p.c.price, p.c.currency,
                           p.c.source)
                    .where(p.c.instrument_code.in_(codes), p.c.price_date.between(first, last)))
                existing.update({(r.instrument_code, _day(r.price_date)):
                                 (r.price, r.currency, r.source) for r in rows})
        new, changed = [], []
        for q in quotes:
            values = {"instrument_code": q.instrument_code, "price_date": q.price_date,
                      "price": q.price, "currency": q.currency, "source": q.source}
            row = existing.get((q.instrument_code, q.price_date))
            if row is None:
                new.append(values)
            elif row != (q.price, q.currency, q.source):
                changed.append(values)
        if new:
            self._c.execute(insert(p), new)
        for values in changed:
            self._c.execute(update(p).where(
                p.c.instrument_code == values["instrument_code"],
                p.c.price_date == values["price_date"]).values(**values))
        return len(new) + len(changed)

    def add_fx(self, quotes: Sequence[FxQuote]) -> int:
        """Like :meth:`add_prices`: the stored rates of each pair over the quotes' range
        are read in one statement."""
        fx = t.fx_rates
        existing: dict[tuple[str, str, date], tuple[Any, ...]] = {}
        for base, quote in sorted({(q.base, q.quote) for q in quotes}):
            days = [q.rate_date for q in quotes if (q.base, q.quote) == (base, quote)]
            rows = self._c.execute(
                select(fx.c.rate_date, fx.c.rate, fx.c.source)
                .where(fx.c.base == base, fx.c.quote == quote,
                       fx.c.rate_date.between(min(days), max(days))))
            existing.update({(base, quote, _day(r.rate_date)): (r.rate, r.source)
                             for r in rows})
        new, changed = [], []
        for q in quotes:
            values = {"base": q.base, "quote": q.quote, "rate_date": q.rate_date,
                      "rate": q.rate, "source": q.source}
            row = existing.get((q.base, q.quote, q.rate_date))
            if row is None:
                new.append(values)
                existing[(q.base, q.quote, q.rate_date)] = (q.rate, q.source)
            elif row != (q.rate, q.source):
                changed.append(values)
                existing[(q.base, q.quote, q.rate_date)] = (q.rate, q.source)
        if new:
            self._c.execute(insert(fx), new)
        for values in changed:
            self._c.execute(update(fx).where(
                fx.c.base == values["base"], fx.c.quote == values["quote"],
                fx.c.rate_date == values["rate_date"]).values(**values))
        return len(new) + len(changed)

    def latest_prices(self, as_of: date, instruments: Iterable[str]) -> dict[str, PriceQuote]:
        """The last close on or before ``as_of`` of each instrument: the latest day per
        instrument grouped first, then those rows (a correlated ``max`` per row makes
        PostgreSQL visit every stored close of the book's instruments)."""
        p = t.prices
        latest = (select(p.c.instrument_code, func.max(p.c.price_date).label("day"))
                  .where(p.c.instrument_code.in_(list(instruments)), p.c.price_date <= as_of)
                  .group_by(p.c.instrument_code).subquery())
        rows = self._c.execute(select(p).join(latest, and_(
            p.c.instrument_code == latest.c.instrument_code, p.c.price_date == latest.c.day)))
        return {r.instrument_code: PriceQuote(r.instrument_code, r.price_date, r.price,
                                              r.currency, r.source) for r in rows}

    def latest_fx(self, as_of: date) -> list[FxQuote]:
        fx = t.fx_rates
        latest = (select(fx.c.base, fx.c.quote, func.max(fx.c.rate_date).label("day"))
                  .where(fx.c.rate_date <= as_of).group_by(fx.c.base, fx.c.quote).subquery())
        rows = self._c.execute(select(fx).join(latest, and_(
            fx.c.base == latest.c.base, fx.c.quote == latest.c.quote,
            fx.c.rate_date == latest.c.day)))
        return [FxQuote(r.base, r.quote, r.rate_date, r.rate, r.source) for r in rows]

    def last_market_date(self) -> date | None:
        value = self._c.execute(select(func.max(t.prices.c.price_date))).scalar()
        return value if value is None or isinstance(value, date) else date.fromisoformat(value)


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)
