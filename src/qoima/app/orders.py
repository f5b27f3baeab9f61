"""Order use cases: draft, submit, approve (four eyes, quorum by size), execute, settle.

Every transition runs in one write unit of work with its audit record. Approval re-runs the
pre-trade policy check inside that unit on the snapshot with every other approved, not yet
executed order of the vehicle applied, so two approvals racing cannot together breach a
limit that each alone respects (writers are serialized by the store). An execution books the
fill and posts its ledger entry in the same unit.
"""

from __future__ import annotations

import builtins
import hashlib
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, datetime

from qoima.app.governance_ports import ApprovalRecord, FillRecord
from qoima.app.order_records import order_from_record, order_to_record
from qoima.app.policies import PolicyService
from qoima.app.ports import (
    ACCESS_DATA,
    ORDERS_AMENDED,
    VALUATION_DATA,
    Clock,
    UnitOfWork,
    UnitOfWorkFactory,
)
from qoima.app.read_cache import TokenCache, absent_token
from qoima.app.units import in_write_unit, record_change
from qoima.app.users import load_user
from qoima.domain.enums import AccountKind, EntryCode, Severity
from qoima.domain.errors import IdempotencyConflict, InvalidInput, NotFound
from qoima.domain.findings import Finding
from qoima.domain.money import quantize
from qoima.domain.reference import Account
from qoima.domain.roles import Permission, authorize
from qoima.ledger.entries import EntryDraft, PostingDraft
from qoima.ledger.journal import Journal
from qoima.market.quotes import StalenessRule
from qoima.orders import lifecycle
from qoima.orders.approvals import DEFAULT_APPROVAL_RULES, ApprovalRules
from qoima.orders.model import Fill, Order, OrderSide, OrderStatus, OrderTerms, PretradeCheck
from qoima.policy.evaluate import evaluate
from qoima.policy.hypothetical import apply_trade
from qoima.portfolio.snapshot import PortfolioSnapshot

OPEN_FOR_LIMITS = (OrderStatus.APPROVED, OrderStatus.PARTIALLY_EXECUTED)
NO_POLICY = "policy.engine.no_policy"
STALE_PRICE = "policy.engine.stale_price"
BUYING_FROZEN = "policy.engine.buying_frozen"


