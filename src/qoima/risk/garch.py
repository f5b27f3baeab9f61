"""GARCH(1,1) with a constant mean: one series through ``arch``, many at once through a
faster fitter that reaches the same optimum.

Model, on returns scaled to percent (``y = 100 r``, as arch recommends for its optimizer):
``y_t = mu + e_t``, ``h_t = omega + alpha e_{t-1}^2 + beta h_{t-1}``, ``e_t = sqrt(h_t) z_t``
with ``z`` standard normal or standardized Student-t (``nu`` degrees of freedom). Results are
reported in the input's units (fractions): ``mu / 100``, ``omega / 100^2``, volatilities
``/ 100``; the log-likelihood is arch's figure on the scaled data.

:func:`fit_garch_batch` copies arch's estimator exactly (arch 8, ``arch/univariate``): the
same starting values (the 16-point grid of ``GARCH.starting_values``, Student-t ``nu`` from
the kurtosis), the same backcast ``h_{-1} = e_{-1}^2 = sum w_i e_i^2 / sum w_i`` over the
first 75 residuals with ``w_i = 0.94^i``, the same loose variance bounds, parameter bounds,
linear constraints (``alpha + beta <= 1``) and SLSQP optimizer. What differs is speed: the
variance recursion runs in C as a linear filter (``scipy.signal.lfilter``) and the gradient
is analytic (four derivative recursions filtered in one call), where arch differentiates
numerically. When a trial point pushes a variance outside arch's bounds, the value is
recomputed with arch's clipping recursion (the gradient there is the unclipped one).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize
from scipy.signal import lfilter
from scipy.special import digamma, gammaln
from scipy.stats import kurtosis

from qoima.domain.enums import Severity
from qoima.domain.errors import InvalidInput
from qoima.domain.findings import Finding
from qoima.risk.checks import as_matrix, check_horizon, check_window
from qoima.risk.provenance import Provenance, array_hash

FloatArray = npt.NDArray[np.float64]
Distribution = Literal["normal", "t"]

#: Fewest returns accepted: below ~100 the GARCH parameters are not identified.
MIN_OBS = 100
#: Returns are multiplied by this before fitting (percent), and results divided back.
PERCENT_SCALE = 100.0
_BACKCAST_TAU = 75
_EWMA_LAMBDA = 0.94
_GRID_ALPHA = (0.01, 0.05, 0.1, 0.2)
_GRID_PERSISTENCE = (0.5, 0.7, 0.9, 0.98)
_NU_BOUNDS = (2.05, 500.0)
_LOG_2PI = math.log(2.0 * math.pi)
_MAX_RESTARTS = 4  # then the clipped recursion over the whole series
_MAX_SWEEPS = 64
#: Persistence this close to 1 is reported as reaching it (the optimizer stops near the
#: alpha + beta <= 1 boundary, not on it).
_PERSISTENCE_TOLERANCE = 1e-6


@dataclass(frozen=True, slots=True, eq=False)
class GarchFit:
    """A fitted GARCH(1,1), parameters in the input's units.

    Attributes
    ----------
    dist : "normal" or "t"
    scale : float
        Returns were multiplied by this before fitting (100: percent).
    mu : float
        Mean return per period (fraction).
    omega : float
        Variance intercept (fraction squared per period).
    alpha, beta : float
        ARCH and GARCH coefficients (unitless).
    nu : float or None
        Student-t degrees of freedom; None for normal innovations.
    log_likelihood : float
        Of the scaled returns, as arch reports it.
    conditional_volatility : ndarray of float64, shape (n_obs,)
        ``sqrt(h_t)`` per period in the input's units, known at ``t - 1``.
    standardized_residuals : ndarray of float64, shape (n_obs,)
        ``(r_t - mu) / sigma_t``: the filtered shocks that FHS resamples.
    converged : bool
        The optimizer reported success.
    provenance : Provenance
        Warnings hold a Finding when the fit did not converge or persistence >= 1.
    """

    dist: Distribution
    scale: float
    mu: float
    omega: float
    alpha: float
    beta: float
    nu: float | None
    log_likelihood: float
    conditional_volatility: FloatArray
    standardized_residuals: FloatArray
    converged: bool
    provenance: Provenance

    @property
    def n_obs(self) -> int:
        return int(self.conditional_volatility.shape[0])

    @property
    def persistence(self) -> float:
        """``alpha + beta``: how slowly a shock to variance decays (1: never)."""
        return self.alpha + self.beta

    @property
    def unconditional_volatility(self) -> float | None:
        """``sqrt(omega / (1 - alpha - beta))`` per period; None when persistence reaches 1
        (within 1e-6: the same test as the ``risk.garch_nonstationary`` finding)."""
        if self.persistence >= 1.0 - _PERSISTENCE_TOLERANCE:
            return None
        return math.sqrt(self.omega / (1.0 - self.persistence))

    @property
    def findings(self) -> tuple[Finding, ...]:
        return self.provenance.warnings

    def variance_forecast(self, horizon_days: int) -> FloatArray:
        """Variance of each of the next ``horizon_days`` returns, shape (horizon_days,).

        ``h_{T+1} = omega + alpha e_T^2 + beta h_T``, then ``h_{T+k} = omega + (alpha+beta)
        h_{T+k-1}``: arch's analytic forecast. Sum it for the variance of an h-day return.
        """
        horizon = check_horizon(horizon_days)
        sigma_last = float(self.conditional_volatility[-1])
        residual_last = float(self.standardized_residuals[-1]) * sigma_last
        out = np.empty(horizon)
        out[0] = self.omega + self.alpha * residual_last**2 + self.beta * sigma_last**2
        for k in range(1, horizon):
            out[k] = self.omega + self.persistence * out[k - 1]
        return out


def fit_garch(returns: npt.ArrayLike, *, dist: Distribution = "normal",
              name: str = "returns") -> GarchFit:
    """Fit GARCH(1,1) with a constant mean to one series with ``arch`` (the reference).

    Parameters
    ----------
    returns : array_like, shape (n_obs,)
        Per-period returns as fractions; at least :data:`MIN_OBS`, finite, not constant.
    dist : "normal" or "t"
        Innovation distribution.
    name : str
        Subject of findings.
    """
    from arch import arch_model

    series = _check_series(returns, dist)
    model = arch_model(PERCENT_SCALE * series, mean="Constant", vol="GARCH", p=1, q=1,
                       dist="normal" if dist == "normal" else "t", rescale=False)
    result = model.fit(disp="off", show_warning=False)
    params = np.asarray(result.params, dtype=np.float64)
    volatility = np.asarray(result.conditional_volatility, dtype=np.float64)
    residuals = np.asarray(result.resid, dtype=np.float64)
    return _result(series, dist, params, float(result.loglikelihood), volatility,
                   residuals / volatility, result.convergence_flag == 0, "garch11-arch", name)


def fit_garch_batch(returns: npt.ArrayLike, *, dist: Distribution = "normal",
                    names: Sequence[str] | None = None) -> list[GarchFit]:
    """Fit GARCH(1,1) to each column of ``returns``: arch's estimator, several times faster.

    Parameters
    ----------
    returns : array_like, shape (n_obs, k)
        One series per column, fractions; every column at least :data:`MIN_OBS` finite,
        non-constant values.
    dist : "normal" or "t"
    names : sequence of str, length k, optional
        Subjects for findings (default ``series 0``, ``series 1``, ...).

    Returns
    -------
    list of GarchFit, length k, in column order.
    """
    matrix, _ = as_matrix(returns)
    check_window(matrix, minimum=MIN_OBS)
    _check_dist(dist)
    labels = list(names) if names is not None else [f"series {j}" for j in
                                                    range(matrix.shape[1])]
    if len(labels) != matrix.shape[1]:
        raise InvalidInput(f"{len(labels)} names for {matrix.shape[1]} series", field="names")
    fits = []
    for j, label in enumerate(labels):
        column = np.ascontiguousarray(matrix[:, j])
        problem = _Problem(PERCENT_SCALE * column, dist)
        params, log_likelihood, converged = problem.solve()
        variance = problem.variance(params)
        residuals = problem.y - params[0]
        volatility = np.sqrt(variance)
        fits.append(_result(column, dist, params, log_likelihood, volatility,
                            residuals / volatility, converged, "garch11-batch", label))
    return fits


# -- shared ------------------------------------------------------------------------------


def _check_dist(dist: str) -> None:
    if dist not in ("normal", "t"):
        raise InvalidInput(f"dist must be 'normal' or 't', got {dist!r}", field="dist")


def _check_series(returns: npt.ArrayLike, dist: str) -> FloatArray:
    series = np.asarray(returns, dtype=np.float64)
    if series.ndim != 1:
        raise InvalidInput(f"returns must be 1-D, got shape {series.shape}", field="returns")
    _check_dist(dist)
    return check_window(series, minimum=MIN_OBS)


def _result(series: FloatArray, dist: Distribution, params: FloatArray, log_likelihood: float,
            volatility_scaled: FloatArray, standardized: FloatArray, converged: bool,
            method: str, subject: str) -> GarchFit:
    scale = PERCENT_SCALE
    mu, omega, alpha, beta = (float(v) for v in params[:4])
    nu = float(params[4]) if dist == "t" else None
    findings = []
    if not converged:
        findings.append(Finding("risk.garch_not_converged", Severity.WARNING, subject,
                                "GARCH(1,1) optimizer did not report convergence; "
                                "parameters may not be the maximum-likelihood ones"))
    if alpha + beta >= 1.0 - _PERSISTENCE_TOLERANCE:
        findings.append(Finding("risk.garch_nonstationary", Severity.WARNING, subject,
                                "GARCH persistence alpha + beta reached 1: variance shocks "
                                "never decay and the unconditional variance is undefined",
                                measured=f"{alpha + beta:.6f}", limit="1"))
    provenance = Provenance(method, array_hash(series),
                            {"model": "GARCH(1,1)", "mean": "constant", "dist": dist,
                             "scale": int(scale), "backcast_tau": _BACKCAST_TAU},
                            warnings=tuple(findings))
    return GarchFit(dist, scale, mu / scale, omega / scale**2, alpha, beta, nu,
                    float(log_likelihood), volatility_scaled / scale, standardized,
                    bool(converged), provenance)


# -- the fast fitter ---------------------------------------------------------------------


class _Problem:
    """arch's GARCH(1,1) likelihood for one scaled series, with an analytic gradient.

    Parameters are ``(mu, omega, alpha, beta[, nu])`` on the scaled data. The backcast and
    the variance bounds come from the residuals at the starting mean, and stay fixed, as in
    arch's ``ARCHModel.fit``.
    """

    def __init__(self, y: FloatArray, dist: Distribution) -> None:
        self.y, self.dist, self.n = y, dist, y.shape[0]
        self.mu0 = float(np.mean(y))
        resid = y - self.mu0
        tau = min(_BACKCAST_TAU, self.n)
        weights = _EWMA_LAMBDA ** np.arange(tau)
        weights = weights / np.sum(weights)
        self.backcast = float(np.sum(resid[:tau] ** 2 * weights))
        self.lower, self.upper = _variance_bounds(resid, float(weights.dot(resid[:tau] ** 2)))
        self.mean_square = float(np.mean(resid**2))
        self._last_key = b""
        self._last: tuple[FloatArray, FloatArray, FloatArray] = (resid, resid, resid)

    def variance(self, params: FloatArray) -> FloatArray:
        """Conditional variances ``h`` at ``params`` exactly as arch computes them."""
        return self._variance(params)[0]

    def _variance(self, params: FloatArray) -> tuple[FloatArray, FloatArray]:
        mu, omega, alpha, beta = (float(v) for v in params[:4])
        square_lag = np.empty(self.n)
        square_lag[0] = self.backcast
        square_lag[1:] = (self.y[:-1] - mu) ** 2
        return self._bounded(omega, alpha, beta, square_lag), square_lag

    def _bounded(self, omega: float, alpha: float, beta: float,
                 square_lag: FloatArray) -> FloatArray:
        """The recursion through ``lfilter``; where a variance leaves arch's bounds, it is
        clipped as arch clips it and the filter restarts from there (exact, not slow)."""
        drive = omega + alpha * square_lag
        h = np.asarray(lfilter([1.0], [1.0, -beta], drive, zi=[beta * self.backcast])[0])
        for _ in range(_MAX_RESTARTS):
            outside = np.flatnonzero((h < self.lower) | (h > self.upper))
            if outside.size == 0:
                return h
            t = int(outside[0])
            h[t] = _clip(float(h[t]), float(self.lower[t]), float(self.upper[t]))
            if t + 1 < self.n:
                h[t + 1:] = lfilter([1.0], [1.0, -beta], drive[t + 1:], zi=[beta * h[t]])[0]
        return _clipped_variance(omega, alpha, beta, square_lag, self.lower, self.upper)

    def _evaluate(self, params: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """``(h, e, e_{t-1}^2)`` at ``params``, remembered for the gradient that follows."""
        key = params.tobytes()
        if key != self._last_key:
            h, square_lag = self._variance(params)
            self._last_key, self._last = key, (h, self.y - float(params[0]), square_lag)
        return self._last

    def negative_log_likelihood(self, params: FloatArray) -> float:
        h, e, _ = self._evaluate(params)
        if self.dist == "normal":
            return 0.5 * float(np.sum(_LOG_2PI + np.log(h) + e * e / h))
        nu = float(params[4])
        constant = float(gammaln((nu + 1) / 2) - gammaln(nu / 2)) - 0.5 * math.log(
            math.pi * (nu - 2.0))
        log_kernel = np.log1p(e * e / (h * (nu - 2.0)))
        return float(np.sum(0.5 * np.log(h) + (nu + 1) / 2 * log_kernel) - self.n * constant)

    def gradient(self, params: FloatArray) -> FloatArray:
        """Analytic gradient of :meth:`negative_log_likelihood`: ``dh/dtheta`` follows the same
        recursion as ``h`` (four rows filtered in one call), then the chain rule."""
        h, e, square_lag = self._evaluate(params)
        alpha, beta = float(params[2]), float(params[3])
        drivers = np.empty((4, self.n))
        drivers[0, 0] = 0.0  # d(e_{t-1}^2)/d mu; the backcast is fixed
        np.multiply(-2.0 * alpha, e[:-1], out=drivers[0, 1:])
        drivers[1] = 1.0
        drivers[2] = square_lag
        drivers[3, 0] = self.backcast
        drivers[3, 1:] = h[:-1]
        dh = lfilter([1.0], [1.0, -beta], drivers, axis=1)  # dh/d(mu, omega, alpha, beta)
        gradient = np.zeros(params.shape[0])
        if self.dist == "normal":
            gradient[:4] = dh.dot(0.5 * (e * e - h) / (h * h))
            gradient[0] += float(np.sum(e / h))
        else:
            nu = float(params[4])
            q = e * e / (h * (nu - 2.0))
            share = q / (1.0 + q)
            gradient[:4] = dh.dot((-0.5 + (nu + 1) / 2 * share) / h)
            gradient[0] += (nu + 1) / (nu - 2.0) * float(np.sum(e / (h * (1.0 + q))))
            gradient[4] = (self.n * (0.5 * digamma((nu + 1) / 2) - 0.5 * digamma(nu / 2)
                                     - 0.5 / (nu - 2.0))
                           + float(np.sum((nu + 1) / (2 * (nu - 2.0)) * share
                                          - 0.5 * np.log1p(q))))
        return -gradient

    def starting_values(self) -> FloatArray:
        """arch's grid search: the best Gaussian likelihood over 16 (alpha, persistence)."""
        candidates = [(alpha, persistence) for alpha in _GRID_ALPHA
                      for persistence in _GRID_PERSISTENCE]
        e = self.y - self.mu0
        square_lag = np.empty(self.n)
        square_lag[0] = self.backcast
        square_lag[1:] = e[:-1] ** 2
        h = np.vstack([self._bounded((1.0 - persistence) * self.mean_square, alpha,
                                     persistence - alpha, square_lag)
                       for alpha, persistence in candidates])
        loglik = -0.5 * np.sum(np.log(h) + e * e / h, axis=1)
        alpha, persistence = candidates[int(np.argmax(loglik))]  # the first best, as arch
        start = np.array([self.mu0, (1.0 - persistence) * self.mean_square, alpha,
                          persistence - alpha])
        if self.dist == "t":
            standardized = (self.y - self.mu0) / np.sqrt(self.variance(start))
            k = float(kurtosis(standardized, fisher=False))
            nu = max((4.0 * k - 6.0) / (k - 3.0) if k > 3.75 else 12.0, 4.0)
            start = np.append(start, nu)
        return start

    def solve(self) -> tuple[FloatArray, float, bool]:
        """SLSQP from arch's start, under arch's bounds and constraints."""
        bounds: list[tuple[float, float]] = [
            (-np.inf, np.inf), (1e-8 * self.mean_square, 10.0 * self.mean_square),
            (0.0, 1.0), (0.0, 1.0)]
        a = np.array([[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0],
                      [0.0, 0.0, -1.0, -1.0]])
        b = np.array([0.0, 0.0, 0.0, -1.0])
        if self.dist == "t":
            bounds.append(_NU_BOUNDS)
            a = np.block([[a, np.zeros((4, 1))], [np.zeros((2, 4)), np.array([[1.0], [-1.0]])]])
            b = np.append(b, [_NU_BOUNDS[0], -_NU_BOUNDS[1]])
        constraint: dict[str, Any] = {"type": "ineq", "fun": lambda x: a.dot(x) - b,
                                      "jac": lambda x: a}
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Values in x were outside bounds",
                                    RuntimeWarning)
            opt = minimize(self.negative_log_likelihood, self.starting_values(), jac=self.gradient,
                           method="SLSQP", bounds=bounds, constraints=[constraint])
        return np.asarray(opt.x, dtype=np.float64), -float(opt.fun), bool(opt.status == 0)


