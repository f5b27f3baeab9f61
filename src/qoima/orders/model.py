"""Orders as immutable values: terms (what is approved), approvals, fills, the order itself.

Approvals are bound to the SHA-256 of the terms, so any change to what was approved is
visible; money and quantities are exact Decimals, times aware UTC datetimes given by the
caller (the core reads no clock).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import reduce
from typing import Any

from qoima.domain.canonical import content_hash
from qoima.domain.enums import Severity
from qoima.domain.errors import InvalidInput
from qoima.domain.findings import Finding
from qoima.domain.money import MONEY_CONTEXT, ZERO
from qoima.domain.roles import Role


class OrderSide(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    PARTIALLY_EXECUTED = "partially_executed"
    EXECUTED = "executed"
    SETTLED = "settled"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


#: Statuses an order never leaves.
TERMINAL_STATUSES = frozenset({OrderStatus.SETTLED, OrderStatus.REJECTED, OrderStatus.CANCELLED})


def require_utc(value: datetime, what: str) -> None:
    """Refuse naive or non-UTC times: the audit trail orders events by them."""
    if value.tzinfo is None or value.utcoffset() != timedelta(0):
        raise InvalidInput(f"{what} must be an aware UTC datetime, got {value!r}", field=what)


def _positive(value: Decimal, what: str, *, allow_zero: bool = False) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise InvalidInput(f"{what} must be a finite Decimal, got {value!r}", field=what)
    if value < 0 or (value == 0 and not allow_zero):
        sign = "non-negative" if allow_zero else "positive"
        raise InvalidInput(f"{what} must be {sign}, got {value}", field=what)


def _text(value: str, what: str) -> None:
    if not value.strip():
        raise InvalidInput(f"{what} cannot be blank", field=what)


def exact_sum(values: Iterable[Decimal]) -> Decimal:
    """Sum without the default 28-digit context, which would round 18-place token amounts."""
    return reduce(MONEY_CONTEXT.add, values, ZERO)


@dataclass(frozen=True, slots=True)
class OrderTerms:
    """What the maker asks for and the approvers approve; ``estimated_price`` is USD per unit.

    ``limit_price`` (USD per unit) bounds fills: a buy never above it, a sell never below.
    """

    vehicle_code: str
    instrument_code: str
    side: OrderSide
    quantity: Decimal
    limit_price: Decimal | None
    estimated_price: Decimal
    tranche_code: str | None
    custodian_code: str | None
    note: str = ""

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "side", OrderSide(self.side))
        except ValueError:
            raise InvalidInput(f"side must be buy or sell, got {self.side!r}",
                               field="side") from None
        _text(self.vehicle_code, "vehicle_code")
        _text(self.instrument_code, "instrument_code")
        _positive(self.quantity, "quantity")
        _positive(self.estimated_price, "estimated_price")
        if self.limit_price is not None:
            _positive(self.limit_price, "limit_price")

    @property
    def notional_usd(self) -> Decimal:
        """quantity × estimated_price, exact: what the quorum by size is measured on."""
        return MONEY_CONTEXT.multiply(self.quantity, self.estimated_price)

    def content(self) -> dict[str, Any]:
        return {
            "vehicle_code": self.vehicle_code,
            "instrument_code": self.instrument_code,
            "side": self.side,
            "quantity": self.quantity,
            "limit_price": self.limit_price,
            "estimated_price": self.estimated_price,
            "tranche_code": self.tranche_code,
            "custodian_code": self.custodian_code,
            "note": self.note,
        }

    @property
    def content_hash(self) -> str:
        """SHA-256 of the canonical terms: 1.50 and 1.5 hash the same, any real edit does not."""
        return content_hash(self.content())


@dataclass(frozen=True, slots=True)
class Approval:
    """One person's approval of one exact version of the terms (``terms_hash``).

    ``roles`` are the approving roles the person held on the vehicle when approving;
    ``override_reason`` is the written reason for approving over a blocking finding.
    """

    user: str
    roles: tuple[Role, ...]
    terms_hash: str
    at: datetime
    override_reason: str | None = None

    def __post_init__(self) -> None:
        _text(self.user, "user")
        require_utc(self.at, "at")


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution: ``quantity`` units at ``price`` USD per unit, ``fees_usd`` on top."""

    fill_id: str
    quantity: Decimal
    price: Decimal
    fees_usd: Decimal
    venue: str
    counterparty: str
    executed_at: datetime
    settlement_date: date

    def __post_init__(self) -> None:
        _text(self.fill_id, "fill_id")
        _positive(self.quantity, "quantity")
        _positive(self.price, "price")
        _positive(self.fees_usd, "fees_usd", allow_zero=True)
        _text(self.venue, "venue")
        _text(self.counterparty, "counterparty")
        require_utc(self.executed_at, "executed_at")
        if self.settlement_date < self.executed_at.date():
            raise InvalidInput(
                f"settlement date {self.settlement_date} precedes the execution "
                f"({self.executed_at.date()})", field="settlement_date")

    @property
    def gross_usd(self) -> Decimal:
        return MONEY_CONTEXT.multiply(self.quantity, self.price)


@dataclass(frozen=True, slots=True)
class PretradeCheck:
    """The policy findings on the hypothetical post-trade snapshot, and the policy's hash."""

    findings: tuple[Finding, ...]
    policy_hash: str

    def __post_init__(self) -> None:
        _text(self.policy_hash, "policy_hash")


@dataclass(frozen=True, slots=True)
class Order:
    """An order and everything that happened to it; change it only through ``lifecycle``.

    ``pretrade_findings`` come from the policy check of the hypothetical post-trade
    snapshot (``pretrade_policy_hash`` names the policy version that produced them).
    """

    order_id: str
    idempotency_key: str
    terms: OrderTerms
    status: OrderStatus
    maker: str
    created_at: datetime
    updated_at: datetime
    approvals: tuple[Approval, ...] = ()
    fills: tuple[Fill, ...] = ()
    rejection_reason: str | None = None
    pretrade_findings: tuple[Finding, ...] = ()
    pretrade_policy_hash: str | None = None

    def __post_init__(self) -> None:
        _text(self.order_id, "order_id")
        _text(self.idempotency_key, "idempotency_key")
        _text(self.maker, "maker")
        require_utc(self.created_at, "created_at")
        require_utc(self.updated_at, "updated_at")
        if self.updated_at < self.created_at:
            raise InvalidInput("an order cannot change before it was created", field="updated_at")
        if self.executed_quantity > self.terms.quantity:
            raise InvalidInput(
                f"fills total {self.executed_quantity}, more than the order's "
                f"{self.terms.quantity}", field="fills")

    @property
    def vehicle_code(self) -> str:
        return self.terms.vehicle_code

    @property
    def executed_quantity(self) -> Decimal:
        return exact_sum(f.quantity for f in self.fills)

    @property
    def remaining_quantity(self) -> Decimal:
        return MONEY_CONTEXT.subtract(self.terms.quantity, self.executed_quantity)

    @property
    def fees_usd(self) -> Decimal:
        return exact_sum(f.fees_usd for f in self.fills)

    @property
    def blocking_findings(self) -> tuple[Finding, ...]:
        """Pre-trade findings that stop approval unless the committee overrides them."""
        return tuple(f for f in self.pretrade_findings if f.severity == Severity.BLOCKING)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES
