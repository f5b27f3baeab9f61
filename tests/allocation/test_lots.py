"""Weights to share counts: rounded down to lots, cash reported, caps never broken."""

from __future__ import annotations

from decimal import Decimal

import pytest

from qoima.allocation.lots import round_to_lots
from qoima.domain.errors import InvalidInput

D = Decimal


def test_rounds_down_to_lots_and_reports_cash() -> None:
    result = round_to_lots(("IBIT", "BTC"), (0.6, 0.4), (D("55.37"), D("97000")),
                           (D(1), D("0.001")), D("1000000"), top_up=False)
    ibit, btc = result.lines
    assert ibit.quantity == D(10836)  # 600000 / 55.37 = 10836.19 -> 10836
    assert ibit.amount_usd == D("599989.32")
    assert btc.quantity == D("4.123")  # 400000 / 97000 = 4.12371 -> 4.123
    assert btc.amount_usd == D("399931.000")
    assert result.invested_usd == D("999920.320")
    assert result.cash_usd == D("79.680")
    assert ibit.weight == ibit.amount_usd / D("1000000")


def test_top_up_buys_the_lot_that_closes_the_largest_gap_within_caps() -> None:
    # 50/50 of 1000 at prices 300 and 400: floor gives 1 x 300 and 1 x 400, cash 300
    result = round_to_lots(("A", "B"), (D("0.5"), D("0.5")), (D(300), D(400)), (D(1), D(1)),
                           D(1000), caps=(D("0.6"), D("0.6")))
    a, b = result.lines
    assert (a.quantity, b.quantity) == (D(2), D(1))  # A's gap 200 > B's 100; 600 <= 60 %
    assert result.cash_usd == D(0)
    capped = round_to_lots(("A", "B"), (D("0.5"), D("0.5")), (D(300), D(400)), (D(1), D(1)),
                           D(1000), caps=(D("0.5"), D("0.5")))
    assert [line.quantity for line in capped.lines] == [D(1), D(1)]  # a lot would break 50 %
    assert capped.cash_usd == D(300)


def test_never_spends_more_than_the_size() -> None:
    result = round_to_lots(("A", "B", "C"), (0.3333, 0.3333, 0.3334), (D(7), D(11), D(13)),
                           (D(1), D(1), D(1)), D(100))
    assert result.invested_usd <= D(100)
    assert result.cash_usd >= 0


def test_bad_input() -> None:
    with pytest.raises(InvalidInput, match="same length"):
        round_to_lots(("A",), (0.5, 0.5), (D(1),), (D(1),), D(10))
    with pytest.raises(InvalidInput, match="positive"):
        round_to_lots(("A",), (1.0,), (D(0),), (D(1),), D(10))
    with pytest.raises(InvalidInput, match="negative"):
        round_to_lots(("A",), (-0.1,), (D(1),), (D(1),), D(10))
    with pytest.raises(InvalidInput, match="size_usd"):
        round_to_lots(("A",), (1.0,), (D(1),), (D(1),), D(0))
