"""Correlation structures of crypto exposures against macro factors (issue 4, item 6).

How BTC, ETH, a spot ETF or a crypto equity move with the dollar index, gold, oil, the
S&P 500 and Treasury yields: over the full sample, in rolling windows, and conditional on a
volatility regime (calm against stressed/crisis), with a Fisher z test of the difference.

Inputs are a :class:`ReturnsPanel`: returns on one set of dates, built from aligned returns
(:func:`ReturnsPanel.from_aligned`, prices as log returns with ``AlignmentRule.COMPOUND`` and
yields as changes in percentage points with ``LAST_OBSERVATION`` on the same calendar) or
from plain arrays. The alignment is the caller's explicit choice; this module never drops
rows silently: NaN inside a full-sample or regime window is an error, and rolling windows
that contain NaN or a flat series are left out and counted in a finding.

A beta here is the univariate slope ``cov(exposure, factor) / var(factor)``: units of the
exposure's return per unit of the factor's move (per percentage point for yields). For
multi-factor betas use :func:`qoima.risk.regression.estimate_betas`.

Conditional correlations rise mechanically with volatility (Forbes and Rigobon, 2002), so a
higher correlation in stress is partly a volatility effect; the Fisher z test takes the
regimes as independent samples.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view
from scipy import stats

from qoima.domain.enums import Severity
from qoima.domain.errors import DegenerateSeries, InsufficientHistory, InvalidInput
from qoima.domain.findings import Finding
from qoima.risk.panel import ReturnsPanel
from qoima.risk.provenance import Provenance, array_hash

FloatArray = npt.NDArray[np.float64]
CorrelationMethod = Literal["pearson", "spearman"]

DEFAULT_MIN_OBS = 30
DEFAULT_ROLLING_WINDOW = 90
WINDOWS_LEFT_OUT = "risk.rolling_windows_left_out"
REGIME_LEFT_OUT = "risk.regime_too_short"
#: Correlations are clipped this close to ±1 before the Fisher transform (atanh(±1) = ±inf).
_FISHER_CLIP = 1.0 - 1e-12
_ROLLING_CHUNK = 1024  # windows computed at once: bounds memory to chunk × columns × window


@dataclass(frozen=True, slots=True, eq=False)
class CorrelationResult:
    """Full-sample correlation matrix ``correlation`` (k, k) of ``names``."""

    names: tuple[str, ...]
    correlation: FloatArray
    method: CorrelationMethod
    n_obs: int
    start_date: date
    end_date: date
    provenance: Provenance

    def value(self, first: str, second: str) -> float:
        return float(self.correlation[self.names.index(first), self.names.index(second)])


@dataclass(frozen=True, slots=True, eq=False)
class FactorCorrelationResult:
    """Correlation and univariate beta of each exposure (rows) to each factor (columns).

    ``correlation`` and ``beta`` have shape (n_exposures, n_factors); ``beta[i, j]`` is
    ``cov(exposure_i, factor_j) / var(factor_j)``, always from Pearson moments.
    """

    exposures: tuple[str, ...]
    factors: tuple[str, ...]
    correlation: FloatArray
    beta: FloatArray
    method: CorrelationMethod
    n_obs: int
    start_date: date
    end_date: date
    provenance: Provenance

    def value(self, exposure: str, factor: str) -> float:
        return float(self.correlation[self.exposures.index(exposure),
                                      self.factors.index(factor)])

    def beta_of(self, exposure: str, factor: str) -> float:
        return float(self.beta[self.exposures.index(exposure), self.factors.index(factor)])


@dataclass(frozen=True, slots=True, eq=False)
class RollingPair:
    """Rolling correlation and beta of one exposure to one factor.

    ``dates`` are the end dates of the windows kept; ``correlation`` and ``beta`` have the
    same length and hold no NaN.
    """

    exposure: str
    factor: str
    dates: tuple[date, ...]
    correlation: FloatArray
    beta: FloatArray
    windows_left_out: int


@dataclass(frozen=True, slots=True, eq=False)
class RollingCorrelationResult:
    window: int
    pairs: tuple[RollingPair, ...]
    provenance: Provenance

    def pair(self, exposure: str, factor: str) -> RollingPair:
        for item in self.pairs:
            if item.exposure == exposure and item.factor == factor:
                return item
        raise InvalidInput(f"no pair {exposure}/{factor}", field="pair")


@dataclass(frozen=True, slots=True, eq=False)
class RegimeCorrelation:
    """Correlations and betas (n_exposures, n_factors) over the dates labelled ``regime``."""

    regime: str
    n_obs: int
    correlation: FloatArray
    beta: FloatArray


@dataclass(frozen=True, slots=True, eq=False)
class RegimeComparison:
    """Fisher z test of ``correlation[other] - correlation[base]``, per exposure/factor.

    ``z`` is ``(atanh(r_other) - atanh(r_base)) / sqrt(1/(n_other-3) + 1/(n_base-3))`` and
    ``p_value`` its two-sided normal p-value; all arrays (n_exposures, n_factors).
    """

    base: str
    other: str
    n_base: int
    n_other: int
    difference: FloatArray
    z: FloatArray
    p_value: FloatArray


@dataclass(frozen=True, slots=True, eq=False)
class ConditionalCorrelationResult:
    exposures: tuple[str, ...]
    factors: tuple[str, ...]
    method: CorrelationMethod
    regimes: tuple[RegimeCorrelation, ...]
    comparisons: tuple[RegimeComparison, ...]
    provenance: Provenance

    def regime(self, label: str) -> RegimeCorrelation:
        for item in self.regimes:
            if item.regime == label:
                return item
        raise InvalidInput(f"no regime {label!r} with enough observations", field="regime")

    def comparison(self, other: str) -> RegimeComparison:
        for item in self.comparisons:
            if item.other == other:
                return item
        raise InvalidInput(f"no comparison with {other!r}", field="regime")


def correlation_matrix(panel: ReturnsPanel, *, method: CorrelationMethod = "pearson",
                       min_obs: int = DEFAULT_MIN_OBS) -> CorrelationResult:
    """Full-sample correlation matrix of every column of ``panel`` (pandas ``.corr()``).

    Raises InsufficientHistory below ``min_obs`` rows, DegenerateSeries on NaN or a
    constant column.
    """
    values = np.asarray(panel.values, dtype=np.float64)
    _check_rows(values, panel.names, panel.dates, max(min_obs, 3), "returns")
    correlation, _ = _cross(values, values, _method(method))
    np.fill_diagonal(correlation, 1.0)
    return CorrelationResult(
        names=panel.names, correlation=_frozen(correlation), method=method,
        n_obs=values.shape[0], start_date=panel.dates[0], end_date=panel.dates[-1],
        provenance=Provenance("correlation-matrix", array_hash(values),
                              {"method": method, "names": list(panel.names),
                               "n_obs": values.shape[0], "source": panel.source_hash}))


def factor_correlations(panel: ReturnsPanel, exposures: Sequence[str], factors: Sequence[str],
                        *, method: CorrelationMethod = "pearson",
                        min_obs: int = DEFAULT_MIN_OBS) -> FactorCorrelationResult:
    """Full-sample correlation and beta of each exposure to each factor.

    ``exposures`` and ``factors`` name columns of ``panel`` (e.g. ``("BTC", "IBIT")`` and
    ``("DXY", "GOLD", "WTI", "SPX", "DGS10")``). Errors as :func:`correlation_matrix`.
    """
    x, f = _blocks(panel, exposures, factors)
    _check_rows(np.hstack([x, f]), [*exposures, *factors], panel.dates, max(min_obs, 3),
                "returns")
    correlation, beta = _cross(x, f, _method(method))
    return FactorCorrelationResult(
        exposures=tuple(exposures), factors=tuple(factors), correlation=_frozen(correlation),
        beta=_frozen(beta), method=method, n_obs=x.shape[0], start_date=panel.dates[0],
        end_date=panel.dates[-1],
        provenance=Provenance("factor-correlation", array_hash(x, f),
                              {"method": method, "exposures": list(exposures),
                               "factors": list(factors), "n_obs": x.shape[0],
                               "source": panel.source_hash}))


def rolling_factor_correlations(panel: ReturnsPanel, exposures: Sequence[str],
                                factors: Sequence[str], *,
                                window: int = DEFAULT_ROLLING_WINDOW) -> RollingCorrelationResult:
    """Pearson correlation and beta over every ``window`` consecutive rows, per pair.

    Equals pandas ``x.rolling(window).corr(f)`` (and ``.cov(f) / f.rolling(window).var()``)
    on the windows kept. A window in which either series has a NaN or is flat is left out
    of that pair (not NaN), and a finding counts them; NaN outside the window does not
    matter, so a series that starts late (an ETF) simply has fewer windows.
    """
    if int(window) != window or window < 3:
        raise InvalidInput(f"window must be a whole number >= 3, got {window!r}",
                           field="window")
    x, f = _blocks(panel, exposures, factors)
    n_obs = x.shape[0]
    if n_obs < window:
        raise InsufficientHistory(f"{n_obs} observations, window of {window} needed",
                                  field="returns", observations=n_obs, needed=window)
    valid_x, valid_f = _usable_windows(x, window), _usable_windows(f, window)
    correlation, beta = _rolling_moments(_zero_bad(x), _zero_bad(f), window)
    end_dates = panel.dates[window - 1:]
    pairs, warnings = [], []
    for i, exposure in enumerate(exposures):
        for j, factor in enumerate(factors):
            keep = valid_x[:, i] & valid_f[:, j]
            left_out = int(keep.size - keep.sum())
            pairs.append(RollingPair(exposure, factor,
                                     tuple(d for d, k in zip(end_dates, keep, strict=True) if k),
                                     _frozen(correlation[keep, i, j]), _frozen(beta[keep, i, j]),
                                     left_out))
            if left_out:
                warnings.append(_left_out_finding(exposure, factor, end_dates, keep, window))
    return RollingCorrelationResult(
        window=int(window), pairs=tuple(pairs),
        provenance=Provenance("rolling-factor-correlation", array_hash(x, f),
                              {"window": int(window), "exposures": list(exposures),
                               "factors": list(factors), "source": panel.source_hash},
                              warnings=tuple(warnings)))


def conditional_factor_correlations(
    panel: ReturnsPanel,
    exposures: Sequence[str],
    factors: Sequence[str],
    labels: Sequence[str],
    *,
    base: str = "calm",
    pooled: bool = True,
    method: CorrelationMethod = "pearson",
    min_obs: int = DEFAULT_MIN_OBS,
) -> ConditionalCorrelationResult:
    """Correlations and betas per regime label, and Fisher z tests against ``base``.

    Parameters
    ----------
    labels : sequence of str, length n_obs
        The regime of each row ("calm", "stressed", "crisis"), e.g. from a regime
        classifier run on the same dates.
    base : str
        The regime the others are compared with.
    pooled : bool
        Also compare ``base`` with all other rows together (named "stressed+crisis" for
        those labels: the other labels joined by "+", sorted).
    min_obs : int
        A regime with fewer rows is left out with a finding (at least 4: the z test needs
        n - 3 > 0).
    """
    method = _method(method)
    x, f = _blocks(panel, exposures, factors)
    regimes = tuple(str(label) for label in labels)
    if len(regimes) != x.shape[0]:
        raise InvalidInput(f"{len(regimes)} labels for {x.shape[0]} rows", field="labels")
    bad = np.argwhere(~np.isfinite(np.hstack([x, f])))
    if bad.size:
        _check_rows(np.hstack([x, f]), [*exposures, *factors], panel.dates, 1, "returns")
    minimum = max(int(min_obs), 4)
    order = sorted(set(regimes), key=regimes.index)
    groups: dict[str, npt.NDArray[np.bool_]] = {
        label: np.array([r == label for r in regimes]) for label in order}
    others = sorted(label for label in order if label != base)
    if pooled and len(others) > 1:
        groups["+".join(others)] = np.array([r != base for r in regimes])
    blocks, warnings = [], []
    for label, rows in groups.items():
        n = int(rows.sum())
        if n < minimum:
            warnings.append(Finding(REGIME_LEFT_OUT, Severity.WARNING, label,
                                    f"regime {label!r}: {n} observations, fewer than "
                                    f"{minimum}; its correlations are left out",
                                    measured=str(n), limit=str(minimum)))
            continue
        _check_rows(np.hstack([x[rows], f[rows]]), [*exposures, *factors],
                    [d for d, r in zip(panel.dates, rows, strict=True) if r], minimum,
                    f"returns in regime {label!r}")
        correlation, beta = _cross(x[rows], f[rows], method)
        blocks.append(RegimeCorrelation(label, n, _frozen(correlation), _frozen(beta)))
    found = {block.regime: block for block in blocks}
    comparisons = []
    if base in found:
        comparisons = [_fisher(found[base], block) for block in blocks if block.regime != base]
    else:
        warnings.append(Finding(REGIME_LEFT_OUT, Severity.WARNING, base,
                                f"base regime {base!r} has too few observations or none; "
                                "no comparisons"))
    return ConditionalCorrelationResult(
        exposures=tuple(exposures), factors=tuple(factors), method=method,
        regimes=tuple(blocks), comparisons=tuple(comparisons),
        provenance=Provenance("conditional-factor-correlation", array_hash(x, f),
                              {"method": method, "base": base, "pooled": pooled,
                               "min_obs": minimum, "exposures": list(exposures),
                               "factors": list(factors), "labels_hash":
                               array_hash([order.index(r) for r in regimes]),
                               "source": panel.source_hash},
                              warnings=tuple(warnings)))


def fisher_z_test(r_first: npt.ArrayLike, n_first: int, r_second: npt.ArrayLike,
                  n_second: int) -> tuple[FloatArray, FloatArray]:
    """Fisher z statistic of ``r_second - r_first`` from independent samples, and its
    two-sided p-value; correlations are clipped just inside ±1."""
    if min(n_first, n_second) < 4:
        raise InsufficientHistory("the Fisher z test needs at least 4 observations per sample",
                                  field="n_obs", observations=min(n_first, n_second), needed=4)
    first = np.arctanh(np.clip(np.asarray(r_first, dtype=np.float64), -_FISHER_CLIP,
                               _FISHER_CLIP))
    second = np.arctanh(np.clip(np.asarray(r_second, dtype=np.float64), -_FISHER_CLIP,
                                _FISHER_CLIP))
    z = (second - first) / np.sqrt(1.0 / (n_first - 3) + 1.0 / (n_second - 3))
    return z, 2.0 * stats.norm.sf(np.abs(z))


# --- internals ---------------------------------------------------------------------------

def _fisher(base: RegimeCorrelation, other: RegimeCorrelation) -> RegimeComparison:
    z, p = fisher_z_test(base.correlation, base.n_obs, other.correlation, other.n_obs)
    return RegimeComparison(base.regime, other.regime, base.n_obs, other.n_obs,
                            _frozen(other.correlation - base.correlation), _frozen(z),
                            _frozen(p))


def _blocks(panel: ReturnsPanel, exposures: Sequence[str],
            factors: Sequence[str]) -> tuple[FloatArray, FloatArray]:
    if not exposures or not factors:
        raise InvalidInput("name at least one exposure and one factor", field="exposures")
    return (panel.select(*exposures).values.astype(np.float64),
            panel.select(*factors).values.astype(np.float64))


def _cross(x: FloatArray, f: FloatArray, method: CorrelationMethod) -> tuple[FloatArray,
                                                                            FloatArray]:
    """Correlation (by ``method``) and Pearson beta of each column of x to each of f."""
    xc, fc = x - x.mean(axis=0), f - f.mean(axis=0)
    covariance = xc.T @ fc
    factor_ss = np.sum(fc * fc, axis=0)
    beta = covariance / factor_ss
    if method == "spearman":
        xc = _ranked(x) - (x.shape[0] + 1) / 2.0
        fc = _ranked(f) - (f.shape[0] + 1) / 2.0
        covariance, factor_ss = xc.T @ fc, np.sum(fc * fc, axis=0)
    correlation = covariance / np.sqrt(np.outer(np.sum(xc * xc, axis=0), factor_ss))
    return np.clip(correlation, -1.0, 1.0), beta


def _ranked(values: FloatArray) -> FloatArray:
    """Column ranks, ties averaged (as pandas ``method="spearman"``)."""
    return np.asarray(stats.rankdata(values, axis=0), dtype=np.float64)


def _usable_windows(values: FloatArray, window: int) -> npt.NDArray[np.bool_]:
    """(n_windows, n_series): the window has no NaN/inf and is not flat."""
    finite = np.isfinite(values)
    bad = np.concatenate([np.zeros((1, values.shape[1])),
                          np.cumsum(~finite, axis=0)], axis=0)
    clean = (bad[window:] - bad[:-window]) == 0
    views = sliding_window_view(_zero_bad(values), window, axis=0)
    flat = np.ptp(views, axis=-1) == 0.0
    return np.asarray(clean & ~flat, dtype=np.bool_)


def _rolling_moments(x: FloatArray, f: FloatArray,
                     window: int) -> tuple[FloatArray, FloatArray]:
    """Two-pass correlation and beta per window: arrays (n_windows, n_x, n_f)."""
    x_views = sliding_window_view(x, window, axis=0)  # (n_windows, n_x, window)
    f_views = sliding_window_view(f, window, axis=0)
    n_windows = x_views.shape[0]
    correlation = np.empty((n_windows, x.shape[1], f.shape[1]))
    beta = np.empty_like(correlation)
    for start in range(0, n_windows, _ROLLING_CHUNK):
        part = slice(start, start + _ROLLING_CHUNK)
        xc = x_views[part] - x_views[part].mean(axis=-1, keepdims=True)
        fc = f_views[part] - f_views[part].mean(axis=-1, keepdims=True)
        covariance = np.einsum("mxw,mfw->mxf", xc, fc)
        x_ss = np.einsum("mxw,mxw->mx", xc, xc)
        f_ss = np.einsum("mfw,mfw->mf", fc, fc)
        with np.errstate(divide="ignore", invalid="ignore"):  # flat windows: dropped later
            correlation[part] = covariance / np.sqrt(x_ss[:, :, None] * f_ss[:, None, :])
            beta[part] = covariance / f_ss[:, None, :]
    return np.clip(correlation, -1.0, 1.0), beta


def _left_out_finding(exposure: str, factor: str, end_dates: tuple[date, ...],
                      keep: npt.NDArray[np.bool_], window: int) -> Finding:
    dropped = [d for d, k in zip(end_dates, keep, strict=True) if not k]
    return Finding(WINDOWS_LEFT_OUT, Severity.INFO, f"{exposure}/{factor}",
                   f"{exposure}/{factor}: {len(dropped)} of {keep.size} rolling windows of "
                   f"{window} left out (NaN or a flat series inside), ending "
                   f"{dropped[0]}..{dropped[-1]}", dropped[0], measured=str(len(dropped)),
                   limit=str(keep.size))


def _zero_bad(values: FloatArray) -> FloatArray:
    return np.where(np.isfinite(values), values, 0.0)


def _check_rows(values: FloatArray, names: Sequence[str], dates: Sequence[date],
                minimum: int, what: str) -> None:
    """Enough rows, no NaN/inf, no flat column; errors name the series and the date."""
    n_obs = values.shape[0]
    if n_obs < minimum:
        raise InsufficientHistory(f"{what}: {n_obs} observations, at least {minimum} needed",
                                  field="returns", observations=n_obs, needed=minimum)
    bad = np.argwhere(~np.isfinite(values))
    if bad.size:
        row, column = (int(i) for i in bad[0])
        raise DegenerateSeries(f"{what}: {names[column]} has no finite return on {dates[row]} "
                               "(select a window where every series has data: between())",
                               field="returns", column=column)
    flat = np.flatnonzero(np.ptp(values, axis=0) == 0.0)
    if flat.size:
        raise DegenerateSeries(f"{what}: {names[int(flat[0])]} is constant; its correlation "
                               "is undefined", field="returns", column=int(flat[0]))


def _method(method: str) -> CorrelationMethod:
    if method not in ("pearson", "spearman"):
        raise InvalidInput(f"method must be 'pearson' or 'spearman', got {method!r}",
                           field="method")
    return "pearson" if method == "pearson" else "spearman"


def _frozen(array: FloatArray) -> FloatArray:
    result = np.array(array, dtype=np.float64)
    result.setflags(write=False)
    return result
