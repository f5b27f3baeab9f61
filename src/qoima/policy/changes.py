"""Which limits a new policy version loosens, and so when it may take effect.

Tightening takes effect when approved; loosening anything (a higher max, a lower min, a new
allowed kind, a removed deny, a larger velocity, a removed limit, a weaker severity) waits
for the change delay of the policy in force, during which the committee can veto it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from qoima.domain.enums import Severity
from qoima.domain.errors import InvalidInput
from qoima.policy.allocation import (
    DEFAULT_GATE,
    AllocationRules,
    GateSignal,
    MissingData,
    StabilityGate,
)
from qoima.policy.model import (
    ACTION_STRENGTH,
    Concentration,
    Custody,
    DrawdownTrigger,
    Eligibility,
    InstrumentList,
    InvestmentPolicy,
    Limit,
    LimitKind,
    Liquidity,
    RiskCvar,
    ShareOfReserves,
    SizeRange,
    StressLoss,
)


def _cap(name: str, old: Decimal | int | None, new: Decimal | int | None) -> list[str]:
    """A maximum (None: no maximum) that went up or away."""
    if old is None or (new is not None and new <= old):
        return []
    return [f"{name} raised from {old} to {'no limit' if new is None else new}"]


def _floor(name: str, old: Decimal | int | None, new: Decimal | int | None) -> list[str]:
    """A minimum (None: no minimum) that went down or away."""
    if old is None or (new is not None and new >= old):
        return []
    return [f"{name} lowered from {old} to {'no limit' if new is None else new}"]


def _widened(name: str, old: tuple[Any, ...], new: tuple[Any, ...],
             empty_means_any: bool) -> list[str]:
    """An allow list that gained members (or was emptied, where empty allows anything)."""
    if empty_means_any and not old:
        return []
    if empty_means_any and not new:
        return [f"{name} restriction removed"]
    added = sorted(str(v) for v in set(new) - set(old))
    return [f"{name} now also allows {', '.join(added)}"] if added else []


def _severity(old: Severity, new: Severity, name: str = "severity") -> list[str]:
    if old is Severity.BLOCKING and new is not Severity.BLOCKING:
        return [f"{name} weakened from {old} to {new}"]
    return []


def _size(old: SizeRange, new: SizeRange) -> list[str]:
    return (_cap("max_usd", old.max_usd, new.max_usd) + _floor("min_usd", old.min_usd,
                                                                new.min_usd)
            + _severity(old.below_min_severity, new.below_min_severity, "below_min_severity"))


def _share(old: ShareOfReserves, new: ShareOfReserves) -> list[str]:
    return _cap("max_share", old.max_share, new.max_share)


def _eligibility(old: Eligibility, new: Eligibility) -> list[str]:
    return (_widened("kinds", old.kinds, new.kinds, empty_means_any=False)
            + _widened("venues", old.venues, new.venues, empty_means_any=True)
            + _widened("custodians", old.custodians, new.custodians, empty_means_any=True))


def _instrument_list(old: InstrumentList, new: InstrumentList) -> list[str]:
    removed = sorted(set(old.deny) - set(new.deny))
    return (_widened("allow", old.allow, new.allow, empty_means_any=True)
            + ([f"deny no longer lists {', '.join(removed)}"] if removed else []))


def _concentration(old: Concentration, new: Concentration) -> list[str]:
    if old.basis != new.basis:
        return [f"basis changed from {old.basis} to {new.basis}"]
    result = _cap("max_share", old.max_share, new.max_share) + _cap("max_usd", old.max_usd,
                                                                    new.max_usd)
    keys = sorted({k for k, _ in old.overrides} | {k for k, _ in new.overrides})
    for key in keys:
        result += _cap(f"max_share for {key}", old.share_limit(key), new.share_limit(key))
    return result


def _liquidity(old: Liquidity, new: Liquidity) -> list[str]:
    return (_floor("min_share", old.min_share, new.min_share)
            + _cap("within_days", old.within_days, new.within_days)
            + _cap("adv_participation", old.adv_participation, new.adv_participation))


def _risk(old: RiskCvar, new: RiskCvar) -> list[str]:
    return _cap("max_usd", old.max_usd, new.max_usd) + _cap("max_share", old.max_share,
                                                            new.max_share)


def _stress(old: StressLoss, new: StressLoss) -> list[str]:
    result = _cap("max_usd", old.max_usd, new.max_usd) + _cap("max_share", old.max_share,
                                                              new.max_share)
    dropped = sorted(set(old.scenarios) - set(new.scenarios)) if new.scenarios else []
    if dropped:  # an emptied list checks every scenario run: not looser
        result.append(f"scenarios no longer checked: {', '.join(dropped)}")
    return result


def _drawdown(old: DrawdownTrigger, new: DrawdownTrigger) -> list[str]:
    result = _cap("drawdown", old.drawdown, new.drawdown)
    if ACTION_STRENGTH[new.action] < ACTION_STRENGTH[old.action]:
        result.append(f"action weakened from {old.action} to {new.action}")
    return result


def _custody(old: Custody, new: Custody) -> list[str]:
    result = []
    old_chains = dict(old.destinations)
    for chain, addresses in new.destinations:
        added = sorted(set(addresses) - set(old_chains.get(chain, ())))
        if added:
            result.append(f"destinations on {chain} now also allow {', '.join(added)}")
    result += _cap("max_transfer_usd", old.max_transfer_usd, new.max_transfer_usd)
    for code, units in old.max_transfer_units:
        result += _cap(f"max_transfer_units for {code}", units, new.max_units(code))
    result += _cap("velocity_max_usd", old.velocity_max_usd, new.velocity_max_usd)
    result += _floor("velocity_window_days", old.velocity_window_days,
                     new.velocity_window_days)
    result += _floor("approval_quorum", old.approval_quorum, new.approval_quorum)
    return result


_COMPARE: dict[LimitKind, Callable[[Any, Any], list[str]]] = {
    LimitKind.SIZE_RANGE: _size,
    LimitKind.SHARE_OF_RESERVES: _share,
    LimitKind.ELIGIBILITY: _eligibility,
    LimitKind.INSTRUMENT_LIST: _instrument_list,
    LimitKind.CONCENTRATION: _concentration,
    LimitKind.LIQUIDITY: _liquidity,
    LimitKind.RISK_CVAR: _risk,
    LimitKind.STRESS_LOSS: _stress,
    LimitKind.DRAWDOWN_TRIGGER: _drawdown,
    LimitKind.CUSTODY: _custody,
}


def _limit_changes(old: Limit, new: Limit) -> list[str]:
    if old.kind is not new.kind:
        return [f"kind changed from {old.kind} to {new.kind}"]
    return _severity(old.severity, new.severity) + _COMPARE[old.kind](old, new)


def loosened(old: InvestmentPolicy, new: InvestmentPolicy) -> list[str]:
    """Every way ``new`` is looser than ``old``, one line each (empty: not looser)."""
    if old.vehicle_code != new.vehicle_code:
        raise InvalidInput(f"cannot compare policies of {old.vehicle_code} and "
                           f"{new.vehicle_code}", field="vehicle_code")
    result = [f"policy: {line}" for line in
              _floor("change_delay_days", old.change_delay_days, new.change_delay_days)]
    for limit in old.limits:
        replacement = new.find_limit(limit.id)
        if replacement is None:
            result.append(f"{limit.id}: limit removed")
        else:
            result += [f"{limit.id}: {line}" for line in _limit_changes(limit, replacement)]
    return result + allocation_loosened(old.allocation_rules, new.allocation_rules)


def _signal(old: GateSignal, new: GateSignal) -> list[str]:
    if (old.signal, old.series) != (new.signal, new.series):
        return [f"reads {new.signal} of {new.series} instead of {old.signal} of {old.series}"]
    result = (_cap("max_value", old.max_value, new.max_value)
              + _floor("min_value", old.min_value, new.min_value)
              + _cap("max_percentile", old.max_percentile, new.max_percentile))
    dropped = sorted(set(old.block_labels) - set(new.block_labels))
    if dropped:
        result.append(f"no longer blocks on {', '.join(dropped)}")
    if old.required and not new.required:
        result.append("no longer required")
    if old.when_missing is MissingData.WAIT and new.when_missing is MissingData.IGNORE:
        result.append("missing data no longer makes the gate wait")
    if (old.window_days, old.lookback_days, old.annualization) != (
            new.window_days, new.lookback_days, new.annualization):
        result.append("window, lookback or annualization changed")  # not obviously tighter
    return result


def _gate(old: StabilityGate, new: StabilityGate) -> list[str]:
    result = _floor("confirm_days", old.confirm_days, new.confirm_days)
    for signal in old.signals:
        replacement = new.find_signal(signal.id)
        if replacement is None:
            result.append(f"signal {signal.id} removed")
        else:
            result += [f"signal {signal.id} {line}" for line in _signal(signal, replacement)]
    return result


def allocation_loosened(old: AllocationRules, new: AllocationRules) -> list[str]:
    """Ways the new allocation rules let the sleeve grow sooner, larger or faster."""
    result = [f"gate: {line}" for line in _gate(old.gate or DEFAULT_GATE,
                                               new.gate or DEFAULT_GATE)]
    result += [f"sizing: {line}" for line in
               _cap("incremental_var_max_share", old.sizing.incremental_var_max_share,
                    new.sizing.incremental_var_max_share)
               + _floor("level", old.sizing.level, new.sizing.level)]
    if old.tranches is not None:
        if new.tranches is None:
            result.append("tranches: removed")
        else:
            result += [f"tranches: {line}" for line in _tranches(old, new)]
    return result


def _tranches(old_rules: AllocationRules, new_rules: AllocationRules) -> list[str]:
    old, new = old_rules.tranches, new_rules.tranches
    if old is None or new is None:
        return []
    result = (_cap("adv_participation", old.adv_participation, new.adv_participation)
              + _floor("min_days_between", old.min_days_between, new.min_days_between)
              + _cap("max_sessions", old.max_sessions, new.max_sessions))
    steps = {s.id: s for s in new.steps}
    for step in old.steps:
        found = steps.get(step.id)
        if found is None:
            result.append(f"step {step.id} removed")
            continue
        result += [f"step {step.id} {line}" for line in
                   _cap("up_to_usd", step.up_to_usd, found.up_to_usd)]
        if step.requires_gate and not found.requires_gate:
            result.append(f"step {step.id} no longer waits for the gate")
    return result


def takes_effect_on(current: InvestmentPolicy | None, proposed: InvestmentPolicy,
                    approved_on: date) -> date:
    """When an approved version applies: a loosening waits for the current delay."""
    start = max(proposed.effective_from, approved_on)
    if current is None or not loosened(current, proposed):
        return start
    return max(start, approved_on + timedelta(days=current.change_delay_days))