class OrderService:
    def __init__(self, units: UnitOfWorkFactory, clock: Clock, policies: PolicyService,
                 rules: ApprovalRules = DEFAULT_APPROVAL_RULES) -> None:
        self._units, self._clock, self._policies, self._rules = units, clock, policies, rules
        self._pages = TokenCache(64)  # order pages, until an order changes
        # What a draft checks before it is written, kept while its data is unchanged: the
        # maker (users, grants) and the terms' vehicle, tranche, instrument and custodian.
        # Drafting runs under the one writer lock; six reads there became one token read.
        self._makers = TokenCache(64)
        self._known_terms = TokenCache(256)

    @property
    def rules(self) -> ApprovalRules:
        return self._rules

    # -- reads ---------------------------------------------------------------------------
    def get(self, order_id: str, *, actor: str) -> Order:
        with self._units(write=False) as uow:
            order = _load(uow, order_id)
            authorize(load_user(uow, actor), Permission.READ, order.vehicle_code)
            return order

    def list(self, *, actor: str, vehicle: str | None = None,
             status: Sequence[str] | None = None) -> list[Order]:
        with self._units(write=False) as uow:
            user = load_user(uow, actor)
            orders = [order_from_record(r) for r in uow.orders.list_orders(
                vehicle, list(status) if status else None)]
            return [o for o in orders if user.can(Permission.READ, o.vehicle_code)]

    def page(self, *, actor: str, offset: int, limit: int, vehicle: str | None = None,
             status: Sequence[str] | None = None) -> tuple[builtins.list[Order], int]:
        """The orders :meth:`list` gives, ``limit`` from ``offset``, filtered and paged by
        the store; and how many there are in all."""
        with self._units(write=False) as uow:
            user = load_user(uow, actor)
            if vehicle is not None:
                vehicles: builtins.list[str] | None = [vehicle]
                if not user.can(Permission.READ, vehicle):
                    return [], 0
            elif user.can(Permission.READ, None):
                vehicles = None
            else:
                vehicles = sorted({g.vehicle_code for g in user.grants if g.vehicle_code
                                   and user.can(Permission.READ, g.vehicle_code)})
            wanted = list(status) if status else None
            # Which orders the page holds is read each time (a new order moves the total,
            # and may join the page); their contents are kept until an order is amended.
            ids, total = uow.orders.page_order_ids(vehicles, wanted, offset, limit)
            orders = self._pages.get(
                uow.reference.data_token(ORDERS_AMENDED), tuple(ids),
                lambda: [order_from_record(r) for r in uow.orders.orders_by_ids(ids)])
            return orders, total

    # -- writes --------------------------------------------------------------------------
    def new(self, terms: OrderTerms, *, idempotency_key: str, actor: str) -> Order:
        """A draft; the same key with the same terms returns the first order."""
        return in_write_unit(self._units, lambda uow: self.new_in(
            uow, terms, idempotency_key=idempotency_key, actor=actor))

    def new_in(self, uow: UnitOfWork, terms: OrderTerms, *, idempotency_key: str,
               actor: str) -> Order:
        """:meth:`new` inside the caller's write unit (a tranche plan drafts its orders in
        the unit that records the plan)."""
        order_id = "ord-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:16]
        tokens = uow.reference.data_tokens()
        user = self._makers.get(tokens.get(ACCESS_DATA) or absent_token(), actor,
                                lambda: load_user(uow, actor))
        existing = uow.orders.find_by_idempotency_key(idempotency_key)
        if existing is not None:
            order = order_from_record(existing)
            if order.terms.content_hash != terms.content_hash or order.maker != actor:
                raise IdempotencyConflict(
                    f"idempotency key {idempotency_key!r} was used for order "
                    f"{order.order_id} with other terms", field="idempotency_key")
            return order
        # a check that fails raises, and only the ones that passed are kept
        self._known_terms.get(tokens.get(VALUATION_DATA) or absent_token(),
                              (terms.vehicle_code, terms.instrument_code, terms.tranche_code,
                               terms.custodian_code),
                              lambda: _check_reference(uow, terms))
        order = lifecycle.new_order(order_id, idempotency_key, terms, user, self._clock.now())
        uow.orders.add_order(order_to_record(order))
        self._audit(uow, order, "order.created", actor, {"terms": terms.content()})
        return order

    def edit(self, order_id: str, terms: OrderTerms, *, actor: str) -> Order:
        """New terms by the maker: back to draft; every approval is void."""
        def work(uow: UnitOfWork) -> Order:
            order = _load(uow, order_id)
            _check_reference(uow, terms)
            updated = lifecycle.edit(order, terms, load_user(uow, actor), self._clock.now())
            uow.orders.update_order(order_to_record(updated))
            uow.orders.clear_approvals(order_id)
            self._audit(uow, updated, "order.edited", actor, {"terms": terms.content()})
            return updated
        return in_write_unit(self._units, work)

    def submit(self, order_id: str, *, actor: str, as_of: date | None = None) -> Order:
        def work(uow: UnitOfWork) -> Order:
            order = _load(uow, order_id)
            user = load_user(uow, actor)
            check = self._pretrade(uow, order, as_of)
            updated = lifecycle.submit(order, user, self._clock.now(), pretrade=check)
            uow.orders.update_order(order_to_record(updated))
            self._audit(uow, updated, "order.submitted", actor, _check_payload(check))
            return updated
        return in_write_unit(self._units, work)

    def approve(self, order_id: str, *, actor: str, override_reason: str | None = None,
                as_of: date | None = None) -> Order:
        def work(uow: UnitOfWork) -> Order:
            order = _load(uow, order_id)
            user = load_user(uow, actor)
            check = self._pretrade(uow, order, as_of)
            updated = lifecycle.approve(order, user, self._clock.now(), self._rules,
                                        override_reason, pretrade=check)
            uow.orders.update_order(order_to_record(updated))
            uow.orders.clear_approvals(order_id)
            for approval in updated.approvals:
                uow.orders.add_approval(order_id, ApprovalRecord(
                    approval.user, tuple(str(r) for r in approval.roles), approval.terms_hash,
                    approval.at, approval.override_reason))
            self._audit(uow, updated, "order.approved", actor, {
                **_check_payload(check), "override_reason": override_reason,
                "status": updated.status})
            return updated
        return in_write_unit(self._units, work)

    def reject(self, order_id: str, *, actor: str, reason: str) -> Order:
        return self._simple(order_id, actor, "order.rejected", {"reason": reason},
                            lambda o, u, at: lifecycle.reject(o, u, at, reason))

    def cancel(self, order_id: str, *, actor: str) -> Order:
        return self._simple(order_id, actor, "order.cancelled", {}, lifecycle.cancel)

    def settle(self, order_id: str, *, actor: str) -> Order:
        return self._simple(order_id, actor, "order.settled", {}, lifecycle.settle)

    def execute(self, order_id: str, fill: Fill, *, actor: str) -> Order:
        """Book one fill and post its ledger entry; replaying the same fill changes nothing."""
        def work(uow: UnitOfWork) -> Order:
            order = _load(uow, order_id)
            user = load_user(uow, actor)
            now = self._clock.now()
            updated = lifecycle.record_fill(order, fill, user, now)
            if updated is order:
                return order
            draft = _fill_entry(uow, updated, fill, now)
            posted = Journal(uow.journal).post(draft, recorded_at=now, actor=actor)
            if posted.posted is not None:
                record_change(uow, at=now, actor=actor, action=f"entry.{posted.posted.phase}",
                              object_type="entry", object_id=draft.entry_id,
                              payload=posted.posted.content())
            uow.orders.update_order(order_to_record(updated))
            uow.orders.add_fill(order_id, FillRecord(
                fill.fill_id, fill.quantity, fill.price, fill.fees_usd, fill.venue,
                fill.counterparty, fill.executed_at, fill.settlement_date, draft.entry_id))
            self._audit(uow, updated, "order.executed", actor, {
                "fill": asdict(fill), "entry_id": draft.entry_id, "status": updated.status})
            return updated
        return in_write_unit(self._units, work)

    # -- helpers -------------------------------------------------------------------------
    def _simple(self, order_id: str, actor: str, action: str, payload: dict[str, object],
                move: object) -> Order:
        def work(uow: UnitOfWork) -> Order:
            order = _load(uow, order_id)
            updated = move(order, load_user(uow, actor), self._clock.now())  # type: ignore[operator]
            uow.orders.update_order(order_to_record(updated))
            self._audit(uow, updated, action, actor, payload)
            return updated  # type: ignore[no-any-return]
        return in_write_unit(self._units, work)

    def _audit(self, uow: UnitOfWork, order: Order, action: str, actor: str,
               payload: dict[str, object]) -> None:
        record_change(uow, at=self._clock.now(), actor=actor, action=action,
                      object_type="order", object_id=order.order_id,
                      payload={"terms_hash": order.terms.content_hash, **payload})

    def _pretrade(self, uow: UnitOfWork, order: Order, as_of: date | None) -> PretradeCheck:
        """The policy in force, on the snapshot after every other approved order of the
        vehicle and this one (the remaining quantities)."""
        day = as_of or uow.market.last_market_date()
        if day is None:
            raise InvalidInput("no market data for a pre-trade check", field="as_of")
        policy = self._policies.policy_in_force(uow, order.vehicle_code, day)
        if policy is None:
            return PretradeCheck((Finding(NO_POLICY, Severity.BLOCKING, order.vehicle_code,
                                          f"no investment policy in force for "
                                          f"{order.vehicle_code} on {day}", day),), "none")
        others = [order_from_record(r) for r in uow.orders.list_orders(
            order.vehicle_code, [s.value for s in OPEN_FOR_LIMITS])]
        inputs = self._policies.load_inputs(day, also=sorted(
            {o.terms.instrument_code for o in [*others, order]}))
        snapshot = inputs.snapshot
        for other in [o for o in others if o.order_id != order.order_id] + [order]:
            snapshot = _apply(snapshot, other, inputs.instruments)
        result = evaluate(policy, self._policies.context(policy, snapshot, inputs, day))
        findings = list(result.findings)
        if result.buying_frozen and order.terms.side is OrderSide.BUY:
            findings.append(Finding(
                BUYING_FROZEN, Severity.BLOCKING, order.vehicle_code,
                f"a drawdown trigger requires {', '.join(result.actions)}: buying is frozen",
                day))
        stale = _stale_price(uow, order, day, inputs.instruments)
        if stale is not None:
            findings.append(stale)
        return PretradeCheck(tuple(findings), result.policy_hash)


