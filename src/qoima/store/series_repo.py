"""Whole market series (OHLCV prices, FX, rates), their data-set records and ETF facts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Connection,
    String,
    bindparam,
    cast,
    func,
    insert,
    select,
    type_coerce,
    update,
)

from qoima.domain.enums import Severity
from qoima.domain.findings import Finding
from qoima.market.series import (
    Bar,
    EtfFacts,
    Series,
    SeriesId,
    SeriesInfo,
    SeriesKind,
    bars_hash,
)
from qoima.store import tables as t
from qoima.store.types import strip_zeros

_P, _FX, _R, _S = t.prices, t.fx_rates, t.rates, t.market_series
_PRICE_FIELDS = ("price", "open", "high", "low", "volume", "currency", "source")


def _price_row(series: Series, bar: Bar) -> dict[str, Any]:
    return {"instrument_code": series.id.code, "price_date": bar.day, "price": bar.close,
            "open": bar.open, "high": bar.high, "low": bar.low, "volume": bar.volume,
            "currency": series.currency or "USD", "source": series.source}


class SqlSeriesStore:
    """Writes and reads whole series; mixed into the market repository."""

    _c: Connection

    def add_series(self, series: Series, *, content_hash: str, updated_at: datetime) -> int:
        """Store every bar (insert new, replace changed, skip identical) and the data set's
        record; returns the number of bars written. ``content_hash`` is ``bars_hash`` of
        ``series.bars`` (the caller has it already; hashing long histories is not free)."""
        if not series.bars:
            return 0
        first, last = series.bars[0].day, series.bars[-1].day
        kind = series.id.kind
        if kind is SeriesKind.PRICE:
            changed = self._merge_prices(series, first, last)
        elif kind is SeriesKind.FX:
            changed = self._merge_simple(series, first, last, fx=True)
        else:
            changed = self._merge_simple(series, first, last, fx=False)
        self._save_info(series, content_hash, updated_at)
        return changed

    def _merge_prices(self, series: Series, first: date, last: date) -> int:
        code = series.id.code
        existing = {r.price_date: tuple(getattr(r, f) for f in _PRICE_FIELDS)
                    for r in self._c.execute(select(_P).where(
                        _P.c.instrument_code == code, _P.c.price_date.between(first, last)))}
        new, changed = [], []
        for bar in series.bars:
            row = _price_row(series, bar)
            old = existing.get(bar.day)
            if old is None:
                new.append(row)
            elif old != tuple(row[f] for f in _PRICE_FIELDS):
                changed.append(row)
        if new:
            self._c.execute(insert(_P), new)
        if changed:
            self._c.execute(_UPDATE_PRICE, [{**r, "k_code": r["instrument_code"],
                                             "k_date": r["price_date"]} for r in changed])
        return len(new) + len(changed)

    def _merge_simple(self, series: Series, first: date, last: date, *, fx: bool) -> int:
        if fx:
            base, quote = series.id.fx_pair
            table, day_col, value_col = _FX, _FX.c.rate_date, "rate"
            key = {"base": base, "quote": quote}
            where: tuple[Any, ...] = (_FX.c.base == base, _FX.c.quote == quote)
            update_stmt = _UPDATE_FX
        else:
            table, day_col, value_col = _R, _R.c.rate_date, "value"
            key = {"code": series.id.code}
            where = (_R.c.code == series.id.code,)
            update_stmt = _UPDATE_RATE
        existing = {r.rate_date: (getattr(r, value_col), r.source)
                    for r in self._c.execute(select(table).where(*where,
                                                                 day_col.between(first, last)))}
        new, changed = [], []
        for bar in series.bars:
            row = {**key, "rate_date": bar.day, value_col: bar.close, "source": series.source}
            old = existing.get(bar.day)
            if old is None:
                new.append(row)
            elif old != (bar.close, series.source):
                changed.append({**row, **{f"k_{k}": v for k, v in key.items()},
                                "k_date": bar.day})
        if new:
            self._c.execute(insert(table), new)
        if changed:
            self._c.execute(update_stmt, changed)
        return len(new) + len(changed)

    def _save_info(self, series: Series, content_hash: str, updated_at: datetime) -> None:
        kind, code = series.id.kind.value, series.id.code
        first, last, count = self._bounds(series.id) or (series.bars[0].day,
                                                          series.bars[-1].day, 0)
        if count == len(series.bars):  # the store holds exactly this series' bars
            digest = content_hash
        else:
            stored = self.load_series(series.id)
            digest = bars_hash(stored.bars if stored else ())
        values = {
            "kind": kind, "code": code, "source": series.source, "calendar": series.calendar,
            "currency": series.currency, "first_date": first, "last_date": last,
            "bars": count, "content_hash": digest,
            "warnings_json": json.dumps([_finding_json(f) for f in series.warnings]),
            "updated_at": updated_at,
        }
        found = self._c.execute(select(_S.c.kind).where(_S.c.kind == kind, _S.c.code == code))
        if found.first() is None:
            self._c.execute(insert(_S), values)
        else:
            self._c.execute(update(_S).where(_S.c.kind == kind, _S.c.code == code), values)

    def _bounds(self, series_id: SeriesId) -> tuple[date, date, int] | None:
        table, day, where = _table_for(series_id)
        row = self._c.execute(select(func.min(day), func.max(day), func.count())
                              .select_from(table).where(*where)).one()
        if not row[2]:
            return None
        return _as_date(row[0]), _as_date(row[1]), int(row[2])

    def load_series(self, series_id: SeriesId, since: date | None = None,
                    until: date | None = None) -> Series | None:
        """The stored bars of ``series_id`` in ``[since, until]`` with its data-set record."""
        info = self.find_series_info(series_id)
        table, day, where = _table_for(series_id)
        # Exact numbers read as text (SQLite stores them so; PostgreSQL casts NUMERIC) and
        # converted in one pass: a risk run reads a million of them, and the column type's
        # general path is three times slower.
        raw = self._c.dialect.name in ("sqlite", "postgresql")
        query = select(*(_as_text(c, self._c.dialect.name) if raw and c.name in _EXACT
                         else c for c in table.c)).where(*where)
        if since is not None:
            query = query.where(day >= since)
        if until is not None:
            query = query.where(day <= until)
        rows = self._c.execute(query.order_by(day)).all()
        if info is None and not rows:
            return None
        number = _stored_decimal if raw else _same
        if series_id.kind is SeriesKind.PRICE:
            bars = tuple(Bar(r.price_date, number(r.price), number(r.open), number(r.high),
                             number(r.low), number(r.volume)) for r in rows)
            currency = rows[0].currency if rows else (info.currency if info else None)
        else:
            column = "rate" if series_id.kind is SeriesKind.FX else "value"
            bars = tuple(Bar(r.rate_date, number(getattr(r, column))) for r in rows)
            currency = info.currency if info else None
        return Series(series_id, bars,
                      source=info.source if info else (rows[-1].source if rows else ""),
                      calendar=info.calendar if info else "weekdays", currency=currency,
                      warnings=info.warnings if info else ())

    def find_series_info(self, series_id: SeriesId) -> SeriesInfo | None:
        row = self._c.execute(select(_S).where(_S.c.kind == series_id.kind.value,
                                               _S.c.code == series_id.code)).first()
        return None if row is None else _info(row)

    def list_series(self) -> list[SeriesInfo]:
        return [_info(r) for r in self._c.execute(select(_S).order_by(_S.c.kind, _S.c.code))]

    def add_etf_facts(self, facts: Sequence[EtfFacts]) -> int:
        e = t.etf_facts
        changed = 0
        for fact in facts:
            values = {"instrument_code": fact.instrument_code, "as_of_date": fact.as_of_date,
                      "underlying": fact.underlying, "units_per_share": fact.units_per_share,
                      "expense_ratio": fact.expense_ratio, "source": fact.source}
            where = (e.c.instrument_code == fact.instrument_code,
                     e.c.as_of_date == fact.as_of_date)
            row = self._c.execute(select(e).where(*where)).first()
            if row is None:
                self._c.execute(insert(e), values)
            elif _etf(row) != fact:
                self._c.execute(update(e).where(*where), values)
            else:
                continue
            changed += 1
        return changed

    def etf_facts_as_of(self, as_of: date) -> dict[str, EtfFacts]:
        """The latest facts on or before ``as_of`` per ETF."""
        e = t.etf_facts
        inner = e.alias("inner")
        latest = (select(func.max(inner.c.as_of_date))
                  .where(inner.c.instrument_code == e.c.instrument_code,
                         inner.c.as_of_date <= as_of).scalar_subquery())
        return {r.instrument_code: _etf(r)
                for r in self._c.execute(select(e).where(e.c.as_of_date == latest))}


_UPDATE_PRICE = (update(_P).where(_P.c.instrument_code == bindparam("k_code"),
                                  _P.c.price_date == bindparam("k_date")))
_UPDATE_FX = (update(_FX).where(_FX.c.base == bindparam("k_base"),
                                _FX.c.quote == bindparam("k_quote"),
                                _FX.c.rate_date == bindparam("k_date")))
_UPDATE_RATE = (update(_R).where(_R.c.code == bindparam("k_code"),
                                 _R.c.rate_date == bindparam("k_date")))


_EXACT = frozenset({"price", "open", "high", "low", "volume", "rate", "value"})


def _stored_decimal(text: Any) -> Any:
    """What :class:`~qoima.store.types.ExactDecimal` reads back (``strip_zeros``), computed
    directly for plain fixed-point text (SQLite's stored text, PostgreSQL's NUMERIC cast
    to text): trailing fractional zeros dropped, the same value, digits and exponent.
    Anything else (more than 38 characters, an exponent) takes the column type's path."""
    if text is None:
        return None
    if len(text) <= 38 and text.replace(".", "", 1).lstrip("-").isdigit():
        return Decimal(text.rstrip("0").rstrip(".") if "." in text else text)
    return strip_zeros(Decimal(text))


