"""Sizing: the largest sleeve inside the policy's range that keeps every risk budget.

A size ``S`` is the sleeve's total value in USD after funding; the money added,
``A = S - existing_sleeve_usd``, is invested in the candidate mix and comes out of the
reserve's USD cash, which has no P&L, so total reserves stay constant and every share below
is of the same ``total_reserves_usd``. Per historical scenario ``t``::

    sleeve_pnl(S)_t  = existing_sleeve_pnl_t + A * mix_unit_pnl_t
    reserve_pnl(S)_t = reserve_pnl_t + sleeve_pnl(S)_t     (reserve_pnl: all but the sleeve)

Budgets, each a *use* (<= 1 keeps it):

* ``cvar``: historical CVaR of ``sleeve_pnl(S)`` at the rules' level (the risk engine's
  convention, :func:`qoima.risk.measures.historical_tail`) / the limit's USD cap;
* ``stress``: the worst listed scenario's loss ``existing_loss_s + A * unit_loss_s`` / cap;
* ``incremental_var``: ``VaR(reserve_pnl(S)) - VaR(reserve_pnl(existing))`` / cap;
* ``liquidity``: ``min_share / achievable share``, the achievable share being what can be
  sold within ``within_days`` trading days at ``adv_participation`` x ADV a day, over ``S``
  (unknown ADV: nothing sellable);
* ``share_of_reserves``: ``S`` / (max_share x total reserves).

CVaR and stress losses are convex in ``A``, the achievable liquidity share is
quasi-concave, so each alone holds on one interval of sizes; incremental VaR need not be
monotone. The search therefore evaluates every budget on a grid (the curve's rows, a dense
grid and the closed-form crossings of the linear budgets), takes the largest feasible grid
point and bisects towards the next, infeasible one, to a cent; a closed-form crossing
within that cent replaces the bisection's figure, so linear budgets give their exact size.
The binding budgets are those breached a cent above the recommendation. Only a feasible
island of incremental VaR narrower than the grid spacing (range / 200) could be missed.
A minimum that breaches a budget is reported (``breached_at_minimum`` and a warning), and
the search still returns the largest feasible size above it, if any.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from qoima.allocation.sizing_inputs import (
    INCREMENTAL_VAR,
    Budget,
    BudgetKind,
    SizingBudgets,
    SizingInputs,
    budgets_from_policy,
)
from qoima.domain.enums import Severity
from qoima.domain.errors import InvalidInput
from qoima.domain.findings import Finding
from qoima.risk.checks import FloatArray, check_window
from qoima.risk.measures import historical_tail, minimum_observations
from qoima.risk.provenance import Provenance, array_hash

__all__ = [
    "INCREMENTAL_VAR", "INFEASIBLE_AT_MINIMUM", "RANGE_MAXIMUM", "UNKNOWN_ADV", "Budget",
    "BudgetBoundary", "BudgetKind", "BudgetUse", "SizingBudgets", "SizingInputs",
    "SizingResult", "SizingRow", "SizingStatus", "budgets_from_policy", "size_sleeve"]

RANGE_MAXIMUM = "range maximum"
INFEASIBLE_AT_MINIMUM = "allocation.sizing_infeasible_at_minimum"
UNKNOWN_ADV = "allocation.unknown_adv"
_TOLERANCE = 1e-12  # relative slack on a use of 1 (float rounding of exact crossings)
_CENT = 0.01
_DENSE_POINTS = 201


class SizingStatus(StrEnum):
    SIZED = "sized"  # a size in the range keeps every budget
    INFEASIBLE = "infeasible"  # none does; the message names the budgets breached


@dataclass(frozen=True, slots=True)
class BudgetUse:
    """A budget at one size: ``value`` (USD; the achievable share for liquidity), ``cap``
    and ``use`` (value / cap; min_share / share for liquidity; inf if nothing sells)."""

    name: str
    kind: BudgetKind
    value: float
    cap: float
    use: float


@dataclass(frozen=True, slots=True)
class SizingRow:
    size_usd: float
    uses: tuple[BudgetUse, ...]
    feasible: bool


@dataclass(frozen=True, slots=True)
class BudgetBoundary:
    """The largest size in the range that ``name`` alone allows (None: none)."""

    name: str
    max_size_usd: float | None


@dataclass(frozen=True, slots=True)
class SizingResult:
    """The recommendation (None when INFEASIBLE), why it stops there, each budget's own
    largest size, the curve, and the searched range ``[min_usd, max_usd]`` (the minimum
    raised to the existing sleeve's value)."""

    status: SizingStatus
    recommended_usd: float | None
    binding: tuple[str, ...]  # budget names, or (RANGE_MAXIMUM,)
    message: str
    breached_at_minimum: tuple[str, ...]
    boundaries: tuple[BudgetBoundary, ...]
    curve: tuple[SizingRow, ...]
    min_usd: float
    max_usd: float
    level: float
    provenance: Provenance

    @property
    def feasible_at_minimum(self) -> bool:
        return not self.breached_at_minimum


Evaluator = Callable[[FloatArray], tuple[FloatArray, FloatArray]]  # sizes -> (values, uses)


def _ratio(value: FloatArray, cap: float) -> FloatArray:
    if cap > 0:
        return value / cap
    return np.where(value > 0, math.inf, 0.0)


class _Model:
    """Every budget's (value, use) as vectorized functions of the size."""

    def __init__(self, inputs: SizingInputs, budgets: SizingBudgets) -> None:
        self.inputs, self.budgets, self.level = inputs, budgets, budgets.level
        self.base = float(inputs.existing_sleeve_usd)
        self.existing: FloatArray = np.asarray(inputs.existing_sleeve_pnl)
        self.mix = inputs.mix_unit_pnl
        self.warnings: list[Finding] = []
        self.evaluators: dict[str, Evaluator] = {}
        self.crossings: list[float] = []
        for budget in budgets.budgets:
            self.evaluators[budget.name] = getattr(self, f"_{budget.kind.value}")(budget)

    def added(self, sizes: FloatArray) -> FloatArray:
        return sizes - self.base

    def _cvar(self, budget: Budget) -> Evaluator:
        if not self.existing.any():
            unit = float(historical_tail(self.mix[:, None], self.level)[1][0])
            if unit > 0:
                self.crossings.append(self.base + budget.cap / unit)

        def evaluate(sizes: FloatArray) -> tuple[FloatArray, FloatArray]:
            pnl = self.existing[:, None] + self.mix[:, None] * self.added(sizes)[None, :]
            cvar = historical_tail(pnl, self.level)[1]
            return cvar, _ratio(cvar, budget.cap)
        return evaluate

    def _stress(self, budget: Budget) -> Evaluator:
        given = self.inputs.stress_unit_loss
        names = budget.scenarios or tuple(sorted(given))
        missing = [s for s in names if s not in given]
        if not names or missing:
            raise InvalidInput(f"limit {budget.name}: no stress loss given for scenario(s) "
                               f"{', '.join(missing) or '(none given)'}",
                               field="stress_unit_loss")
        unit = np.array([given[s] for s in names])
        held = np.array([self.inputs.existing_stress_loss_usd.get(s, 0.0) for s in names])
        self.crossings += [self.base + (budget.cap - e) / u
                           for e, u in zip(held, unit, strict=True) if u != 0]

        def evaluate(sizes: FloatArray) -> tuple[FloatArray, FloatArray]:
            worst = (held[:, None] + unit[:, None] * self.added(sizes)[None, :]).max(axis=0)
            return worst, _ratio(worst, budget.cap)
        return evaluate

    def _incremental_var(self, budget: Budget) -> Evaluator:
        if self.inputs.reserve_pnl is None:
            raise InvalidInput(f"budget {budget.name} needs the rest of the reserve's P&L",
                               field="reserve_pnl")
        base = self.inputs.reserve_pnl + self.existing
        var_base = float(historical_tail(base[:, None], self.level)[0][0])

        def evaluate(sizes: FloatArray) -> tuple[FloatArray, FloatArray]:
            pnl = base[:, None] + self.mix[:, None] * self.added(sizes)[None, :]
            added = historical_tail(pnl, self.level)[0] - var_base
            return added, _ratio(added, budget.cap)
        return evaluate

    def _liquidity(self, budget: Budget) -> Evaluator:
        inputs = self.inputs
        unknown = sorted(c for c in inputs.weights if inputs.adv_usd.get(c) is None)
        if unknown:
            self.warnings.append(Finding(
                UNKNOWN_ADV, Severity.WARNING, ", ".join(unknown),
                f"ADV unknown for {', '.join(unknown)}: counted as not sellable within "
                f"{budget.within_days} days (limit {budget.name})"))
        codes = sorted(inputs.weights)
        weights = np.array([inputs.weights[c] for c in codes])
        capacity = np.array([budget.within_days * budget.adv_participation
                             * (inputs.adv_usd.get(c) or 0.0) for c in codes])
        held = inputs.existing_sellable_usd or 0.0

        def evaluate(sizes: FloatArray) -> tuple[FloatArray, FloatArray]:
            added = self.added(sizes)
            sellable = held + np.minimum(weights[:, None] * added[None, :],
                                         capacity[:, None]).sum(axis=0)
            share = np.divide(sellable, sizes, out=np.ones_like(sizes), where=sizes > 0)
            share = np.minimum(share, 1.0)
            use = np.divide(budget.cap, share, out=np.full_like(sizes, math.inf),
                            where=share > 0)
            return share, np.where(budget.cap == 0, 0.0, use)
        return evaluate

    def _share_of_reserves(self, budget: Budget) -> Evaluator:
        self.crossings.append(budget.cap)

        def evaluate(sizes: FloatArray) -> tuple[FloatArray, FloatArray]:
            return sizes, _ratio(sizes, budget.cap)
        return evaluate

    def uses(self, sizes: FloatArray) -> dict[str, tuple[FloatArray, FloatArray]]:
        return {name: fn(sizes) for name, fn in self.evaluators.items()}

    def feasible(self, sizes: FloatArray, names: tuple[str, ...]) -> FloatArray:
        ok = np.ones(sizes.shape, dtype=bool)
        for name in names:
            ok &= self.evaluators[name](sizes)[1] <= 1.0 + _TOLERANCE
        return ok


def _curve_sizes(low: float, high: float, step: float) -> FloatArray:
    count = math.floor((high - low) / step + 1e-9)
    sizes = low + step * np.arange(count + 1)
    return np.unique(np.append(sizes[sizes < high], high))


def _largest(model: _Model, grid: FloatArray, names: tuple[str, ...]
             ) -> tuple[float | None, float | None]:
    """The largest feasible size for ``names`` and the infeasible size just above it (None
    at the range maximum): largest feasible grid point, then bisection to a cent."""
    ok = model.feasible(grid, names)
    if not ok.any():
        return None, None
    index = int(np.flatnonzero(ok)[-1])
    if index == grid.size - 1:
        return float(grid[-1]), None
    low, high = float(grid[index]), float(grid[index + 1])
    while high - low > _CENT:
        middle = 0.5 * (low + high)
        if model.feasible(np.array([middle]), names)[0]:
            low = middle
        else:
            high = middle
    # an exact closed-form crossing within the last cent replaces the bisection's figure
    exact = [c for c in model.crossings if low - _CENT <= c < high]
    exact = [c for c, ok in zip(exact, model.feasible(np.array(exact), names), strict=True)
             if ok]
    return (float(max(exact)) if exact else low), high


def size_sleeve(inputs: SizingInputs, budgets: SizingBudgets, *,
                grid_step_usd: float | None = None) -> SizingResult:
    """The largest size in ``[budgets.min_usd, budgets.max_usd]`` keeping every budget,
    the binding budget(s) and the curve (a row every ``grid_step_usd``, default the rules'
    step, from the minimum to the maximum). Sizes below the existing sleeve are skipped.
    An infeasible range is a result (status INFEASIBLE and a message), not an error.
    """
    step = float(budgets.step_usd if grid_step_usd is None else grid_step_usd)
    if not step > 0 or not math.isfinite(step):
        raise InvalidInput(f"grid step must be above 0, got {grid_step_usd!r}",
                           field="grid_step_usd")
    check_window(inputs.mix_unit_pnl, minimum=minimum_observations(budgets.level),
                 what="mix_unit_pnl", allow_constant=True)
    if inputs.existing_sleeve_usd > budgets.max_usd:
        raise InvalidInput(f"the sleeve already holds USD {inputs.existing_sleeve_usd:,.0f}, "
                           f"above the range maximum USD {budgets.max_usd:,.0f}",
                           field="existing_sleeve_usd")
    low, high = max(budgets.min_usd, inputs.existing_sleeve_usd), budgets.max_usd
    model = _Model(inputs, budgets)
    curve_sizes = _curve_sizes(low, high, step)
    extra = [c for c in model.crossings if low <= c <= high]
    grid = np.unique(np.concatenate([curve_sizes, np.linspace(low, high, _DENSE_POINTS),
                                     np.asarray(extra, dtype=np.float64)]))
    names = tuple(model.evaluators)
    best, above = _largest(model, grid, names)
    boundaries = tuple(BudgetBoundary(n, _largest(model, grid, (n,))[0]) for n in names)
    at_min = model.uses(np.array([low]))
    breached = tuple(n for n in names if at_min[n][1][0] > 1.0 + _TOLERANCE)
    warnings = list(model.warnings)
    reasons = [_explain(b, at_min[b.name], inputs.total_reserves_usd, budgets.level)
               for b in budgets.budgets if b.name in breached]
    if breached:
        text = f"at the policy minimum of {_usd(low)} " + "; ".join(reasons)
        warnings.append(Finding(INFEASIBLE_AT_MINIMUM, Severity.WARNING, "sizing", text,
                                measured=", ".join(breached)))
    if best is None:
        status, binding = SizingStatus.INFEASIBLE, breached
        message = f"no size in the range keeps every budget: at the policy minimum of " \
                  f"{_usd(low)} " + "; ".join(reasons)
    else:
        status = SizingStatus.SIZED
        if above is None:
            binding = (RANGE_MAXIMUM,)
        else:
            over = model.uses(np.array([above]))
            binding = tuple(n for n in names if over[n][1][0] > 1.0 + _TOLERANCE)
        message = f"recommended size {_usd(best)}, bound by " + ", ".join(binding)
    rows = _rows(model, curve_sizes, budgets)
    return SizingResult(
        status=status, recommended_usd=best, binding=binding, message=message,
        breached_at_minimum=breached, boundaries=boundaries, curve=rows,
        min_usd=low, max_usd=high, level=budgets.level,
        provenance=_provenance(inputs, budgets, step, tuple(warnings)))


def _rows(model: _Model, sizes: FloatArray, budgets: SizingBudgets) -> tuple[SizingRow, ...]:
    figures = model.uses(sizes)
    rows = []
    for k, size in enumerate(sizes):
        uses = tuple(BudgetUse(b.name, b.kind, float(figures[b.name][0][k]), b.cap,
                               float(figures[b.name][1][k])) for b in budgets.budgets)
        rows.append(SizingRow(float(size), uses,
                              all(u.use <= 1.0 + _TOLERANCE for u in uses)))
    return tuple(rows)


def _usd(value: float) -> str:
    if abs(value) >= 1e6:
        return f"USD {value / 1e6:,.2f}".rstrip("0").rstrip(".") + "M"
    return f"USD {value:,.0f}"


def _pct(share: float) -> str:
    return f"{share * 100:.3g} %"


def _explain(budget: Budget, figures: tuple[FloatArray, FloatArray], total: float,
             level: float) -> str:
    value, cap, name = float(figures[0][0]), budget.cap, budget.name
    if budget.kind is BudgetKind.LIQUIDITY:
        return (f"only {_pct(value)} of the sleeve can be sold within {budget.within_days} "
                f"trading days at {_pct(budget.adv_participation)} of ADV, below the "
                f"{_pct(cap)} minimum of limit {name}")
    what = {BudgetKind.CVAR: f"the sleeve's 1-day {_pct(level)} CVaR is",
            BudgetKind.STRESS: "the sleeve's worst listed stress loss is",
            BudgetKind.INCREMENTAL_VAR: f"the reserve's 1-day {_pct(level)} VaR rises by",
            BudgetKind.SHARE_OF_RESERVES: "the sleeve is"}[budget.kind]
    owner = "the sizing rules" if name == INCREMENTAL_VAR else f"limit {name}"
    return (f"{what} {_pct(value / total)} of reserves ({_usd(value)}), above the "
            f"{_pct(cap / total)} budget ({_usd(cap)}) of {owner}")


def _or_nan(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _provenance(inputs: SizingInputs, budgets: SizingBudgets, step: float,
                warnings: tuple[Finding, ...]) -> Provenance:
    codes = sorted(inputs.weights)
    stress = sorted(inputs.stress_unit_loss.items())
    held = sorted(inputs.existing_stress_loss_usd.items())
    digest = array_hash(
        inputs.mix_unit_pnl, np.asarray(inputs.existing_sleeve_pnl),
        [] if inputs.reserve_pnl is None else inputs.reserve_pnl,
        [inputs.weights[c] for c in codes],
        [_or_nan(inputs.adv_usd.get(c)) for c in codes],
        [v for _, v in stress], [v for _, v in held],
        [inputs.total_reserves_usd, inputs.existing_sleeve_usd,
         _or_nan(inputs.existing_sellable_usd)])
    parameters = {
        "level": budgets.level, "min_usd": budgets.min_usd, "max_usd": budgets.max_usd,
        "range_limit": budgets.range_limit, "step_usd": step, "instruments": codes,
        "stress_scenarios": [s for s, _ in stress],
        "budgets": [{"name": b.name, "kind": b.kind.value, "cap": b.cap,
                     "scenarios": list(b.scenarios), "within_days": b.within_days,
                     "adv_participation": b.adv_participation} for b in budgets.budgets]}
    return Provenance(method="allocation.sizing", inputs_hash=digest, parameters=parameters,
                      warnings=warnings)
