"""Value at risk (VaR) and expected shortfall (CVaR) of returns or P&L, vectorized over series.

Conventions (each one is tested in ``tests/risk/test_measures.py``):

Sign and units
    ``values`` are per-period returns (fractions) or P&L, shape ``(n_obs,)`` or
    ``(n_obs, n_series)``; losses are ``-values``. VaR and CVaR are **positive losses** in
    the units of ``values`` (a 5 % loss is ``0.05``; P&L in USD gives USD).
Historical quantile
    ``VaR_a = -Q(values, 1 - a)`` where ``Q`` is :func:`numpy.quantile` with ``method``
    (default ``"linear"``, numpy's default: the order statistic at position
    ``(n - 1)(1 - a)``, interpolated linearly; R's type 7).
    ``CVaR_a = -mean{x : x <= Q(values, 1 - a)}``: with ``"linear"`` the worst
    ``floor((n - 1)(1 - a)) + 1`` observations (plus any ties), the tail that
    ``empyrical.conditional_value_at_risk(cutoff=1 - a)`` and quantstats'
    ``cvar(method="historical")`` average. CVaR >= VaR always (a rounding excess of the
    mean over the quantile is clipped).
Parametric
    ``normal``: sample mean and standard deviation (``ddof=1``, as quantstats).
    ``student-t``: location, scale and degrees of freedom by maximum likelihood
    (:func:`scipy.stats.t.fit` on the standardized sample), or, when ``dof`` is given,
    location = mean and scale = std * sqrt((dof - 2) / dof) (moments matched); closed-form
    ES ``scale * (dof + t^2) / (dof - 1) * f(t) / (1 - a)`` with ``t = t_dof^-1(a)``.
    ``cornish-fisher``: the normal quantile adjusted by the sample skewness ``S`` and excess
    kurtosis ``K`` (moment ratios, :func:`scipy.stats.skew` and ``kurtosis`` with
    ``bias=True``; std with ``ddof=1`` so that S = K = 0 gives the normal figures). ES is the
    exact tail mean of the Cornish-Fisher variable, integrating its polynomial in ``z``
    against the normal density in closed form. A warning is recorded where the expansion is
    not monotone in the tail (large S, K), where it no longer defines a distribution.
Horizon (``horizon_days`` h >= 1)
    ``scaling="aggregate"`` (default): parametric methods use mean * h and scale * sqrt(h)
    with the 1-day shape kept (dof, S, K unchanged: i.i.d. aggregation would thin the
    tails, so this errs on the prudent side); historical simulation uses h-day values,
    summed for ``kind="log"`` and ``"pnl"`` and compounded, ``prod(1 + r) - 1``, for
    ``"simple"``, over overlapping windows (default; ``n - h + 1`` values) or
    non-overlapping blocks ending at the last observation (``n // h`` values, the oldest
    ``n % h`` dropped). ``scaling="sqrt"``: the 1-day VaR and CVaR times sqrt(h).
Minimum history
    ``max(ceil(1 / (1 - a)), MIN_OBSERVATIONS)`` values (after h-day aggregation), so that
    at least one observation is expected beyond the VaR; NaN or infinite values and
    constant series are errors (:mod:`qoima.risk.checks`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats

from qoima.domain.enums import Severity
from qoima.domain.errors import DegenerateSeries, InvalidInput
from qoima.domain.findings import Finding
from qoima.risk.checks import FloatArray, as_matrix, check_horizon, check_level, check_window
from qoima.risk.provenance import Provenance, array_hash

#: Fewest values any measure accepts, whatever the level.
MIN_OBSERVATIONS = 10
#: numpy.quantile methods accepted for historical simulation.
QUANTILE_METHODS = frozenset({
    "inverted_cdf", "averaged_inverted_cdf", "closest_observation",
    "interpolated_inverted_cdf", "hazen", "weibull", "linear", "median_unbiased",
    "normal_unbiased", "lower", "higher", "midpoint", "nearest"})
CF_NOT_MONOTONE = "risk.cornish_fisher_not_monotone"
#: Historical selection: below this many values one full partition is as fast.
_PREFILTER_MIN_OBS = 1024
_SAMPLE_STEP = 8


class VarMethod(StrEnum):
    HISTORICAL = "historical"
    NORMAL = "normal"
    STUDENT_T = "student-t"
    CORNISH_FISHER = "cornish-fisher"


class ValueKind(StrEnum):
    """What the values are, which decides how they add up over several days."""

    SIMPLE = "simple"  # simple returns: compound
    LOG = "log"  # log returns: sum
    PNL = "pnl"  # profit and loss in money: sum


class HorizonScaling(StrEnum):
    AGGREGATE = "aggregate"  # h-day values (historical), mean*h and scale*sqrt(h) (parametric)
    SQRT = "sqrt"  # 1-day figures times sqrt(h)


def minimum_observations(level: float) -> int:
    """Fewest values accepted at ``level``: ``max(ceil(1 / (1 - level)), MIN_OBSERVATIONS)``."""
    tail = 1.0 - check_level(level)
    return max(math.ceil(round(1.0 / tail, 9)), MIN_OBSERVATIONS)


def _window(values: npt.ArrayLike, level: float) -> tuple[FloatArray, bool]:
    matrix, one_d = as_matrix(values)
    return check_window(matrix, minimum=minimum_observations(level)), one_d


def _out(array: FloatArray, one_d: bool) -> float | FloatArray:
    return float(array[0]) if one_d else array


# -- historical simulation ------------------------------------------------------------------

def _lower_tail(matrix: FloatArray, tail: float, method: str) -> tuple[FloatArray, FloatArray]:
    """Per column: the ``tail`` quantile and the mean of the values at or below it.

    ``matrix`` (n_obs, n_series) -> two arrays (n_series,). For ``"linear"`` one selection
    per column gives both: the kept order statistics are exactly those of ``np.quantile``,
    interpolated with numpy's own formula (bit-identical).
    """
    if method not in QUANTILE_METHODS:
        raise InvalidInput(f"unknown quantile method {method!r}", field="method")
    n = matrix.shape[0]
    if method != "linear":
        quantile = np.asarray(np.quantile(matrix, tail, axis=0, method=method),  # type: ignore[call-overload]
                              dtype=np.float64)
        return quantile, _mean_at_or_below(matrix, quantile)
    position = tail * (n - 1)  # numpy: virtual index = q * (n - 1)
    lo = math.floor(position)
    hi = min(lo + 1, n - 1)
    frac = position - lo
    ordered = _lowest(matrix, lo, hi)
    below, above = ordered[:, lo], ordered[:, hi]
    diff = above - below  # numpy's _lerp, including its switch at t >= 0.5
    quantile = above - diff * (1.0 - frac) if frac >= 0.5 else below + diff * frac
    tail_mean = ordered[:, : lo + 1].mean(axis=1)
    ties = quantile >= above  # values beyond position lo may equal the quantile
    if ties.any():
        tail_mean[ties] = _mean_at_or_below(matrix[:, ties], quantile[ties])
    return quantile, tail_mean


def _lowest(matrix: FloatArray, lo: int, hi: int) -> FloatArray:
    """Each column's lowest values, partitioned at ``lo`` and ``hi``.

    ``matrix`` (n_obs, n_series) -> (n_series, width >= hi + 1): row j holds column j's
    ``hi + 1`` smallest values first, with the ``lo``-th and ``hi``-th in place (padding
    +inf). Long windows skip most values: a threshold from every ``_SAMPLE_STEP``-th row
    keeps a few times ``hi + 1`` candidates per column, gathered in storage order and
    grouped by column with a stable (radix) sort of their column numbers, so the matrix is
    never transposed. When a column keeps too few, every column takes the full partition:
    the result is always exact.
    """
    n, n_series = matrix.shape
    needed = hi + 1
    if n >= _PREFILTER_MIN_OBS and needed * 4 <= n:
        matrix = np.ascontiguousarray(matrix)
        sample = np.ascontiguousarray(matrix[::_SAMPLE_STEP].T)
        expected = sample.shape[1] * needed / n
        rank = min(sample.shape[1] - 1, math.ceil(expected + 4 * math.sqrt(expected) + 4))
        bound = np.partition(sample, rank, axis=1)[:, rank]
        flat = np.flatnonzero(matrix <= bound)  # row after row
        column = (flat % n_series).astype(np.min_scalar_type(n_series))
        counts = np.bincount(column, minlength=n_series)
        if (counts >= needed).all():
            kept = matrix.ravel()[flat][np.argsort(column, kind="stable")]  # by column
            width = int(counts.max())
            start = np.repeat(np.arange(n_series) * width - (np.cumsum(counts) - counts), counts)
            padded = np.full((n_series, width), np.inf)
            padded.ravel()[np.arange(kept.size) + start] = kept
            return np.partition(padded, [lo, hi], axis=1)
    return np.partition(np.ascontiguousarray(matrix.T), [lo, hi], axis=1)


def _mean_at_or_below(matrix: FloatArray, bound: FloatArray) -> FloatArray:
    """Per column of ``matrix`` (n_obs, n_series): the mean of the values <= ``bound``."""
    inside = matrix <= bound
    total = np.where(inside, matrix, 0.0).sum(axis=0)
    return np.asarray(total / inside.sum(axis=0), dtype=np.float64)


def historical_tail(matrix: FloatArray, level: float, method: str = "linear"
                    ) -> tuple[FloatArray, FloatArray]:
    """Historical VaR and CVaR, (n_series,) each, of every column of ``matrix`` (n_obs,
    n_series) that the caller has already checked (finite, at least
    ``minimum_observations(level)`` rows): the kernel of :func:`historical_var_cvar`, for
    batch callers that check their input once."""
    quantile, tail_mean = _lower_tail(matrix, 1.0 - level, method)
    var = -quantile
    return var, np.maximum(-tail_mean, var)


def historical_var_cvar(values: npt.ArrayLike, level: float, *, method: str = "linear"
                        ) -> tuple[float | FloatArray, float | FloatArray]:
    """Historical VaR and CVaR (positive losses) of ``values`` (n_obs,) or (n_obs, n_series).

    One selection per column gives both. Returns floats for 1-D input, (n_series,) arrays
    otherwise.
    """
    level = check_level(level)
    matrix, one_d = _window(values, level)
    var, cvar = historical_tail(matrix, level, method)
    return _out(var, one_d), _out(cvar, one_d)


def historical_var(values: npt.ArrayLike, level: float, *, method: str = "linear"
                   ) -> float | FloatArray:
    """``-quantile(values, 1 - level, method)`` per column (module docstring)."""
    return historical_var_cvar(values, level, method=method)[0]


def historical_cvar(values: npt.ArrayLike, level: float, *, method: str = "linear"
                    ) -> float | FloatArray:
    """Minus the mean of the values at or below the ``1 - level`` quantile, per column."""
    return historical_var_cvar(values, level, method=method)[1]


def aggregate_horizon(values: npt.ArrayLike, horizon_days: int, *,
                      kind: ValueKind | str = ValueKind.LOG, overlapping: bool = True
                      ) -> FloatArray:
    """h-day values from 1-day ``values`` (n_obs,) or (n_obs, n_series), same dimensions.

    Log returns and P&L are summed, simple returns compounded; ``overlapping`` windows give
    ``n - h + 1`` rows, non-overlapping blocks ``n // h`` rows ending at the last one.
    """
    horizon_days = check_horizon(horizon_days)
    kind = ValueKind(kind)
    array = np.asarray(values, dtype=np.float64)
    if kind is ValueKind.SIMPLE and (array < -1.0).any():
        raise InvalidInput("simple returns below -100 % cannot compound", field="values")
    if horizon_days == 1:
        return array
    if kind is ValueKind.SIMPLE:
        array = np.log1p(array)
    if array.shape[0] < horizon_days:
        summed = array[:0]  # no complete h-day window
    elif overlapping:
        windows = np.lib.stride_tricks.sliding_window_view(array, horizon_days, axis=0)
        summed = windows.sum(axis=-1)
    else:
        blocks = array.shape[0] // horizon_days
        kept = array[array.shape[0] - blocks * horizon_days:]
        summed = kept.reshape(blocks, horizon_days, *array.shape[1:]).sum(axis=1)
    return np.expm1(summed) if kind is ValueKind.SIMPLE else np.asarray(summed)


# -- parametric -----------------------------------------------------------------------------

def _normal(matrix: FloatArray, level: float, horizon_days: int
            ) -> tuple[FloatArray, FloatArray]:
    mean = matrix.mean(axis=0) * horizon_days
    std = matrix.std(axis=0, ddof=1) * math.sqrt(horizon_days)
    z = float(stats.norm.ppf(level))
    var = std * z - mean
    cvar = std * float(stats.norm.pdf(z)) / (1.0 - level) - mean
    return var, cvar


def normal_var_cvar(values: npt.ArrayLike, level: float, *, horizon_days: int = 1
                    ) -> tuple[float | FloatArray, float | FloatArray]:
    """Parametric normal VaR and CVaR: ``-(mean h) + sigma sqrt(h) z_a`` and its tail mean."""
    level = check_level(level)
    horizon_days = check_horizon(horizon_days)
    matrix, one_d = _window(values, level)
    var, cvar = _normal(matrix, level, horizon_days)
    return _out(var, one_d), _out(cvar, one_d)


def student_t_parameters(matrix: FloatArray, dof: float | None = None
                         ) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Degrees of freedom, location and scale per column of ``matrix`` (n_obs, n_series).

    Maximum likelihood on the standardized column (affine-equivariant, better conditioned
    for P&L in millions) when ``dof`` is None; otherwise moments matched for the given dof.
    """
    mean = matrix.mean(axis=0)
    std = matrix.std(axis=0, ddof=1)
    if dof is not None:
        if not float(dof) > 2.0:
            raise InvalidInput(f"Student-t degrees of freedom must exceed 2, got {dof!r}",
                               field="dof")
        dofs = np.full(mean.shape, float(dof))
        return dofs, mean, std * np.sqrt((dofs - 2.0) / dofs)
    dofs, locs, scales = (np.empty_like(mean) for _ in range(3))
    for column in range(matrix.shape[1]):
        standardized = (matrix[:, column] - mean[column]) / std[column]
        fit_dof, fit_loc, fit_scale = stats.t.fit(standardized)
        dofs[column] = fit_dof
        locs[column] = mean[column] + std[column] * fit_loc
        scales[column] = std[column] * fit_scale
    if (dofs <= 1.0).any():
        column = int(np.flatnonzero(dofs <= 1.0)[0])
        raise DegenerateSeries(f"series {column}: fitted Student-t has {dofs[column]:.3g} "
                               "degrees of freedom; its expected shortfall is infinite",
                               field="values", column=column)
    return dofs, locs, scales


