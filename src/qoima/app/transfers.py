"""Custody transfers: propose, approve (quorum from the policy), execute, reject, cancel.

A transfer moves tokens out of a holding account: to an external address (they leave the
institution) or to another of its own holdings (another custodian). The custody limits of
the vehicle's policy in force (whitelisted destinations per chain, per-transfer caps,
rolling velocity, approval quorum) are checked by the policy engine itself
(:func:`qoima.policy.evaluate.evaluate`) at proposal and again in the unit of work of every
approval, with the other approved, not yet executed transfers of the vehicle counted toward
the velocity window, so two approvals cannot together move more than the limit allows.
A blocking finding can only be overridden by committee members giving written reasons.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from qoima.app.order_records import findings_from_json, findings_json
from qoima.app.policies import PolicyService
from qoima.app.ports import Clock, UnitOfWork, UnitOfWorkFactory
from qoima.app.transfer_ports import TransferApprovalRecord, TransferRecord, TransferStatus
from qoima.app.units import in_write_unit, record_change
from qoima.app.users import load_user
from qoima.custody.chain_of_custody import address_key
from qoima.domain.enums import AccountKind, EntryCode, Severity
from qoima.domain.errors import Conflict, Forbidden, IdempotencyConflict, InvalidInput, NotFound
from qoima.domain.findings import Finding
from qoima.domain.money import quantize
from qoima.domain.reference import Account, Instrument
from qoima.domain.roles import Permission, Role, authorize
from qoima.ledger.entries import EntryDraft, PostingDraft
from qoima.ledger.journal import Journal
from qoima.market.quotes import StalenessRule
from qoima.policy.context import PolicyContext, Transfer
from qoima.policy.evaluate import evaluate
from qoima.policy.model import Custody, InvestmentPolicy
from qoima.portfolio.snapshot import PortfolioSnapshot, Position, build_snapshot

_S = TransferStatus
NO_POLICY = "policy.engine.no_policy"
NO_CUSTODY_RULES = "policy.engine.no_custody_rules"
STALE_PRICE = "policy.engine.stale_price"
SANCTIONS_HIT = "custody.sanctions_hit"  # the destination is on an imported sanctions list
#: Quorum when the policy in force has no custody limit (or there is no policy): four eyes.
DEFAULT_QUORUM = 2
OVERRIDE_QUORUM = 2
OVERRIDE_ROLES = frozenset({Role.COMMITTEE_MEMBER})
#: Who may do what. Transfers reuse the order permissions of DOMAIN.md's roles: the
#: portfolio manager proposes and cancels, risk officers and the committee approve or
#: reject, operations execute.
ACTIONS = {"propose": Permission.ORDER_CREATE, "approve": Permission.ORDER_APPROVE,
           "reject": Permission.ORDER_REJECT, "execute": Permission.ORDER_EXECUTE,
           "cancel": Permission.ORDER_CANCEL}
APPROVING_ROLES = frozenset({Role.RISK_OFFICER, Role.COMMITTEE_MEMBER})
OPEN = (_S.PROPOSED, _S.APPROVED)


@dataclass(frozen=True, slots=True)
class TokenTransfer:
    """A stored transfer with its custody findings and what its approval still lacks."""

    record: TransferRecord
    findings: tuple[Finding, ...]
    missing: tuple[str, ...]

    @property
    def transfer_id(self) -> str:
        return self.record.transfer_id

    @property
    def status(self) -> TransferStatus:
        return TransferStatus(self.record.status)

    @property
    def blocking_findings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.BLOCKING)


def approval_missing(record: TransferRecord, findings: Sequence[Finding]) -> tuple[str, ...]:
    """What the approvals of ``record`` still lack: the quorum of distinct people other than
    the maker, and, over a blocking finding, committee overrides with written reasons."""
    people = {a.user: a for a in record.approvals if a.user != record.maker}
    missing = []
    if len(people) < record.quorum:
        missing.append(f"{record.quorum - len(people)} more approval(s) by distinct "
                       f"people (quorum {record.quorum})")
    blocking = sorted({f.rule for f in findings if f.severity is Severity.BLOCKING})
    if blocking:
        overrides = [a for a in people.values() if a.override_reason
                     and OVERRIDE_ROLES & {Role(r) for r in a.roles}]
        short = OVERRIDE_QUORUM - len(overrides)
        if short > 0:
            missing.append(f"override of blocking finding(s) {', '.join(blocking)}: {short} "
                           "more committee_member approval(s) with a written reason")
    return tuple(missing)


def _view(record: TransferRecord) -> TokenTransfer:
    findings = findings_from_json(record.findings_json)
    missing = approval_missing(record, findings) if record.status == _S.PROPOSED else ()
    return TokenTransfer(record, findings, missing)


@dataclass(frozen=True, slots=True)
class _Check:
    findings: tuple[Finding, ...]
    policy_hash: str | None
    quorum: int
    value_usd: Decimal | None


class TransferService:
    def __init__(self, units: UnitOfWorkFactory, clock: Clock, policies: PolicyService,
                 staleness: StalenessRule | None = None) -> None:
        self._units, self._clock, self._policies = units, clock, policies
        self._staleness = staleness or StalenessRule.default()

    # -- reads ---------------------------------------------------------------------------
    def get(self, transfer_id: str, *, actor: str) -> TokenTransfer:
        with self._units(write=False) as uow:
            record = _load(uow, transfer_id)
            authorize(load_user(uow, actor), Permission.READ, record.vehicle_code)
            return _view(record)

    def list(self, *, actor: str, vehicle: str | None = None,
             status: Sequence[str] | None = None) -> list[TokenTransfer]:
        with self._units(write=False) as uow:
            user = load_user(uow, actor)
            records = uow.transfers.list_transfers(vehicle, list(status) if status else None)
            return [_view(r) for r in records if user.can(Permission.READ, r.vehicle_code)]

    # -- writes --------------------------------------------------------------------------
    def propose(self, vehicle: str, instrument: str, chain: str | None, destination: str,
                quantity: Decimal, *, idempotency_key: str, actor: str,
                from_account: str | None = None, to_account: str | None = None
                ) -> TokenTransfer:
        """Check and store a transfer; the same key with the same content returns it."""
        if not idempotency_key.strip():
            raise InvalidInput("a transfer needs an idempotency key", field="key")
        if not quantity.is_finite() or quantity <= 0:
            raise InvalidInput(f"quantity must be positive, got {quantity}", field="quantity")
        destination = destination.strip()
        if not destination or any(c.isspace() for c in destination):
            raise InvalidInput(f"destination {destination!r} must be one address without "
                               "spaces", field="destination")
        transfer_id = "trf-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:16]

        def work(uow: UnitOfWork) -> TokenTransfer:
            user = load_user(uow, actor)
            if uow.reference.find_vehicle(vehicle) is None:
                raise NotFound(f"unknown vehicle {vehicle!r}", field="vehicle")
            authorize(user, ACTIONS["propose"], vehicle)
            token = _instrument(uow, instrument)
            on_chain = chain or token.chain
            if not on_chain:
                raise InvalidInput(f"{instrument} has no chain: give --chain", field="chain")
            day = self._day(uow)
            source = _source(uow, vehicle, token, from_account, quantity, day)
            target = _target(uow, token, to_account, source)
            now = self._clock.now()
            draft = TransferRecord(
                transfer_id, idempotency_key, vehicle, token.code, on_chain, destination,
                quantity, source, _S.PROPOSED.value, actor, now, now, DEFAULT_QUORUM,
                to_account=target)
            existing = uow.transfers.find_by_idempotency_key(idempotency_key)
            if existing is not None:
                if _content(existing) != _content(draft):
                    raise IdempotencyConflict(
                        f"idempotency key {idempotency_key!r} was used for transfer "
                        f"{existing.transfer_id} with other content", field="idempotency_key")
                return _view(existing)
            check = self._check(uow, draft, day, include_approved=False)
            record = _with_check(draft, check)
            uow.transfers.add_transfer(record)
            self._audit(uow, record, "transfer.proposed", actor, {
                "chain": on_chain, "destination": destination, "quantity": quantity,
                "from": source, "to": target, **_check_payload(check)})
            return _view(record)
        return in_write_unit(self._units, work)

    def approve(self, transfer_id: str, *, actor: str,
                override_reason: str | None = None) -> TokenTransfer:
        """Add ``actor``'s approval after re-checking the custody limits in this unit."""
        if override_reason is not None and not override_reason.strip():
            raise InvalidInput("an override needs a written reason", field="override_reason")

        def work(uow: UnitOfWork) -> TokenTransfer:
            record = _load(uow, transfer_id)
            user = load_user(uow, actor)
            authorize(user, ACTIONS["approve"], record.vehicle_code)
            _require(record, (_S.PROPOSED,), "approved")
            if actor == record.maker:
                raise Forbidden(f"{actor} proposed transfer {transfer_id} and can never "
                                "approve it", user=actor)
            held = user.roles_for(record.vehicle_code)
            if override_reason is not None and not held & OVERRIDE_ROLES:
                raise Forbidden(f"user {actor} may not override blocking findings: that "
                                "needs a committee_member", user=actor)
            now = self._clock.now()
            check = self._check(uow, record, self._day(uow), include_approved=True)
            approval = TransferApprovalRecord(
                actor, now, tuple(sorted(str(r) for r in held & APPROVING_ROLES)),
                override_reason.strip() if override_reason else None)
            uow.transfers.add_approval(transfer_id, approval)
            kept = tuple(a for a in record.approvals if a.user != actor)
            checked = replace(_with_check(record, check), approvals=(*kept, approval),
                              updated_at=now)
            done = not approval_missing(checked, check.findings)
            updated = replace(checked, status=(_S.APPROVED if done else _S.PROPOSED).value)
            uow.transfers.update_transfer(updated)
            self._audit(uow, updated, "transfer.approved", actor, {
                **_check_payload(check), "override_reason": approval.override_reason,
                "status": updated.status})
            return _view(updated)
        return in_write_unit(self._units, work)

    def execute(self, transfer_id: str, *, actor: str, tx_id: str) -> TokenTransfer:
        """Record the on-chain transaction and post the ledger entry (operations).
        Replaying with the same ``tx_id`` changes nothing."""
        if not tx_id.strip():
            raise InvalidInput("give the on-chain transaction id", field="tx_id")

        def work(uow: UnitOfWork) -> TokenTransfer:
            record = _load(uow, transfer_id)
            authorize(load_user(uow, actor), ACTIONS["execute"], record.vehicle_code)
            if record.status == _S.EXECUTED.value:
                if record.tx_id == tx_id:
                    return _view(record)
                raise IdempotencyConflict(f"transfer {transfer_id} was executed as "
                                          f"{record.tx_id}, not {tx_id}", field="tx_id")
            _require(record, (_S.APPROVED,), "executed")
            now = self._clock.now()
            draft = _entry(uow, record, tx_id, now)
            posted = Journal(uow.journal).post(draft, recorded_at=now, actor=actor)
            if posted.posted is not None:
                record_change(uow, at=now, actor=actor, action=f"entry.{posted.posted.phase}",
                              object_type="entry", object_id=draft.entry_id,
                              payload=posted.posted.content())
            updated = replace(record, status=_S.EXECUTED.value, entry_id=draft.entry_id,
                              tx_id=tx_id, executed_at=now, updated_at=now)
            uow.transfers.update_transfer(updated)
            self._audit(uow, updated, "transfer.executed", actor,
                        {"tx_id": tx_id, "entry_id": draft.entry_id})
            return _view(updated)
        return in_write_unit(self._units, work)

    def reject(self, transfer_id: str, *, actor: str, reason: str) -> TokenTransfer:
        if not reason.strip():
            raise InvalidInput("a rejection needs a written reason", field="reason")
        return self._close(transfer_id, actor, "reject", _S.REJECTED, reason.strip())

    def cancel(self, transfer_id: str, *, actor: str, reason: str | None = None
               ) -> TokenTransfer:
        return self._close(transfer_id, actor, "cancel", _S.CANCELLED, reason)

    # -- helpers -------------------------------------------------------------------------
    def _close(self, transfer_id: str, actor: str, action: str, status: TransferStatus,
               reason: str | None) -> TokenTransfer:
        def work(uow: UnitOfWork) -> TokenTransfer:
            record = _load(uow, transfer_id)
            authorize(load_user(uow, actor), ACTIONS[action], record.vehicle_code)
            _require(record, OPEN, str(status))
            updated = replace(record, status=status.value, reason=reason,
                              updated_at=self._clock.now())
            uow.transfers.update_transfer(updated)
            self._audit(uow, updated, f"transfer.{status}", actor, {"reason": reason})
            return _view(updated)
        return in_write_unit(self._units, work)

    def _day(self, uow: UnitOfWork) -> date:
        """Transfers are dated by the clock; prices are the latest on or before that day."""
        today = self._clock.now().date()
        market = uow.market.last_market_date()
        return today if market is None else max(today, market)

    def _check(self, uow: UnitOfWork, transfer: TransferRecord, day: date, *,
               include_approved: bool) -> _Check:
        """The policy check, plus a blocking finding when the destination is on an
        imported sanctions list (only committee overrides clear it)."""
        check = self._policy_check(uow, transfer, day, include_approved=include_approved)
        listed = uow.custody.find_sanctioned([address_key(transfer.destination)])
        hits = tuple(Finding(SANCTIONS_HIT, Severity.BLOCKING, transfer.destination,
                             f"destination {transfer.destination} is listed as {entry.entity} "
                             f"({entry.program})", day) for entry in listed)
        return replace(check, findings=(*check.findings, *hits)) if hits else check

    def _policy_check(self, uow: UnitOfWork, transfer: TransferRecord, day: date, *,
                      include_approved: bool) -> _Check:
        """The custody limits of the policy in force, through the policy engine, on the
        vehicle's actual snapshot with the transfers of the velocity window."""
        vehicle = transfer.vehicle_code
        policy = self._policies.policy_in_force(uow, vehicle, day)
        snapshot, stale = self._snapshot(uow, vehicle, day)
        value = _value_usd(snapshot, transfer)
        if policy is None:
            return _Check((Finding(NO_POLICY, Severity.BLOCKING, vehicle,
                                   f"no investment policy in force for {vehicle} on {day}",
                                   day), *stale), None, DEFAULT_QUORUM, value)
        custody = [limit for limit in policy.limits if isinstance(limit, Custody)]
        if not custody:
            return _Check((Finding(NO_CUSTODY_RULES, Severity.WARNING, vehicle,
                                   f"the policy of {vehicle} has no custody limit: only "
                                   f"four eyes apply", day), *stale),
                          policy.content_hash, DEFAULT_QUORUM, value)
        window = max(limit.velocity_window_days or 1 for limit in custody)
        subject = _as_transfer(transfer, value, day, proposed=True)
        others = [_as_transfer(r, r.value_usd, day, proposed=r.status != _S.EXECUTED.value)
                  for r in uow.transfers.list_transfers(vehicle, _counted(include_approved))
                  if r.transfer_id != transfer.transfer_id]
        recent = [t for t in others if (day - t.on_date).days < window]
        ctx = PolicyContext(as_of=day, vehicle_code=vehicle, snapshot=snapshot,
                            instruments=_instruments(uow, snapshot, transfer),
                            total_reserves_usd=snapshot.total_usd,
                            transfers=(*recent, subject))
        result = evaluate(_custody_only(policy, custody), ctx)
        ids = {t.transfer_id for t in recent}
        # other transfers' own breaches belong to the daily check, not to this approval
        findings = tuple(f for f in result.findings if f.subject not in ids)
        return _Check((*findings, *stale), policy.content_hash,
                      max(limit.approval_quorum for limit in custody), value)

    def _snapshot(self, uow: UnitOfWork, vehicle: str, day: date
                  ) -> tuple[PortfolioSnapshot, tuple[Finding, ...]]:
        accounts = {info.code: info for info in uow.reference.list_accounts()}
        positions = [Position(accounts[code].account, accounts[code].instrument, quantity)
                     for code, quantity in sorted(uow.journal.balances_as_of(day).items())
                     if quantity and accounts[code].account.kind is AccountKind.HOLDING
                     and accounts[code].account.vehicle_code == vehicle]
        found = uow.reference.find_vehicle(vehicle)
        assert found is not None  # checked by every caller
        prices = uow.market.latest_prices(day, sorted({p.instrument.code for p in positions}))
        snapshot = build_snapshot(as_of=day, positions=positions, vehicles={vehicle: found},
                                  prices=prices, fx=uow.market.latest_fx(day),
                                  staleness=self._staleness)
        stale = tuple(Finding(STALE_PRICE, Severity.WARNING, f.subject, f.message, day,
                              f.measured, f.limit)
                      for f in snapshot.findings if f.rule == "valuation.stale_price")
        return snapshot, stale

    def _audit(self, uow: UnitOfWork, record: TransferRecord, action: str, actor: str,
               payload: dict[str, object]) -> None:
        record_change(uow, at=self._clock.now(), actor=actor, action=action,
                      object_type="transfer", object_id=record.transfer_id,
                      payload={"vehicle": record.vehicle_code,
                               "instrument": record.instrument_code, **payload})


