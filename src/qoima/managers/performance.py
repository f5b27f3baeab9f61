"""Manager performance: time- and money-weighted returns, venture multiples, PME, risk.

Floats are fine here: these are measurements, not books. Every function refuses input on
which its figure is undefined (no sign change for an IRR, a constant series for a Sharpe)
with a clear error instead of returning NaN.

Conventions: returns are simple fractions per period; annualised figures use
``periods_per_year``; volatility and Sharpe use the sample standard deviation (ddof 1), as
empyrical does; drawdown is negative (-0.25 = 25 % below the peak). Investor cash flows are
signed as the investor sees them: contributions negative, distributions and the final NAV
positive.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise

import numpy as np
from scipy.optimize import brentq

from qoima.domain.errors import DegenerateSeries, InsufficientHistory, InvalidInput
from qoima.managers.model import INFLOW_KINDS, Statement

DAYS_PER_YEAR = 365.0


def _finite(values: Sequence[float], what: str, minimum: int = 1) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.size < minimum:
        raise InsufficientHistory(f"{what} needs at least {minimum} values, got {array.size}")
    if not np.all(np.isfinite(array)):
        raise DegenerateSeries(f"{what} contains a NaN or infinite value")
    return array


def modified_dietz(begin_value: float, end_value: float,
                  flows: Sequence[tuple[float, float]]) -> float:
    """Return of one period: ``(end - begin - sum F) / (begin + sum w F)``.

    ``flows``: (weight, amount into the fund), weight = share of the period the money was
    invested (1 at the start, 0 at the end).
    """
    net = sum(amount for _, amount in flows)
    capital = begin_value + sum(weight * amount for weight, amount in flows)
    if capital <= 0:
        raise DegenerateSeries(f"Modified Dietz is undefined: average capital is {capital}")
    return (end_value - begin_value - net) / capital


def flow_weight(period_start: date, period_end: date, on_date: date) -> float:
    """Share of the period a flow dated ``on_date`` (at the start of that day) is invested."""
    days = (period_end - period_start).days + 1
    return (days - (on_date - period_start).days) / days


def statement_return(statement: Statement) -> float:
    """Net-of-fee Modified Dietz return of one statement's period."""
    flows = [(flow_weight(statement.period_start, statement.period_end, f.on_date),
              float(f.into_fund)) for f in statement.flows]
    return modified_dietz(float(statement.opening_nav), float(statement.closing_nav), flows)


def _in_order(statements: Sequence[Statement]) -> list[Statement]:
    ordered = sorted(statements, key=lambda s: s.period_start)
    for before, after in pairwise(ordered):
        if after.period_start <= before.period_end:
            raise InvalidInput(f"statements of {after.manager_code} overlap: "
                               f"{before.period_start}..{before.period_end} and "
                               f"{after.period_start}..{after.period_end}")
    return ordered


@dataclass(frozen=True, slots=True)
class PeriodReturn:
    period_start: date
    period_end: date
    value: float


def statement_returns(statements: Sequence[Statement]) -> list[PeriodReturn]:
    """Modified Dietz return of each statement, in date order."""
    return [PeriodReturn(s.period_start, s.period_end, statement_return(s))
            for s in _in_order(statements)]


def link(returns: Sequence[float]) -> float:
    """Geometric chain of period returns: prod(1 + r) - 1."""
    return float(np.prod(1.0 + _finite(returns, "returns"))) - 1.0


def time_weighted_return(statements: Sequence[Statement]) -> float:
    """TWR over all statements: Modified Dietz per statement, chained."""
    return link([r.value for r in statement_returns(statements)])


def daily_time_weighted_return(values: Sequence[float], flows: Sequence[float]) -> float:
    """TWR from daily valuations: ``values[0]`` is the start; ``flows[t-1]`` arrives at the
    start of day t (into the fund positive), so day t returns values[t] / (values[t-1] +
    flows[t-1]) - 1."""
    v = _finite(values, "values", 2)
    f = _finite(flows, "flows", len(v) - 1)
    if f.size != v.size - 1:
        raise InvalidInput(f"need one flow per day after the first: {v.size - 1}, got {f.size}")
    base = v[:-1] + f
    if np.any(base <= 0):
        raise DegenerateSeries("a day starts with no capital invested")
    return float(np.prod(v[1:] / base)) - 1.0


