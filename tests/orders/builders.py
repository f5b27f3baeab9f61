"""People, terms and orders in every status, built through the real lifecycle."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from qoima.domain.enums import Severity
from qoima.domain.findings import Finding
from qoima.domain.roles import Role, RoleGrant, User
from qoima.orders.approvals import DEFAULT_APPROVAL_RULES
from qoima.orders.lifecycle import approve, cancel, new_order, record_fill, reject, settle, submit
from qoima.orders.model import Fill, Order, OrderSide, OrderStatus, OrderTerms, PretradeCheck

D = Decimal
VEHICLE = "fx-sleeve"
OTHER_VEHICLE = "state-fund"
T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
RULES = DEFAULT_APPROVAL_RULES


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def person(name: str, *roles: Role, vehicle: str | None = VEHICLE) -> User:
    return User(name, name.title(), tuple(RoleGrant(r, vehicle) for r in roles))


PM = person("dana", Role.PORTFOLIO_MANAGER)
PM2 = person("yerlan", Role.PORTFOLIO_MANAGER)
RO = person("marat", Role.RISK_OFFICER)
RO2 = person("saule", Role.RISK_OFFICER)
CM1 = person("aliya", Role.COMMITTEE_MEMBER)
CM2 = person("bolat", Role.COMMITTEE_MEMBER)
CM3 = person("gulnara", Role.COMMITTEE_MEMBER)
OPS = person("timur", Role.OPERATIONS)
AUDITOR = person("aigerim", Role.AUDITOR, vehicle=None)
LIAISON = person("erlan", Role.ENFORCEMENT_LIAISON, vehicle=None)
ADMIN = person("root", Role.ADMINISTRATOR, vehicle=None)

CLEAN = PretradeCheck((), "policy-v1")
WARNED = PretradeCheck((Finding("policy.liquidity", Severity.WARNING, "fx-sleeve",
                                "liquidity not evaluated"),), "policy-v1")
BLOCKED = PretradeCheck((Finding("policy.size", Severity.BLOCKING, "fx-sleeve",
                                 "sleeve above USD 300M", measured="310000000",
                                 limit="300000000"),), "policy-v1")


def terms(quantity: str = "1000", price: str = "50", *, side: OrderSide = OrderSide.BUY,
          limit_price: str | None = None, vehicle: str = VEHICLE, note: str = "") -> OrderTerms:
    """Default notional: 1,000 × 50 = USD 50,000 (one approver)."""
    return OrderTerms(vehicle_code=vehicle, instrument_code="IBIT", side=side,
                      quantity=D(quantity), limit_price=None if limit_price is None
                      else D(limit_price), estimated_price=D(price), tranche_code="digital",
                      custodian_code="bny", note=note)


#: 600,000 × 50 = USD 30M: above the 25M step.
LARGE = ("600000", "50")


def draft(quantity: str = "1000", price: str = "50", *, side: OrderSide = OrderSide.BUY,
          limit_price: str | None = None) -> Order:
    made = terms(quantity, price, side=side, limit_price=limit_price)
    return new_order("o-1", "key-1", made, PM, at(0))


def submitted(quantity: str = "1000", price: str = "50", *, side: OrderSide = OrderSide.BUY,
              limit_price: str | None = None, check: PretradeCheck | None = CLEAN) -> Order:
    order = draft(quantity, price, side=side, limit_price=limit_price)
    return submit(order, PM, at(1), pretrade=check)


def approved(quantity: str = "1000", price: str = "50", *, side: OrderSide = OrderSide.BUY,
             limit_price: str | None = None) -> Order:
    order = approve(submitted(quantity, price, side=side, limit_price=limit_price), CM1, at(2),
                    RULES)
    assert order.status is OrderStatus.APPROVED
    return order


def fill(fill_id: str, quantity: str, price: str = "50", *, minutes: int = 10,
         settles: date = date(2026, 6, 2), fees: str = "1.25") -> Fill:
    return Fill(fill_id=fill_id, quantity=D(quantity), price=D(price), fees_usd=D(fees),
                venue="NASDAQ", counterparty="broker-a", executed_at=at(minutes),
                settlement_date=settles)


def order_in(status: OrderStatus) -> Order:
    """A USD 50,000 order (quantity 1000) brought to ``status`` the legal way."""
    if status is OrderStatus.DRAFT:
        return draft()
    if status is OrderStatus.SUBMITTED:
        return submitted()
    if status is OrderStatus.APPROVED:
        return approved()
    if status is OrderStatus.REJECTED:
        return reject(submitted(), RO, at(2), "too early in the cycle")
    if status is OrderStatus.CANCELLED:
        return cancel(draft(), PM, at(1))
    partial = record_fill(approved(), fill("f-1", "400"), OPS, at(10))
    if status is OrderStatus.PARTIALLY_EXECUTED:
        return partial
    done = record_fill(partial, fill("f-2", "600"), OPS, at(11))
    if status is OrderStatus.EXECUTED:
        return done
    return settle(done, OPS, datetime(2026, 6, 2, 12, tzinfo=UTC))
