"""The full demo reserve (about a thousand positions on ten years of SYNTHETIC market data):
deterministic, balanced entry by entry, holdings equal to the postings, the composition the
benchmark needs; and the one-year demo unchanged."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qoima.app.demo.build import DemoReserve, DemoSize, build_demo, load_demo
from qoima.app.demo.full_market import clean_prices
from qoima.app.demo.market import note_price
from qoima.app.demo.reference import FUND, FX, SEIZED, SLEEVE, TOKENS
from qoima.app.demo.universe import cusip_check_digit
from qoima.bootstrap.settings import Settings
from qoima.bootstrap.wiring import Reserve, open_reserve
from qoima.domain.enums import AccountKind, CostMethod, EntryCode, EntryPhase, InstrumentKind
from qoima.domain.reference import Account
from qoima.ledger.entries import EntryDraft
from qoima.ledger.ports import AccountInfo
from qoima.ledger.validation import check_header, check_postings
from qoima.market.quotes import SYNTHETIC_SOURCE_PREFIX
from qoima.market.series import Series
from qoima.store.series_repo import _stored_decimal
from qoima.store.types import strip_zeros

END = date(2026, 10, 30)
VEHICLES = {FX, SLEEVE, FUND, SEIZED, TOKENS}


@pytest.fixture(scope="module")
def full() -> DemoReserve:
    return build_demo(DemoSize.FULL)


@pytest.fixture(scope="module")
def loaded(full: DemoReserve, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reserve]:
    """The full demo in a SQLite workspace, loaded once for the module."""
    directory = tmp_path_factory.mktemp("full-demo")
    reserve = open_reserve(workspace=directory, create=True,
                           settings=Settings(runs_dir=directory / "runs"))
    result = load_demo(reserve.book, reserve.market_data, full, actor="demo")
    assert result.entries_posted == len(full.entries) and result.entries_replayed == 0
    yield reserve
    reserve.close()


def _series(demo: DemoReserve, text: str) -> Series:
    return next(s for s in demo.series if str(s.id) == text)


def test_full_demo_is_deterministic(full: DemoReserve) -> None:
    again = build_demo(DemoSize.FULL)
    assert again.entries == full.entries
    assert again.prices == full.prices and again.fx == full.fx
    assert again.series == full.series and again.etf_facts == full.etf_facts
    assert again.reference == full.reference


def test_every_entry_passes_the_ledgers_checks_and_balances_per_asset(
        full: DemoReserve) -> None:
    instruments = {i.code: i for i in full.reference.instruments}
    infos = {a.code: AccountInfo(k, a, instruments[a.instrument_code], CostMethod.FIFO)
             for k, a in enumerate(full.reference.accounts, start=1)}
    for entry in full.entries:
        check_header(entry)
        if entry.postings:
            check_postings(entry, infos)  # raises UnbalancedEntry naming the asset
            totals: dict[str, Decimal] = defaultdict(Decimal)
            for posting in entry.postings:
                totals[Account.parse(posting.account).instrument_code] += posting.amount
            assert set(totals.values()) == {Decimal(0)}, entry.entry_id
            assert all(isinstance(p.amount, Decimal) for p in entry.postings)


def _expected_balances(entries: tuple[EntryDraft, ...]) -> dict[str, Decimal]:
    """Holding balances on the last day, summed from the drafts by hand: posted entries,
    reversals as the negation of their target; pending intakes count only once forfeited
    (the forfeiture carries the postings)."""
    by_id = {e.entry_id: e for e in entries}
    balances: dict[str, Decimal] = defaultdict(Decimal)
    for entry in entries:
        legs = entry.postings
        if entry.code is EntryCode.REVERSAL and not legs:
            legs = tuple(type(p)(p.account, -p.amount)
                         for p in by_id[str(entry.reverses_entry_id)].postings)
        if entry.phase is EntryPhase.PENDING:
            continue
        for posting in legs:
            if posting.account.startswith("holding:"):
                balances[posting.account] += posting.amount
    return {code: amount for code, amount in balances.items() if amount}


def test_holdings_equal_the_sum_of_postings(full: DemoReserve, loaded: Reserve) -> None:
    holdings = loaded.valuation.holdings(END)
    stored = {p.account.code: p.quantity for p in holdings.positions if p.quantity}
    assert stored == _expected_balances(full.entries)
    resolved = {e.resolves_entry_id for e in full.entries if e.resolves_entry_id}
    pending: dict[str, Decimal] = defaultdict(Decimal)
    for entry in full.entries:
        if entry.phase is EntryPhase.PENDING and entry.entry_id not in resolved:
            for posting in entry.postings:
                if posting.account.startswith("holding:"):
                    pending[posting.account] += posting.amount
    assert {p.account.code: p.quantity for p in holdings.pending} == dict(pending)


def test_about_a_thousand_positions_across_every_vehicle(loaded: Reserve) -> None:
    snapshot = loaded.valuation.snapshot(END)
    positions = [*snapshot.positions, *snapshot.pending_positions]
    assert 900 <= len(positions) <= 1100
    per_vehicle = Counter(p.vehicle_code for p in positions)
    assert set(per_vehicle) == VEHICLES
    kinds = Counter(p.instrument_kind for p in snapshot.positions if p.vehicle_code == FX)
    assert kinds[InstrumentKind.BOND] >= 400 and kinds[InstrumentKind.EQUITY] >= 200
    assert kinds[InstrumentKind.TBILL] == 13 and kinds[InstrumentKind.GOLD] >= 10
    wallets = [p for p in positions if p.vehicle_code == SEIZED]
    assert 100 <= len(wallets) <= 250
    assert all(re.fullmatch(r"holding:seized-pool/main:(BTC|ETH|USDT)@state-wallet"
                            r"#case-20\d\d-\d{3}", p.account_code) for p in wallets)
    assert per_vehicle[FUND] >= 7 and per_vehicle[TOKENS] >= 4
    # the sleeve is funded and waits for the stability gate: cash only
    assert [p.instrument_code for p in positions if p.vehicle_code == SLEEVE] == ["USD"]
    # every position is valued: the demo prices everything it holds on the last day
    assert all(p.value_usd is not None for p in snapshot.positions)
    assert snapshot.synthetic_market


def test_ten_years_of_daily_history_for_the_core_factors(full: DemoReserve) -> None:
    for name in ("price:BTC", "price:ETH", "price:SPX", "price:XAU", "price:WTI",
                 "price:DXY", "price:VIX", "fx:USD/KZT", "rate:DGS2", "rate:DGS10",
                 "rate:DFEDTARU"):
        bars = _series(full, name).bars
        assert bars[0].day <= date(2016, 11, 7) and bars[-1].day == END, name
        assert len(bars) > 2400, name
    assert len(_series(full, "price:BTC").bars) == (END - date(2016, 11, 1)).days + 1
    assert _series(full, "price:BNB").bars[0].day == date(2017, 7, 25)
    for etf, listed in (("IBIT", date(2024, 1, 11)), ("ETHA", date(2024, 7, 23))):
        assert _series(full, f"price:{etf}").bars[0].day == listed
    # the price examples/sleeve-first-tranche.yaml pays at the close
    assert _series(full, "price:IBIT").bars[-1].close == Decimal("74.32")
    stocks = [s for s in full.series if s.id.code.startswith("EQ-")]
    assert len(stocks) >= 200 and all(len(s.bars) > 300 for s in stocks)
    assert all(s.source.startswith(SYNTHETIC_SOURCE_PREFIX) for s in full.series)
    assert all(q.source.startswith(SYNTHETIC_SOURCE_PREFIX) for q in full.prices)
    assert full.history_start_date == date(2016, 11, 1)


def test_the_market_keeps_its_stylized_facts_over_ten_years(full: DemoReserve) -> None:
    closes = np.array([float(b.close) for b in _series(full, "price:BTC").bars])
    returns = np.diff(np.log(closes))
    excess_kurtosis = float(np.mean((returns - returns.mean()) ** 4) / returns.var() ** 2 - 3)
    assert excess_kurtosis > 3  # fat tails
    vix = np.array([float(b.close) for b in _series(full, "price:VIX").bars])
    assert vix.min() >= 9 and np.median(vix) < 25 and vix.max() > 30  # spikes, reverts


def test_bond_prices_are_the_street_convention(full: DemoReserve) -> None:
    """The vectorised closed form equals the coupon-by-coupon sum of the one-year demo."""
    days = [date(2025, 11, 3) + timedelta(days=k) for k in range(0, 360, 17)]
    for maturity, coupon in ((date(2027, 2, 15), 0.5), (date(2034, 11, 15), 4.375),
                             (date(2055, 5, 15), 5.0)):
        yields = np.linspace(0.5, 6.0, len(days))
        prices = clean_prices(days, maturity, coupon, yields)
        for day, y, price in zip(days, yields, prices, strict=True):
            assert price == pytest.approx(float(note_price(day, maturity, coupon, y)),
                                          abs=1e-4)
    codes = [i.code for i in full.reference.instruments if i.kind is InstrumentKind.BOND]
    assert len(set(codes)) == len(codes)
    assert all(len(c) == 9 and c[-1] == cusip_check_digit(c[:8]) for c in codes)


def test_cusip_check_digit_of_known_codes() -> None:
    assert cusip_check_digit("03783310") == "0"  # Apple Inc.
    assert cusip_check_digit("59491810") == "4"  # Microsoft Corp.


@given(st.decimals(min_value=Decimal("-1e15"), max_value=Decimal("1e15"), places=8,
                   allow_nan=False, allow_infinity=False))
def test_stored_text_reads_back_like_the_column_type(value: Decimal) -> None:
    text = format(value, "f")
    fast, general = _stored_decimal(text), strip_zeros(Decimal(text))
    assert fast == general and str(fast) == str(general)


def test_loading_again_changes_nothing(full: DemoReserve, loaded: Reserve) -> None:
    again = load_demo(loaded.book, loaded.market_data, full, actor="demo")
    assert again.entries_posted == 0 and again.entries_replayed == len(full.entries)
    assert again.quotes_changed == 0 and again.series_bars_written == 0
    assert again.created_reference == 0


def test_the_small_demo_is_unchanged(tmp_path: Path) -> None:
    small = build_demo()
    assert build_demo(DemoSize.SMALL) == small
    assert len(small.entries) == 83 and len(small.series) == 17
    ibit = next(s for s in small.series if str(s.id) == "price:IBIT")
    assert ibit.bars[-1].day == END and ibit.bars[-1].close == Decimal("74.32")
    reserve = open_reserve(workspace=tmp_path, create=True,
                           settings=Settings(runs_dir=tmp_path / "runs"))
    try:
        load_demo(reserve.book, reserve.market_data, small, actor="demo")
        snapshot = reserve.valuation.snapshot(END)
    finally:
        reserve.close()
    assert snapshot.total_usd == Decimal("47602553398.54")
    assert not any(a.kind is AccountKind.HOLDING and a.label for a in small.reference.accounts)
