"""Reconciliation of book balances against an observed snapshot."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from qoima.custody.reconciliation import (
    ChainDataSource,
    ObservedBalance,
    RowStatus,
    reconcile,
)
from qoima.domain.enums import Severity
from qoima.domain.errors import InvalidInput

AS_OF = datetime(2025, 11, 30, 12, tzinfo=UTC)
SEEN = datetime(2025, 11, 30, tzinfo=UTC)
EVM = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
BOOK = {
    ("bc1qstate", "BTC"): Decimal("1.5"),
    (EVM, "ETH"): Decimal("12.5"),
    (EVM, "USDT"): Decimal("1000"),
    ("1Empty", "BTC"): Decimal(0),
    ("1Gone", "BTC"): Decimal("0.3"),
}


def seen(address: str, code: str, quantity: str, at: datetime = SEEN) -> ObservedBalance:
    chain = "ethereum" if address.startswith("0x") else "bitcoin"
    return ObservedBalance(chain, address, code, Decimal(quantity), at, "explorer")


def test_rows_and_findings() -> None:
    observed = [
        seen("BC1QSTATE", "BTC", "1.50000000"),  # bech32 spelled upper-case: same address
        seen(EVM.lower(), "ETH", "12.4"),  # short: blocking
        seen(EVM, "USDT", "1000.25"),  # over: warning
        seen("1Stranger", "BTC", "0.1"),  # not in the book
        seen("1Dust", "BTC", "0"),  # not in the book, empty: row, no finding
    ]
    result = reconcile(BOOK, observed, AS_OF)
    rows = {(r.address, r.instrument_code): r for r in result.rows}
    assert rows["bc1qstate", "BTC"].status is RowStatus.MATCHED
    assert rows["bc1qstate", "BTC"].difference == 0
    short = rows[EVM, "ETH"]
    assert (short.status, short.book, short.observed, short.difference) == (
        RowStatus.DIFFERENCE, Decimal("12.5"), Decimal("12.4"), Decimal("-0.1"))
    assert rows[EVM, "USDT"].difference == Decimal("0.25")
    assert rows["1Gone", "BTC"].status is RowStatus.MISSING_ON_CHAIN
    assert rows["1Empty", "BTC"].status is RowStatus.MISSING_ON_CHAIN
    assert rows["1Stranger", "BTC"].status is RowStatus.UNKNOWN_ADDRESS
    assert rows["1Dust", "BTC"].status is RowStatus.UNKNOWN_ADDRESS
    assert not result.matched
    by_rule = {f.rule: f for f in result.findings}
    assert set(by_rule) == {"custody.balance_short", "custody.balance_excess",
                            "custody.balance_not_observed", "custody.unknown_address"}
    assert by_rule["custody.balance_short"].severity is Severity.BLOCKING
    assert by_rule["custody.balance_short"].measured == "-0.1"
    assert by_rule["custody.balance_short"].message == (
        f"explorer shows 12.4 ETH at {EVM}, the book 12.5 (short by 0.1)")
    assert by_rule["custody.balance_excess"].severity is Severity.WARNING
    assert by_rule["custody.balance_not_observed"].severity is Severity.ERROR
    assert by_rule["custody.unknown_address"].severity is Severity.WARNING
    assert all(f.as_of_date == AS_OF.date() for f in result.findings)


def test_tolerance_per_instrument() -> None:
    book = {(EVM, "ETH"): Decimal("12.5")}
    within = reconcile(book, [seen(EVM, "ETH", "12.49")], AS_OF, {"ETH": Decimal("0.01")})
    assert within.matched and within.findings == ()
    outside = reconcile(book, [seen(EVM, "ETH", "12.48")], AS_OF, {"ETH": Decimal("0.01")})
    assert outside.findings[0].limit == "0.01"
    assert not reconcile(book, [seen(EVM, "ETH", "12.49")], AS_OF, {"BTC": Decimal(1)}).matched
    with pytest.raises(InvalidInput, match="tolerance for ETH must be >= 0"):
        reconcile(book, [], AS_OF, {"ETH": Decimal(-1)})


def test_stale_observation_warns() -> None:
    old = SEEN - timedelta(days=3)
    result = reconcile({(EVM, "ETH"): Decimal(1)}, [seen(EVM, "ETH", "1", old)], AS_OF,
                       max_age=timedelta(days=1))
    assert result.rows[0].status is RowStatus.MATCHED
    assert [f.rule for f in result.findings] == ["custody.stale_observation"]


def test_refusals() -> None:
    with pytest.raises(InvalidInput, match="after as_of"):
        reconcile(BOOK, [seen(EVM, "ETH", "1", AS_OF + timedelta(seconds=1))], AS_OF)
    with pytest.raises(InvalidInput, match="observed twice"):
        reconcile(BOOK, [seen(EVM, "ETH", "1"), seen(EVM.lower(), "ETH", "1")], AS_OF)
    with pytest.raises(InvalidInput, match="in the book twice"):
        reconcile({(EVM, "ETH"): Decimal(1), (EVM.lower(), "ETH"): Decimal(1)}, [], AS_OF)
    with pytest.raises(InvalidInput, match="as_of must be an aware UTC"):
        reconcile(BOOK, [], datetime(2025, 1, 1))  # noqa: DTZ001
    with pytest.raises(InvalidInput, match=">= 0"):
        seen(EVM, "ETH", "-1")
    with pytest.raises(InvalidInput, match="observed_at"):
        ObservedBalance("ethereum", EVM, "ETH", Decimal(1), datetime(2025, 1, 1),  # noqa: DTZ001
                        "x")


def test_a_source_satisfies_the_protocol() -> None:
    class Fixed:
        def balances(self, addresses: Sequence[tuple[str, str]],
                     as_of: datetime) -> list[ObservedBalance]:
            return [seen(address, "ETH", "12.5") for _, address in addresses]

    source: ChainDataSource = Fixed()
    observed = source.balances([("ethereum", EVM)], AS_OF)
    assert reconcile({(EVM, "ETH"): Decimal("12.5")}, observed, AS_OF).matched
