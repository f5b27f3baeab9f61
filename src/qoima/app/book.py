"""Use cases that change the book: reference data, accounts, entries, market quotes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TypeVar

from qoima.app.ports import Clock, UnitOfWork, UnitOfWorkFactory
from qoima.app.units import in_write_unit, record_change
from qoima.app.users import require
from qoima.domain.canonical import content_hash
from qoima.domain.enums import AccountKind
from qoima.domain.errors import Conflict, InvalidInput, NotFound, QoimaError
from qoima.domain.reference import Account, Custodian, Instrument, Manager, Vehicle
from qoima.domain.roles import Permission
from qoima.ledger.entries import EntryDraft, PostResult
from qoima.ledger.journal import Journal
from qoima.market.quotes import FxQuote, PriceQuote

_R = TypeVar("_R", Custodian, Manager, Vehicle, Instrument)


@dataclass(frozen=True, slots=True)
class ReferenceData:
    """A batch of reference data registered together (a YAML file, the demo)."""

    custodians: tuple[Custodian, ...] = ()
    managers: tuple[Manager, ...] = ()
    vehicles: tuple[Vehicle, ...] = ()
    instruments: tuple[Instrument, ...] = ()
    accounts: tuple[Account, ...] = ()


@dataclass(frozen=True, slots=True)
class RegisterResult:
    created: int
    unchanged: int


class BookService:
    def __init__(self, units: UnitOfWorkFactory, clock: Clock) -> None:
        self._units = units
        self._clock = clock

    # -- reference data ---------------------------------------------------------------
    def register(self, data: ReferenceData, *, actor: str) -> RegisterResult:
        """Add reference data atomically; identical re-registration is a no-op."""
        return in_write_unit(self._units, lambda uow: self._register(uow, data, actor))

    def _register(self, uow: UnitOfWork, data: ReferenceData, actor: str) -> RegisterResult:
        require(uow, actor, Permission.REFERENCE_WRITE)
        repo = uow.reference
        outcomes = [
            *(self._add(uow, "custodian", c, repo.find_custodian, repo.add_custodian, actor)
              for c in data.custodians),
            *(self._add(uow, "vehicle", v, repo.find_vehicle, repo.add_vehicle, actor)
              for v in data.vehicles),
            *(self._add(uow, "manager", m, repo.find_manager, repo.add_manager, actor)
              for m in data.managers),
            *(self._add(uow, "instrument", i, repo.find_instrument, repo.add_instrument, actor)
              for i in data.instruments),
            *(bool(self._open(uow, a, actor)) for a in data.accounts),
        ]
        created = sum(outcomes)
        return RegisterResult(created, len(outcomes) - created)

    def _add(self, uow: UnitOfWork, kind: str, item: _R, find: Callable[[str], _R | None],
             add: Callable[[_R], None], actor: str) -> bool:
        existing = find(item.code)
        if existing == item:
            return False
        if existing is not None:
            raise Conflict(f"{kind} {item.code} is already registered with different details; "
                           "reference data is not edited in place")
        self._check_links(uow, item)
        add(item)
        record_change(uow, at=self._clock.now(), actor=actor, action=f"{kind}.registered",
                      object_type=kind, object_id=item.code, payload=asdict(item))
        if isinstance(item, Instrument):
            self._open(uow, Account(AccountKind.EXTERNAL, item.code), actor)
        return True

    def open_account(self, account: Account, *, actor: str) -> bool:
        def work(uow: UnitOfWork) -> int:
            require(uow, actor, Permission.REFERENCE_WRITE, [account.vehicle_code])
            return self._open(uow, account, actor)
        return bool(in_write_unit(self._units, work))

    def open_in(self, uow: UnitOfWork, account: Account, actor: str) -> int:
        """Open ``account`` inside the caller's write unit (1: opened, 0: it existed)."""
        return self._open(uow, account, actor)

    def _open(self, uow: UnitOfWork, account: Account, actor: str) -> int:
        if uow.reference.find_account(account.code) is not None:
            return 0
        self._check_account(uow, account)
        at = self._clock.now()
        uow.reference.open_account(account, at)
        record_change(uow, at=at, actor=actor, action="account.opened", object_type="account",
                      object_id=account.code, payload=asdict(account))
        return 1

    @staticmethod
    def _check_links(uow: UnitOfWork, item: object) -> None:
        repo = uow.reference
        if (isinstance(item, Vehicle) and item.parent_code
                and repo.find_vehicle(item.parent_code) is None):
            raise NotFound(f"vehicle {item.code}: parent vehicle {item.parent_code} unknown")
        if (isinstance(item, Manager) and item.vehicle_code
                and repo.find_vehicle(item.vehicle_code) is None):
            raise NotFound(f"manager {item.code}: vehicle {item.vehicle_code} unknown")
        if (isinstance(item, Instrument) and item.manager_code
                and repo.find_manager(item.manager_code) is None):
            raise NotFound(f"instrument {item.code}: manager {item.manager_code} unknown")

    @staticmethod
    def _check_account(uow: UnitOfWork, account: Account) -> None:
        repo = uow.reference
        if repo.find_instrument(account.instrument_code) is None:
            raise NotFound(f"account {account.code}: unknown instrument "
                           f"{account.instrument_code}", field="instrument")
        if account.vehicle_code:
            vehicle = repo.find_vehicle(account.vehicle_code)
            if vehicle is None:
                raise NotFound(f"account {account.code}: unknown vehicle {account.vehicle_code}",
                               field="vehicle")
            if account.tranche_code and not vehicle.has_tranche(account.tranche_code):
                raise NotFound(f"account {account.code}: vehicle {vehicle.code} has no tranche "
                               f"{account.tranche_code}", field="tranche")
        elif account.tranche_code:
            raise InvalidInput(f"account {account.code}: a tranche needs a vehicle")
        if account.custodian_code and repo.find_custodian(account.custodian_code) is None:
            raise NotFound(f"account {account.code}: unknown custodian "
                           f"{account.custodian_code}", field="custodian")

    # -- entries ----------------------------------------------------------------------
    def post(self, drafts: Sequence[EntryDraft], *, actor: str) -> list[PostResult]:
        """Post every draft or none; replays of recorded ids return the original result."""
        return in_write_unit(self._units, lambda uow: self._post(uow, drafts, actor))

    def _post(self, uow: UnitOfWork, drafts: Sequence[EntryDraft], actor: str
              ) -> list[PostResult]:
        require(uow, actor, Permission.ENTRY_POST, _vehicles_of(drafts))
        journal = Journal(uow.journal)
        results = []
        seen: dict[str, EntryDraft] = {}
        for draft in drafts:
            earlier = seen.get(draft.entry_id)
            if earlier is not None and earlier.content_hash() != draft.content_hash():
                raise Conflict(f"entry id {draft.entry_id!r} appears twice with different "
                               f"content (first at {earlier.origin})", origin=draft.origin,
                               field="id")
            seen[draft.entry_id] = draft
            at = self._clock.now()
            result = journal.post(draft, recorded_at=at, actor=actor)
            if result.posted is not None:
                record_change(uow, at=at, actor=actor, action=f"entry.{result.posted.phase}",
                              object_type="entry", object_id=draft.entry_id,
                              payload=result.posted.content())
            results.append(result)
        return results

    # -- market quotes ----------------------------------------------------------------
    def add_quotes(self, prices: Sequence[PriceQuote], fx: Sequence[FxQuote], *, actor: str,
                   source_name: str) -> tuple[int, int]:
        def work(uow: UnitOfWork) -> tuple[int, int]:
            require(uow, actor, Permission.MARKET_WRITE)
            for quote in prices:
                if uow.reference.find_instrument(quote.instrument_code) is None:
                    raise NotFound(f"price for unknown instrument {quote.instrument_code}",
                                   field="instrument")
            added = uow.market.add_prices(prices), uow.market.add_fx(fx)
            dates = sorted({q.price_date for q in prices} | {q.rate_date for q in fx})
            payload = {
                "source": source_name, "prices": len(prices), "fx": len(fx),
                "first_date": dates[0] if dates else None,
                "last_date": dates[-1] if dates else None,
                "content_hash": content_hash([[asdict(q) for q in prices],
                                              [asdict(q) for q in fx]]),
            }
            record_change(uow, at=self._clock.now(), actor=actor, action="market.loaded",
                          object_type="market", object_id=source_name, payload=payload)
            return added
        return in_write_unit(self._units, work)


def _vehicles_of(drafts: Sequence[EntryDraft]) -> set[str | None]:
    """Vehicles whose accounts the entries touch (None: only outside accounts)."""
    found: set[str | None] = set()
    for draft in drafts:
        for posting in draft.postings:
            try:
                vehicle = Account.parse(posting.account).vehicle_code
            except QoimaError:
                continue  # the journal reports malformed accounts with their origin
            if vehicle is not None:
                found.add(vehicle)
    return found or {None}