def _as_text(column: Any, dialect: str) -> Any:
    text = type_coerce(column, String) if dialect == "sqlite" else cast(column, String)
    return text.label(column.name)


def _same(value: Any) -> Any:
    return value


def _table_for(series_id: SeriesId) -> tuple[Any, Any, tuple[Any, ...]]:
    if series_id.kind is SeriesKind.PRICE:
        return _P, _P.c.price_date, (_P.c.instrument_code == series_id.code,)
    if series_id.kind is SeriesKind.FX:
        base, quote = series_id.fx_pair
        return _FX, _FX.c.rate_date, (_FX.c.base == base, _FX.c.quote == quote)
    return _R, _R.c.rate_date, (_R.c.code == series_id.code,)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _finding_json(finding: Finding) -> dict[str, Any]:
    return {"rule": finding.rule, "severity": finding.severity.value,
            "subject": finding.subject, "message": finding.message,
            "as_of_date": finding.as_of_date.isoformat() if finding.as_of_date else None,
            "measured": finding.measured, "limit": finding.limit}


def _finding(data: dict[str, Any]) -> Finding:
    return Finding(data["rule"], Severity(data["severity"]), data["subject"], data["message"],
                   date.fromisoformat(data["as_of_date"]) if data["as_of_date"] else None,
                   data["measured"], data["limit"])


def _info(row: Any) -> SeriesInfo:
    return SeriesInfo(SeriesId(SeriesKind(row.kind), row.code), row.source, row.calendar,
                      row.currency, row.first_date, row.last_date, row.bars, row.content_hash,
                      tuple(_finding(f) for f in json.loads(row.warnings_json)), row.updated_at)


def _etf(row: Any) -> EtfFacts:
    return EtfFacts(row.instrument_code, row.as_of_date, row.underlying, row.units_per_share,
                    row.expense_ratio, row.source)