def _load(uow: UnitOfWork, transfer_id: str) -> TransferRecord:
    record = uow.transfers.find_transfer(transfer_id)
    if record is None:
        raise NotFound(f"no transfer {transfer_id!r}", field="transfer_id")
    return record


def _require(record: TransferRecord, allowed: Sequence[TransferStatus], to: str) -> None:
    if record.status not in {s.value for s in allowed}:
        raise Conflict(f"transfer {record.transfer_id} is {record.status} and cannot be {to}",
                       field="status")


def _instrument(uow: UnitOfWork, code: str) -> Instrument:
    token = uow.reference.find_instrument(code)
    if token is None:
        raise NotFound(f"unknown instrument {code!r}", field="instrument")
    if token.is_currency:
        raise InvalidInput(f"{code} is cash: custody transfers move tokens and securities",
                           field="instrument")
    return token


def _source(uow: UnitOfWork, vehicle: str, token: Instrument, given: str | None,
            quantity: Decimal, day: date) -> str:
    """The holding to send from: ``given``, else the vehicle's one holding of the token."""
    balances = uow.journal.balances_as_of(day)
    if given is None:
        held = sorted(info.code for info in uow.reference.list_accounts()
                      if info.account.kind is AccountKind.HOLDING
                      and info.account.vehicle_code == vehicle
                      and info.instrument.code == token.code and balances.get(info.code))
        if not held:
            raise InvalidInput(f"{vehicle} holds no {token.code}", field="from")
        if len(held) > 1:
            raise InvalidInput(f"{vehicle} holds {token.code} in {', '.join(held)}: give "
                               "--from", field="from")
        given = held[0]
    info = uow.reference.find_account(given)
    if info is None:
        raise NotFound(f"unknown account {given!r}", field="from")
    account = info.account
    if (account.kind is not AccountKind.HOLDING or account.vehicle_code != vehicle
            or info.instrument.code != token.code):
        raise InvalidInput(f"{given} is not a {token.code} holding of {vehicle}", field="from")
    balance = balances.get(given, Decimal(0))
    if balance < quantity:
        raise InvalidInput(f"{given} holds {balance} {token.code}, less than {quantity}",
                           field="quantity")
    return given