def annualise(total_return: float, days: int) -> float:
    if days <= 0:
        raise InvalidInput("annualising needs a positive number of days")
    return float((1.0 + total_return) ** (DAYS_PER_YEAR / days) - 1.0)


def xnpv(rate: float, flows: Sequence[tuple[date, float]]) -> float:
    """Net present value at the first flow's date, actual/365 discounting."""
    start = min(d for d, _ in flows)
    return float(sum(amount / (1.0 + rate) ** ((d - start).days / DAYS_PER_YEAR)
                     for d, amount in flows))


def xirr(flows: Sequence[tuple[date, float]]) -> float:
    """Annual rate at which :func:`xnpv` is zero (Excel's XIRR).

    Needs both a negative and a positive flow; the root is searched between -99.99 % and
    widening upper bounds, so the answer is unique whenever the flows change sign once.
    """
    if not flows:
        raise InsufficientHistory("XIRR needs cash flows")
    amounts = _finite([a for _, a in flows], "cash flows")
    if not (np.any(amounts < 0) and np.any(amounts > 0)):
        raise InvalidInput("XIRR needs at least one negative (contribution) and one positive "
                           "(distribution or value) flow: the flows never change sign")
    low, high = -0.9999, 1.0
    while xnpv(high, flows) * xnpv(low, flows) > 0:
        high *= 4.0
        if high > 1e6:
            raise DegenerateSeries("XIRR has no root between -99.99 % and 1e8 %")
    return float(brentq(xnpv, low, high, args=(flows,), xtol=1e-12, maxiter=500))


def investor_flows(statements: Sequence[Statement],
                   include_opening: bool = True) -> list[tuple[date, float]]:
    """The investor's cash flows over ``statements`` plus the last closing NAV.

    The first opening NAV counts as a contribution on the first day when
    ``include_opening`` (the money was invested before the statements begin).
    """
    ordered = _in_order(statements)
    if not ordered:
        raise InsufficientHistory("no statements")
    flows: list[tuple[date, float]] = []
    if include_opening and ordered[0].opening_nav > 0:
        flows.append((ordered[0].period_start, -float(ordered[0].opening_nav)))
    for statement in ordered:
        flows.extend((f.on_date, -float(f.into_fund)) for f in statement.flows)
    flows.append((ordered[-1].period_end, float(ordered[-1].closing_nav)))
    return flows


@dataclass(frozen=True, slots=True)
class Multiples:
    """Venture multiples: TVPI = (distributed + residual) / paid-in = DPI + RVPI."""

    paid_in: float
    distributed: float
    residual: float

    def __post_init__(self) -> None:
        if self.paid_in <= 0:
            raise InvalidInput("multiples need paid-in capital above 0")

    @property
    def dpi(self) -> float:
        return self.distributed / self.paid_in

    @property
    def rvpi(self) -> float:
        return self.residual / self.paid_in

    @property
    def tvpi(self) -> float:
        return (self.distributed + self.residual) / self.paid_in


def statement_multiples(statements: Sequence[Statement]) -> Multiples:
    """Paid-in (calls and subscriptions, plus the first opening NAV), distributed
    (distributions and redemptions) and residual (last closing NAV)."""
    ordered = _in_order(statements)
    if not ordered:
        raise InsufficientHistory("no statements")
    paid = float(ordered[0].opening_nav)
    distributed = 0.0
    for flow in (f for s in ordered for f in s.flows):
        if flow.kind in INFLOW_KINDS:
            paid += float(flow.amount)
        else:
            distributed += float(flow.amount)
    return Multiples(paid, distributed, float(ordered[-1].closing_nav))


def level_on(levels: Mapping[date, float], on: date) -> float:
    """The benchmark's last level on or before ``on``."""
    days = sorted(levels)
    index = bisect_right(days, on)
    if index == 0:
        raise InsufficientHistory(f"no benchmark level on or before {on}")
    level = float(levels[days[index - 1]])
    if not math.isfinite(level) or level <= 0:
        raise DegenerateSeries(f"benchmark level on {days[index - 1]} is {level}")
    return level


