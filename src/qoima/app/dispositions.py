"""Disposition of forfeited assets: compare the models over history, then move the assets
into a reserve vehicle (or sell them) under four-eyes approval.

A disposition is proposed by someone allowed to create orders for the receiving vehicle
(so an enforcement liaison cannot move assets into the reserve), and executes when two
people other than the maker, at least one of them an investment committee member, have
approved it: in that unit of work the legal step (forfeited -> transferred to reserve or
liquidated) is taken, the ledger moves the assets out of the seized pool with the recorded
valuation, and the audit trail records both. An open sanctions hit on the case blocks it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np

from qoima.app.custody_book import documents_json, get_case, seized_pool, usd_price
from qoima.app.custody_ports import AssetRecord, DispositionRecord, TransitionRecord
from qoima.app.ports import Clock, UnitOfWork, UnitOfWorkFactory
from qoima.app.units import in_write_unit, record_change
from qoima.app.users import load_user
from qoima.custody.disposition import DispositionComparison, compare_dispositions
from qoima.custody.disposition_inputs import DispositionBatch, DispositionParams, PriceHistory
from qoima.custody.legal import Document, DocumentKind, LegalStatus, transition
from qoima.domain.canonical import canonical_json
from qoima.domain.enums import AccountKind, EntryCode
from qoima.domain.errors import Conflict, Forbidden, IdempotencyConflict, InvalidInput, NotFound
from qoima.domain.reference import Account
from qoima.domain.roles import Permission, Role, authorize
from qoima.ledger.entries import EntryDraft, PostingDraft
from qoima.ledger.journal import Journal
from qoima.market.series import SeriesId, SeriesKind

CENT = Decimal("0.01")
QUORUM = 2
DOCUMENT = {LegalStatus.TRANSFERRED_TO_RESERVE: DocumentKind.TRANSFER_APPROVAL,
            LegalStatus.LIQUIDATED: DocumentKind.LIQUIDATION_APPROVAL}


class DispositionService:
    def __init__(self, units: UnitOfWorkFactory, clock: Clock) -> None:
        self._units, self._clock = units, clock

    def compare(self, case_id: str, *, horizon_days: int, forfeited_on: date | None = None,
                params: DispositionParams | None = None) -> list[DispositionComparison]:
        """What each disposition model would have produced for each asset of the case from
        its forfeiture date (or ``forfeited_on``), on the stored price history."""
        with self._units(write=False) as uow:
            case = get_case(uow, case_id)
            start = forfeited_on or _forfeited_on(uow, case_id)
            if start is None:
                raise InvalidInput(f"case {case_id} is {case.legal_status}, not forfeited: give "
                                   "--from to compare from a date", field="from")
            assets = uow.custody.list_assets(case_id)
            histories = {a.instrument_code: _history(uow, a.instrument_code) for a in assets}
        return [compare_dispositions(DispositionBatch(a.instrument_code, a.quantity, start),
                                     histories[a.instrument_code], horizon_days, params)
                for a in assets]

    def propose(self, case_id: str, asset_id: str, target: LegalStatus, *, actor: str,
                on: date, vehicle: str | None = None, tranche: str | None = None,
                custodian: str | None = None, cash_account: str | None = None,
                price_usd: Decimal | None = None, key: str | None = None
                ) -> DispositionRecord:
        """Propose moving ``asset_id`` into ``vehicle`` (``transferred_to_reserve``) or
        selling it into ``cash_account`` (``liquidated``) at ``price_usd`` (default: the
        latest USD close on ``on``)."""
        if target not in DOCUMENT:
            raise InvalidInput(f"a disposition is {' or '.join(DOCUMENT)}, not {target}",
                               field="model")
        if target is LegalStatus.TRANSFERRED_TO_RESERVE and (vehicle is None
                                                             or custodian is None):
            raise InvalidInput("a transfer into the reserve names the receiving vehicle and "
                               "custodian", field="vehicle")
        if target is LegalStatus.LIQUIDATED and cash_account is None:
            raise InvalidInput("a sale names the cash account receiving the proceeds",
                               field="cash_account")
        idempotency = key or f"{case_id}:{asset_id}:{target}:{on}"
        disposition_id = "dsp-" + hashlib.sha256(idempotency.encode()).hexdigest()[:16]

        def work(uow: UnitOfWork) -> DispositionRecord:
            pool = seized_pool(uow)
            receiver = vehicle if target is LegalStatus.TRANSFERRED_TO_RESERVE else pool
            authorize(load_user(uow, actor), Permission.ORDER_CREATE, receiver)
            case = get_case(uow, case_id)
            if case.legal_status != LegalStatus.FORFEITED.value:
                raise InvalidInput(f"case {case_id} is {case.legal_status}: only forfeited "
                                   "assets can be disposed of", field="case")
            asset = _asset(uow, case_id, asset_id)
            if asset_id not in _undisposed(uow, case_id):
                raise Conflict(f"asset {asset_id} of case {case_id} is already disposed of",
                               asset_id=asset_id)
            _no_open_hits(uow, case_id)
            price = price_usd or usd_price(uow, asset.instrument_code, on)
            if price is None or price <= 0:
                raise InvalidInput(f"no USD price for {asset.instrument_code} on {on}: give "
                                   "--price", field="price")
            account = _target_account(uow, target, asset, vehicle, tranche, custodian,
                                      cash_account)
            now = self._clock.now()
            record = DispositionRecord(
                disposition_id, idempotency, case_id, asset_id, target.value,
                vehicle if target is LegalStatus.TRANSFERRED_TO_RESERVE else None, account,
                asset.quantity, price,
                (asset.quantity * price).quantize(CENT, ROUND_HALF_EVEN), "proposed", actor,
                now, now, "[]", canonical_json({"on": on}))
            stored = uow.custody.add_disposition(record)
            if stored.disposition_id != disposition_id or (stored.created_at != now):
                if (stored.asset_id, stored.model, stored.target_account) != (
                        asset_id, target.value, account):
                    raise IdempotencyConflict(f"key {idempotency!r} was used for another "
                                              "disposition", field="key")
                return stored
            record_change(uow, at=now, actor=actor, action="disposition.proposed",
                          object_type="disposition", object_id=disposition_id, payload={
                              "case": case_id, "asset": asset_id, "model": target.value,
                              "target_account": account, "quantity": asset.quantity,
                              "price_usd": price, "valuation_usd": record.valuation_usd})
            return stored

        return in_write_unit(self._units, work)

    def approve(self, disposition_id: str, *, actor: str, on: date) -> DispositionRecord:
        """Four eyes: the maker never approves; at the quorum the disposition executes."""
        def work(uow: UnitOfWork) -> DispositionRecord:
            record = _disposition(uow, disposition_id)
            if record.status != "proposed":
                raise Conflict(f"disposition {disposition_id} is {record.status}",
                               disposition_id=disposition_id)
            if actor == record.maker:
                raise Forbidden("the maker of a disposition cannot approve it (four eyes)")
            user = load_user(uow, actor)
            authorize(user, Permission.ORDER_APPROVE, record.target_vehicle or seized_pool(uow))
            approvals = [a for a in json.loads(record.approvals_json) if a["user"] != actor]
            approvals.append({"user": actor, "roles": sorted(g.role.value for g in user.grants),
                              "at": self._clock.now().isoformat()})
            record = replace(record, approvals_json=canonical_json(approvals),
                             updated_at=self._clock.now())
            committee = any(Role.COMMITTEE_MEMBER.value in a["roles"] for a in approvals)
            if len(approvals) >= QUORUM and committee:
                record = self._execute(uow, record, on, actor)
            else:
                uow.custody.update_disposition(record)
            record_change(uow, at=self._clock.now(), actor=actor,
                          action="disposition.approved", object_type="disposition",
                          object_id=disposition_id, payload={"status": record.status,
                                                             "approvals": len(approvals)})
            return record

        return in_write_unit(self._units, work)

    def reject(self, disposition_id: str, *, actor: str, reason: str) -> DispositionRecord:
        def work(uow: UnitOfWork) -> DispositionRecord:
            record = _disposition(uow, disposition_id)
            if record.status != "proposed":
                raise Conflict(f"disposition {disposition_id} is {record.status}",
                               disposition_id=disposition_id)
            authorize(load_user(uow, actor), Permission.ORDER_REJECT,
                      record.target_vehicle or seized_pool(uow))
            record = replace(record, status="rejected", reason=reason,
                             updated_at=self._clock.now())
            uow.custody.update_disposition(record)
            record_change(uow, at=record.updated_at, actor=actor, action="disposition.rejected",
                          object_type="disposition", object_id=disposition_id,
                          payload={"reason": reason})
            return record

        return in_write_unit(self._units, work)

    def dispositions(self, case_id: str | None = None) -> list[DispositionRecord]:
        with self._units(write=False) as uow:
            return uow.custody.list_dispositions(case_id)

    def _execute(self, uow: UnitOfWork, record: DispositionRecord, on: date, actor: str
                 ) -> DispositionRecord:
        case = get_case(uow, record.case_id)
        _no_open_hits(uow, record.case_id)
        target = LegalStatus(record.model)
        document = Document(DOCUMENT[target], record.disposition_id, on, "investment committee")
        outcome = transition(LegalStatus(case.legal_status), target, [document], on,
                             last_change_on=case.status_changed_on)
        asset = _asset(uow, record.case_id, record.asset_id)
        assert record.target_account is not None
        entry_id = f"{record.disposition_id}-execute"
        metadata = (("case", record.case_id), ("disposition", record.disposition_id),
                    ("valuation_usd", str(record.valuation_usd)),
                    ("price_usd", str(record.price_usd)))
        if target is LegalStatus.TRANSFERRED_TO_RESERVE:
            draft = EntryDraft(entry_id, EntryCode.TRANSFER, on, (
                PostingDraft(asset.account_code, -asset.quantity),
                PostingDraft(record.target_account, asset.quantity)),
                f"Forfeited assets of case {record.case_id} moved into {record.target_vehicle} "
                f"at USD {record.valuation_usd}", metadata=metadata)
        else:
            draft = EntryDraft(entry_id, EntryCode.SELL, on, (
                PostingDraft(asset.account_code, -asset.quantity,
                             unit_price_usd=record.price_usd),
                PostingDraft(f"external:{asset.instrument_code}", asset.quantity),
                PostingDraft(record.target_account, record.valuation_usd),
                PostingDraft("external:USD", -record.valuation_usd)),
                f"Forfeited assets of case {record.case_id} sold for USD "
                f"{record.valuation_usd}", metadata=metadata)
        now = self._clock.now()
        posted = Journal(uow.journal).post(draft, recorded_at=now, actor=actor)
        if posted.posted is not None:
            record_change(uow, at=now, actor=actor, action=f"entry.{posted.posted.phase}",
                          object_type="entry", object_id=entry_id,
                          payload=posted.posted.content())
        executed = replace(record, status="executed", entry_id=entry_id, updated_at=now)
        uow.custody.update_disposition(executed)
        if _undisposed(uow, record.case_id):  # the case stays forfeited until its last asset
            return executed
        uow.custody.set_case_status(record.case_id, target.value, on)
        uow.custody.add_transition(TransitionRecord(
            record.case_id, case.legal_status, target.value, on,
            documents_json(outcome.documents), outcome.ledger_effect.value, entry_id, actor,
            now))
        record_change(uow, at=now, actor=actor, action="case.transition", object_type="case",
                      object_id=record.case_id, payload={
                          "from": case.legal_status, "to": target.value, "on": on,
                          "disposition": record.disposition_id})
        return executed


def _undisposed(uow: UnitOfWork, case_id: str) -> list[str]:
    """Assets of the case without an executed disposition."""
    done = {d.asset_id for d in uow.custody.list_dispositions(case_id) if d.status == "executed"}
    return [a.asset_id for a in uow.custody.list_assets(case_id) if a.asset_id not in done]


def _disposition(uow: UnitOfWork, disposition_id: str) -> DispositionRecord:
    found = uow.custody.find_disposition(disposition_id)
    if found is None:
        raise NotFound(f"no disposition {disposition_id!r}", field="disposition")
    return found


def _asset(uow: UnitOfWork, case_id: str, asset_id: str) -> AssetRecord:
    found = uow.custody.find_asset(asset_id)
    if found is None or found.case_id != case_id:
        raise NotFound(f"case {case_id} has no asset {asset_id!r}", field="asset")
    return found


def _no_open_hits(uow: UnitOfWork, case_id: str) -> None:
    hits = uow.custody.list_hits(case_id, "open")
    if hits:
        listed = "; ".join(f"{h.address} ({h.entity})" for h in hits)
        raise Forbidden(f"case {case_id} has open sanctions hits ({listed}): the committee "
                        "must override them first (`qoima case screen --override`)")


def _forfeited_on(uow: UnitOfWork, case_id: str) -> date | None:
    return next((t.on_date for t in uow.custody.list_transitions(case_id)
                 if t.to_status == LegalStatus.FORFEITED.value), None)


def _target_account(uow: UnitOfWork, target: LegalStatus, asset: AssetRecord,
                    vehicle: str | None, tranche: str | None, custodian: str | None,
                    cash_account: str | None) -> str:
    if target is LegalStatus.LIQUIDATED:
        assert cash_account is not None
        found = uow.reference.find_account(cash_account)
        if found is None or found.account.instrument_code != "USD" \
                or found.account.kind is not AccountKind.HOLDING:
            raise NotFound(f"no USD holding account {cash_account}", field="cash_account")
        return cash_account
    assert vehicle is not None
    found_vehicle = uow.reference.find_vehicle(vehicle)
    if found_vehicle is None:
        raise NotFound(f"unknown vehicle {vehicle}", field="vehicle")
    account = Account(AccountKind.HOLDING, asset.instrument_code, vehicle, tranche, custodian)
    if uow.reference.find_account(account.code) is None:
        raise NotFound(f"{vehicle} has no account {account.code}: open it first (`qoima "
                       "account open`)", field="vehicle")
    return account.code


def _history(uow: UnitOfWork, instrument: str) -> PriceHistory:
    stored = {info.id for info in uow.market.list_series()}
    sid = SeriesId(SeriesKind.PRICE, instrument)
    if sid not in stored:
        raise NotFound(f"no stored price series for {instrument}: import it with `qoima data "
                       "import`", field="series")
    series = uow.market.load_series(sid)
    if series is None or len(series.bars) < 2:
        raise NotFound(f"too few prices for {instrument}", field="series")
    return PriceHistory(tuple(b.day for b in series.bars),
                        np.array([float(b.close) for b in series.bars]))
