"""Policy use cases: propose and approve versions, check them daily, dry-run a new one.

A version is proposed by a portfolio manager or risk officer and approved by a committee
member who is not its proposer. A change that loosens any limit (``qoima.policy.changes``)
takes effect only ``change_delay_days`` after approval, a window in which the committee can
veto it; a tightening takes effect at once. The daily check evaluates the version in force
on the actual snapshot and keeps the breach register (open/close dates). With a
look-through source (the managers' reported holdings), concentration limits see through
fund interests; without one they see each as one position and flag it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from qoima.app.governance_ports import BreachRecord, PolicyVersionRecord, PolicyVersionStatus
from qoima.app.policy_context import LookThroughSource, policy_context
from qoima.app.ports import Clock, UnitOfWork, UnitOfWorkFactory
from qoima.app.risk_inputs import HistorySettings, RiskInputs, RiskInputsLoader
from qoima.app.units import in_write_unit, record_change
from qoima.app.users import load_user
from qoima.app.valuation import ValuationService
from qoima.domain.enums import Severity
from qoima.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from qoima.domain.roles import Permission, authorize
from qoima.market.calendars import CalendarName, get_calendar
from qoima.policy.breaches import Breach, update_register
from qoima.policy.changes import loosened
from qoima.policy.context import LookThroughShares, PolicyContext
from qoima.policy.evaluate import PolicyCheck, evaluate
from qoima.policy.model import InvestmentPolicy
from qoima.portfolio.snapshot import PortfolioSnapshot

#: (text, format, source name) -> policy; wired to ``adapters.policy_files.parse_policy``.
PolicyParser = Callable[..., InvestmentPolicy]
_S = PolicyVersionStatus
IN_FORCE = (_S.ACTIVE.value, _S.SUPERSEDED.value)


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    check: PolicyCheck
    opened: tuple[Breach, ...]
    closed: tuple[Breach, ...]
    still_open: tuple[Breach, ...]


class PolicyService:
    def __init__(self, units: UnitOfWorkFactory, clock: Clock, valuation: ValuationService,
                 parser: PolicyParser, look_through: LookThroughSource | None = None) -> None:
        self._units, self._clock, self._valuation = units, clock, valuation
        self._parser = parser
        self._inputs = RiskInputsLoader(units, valuation)
        self._look_through = look_through

    # -- versions ----------------------------------------------------------------------
    def propose(self, policy: InvestmentPolicy, *, fmt: str, actor: str,
                reason: str | None = None) -> PolicyVersionRecord:
        """Store ``policy`` as the vehicle's next version, waiting for approval."""
        def work(uow: UnitOfWork) -> PolicyVersionRecord:
            authorize(load_user(uow, actor), Permission.POLICY_PROPOSE, policy.vehicle_code)
            if uow.reference.find_vehicle(policy.vehicle_code) is None:
                raise NotFound(f"unknown vehicle {policy.vehicle_code!r}", field="vehicle")
            latest = uow.policies.latest_version(policy.vehicle_code)
            version = 1 if latest is None else latest.version + 1
            numbered = replace(policy, version=version)
            now = self._clock.now()
            record = PolicyVersionRecord(
                numbered.vehicle_code, version, numbered.content_hash, policy.source_text, fmt,
                _S.PROPOSED.value, actor, now, numbered.effective_from, reason=reason)
            uow.policies.add_version(record)
            record_change(uow, at=now, actor=actor, action="policy.proposed",
                          object_type="policy", object_id=f"{record.vehicle_code}/v{version}",
                          payload={"hash": record.content_hash, "reason": reason})
            return record
        return in_write_unit(self._units, work)

    def approve(self, vehicle: str, version: int, *, actor: str) -> PolicyVersionRecord:
        """Approve a proposed version; a loosening waits ``change_delay_days`` to apply."""
        def work(uow: UnitOfWork) -> PolicyVersionRecord:
            authorize(load_user(uow, actor), Permission.POLICY_APPROVE, vehicle)
            record = _version(uow, vehicle, version)
            if record.status != _S.PROPOSED.value:
                raise Conflict(f"policy {vehicle} v{version} is {record.status}, not proposed")
            if record.proposed_by == actor:
                raise Forbidden(f"{actor} proposed policy {vehicle} v{version} and cannot "
                                "approve it", user=actor)
            proposed = self._parse(record)
            current = uow.policies.find_active(vehicle)
            looser = [] if current is None else loosened(self._parse(current), proposed)
            now = self._clock.now()
            delay = timedelta(days=proposed.change_delay_days if looser else 0)
            if current is not None and looser and current.version != version:
                delay = timedelta(days=self._parse(current).change_delay_days)
            if delay:
                updated = replace(record, status=_S.APPROVED.value, approved_by=actor,
                                  approved_at=now, takes_effect_at=now + delay)
            else:
                updated = replace(record, status=_S.ACTIVE.value, approved_by=actor,
                                  approved_at=now, takes_effect_at=now)
                if current is not None:
                    uow.policies.update_version(replace(current, status=_S.SUPERSEDED.value))
            uow.policies.update_version(updated)
            record_change(uow, at=now, actor=actor, action="policy.approved",
                          object_type="policy", object_id=f"{vehicle}/v{version}",
                          payload={"hash": record.content_hash, "loosens": looser,
                                   "takes_effect_at": updated.takes_effect_at})
            return updated
        return in_write_unit(self._units, work)

    def veto(self, vehicle: str, version: int, *, actor: str, reason: str) -> None:
        """The committee stops a version that has not taken effect yet."""
        if not reason.strip():
            raise InvalidInput("a veto needs a written reason", field="reason")

        def work(uow: UnitOfWork) -> None:
            authorize(load_user(uow, actor), Permission.POLICY_VETO, vehicle)
            record = _version(uow, vehicle, version)
            pending = record.status == _S.PROPOSED.value or (
                record.status == _S.APPROVED.value and record.takes_effect_at is not None
                and record.takes_effect_at > self._clock.now())
            if not pending:
                raise Conflict(f"policy {vehicle} v{version} is {record.status} and in force "
                               "or closed: only a version not yet in effect can be vetoed")
            now = self._clock.now()
            uow.policies.update_version(replace(record, status=_S.VETOED.value, vetoed_by=actor,
                                                vetoed_at=now, reason=reason))
            record_change(uow, at=now, actor=actor, action="policy.vetoed",
                          object_type="policy", object_id=f"{vehicle}/v{version}",
                          payload={"reason": reason})
        in_write_unit(self._units, work)

    def versions(self, vehicle: str | None = None) -> list[PolicyVersionRecord]:
        with self._units(write=False) as uow:
            return uow.policies.list_versions(vehicle)

    def in_force(self, vehicle: str, on: date) -> InvestmentPolicy | None:
        with self._units(write=False) as uow:
            return self.policy_in_force(uow, vehicle, on)

    def policy_in_force(self, uow: UnitOfWork, vehicle: str, on: date
                        ) -> InvestmentPolicy | None:
        """The highest approved version whose delay has passed and that is effective on
        ``on``; a delayed loosening becomes active here once its time has come."""
        now = self._clock.now()
        chosen = None
        for record in uow.policies.list_versions(vehicle):
            due = record.status == _S.APPROVED.value and record.takes_effect_at is not None \
                and record.takes_effect_at <= now
            if (record.status in IN_FORCE or due) and record.effective_from <= on and (
                    chosen is None or record.version > chosen.version):
                chosen = record
        return None if chosen is None else self._parse(chosen)

    # -- checks ------------------------------------------------------------------------
    def check(self, as_of: date, *, actor: str, vehicle: str | None = None,
              record: bool = True) -> list[CheckOutcome]:
        """Evaluate each vehicle's policy in force on the actual snapshot; with ``record``
        the breach register is updated and the check goes into the audit trail."""
        inputs = self._inputs.load(as_of)
        seen = self._seen_through(as_of)

        def work(uow: UnitOfWork) -> list[CheckOutcome]:
            user = load_user(uow, actor)
            vehicles = [v.code for v in uow.reference.list_vehicles()
                        if vehicle is None or v.code == vehicle]
            if vehicle is not None and not vehicles:
                raise NotFound(f"unknown vehicle {vehicle!r}", field="vehicle")
            outcomes = []
            for code in vehicles:
                # recording the register is a write: the risk function's job
                authorize(user, Permission.RISK_RUN if record else Permission.READ, code)
                policy = self.policy_in_force(uow, code, as_of)
                if policy is None:
                    continue
                outcomes.append(self._check_one(uow, policy, inputs, as_of, actor, record,
                                                seen))
            return outcomes
        if record:
            return in_write_unit(self._units, work)
        with self._units(write=False) as uow:
            return work(uow)

    def _check_one(self, uow: UnitOfWork, policy: InvestmentPolicy, inputs: RiskInputs,
                   as_of: date, actor: str, record: bool,
                   seen: Mapping[str, LookThroughShares] | None) -> CheckOutcome:
        result = evaluate(policy, policy_context(policy, inputs.snapshot, inputs, as_of, seen))
        stored = uow.policies.list_open_breaches(policy.vehicle_code)
        open_now = [_breach(r) for r in stored]
        update = update_register(open_now, result.findings, as_of,
                                 vehicle_code=policy.vehicle_code)
        if record:
            ids = {(r.vehicle_code, r.rule, r.subject): r.breach_id for r in stored}
            for breach in update.closed:
                breach_id = ids[breach.key]
                assert breach_id is not None
                uow.policies.close_breach(breach_id, as_of)
            for breach in update.opened:
                uow.policies.add_breach(BreachRecord(
                    breach.vehicle_code, breach.rule, breach.subject, str(breach.severity),
                    breach.opened_on, breach.message, result.policy_hash, breach.measured,
                    breach.limit))
            record_change(uow, at=self._clock.now(), actor=actor, action="policy.checked",
                          object_type="policy", object_id=f"{policy.vehicle_code}/v"
                          f"{policy.version}", payload={
                              "as_of": as_of, "hash": result.policy_hash,
                              "findings": len(result.findings), "blocking": result.blocking,
                              "opened": [list(b.key) for b in update.opened],
                              "closed": [list(b.key) for b in update.closed]})
        return CheckOutcome(result, update.opened, update.closed, update.still_open)

    def breaches(self, vehicle: str | None = None, *, open_only: bool = True
                 ) -> list[BreachRecord]:
        with self._units(write=False) as uow:
            if open_only:
                return uow.policies.list_open_breaches(vehicle)
            return uow.policies.list_breaches(vehicle)

    def dry_run(self, policy: InvestmentPolicy, start: date, end: date
                ) -> list[PolicyCheck]:
        """What ``policy`` would have found on each valuation day in ``[start, end]``
        (actual snapshots of those days; nothing is written)."""
        if end < start:
            raise InvalidInput(f"--to {end} is before --from {start}", field="to")
        days = get_calendar(CalendarName.KZ_VALUATION).sessions(start, end)
        if not days:
            raise InvalidInput(f"no valuation day between {start} and {end}", field="from")
        inputs = self._inputs.load(end)
        results = []
        for day in days:
            snapshot = self._valuation.snapshot(day)
            day_inputs = replace(inputs, snapshot=snapshot)
            results.append(evaluate(policy, self.context(policy, snapshot, day_inputs, day)))
        return results

    def context(self, policy: InvestmentPolicy, snapshot: PortfolioSnapshot,
                inputs: RiskInputs, as_of: date) -> PolicyContext:
        """What the rules of ``policy`` read on ``snapshot`` (actual or hypothetical), with
        the managers' look-through at ``as_of`` when this service has a source for it."""
        return policy_context(policy, snapshot, inputs, as_of, self._seen_through(as_of))

    def _seen_through(self, as_of: date) -> Mapping[str, LookThroughShares] | None:
        return None if self._look_through is None else self._look_through(as_of)

    def load_inputs(self, as_of: date, *, also: Sequence[str] = ()) -> RiskInputs:
        """Risk inputs at ``as_of``, with the history of ``also`` (instruments an order
        would add) loaded too."""
        defaults = HistorySettings()
        return self._inputs.load(as_of, replace(
            defaults, extra_factors=(*defaults.extra_factors, *also)))

    def _parse(self, record: PolicyVersionRecord) -> InvestmentPolicy:
        parsed = self._parser(record.source_text, fmt=record.format,
                              source=f"{record.vehicle_code}/v{record.version}")
        return replace(parsed, version=record.version)


def _version(uow: UnitOfWork, vehicle: str, version: int) -> PolicyVersionRecord:
    record = uow.policies.find_version(vehicle, version)
    if record is None:
        raise NotFound(f"no policy version {vehicle} v{version}", field="version")
    return record


def _breach(record: BreachRecord) -> Breach:
    return Breach(record.vehicle_code, record.rule, record.subject, record.opened_on,
                  record.closed_on, Severity(record.severity), record.measured,
                  record.limit_text, record.message)


__all__ = ["CheckOutcome", "PolicyParser", "PolicyService"]
