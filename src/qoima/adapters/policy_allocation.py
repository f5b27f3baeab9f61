"""The ``allocation`` section of a policy file: stability gate, sizing budgets, tranches::

    allocation:
      gate:
        confirm_days: 3
        signals:
          - {id: btc-volatility, signal: realized_volatility, series: BTC, window_days: 30,
             max_value: 80%}
          - {id: btc-new-low, signal: days_since_low, series: BTC, lookback_days: 90,
             min_value: 30}
          - {id: vix, signal: level, series: VIX, max_value: 30, when_missing: ignore}
      sizing: {incremental_var_max_share: 0.25%, level: 99%, step_usd: 10_000_000}
      tranches:
        adv_participation: 10%
        min_days_between: 20
        steps:
          - {id: t1, min_usd: 50_000_000, up_to_usd: 250_000_000}
          - {id: t2, up_to_usd: 300_000_000}

Thresholds may be written as percentages (``80%``) or plain numbers (``0.8``, ``30``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from qoima.adapters.fields import parse_amount, parse_enum
from qoima.adapters.located_yaml import Mapping, as_list, as_mapping
from qoima.adapters.policy_fields import Parser, built, integer, share, text, usd, words
from qoima.domain.errors import InvalidInput
from qoima.policy.allocation import (
    AllocationRules,
    GateSignal,
    GateSignalKind,
    MissingData,
    SizingRules,
    StabilityGate,
    TrancheRules,
    TrancheStep,
)

_TRUE, _FALSE = {"true", "yes", "on"}, {"false", "no", "off"}


def _number(m: Mapping, key: str) -> Decimal:
    """A plain number or a percentage (``80%`` is 0.8)."""
    raw = text(m, key).strip()
    percent = raw.endswith("%")
    value = parse_amount(raw.removesuffix("%").strip(), origin=m.origin(key), field=key)
    assert value is not None
    return value / 100 if percent else value


def _flag(m: Mapping, key: str) -> bool:
    word = text(m, key).strip().lower()
    if word in _TRUE | _FALSE:
        return word in _TRUE
    raise InvalidInput(f"{key} must be true or false, got {word!r}", origin=m.origin(key),
                       field=key)


def _labels(m: Mapping, key: str) -> tuple[str, ...]:
    return words(m, key)


_SIGNAL_FIELDS: dict[str, Parser] = {
    "series": text, "window_days": integer, "lookback_days": integer, "max_value": _number,
    "min_value": _number, "max_percentile": share, "block_labels": _labels,
    "required": _flag, "annualization": integer,
    "when_missing": lambda m, key: parse_enum(MissingData, text(m, key), origin=m.origin(key),
                                              field=key),
}


def _signal(m: Mapping) -> GateSignal:
    m.check_keys({"id", "signal", *_SIGNAL_FIELDS})
    kind = parse_enum(GateSignalKind, m.string("signal"), origin=m.origin("signal"),
                      field="signal")
    signal_id = text(m, "id")
    values = {key: parse(m, key) for key, parse in _SIGNAL_FIELDS.items() if key in m.values}
    result: GateSignal = built(lambda: GateSignal(signal_id, kind, **values), m,
                               {"signal_kind": "signal"})
    return result


def _gate(m: Mapping) -> StabilityGate:
    m.check_keys({"signals", "confirm_days"})
    raw = as_list(m.get("signals"), what="signals", origin=m.origin("signals"))
    signals = [_signal(as_mapping(item, what="gate signal", origin=m.origin("signals")))
               for item in raw]
    confirm = integer(m, "confirm_days") if "confirm_days" in m.values else 1
    gate: StabilityGate = built(lambda: StabilityGate(tuple(signals), confirm), m)
    return gate


def _sizing(m: Mapping) -> SizingRules:
    fields: dict[str, Parser] = {"incremental_var_max_share": share, "level": share,
                                 "step_usd": usd}
    m.check_keys(set(fields))
    values = {key: parse(m, key) for key, parse in fields.items() if key in m.values}
    rules: SizingRules = built(lambda: SizingRules(**values), m)
    return rules


def _step(m: Mapping) -> TrancheStep:
    fields: dict[str, Parser] = {"up_to_usd": usd, "min_usd": usd, "requires_gate": _flag}
    m.check_keys({"id", *fields})
    step_id = text(m, "id")
    values = {key: parse(m, key) for key, parse in fields.items() if key in m.values}
    if "up_to_usd" not in values:
        raise InvalidInput(f"tranche {step_id}: missing required field 'up_to_usd'",
                           origin=m.origin(), field="up_to_usd")
    step: TrancheStep = built(lambda: TrancheStep(step_id, **values), m)
    return step


def _tranches(m: Mapping) -> TrancheRules:
    m.check_keys({"steps", "adv_participation", "min_days_between", "max_sessions"})
    raw = as_list(m.get("steps"), what="steps", origin=m.origin("steps"))
    items = [as_mapping(item, what="tranche", origin=m.origin("steps")) for item in raw]
    steps = [_step(item) for item in items]
    for before, after, item in zip(steps, steps[1:], items[1:], strict=False):
        if after.up_to_usd <= before.up_to_usd:  # checked here to point at the line
            raise InvalidInput(f"tranche {after.id}: up_to_usd {after.up_to_usd} must be above "
                               f"{before.id}'s {before.up_to_usd} (targets are cumulative)",
                               origin=item.origin("up_to_usd"), field="up_to_usd")
    values: dict[str, Any] = {}
    if "adv_participation" in m.values:
        values["adv_participation"] = share(m, "adv_participation")
    for key in ("min_days_between", "max_sessions"):
        if key in m.values:
            values[key] = integer(m, key)
    rules: TrancheRules = built(lambda: TrancheRules(tuple(steps), **values), m)
    return rules


def parse_allocation(m: Mapping) -> AllocationRules:
    """The allocation rules of a policy's ``allocation`` mapping."""
    m.check_keys({"gate", "sizing", "tranches"})
    gate = _gate(as_mapping(m.get("gate"), what="gate", origin=m.origin("gate"))) \
        if "gate" in m.values else None
    sizing = _sizing(as_mapping(m.get("sizing"), what="sizing", origin=m.origin("sizing"))) \
        if "sizing" in m.values else SizingRules()
    tranches = _tranches(as_mapping(m.get("tranches"), what="tranches",
                                    origin=m.origin("tranches"))) \
        if "tranches" in m.values else None
    return AllocationRules(gate, sizing, tranches)
