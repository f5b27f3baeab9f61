"""Build the inputs of a policy check: snapshot, reserves, risk figures, ADV, drawdown.

Risk-based limits read the risk engine: 1-day 99 % historical CVaR and the named stress
losses of the vehicle's positions, on the factor history up to the as-of date. The drawdown
is that of the vehicle's current holdings over the historical window (how far today's book
would sit below its peak), an approximation stated in the finding's subject until the NAV
history of every vehicle is kept.

Concentration limits see through fund interests with the managers' reported holdings
(:class:`~qoima.policy.context.LookThroughShares`), which a :data:`LookThroughSource` gives
for a date (``ManagerService.look_through_shares`` in the wiring).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal

import numpy as np

from qoima.app.risk import RESERVE_KINDS
from qoima.app.risk_inputs import RiskInputs
from qoima.domain.errors import QoimaError
from qoima.market.quality import average_daily_volume
from qoima.policy.context import LookThroughShares, PolicyContext, RiskFigures
from qoima.policy.model import InvestmentPolicy, StressLoss
from qoima.portfolio.snapshot import PortfolioSnapshot
from qoima.risk.contributions import scenario_var_cvar
from qoima.risk.exposures import map_exposures
from qoima.risk.positions import RiskBook, scenario_pnl
from qoima.risk.scenarios import BUILTIN_SCENARIOS, get_scenario
from qoima.risk.stress import run_stress

WINDOW = 250

#: as-of date -> fund-interest code -> what its manager's latest statement says it holds.
LookThroughSource = Callable[[date], Mapping[str, LookThroughShares]]


def total_reserves(snapshot: PortfolioSnapshot) -> Decimal:
    reserve = sum((v.nav_usd for v in snapshot.vehicles if v.kind in RESERVE_KINDS),
                  Decimal(0))
    return reserve or snapshot.total_usd


def policy_context(policy: InvestmentPolicy, snapshot: PortfolioSnapshot, inputs: RiskInputs,
                   as_of: date, look_through: Mapping[str, LookThroughShares] | None = None
                   ) -> PolicyContext:
    """Everything the rules of ``policy`` read, for ``snapshot`` (actual or hypothetical);
    ``look_through``: the managers' reported holdings per fund interest at ``as_of``."""
    vehicle = policy.vehicle_code
    figures, drawdown = _risk(policy, snapshot, inputs, as_of)
    return PolicyContext(
        as_of=as_of, vehicle_code=vehicle, snapshot=snapshot, instruments=inputs.instruments,
        total_reserves_usd=total_reserves(snapshot), risk=figures, drawdown=drawdown,
        adv=_adv_usd(snapshot, inputs, as_of), look_through=look_through)


def _risk(policy: InvestmentPolicy, snapshot: PortfolioSnapshot, inputs: RiskInputs,
          as_of: date) -> tuple[RiskFigures | None, float | None]:
    held = [p for p in snapshot.positions if p.vehicle_code == policy.vehicle_code]
    nothing = RiskFigures(0.0, dict.fromkeys(_stress_names(policy), 0.0)), 0.0
    if not any(p.value_usd for p in held):
        return nothing  # an empty vehicle risks nothing
    try:
        mapped = map_exposures(held, inputs.instruments, inputs.history, as_of=as_of,
                               usd_kzt=inputs.usd_kzt, etf_facts=inputs.etf_facts)
        book = mapped.book
        if not book.positions or book.total_usd <= 0:
            return nothing
        names = list(book.factors)
        columns = [mapped.history.names.index(n) for n in names]
        available = int(np.isfinite(mapped.history.values[:, columns]).all(axis=1).sum())
        window = mapped.history.complete_window(names, min(WINDOW, available))
        pnl = scenario_pnl(book, window.names, window.values).sum(axis=1)
        _, cvar = scenario_var_cvar(pnl, 0.99)
        stress = _stress_losses(policy, book)
        path = np.cumprod(1.0 + pnl / book.total_usd)
        drawdown = float(max(0.0, 1.0 - path[-1] / max(1.0, float(path.max()))))
        return RiskFigures(float(cvar), stress), drawdown
    except QoimaError:
        return None, None  # the rules say "not evaluated": never a silent pass


def _stress_losses(policy: InvestmentPolicy, book: RiskBook) -> Mapping[str, float]:
    """Loss (positive USD) of each scenario a stress limit names; every built-in one when a
    limit names none."""
    losses = {}
    for name in _stress_names(policy):
        result = run_stress(book, get_scenario(name))
        losses[name] = max(0.0, -result.total_pnl_usd)
    return losses


def _stress_names(policy: InvestmentPolicy) -> list[str]:
    names: list[str] = []
    for limit in policy.limits:
        if isinstance(limit, StressLoss):
            names.extend(limit.scenarios or [s.name for s in BUILTIN_SCENARIOS])
    return list(dict.fromkeys(names))


def _adv_usd(snapshot: PortfolioSnapshot, inputs: RiskInputs, as_of: date
             ) -> dict[str, Decimal]:
    adv: dict[str, Decimal] = {}
    for position in snapshot.positions:
        code = position.instrument_code
        series = inputs.series.get(code)
        if series is None or position.price is None or code in adv:
            continue
        volume = average_daily_volume(series.bars, as_of)
        if volume:
            adv[code] = volume * position.price
    return adv

