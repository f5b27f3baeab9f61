"""Reference data repository: rows <-> domain objects. Never commits."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row, bindparam, insert, select

from qoima.app.read_cache import absent_token
from qoima.domain.enums import (
    AccountKind,
    CostMethod,
    CustodianKind,
    InstrumentKind,
    ManagerKind,
    TrancheKind,
    VehicleKind,
    Venue,
)
from qoima.domain.reference import (
    Account,
    Custodian,
    Instrument,
    Manager,
    Tranche,
    UnderlyingExposure,
    Vehicle,
)
from qoima.ledger.ports import AccountInfo
from qoima.store import tables as t
from qoima.store import version_tables as v

# Built once: these run at the start of nearly every read (building a select costs about
# twice as much as running it on SQLite).
_TOKEN = select(v.data_versions.c.token).where(v.data_versions.c.name == bindparam("name"))
_TOKENS = select(v.data_versions.c.name, v.data_versions.c.token)


class SqlReferenceRepository:
    """Reference records found in this unit are kept for the rest of it: they are never
    edited in place, so a second lookup (every quote of a market file names its
    instrument) need not go to the database. Only records found or added are kept."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection
        self._custodians: dict[str, Custodian] = {}
        self._vehicles: dict[str, Vehicle] = {}
        self._instruments: dict[str, Instrument] = {}
        self._accounts: dict[str, AccountInfo] = {}

    # -- custodians -------------------------------------------------------------------
    def find_custodian(self, code: str) -> Custodian | None:
        if code in self._custodians:
            return self._custodians[code]
        row = self._c.execute(select(t.custodians).where(t.custodians.c.code == code)).first()
        if row is None:
            return None
        self._custodians[code] = found = _custodian(row)
        return found

    def list_custodians(self) -> list[Custodian]:
        rows = self._c.execute(select(t.custodians).order_by(t.custodians.c.code))
        return [_custodian(r) for r in rows]

    def add_custodian(self, custodian: Custodian) -> None:
        self._c.execute(insert(t.custodians).values(
            code=custodian.code, name=custodian.name, kind=custodian.kind.value,
            jurisdiction=custodian.jurisdiction))

    # -- managers ---------------------------------------------------------------------
    def find_manager(self, code: str) -> Manager | None:
        row = self._c.execute(select(t.managers).where(t.managers.c.code == code)).first()
        return None if row is None else _manager(row)

    def list_managers(self) -> list[Manager]:
        rows = self._c.execute(select(t.managers).order_by(t.managers.c.code))
        return [_manager(r) for r in rows]

    def add_manager(self, manager: Manager) -> None:
        self._c.execute(insert(t.managers).values(
            code=manager.code, name=manager.name, kind=manager.kind.value,
            vehicle_code=manager.vehicle_code, strategy=manager.strategy))

    # -- vehicles ---------------------------------------------------------------------
    def find_vehicle(self, code: str) -> Vehicle | None:
        if code in self._vehicles:
            return self._vehicles[code]
        row = self._c.execute(select(t.vehicles).where(t.vehicles.c.code == code)).first()
        if row is None:
            return None
        self._vehicles[code] = found = self._vehicle(row)
        return found

    def list_vehicles(self) -> list[Vehicle]:
        rows = self._c.execute(select(t.vehicles).order_by(t.vehicles.c.code)).all()
        tranches: dict[str, list[Row[Any]]] = {}
        for tranche in self._c.execute(select(t.tranches).order_by(t.tranches.c.position)):
            tranches.setdefault(tranche.vehicle_code, []).append(tranche)
        return [_vehicle(r, tranches.get(r.code, [])) for r in rows]

    def add_vehicle(self, vehicle: Vehicle) -> None:
        self._c.execute(insert(t.vehicles).values(
            code=vehicle.code, name=vehicle.name, kind=vehicle.kind.value,
            cost_method=vehicle.cost_method.value, parent_code=vehicle.parent_code,
            description=vehicle.description))
        if vehicle.tranches:
            self._c.execute(insert(t.tranches), [
                {"vehicle_code": vehicle.code, "code": tr.code, "kind": tr.kind.value,
                 "name": tr.name, "position": i}
                for i, tr in enumerate(vehicle.tranches)
            ])

    def _vehicle(self, row: Row[Any]) -> Vehicle:
        tranche_rows = self._c.execute(
            select(t.tranches).where(t.tranches.c.vehicle_code == row.code)
            .order_by(t.tranches.c.position))
        return _vehicle(row, list(tranche_rows))

    # -- data version -----------------------------------------------------------------
    def data_token(self, name: str) -> str:
        """The token the database renews on any change to the data ``name`` covers (0009);
        a new random one each call if its row was deleted, so nothing is ever reused."""
        token = self._c.execute(_TOKEN, {"name": name}).scalar_one_or_none()
        return str(token) if token is not None else absent_token()

    def data_tokens(self) -> dict[str, str]:
        """Every name's token, in one query (a deleted row's name is missing)."""
        return {str(name): str(token) for name, token in self._c.execute(_TOKENS)}

    # -- instruments ------------------------------------------------------------------
    def find_instrument(self, code: str) -> Instrument | None:
        if code in self._instruments:
            return self._instruments[code]
        row = self._c.execute(select(t.instruments).where(t.instruments.c.code == code)).first()
        if row is None:
            return None
        self._instruments[code] = found = _instrument(row)
        return found

    def list_instruments(self) -> list[Instrument]:
        rows = self._c.execute(select(t.instruments).order_by(t.instruments.c.code))
        return [_instrument(r) for r in rows]

    def add_instrument(self, instrument: Instrument) -> None:
        underlying = instrument.underlying
        self._c.execute(insert(t.instruments).values(
            code=instrument.code, name=instrument.name, kind=instrument.kind.value,
            scale=instrument.scale, currency=instrument.currency,
            price_factor=instrument.price_factor, ticker=instrument.ticker,
            isin=instrument.isin, venue=instrument.venue.value if instrument.venue else None,
            chain=instrument.chain, contract=instrument.contract,
            underlying_asset=underlying.asset if underlying else None,
            underlying_units_per_share=underlying.units_per_share if underlying else None,
            issuer=instrument.issuer, manager_code=instrument.manager_code,
            maturity=instrument.maturity))

    # -- accounts ---------------------------------------------------------------------
    def find_account(self, code: str) -> AccountInfo | None:
        if code in self._accounts:
            return self._accounts[code]
        row = self._c.execute(account_select().where(t.accounts.c.code == code)).first()
        if row is None:
            return None
        self._accounts[code] = found = account_info(row)
        return found

    def list_accounts(self) -> list[AccountInfo]:
        rows = self._c.execute(account_select().order_by(t.accounts.c.code))
        return [account_info(r) for r in rows]

    def open_account(self, account: Account, opened_at: datetime) -> int:
        result = self._c.execute(insert(t.accounts).values(
            code=account.code, kind=account.kind.value,
            instrument_code=account.instrument_code, vehicle_code=account.vehicle_code,
            tranche_code=account.tranche_code, custodian_code=account.custodian_code,
            label=account.label, opened_at=opened_at).returning(t.accounts.c.id))
        return int(result.scalar_one())


