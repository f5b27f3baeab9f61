"""Reading closes and FX rates from CSV (the minimal market table; full importers: market issue).

Prices: ``instrument,date,price[,currency][,source]``. FX: ``base,quote,date,rate[,source]``
(one ``base`` buys ``rate`` ``quote``: USD,KZT,2026-01-05,512.30). ETF facts:
``instrument,date,underlying,units_per_share,expense_ratio[,source]``. FOMC rate decisions:
``date,change_bps,upper_bound_pct`` (the Fed's published decisions, holds included). Every row
is checked before anything is stored. Full OHLCV histories go through ``market_files``.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from qoima.adapters.fields import parse_amount, parse_date, parse_int
from qoima.domain.errors import InvalidInput, Origin, QoimaError
from qoima.market.quotes import FxQuote, PriceQuote
from qoima.market.series import EtfFacts
from qoima.risk.events import FomcDecision

T = TypeVar("T")
PRICE_COLUMNS = ("instrument", "date", "price", "currency", "source")
FX_COLUMNS = ("base", "quote", "date", "rate", "source")
FOMC_COLUMNS = ("date", "change_bps", "upper_bound_pct")
ETF_COLUMNS = ("instrument", "date", "underlying", "units_per_share", "expense_ratio",
               "source")


def read_prices(path: Path, *, default_source: str) -> list[PriceQuote]:
    def build(row: dict[str, str], origin: Origin) -> PriceQuote:
        price = parse_amount(row["price"], origin=origin, field="price")
        assert price is not None
        return PriceQuote(row["instrument"], parse_date(row["date"], origin=origin,
                                                        field="date"),
                          price, row.get("currency") or "USD", row.get("source") or default_source)
    quotes = list(_rows(path, PRICE_COLUMNS, ("instrument", "date", "price"), build))
    _no_duplicates(path, [(q.instrument_code, q.price_date) for q in quotes])
    return quotes


def read_fx(path: Path, *, default_source: str) -> list[FxQuote]:
    def build(row: dict[str, str], origin: Origin) -> FxQuote:
        rate = parse_amount(row["rate"], origin=origin, field="rate")
        assert rate is not None
        return FxQuote(row["base"], row["quote"], parse_date(row["date"], origin=origin,
                                                             field="date"),
                       rate, row.get("source") or default_source)
    quotes = list(_rows(path, FX_COLUMNS, ("base", "quote", "date", "rate"), build))
    _no_duplicates(path, [(f"{q.base}/{q.quote}", q.rate_date) for q in quotes])
    return quotes


def read_etf_facts(path: Path, *, default_source: str) -> list[EtfFacts]:
    def build(row: dict[str, str], origin: Origin) -> EtfFacts:
        units = parse_amount(row["units_per_share"], origin=origin, field="units_per_share")
        ratio = parse_amount(row["expense_ratio"], origin=origin, field="expense_ratio")
        assert units is not None
        assert ratio is not None
        return EtfFacts(row["instrument"], parse_date(row["date"], origin=origin, field="date"),
                        row["underlying"], units, ratio, row.get("source") or default_source)
    facts = list(_rows(path, ETF_COLUMNS, ETF_COLUMNS[:5], build))
    _no_duplicates(path, [(f.instrument_code, f.as_of_date) for f in facts])
    return facts


def read_fomc_decisions(path: Path) -> list[FomcDecision]:
    """Decisions in ascending date order; a date out of order or twice is refused."""
    def build(row: dict[str, str], origin: Origin) -> FomcDecision:
        upper = parse_amount(row["upper_bound_pct"], origin=origin, field="upper_bound_pct")
        assert upper is not None
        return FomcDecision(parse_date(row["date"], origin=origin, field="date"),
                            parse_int(row["change_bps"], origin=origin, field="change_bps"),
                            float(upper))
    decisions = list(_rows(path, FOMC_COLUMNS, FOMC_COLUMNS, build))
    for index in range(1, len(decisions)):
        if decisions[index].date <= decisions[index - 1].date:
            raise InvalidInput(f"dates must ascend: {decisions[index].date} after "
                               f"{decisions[index - 1].date}",
                               origin=Origin(str(path), index + 2), field="date")
    return decisions


def _rows(path: Path, columns: tuple[str, ...], required: tuple[str, ...],
          build: Callable[[dict[str, str], Origin], T]) -> Iterator[T]:
    file = str(path)
    if not path.exists():
        raise InvalidInput("file not found", origin=Origin(file))
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        missing = [c for c in required if c not in header]
        unknown = [c for c in header if c not in columns]
        if not header or missing or unknown:
            raise InvalidInput(f"bad header: missing {missing or 'none'}, unknown "
                               f"{unknown or 'none'}; columns are {', '.join(columns)}",
                               origin=Origin(file, 1), field="header")
        for row in reader:
            origin = Origin(file, reader.line_num)
            values = {k: (v or "").strip() for k, v in row.items() if k is not None}
            for name in required:
                if not values.get(name):
                    raise InvalidInput("value missing", origin=origin, field=name)
            try:
                yield build(values, origin)
            except QoimaError as error:
                raise error.with_origin(origin) from None


def _no_duplicates(path: Path, keys: list[tuple[str, object]]) -> None:
    seen = set()
    for index, key in enumerate(keys):
        if key in seen:
            raise InvalidInput(f"duplicate row for {key[0]} on {key[1]}",
                               origin=Origin(str(path), index + 2))
        seen.add(key)