def _variance_bounds(resid: FloatArray, initial: float) -> tuple[FloatArray, FloatArray]:
    """arch's loose per-period variance bounds: an EWMA(0.94) variance / and x 1e6."""
    n = resid.shape[0]
    square_lag = np.empty(n)
    square_lag[0] = initial
    square_lag[1:] = resid[:-1] ** 2
    ewma = np.asarray(lfilter([1.0], [1.0, -_EWMA_LAMBDA], (1.0 - _EWMA_LAMBDA) * square_lag,
                              zi=[_EWMA_LAMBDA * initial])[0])
    lower, upper = ewma / 1e6, ewma * 1e6
    largest = 1.0 + float(np.max(resid**2))
    lower = np.maximum(lower, float(np.var(resid)) / 1e8)
    upper = np.minimum(np.maximum(upper, largest), 1e7 * largest)
    return lower, upper


def _clip(value: float, lower: float, upper: float) -> float:
    """arch's ``bounds_check``: floor at ``lower``, log-damped above ``upper``."""
    if value < lower:
        return lower
    if value > upper:
        return upper + math.log(value / upper) if math.isfinite(value) else upper + 1000.0
    return value


def _clipped_variance(omega: float, alpha: float, beta: float, square_lag: FloatArray,
                      lower: FloatArray, upper: FloatArray) -> FloatArray:
    """arch's recursion with its bounds check at every step (for wild trial points).

    Iterates ``h <- clip(omega + alpha e_{t-1}^2 + beta h_{t-1})`` over the whole array until
    nothing changes: the sequential recursion is the only fixed point of that map in floating
    point (by induction from ``h_{-1}``, the backcast), and the error shrinks by ``beta`` per
    sweep. When ``beta`` is too close to 1 for that, it steps through time in Python.
    """
    drive = omega + alpha * square_lag
    if beta < 0.5:
        h = np.minimum(np.maximum(drive + beta * square_lag[0], lower), upper)
        for _ in range(_MAX_SWEEPS):
            value = drive.copy()
            value[0] += beta * square_lag[0]
            value[1:] += beta * h[:-1]
            updated = np.maximum(value, lower)
            high = value > upper
            if high.any():
                damped = upper[high] + np.log(value[high] / upper[high])
                updated[high] = np.where(np.isfinite(value[high]), damped, upper[high] + 1000.0)
            if np.array_equal(updated, h):
                return updated
            h = updated
    out = []
    previous = float(square_lag[0])  # the backcast stands for h_{-1}
    for base, low, high_bound in zip(drive.tolist(), lower.tolist(), upper.tolist(),
                                     strict=True):
        previous = _clip(base + beta * previous, low, high_bound)
        out.append(previous)
    return np.asarray(out, dtype=np.float64)
