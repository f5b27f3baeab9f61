"""The policy's allocation section: parsed with lines, hashed with the policy, compared for
loosening, and older policies keep their hashes."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from qoima.adapters.policy_files import parse_policy, read_policy
from qoima.domain.errors import InvalidInput
from qoima.policy.allocation import (
    DEFAULT_GATE,
    GateSignal,
    GateSignalKind,
    MissingData,
    StabilityGate,
    TrancheRules,
    TrancheStep,
)
from qoima.policy.changes import loosened

D = Decimal
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "policies"
HEADER = """\
vehicle: da-sleeve
version: 1
name: Sleeve
effective_from: "2026-01-01"
change_delay_days: 30
limits:
  - {id: size, kind: size_range, min_usd: 50_000_000, max_usd: 300_000_000}
"""


def parse(body: str) -> object:
    return parse_policy(HEADER + textwrap.dedent(body), fmt="yaml", source="p.yaml")


def error_of(body: str) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        parse(body)
    return caught.value


def test_the_sleeve_example_declares_the_default_gate_and_two_tranches() -> None:
    policy = read_policy(EXAMPLES / "fx-sleeve.yaml")
    rules = policy.allocation_rules
    assert policy.gate == DEFAULT_GATE
    assert rules.sizing.incremental_var_max_share == D("0.0005")
    assert rules.sizing.level == D("0.99")
    assert rules.tranches == TrancheRules(
        (TrancheStep("t1", D(250_000_000), D(50_000_000)), TrancheStep("t2", D(300_000_000))),
        adv_participation=D("0.1"), min_days_between=20, max_sessions=20)
    vol = policy.gate.find_signal("btc-volatility")
    assert vol is not None and vol.max_value == D("0.8") and vol.window_days == 30
    garch = policy.gate.find_signal("btc-garch")
    assert garch is not None and not garch.required
    assert garch.when_missing is MissingData.IGNORE


def test_a_policy_without_allocation_keeps_its_hash_and_uses_the_defaults() -> None:
    plain = parse("")
    assert plain.allocation is None
    assert "allocation" not in plain.canonical_form()
    assert plain.gate is DEFAULT_GATE
    with_rules = parse("allocation:\n  sizing: {level: 95%}\n")
    assert with_rules.content_hash != plain.content_hash
    assert with_rules.allocation_rules.sizing.level == D("0.95")


def test_yaml_and_toml_allocation_sections_hash_alike() -> None:
    toml = textwrap.dedent("""\
        vehicle = "da-sleeve"
        version = 1
        name = "Sleeve"
        effective_from = "2026-01-01"
        change_delay_days = 30
        [[limits]]
        id = "size"
        kind = "size_range"
        min_usd = 50_000_000
        max_usd = 300_000_000
        [allocation.gate]
        confirm_days = 2
        [[allocation.gate.signals]]
        id = "vol"
        signal = "realized_volatility"
        max_value = "80%"
        [[allocation.tranches.steps]]
        id = "t1"
        up_to_usd = 100_000_000
        """)
    yaml = parse("""\
        allocation:
          gate:
            confirm_days: 2
            signals:
              - {id: vol, signal: realized_volatility, max_value: 0.8}
          tranches:
            steps:
              - {id: t1, up_to_usd: 100_000_000}
        """)
    from_toml = parse_policy(toml, fmt="toml")
    assert from_toml.content_hash == yaml.content_hash
    assert from_toml.gate.confirm_days == 2


@pytest.mark.parametrize(("body", "line", "field", "words"), [
    ("allocation:\n  gate:\n    signals:\n      - {id: v, signal: volatility, max_value: 1}\n",
     11, "signal", "'volatility' is not one of"),
    ("allocation:\n  gate:\n    signals:\n      - {id: v, signal: drawdown}\n",
     11, "max_value", "give max_value, min_value or max_percentile"),
    ("allocation:\n  gate:\n    signals:\n"
     "      - {id: v, signal: level, series: VIX, min_value: 40, max_value: 30}\n",
     11, "min_value", "min_value 40 is above max_value 30"),
    ("allocation:\n  gate:\n    signals:\n"
     "      - {id: r, signal: regime, required: maybe}\n",
     11, "required", "must be true or false"),
    ("allocation:\n  tranches:\n    steps:\n      - {id: t1, up_to_usd: 200}\n"
     "      - {id: t2, up_to_usd: 100}\n", 12, "up_to_usd", "must be above t1's 200"),
    ("allocation:\n  sizing: {level: 40%}\n", 9, "level", "level must be in [0.5, 1)"),
    ("allocation:\n  sizing: {budget: 1}\n", 9, "budget", "unknown field 'budget'"),
])
def test_bad_allocation_rules_name_line_and_field(body: str, line: int, field: str,
                                                  words: str) -> None:
    error = error_of(body)
    assert error.origin is not None
    assert (error.origin.line, error.field) == (line, field), str(error)
    assert words in str(error)


def test_a_gate_needs_a_required_signal_and_unique_ids() -> None:
    signal = GateSignal("v", GateSignalKind.LEVEL, "VIX", max_value=D(30), required=False)
    with pytest.raises(InvalidInput, match="at least one required signal"):
        StabilityGate((signal,))
    twice = replace(signal, required=True)
    with pytest.raises(InvalidInput, match="used twice"):
        StabilityGate((twice, twice))


def test_loosening_the_gate_waits_and_tightening_does_not() -> None:
    base = read_policy(EXAMPLES / "fx-sleeve.yaml")
    rules = base.allocation_rules
    assert rules.gate is not None
    signals = list(rules.gate.signals)
    looser_vol = replace(signals[0], max_value=D("0.95"))
    looser = replace(base, version=2, allocation=replace(
        rules, gate=replace(rules.gate, signals=(looser_vol, *signals[1:]))))
    assert loosened(base, looser) == [
        "gate: signal btc-volatility max_value raised from 0.8 to 0.95"]
    tighter = replace(base, version=2, allocation=replace(
        rules, gate=replace(rules.gate, signals=(replace(signals[0], max_value=D("0.6")),
                                                 *signals[1:]), confirm_days=3)))
    assert loosened(base, tighter) == []
    dropped = replace(base, version=2, allocation=replace(
        rules, gate=replace(rules.gate, signals=tuple(signals[1:]))))
    assert loosened(base, dropped) == ["gate: signal btc-volatility removed"]
    assert rules.tranches is not None
    faster = replace(base, version=2, allocation=replace(
        rules, tranches=replace(rules.tranches, adv_participation=D("0.25"))))
    assert loosened(base, faster) == [
        "tranches: adv_participation raised from 0.1 to 0.25"]
    no_gate = replace(base, version=2, allocation=replace(rules, tranches=replace(
        rules.tranches, steps=(replace(rules.tranches.steps[0], requires_gate=False),
                               rules.tranches.steps[1]))))
    assert loosened(base, no_gate) == ["tranches: step t1 no longer waits for the gate"]