def _target(uow: UnitOfWork, token: Instrument, given: str | None, source: str) -> str | None:
    """None: the tokens leave the institution; else an own holding of the same token."""
    if given is None:
        return None
    account = Account.parse(given)
    if account.kind is not AccountKind.HOLDING or account.instrument_code != token.code:
        raise InvalidInput(f"{given} is not a {token.code} holding account", field="to")
    if given == source:
        raise InvalidInput("a transfer needs a different destination account", field="to")
    assert account.vehicle_code is not None  # a holding always has a vehicle
    if uow.reference.find_vehicle(account.vehicle_code) is None:
        raise NotFound(f"unknown vehicle {account.vehicle_code!r}", field="to")
    if account.custodian_code and uow.reference.find_custodian(account.custodian_code) is None:
        raise NotFound(f"unknown custodian {account.custodian_code!r}", field="to")
    return given


def _content(record: TransferRecord) -> tuple[object, ...]:
    return (record.vehicle_code, record.instrument_code, record.chain, record.destination,
            record.quantity, record.from_account, record.to_account, record.maker)


def _counted(include_approved: bool) -> list[str]:
    statuses = [_S.EXECUTED.value]
    return [*statuses, _S.APPROVED.value] if include_approved else statuses


def _as_transfer(record: TransferRecord, value: Decimal | None, day: date, *,
                 proposed: bool) -> Transfer:
    """Executed transfers are dated by their execution; open ones by the check day."""
    on = record.executed_at.date() if record.executed_at is not None else day
    return Transfer(record.transfer_id, record.vehicle_code, record.instrument_code,
                    record.chain, record.destination, record.quantity, value, min(on, day),
                    tuple(a.user for a in record.approvals), proposed)


