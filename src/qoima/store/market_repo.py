"""The market store: single closes and FX quotes, and (via SqlSeriesStore) whole series."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import Connection, func, insert, select, tuple_, update

from qoima.market.quotes import FxQuote, PriceQuote
from qoima.store import tables as t
from qoima.store.series_repo import SqlSeriesStore


def _chunks(items: list[tuple[str, date]], size: int) -> Iterable[list[tuple[str, date]]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class SqlMarketRepository(SqlSeriesStore):
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add_prices(self, quotes: Sequence[PriceQuote]) -> int:
        """Insert new closes, replace corrected ones, skip identical; returns rows changed."""
        p = t.prices
        existing = {}
        keys = [(q.instrument_code, q.price_date) for q in quotes]
        for chunk in _chunks(keys, 500):
            rows = self._c.execute(select(p).where(
                tuple_(p.c.instrument_code, p.c.price_date).in_(chunk)))
            existing.update({(r.instrument_code, r.price_date): r for r in rows})
        new, changed = [], []
        for q in quotes:
            values = {"instrument_code": q.instrument_code, "price_date": q.price_date,
                      "price": q.price, "currency": q.currency, "source": q.source}
            row = existing.get((q.instrument_code, q.price_date))
            if row is None:
                new.append(values)
            elif (row.price, row.currency, row.source) != (q.price, q.currency, q.source):
                changed.append(values)
        if new:
            self._c.execute(insert(p), new)
        for values in changed:
            self._c.execute(update(p).where(
                p.c.instrument_code == values["instrument_code"],
                p.c.price_date == values["price_date"]).values(**values))
        return len(new) + len(changed)

    def add_fx(self, quotes: Sequence[FxQuote]) -> int:
        fx = t.fx_rates
        changed = 0
        for q in quotes:
            row = self._c.execute(select(fx).where(
                fx.c.base == q.base, fx.c.quote == q.quote, fx.c.rate_date == q.rate_date)).first()
            values = {"base": q.base, "quote": q.quote, "rate_date": q.rate_date,
                      "rate": q.rate, "source": q.source}
            if row is None:
                self._c.execute(insert(fx).values(**values))
            elif (row.rate, row.source) != (q.rate, q.source):
                self._c.execute(update(fx).where(
                    fx.c.base == q.base, fx.c.quote == q.quote,
                    fx.c.rate_date == q.rate_date).values(**values))
            else:
                continue
            changed += 1
        return changed

    def latest_prices(self, as_of: date, instruments: Iterable[str]) -> dict[str, PriceQuote]:
        p = t.prices
        inner = p.alias("inner")
        latest = (select(func.max(inner.c.price_date))
                  .where(inner.c.instrument_code == p.c.instrument_code,
                         inner.c.price_date <= as_of).scalar_subquery())
        rows = self._c.execute(select(p).where(p.c.instrument_code.in_(list(instruments)),
                                               p.c.price_date == latest))
        return {r.instrument_code: PriceQuote(r.instrument_code, r.price_date, r.price,
                                              r.currency, r.source) for r in rows}

    def latest_fx(self, as_of: date) -> list[FxQuote]:
        fx = t.fx_rates
        inner = fx.alias("inner")
        latest = (select(func.max(inner.c.rate_date))
                  .where(inner.c.base == fx.c.base, inner.c.quote == fx.c.quote,
                         inner.c.rate_date <= as_of).scalar_subquery())
        rows = self._c.execute(select(fx).where(fx.c.rate_date == latest))
        return [FxQuote(r.base, r.quote, r.rate_date, r.rate, r.source) for r in rows]

    def last_market_date(self) -> date | None:
        value = self._c.execute(select(func.max(t.prices.c.price_date))).scalar()
        return value if value is None or isinstance(value, date) else date.fromisoformat(value)

