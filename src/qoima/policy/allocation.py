"""Allocation rules of a policy: the stability gate, the sizing budgets and the tranche steps.

"Wait for the dust to settle" is only a rule if it is written down before the market moves,
so the gate lives in the policy: versioned, hashed and approved like any limit. Each signal
reads one series and passes when its value is within the declared bounds; the gate says GO
when every required signal passes. Shares and thresholds are ``Decimal`` fractions
(0.8 = 80 % annualized volatility); money is exact USD.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from qoima.domain.errors import InvalidInput

ZERO = Decimal(0)
ONE = Decimal(1)
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


class GateSignalKind(StrEnum):
    REALIZED_VOLATILITY = "realized_volatility"  # annualized stdev of window_days returns
    GARCH_VOLATILITY = "garch_volatility"  # GARCH(1,1) one-day-ahead vol, annualized
    REGIME = "regime"  # the risk engine's regime label on the as-of date
    DRAWDOWN = "drawdown"  # 1 - close / highest close over lookback_days
    DAYS_SINCE_LOW = "days_since_low"  # calendar days since the lowest close in lookback
    LEVEL = "level"  # the last close itself (VIX)
    CHANGE = "change"  # close / close window_days observations earlier - 1 (DXY spike)
    FLOWS = "flows"  # sum over window_days (ETF net flows, USD)


class MissingData(StrEnum):
    """What a signal without data does: make the gate wait (strict) or stand aside."""

    WAIT = "wait"
    IGNORE = "ignore"


def _check_id(value: str, what: str) -> None:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise InvalidInput(f"{what} id {value!r} must be 1-64 letters, digits, dashes or "
                           "underscores", field="id")


@dataclass(frozen=True, slots=True)
class GateSignal:
    """One signal of the gate; it passes when ``min_value <= value <= max_value`` and the
    value is at or below its own ``max_percentile`` over the lookback (each bound optional),
    or, for ``regime``, when the label is not in ``block_labels``."""

    id: str
    signal: GateSignalKind
    series: str = "BTC"
    window_days: int = 30
    lookback_days: int = 365
    max_value: Decimal | None = None
    min_value: Decimal | None = None
    max_percentile: Decimal | None = None
    block_labels: tuple[str, ...] = ()
    required: bool = True
    when_missing: MissingData = MissingData.WAIT
    annualization: int = 365

    def __post_init__(self) -> None:
        _check_id(self.id, "gate signal")
        try:
            object.__setattr__(self, "signal", GateSignalKind(self.signal))
            object.__setattr__(self, "when_missing", MissingData(self.when_missing))
        except ValueError as error:
            raise InvalidInput(f"gate signal {self.id}: {error}", field="signal") from None
        if not self.series.strip():
            raise InvalidInput(f"gate signal {self.id}: name the series it reads",
                               field="series")
        for name in ("window_days", "lookback_days", "annualization"):
            if getattr(self, name) < 1:
                raise InvalidInput(f"gate signal {self.id}: {name} must be >= 1",
                                   field=name)
        if self.signal is GateSignalKind.REALIZED_VOLATILITY and self.window_days < 2:
            raise InvalidInput(f"gate signal {self.id}: window_days must be >= 2",
                               field="window_days")
        if (self.max_value is not None and self.min_value is not None
                and self.min_value > self.max_value):
            raise InvalidInput(f"gate signal {self.id}: min_value {self.min_value} is above "
                               f"max_value {self.max_value}", field="min_value")
        if self.max_percentile is not None and not ZERO < self.max_percentile <= ONE:
            raise InvalidInput(f"gate signal {self.id}: max_percentile must be above 0 and "
                               "at most 100 %", field="max_percentile")
        object.__setattr__(self, "block_labels", tuple(sorted(set(self.block_labels))))
        if self.signal is GateSignalKind.REGIME:
            if not self.block_labels:
                raise InvalidInput(f"gate signal {self.id}: a regime signal needs "
                                   "block_labels", field="block_labels")
        elif self.max_value is None and self.min_value is None and self.max_percentile is None:
            raise InvalidInput(f"gate signal {self.id}: give max_value, min_value or "
                               "max_percentile", field="max_value")


@dataclass(frozen=True, slots=True)
class StabilityGate:
    """The signals, and how many consecutive passing observations a GO needs."""

    signals: tuple[GateSignal, ...]
    confirm_days: int = 1

    def __post_init__(self) -> None:
        if not self.signals:
            raise InvalidInput("a stability gate needs at least one signal", field="signals")
        ids = [s.id for s in self.signals]
        if len(set(ids)) != len(ids):
            raise InvalidInput("a gate signal id is used twice", field="signals")
        if not any(s.required for s in self.signals):
            raise InvalidInput("a stability gate needs at least one required signal",
                               field="signals")
        if self.confirm_days < 1:
            raise InvalidInput("confirm_days must be >= 1", field="confirm_days")

    def find_signal(self, signal_id: str) -> GateSignal | None:
        return next((s for s in self.signals if s.id == signal_id), None)


@dataclass(frozen=True, slots=True)
class SizingRules:
    """Budgets the sizing adds to the policy's limits: the whole reserve's incremental VaR
    (a share of total reserves), the confidence level and the step of the sizing curve."""

    incremental_var_max_share: Decimal | None = None
    level: Decimal = Decimal("0.99")
    step_usd: Decimal = Decimal(10_000_000)

    def __post_init__(self) -> None:
        if self.incremental_var_max_share is not None and not (
                ZERO < self.incremental_var_max_share <= ONE):
            raise InvalidInput("incremental_var_max_share must be above 0 and at most 100 %",
                               field="incremental_var_max_share")
        if not Decimal("0.5") <= self.level < ONE:
            raise InvalidInput(f"level must be in [0.5, 1), got {self.level}", field="level")
        if self.step_usd <= 0:
            raise InvalidInput("step_usd must be above 0", field="step_usd")


@dataclass(frozen=True, slots=True)
class TrancheStep:
    """A tranche: the cumulative amount deployed after it (a floor and a ceiling)."""

    id: str
    up_to_usd: Decimal
    min_usd: Decimal | None = None
    requires_gate: bool = True

    def __post_init__(self) -> None:
        _check_id(self.id, "tranche")
        if self.up_to_usd <= 0:
            raise InvalidInput(f"tranche {self.id}: up_to_usd must be above 0",
                               field="up_to_usd")
        if self.min_usd is not None and not ZERO <= self.min_usd <= self.up_to_usd:
            raise InvalidInput(f"tranche {self.id}: min_usd {self.min_usd} must be between 0 "
                               f"and up_to_usd {self.up_to_usd}", field="min_usd")


@dataclass(frozen=True, slots=True)
class TrancheRules:
    """Steps, the share of ADV bought a day, the days between tranches, and the most
    sessions a tranche may take (the mix is capped so each instrument can be bought in
    time: a plan that takes years to execute is not a plan)."""

    steps: tuple[TrancheStep, ...]
    adv_participation: Decimal = Decimal("0.1")
    min_days_between: int = 0
    max_sessions: int | None = None

    def __post_init__(self) -> None:
        if not self.steps:
            raise InvalidInput("tranches need at least one step", field="steps")
        ids = [s.id for s in self.steps]
        if len(set(ids)) != len(ids):
            raise InvalidInput("a tranche id is used twice", field="steps")
        for before, after in zip(self.steps, self.steps[1:], strict=False):
            if after.up_to_usd <= before.up_to_usd:
                raise InvalidInput(f"tranche {after.id}: up_to_usd {after.up_to_usd} must be "
                                   f"above {before.id}'s {before.up_to_usd} (targets are "
                                   "cumulative)", field="up_to_usd")
        if not ZERO < self.adv_participation <= ONE:
            raise InvalidInput("adv_participation must be above 0 and at most 100 %",
                               field="adv_participation")
        if self.min_days_between < 0:
            raise InvalidInput("min_days_between must be >= 0", field="min_days_between")
        if self.max_sessions is not None and self.max_sessions < 1:
            raise InvalidInput("max_sessions must be >= 1", field="max_sessions")


@dataclass(frozen=True, slots=True)
class AllocationRules:
    gate: StabilityGate | None = None
    sizing: SizingRules = field(default_factory=SizingRules)
    tranches: TrancheRules | None = None


#: The gate used when a policy declares none (see ``examples/policies/fx-sleeve.yaml``).
DEFAULT_GATE = StabilityGate(signals=(
    GateSignal("btc-volatility", GateSignalKind.REALIZED_VOLATILITY, "BTC", window_days=30,
               max_value=Decimal("0.80")),
    GateSignal("btc-drawdown", GateSignalKind.DRAWDOWN, "BTC", lookback_days=365,
               max_value=Decimal("0.35")),
    GateSignal("btc-new-low", GateSignalKind.DAYS_SINCE_LOW, "BTC", lookback_days=90,
               min_value=Decimal(30)),
    GateSignal("vix", GateSignalKind.LEVEL, "VIX", max_value=Decimal(30),
               when_missing=MissingData.IGNORE),
    GateSignal("dollar-spike", GateSignalKind.CHANGE, "DXY", window_days=20,
               max_value=Decimal("0.04"), when_missing=MissingData.IGNORE),
    GateSignal("btc-garch", GateSignalKind.GARCH_VOLATILITY, "BTC", lookback_days=730,
               max_value=Decimal("0.90"), required=False, when_missing=MissingData.IGNORE),
))

DEFAULT_ALLOCATION = AllocationRules()
