"""Storing market series (OHLCV prices, FX, rates) on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qoima.bootstrap.wiring import Reserve
from qoima.domain.enums import Severity
from qoima.domain.errors import Conflict, InvalidInput
from qoima.domain.findings import Finding
from qoima.market.series import Bar, EtfFacts, Series, SeriesId, SeriesKind, bars_hash

D = Decimal
START = date(2024, 1, 1)


def btc(days: int, *, start: date = START, source: str = "file:BTC-USD.csv",
        offset: int = 0) -> Series:
    bars = tuple(Bar(start + timedelta(n), D(40000 + offset + n), D(39990 + n), D(40100 + n),
                     D(39900 + n), D("1234.5") + n) for n in range(days))
    return Series(SeriesId(SeriesKind.PRICE, "BTC"), bars, source, "crypto", "USD",
                  (Finding("market.jump", Severity.WARNING, "line 3", "a jump", START, "9.1",
                           "8"),))


def usdkzt(days: int) -> Series:
    bars = tuple(Bar(START + timedelta(n), D("450.10") + n) for n in range(days))
    return Series(SeriesId(SeriesKind.FX, "USD/KZT"), bars, "file:USDKZT.csv",
                  "kz-valuation", "KZT")


def dgs10(days: int) -> Series:
    bars = tuple(Bar(START + timedelta(n), D("4.06") - D("0.01") * n) for n in range(days))
    return Series(SeriesId(SeriesKind.RATE, "DGS10"), bars, "file:DGS10.csv", "weekdays")


def test_series_round_trip_exactly(reserve: Reserve) -> None:
    market = reserve.market_data
    outcomes = market.import_series([btc(10), usdkzt(5), dgs10(7)], actor="t", origin="test")
    assert [(str(o.series_id), o.bars, o.written) for o in outcomes] == [
        ("price:BTC", 10, 10), ("fx:USD/KZT", 5, 5), ("rate:DGS10", 7, 7)]
    loaded = market.load_series(SeriesId.parse("price:BTC"))
    assert loaded.bars == btc(10).bars
    assert loaded.warnings == btc(10).warnings
    assert market.load_series(SeriesId.parse("fx:USD/KZT")).bars == usdkzt(5).bars
    assert market.load_series(SeriesId.parse("rate:DGS10")).bars[-1].close == D("4.00")
    infos = {str(i.id): i for i in market.list_series()}
    assert infos["price:BTC"].bars == 10
    assert infos["price:BTC"].content_hash == bars_hash(btc(10).bars)
    assert (infos["fx:USD/KZT"].first_date, infos["fx:USD/KZT"].last_date) == (
        START, START + timedelta(4))


def test_reimport_is_a_no_op_and_corrections_replace(reserve: Reserve) -> None:
    market = reserve.market_data
    market.import_series([btc(10)], actor="t", origin="a")
    assert market.import_series([btc(10)], actor="t", origin="a")[0].written == 0
    corrected = market.import_series([btc(12, offset=5)], actor="t", origin="b")[0]
    assert corrected.written == 12  # 10 changed closes + 2 new days
    info = market.list_series()[0]
    assert info.bars == 12 and info.last_date == START + timedelta(11)
    assert market.load_series(SeriesId.parse("BTC")).bars[0].close == D(40005)


def test_a_later_slice_extends_and_the_hash_covers_all_bars(reserve: Reserve) -> None:
    market = reserve.market_data
    market.import_series([btc(10)], actor="t", origin="a")
    later = btc(5, start=START + timedelta(10))
    market.import_series([later], actor="t", origin="b")
    info = market.list_series()[0]
    assert (info.first_date, info.last_date, info.bars) == (START, START + timedelta(14), 15)
    assert info.content_hash == bars_hash(market.load_series(info.id).bars)
    window = market.load_series(info.id, START + timedelta(3), START + timedelta(5))
    assert [b.day.day for b in window.bars] == [4, 5, 6]


def test_a_failing_import_writes_nothing(reserve: Reserve) -> None:
    market = reserve.market_data
    empty = Series(SeriesId(SeriesKind.PRICE, "ETH"), (), "file:x", "crypto", "USD")
    with pytest.raises(Exception, match="no bars"):
        market.import_series([btc(10), empty], actor="t", origin="x")
    assert market.list_series() == []
    with pytest.raises(Conflict, match="twice"):
        market.import_series([btc(3), btc(4)], actor="t", origin="x")
    assert reserve.audit.verify().ok


def test_each_imported_series_is_audited(reserve: Reserve) -> None:
    reserve.market_data.import_series([btc(3), dgs10(2)], actor="ana", origin="f.csv")
    with reserve.units(write=False) as uow:
        records = list(uow.audit.iter_records())
    imported = [r for r in records if r.action == "market.series_imported"]
    assert [(r.actor, r.object_id) for r in imported] == [("ana", "price:BTC"),
                                                           ("ana", "rate:DGS10")]
    assert '"origin":"f.csv"' in imported[0].payload


def test_imported_closes_value_held_instruments(reserve: Reserve) -> None:
    reserve.market_data.import_series([btc(3)], actor="t", origin="x")
    with reserve.units(write=False) as uow:
        quotes = uow.market.latest_prices(START + timedelta(30), ["BTC"])
    assert quotes["BTC"].price == D(40002)
    assert quotes["BTC"].price_date == START + timedelta(2)


def test_etf_facts_as_of(reserve: Reserve) -> None:
    facts = [EtfFacts("IBIT", date(2024, 1, 11), "BTC", D("0.0005685"), D("0.0025"), "issuer"),
             EtfFacts("IBIT", date(2025, 1, 2), "BTC", D("0.000568"), D("0.0025"), "issuer")]
    assert reserve.market_data.import_etf_facts(facts, actor="t", origin="f") == 2
    assert reserve.market_data.import_etf_facts(facts, actor="t", origin="f") == 0
    found = reserve.market_data.etf_facts(date(2024, 6, 1))
    assert found["IBIT"].units_per_share == D("0.0005685")
    assert reserve.market_data.etf_facts(date(2025, 6, 1))["IBIT"].as_of_date == date(2025, 1, 2)
    assert reserve.market_data.etf_facts(date(2023, 1, 1)) == {}
    with pytest.raises(InvalidInput, match="expense_ratio"):
        EtfFacts("IBIT", date(2024, 1, 11), "BTC", D("0.0005"), D("1.2"), "issuer")


closes = st.decimals(min_value=D("0.00000001"), max_value=D("1e12"), places=8,
                     allow_nan=False, allow_infinity=False)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(closes, min_size=1, max_size=40))
def test_any_exact_close_survives_the_store(reserve: Reserve,
                                            values: list[Decimal]) -> None:
    series = Series(SeriesId(SeriesKind.PRICE, "X"),
                    tuple(Bar(START + timedelta(n), v) for n, v in enumerate(values)),
                    "file:x", "crypto", "USD")
    reserve.market_data.import_series([series], actor="t", origin="x")
    loaded = reserve.market_data.load_series(series.id)
    assert [b.close for b in loaded.bars[:len(values)]] == values