def _load(uow: UnitOfWork, order_id: str) -> Order:
    record = uow.orders.find_order(order_id)
    if record is None:
        raise NotFound(f"no order {order_id!r}", field="order_id")
    return order_from_record(record)


def _check_reference(uow: UnitOfWork, terms: OrderTerms) -> None:
    vehicle = uow.reference.find_vehicle(terms.vehicle_code)
    if vehicle is None:
        raise NotFound(f"unknown vehicle {terms.vehicle_code!r}", field="vehicle")
    instrument = uow.reference.find_instrument(terms.instrument_code)
    if instrument is None:
        raise NotFound(f"unknown instrument {terms.instrument_code!r}", field="instrument")
    if instrument.is_currency:
        raise InvalidInput(f"{instrument.code} is cash: orders trade instruments",
                           field="instrument")
    if terms.tranche_code and not vehicle.has_tranche(terms.tranche_code):
        raise NotFound(f"vehicle {vehicle.code} has no tranche {terms.tranche_code!r}",
                       field="tranche")
    if terms.custodian_code and uow.reference.find_custodian(terms.custodian_code) is None:
        raise NotFound(f"unknown custodian {terms.custodian_code!r}", field="custodian")


def _apply(snapshot: PortfolioSnapshot, order: Order, instruments: object) -> PortfolioSnapshot:
    remaining = order.remaining_quantity
    if remaining <= 0:
        return snapshot
    sign = 1 if order.terms.side is OrderSide.BUY else -1
    instrument = instruments[order.terms.instrument_code]  # type: ignore[index]
    return apply_trade(snapshot, vehicle_code=order.vehicle_code,
                       tranche_code=order.terms.tranche_code,
                       custodian_code=order.terms.custodian_code, instrument=instrument,
                       quantity_delta=sign * remaining, price=order.terms.estimated_price)


