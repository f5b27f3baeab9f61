"""Read use cases: holdings with cost basis, and the valued portfolio snapshot."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from qoima.app.ports import VALUATION_DATA, UnitOfWork, UnitOfWorkFactory
from qoima.app.read_cache import TokenCache
from qoima.domain.enums import AccountKind
from qoima.domain.errors import NotFound
from qoima.domain.reference import BASE_CURRENCY, Vehicle
from qoima.ledger.lots import LotPosition, compute_lots
from qoima.ledger.ports import AccountInfo
from qoima.market.quotes import StalenessRule
from qoima.portfolio.snapshot import PortfolioSnapshot, Position, build_snapshot


@dataclass(frozen=True, slots=True)
class Holdings:
    as_of_date: date
    positions: tuple[Position, ...]
    pending: tuple[Position, ...]


class ValuationService:
    """Snapshots are kept per valuation token (:mod:`qoima.app.read_cache`): the dashboard
    and the API ask for the same NAV many times between two changes to the book."""

    def __init__(self, units: UnitOfWorkFactory, staleness: StalenessRule | None = None,
                 *, cache_size: int = 64) -> None:
        self._units = units
        self._staleness = staleness or StalenessRule.default()
        self._cache = TokenCache(cache_size)

    def default_as_of(self) -> date | None:
        """The latest date with market data: what a user means by 'now' for valuation."""
        with self._units(write=False) as uow:
            return self._cache.get(uow.reference.data_token(VALUATION_DATA), ("last market date",),
                                   uow.market.last_market_date)

    def holdings(self, as_of: date, *, vehicle: str | None = None,
                 with_cost: bool = True) -> Holdings:
        with self._units(write=False) as uow:
            return self._holdings(uow, as_of, vehicle, with_cost)

    def lots(self, as_of: date, *, vehicle: str | None = None) -> dict[str, LotPosition]:
        """Open lots and realized P&L per holding account (non-USD instruments)."""
        with self._units(write=False) as uow:
            self._vehicles(uow, vehicle)
            accounts = {info.code: info for info in uow.reference.list_accounts()}
            lots = _lots_for(uow, as_of, accounts, vehicle, uow.journal.balances_as_of(as_of))
        return dict(sorted(lots.items()))

    def snapshot(self, as_of: date, *, vehicle: str | None = None) -> PortfolioSnapshot:
        with self._units(write=False) as uow:
            return self._cache.get(uow.reference.data_token(VALUATION_DATA),
                                   ("snapshot", as_of, vehicle),
                                   lambda: self._snapshot(uow, as_of, vehicle))

    def _snapshot(self, uow: UnitOfWork, as_of: date, vehicle: str | None
                  ) -> PortfolioSnapshot:
        holdings = self._holdings(uow, as_of, vehicle, with_cost=True)
        instruments = {p.instrument.code for p in (*holdings.positions, *holdings.pending)}
        prices = uow.market.latest_prices(as_of, sorted(instruments))
        fx = uow.market.latest_fx(as_of)
        vehicles = self._vehicles(uow, vehicle)
        return build_snapshot(as_of=as_of, positions=holdings.positions,
                              pending=holdings.pending, vehicles=vehicles, prices=prices,
                              fx=fx, staleness=self._staleness)

    @staticmethod
    def _vehicles(uow: UnitOfWork, only: str | None) -> dict[str, Vehicle]:
        vehicles = {v.code: v for v in uow.reference.list_vehicles()}
        if only is None:
            return vehicles
        if only not in vehicles:
            raise NotFound(f"unknown vehicle {only!r}", field="vehicle")
        return {only: vehicles[only]}

    def _holdings(self, uow: UnitOfWork, as_of: date, vehicle: str | None,
                  with_cost: bool) -> Holdings:
        self._vehicles(uow, vehicle)
        accounts = {info.code: info for info in uow.reference.list_accounts()}
        balances = uow.journal.balances_as_of(as_of)
        lots = _lots_for(uow, as_of, accounts, vehicle, balances) if with_cost else {}
        positions = []
        for code, quantity in sorted(balances.items()):
            info = accounts[code]
            if not _is_holding(info, vehicle):
                continue
            lot = lots.get(code)
            if quantity == 0 and (lot is None or not lot.realized):
                continue
            positions.append(Position(
                info.account, info.instrument, quantity,
                cost_usd=lot.cost_usd if lot else None,
                realized_usd=lot.realized_usd if lot else None,
            ))
        pending = [
            Position(accounts[code].account, accounts[code].instrument, amount)
            for code, amount in sorted(uow.journal.pending_open(as_of).items())
            if _is_holding(accounts[code], vehicle) and amount > 0
        ]
        return Holdings(as_of, tuple(positions), tuple(pending))


def _lots_for(uow: UnitOfWork, as_of: date, accounts: Mapping[str, AccountInfo],
              vehicle: str | None, balances: Mapping[str, Decimal]) -> dict[str, LotPosition]:
    """Replay only the instruments the selected holdings contain (all their accounts, since
    lots move between vehicles at cost)."""
    wanted = sorted({info.instrument.code for code, info in accounts.items()
                     if _is_holding(info, vehicle) and code in balances
                     and info.instrument.code != BASE_CURRENCY})
    if not wanted:
        return {}
    rows = uow.journal.postings_until(as_of, wanted)
    lots = compute_lots(rows, accounts, reversed_on=uow.journal.reversal_dates(), as_of=as_of)
    return {code: lot for code, lot in lots.items() if _is_holding(accounts[code], vehicle)}


def _is_holding(info: AccountInfo, vehicle: str | None) -> bool:
    return info.account.kind is AccountKind.HOLDING and (
        vehicle is None or info.account.vehicle_code == vehicle
    )
