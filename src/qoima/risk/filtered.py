"""Filtered historical simulation (Barone-Adesi et al. 1999; Hull and White 1998).

History is replayed at today's volatility: each past day's GARCH standardized residual
``z_t = e_t / sigma_t`` becomes a scenario ``mu + sigma_{T+1} z_t``, where ``sigma_{T+1}``
is the fitted GARCH(1,1) forecast for the next day. A calm past then does not hide a
volatile present, nor a crisis past inflate a calm present.

Horizon ``h > 1`` days, two ways (``method``):

* ``"bootstrap"`` (default): ``n_paths`` GARCH paths, each day drawing a past date
  uniformly with replacement (a seeded ``numpy.random.Generator(PCG64(seed))``) and
  updating the variance with the GARCH recursion, so volatility clusters and mean-reverts
  along the path; the scenario is the sum of the ``h`` daily returns (exact for log
  returns, the usual approximation for simple ones);
* ``"sqrt_time"``: ``h mu + sqrt(h) sigma_{T+1} z_t`` over every past date: the square-
  root-of-time rule, deterministic, ignoring volatility mean reversion.

For one day both give the same ``n_obs`` scenarios with no randomness (no seed recorded).
Several series are simulated jointly by drawing whole past dates (rows), which keeps their
cross-sectional dependence: the scenario matrix feeds portfolio P&L.

Quantile convention (as historical simulation): ``VaR = -np.quantile(x, 1 - level)`` with
linear interpolation, ``CVaR = -mean(x[x <= -VaR])``; both positive losses as fractions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from qoima.domain.errors import InvalidInput
from qoima.risk.checks import check_horizon, check_level
from qoima.risk.garch import GarchFit
from qoima.risk.measures import historical_tail
from qoima.risk.provenance import Provenance, array_hash

FloatArray = npt.NDArray[np.float64]
HorizonMethod = Literal["bootstrap", "sqrt_time"]

DEFAULT_LEVELS = (0.95, 0.99)
#: Paths simulated for a multi-day bootstrap unless told otherwise.
DEFAULT_PATHS = 10_000
#: Seed of the multi-day bootstrap unless told otherwise (recorded in the provenance).
DEFAULT_SEED = 0


@dataclass(frozen=True, slots=True, eq=False)
class FhsScenarios:
    """Filtered-historical scenarios of ``horizon_days`` returns for one or more series.

    Attributes
    ----------
    returns : ndarray of float64, shape (n_scenarios, n_series)
        ``horizon_days``-day returns (fractions), one row per scenario, columns in the
        order of the fits.
    horizon_days : int
    method : "bootstrap" or "sqrt_time"
    next_volatility : ndarray of float64, shape (n_series,)
        ``sigma_{T+1}``, the GARCH forecast of tomorrow's volatility per series (fraction).
    provenance : Provenance
        ``seed`` is set when scenarios were drawn at random (bootstrap, ``h > 1``).
    """

    returns: FloatArray
    horizon_days: int
    method: HorizonMethod
    next_volatility: FloatArray
    provenance: Provenance

    @property
    def n_scenarios(self) -> int:
        return int(self.returns.shape[0])


@dataclass(frozen=True, slots=True, eq=False)
class FhsRisk:
    """FHS VaR and CVaR of one series at several confidence levels.

    Attributes
    ----------
    levels : tuple of float
        Confidence levels, e.g. ``(0.95, 0.99)``.
    var, cvar : tuple of float, one per level
        Positive losses over ``horizon_days`` as fractions of value (0.05 = 5 %).
    horizon_days : int
    method : "bootstrap" or "sqrt_time"
    n_scenarios : int
    next_volatility : float
        ``sigma_{T+1}`` per period (fraction) that scaled the scenarios.
    provenance : Provenance
    """

    levels: tuple[float, ...]
    var: tuple[float, ...]
    cvar: tuple[float, ...]
    horizon_days: int
    method: HorizonMethod
    n_scenarios: int
    next_volatility: float
    provenance: Provenance

    def at(self, level: float) -> tuple[float, float]:
        """``(VaR, CVaR)`` at one of :attr:`levels`."""
        for known, var, cvar in zip(self.levels, self.var, self.cvar, strict=True):
            if math.isclose(known, level):
                return var, cvar
        raise InvalidInput(f"no level {level}; have {self.levels}", field="level")


def fhs_scenarios(fits: GarchFit | Sequence[GarchFit], *, horizon_days: int = 1,
                  method: HorizonMethod = "bootstrap", n_paths: int = DEFAULT_PATHS,
                  seed: int = DEFAULT_SEED) -> FhsScenarios:
    """FHS scenarios from GARCH fits on the same dates (one fit or several).

    Parameters
    ----------
    fits : GarchFit or sequence of GarchFit
        Fitted on aligned returns: every fit has the same number of observations, row ``t``
        of each being the same date.
    horizon_days : int
        Days per scenario, >= 1.
    method : "bootstrap" or "sqrt_time"
        How ``h > 1`` days are built (module docstring); ignored for one day.
    n_paths : int
        Bootstrap paths for ``h > 1``.
    seed : int
        Seed of the bootstrap draws.

    Returns
    -------
    FhsScenarios
        ``returns`` of shape (n_obs, n_series) for one day or ``sqrt_time``, else
        (n_paths, n_series).
    """
    group = [fits] if isinstance(fits, GarchFit) else list(fits)
    horizon = check_horizon(horizon_days)
    if method not in ("bootstrap", "sqrt_time"):
        raise InvalidInput(f"method must be 'bootstrap' or 'sqrt_time', got {method!r}",
                           field="method")
    if not group:
        raise InvalidInput("no GARCH fits given", field="fits")
    lengths = {fit.n_obs for fit in group}
    if len(lengths) != 1:
        raise InvalidInput(f"fits cover different numbers of dates {sorted(lengths)}: "
                           "FHS needs aligned returns", field="fits")
    shocks = np.column_stack([fit.standardized_residuals for fit in group])
    mu = np.array([fit.mu for fit in group])
    next_variance = np.array([fit.variance_forecast(1)[0] for fit in group])
    next_volatility = np.sqrt(next_variance)
    drawn = horizon > 1 and method == "bootstrap"
    if not drawn:
        returns = horizon * mu + math.sqrt(horizon) * next_volatility * shocks
    else:
        if int(n_paths) != n_paths or n_paths < 1:
            raise InvalidInput(f"n_paths must be a whole number >= 1, got {n_paths!r}",
                               field="n_paths")
        returns = _bootstrap(group, shocks, next_variance, horizon, int(n_paths), seed)
    parameters = {"horizon_days": horizon, "method": method if horizon > 1 else "filtered",
                  "n_series": len(group), "n_paths": int(n_paths) if drawn else None}
    provenance = Provenance(
        "fhs-garch11", array_hash(shocks, mu, next_variance,
                                  [[fit.omega, fit.alpha, fit.beta] for fit in group]),
        parameters, seed=seed if drawn else None,
        warnings=tuple(finding for fit in group for finding in fit.findings))
    return FhsScenarios(np.ascontiguousarray(returns), horizon, method, next_volatility,
                        provenance)


def fhs_var(fit: GarchFit, *, levels: Sequence[float] = DEFAULT_LEVELS, horizon_days: int = 1,
            method: HorizonMethod = "bootstrap", n_paths: int = DEFAULT_PATHS,
            seed: int = DEFAULT_SEED) -> FhsRisk:
    """FHS VaR and CVaR of one series, positive losses at each of ``levels``.

    Parameters as :func:`fhs_scenarios`; ``levels`` are confidence levels in (0, 1).
    """
    checked = tuple(check_level(level) for level in levels)
    if not checked:
        raise InvalidInput("no confidence levels given", field="levels")
    scenarios = fhs_scenarios(fit, horizon_days=horizon_days, method=method, n_paths=n_paths,
                              seed=seed)
    column = scenarios.returns[:, 0]
    measured = [var_cvar(column, level) for level in checked]
    source = scenarios.provenance
    parameters = {**source.parameters, "levels": [repr(level) for level in checked]}
    provenance = Provenance(source.method, source.inputs_hash, parameters, source.seed,
                            warnings=source.warnings)
    return FhsRisk(checked, tuple(v for v, _ in measured), tuple(c for _, c in measured),
                   scenarios.horizon_days, method, scenarios.n_scenarios,
                   float(scenarios.next_volatility[0]), provenance)


def var_cvar(scenarios: npt.ArrayLike, level: float) -> tuple[float, float]:
    """``(VaR, CVaR)`` of scenario returns at ``level``, positive losses.

    ``VaR = -np.quantile(x, 1 - level)`` (linear interpolation) and
    ``CVaR = -mean(x[x <= -VaR])``: the historical-simulation convention
    (:mod:`qoima.risk.measures`); CVaR >= VaR (a rounding excess is clipped).
    """
    x = np.asarray(scenarios, dtype=np.float64).reshape(-1, 1)
    var, cvar = historical_tail(x, check_level(level))
    return float(var[0]), float(cvar[0])


def _bootstrap(group: Sequence[GarchFit], shocks: FloatArray, next_variance: FloatArray,
               horizon: int, n_paths: int, seed: int) -> FloatArray:
    """Sum of ``horizon`` daily returns along ``n_paths`` GARCH paths, shape (n_paths, k).

    Each day draws one past date per path (the same date for every series) and updates
    ``h <- omega + alpha e^2 + beta h`` per series.
    """
    rng = np.random.Generator(np.random.PCG64(seed))
    omega = np.array([fit.omega for fit in group])
    alpha = np.array([fit.alpha for fit in group])
    beta = np.array([fit.beta for fit in group])
    mu = np.array([fit.mu for fit in group])
    dates = rng.integers(0, shocks.shape[0], size=(horizon, n_paths))
    variance = np.broadcast_to(next_variance, (n_paths, len(group))).copy()
    total = np.zeros((n_paths, len(group)))
    for day in range(horizon):
        residual = np.sqrt(variance) * shocks[dates[day]]
        total += mu + residual
        variance = omega + alpha * residual**2 + beta * variance
    return total