def _stale_price(uow: UnitOfWork, order: Order, day: date, instruments: object
                 ) -> Finding | None:
    instrument = instruments[order.terms.instrument_code]  # type: ignore[index]
    quote = uow.market.latest_prices(day, [instrument.code]).get(instrument.code)
    rule = StalenessRule.default()
    if quote is None:
        return Finding(STALE_PRICE, Severity.BLOCKING, instrument.code,
                       f"no price for {instrument.code} on or before {day}: the pre-trade "
                       "check cannot value the order", day)
    if rule.is_stale(instrument.kind, instrument.venue, quote.price_date, day):
        return Finding(STALE_PRICE, Severity.BLOCKING, instrument.code,
                       f"the price of {instrument.code} is from {quote.price_date}, stale on "
                       f"{day}: refresh market data before trading", day,
                       measured=str(quote.price_date))
    return None


def _fill_entry(uow: UnitOfWork, order: Order, fill: Fill, now: datetime) -> EntryDraft:
    """BUY: the holding gains the units at cost (fees capitalized), USD cash pays; SELL:
    the units leave at the fill price, USD cash receives the proceeds net of fees."""
    terms = order.terms
    holding = Account(AccountKind.HOLDING, terms.instrument_code, terms.vehicle_code,
                      terms.tranche_code, terms.custodian_code)
    cash = _cash_account(uow, terms)
    for account in (holding, cash, Account(AccountKind.EXTERNAL, terms.instrument_code),
                    Account(AccountKind.EXTERNAL, "USD")):
        if uow.reference.find_account(account.code) is None:
            uow.reference.open_account(account, now)
    gross = fill.gross_usd
    buy = terms.side is OrderSide.BUY
    cash_usd = quantize(gross + fill.fees_usd if buy else gross - fill.fees_usd, 2)
    q = fill.quantity
    unit_cost = (gross + fill.fees_usd) / q if buy else None
    postings = (
        PostingDraft(holding.code, q if buy else -q,
                     unit_cost_usd=unit_cost, unit_price_usd=None if buy else fill.price),
        PostingDraft(Account(AccountKind.EXTERNAL, terms.instrument_code).code,
                     -q if buy else q),
        PostingDraft(cash.code, -cash_usd if buy else cash_usd),
        PostingDraft(Account(AccountKind.EXTERNAL, "USD").code, cash_usd if buy else -cash_usd),
    )
    return EntryDraft(f"{order.order_id}-{fill.fill_id}", EntryCode.BUY if buy else
                      EntryCode.SELL, fill.settlement_date, postings,
                      description=f"order {order.order_id} fill {fill.fill_id} at {fill.venue}",
                      metadata=(("order_id", order.order_id), ("fill_id", fill.fill_id),
                                ("counterparty", fill.counterparty)))


def _cash_account(uow: UnitOfWork, terms: OrderTerms) -> Account:
    """The vehicle's USD holding at the order's tranche (else its only USD holding)."""
    usd = [info.account for info in uow.reference.list_accounts()
           if info.account.kind is AccountKind.HOLDING and info.account.instrument_code == "USD"
           and info.account.vehicle_code == terms.vehicle_code]
    same = [a for a in usd if a.tranche_code == terms.tranche_code]
    chosen = same or usd
    if len(chosen) == 1:
        return chosen[0]
    if not chosen:
        raise InvalidInput(f"vehicle {terms.vehicle_code} has no USD cash account to pay "
                           "from", field="vehicle")
    raise InvalidInput(f"vehicle {terms.vehicle_code} has several USD accounts "
                       f"({', '.join(a.code for a in chosen)}): give the order's tranche",
                       field="tranche")


def _check_payload(check: PretradeCheck) -> dict[str, object]:
    return {"policy_hash": check.policy_hash,
            "findings": [[f.rule, str(f.severity), f.subject] for f in check.findings]}


__all__ = ["OrderService"]
