"""Factor models for Monte Carlo: Student-t (given or fitted) and copulas of the history.

Daily models in the units of the factor moves of :mod:`qoima.risk.positions`; columns
flagged in ``log_returns`` are modelled as log returns (:mod:`qoima.risk.montecarlo` returns
them as simple returns).

* :class:`StudentTModel`: multivariate Student-t with a mean, a *covariance* (the scale
  matrix is ``covariance * (dof - 2) / dof``) and degrees of freedom (``math.inf`` is the
  normal); given (:func:`student_t_model`), or fitted by :func:`fit_student_t` (Ledoit-Wolf
  shrunk covariance, degrees of freedom by profile maximum likelihood).
* :class:`CopulaModel`: a Gaussian or Student-t copula (correlation from Kendall's tau,
  ``sin(pi tau / 2)``, repaired to positive definite if needed) with the empirical marginals
  of the history (numpy's linear quantile), fitted by :func:`fit_copula`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import optimize, special, stats

from qoima.domain.errors import InvalidInput
from qoima.risk.checks import FloatArray, check_window
from qoima.risk.provenance import Provenance, array_hash


@dataclass(frozen=True, slots=True)
class StudentTModel:
    """Daily multivariate Student-t factor moves: ``mean`` (d,), ``covariance`` (d, d)."""

    factors: tuple[str, ...]
    mean: FloatArray
    covariance: FloatArray
    dof: float
    log_returns: tuple[bool, ...]
    provenance: Provenance


@dataclass(frozen=True, slots=True)
class CopulaModel:
    """Daily moves from a copula (``dof`` inf: Gaussian) and empirical marginals.

    ``history`` is the (n_obs, d) history, each column sorted ascending.
    """

    factors: tuple[str, ...]
    history: FloatArray
    correlation: FloatArray
    dof: float
    log_returns: tuple[bool, ...]
    provenance: Provenance


def _log_flags(log_returns: Sequence[bool] | None, d: int) -> tuple[bool, ...]:
    flags = tuple(bool(f) for f in log_returns) if log_returns is not None else (False,) * d
    if len(flags) != d:
        raise InvalidInput(f"{len(flags)} log-return flags for {d} factors", field="log_returns")
    return flags


def square_root(matrix: FloatArray, what: str) -> FloatArray:
    """A (d, d) root ``A`` with ``A @ A.T == matrix``: Cholesky, or eigen for semidefinite."""
    try:
        return np.asarray(np.linalg.cholesky(matrix), dtype=np.float64)
    except np.linalg.LinAlgError:
        values, vectors = np.linalg.eigh(matrix)
        if values.min() < -1e-10 * max(1.0, float(values.max())):
            raise InvalidInput(f"the {what} matrix is not positive semidefinite "
                               f"(eigenvalue {values.min():.3g})", field=what) from None
        return np.asarray(vectors * np.sqrt(np.clip(values, 0.0, None)), dtype=np.float64)


def student_t_model(factors: Sequence[str], mean: npt.ArrayLike, *,
                    covariance: npt.ArrayLike | None = None,
                    correlation: npt.ArrayLike | None = None, vols: npt.ArrayLike | None = None,
                    dof: float = 5.0, log_returns: Sequence[bool] | None = None
                    ) -> StudentTModel:
    """A daily Student-t model from a covariance, or from a correlation and daily vols."""
    names = tuple(factors)
    d = len(names)
    mu = np.asarray(mean, dtype=np.float64)
    if covariance is None:
        if correlation is None or vols is None:
            raise InvalidInput("give a covariance, or a correlation and vols", field="covariance")
        sd = np.asarray(vols, dtype=np.float64)
        cov = np.asarray(correlation, dtype=np.float64) * np.outer(sd, sd)
    else:
        cov = np.asarray(covariance, dtype=np.float64)
    if mu.shape != (d,) or cov.shape != (d, d):
        raise InvalidInput(f"mean {mu.shape} and covariance {cov.shape} do not match {d} "
                           "factors", field="covariance")
    if not (np.isfinite(mu).all() and np.isfinite(cov).all()) or not np.allclose(cov, cov.T):
        raise InvalidInput("mean and covariance must be finite, the covariance symmetric",
                           field="covariance")
    nu = float(dof)
    if not nu > 2:
        raise InvalidInput(f"degrees of freedom must exceed 2, got {dof!r}", field="dof")
    square_root(cov, "covariance")
    flags = _log_flags(log_returns, d)
    return StudentTModel(names, mu, cov, nu, flags, Provenance(
        method="montecarlo.student_t", inputs_hash=array_hash(mu, cov),
        parameters={"dof": nu, "factors": list(names), "log_returns": list(flags)}))


def ledoit_wolf_covariance(returns: npt.ArrayLike) -> tuple[FloatArray, float]:
    """Ledoit-Wolf (2004) covariance shrunk toward a scaled identity, and the intensity.

    ``returns`` (n_obs, d) is centred on its mean; the sample covariance divides by n_obs.
    """
    x = check_window(returns, minimum=2, what="returns")
    x = x - x.mean(axis=0)
    n, d = x.shape
    sample = x.T @ x / n
    mu = float(np.trace(sample)) / d
    target_gap = float(np.sum((sample - mu * np.eye(d)) ** 2)) / d
    squares = x * x
    spread = float(np.sum(squares.T @ squares) / n - np.sum(sample**2)) / (n * d)
    shrinkage = 0.0 if target_gap == 0 else min(spread, target_gap) / target_gap
    return (1 - shrinkage) * sample + shrinkage * mu * np.eye(d), shrinkage


def _t_loglik(nu: float, centred: FloatArray, covariance: FloatArray) -> float:
    d = centred.shape[1]
    scale = covariance * (nu - 2) / nu
    root = np.linalg.cholesky(scale)
    solved = np.linalg.solve(root, centred.T)
    delta = np.sum(solved * solved, axis=0)
    log_det = 2 * float(np.sum(np.log(np.diag(root))))
    per_obs = (special.gammaln((nu + d) / 2) - special.gammaln(nu / 2)
               - d / 2 * math.log(nu * math.pi) - log_det / 2
               - (nu + d) / 2 * np.log1p(delta / nu))
    return float(np.sum(per_obs))


def fit_student_t(factors: Sequence[str], returns: npt.ArrayLike, *, dof: float | None = None,
                  shrinkage: bool = True, zero_mean: bool = False,
                  log_returns: Sequence[bool] | None = None) -> StudentTModel:
    """Fit a daily Student-t model to a history (n_obs >= 30, n_factors) of factor moves.

    Covariance: Ledoit-Wolf on the correlation (variances kept) when ``shrinkage``, else
    the sample covariance (ddof 1). Degrees of
    freedom: ``dof`` if given, else the profile maximum-likelihood value in [2.1, 200] with
    the mean and covariance held at their estimates.
    """
    data = check_window(returns, minimum=30, what="returns")
    if data.ndim != 2 or data.shape[1] != len(factors):
        raise InvalidInput(f"returns must be (n_obs, {len(factors)}), got {data.shape}",
                           field="returns")
    mean = np.zeros(data.shape[1]) if zero_mean else data.mean(axis=0)
    cov = _shrunk_covariance(data) if shrinkage else np.atleast_2d(np.cov(data.T))
    if dof is None:
        centred = data - mean
        fit = optimize.minimize_scalar(lambda nu: -_t_loglik(nu, centred, cov),
                                       bounds=(2.1, 200.0), method="bounded",
                                       options={"xatol": 1e-4})
        dof = float(fit.x)
    model = student_t_model(factors, mean, covariance=cov, dof=dof, log_returns=log_returns)
    return StudentTModel(model.factors, model.mean, model.covariance, model.dof,
                         model.log_returns, Provenance(
                             method="montecarlo.student_t.fit", inputs_hash=array_hash(data),
                             parameters={"dof": model.dof, "shrinkage": shrinkage,
                                         "zero_mean": zero_mean, "factors": list(factors)}))


def _shrunk_covariance(data: FloatArray) -> FloatArray:
    """Ledoit-Wolf on the standardized moves, rescaled by each factor's own volatility.

    The Ledoit-Wolf target is a scaled identity: applied to raw moves whose scales differ by
    orders of magnitude (yields in percentage points, BTC in fractions), it inflates the small
    variances and erases hedges between factors. Shrinking the correlation keeps every
    factor's variance and pulls only the correlations toward zero.
    """
    std = data.std(axis=0, ddof=1)
    correlation = ledoit_wolf_covariance(data / std)[0]
    scale = np.sqrt(np.diag(correlation))
    correlation = correlation / np.outer(scale, scale)
    return np.asarray(correlation * np.outer(std, std), dtype=np.float64)


def fit_copula(factors: Sequence[str], returns: npt.ArrayLike, *, dof: float = math.inf,
               log_returns: Sequence[bool] | None = None) -> CopulaModel:
    """A Gaussian (``dof`` inf) or Student-t copula with empirical marginals from a history."""
    data = check_window(returns, minimum=30, what="returns")
    if data.ndim != 2 or data.shape[1] != len(factors):
        raise InvalidInput(f"returns must be (n_obs, {len(factors)}), got {data.shape}",
                           field="returns")
    if not float(dof) > 2:
        raise InvalidInput(f"copula degrees of freedom must exceed 2, got {dof!r}", field="dof")
    d = data.shape[1]
    correlation = np.eye(d)
    for i in range(d):
        for j in range(i + 1, d):
            tau = float(stats.kendalltau(data[:, i], data[:, j]).statistic)
            correlation[i, j] = correlation[j, i] = math.sin(math.pi * tau / 2)
    values, vectors = np.linalg.eigh(correlation)  # Kendall's matrix need not be PSD
    if values.min() < 1e-10:
        repaired = (vectors * np.clip(values, 1e-10, None)) @ vectors.T
        sd = np.sqrt(np.diag(repaired))
        correlation = repaired / np.outer(sd, sd)
    return CopulaModel(tuple(factors), np.sort(data, axis=0), correlation, float(dof),
                       _log_flags(log_returns, d), Provenance(
                           method="montecarlo.copula.fit", inputs_hash=array_hash(data),
                           parameters={"dof": float(dof), "factors": list(factors)}))
