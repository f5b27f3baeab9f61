"""Reading reference data (custodians, managers, vehicles, instruments, accounts) from YAML."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import TypeVar

from qoima.adapters.fields import parse_amount, parse_enum, parse_int
from qoima.adapters.located_yaml import Mapping, as_list, as_mapping, load_yaml
from qoima.app.book import ReferenceData
from qoima.domain.enums import (
    CostMethod,
    CustodianKind,
    InstrumentKind,
    ManagerKind,
    TrancheKind,
    VehicleKind,
    Venue,
)
from qoima.domain.errors import InvalidInput, Origin, QoimaError
from qoima.domain.reference import (
    Account,
    Custodian,
    Instrument,
    Manager,
    Tranche,
    UnderlyingExposure,
    Vehicle,
)

T = TypeVar("T")
SECTIONS = {"custodians", "managers", "vehicles", "instruments", "accounts"}


def read_reference(path: Path) -> ReferenceData:
    if not path.exists():
        raise InvalidInput("file not found", origin=Origin(str(path)))
    top = as_mapping(load_yaml(path), what="file", origin=Origin(str(path), 1))
    top.check_keys(SECTIONS)

    def items(section: str) -> list[Mapping]:
        raw = as_list(top.get(section), what=section, origin=top.origin(section))
        return [as_mapping(i, what=section[:-1], origin=top.origin(section)) for i in raw]

    accounts = []
    for raw in as_list(top.get("accounts"), what="accounts", origin=top.origin("accounts")):
        if not isinstance(raw, str):
            raise InvalidInput("accounts are listed by code", origin=top.origin("accounts"))
        accounts.append(_located(partial(Account.parse, raw), top.origin("accounts"),
                                 "accounts"))
    return ReferenceData(
        custodians=tuple(_custodian(m) for m in items("custodians")),
        managers=tuple(_manager(m) for m in items("managers")),
        vehicles=tuple(_vehicle(m) for m in items("vehicles")),
        instruments=tuple(_instrument(m) for m in items("instruments")),
        accounts=tuple(accounts),
    )


def _located(build: Callable[[], T], origin: Origin, field: str | None = None) -> T:
    """Run a domain constructor, putting the file position on any error it raises."""
    try:
        return build()
    except QoimaError as error:
        raise error.with_origin(origin, field) from None


def _custodian(m: Mapping) -> Custodian:
    m.check_keys({"code", "name", "kind", "jurisdiction"})
    kind = parse_enum(CustodianKind, m.string("kind"), origin=m.origin("kind"), field="kind")
    return _located(lambda: Custodian(m.require("code"), m.require("name"), kind,
                                        m.string("jurisdiction") or ""), m.origin())


def _manager(m: Mapping) -> Manager:
    m.check_keys({"code", "name", "kind", "vehicle", "strategy"})
    kind = parse_enum(ManagerKind, m.string("kind"), origin=m.origin("kind"), field="kind")
    return _located(lambda: Manager(m.require("code"), m.require("name"), kind,
                                      m.string("vehicle"), m.string("strategy") or ""),
                      m.origin())


def _vehicle(m: Mapping) -> Vehicle:
    m.check_keys({"code", "name", "kind", "cost_method", "parent", "description", "tranches"})
    tranches = []
    for raw in as_list(m.get("tranches"), what="tranches", origin=m.origin("tranches")):
        t = as_mapping(raw, what="tranche", origin=m.origin("tranches"))
        t.check_keys({"code", "kind", "name"})
        tranches.append(Tranche(t.require("code"), parse_enum(
            TrancheKind, t.string("kind"), origin=t.origin("kind"), field="kind"),
            t.string("name") or ""))
    kind = parse_enum(VehicleKind, m.string("kind"), origin=m.origin("kind"), field="kind")
    method = parse_enum(CostMethod, m.string("cost_method"), origin=m.origin("cost_method"),
                        field="cost_method", default=CostMethod.FIFO)
    return _located(lambda: Vehicle(m.require("code"), m.require("name"), kind, method,
                                      m.string("parent"), tuple(tranches),
                                      m.string("description") or ""), m.origin())


def _instrument(m: Mapping) -> Instrument:
    m.check_keys({"code", "name", "kind", "scale", "currency", "price_factor", "ticker", "isin",
                  "venue", "chain", "contract", "underlying", "issuer", "manager", "maturity"})
    underlying = None
    if m.get("underlying") is not None:
        u = as_mapping(m.get("underlying"), what="underlying", origin=m.origin("underlying"))
        u.check_keys({"asset", "units_per_share"})
        units = parse_amount(u.string("units_per_share"), origin=u.origin("units_per_share"),
                             field="units_per_share")
        assert units is not None
        underlying = UnderlyingExposure(u.require("asset"), units)
    factor = parse_amount(m.string("price_factor"), origin=m.origin("price_factor"),
                          field="price_factor", required=False)
    kind = parse_enum(InstrumentKind, m.string("kind"), origin=m.origin("kind"), field="kind")
    venue_text = m.string("venue")
    venue = (parse_enum(Venue, venue_text, origin=m.origin("venue"), field="venue")
             if venue_text else None)
    scale = parse_int(m.string("scale"), origin=m.origin("scale"), field="scale")
    code = m.require("code")
    return _located(lambda: Instrument(
        code=code, name=m.require("name"), kind=kind, scale=scale,
        currency=m.string("currency") or (code if kind is InstrumentKind.CASH else "USD"),
        price_factor=factor if factor is not None else Decimal(1),
        ticker=m.string("ticker"), isin=m.string("isin"), venue=venue, chain=m.string("chain"),
        contract=m.string("contract"), underlying=underlying, issuer=m.string("issuer"),
        manager_code=m.string("manager"), maturity=m.string("maturity")), m.origin())
