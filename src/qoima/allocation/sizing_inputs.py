"""What the sizing reads: the budgets a policy sets and the scenario inputs of a mix.

Caps are floats in USD (the minimum share for liquidity) taken from the policy's exact
``Decimal`` limits; the sizing maths is on floats (see :mod:`qoima.allocation.sizing`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

import numpy as np

from qoima.domain.errors import InvalidInput
from qoima.policy.allocation import SizingRules
from qoima.policy.model import (
    InvestmentPolicy,
    Liquidity,
    RiskCvar,
    ShareOfReserves,
    SizeRange,
    StressLoss,
)
from qoima.risk.checks import FloatArray, check_level

INCREMENTAL_VAR = "sizing.incremental_var"  # no dot in limit ids: never collides
_WEIGHT_TOLERANCE = 1e-6

class BudgetKind(StrEnum):
    CVAR = "cvar"
    STRESS = "stress"
    INCREMENTAL_VAR = "incremental_var"
    LIQUIDITY = "liquidity"
    SHARE_OF_RESERVES = "share_of_reserves"



@dataclass(frozen=True, slots=True)
class Budget:
    """One budget. ``cap`` is USD, or the minimum share for liquidity; ``name`` is the
    policy limit id (or :data:`INCREMENTAL_VAR`)."""

    name: str
    kind: BudgetKind
    cap: float
    scenarios: tuple[str, ...] = ()  # stress: those listed (empty: every one given)
    within_days: int = 0  # liquidity
    adv_participation: float = 0.0  # liquidity


@dataclass(frozen=True, slots=True)
class SizingBudgets:
    """The range ``[min_usd, max_usd]`` (from ``range_limit``) and the budgets to keep."""

    min_usd: float
    max_usd: float
    level: float
    budgets: tuple[Budget, ...]
    step_usd: float = 10_000_000.0
    range_limit: str | None = None

    def __post_init__(self) -> None:
        check_level(self.level)
        if not 0.0 <= self.min_usd <= self.max_usd or not math.isfinite(self.max_usd):
            raise InvalidInput(f"sizing range minimum USD {self.min_usd:,.2f} is above its "
                               f"maximum USD {self.max_usd:,.2f} (or not finite/negative)",
                               field="min_usd")
        names = [b.name for b in self.budgets]
        if len(set(names)) != len(names):
            raise InvalidInput("a sizing budget name is used twice", field="budgets")


def _caps(max_usd: Decimal | None, max_share: Decimal | None, total: float) -> float:
    caps = [float(max_usd)] if max_usd is not None else []
    if max_share is not None:
        caps.append(float(max_share) * total)
    return min(caps)


def budgets_from_policy(policy: InvestmentPolicy, rules: SizingRules,
                        total_reserves_usd: Decimal | float) -> SizingBudgets:
    """The range and budgets a policy sets: SizeRange (tightest), ShareOfReserves, RiskCvar,
    StressLoss, Liquidity limits and the rules' incremental VaR share, caps in USD.

    Without a SizeRange the range is ``[0, total_reserves_usd]``.
    """
    total = float(total_reserves_usd)
    if not total > 0 or not math.isfinite(total):
        raise InvalidInput(f"total reserves must be above 0, got {total_reserves_usd}",
                           field="total_reserves_usd")
    low, high, range_limit = 0.0, total, None
    budgets: list[Budget] = []
    for limit in policy.limits:
        if isinstance(limit, SizeRange):
            if limit.min_usd is not None and float(limit.min_usd) >= low:
                low = float(limit.min_usd)
            if limit.max_usd is not None and float(limit.max_usd) <= high:
                high, range_limit = float(limit.max_usd), limit.id
        elif isinstance(limit, ShareOfReserves):
            budgets.append(Budget(limit.id, BudgetKind.SHARE_OF_RESERVES,
                                  float(limit.max_share) * total))
        elif isinstance(limit, RiskCvar):
            budgets.append(Budget(limit.id, BudgetKind.CVAR,
                                  _caps(limit.max_usd, limit.max_share, total)))
        elif isinstance(limit, StressLoss):
            budgets.append(Budget(limit.id, BudgetKind.STRESS,
                                  _caps(limit.max_usd, limit.max_share, total),
                                  scenarios=limit.scenarios))
        elif isinstance(limit, Liquidity):
            budgets.append(Budget(limit.id, BudgetKind.LIQUIDITY, float(limit.min_share),
                                  within_days=limit.within_days,
                                  adv_participation=float(limit.adv_participation)))
    if rules.incremental_var_max_share is not None:
        budgets.append(Budget(INCREMENTAL_VAR, BudgetKind.INCREMENTAL_VAR,
                              float(rules.incremental_var_max_share) * total))
    if low > high:
        raise InvalidInput(f"policy {policy.vehicle_code} v{policy.version}: size range "
                           f"minimum USD {low:,.0f} is above the maximum USD {high:,.0f}",
                           field="min_usd")
    return SizingBudgets(low, high, float(rules.level), tuple(budgets),
                         step_usd=float(rules.step_usd), range_limit=range_limit)


def _vector(values: object, what: str, n: int | None) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or (n is not None and array.shape[0] != n):
        raise InvalidInput(f"{what} must be 1-D" + (f" of length {n}" if n else "")
                           + f", got shape {array.shape}", field=what)
    if not np.isfinite(array).all():
        raise InvalidInput(f"{what}: NaN or infinite value at position "
                           f"{int(np.flatnonzero(~np.isfinite(array))[0])}", field=what)
    return array


@dataclass(frozen=True, slots=True, eq=False)
class SizingInputs:
    """What the sizing needs, all in USD or per USD 1 of the mix (module docstring).

    ``mix_unit_pnl`` (T,): P&L per USD 1 in the mix per scenario; ``existing_sleeve_pnl`` and
    ``reserve_pnl`` (T,) USD on the same scenarios (None: zeros / no incremental VaR);
    ``stress_unit_loss``: loss (positive) per USD 1 of the mix per scenario name;
    ``existing_stress_loss_usd``: the existing sleeve's loss per scenario (missing: 0);
    ``weights`` (summing to 1) and ``adv_usd`` per instrument of the mix (None: unknown);
    ``existing_sellable_usd``: USD of the existing sleeve sellable within the liquidity
    limit's days (None: nothing, prudently).
    """

    mix_unit_pnl: FloatArray
    total_reserves_usd: float
    weights: Mapping[str, float]
    adv_usd: Mapping[str, float | None] = field(default_factory=dict)
    stress_unit_loss: Mapping[str, float] = field(default_factory=dict)
    existing_sleeve_usd: float = 0.0
    existing_sleeve_pnl: FloatArray | None = None
    existing_stress_loss_usd: Mapping[str, float] = field(default_factory=dict)
    existing_sellable_usd: float | None = None
    reserve_pnl: FloatArray | None = None

    def __post_init__(self) -> None:
        mix = _vector(self.mix_unit_pnl, "mix_unit_pnl", None)
        n = mix.shape[0]
        existing = (np.zeros(n) if self.existing_sleeve_pnl is None
                    else _vector(self.existing_sleeve_pnl, "existing_sleeve_pnl", n))
        object.__setattr__(self, "mix_unit_pnl", mix)
        object.__setattr__(self, "existing_sleeve_pnl", existing)
        if self.reserve_pnl is not None:
            object.__setattr__(self, "reserve_pnl", _vector(self.reserve_pnl, "reserve_pnl", n))
        for name in ("total_reserves_usd", "existing_sleeve_usd"):
            value = float(getattr(self, name))
            if not math.isfinite(value) or value < 0 or (name == "total_reserves_usd"
                                                          and value == 0):
                raise InvalidInput(f"{name} must be finite and above 0, got {value!r}",
                                   field=name)
        weights = self.weights
        if not weights or any(not math.isfinite(w) or w < 0 for w in weights.values()):
            raise InvalidInput("the mix needs weights, finite and >= 0", field="weights")
        total = math.fsum(weights.values())
        if abs(total - 1.0) > _WEIGHT_TOLERANCE:
            raise InvalidInput(f"the mix's weights sum to {total:.8g}, not 1", field="weights")
        for code, adv in self.adv_usd.items():
            if code not in weights:
                raise InvalidInput(f"ADV given for {code}, which is not in the mix",
                                   field="adv_usd")
            if adv is not None and (not math.isfinite(adv) or adv < 0):
                raise InvalidInput(f"ADV of {code} must be >= 0, got {adv!r}", field="adv_usd")
        for what in ("stress_unit_loss", "existing_stress_loss_usd"):
            for name, loss in getattr(self, what).items():
                if not math.isfinite(loss):
                    raise InvalidInput(f"{what}: scenario {name} is not finite", field=what)
        sellable = self.existing_sellable_usd
        if sellable is not None and not 0 <= sellable <= self.existing_sleeve_usd:
            raise InvalidInput("existing_sellable_usd must be between 0 and the existing "
                               "sleeve's value", field="existing_sellable_usd")