def _value_usd(snapshot: PortfolioSnapshot, record: TransferRecord) -> Decimal | None:
    """The transfer at the source holding's latest valuation (None when unvalued)."""
    for position in snapshot.positions:
        if position.account_code == record.from_account and position.value_usd is not None \
                and position.quantity:
            return quantize(position.value_usd * record.quantity / position.quantity, 2)
    return None


def _instruments(uow: UnitOfWork, snapshot: PortfolioSnapshot, record: TransferRecord
                 ) -> dict[str, Instrument]:
    codes = {p.instrument_code for p in snapshot.positions} | {record.instrument_code}
    found = {code: uow.reference.find_instrument(code) for code in sorted(codes)}
    return {code: instrument for code, instrument in found.items() if instrument is not None}


def _custody_only(policy: InvestmentPolicy, custody: Sequence[Custody]) -> InvestmentPolicy:
    """The same engine on the custody limits alone: a transfer is not a trade, so size,
    eligibility and risk limits stay with orders and the daily check."""
    return replace(policy, limits=tuple(custody))


def _with_check(record: TransferRecord, check: _Check) -> TransferRecord:
    return replace(record, findings_json=findings_json(check.findings),
                   policy_hash=check.policy_hash, quorum=check.quorum,
                   value_usd=check.value_usd)


def _check_payload(check: _Check) -> dict[str, object]:
    return {"policy_hash": check.policy_hash, "quorum": check.quorum,
            "value_usd": check.value_usd,
            "findings": [[f.rule, str(f.severity), f.subject] for f in check.findings]}


def _entry(uow: UnitOfWork, record: TransferRecord, tx_id: str, now: datetime) -> EntryDraft:
    """From holding -q; to the own holding, or to the token's EXTERNAL account, +q."""
    to_code = record.to_account or Account(AccountKind.EXTERNAL, record.instrument_code).code
    if uow.reference.find_account(to_code) is None:
        uow.reference.open_account(Account.parse(to_code), now)
    q = record.quantity
    where = record.to_account or f"{record.destination} on {record.chain}"
    return EntryDraft(
        f"{record.transfer_id}-exec", EntryCode.TRANSFER, now.date(),
        (PostingDraft(record.from_account, -q), PostingDraft(to_code, q)),
        description=f"transfer {record.transfer_id}: {q} {record.instrument_code} to {where}",
        metadata=(("transfer_id", record.transfer_id), ("tx_id", tx_id),
                  ("chain", record.chain), ("destination", record.destination)))


__all__ = ["ACTIONS", "TokenTransfer", "TransferService", "approval_missing"]


