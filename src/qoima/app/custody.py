"""Seized crypto: case intake, legal steps, the chain of custody and the sanctions screen.

Intake books a *pending* entry into the seized-asset pool, so nothing counts as a reserve
asset before a court forfeits it; forfeiture posts that entry and a return voids it, in the
same unit of work as the legal step and its audit record. Every address is validated for its
chain and network before anything is written, and screened against every imported
sanctions list: a hit is a blocking finding on the case until two committee members
override it with written reasons. The enforcement liaison opens cases and records court and
custody events; moving forfeited assets out of the pool is a disposition
(:mod:`qoima.app.dispositions`), never a step the liaison can take.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from qoima.app.book import BookService
from qoima.app.custody_book import (
    address_book,
    asset_for,
    documents_json,
    get_case,
    held_balances,
    record_hits,
    require_any,
    seized_pool,
    usd_price,
)
from qoima.app.custody_ports import (
    AddressRecord,
    AssetRecord,
    CaseRecord,
    CustodyEventRecord,
    ScreeningHitRecord,
    TransitionRecord,
)
from qoima.app.ports import Clock, UnitOfWork, UnitOfWorkFactory
from qoima.app.units import in_write_unit, record_change
from qoima.app.users import load_user, require
from qoima.custody.addresses import validate_address, validate_txid
from qoima.custody.cases import Case, HoldingPlace, SeizedAsset
from qoima.custody.chain_of_custody import (
    AddressBalance,
    AddressBook,
    CustodyEvent,
)
from qoima.custody.legal import (
    INITIAL_STATUS,
    Document,
    LedgerEffect,
    LegalStatus,
    check_intake,
    get_rule,
    transition,
)
from qoima.domain.canonical import canonical_json
from qoima.domain.enums import AccountKind, EntryCode, EntryPhase
from qoima.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from qoima.domain.reference import Account
from qoima.domain.roles import Permission, Role
from qoima.ledger.entries import EntryDraft, PostingDraft
from qoima.ledger.journal import Journal

STATE_WALLET = "state-wallet"  # the custodian code of state-controlled wallets
OVERRIDE_QUORUM = 2  # committee members who must each give a reason to clear a hit


@dataclass(frozen=True, slots=True)
class AssetIntake:
    """One seized asset as entered: addresses and tx ids as written (validated here)."""

    asset: SeizedAsset
    network: str = "mainnet"


@dataclass(frozen=True, slots=True, eq=False)
class CaseView:
    case: CaseRecord
    assets: tuple[AssetRecord, ...]
    transitions: tuple[TransitionRecord, ...]
    events: tuple[CustodyEventRecord, ...]
    hits: tuple[ScreeningHitRecord, ...]

    @property
    def open_hits(self) -> tuple[ScreeningHitRecord, ...]:
        return tuple(h for h in self.hits if h.status == "open")


class CustodyService:
    def __init__(self, units: UnitOfWorkFactory, clock: Clock, book: BookService) -> None:
        self._units, self._clock, self._book = units, clock, book

    # -- reading -------------------------------------------------------------------------
    def case(self, case_id: str) -> CaseView:
        with self._units(write=False) as uow:
            return _view(uow, case_id)

    def cases(self) -> list[CaseRecord]:
        with self._units(write=False) as uow:
            return uow.custody.list_cases()

    def expected_on_chain(self) -> list[AddressBalance]:
        """Balances the chain should show: cases still in custody, less disposed assets
        (what a reconciliation compares)."""
        with self._units(write=False) as uow:
            return held_balances(uow)

    def address_book(self, case_id: str | None = None) -> AddressBook:
        """Expected balance per address: the seizures, then every custody event."""
        with self._units(write=False) as uow:
            return address_book(uow, case_id)

    # -- intake ----------------------------------------------------------------------------
    def open_case(self, case: Case, intakes: Sequence[AssetIntake],
                  documents: Sequence[Document], *, actor: str) -> CaseView:
        """Open ``case`` with its assets: validated addresses, a pending ledger entry per
        asset in the seized pool, the intake step and the screening, all or nothing."""
        if not intakes:
            raise InvalidInput("a case needs at least one seized asset", field="assets")
        accepted = check_intake(documents, case.opened_on)
        assets = [_normalized(i) for i in intakes]
        for asset in assets:
            if asset.case_id != case.case_id:
                raise InvalidInput(f"asset {asset.asset_id} names case {asset.case_id}, not "
                                   f"{case.case_id}", field="case_id")
            if asset.seized_on < case.opened_on:
                raise InvalidInput(f"asset {asset.asset_id} was seized on {asset.seized_on}, "
                                   f"before the case opened on {case.opened_on}",
                                   field="seized_on")

        def work(uow: UnitOfWork) -> CaseView:
            pool = seized_pool(uow)
            require(uow, actor, Permission.CASE_WRITE, [pool])
            if uow.custody.find_case(case.case_id) is not None:
                raise Conflict(f"case {case.case_id} already exists", case_id=case.case_id)
            now = self._clock.now()
            uow.custody.add_case(CaseRecord(
                case.case_id, case.agency, case.case_number, case.court, case.description,
                case.opened_on, INITIAL_STATUS.value, case.opened_on, now, actor))
            for asset in assets:
                self._intake(uow, pool, asset, actor, now)
            uow.custody.add_transition(TransitionRecord(
                case.case_id, "", INITIAL_STATUS.value, case.opened_on,
                documents_json(accepted), LedgerEffect.NONE.value, None, actor, now))
            record_change(uow, at=now, actor=actor, action="case.opened", object_type="case",
                          object_id=case.case_id, payload={
                              "agency": case.agency, "case_number": case.case_number,
                              "court": case.court, "documents": json.loads(
                                  documents_json(accepted)),
                              "assets": [_asset_payload(a) for a in assets]})
            held = [(a.chain, address) for a in assets for address in a.addresses]
            record_hits(uow, case.case_id, held, "intake", now, actor)
            return _view(uow, case.case_id)

        return in_write_unit(self._units, work)

    def _intake(self, uow: UnitOfWork, pool: str, asset: SeizedAsset, actor: str,
                now: datetime) -> None:
        new_addresses = []
        for address in asset.addresses:
            found = uow.custody.find_address(asset.chain, address)
            if found is None:
                new_addresses.append(address)
            elif found.case_id != asset.case_id:  # one case per address; within a case an
                # address may hold several assets (ETH and its ERC-20 tokens)
                raise Conflict(f"address {address} is already held for case {found.case_id}",
                               address=address)
        if uow.custody.find_asset(asset.asset_id) is not None:
            raise Conflict(f"asset id {asset.asset_id} is already used (asset ids are unique "
                           "across cases)", asset_id=asset.asset_id)
        custodian = STATE_WALLET if asset.holding is HoldingPlace.STATE_WALLET else asset.holder
        vehicle = uow.reference.find_vehicle(pool)
        assert vehicle is not None
        tranches = [t.code for t in vehicle.tranches]
        account = Account(AccountKind.HOLDING, asset.instrument_code, pool,
                          tranches[0] if len(tranches) == 1 else None, custodian)
        self._book.open_in(uow, account, actor)
        entry_id = f"case-{asset.case_id}-{asset.asset_id}-intake"
        price = usd_price(uow, asset.instrument_code, asset.seized_on)
        posted = Journal(uow.journal).post(EntryDraft(
            entry_id, EntryCode.SEIZURE_INTAKE, asset.seized_on,
            (PostingDraft(account.code, asset.quantity, unit_cost_usd=price),
             PostingDraft(f"external:{asset.instrument_code}", -asset.quantity)),
            f"Seizure intake, case {asset.case_id}: held pending a court decision",
            phase=EntryPhase.PENDING, metadata=(("case", asset.case_id),
                                                ("asset", asset.asset_id))),
            recorded_at=now, actor=actor)
        if posted.posted is not None:
            record_change(uow, at=now, actor=actor, action=f"entry.{posted.posted.phase}",
                          object_type="entry", object_id=entry_id,
                          payload=posted.posted.content())
        uow.custody.add_asset(AssetRecord(
            asset.asset_id, asset.case_id, asset.chain, asset.instrument_code, asset.quantity,
            asset.holding.value, asset.holder, asset.seized_on, account.code, entry_id,
            canonical_json(list(asset.addresses)), canonical_json(list(asset.tx_ids))))
        for address in new_addresses:
            uow.custody.add_address(AddressRecord(asset.chain, address, asset.case_id,
                                                  asset.asset_id, asset.instrument_code, now,
                                                  "seizure"))

    # -- legal steps -----------------------------------------------------------------------
    def transition(self, case_id: str, target: LegalStatus, documents: Sequence[Document],
                   on: date, *, actor: str) -> CaseView:
        """One court step for every asset of the case, with its ledger effect."""
        def work(uow: UnitOfWork) -> CaseView:
            pool = seized_pool(uow)
            require(uow, actor, Permission.CASE_WRITE, [pool])
            case = get_case(uow, case_id)
            if get_rule(LegalStatus(case.legal_status), target).needs_committee:
                # before the documents: no document lets this step bypass the disposition
                raise Forbidden(f"{case.legal_status} -> {target} moves forfeited assets out "
                                "of the seized pool: propose a disposition (`qoima case "
                                "dispose`), which needs four-eyes approval")
            outcome = transition(LegalStatus(case.legal_status), target, documents, on,
                                 last_change_on=case.status_changed_on)
            now = self._clock.now()
            entry_ids = [self._ledger_effect(uow, asset, outcome.ledger_effect, on, actor, now)
                         for asset in uow.custody.list_assets(case_id)]
            uow.custody.set_case_status(case_id, target.value, on)
            uow.custody.add_transition(TransitionRecord(
                case_id, case.legal_status, target.value, on, documents_json(outcome.documents),
                outcome.ledger_effect.value, ",".join(e for e in entry_ids if e) or None,
                actor, now))
            record_change(uow, at=now, actor=actor, action="case.transition",
                          object_type="case", object_id=case_id, payload={
                              "from": case.legal_status, "to": target.value, "on": on,
                              "documents": json.loads(documents_json(outcome.documents)),
                              "ledger_effect": outcome.ledger_effect.value})
            return _view(uow, case_id)

        return in_write_unit(self._units, work)

    def _ledger_effect(self, uow: UnitOfWork, asset: AssetRecord, effect: LedgerEffect,
                       on: date, actor: str, now: datetime) -> str | None:
        if effect is LedgerEffect.NONE:
            return None
        if effect is LedgerEffect.POST_PENDING:
            price = usd_price(uow, asset.instrument_code, on)
            draft = EntryDraft(
                f"{asset.intake_entry_id}-forfeit", EntryCode.FORFEITURE, on,
                (PostingDraft(asset.account_code, asset.quantity, unit_cost_usd=price),
                 PostingDraft(f"external:{asset.instrument_code}", -asset.quantity)),
                f"Forfeiture ordered in case {asset.case_id}; recognized at fair value",
                resolves_entry_id=asset.intake_entry_id,
                metadata=(("case", asset.case_id), ("asset", asset.asset_id)))
        elif effect is LedgerEffect.VOID_PENDING:
            draft = EntryDraft(
                f"{asset.intake_entry_id}-return", EntryCode.RETURN_TO_OWNER, on, (),
                f"Assets of case {asset.case_id} released by the court",
                resolves_entry_id=asset.intake_entry_id,
                metadata=(("case", asset.case_id), ("asset", asset.asset_id)))
        else:
            raise InvalidInput(f"{effect} is done by a disposition", field="target")
        posted = Journal(uow.journal).post(draft, recorded_at=now, actor=actor)
        if posted.posted is not None:
            record_change(uow, at=now, actor=actor, action=f"entry.{posted.posted.phase}",
                          object_type="entry", object_id=draft.entry_id,
                          payload=posted.posted.content())
        return draft.entry_id

    # -- chain of custody --------------------------------------------------------------------
    def record_event(self, event: CustodyEvent, *, actor: str, network: str = "mainnet"
                     ) -> CustodyEventRecord:
        """Append a custody event after checking it against every earlier one (unknown
        addresses, negative balances, events out of order are refused)."""
        chain = event.chain
        normalized = replace(
            event,
            from_address=_address(chain, event.from_address, network),
            to_address=_address(chain, event.to_address, network),
            tx_id=validate_txid(chain, event.tx_id) if event.tx_id and chain else event.tx_id)

        def work(uow: UnitOfWork) -> CustodyEventRecord:
            pool = seized_pool(uow)
            require_any(uow, actor, (Permission.CASE_WRITE, Permission.ENTRY_POST), pool)
            get_case(uow, event.case_id)
            if uow.custody.find_event(event.event_id) is not None:
                raise Conflict(f"custody event {event.event_id} already recorded",
                               event_id=event.event_id)
            address_book(uow, event.case_id, extra=normalized)  # refuses what cannot be
            now = self._clock.now()
            record = CustodyEventRecord(
                normalized.event_id, normalized.case_id, normalized.kind.value, normalized.at,
                actor, normalized.from_holder or None, normalized.to_holder or None,
                normalized.from_address or None, normalized.to_address or None,
                normalized.tx_id or None, normalized.quantity,
                normalized.instrument_code or None, normalized.note, now, normalized.fee,
                normalized.chain or None)
            uow.custody.add_event(record)
            if normalized.to_address and uow.custody.find_address(
                    chain, normalized.to_address) is None and normalized.kind.value != \
                    "outbound_transfer":
                asset = asset_for(uow, normalized.case_id, normalized.instrument_code)
                uow.custody.add_address(AddressRecord(
                    chain, normalized.to_address, normalized.case_id, asset.asset_id,
                    asset.instrument_code, now, "custody_event"))
            record_change(uow, at=now, actor=actor, action="case.custody_event",
                          object_type="case", object_id=normalized.case_id,
                          payload=_event_payload(record))
            addresses = [a for a in (normalized.from_address, normalized.to_address) if a]
            record_hits(uow, normalized.case_id, [(chain, a) for a in addresses], "custody_event",
                    now, actor)
            return record

        return in_write_unit(self._units, work)

    # -- sanctions hits ----------------------------------------------------------------------
    def override_hit(self, hit_id: int, reason: str, *, actor: str) -> ScreeningHitRecord:
        """A committee member's written override; the hit clears at two distinct ones."""
        if not reason.strip():
            raise InvalidInput("an override needs a written reason", field="reason")

        def work(uow: UnitOfWork) -> ScreeningHitRecord:
            user = load_user(uow, actor)
            if Role.COMMITTEE_MEMBER not in user.roles_for(seized_pool(uow)):  # active, on the pool
                raise Forbidden(f"{actor} is not {'a' if user.active else 'an active'} "
                                "committee member: only the committee overrides a sanctions "
                                "hit")
            hit = uow.custody.find_hit(hit_id)
            if hit is None:
                raise NotFound(f"no screening hit {hit_id}", field="hit")
            if hit.status != "open":
                raise Conflict(f"hit {hit_id} is already {hit.status}", hit_id=hit_id)
            overrides = [o for o in json.loads(hit.overrides_json) if o["user"] != actor]
            overrides.append({"user": actor, "reason": reason,
                              "at": self._clock.now().isoformat()})
            status = "overridden" if len(overrides) >= OVERRIDE_QUORUM else "open"
            updated = replace(hit, overrides_json=canonical_json(overrides), status=status)
            uow.custody.update_hit(updated)
            record_change(uow, at=self._clock.now(), actor=actor, action="case.hit_override",
                          object_type="screening_hit", object_id=str(hit_id),
                          payload={"reason": reason, "status": status})
            return updated

        return in_write_unit(self._units, work)


