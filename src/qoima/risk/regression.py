"""Ordinary least squares betas over a stated window, and an ETF's tracking of its underlying.

Exposure mapping (issue 4, item 1) estimates what history says an instrument moves with: a
crypto equity's betas to BTC and to the equity market, a spot ETF's fee drag and tracking
error against its underlying. Both are plain regressions / differences on aligned return
arrays; the caller chooses the window and the alignment (:mod:`qoima.market.returns`) and the
result records them.

The OLS standard errors are the classical (homoskedastic) ones, ``s² (XᵀX)⁻¹`` with
``s² = RSS / (n - k - 1)``: the same as statsmodels ``OLS(...).fit()``, which the tests
compare against.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from qoima.domain.errors import DegenerateSeries, InvalidInput
from qoima.risk.checks import check_window
from qoima.risk.provenance import Provenance, array_hash

FloatArray = npt.NDArray[np.float64]

#: Fewest observations accepted by default: fewer give betas too noisy to map a position.
DEFAULT_MIN_OBS = 30
#: A design column whose QR pivot is below this share of the largest is collinear.
_RANK_TOLERANCE = 1e-10


@dataclass(frozen=True, slots=True, eq=False)
class BetaEstimate:
    """OLS of ``y`` on an intercept and ``k`` regressors.

    Attributes
    ----------
    names : tuple[str, ...], length k
        Regressor names, the order of ``betas`` and friends.
    betas, standard_errors, t_stats : ndarray of float64, shape (k,)
        Slopes (units of y per unit of each regressor), their classical standard errors and
        t-statistics.
    alpha, alpha_standard_error, alpha_t_stat : float
        Intercept per period (units of y), its standard error and t-statistic.
    r_squared, adjusted_r_squared, residual_std : float
        Fit; ``residual_std`` is ``sqrt(RSS / (n - k - 1))`` per period.
    residuals : ndarray of float64, shape (n_obs,)
        ``y - alpha - X @ betas``: the idiosyncratic part a risk position can carry.
    n_obs : int
    start_date, end_date : date or None
        The window, when dates were given.
    """

    names: tuple[str, ...]
    betas: FloatArray
    standard_errors: FloatArray
    t_stats: FloatArray
    alpha: float
    alpha_standard_error: float
    alpha_t_stat: float
    r_squared: float
    adjusted_r_squared: float
    residual_std: float
    residuals: FloatArray
    n_obs: int
    start_date: date | None
    end_date: date | None
    provenance: Provenance

    def beta(self, name: str) -> float:
        """The slope on regressor ``name``."""
        if name not in self.names:
            raise InvalidInput(f"no regressor {name!r}; have {', '.join(self.names)}",
                               field="name")
        return float(self.betas[self.names.index(name)])


@dataclass(frozen=True, slots=True)
class TrackingDifference:
    """How a fund's returns differ from its underlying's over a window.

    Attributes
    ----------
    mean_difference_annual : float
        ``mean(fund - underlying) * periods_per_year``: with log returns, the yearly log
        growth the fund gives up (negative) or gains against the underlying.
    tracking_error_annual : float
        ``std(fund - underlying, ddof=1) * sqrt(periods_per_year)``.
    fee_drag_annual : float
        ``-mean_difference_annual``: the yearly cost the history implies (positive when the
        fund lags). Compare with the stated expense ratio; noise can make it negative.
    beta : float
        OLS slope of fund on underlying returns (1.0 for a fund that holds the underlying).
    cumulative_difference : float
        ``sum(fund - underlying)`` over the window (log returns: log of the growth ratio).
    n_obs : int
    periods_per_year : float
    start_date, end_date : date or None
    """

    mean_difference_annual: float
    tracking_error_annual: float
    fee_drag_annual: float
    beta: float
    cumulative_difference: float
    n_obs: int
    periods_per_year: float
    start_date: date | None
    end_date: date | None
    provenance: Provenance


def estimate_betas(
    y: npt.ArrayLike,
    x: npt.ArrayLike,
    names: Sequence[str],
    *,
    dates: Sequence[date] | None = None,
    min_obs: int = DEFAULT_MIN_OBS,
) -> BetaEstimate:
    """OLS of ``y`` on an intercept and the columns of ``x``, via a QR decomposition.

    Parameters
    ----------
    y : array_like, shape (n_obs,)
        Returns of the instrument being mapped (e.g. COIN's daily log returns).
    x : array_like, shape (n_obs,) or (n_obs, k)
        Factor returns on the same periods (e.g. BTC and S&P 500 log returns).
    names : sequence of str, length k
        Regressor names.
    dates : sequence of date, length n_obs, optional
        Period end dates; the first and last are recorded as the window.
    min_obs : int
        Fewest observations accepted; never fewer than ``k + 2`` (one residual degree of
        freedom).

    Raises
    ------
    InsufficientHistory
        Fewer than ``max(min_obs, k + 2)`` observations.
    DegenerateSeries
        NaN or inf anywhere, a constant ``y`` or regressor, or collinear regressors.
    """
    response = np.asarray(y, dtype=np.float64)
    regressors = np.asarray(x, dtype=np.float64)
    if regressors.ndim == 1:
        regressors = regressors[:, None]
    if response.ndim != 1 or regressors.ndim != 2:
        raise InvalidInput(f"y must be 1-D and x 1-D or 2-D, got {response.shape} and "
                           f"{regressors.shape}", field="x")
    n_obs, k = regressors.shape
    labels = tuple(names)
    if len(labels) != k:
        raise InvalidInput(f"{k} regressors but {len(labels)} names", field="names")
    if response.shape[0] != n_obs:
        raise InvalidInput(f"y has {response.shape[0]} observations, x has {n_obs}",
                           field="y")
    start, end = _window(dates, n_obs)
    needed = max(int(min_obs), k + 2)
    check_window(response, minimum=needed, what="y")
    _check_regressors(regressors, labels, needed)

    design = np.column_stack([np.ones(n_obs), regressors])
    q, r = np.linalg.qr(design)
    pivots = np.abs(np.diag(r))
    if pivots.min() <= _RANK_TOLERANCE * pivots.max():
        column = int(np.argmin(pivots)) - 1
        raise DegenerateSeries(f"regressor {labels[column]!r} is (nearly) a linear combination "
                               "of the others and the intercept; its beta is undefined",
                               field="x", column=column)
    coefficients = np.linalg.solve(r, q.T @ response)
    residuals = response - design @ coefficients
    dof = n_obs - k - 1
    rss = float(residuals @ residuals)
    sigma2 = rss / dof
    r_inverse = np.linalg.inv(r)
    errors = np.sqrt(sigma2 * np.sum(r_inverse * r_inverse, axis=1))  # diag((RᵀR)⁻¹)
    centred = response - response.mean()
    tss = float(centred @ centred)
    r_squared = 1.0 - rss / tss
    provenance = Provenance(
        method="ols",
        inputs_hash=array_hash(response, regressors),
        parameters={"names": list(labels), "n_obs": n_obs, "intercept": True,
                    "covariance": "classical", "min_obs": needed,
                    "start_date": start.isoformat() if start else None,
                    "end_date": end.isoformat() if end else None},
    )
    residuals.setflags(write=False)
    return BetaEstimate(
        names=labels,
        betas=_frozen(coefficients[1:]),
        standard_errors=_frozen(errors[1:]),
        t_stats=_frozen(coefficients[1:] / errors[1:]),
        alpha=float(coefficients[0]),
        alpha_standard_error=float(errors[0]),
        alpha_t_stat=float(coefficients[0] / errors[0]),
        r_squared=r_squared,
        adjusted_r_squared=1.0 - (1.0 - r_squared) * (n_obs - 1) / dof,
        residual_std=float(np.sqrt(sigma2)),
        residuals=residuals,
        n_obs=n_obs,
        start_date=start,
        end_date=end,
        provenance=provenance,
    )


def tracking_difference(
    fund_returns: npt.ArrayLike,
    underlying_returns: npt.ArrayLike,
    periods_per_year: float,
    *,
    dates: Sequence[date] | None = None,
    min_obs: int = DEFAULT_MIN_OBS,
) -> TrackingDifference:
    """Annualized tracking difference, tracking error and implied fee drag of a fund.

    Parameters
    ----------
    fund_returns, underlying_returns : array_like, shape (n_obs,)
        Returns of the fund (e.g. IBIT) and of its underlying (BTC) over the same periods:
        align the underlying onto the fund's calendar first (``AlignmentRule.COMPOUND``),
        so a weekend's move lands on Monday for both. Log returns make the annualized mean
        a continuously compounded yearly rate.
    periods_per_year : float
        252 for exchange-traded sessions, 365 for crypto days.
    dates : sequence of date, length n_obs, optional
        Period end dates, recorded as the window.
    min_obs : int
        Fewest observations accepted.

    Notes
    -----
    Daily tracking error between an ETF (4 pm New York close) and a spot price (midnight UTC
    close) includes the timing mismatch of the two closes; it averages out of the mean, not
    out of the daily spread.
    """
    fund = np.asarray(fund_returns, dtype=np.float64)
    underlying = np.asarray(underlying_returns, dtype=np.float64)
    if fund.ndim != 1 or fund.shape != underlying.shape:
        raise InvalidInput(f"fund and underlying returns must be 1-D of equal length, got "
                           f"{fund.shape} and {underlying.shape}", field="underlying_returns")
    periods = float(periods_per_year)
    if not np.isfinite(periods) or periods <= 0.0:
        raise InvalidInput(f"periods_per_year must be positive, got {periods_per_year!r}",
                           field="periods_per_year")
    start, end = _window(dates, fund.shape[0])
    needed = max(int(min_obs), 3)
    check_window(fund, minimum=needed, what="fund returns")
    check_window(underlying, minimum=needed, what="underlying returns")
    difference = fund - underlying
    mean_annual = float(difference.mean()) * periods
    centred = underlying - underlying.mean()
    beta = float(centred @ (fund - fund.mean())) / float(centred @ centred)
    provenance = Provenance(
        method="tracking-difference",
        inputs_hash=array_hash(fund, underlying),
        parameters={"periods_per_year": periods, "n_obs": int(fund.shape[0]),
                    "std_ddof": 1,
                    "start_date": start.isoformat() if start else None,
                    "end_date": end.isoformat() if end else None},
    )
    return TrackingDifference(
        mean_difference_annual=mean_annual,
        tracking_error_annual=float(difference.std(ddof=1)) * float(np.sqrt(periods)),
        fee_drag_annual=-mean_annual,
        beta=beta,
        cumulative_difference=float(difference.sum()),
        n_obs=int(fund.shape[0]),
        periods_per_year=periods,
        start_date=start,
        end_date=end,
        provenance=provenance,
    )


def _check_regressors(regressors: FloatArray, names: tuple[str, ...], needed: int) -> None:
    check_window(regressors, minimum=needed, what="x", allow_constant=True)
    flat = np.ptp(regressors, axis=0) == 0.0
    if flat.any():
        column = int(np.flatnonzero(flat)[0])
        raise DegenerateSeries(f"regressor {names[column]!r} is constant over the window: it "
                               "cannot be told apart from the intercept", field="x",
                               column=column)


def _window(dates: Sequence[date] | None, n_obs: int) -> tuple[date | None, date | None]:
    if dates is None:
        return None, None
    days = tuple(dates)
    if len(days) != n_obs:
        raise InvalidInput(f"{len(days)} dates for {n_obs} observations", field="dates")
    if not days:
        return None, None
    return days[0], days[-1]


def _frozen(array: FloatArray) -> FloatArray:
    result = np.array(array, dtype=np.float64)
    result.setflags(write=False)
    return result