def ks_pme(flows: Sequence[tuple[date, float]], residual: float, as_of: date,
           benchmark: Mapping[date, float]) -> float:
    """Kaplan-Schoar PME: distributions and residual over contributions, each carried to
    ``as_of`` by the benchmark: ``(sum D_t I_T/I_t + NAV_T) / sum C_t I_T/I_t``.

    ``flows`` are signed as the investor sees them (contributions negative); above 1 the
    manager beat the benchmark.
    """
    end_level = level_on(benchmark, as_of)
    paid = received = 0.0
    for on, amount in flows:
        if on > as_of:
            raise InvalidInput(f"flow on {on} is after the PME date {as_of}")
        grown = amount * end_level / level_on(benchmark, on)
        if amount < 0:
            paid -= grown
        else:
            received += grown
    if paid <= 0:
        raise InvalidInput("PME needs at least one contribution")
    return (received + residual) / paid


def benchmark_period_returns(periods: Sequence[PeriodReturn],
                             benchmark: Mapping[date, float]) -> list[float]:
    """The benchmark's return over each period: level at its end over the level at the
    end of the day before it starts."""
    return [level_on(benchmark, p.period_end)
            / level_on(benchmark, date.fromordinal(p.period_start.toordinal() - 1)) - 1.0
            for p in periods]


def volatility(returns: Sequence[float], periods_per_year: float) -> float:
    r = _finite(returns, "returns", 2)
    return float(np.std(r, ddof=1) * math.sqrt(periods_per_year))


def max_drawdown(returns: Sequence[float]) -> float:
    """Worst fall from a peak of the compounded series (starting at 1), as a negative."""
    wealth = np.concatenate(([1.0], np.cumprod(1.0 + _finite(returns, "returns"))))
    peaks = np.maximum.accumulate(wealth)
    return float(np.min(wealth / peaks - 1.0))


def sharpe_ratio(returns: Sequence[float], periods_per_year: float,
                 risk_free: float = 0.0) -> float:
    """Annualised mean excess return over its sample volatility; ``risk_free`` per period."""
    excess = _finite(returns, "returns", 2) - risk_free
    deviation = float(np.std(excess, ddof=1))
    if deviation == 0.0:
        raise DegenerateSeries("Sharpe ratio is undefined for a constant return series")
    return float(np.mean(excess)) / deviation * math.sqrt(periods_per_year)


def correlation(a: Sequence[float], b: Sequence[float]) -> float:
    x, y = _paired(a, b)
    if np.std(x) == 0.0 or np.std(y) == 0.0:
        raise DegenerateSeries("correlation is undefined for a constant series")
    return float(np.corrcoef(x, y)[0, 1])


def _paired(a: Sequence[float], b: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    x, y = _finite(a, "returns", 3), _finite(b, "benchmark returns", 3)
    if x.size != y.size:
        raise InvalidInput(f"return series differ in length: {x.size} and {y.size}")
    return x, y


@dataclass(frozen=True, slots=True)
class AlphaBeta:
    """OLS of excess returns on benchmark excess returns: r - rf = alpha + beta (b - rf).

    ``alpha`` is per period; ``annual_alpha`` compounds it, as empyrical does.
    """

    alpha: float
    beta: float
    periods_per_year: float

    @property
    def annual_alpha(self) -> float:
        return float((1.0 + self.alpha) ** self.periods_per_year - 1.0)


def alpha_beta(returns: Sequence[float], benchmark: Sequence[float], periods_per_year: float,
               risk_free: float = 0.0) -> AlphaBeta:
    x, y = _paired(benchmark, returns)
    if np.std(x) == 0.0:
        raise DegenerateSeries("beta is undefined against a constant benchmark")
    design = np.column_stack((np.ones_like(x), x - risk_free))
    (alpha, beta), *_ = np.linalg.lstsq(design, y - risk_free, rcond=None)
    return AlphaBeta(float(alpha), float(beta), periods_per_year)
