"""Reference rows and records for the governance store tests (users, policies, orders)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from qoima.app.governance_ports import (
    ApprovalRecord,
    BreachRecord,
    FillRecord,
    OrderRecord,
    PolicyVersionRecord,
)
from qoima.bootstrap.wiring import Reserve
from tests.builders import AVG_FUND, BTC, CUSTODIAN, FIFO_FUND, IBIT, USD

D = Decimal
T0 = datetime(2026, 6, 1, 9, 30, 15, 123456, tzinfo=UTC)
ALMATY = timezone(timedelta(hours=5))
# 38 significant digits, 18 after the point: the widest value an exact column holds
WIDE = D("12345678901234567890.123456789012345678")
TINY = D("0.000000000000000001")


def seed(reserve: Reserve) -> Reserve:
    """Vehicles fund-a and fund-b (tranche main), instruments USD/IBIT/BTC, custodian bny."""
    with reserve.units(write=True) as uow:
        uow.reference.add_custodian(CUSTODIAN)
        for vehicle in (FIFO_FUND, AVG_FUND):
            uow.reference.add_vehicle(vehicle)
        for instrument in (USD, IBIT, BTC):
            uow.reference.add_instrument(instrument)
        uow.commit()
    return reserve


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def policy(vehicle: str = "fund-a", version: int = 1, status: str = "proposed",
           **changes: object) -> PolicyVersionRecord:
    record = PolicyVersionRecord(
        vehicle_code=vehicle, version=version,
        content_hash=f"{vehicle}-{version:02d}".ljust(64, "0"),
        source_text=f"vehicle: {vehicle}\nversion: {version}\nname: «Тенге» sleeve\n",
        format="yaml", status=status, proposed_by="pm", proposed_at=at(version),
        effective_from=date(2026, 6, version))
    return replace(record, **changes)  # type: ignore[arg-type]


def breach(vehicle: str = "fund-a", rule: str = "policy.size", subject: str = "fund-a",
           opened_on: date = date(2026, 6, 2), **changes: object) -> BreachRecord:
    record = BreachRecord(
        vehicle_code=vehicle, rule=rule, subject=subject, severity="blocking",
        opened_on=opened_on, message="market value USD 312,000,000 above the maximum",
        policy_hash="a" * 64, measured="312000000.00", limit_text="300000000")
    return replace(record, **changes)  # type: ignore[arg-type]


def approval(user: str, minutes: int, terms_hash: str = "t" * 64,
             override_reason: str | None = None) -> ApprovalRecord:
    return ApprovalRecord(user=user, roles=("risk_officer", "committee_member"),
                          terms_hash=terms_hash, at=at(minutes), override_reason=override_reason)


def fill(fill_id: str, quantity: str, price: str = "52.123456", minutes: int = 60,
         entry_id: str | None = None) -> FillRecord:
    return FillRecord(fill_id=fill_id, quantity=D(quantity), price=D(price),
                      fees_usd=D("12.345"), venue="NASDAQ", counterparty="Broker LLC",
                      executed_at=at(minutes), settlement_date=date(2026, 6, 2),
                      entry_id=entry_id)


def order(order_id: str = "ord-1", key: str = "key-1", vehicle: str = "fund-a",
          status: str = "draft", minutes: int = 0, **changes: object) -> OrderRecord:
    record = OrderRecord(
        order_id=order_id, idempotency_key=key, vehicle_code=vehicle, instrument_code="IBIT",
        side="buy", quantity=D("1000000"), estimated_price=D("52.17"), status=status,
        maker="pm", created_at=at(minutes), updated_at=at(minutes), terms_hash="t" * 64)
    return replace(record, **changes)  # type: ignore[arg-type]
