"""Tranche plans: the target split into the policy's steps, each bought in daily slices.

Cumulative targets. Step ``k`` brings the sleeve to ``c_k = min(target, up_to_k)``; the plan
stops at the first step that reaches the target, which may not exceed the last step's
``up_to_usd``, and a step that the target reaches only partly must still meet its floor
``min_usd`` (a "50-250M" first tranche cannot be 30M). Money already deployed counts
against the targets (steps it covers are left out) and is taken to follow the weights.

Per tranche and instrument, the allotment is the instrument's share of the cumulative
target less what earlier tranches spend on it, cut to cents; the quantity is rounded down to
whole lots, so its cost never exceeds the allotment, and the rounding remainder rolls into
the next tranche: over the plan each instrument falls short of its share by less than one
lot. Each order is bought at most ``adv_participation`` x ADV a session (rounded down to
lots; at least one lot, with a warning, when one lot is more than that); unknown ADV gives
one slice and a warning. Dates are the earliest possible: the first tranche from ``start``,
each later one from the first session ``max(min_days_between, 1)`` calendar days after the
previous one ends, as if the gate said GO throughout.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum

from qoima.domain.canonical import content_hash
from qoima.domain.enums import Severity
from qoima.domain.errors import InvalidInput
from qoima.domain.findings import Finding
from qoima.policy.allocation import TrancheRules
from qoima.risk.provenance import Provenance

CENT = Decimal("0.01")
ZERO = Decimal(0)
UNKNOWN_ADV = "allocation.unknown_adv"
ADV_BELOW_ONE_LOT = "allocation.adv_below_one_lot"
NOTHING_TO_DEPLOY = "allocation.nothing_to_deploy"
_MAX_SEARCH_DAYS = 3_660  # a session calendar with no session in ten years is broken
_WEIGHT_TOLERANCE = 1e-9

Sessions = Callable[[date], bool] | Sequence[date]


class TrancheStatus(StrEnum):
    PLANNED = "planned"  # waits for an earlier tranche to start or finish
    RELEASED = "released"  # may be executed now
    IN_PROGRESS = "in_progress"
    EXECUTED = "executed"
    BLOCKED = "blocked"  # next in line, held back: see the reason


@dataclass(frozen=True, slots=True)
class Slice:
    day: int  # 1-based session number within the tranche
    date: date  # earliest possible
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class TrancheOrder:
    """One instrument in one tranche: USD allotment (cents), lots bought, cost at the plan
    price, the session cap (None: ADV unknown) and the slices."""

    instrument: str
    weight: float
    price_usd: Decimal
    lot_size: Decimal
    amount_usd: Decimal
    quantity: Decimal
    cost_usd: Decimal
    daily_max_quantity: Decimal | None
    slices: tuple[Slice, ...]

    @property
    def days(self) -> int:
        return len(self.slices)


@dataclass(frozen=True, slots=True)
class Tranche:
    id: str
    cumulative_target_usd: Decimal
    amount_usd: Decimal  # c_k - max(c_{k-1}, deployed)
    requires_gate: bool
    orders: tuple[TrancheOrder, ...]
    earliest_start: date
    earliest_end: date
    days: int  # sessions from the first to the last slice

    @property
    def cost_usd(self) -> Decimal:
        return sum((o.cost_usd for o in self.orders), ZERO)

    @property
    def lot_value_usd(self) -> Decimal:
        """One lot of every instrument at the plan price: the rounding tolerance."""
        return sum((o.lot_size * o.price_usd for o in self.orders), ZERO)


@dataclass(frozen=True, slots=True)
class TranchePlan:
    target_usd: Decimal
    deployed_usd: Decimal
    adv_participation: Decimal
    min_days_between: int
    tranches: tuple[Tranche, ...]
    provenance: Provenance

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return self.provenance.warnings

    def find_tranche(self, tranche_id: str) -> Tranche | None:
        return next((t for t in self.tranches if t.id == tranche_id), None)


class _Calendar:
    """The first session on or after a day, from a predicate or a list of sessions."""

    def __init__(self, sessions: Sessions) -> None:
        self.days: list[date] | None = None
        self.test: Callable[[date], bool] | None = None
        if callable(sessions):
            self.test = sessions
        else:
            self.days = sorted(set(sessions))

    def on_or_after(self, day: date) -> date:
        if self.days is not None:
            index = bisect.bisect_left(self.days, day)
            if index == len(self.days):
                last = self.days[-1] if self.days else None
                raise InvalidInput(f"the session list ends on {last}, before the schedule "
                                   f"needs a session on or after {day}", field="sessions")
            return self.days[index]
        assert self.test is not None
        for offset in range(_MAX_SEARCH_DAYS):
            candidate = day + timedelta(days=offset)
            if self.test(candidate):
                return candidate
        raise InvalidInput(f"no session within {_MAX_SEARCH_DAYS} days after {day}",
                           field="sessions")

    def run(self, start: date, count: int) -> list[date]:
        days, day = [], start
        for _ in range(count):
            day = self.on_or_after(day)
            days.append(day)
            day += timedelta(days=1)
        return days


def _cumulative_targets(rules: TrancheRules, target: Decimal, deployed: Decimal
                        ) -> list[tuple[int, Decimal, Decimal]]:
    """(step index, cumulative target, amount) of each step still to deploy."""
    last = rules.steps[-1]
    if target > last.up_to_usd:
        raise InvalidInput(f"target USD {target:,f} is above the last tranche's cap "
                           f"({last.id}: up to USD {last.up_to_usd:,f})", field="target_usd")
    out, previous = [], ZERO
    for index, step in enumerate(rules.steps):
        cumulative = min(target, step.up_to_usd)
        if step.min_usd is not None and cumulative < step.min_usd:
            raise InvalidInput(f"target USD {target:,f} stops inside tranche {step.id}, below "
                               f"its floor of USD {step.min_usd:,f}", field="target_usd")
        start = max(previous, deployed)
        if cumulative > start:
            out.append((index, cumulative, cumulative - start))
        previous = cumulative
        if cumulative == target:
            break
    return out


def _check(weights: Mapping[str, float], prices_usd: Mapping[str, Decimal],
           lot_sizes: Mapping[str, Decimal], adv_usd: Mapping[str, float | None],
           target: Decimal, deployed: Decimal) -> None:
    if not target > 0:
        raise InvalidInput(f"target must be above 0, got {target}", field="target_usd")
    if deployed < 0:
        raise InvalidInput(f"deployed must be >= 0, got {deployed}", field="deployed_usd")
    if not weights or any(not math.isfinite(w) or w < 0 for w in weights.values()):
        raise InvalidInput("the plan needs weights, finite and >= 0", field="weights")
    total = math.fsum(weights.values())
    if abs(total - 1.0) > _WEIGHT_TOLERANCE:
        raise InvalidInput(f"weights sum to {total:.10g}, not 1", field="weights")
    for code, weight in weights.items():
        if weight == 0:
            continue
        price, lot = prices_usd.get(code), lot_sizes.get(code)
        if price is None or not price > 0:
            raise InvalidInput(f"{code}: price must be given and above 0, got {price}",
                               field="prices_usd")
        if lot is None or not lot > 0:
            raise InvalidInput(f"{code}: lot size must be given and above 0, got {lot}",
                               field="lot_sizes")
        adv = adv_usd.get(code)
        if adv is not None and (not math.isfinite(adv) or adv < 0):
            raise InvalidInput(f"{code}: ADV must be >= 0, got {adv!r}", field="adv_usd")


def _lots(amount: Decimal, price: Decimal, lot: Decimal) -> Decimal:
    return (amount / price / lot).to_integral_value(rounding=ROUND_DOWN) * lot


def plan_tranches(rules: TrancheRules, *, target_usd: Decimal, deployed_usd: Decimal,
                  weights: Mapping[str, float], prices_usd: Mapping[str, Decimal],
                  lot_sizes: Mapping[str, Decimal], adv_usd: Mapping[str, float | None],
                  start: date, sessions: Sessions) -> TranchePlan:
    """Tranches, orders and earliest daily slices for deploying ``target_usd`` (module doc).

    ``weights`` per instrument sum to 1; ``prices_usd`` and ``lot_sizes`` are needed for
    every weighted instrument; ``adv_usd`` (USD a day, None or missing: unknown);
    ``sessions``: a predicate (``Calendar.is_session``) or the list of session dates.
    """
    _check(weights, prices_usd, lot_sizes, adv_usd, target_usd, deployed_usd)
    calendar = _Calendar(sessions)
    codes = sorted(c for c, w in weights.items() if w > 0)
    share = {c: Decimal(repr(float(weights[c]))) for c in codes}
    spent = {c: deployed_usd * share[c] for c in codes}
    warnings: list[Finding] = []
    if deployed_usd >= target_usd:
        warnings.append(Finding(NOTHING_TO_DEPLOY, Severity.INFO, "plan",
                                f"USD {deployed_usd:,f} already deployed, at or above the "
                                f"target USD {target_usd:,f}"))
    caps = {c: _session_cap(c, rules.adv_participation, prices_usd[c], lot_sizes[c],
                            adv_usd.get(c), warnings) for c in codes}
    tranches, begin = [], start
    for index, cumulative, amount in _cumulative_targets(rules, target_usd, deployed_usd):
        step = rules.steps[index]
        first = calendar.on_or_after(begin)
        orders = []
        for code in codes:
            allotment = (cumulative * share[code] - spent[code]).quantize(CENT, ROUND_DOWN)
            allotment = max(allotment, ZERO)
            quantity = _lots(allotment, prices_usd[code], lot_sizes[code])
            cost = quantity * prices_usd[code]
            spent[code] += cost
            orders.append(TrancheOrder(code, float(weights[code]), prices_usd[code],
                                       lot_sizes[code], allotment, quantity, cost, caps[code],
                                       _slices(quantity, caps[code], first, calendar)))
        days = max((o.days for o in orders), default=0)
        end = max((o.slices[-1].date for o in orders if o.slices), default=first)
        tranches.append(Tranche(step.id, cumulative, amount, step.requires_gate, tuple(orders),
                                first, end, days))
        begin = end + timedelta(days=max(rules.min_days_between, 1))
    parameters = {"steps": [(s.id, s.up_to_usd, s.min_usd, s.requires_gate)
                            for s in rules.steps],
                  "adv_participation": rules.adv_participation,
                  "min_days_between": rules.min_days_between, "start": start}
    inputs = {"target_usd": target_usd, "deployed_usd": deployed_usd,
              "weights": {c: repr(float(w)) for c, w in sorted(weights.items())},
              "prices_usd": {c: prices_usd[c] for c in codes},
              "lot_sizes": {c: lot_sizes[c] for c in codes},
              "adv_usd": {c: None if adv_usd.get(c) is None else repr(adv_usd[c])
                          for c in codes}, **parameters}
    return TranchePlan(target_usd, deployed_usd, rules.adv_participation,
                       rules.min_days_between, tuple(tranches),
                       Provenance(method="allocation.tranche_plan",
                                  inputs_hash=content_hash(inputs),
                                  parameters=_text(parameters), warnings=tuple(warnings)))


def _text(parameters: dict[str, object]) -> dict[str, object]:
    """Decimals and dates as text: provenance parameters hash as canonical JSON."""
    def plain(value: object) -> object:
        if isinstance(value, Decimal | date):
            return str(value)
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value
    return {k: plain(v) for k, v in parameters.items()}


def _session_cap(code: str, participation: Decimal, price: Decimal, lot: Decimal,
                 adv: float | None, warnings: list[Finding]) -> Decimal | None:
    if adv is None:
        warnings.append(Finding(UNKNOWN_ADV, Severity.WARNING, code,
                                f"{code}: ADV unknown, its orders are planned as one slice"))
        return None
    cap = _lots(participation * Decimal(repr(float(adv))), price, lot)
    if cap == 0:
        warnings.append(Finding(
            ADV_BELOW_ONE_LOT, Severity.WARNING, code,
            f"{code}: {participation:%} of ADV USD {adv:,.0f} is less than one lot "
            f"({lot} at USD {price}); planned at one lot a session", limit=str(participation)))
        return lot
    return cap


def _slices(quantity: Decimal, cap: Decimal | None, first: date, calendar: _Calendar
            ) -> tuple[Slice, ...]:
    if quantity == 0:
        return ()
    if cap is None:
        return (Slice(1, first, quantity),)
    full, rest = divmod(quantity, cap)
    sizes = [cap] * int(full) + ([rest] if rest else [])
    days = calendar.run(first, len(sizes))
    return tuple(Slice(k + 1, day, size)
                 for k, (day, size) in enumerate(zip(days, sizes, strict=True)))


@dataclass(frozen=True, slots=True)
class TrancheState:
    tranche_id: str
    status: TrancheStatus
    executed_usd: Decimal
    remaining_usd: Decimal
    reason: str = ""
    earliest_release: date | None = None


def tranche_status(plan: TranchePlan, *, executed_usd_by_tranche: Mapping[str, Decimal],
                   gate_go: bool, as_of: date, last_execution_dates: Mapping[str, date],
                   tolerance_share: Decimal = Decimal("0.005")) -> tuple[TrancheState, ...]:
    """Each tranche's state on ``as_of``.

    EXECUTED when its executions reach its amount less a tolerance (one lot per instrument
    or ``tolerance_share`` of the amount, whichever is larger); IN_PROGRESS when partly
    executed; the next tranche in line is RELEASED when the gate says GO (or the step does
    not require it), the previous tranche is executed and ``min_days_between`` calendar days
    have passed since its last execution, BLOCKED otherwise (the reason says why); later
    ones are PLANNED, or BLOCKED while the previous tranche is in progress.
    """
    ids = {t.id for t in plan.tranches}
    for name, mapping in (("executed_usd_by_tranche", executed_usd_by_tranche),
                          ("last_execution_dates", last_execution_dates)):
        unknown = sorted(set(mapping) - ids)
        if unknown:
            raise InvalidInput(f"{name}: no tranche {', '.join(unknown)} in the plan",
                               field=name)
    states: list[TrancheState] = []
    for tranche in plan.tranches:
        executed = executed_usd_by_tranche.get(tranche.id, ZERO)
        if executed < 0:
            raise InvalidInput(f"tranche {tranche.id}: executed USD {executed} is negative",
                               field="executed_usd_by_tranche")
        remaining = max(tranche.amount_usd - executed, ZERO)
        previous = states[-1] if states else None
        status, reason, earliest = _state(plan, tranche, executed, previous, gate_go, as_of,
                                          last_execution_dates, tolerance_share)
        states.append(TrancheState(tranche.id, status, executed, remaining, reason, earliest))
    return tuple(states)


def _state(plan: TranchePlan, tranche: Tranche, executed: Decimal,
           previous: TrancheState | None, gate_go: bool, as_of: date,
           last_dates: Mapping[str, date], tolerance_share: Decimal
           ) -> tuple[TrancheStatus, str, date | None]:
    amount = tranche.amount_usd
    tolerance = max(tranche.lot_value_usd, tolerance_share * amount)
    waiting = tranche.requires_gate and not gate_go
    if executed >= amount - tolerance:
        return TrancheStatus.EXECUTED, "", None
    if executed > 0:
        note = "; the gate says WAIT" if waiting else ""
        return TrancheStatus.IN_PROGRESS, f"USD {executed:,f} of {amount:,f} executed{note}", None
    if previous is not None and previous.status is not TrancheStatus.EXECUTED:
        if previous.status is TrancheStatus.IN_PROGRESS:
            return (TrancheStatus.BLOCKED, f"tranche {previous.tranche_id} not yet executed "
                                           f"(USD {previous.remaining_usd:,f} to go)", None)
        return TrancheStatus.PLANNED, f"after tranche {previous.tranche_id}", None
    reasons, earliest = [], None
    if waiting:
        reasons.append("waiting for the gate (WAIT)")
    if previous is not None and plan.min_days_between > 0:
        last = last_dates.get(previous.tranche_id)
        if last is None:
            reasons.append(f"last execution date of tranche {previous.tranche_id} unknown")
        else:
            earliest = last + timedelta(days=plan.min_days_between)
            if as_of < earliest:
                reasons.append(f"{plan.min_days_between} days must pass after tranche "
                               f"{previous.tranche_id} (last executed {last}): not before "
                               f"{earliest}")
    if reasons:
        return TrancheStatus.BLOCKED, "; ".join(reasons), earliest
    return TrancheStatus.RELEASED, "", earliest
