"""Small builders for manager tests: statements that roll forward by construction."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from qoima.domain.enums import ManagerKind
from qoima.managers.model import (
    Exposure,
    FeeCharge,
    FeeKind,
    FeeTerms,
    Flow,
    Guidelines,
    LiquidityTerms,
    Mandate,
    Statement,
)

D = Decimal


def statement(start: date, end: date, opening: str | int, pnl: str | int,
              flows: tuple[Flow, ...] = (), fees: dict[FeeKind, str | int] | None = None,
              exposures: tuple[Exposure, ...] = (), manager: str = "hf-a",
              closing: str | int | None = None, received_on: date | None = None,
              leverage: str | None = None) -> Statement:
    """A statement whose closing NAV rolls forward unless ``closing`` is given."""
    charges = tuple(FeeCharge(kind, D(amount)) for kind, amount in (fees or {}).items())
    draft = Statement(manager, start, end, "USD", D(opening), D(pnl), D(0), flows, charges,
                      exposures, D(leverage) if leverage else None, received_on)
    close = draft.expected_closing_nav if closing is None else D(closing)
    return Statement(manager, start, end, "USD", D(opening), D(pnl), close, flows, charges,
                     exposures, draft.reported_leverage, received_on)


def mandate(fees: FeeTerms | None = None, *, kind: ManagerKind = ManagerKind.HEDGE_FUND,
            inception: date = date(2025, 1, 1), guidelines: Guidelines | None = None,
            liquidity: LiquidityTerms | None = None, manager: str = "hf-a",
            commitment: str | None = None, **extra: object) -> Mandate:
    return Mandate(manager, "state-fund", kind, "test strategy", inception,
                   fees or FeeTerms(), liquidity or LiquidityTerms(),
                   guidelines or Guidelines(), commitment=D(commitment) if commitment else None,
                   **extra)  # type: ignore[arg-type]
