"""A demo reserve with its managers' mandates and statements, people, and helpers to add a
new manager and write its statements as files."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from qoima.adapters.statement_files import (
    read_statement,
    write_statement_csv,
    write_statement_xlsx,
)
from qoima.app.book import ReferenceData
from qoima.app.demo.build import build_demo, load_demo
from qoima.app.demo.managers import (
    DemoManagers,
    DemoManagersLoad,
    demo_manager_book,
    load_demo_managers,
)
from qoima.app.managers import ManagerService, StatementImport
from qoima.bootstrap.wiring import Reserve, SystemClock
from qoima.domain.enums import AccountKind, InstrumentKind, ManagerKind, Venue
from qoima.domain.reference import Account, Instrument, Manager
from qoima.domain.roles import Role, RoleGrant
from qoima.managers.fees import management_basis, management_fee
from qoima.managers.model import (
    Exposure,
    FeeCharge,
    FeeKind,
    FeeTerms,
    Flow,
    FlowKind,
    Frequency,
    Guidelines,
    LiquidityTerms,
    ManagementFeeBasis,
    Mandate,
    Statement,
)
from qoima.store import manager_tables as mt
from qoima.store import tables as t
from qoima.store.manager_repo import manager_repository

FUND = "state-fund"
CASH = "holding:state-fund/liquidity:USD@bny"
AS_OF = date(2026, 10, 30)
JAN_FEB = ((date(2026, 1, 1), date(2026, 1, 31)), (date(2026, 2, 1), date(2026, 2, 28)))
D = Decimal
PEOPLE = {
    "admin": [RoleGrant(Role.ADMINISTRATOR)],
    "cm1": [RoleGrant(Role.COMMITTEE_MEMBER)],
    "ops": [RoleGrant(Role.OPERATIONS)],
    "pm": [RoleGrant(Role.PORTFOLIO_MANAGER, FUND)],
    "auditor": [RoleGrant(Role.AUDITOR)],
    "loader": [RoleGrant(Role.ADMINISTRATOR), RoleGrant(Role.OPERATIONS)],
}
ZERO, ONE = D(0), D(1)
LINES = (("BTC", D("0.5")), ("ETH", D("0.2")))
COUNTED = (t.entries, t.postings, t.audit_records, t.prices, *mt.MANAGER_TABLES)


@dataclass
class World:
    reserve: Reserve
    service: ManagerService
    demo: DemoManagers
    first_load: DemoManagersLoad


def build_world(reserve: Reserve) -> World:
    """The demo book and market, then its managers (single-operator mode), then people."""
    demo = build_demo()
    load_demo(reserve.book, reserve.market_data, demo, actor="loader")
    service = ManagerService(reserve.units, SystemClock(), manager_repository)
    managers = demo_manager_book(demo.reference, demo.entries, demo.prices)
    first = load_demo_managers(service, managers, actor="loader")
    for name, grants in PEOPLE.items():
        reserve.users.add(name, name.title(), grants, actor="admin")
    return World(reserve, service, managers, first)


def row_counts(reserve: Reserve) -> dict[str, int]:
    with reserve.engine.connect() as connection:
        return {table.name: int(connection.execute(
            select(func.count()).select_from(table)).scalar_one()) for table in COUNTED}


def balance(reserve: Reserve, account: str, on: date = AS_OF) -> Decimal:
    with reserve.units(write=False) as uow:
        return uow.journal.balances_as_of(on).get(account, D(0))


def posted_sum(reserve: Reserve, account: str, on: date = AS_OF) -> Decimal:
    """The account's postings added up (what its balance must equal)."""
    with reserve.units(write=False) as uow:
        instrument = account.split(":")[-1].split("@")[0]
        return sum((r.amount for r in uow.journal.postings_until(on, [instrument])
                    if r.account_code == account), D(0))


def new_manager(world: World, code: str, *, venture: bool = False,
                guidelines: Guidelines | None = None) -> Mandate:
    """Register a manager, its fund interest and holding account, and its mandate."""
    kind = ManagerKind.VENTURE_FUND if venture else ManagerKind.HEDGE_FUND
    interest = f"{code.upper()}-LP"
    world.reserve.book.register(ReferenceData(
        managers=(Manager(code, f"Test manager {code}", kind, FUND, "test strategy"),),
        instruments=(Instrument(interest, f"{code} interest", InstrumentKind.VENTURE_FUND_INTEREST
                                if venture else InstrumentKind.HEDGE_FUND_INTEREST, 6,
                                venue=Venue.PRIVATE, manager_code=code),),
        accounts=(Account(AccountKind.HOLDING, interest, FUND,
                          "venture" if venture else "managers", "fund-admin"),)),
        actor="admin")
    mandate = Mandate(
        code, FUND, kind, "test strategy", date(2026, 1, 1),
        FeeTerms(management_rate=D("0.02"), management_basis=ManagementFeeBasis.COMMITMENT
                 if venture else ManagementFeeBasis.NAV),
        LiquidityTerms(redemption_frequency=Frequency.NONE if venture else Frequency.MONTHLY),
        guidelines or Guidelines(max_leverage=D(2), max_single_asset_share=D("0.6")),
        commitment=D(50_000_000) if venture else None,
        allocation=None if venture else D(10_000_000),
        statement_frequency=Frequency.MONTHLY, statement_lag_days=20)
    world.service.set_mandate(mandate, actor="cm1")
    return mandate


def month(mandate: Mandate, start: date, end: date, opening: Decimal, *,
          flows: Sequence[Flow] = (), pnl: Decimal = ZERO,
          lines: Sequence[tuple[str, Decimal]] = LINES, fee_factor: Decimal = ONE,
          earlier: Sequence[Statement] = ()) -> Statement:
    """A statement whose management fee is the terms' (times ``fee_factor``), rolled forward
    and with exposures as shares of the closing NAV plus USD cash."""
    draft = Statement(mandate.manager_code, start, end, "USD", opening, pnl, D(0),
                      flows=tuple(flows), received_on=end)
    paid = sum((f.amount for s in earlier for f in s.flows
                if f.kind in (FlowKind.SUBSCRIPTION, FlowKind.CAPITAL_CALL)), D(0))
    fee = management_fee(mandate.fees.management_rate,
                         management_basis(mandate, draft, paid), draft.days)
    fee = (fee * fee_factor).quantize(D("0.01"))
    closing = opening + draft.net_flows + pnl - fee
    exposures = [Exposure(asset, "coinbase-prime", "copper", (share * closing).quantize(
        D("0.01"))) for asset, share in lines]
    cash = closing - sum((e.market_value for e in exposures), D(0))
    return replace(draft, closing_nav=closing, fees=(FeeCharge(FeeKind.MANAGEMENT, fee),),
                   exposures=(*exposures, Exposure("USD", "bank", "bny", cash)))


def write(statement: Statement, path: Path) -> Path:
    if path.suffix == ".xlsx":
        write_statement_xlsx(statement, path)
    else:
        write_statement_csv(statement, path)
    return path


def import_file(world: World, path: Path, manager: str, *, actor: str = "ops"
                ) -> StatementImport:
    """What ``qoima manager import-statement`` does: read against the stored context, then
    import with the file's hash."""
    file_hash = hashlib.sha256(path.read_bytes()).hexdigest()
    context = world.service.import_context(manager, file_hash)
    if context.replay is not None:
        return context.replay
    statement = read_statement(path, manager_code=manager, known_assets=context.known_assets,
                               previous_period_end=context.previous_period_end,
                               received_on=None)
    return world.service.import_statement(
        statement, file_hash=file_hash, actor=actor)