def account_select() -> Any:
    """Accounts joined with what validation needs (instrument, vehicle cost method)."""
    return (
        select(
            t.accounts.c.id, t.accounts.c.code.label("account_code"), t.accounts.c.kind,
            t.accounts.c.vehicle_code, t.accounts.c.tranche_code, t.accounts.c.custodian_code,
            t.accounts.c.label, t.vehicles.c.cost_method,
            *[c.label(f"i_{c.name}") for c in t.instruments.c],
        )
        .join(t.instruments, t.instruments.c.code == t.accounts.c.instrument_code)
        .outerjoin(t.vehicles, t.vehicles.c.code == t.accounts.c.vehicle_code)
    )


def account_info(row: Row[Any]) -> AccountInfo:
    mapping = row._mapping
    instrument = _instrument_from({k[2:]: v for k, v in mapping.items() if k.startswith("i_")})
    account = Account(
        kind=AccountKind(mapping["kind"]), instrument_code=instrument.code,
        vehicle_code=mapping["vehicle_code"], tranche_code=mapping["tranche_code"],
        custodian_code=mapping["custodian_code"], label=mapping["label"],
    )
    method = mapping["cost_method"]
    return AccountInfo(int(mapping["id"]), account, instrument,
                       CostMethod(method) if method else CostMethod.FIFO)


def _vehicle(row: Row[Any], tranche_rows: list[Row[Any]]) -> Vehicle:
    return Vehicle(
        code=row.code, name=row.name, kind=VehicleKind(row.kind),
        cost_method=CostMethod(row.cost_method), parent_code=row.parent_code,
        tranches=tuple(Tranche(r.code, TrancheKind(r.kind), r.name) for r in tranche_rows),
        description=row.description,
    )


def _custodian(row: Row[Any]) -> Custodian:
    return Custodian(row.code, row.name, CustodianKind(row.kind), row.jurisdiction)


def _manager(row: Row[Any]) -> Manager:
    return Manager(row.code, row.name, ManagerKind(row.kind), row.vehicle_code, row.strategy)


def _instrument(row: Row[Any]) -> Instrument:
    return _instrument_from(dict(row._mapping))


def _instrument_from(values: dict[str, Any]) -> Instrument:
    units = values["underlying_units_per_share"]
    return Instrument(
        code=values["code"], name=values["name"], kind=InstrumentKind(values["kind"]),
        scale=int(values["scale"]), currency=values["currency"],
        price_factor=Decimal(values["price_factor"]), ticker=values["ticker"],
        isin=values["isin"], venue=Venue(values["venue"]) if values["venue"] else None,
        chain=values["chain"], contract=values["contract"],
        underlying=(UnderlyingExposure(values["underlying_asset"], units)
                    if values["underlying_asset"] else None),
        issuer=values["issuer"], manager_code=values["manager_code"],
        maturity=values["maturity"],
    )