# -- helpers ---------------------------------------------------------------------------------


def _normalized(intake: AssetIntake) -> SeizedAsset:
    asset = intake.asset
    addresses = tuple(validate_address(asset.chain, a, intake.network).normalized
                      for a in asset.addresses)
    tx_ids = tuple(validate_txid(asset.chain, t) for t in asset.tx_ids)
    return replace(asset, addresses=addresses, tx_ids=tx_ids)


def _address(chain: str, address: str, network: str) -> str:
    if not address:
        return ""
    if not chain:
        raise InvalidInput("a custody event with an address needs its chain", field="chain")
    return validate_address(chain, address, network).normalized


def _view(uow: UnitOfWork, case_id: str) -> CaseView:
    case = get_case(uow, case_id)
    return CaseView(case, tuple(uow.custody.list_assets(case_id)),
                    tuple(uow.custody.list_transitions(case_id)),
                    tuple(uow.custody.list_events(case_id)),
                    tuple(uow.custody.list_hits(case_id)))


def _asset_payload(asset: SeizedAsset) -> dict[str, object]:
    return {"asset_id": asset.asset_id, "chain": asset.chain,
            "instrument": asset.instrument_code, "quantity": asset.quantity,
            "addresses": list(asset.addresses), "tx_ids": list(asset.tx_ids),
            "holding": asset.holding.value, "holder": asset.holder,
            "seized_on": asset.seized_on}


def _event_payload(record: CustodyEventRecord) -> dict[str, object]:
    return {"event_id": record.event_id, "kind": record.kind, "at": record.at,
            "from_holder": record.from_holder, "to_holder": record.to_holder,
            "from_address": record.from_address, "to_address": record.to_address,
            "tx_id": record.tx_id, "quantity": record.quantity,
            "instrument": record.instrument_code, "fee": record.fee, "note": record.note}


__all__ = ["AssetIntake", "CaseView", "CustodyService"]