def _student_t(dofs: FloatArray, locs: FloatArray, scales: FloatArray, level: float,
               horizon_days: int) -> tuple[FloatArray, FloatArray]:
    t_level = np.asarray(stats.t.ppf(level, dofs), dtype=np.float64)
    density = np.asarray(stats.t.pdf(t_level, dofs), dtype=np.float64)
    scale = scales * math.sqrt(horizon_days)
    loc = locs * horizon_days
    shortfall = (dofs + t_level**2) / (dofs - 1.0) * density / (1.0 - level)
    return scale * t_level - loc, scale * shortfall - loc


def student_t_var_cvar(values: npt.ArrayLike, level: float, *, horizon_days: int = 1,
                       dof: float | None = None
                       ) -> tuple[float | FloatArray, float | FloatArray]:
    """Student-t VaR and CVaR, dof fitted by maximum likelihood unless given."""
    level = check_level(level)
    horizon_days = check_horizon(horizon_days)
    matrix, one_d = _window(values, level)
    var, cvar = _student_t(*student_t_parameters(matrix, dof), level, horizon_days)
    return _out(var, one_d), _out(cvar, one_d)


def _cf_moments(matrix: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    return (matrix.mean(axis=0), matrix.std(axis=0, ddof=1),
            np.asarray(stats.skew(matrix, axis=0), dtype=np.float64),
            np.asarray(stats.kurtosis(matrix, axis=0), dtype=np.float64))


def cornish_fisher_quantile(z: npt.ArrayLike, skew: npt.ArrayLike, excess_kurtosis: npt.ArrayLike
                            ) -> FloatArray:
    """Standard normal quantile ``z`` adjusted for skewness and excess kurtosis."""
    z, s, k = (np.asarray(a, dtype=np.float64) for a in (z, skew, excess_kurtosis))
    return np.asarray(z + (z**2 - 1) * s / 6 + (z**3 - 3 * z) * k / 24
                      - (2 * z**3 - 5 * z) * s**2 / 36, dtype=np.float64)


def _cornish_fisher(mean: FloatArray, std: FloatArray, skew: FloatArray, kurt: FloatArray,
                    level: float, horizon_days: int) -> tuple[FloatArray, FloatArray]:
    c = float(stats.norm.ppf(1.0 - level))  # the lower-tail normal quantile, negative
    phi, tail = float(stats.norm.pdf(c)), 1.0 - level
    # E[Z^j ; Z <= c] for Z ~ N(0, 1), j = 0..3 (truncated normal moments)
    m0, m1, m2, m3 = tail, -phi, tail - c * phi, -(c * c + 2.0) * phi
    # The Cornish-Fisher polynomial a0 + a1 z + a2 z^2 + a3 z^3, integrated term by term
    a0 = -skew / 6
    a1 = 1.0 - kurt / 8 + 5 * skew**2 / 36
    a2 = skew / 6
    a3 = kurt / 24 - skew**2 / 18
    tail_mean_z = (a0 * m0 + a1 * m1 + a2 * m2 + a3 * m3) / tail
    scale, loc = std * math.sqrt(horizon_days), mean * horizon_days
    var = -(loc + scale * cornish_fisher_quantile(c, skew, kurt))
    cvar = -(loc + scale * tail_mean_z)
    return var, np.maximum(cvar, var)


def cornish_fisher_monotone(skew: FloatArray, kurt: FloatArray, level: float
                            ) -> npt.NDArray[np.bool_]:
    """Whether the expansion increases in z over the tail below the ``level`` quantile
    (checked on z in [-8, z_(1-level)]), per series; a boolean array."""
    z = np.linspace(-8.0, float(stats.norm.ppf(1.0 - level)), 200)[:, None]
    slope = (1 + z * skew / 3 + (z**2 - 1) * kurt / 8 - (6 * z**2 - 5) * skew**2 / 36)
    return np.asarray((slope > 0).all(axis=0))


def cornish_fisher_var_cvar(values: npt.ArrayLike, level: float, *, horizon_days: int = 1
                            ) -> tuple[float | FloatArray, float | FloatArray]:
    """Cornish-Fisher (skewness and kurtosis adjusted) VaR and CVaR."""
    level = check_level(level)
    horizon_days = check_horizon(horizon_days)
    matrix, one_d = _window(values, level)
    var, cvar = _cornish_fisher(*_cf_moments(matrix), level, horizon_days)
    return _out(var, one_d), _out(cvar, one_d)


# -- results --------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class VarResult:
    """VaR and CVaR of one series at one level, horizon and method (positive losses).

    ``n_obs`` counts the 1-day values used; ``provenance.parameters`` holds the choices
    (kind, scaling, overlapping, quantile method) and the fitted parameters.
    """

    series: str
    method: VarMethod
    level: float
    horizon_days: int
    var: float
    cvar: float
    n_obs: int
    provenance: Provenance


def var_table(values: npt.ArrayLike, levels: Sequence[float] = (0.95, 0.99),
              horizons: Sequence[int] = (1, 10),
              methods: Sequence[VarMethod | str] = tuple(VarMethod), *,
              names: Sequence[str] | None = None, kind: ValueKind | str = ValueKind.LOG,
              scaling: HorizonScaling | str = HorizonScaling.AGGREGATE,
              overlapping: bool = True, quantile_method: str = "linear",
              dof: float | None = None) -> tuple[VarResult, ...]:
    """VaR and CVaR for every series x method x level x horizon, in that order.

    ``values`` (n_obs,) or (n_obs, n_series) of 1-day returns or P&L; ``names`` label the
    columns (default "0", "1", ...; "" for 1-D input). Each model is fitted once per series.
    """
    matrix, one_d = as_matrix(values)
    inputs_hash = array_hash(values)
    levels = tuple(check_level(level) for level in levels)
    horizons = tuple(check_horizon(h) for h in horizons)
    kind, scaling = ValueKind(kind), HorizonScaling(scaling)
    chosen = tuple(VarMethod(m) for m in methods)
    labels = _names(names, matrix.shape[1], one_d)
    check_window(matrix, minimum=max(minimum_observations(a) for a in levels))
    common: dict[str, Any] = {"kind": kind.value, "scaling": scaling.value}
    fits = {method: _fit(matrix, method, dof) for method in chosen}
    figures = {method: _figures(matrix, method, fits[method], levels, horizons, kind=kind,
                                scaling=scaling, overlapping=overlapping,
                                quantile_method=quantile_method) for method in chosen}
    results = []
    for column, label in enumerate(labels):
        for method in chosen:
            fitted = {k: float(v[column]) for k, v in fits[method].items()}
            for (level, horizon), (var, cvar, monotone) in figures[method].items():
                warnings = () if monotone[column] else (_cf_warning(label, level, fitted),)
                parameters: dict[str, Any] = {**common, "level": level,
                                              "horizon_days": horizon, **fitted}
                if method is VarMethod.HISTORICAL:
                    parameters |= {"quantile_method": quantile_method,
                                   "overlapping": overlapping}
                if method is VarMethod.STUDENT_T:
                    parameters["dof_fitted"] = dof is None
                results.append(VarResult(
                    series=label, method=method, level=level, horizon_days=horizon,
                    var=float(var[column]), cvar=float(cvar[column]), n_obs=matrix.shape[0],
                    provenance=Provenance(method=f"risk.var.{method.value}",
                                          inputs_hash=inputs_hash, parameters=parameters,
                                          warnings=warnings)))
    return tuple(results)


def _names(names: Sequence[str] | None, n_series: int, one_d: bool) -> tuple[str, ...]:
    if names is None:
        return ("",) if one_d else tuple(str(i) for i in range(n_series))
    if len(names) != n_series:
        raise InvalidInput(f"{len(names)} names for {n_series} series", field="names")
    return tuple(names)


def _fit(matrix: FloatArray, method: VarMethod, dof: float | None) -> dict[str, FloatArray]:
    """Each column's fitted parameters for ``method`` (none for historical simulation)."""
    if method is VarMethod.STUDENT_T:
        return dict(zip(("dof", "loc", "scale"), student_t_parameters(matrix, dof),
                        strict=True))
    if method is VarMethod.CORNISH_FISHER:
        return dict(zip(("mean", "std", "skew", "excess_kurtosis"), _cf_moments(matrix),
                        strict=True))
    if method is VarMethod.NORMAL:
        return {"mean": matrix.mean(axis=0), "std": matrix.std(axis=0, ddof=1)}
    return {}


def _figures(matrix: FloatArray, method: VarMethod, fit: dict[str, FloatArray],
             levels: tuple[float, ...], horizons: tuple[int, ...], *, kind: ValueKind,
             scaling: HorizonScaling, overlapping: bool, quantile_method: str
             ) -> dict[tuple[float, int], tuple[FloatArray, FloatArray, npt.NDArray[np.bool_]]]:
    """(var, cvar, Cornish-Fisher monotone?) per (level, horizon), all columns at once."""
    figures = {}
    sqrt_rule = scaling is HorizonScaling.SQRT
    for level in levels:
        monotone = np.ones(matrix.shape[1], dtype=np.bool_)
        if method is VarMethod.CORNISH_FISHER:
            monotone = cornish_fisher_monotone(fit["skew"], fit["excess_kurtosis"], level)
        for horizon in horizons:
            days = 1 if sqrt_rule else horizon
            if method is VarMethod.HISTORICAL:
                window = aggregate_horizon(matrix, days, kind=kind, overlapping=overlapping)
                check_window(window, minimum=minimum_observations(level),
                             what=f"{days}-day values")
                var, cvar = historical_tail(window, level, quantile_method)
            elif method is VarMethod.NORMAL:
                var, cvar = _normal(matrix, level, days)
            elif method is VarMethod.STUDENT_T:
                var, cvar = _student_t(fit["dof"], fit["loc"], fit["scale"], level, days)
            else:
                var, cvar = _cornish_fisher(fit["mean"], fit["std"], fit["skew"],
                                            fit["excess_kurtosis"], level, days)
            if sqrt_rule:
                var, cvar = var * math.sqrt(horizon), cvar * math.sqrt(horizon)
            figures[(level, horizon)] = (var, cvar, monotone)
    return figures


def _cf_warning(label: str, level: float, fitted: dict[str, float]) -> Finding:
    return Finding(rule=CF_NOT_MONOTONE, severity=Severity.WARNING, subject=label,
                   message=(f"Cornish-Fisher expansion is not monotone in the tail at level "
                            f"{level} (skew {fitted['skew']:.3g}, excess kurtosis "
                            f"{fitted['excess_kurtosis']:.3g}); its VaR is unreliable"))


def value_at_risk(values: npt.ArrayLike, level: float, *,
                  method: VarMethod | str = VarMethod.HISTORICAL, horizon_days: int = 1,
                  kind: ValueKind | str = ValueKind.LOG,
                  scaling: HorizonScaling | str = HorizonScaling.AGGREGATE,
                  overlapping: bool = True, quantile_method: str = "linear",
                  dof: float | None = None, name: str = "") -> VarResult:
    """One :class:`VarResult` for a single series ``values`` (n_obs,)."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise InvalidInput(f"value_at_risk takes one series, got shape {array.shape}; "
                           "use var_table for several", field="values")
    (result,) = var_table(array, (level,), (horizon_days,), (method,), names=(name,),
                          kind=kind, scaling=scaling, overlapping=overlapping,
                          quantile_method=quantile_method, dof=dof)
    return result
