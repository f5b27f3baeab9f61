"""Monte Carlo scenarios of factor moves and the VaR/CVaR they give, seeded and chunked.

Models: :class:`~qoima.risk.factor_models.StudentTModel` (given or fitted) and
:class:`~qoima.risk.factor_models.CopulaModel` (empirical marginals).

Horizon ``h`` days: ``"sqrt_time"`` (default) scales the daily deviation from the mean by
``sqrt(h)`` and the mean by ``h``; ``"sum_of_days"`` draws ``h`` independent days and sums
them (slower; thinner tails, as aggregation gives). Columns flagged in ``log_returns`` are
modelled as log returns and returned as simple returns ``exp(x) - 1``; the others (simple
returns, rate changes in percentage points) are returned as simulated.

Reproducibility: the seed's :class:`~numpy.random.SeedSequence` gives one stream per chunk of
``chunk_rows`` scenarios (:mod:`qoima.risk.engine`), so the same seed gives the same numbers
on every engine and worker count. ``precision="float32"`` draws normals and applies the
linear maps in single precision (faster draws, half the memory traffic; relative error
~1e-6 on the P&L, far below the Monte Carlo error); sums, weights and risk figures stay in
float64.

Importance sampling (Student-t model, ``"sqrt_time"``): the draws are tilted toward the
portfolio's losses: the normals are shifted by ``shift`` along the loss direction and the
chi-square mixing variable is scaled by ``mixing_scale`` (< 1: heavier tails). Each scenario
carries its likelihood ratio as a weight (:func:`~qoima.risk.contributions.tail_estimate`
reads them as probabilities ``w / n``), so every estimate stays unbiased for *any*
portfolio; the variance falls only for the one the tilt was tuned on
(:func:`tune_importance`, cross-entropy on the portfolio's one-dimensional loss). For CVaR
at 99 % of a t(4) portfolio the variance per scenario falls 80- to 160-fold (tests,
benchmark).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special

from qoima.domain.errors import InvalidInput
from qoima.risk.checks import FloatArray, check_horizon, check_level
from qoima.risk.contributions import tail_estimate
from qoima.risk.engine import (
    DEFAULT_CHUNK_ROWS,
    Chunk,
    ComputeEngine,
    child_stream,
    chunk_generator,
    default_engine,
    plan_chunks,
    seed_streams,
)
from qoima.risk.factor_models import CopulaModel, StudentTModel, square_root
from qoima.risk.positions import RiskBook, book_pnl
from qoima.risk.provenance import Provenance, array_hash

_SCALINGS = ("sqrt_time", "sum_of_days")
_PRECISIONS = ("float64", "float32")


@dataclass(frozen=True, slots=True)
class ImportanceSampling:
    """A tilt of the Student-t draws: ``shift`` along unit ``direction`` (d,) in the space of
    the independent normals, chi-square mixing variable times ``mixing_scale``."""

    direction: FloatArray
    shift: float
    mixing_scale: float


@dataclass(frozen=True, slots=True)
class ScenarioSet:
    """Simulated factor moves (n_scenarios, n_factors) and their weights (None: equal)."""

    factors: tuple[str, ...]
    moves: FloatArray
    weights: FloatArray | None
    horizon_days: int
    provenance: Provenance


@dataclass(frozen=True, slots=True)
class PnlScenarios:
    """Simulated P&L per exposure row (n_scenarios, n_rows) and weights (None: equal)."""

    pnl: FloatArray
    weights: FloatArray | None
    horizon_days: int
    provenance: Provenance


@dataclass(frozen=True, slots=True)
class MonteCarloRisk:
    """VaR and CVaR (positive losses in ``currency``) from simulated scenarios."""

    level: float
    horizon_days: int
    var: float
    cvar: float
    currency: str
    n_scenarios: int
    tail_effective_scenarios: float
    importance: ImportanceSampling | None
    provenance: Provenance


@dataclass(frozen=True, slots=True)
class _ChunkTask:
    """Everything one chunk needs; ``_run_chunk`` is pure in it (and picklable)."""

    chunk: Chunk
    location: FloatArray  # (k,) added to every day's draw
    loading: FloatArray  # (d, k) maps independent normals to output columns (+1 IS column)
    dof: float
    days: int
    precision: str
    shift: float = 0.0
    mixing_scale: float = 1.0
    shift_term: FloatArray | None = None  # (k,) shift * (direction @ loading)
    log_columns: npt.NDArray[np.bool_] | None = None
    exposures: FloatArray | None = None  # (n_rows, k) applied after exp(log) - 1
    marginals: FloatArray | None = None  # copula: (n_obs, k) sorted history
    centre: FloatArray | None = None  # copula: (k,) column means
    horizon_scale: float = 1.0  # copula sqrt-time factor


def _run_chunk(task: _ChunkTask) -> tuple[FloatArray, FloatArray | None]:
    """Simulate one chunk: (rows, k) output and log likelihood ratios (None untilted)."""
    rng = chunk_generator(task.chunk)
    rows, dtype = task.chunk.rows, np.dtype(task.precision)
    tilted = task.shift != 0.0 or task.mixing_scale != 1.0
    nu = task.dof
    total: FloatArray | None = None
    log_ratio = np.zeros(rows) if tilted else None
    for _ in range(task.days):
        normals = rng.standard_normal((rows, task.loading.shape[0]), dtype=dtype)
        mapped = normals @ task.loading.astype(dtype, copy=False)
        mix: npt.NDArray[np.float64] | None = None
        if math.isfinite(nu):
            chi2 = 2.0 * rng.standard_gamma(nu / 2, size=rows, dtype=dtype).astype(np.float64)
            mix = np.sqrt(nu / (task.mixing_scale * chi2))
            if log_ratio is not None:
                log_ratio += nu / 2 * math.log(task.mixing_scale) \
                    + chi2 * (1 - task.mixing_scale) / 2
        if log_ratio is not None:
            projection = mapped[:, -1].astype(np.float64)
            log_ratio -= task.shift * projection + task.shift**2 / 2
            mapped = mapped[:, :-1]
        day = mapped.astype(np.float64)
        if task.shift_term is not None:
            day += task.shift_term
        if task.marginals is not None:
            day = _copula_marginals(day, mix, task)
        elif mix is not None:
            day *= mix[:, None]
        day += task.location
        total = day if total is None else total + day
    assert total is not None
    if task.log_columns is not None:
        total[:, task.log_columns] = np.expm1(total[:, task.log_columns])
    if task.exposures is not None:
        total = total @ task.exposures.T
    return total, log_ratio


def _copula_marginals(normals: FloatArray, mix: FloatArray | None, task: _ChunkTask
                      ) -> FloatArray:
    assert task.marginals is not None
    assert task.centre is not None
    if mix is None:
        uniforms = special.ndtr(normals)
    else:
        uniforms = special.stdtr(task.dof, normals * mix[:, None])
    n_obs = task.marginals.shape[0]
    grid = np.arange(n_obs, dtype=np.float64)
    out = np.empty_like(uniforms)
    for j in range(out.shape[1]):  # numpy's linear quantile of each history column
        out[:, j] = np.interp(uniforms[:, j] * (n_obs - 1), grid, task.marginals[:, j])
    return np.asarray((out - task.centre) * task.horizon_scale, dtype=np.float64)


def _plan(model: StudentTModel | CopulaModel, n_scenarios: int, seed: int, horizon_days: int,
          horizon_scaling: str, importance: ImportanceSampling | None, chunk_rows: int,
          precision: str, exposures: FloatArray | None) -> list[_ChunkTask]:
    h = check_horizon(horizon_days)
    if horizon_scaling not in _SCALINGS:
        raise InvalidInput(f"horizon_scaling must be one of {_SCALINGS}", field="horizon_scaling")
    if precision not in _PRECISIONS:
        raise InvalidInput(f"precision must be one of {_PRECISIONS}", field="precision")
    days = h if horizon_scaling == "sum_of_days" else 1
    scale = 1.0 if days > 1 else math.sqrt(h)
    chunks = plan_chunks(n_scenarios, chunk_rows, child_stream(seed_streams(seed), 0))
    logs = np.array(model.log_returns, dtype=bool)
    linear = exposures is not None and not logs.any()
    if isinstance(model, CopulaModel):
        if importance is not None:
            raise InvalidInput("importance sampling needs the Student-t model",
                               field="importance")
        centre = model.history.mean(axis=0)
        location = centre * (h if days == 1 else 1)
        return [_ChunkTask(chunk, location, square_root(model.correlation, "correlation").T,
                           model.dof, days, precision, log_columns=logs if logs.any() else None,
                           exposures=exposures, marginals=model.history, centre=centre,
                           horizon_scale=scale) for chunk in chunks]
    nu = model.dof
    scatter = model.covariance * ((nu - 2) / nu if math.isfinite(nu) else 1.0)
    loading = square_root(scatter, "covariance").T * scale  # (d, d): normals -> moves
    location = model.mean * (h if days == 1 else 1)
    if linear:
        assert exposures is not None
        loading, location, exposures = loading @ exposures.T, exposures @ location, None
    shift_term = None
    shift, mixing = 0.0, 1.0
    if importance is not None:
        if days > 1:
            raise InvalidInput("importance sampling needs horizon_scaling='sqrt_time'",
                               field="importance")
        shift, mixing = importance.shift, importance.mixing_scale
        direction = np.asarray(importance.direction, dtype=np.float64)
        shift_term = shift * (direction @ loading)
        loading = np.column_stack([loading, direction])
    return [_ChunkTask(chunk, location, loading, nu, days, precision, shift, mixing, shift_term,
                       None if linear or not logs.any() else logs,
                       None if linear else exposures) for chunk in chunks]


def _gather(engine: ComputeEngine | None, tasks: list[_ChunkTask]
            ) -> tuple[FloatArray, FloatArray | None]:
    parts = default_engine(engine).map(_run_chunk, tasks)
    values = np.concatenate([p[0] for p in parts]) if len(parts) > 1 else parts[0][0]
    if parts[0][1] is None:
        return values, None
    log_ratio = np.concatenate([np.asarray(p[1]) for p in parts])
    return values, np.exp(log_ratio)


def _model_hash(model: StudentTModel | CopulaModel, *extra: FloatArray) -> str:
    if isinstance(model, CopulaModel):
        return array_hash(model.history, model.correlation, [model.dof], *extra)
    return array_hash(model.mean, model.covariance, [model.dof], *extra)


def _parameters(n_scenarios: int, horizon_days: int, horizon_scaling: str, chunk_rows: int,
                precision: str, importance: ImportanceSampling | None) -> dict[str, object]:
    tilt = None if importance is None else {
        "shift": importance.shift, "mixing_scale": importance.mixing_scale,
        "direction_hash": array_hash(importance.direction)}
    return {"n_scenarios": n_scenarios, "horizon_days": horizon_days,
            "horizon_scaling": horizon_scaling, "chunk_rows": chunk_rows,
            "precision": precision, "importance": tilt}


def simulate_scenarios(model: StudentTModel | CopulaModel, n_scenarios: int, *, seed: int,
                       horizon_days: int = 1, horizon_scaling: str = "sqrt_time",
                       importance: ImportanceSampling | None = None,
                       engine: ComputeEngine | None = None,
                       chunk_rows: int = DEFAULT_CHUNK_ROWS, precision: str = "float64"
                       ) -> ScenarioSet:
    """``n_scenarios`` h-day factor moves (module doc), shape (n_scenarios, n_factors)."""
    tasks = _plan(model, n_scenarios, seed, horizon_days, horizon_scaling, importance,
                  chunk_rows, precision, None)
    moves, weights = _gather(engine, tasks)
    return ScenarioSet(model.factors, moves, weights, horizon_days, Provenance(
        method=f"{model.provenance.method}.scenarios", inputs_hash=_model_hash(model),
        parameters=_parameters(n_scenarios, horizon_days, horizon_scaling, chunk_rows,
                               precision, importance), seed=seed))


def simulate_pnl(model: StudentTModel | CopulaModel, exposures_usd: npt.ArrayLike,
                 n_scenarios: int, *, seed: int, horizon_days: int = 1,
                 horizon_scaling: str = "sqrt_time", importance: ImportanceSampling | None = None,
                 engine: ComputeEngine | None = None, chunk_rows: int = DEFAULT_CHUNK_ROWS,
                 precision: str = "float64") -> PnlScenarios:
    """P&L in USD of linear exposures without keeping the factor moves.

    ``exposures_usd`` is (n_factors,) or (n_rows, n_factors): USD P&L per unit move of each
    factor. Returns P&L of shape (n_scenarios, n_rows). Same seed, same scenarios as
    :func:`simulate_scenarios` (up to rounding: without log-return columns the exposures are
    folded into the factor loading, one small matrix product instead of two).
    """
    matrix = np.atleast_2d(np.asarray(exposures_usd, dtype=np.float64))
    if matrix.ndim != 2 or matrix.shape[1] != len(model.factors) \
            or not np.isfinite(matrix).all():
        raise InvalidInput(f"exposures must be finite, (n_rows, {len(model.factors)})",
                           field="exposures_usd")
    tasks = _plan(model, n_scenarios, seed, horizon_days, horizon_scaling, importance,
                  chunk_rows, precision, matrix)
    pnl, weights = _gather(engine, tasks)
    return PnlScenarios(pnl, weights, horizon_days, Provenance(
        method=f"{model.provenance.method}.pnl",
        inputs_hash=_model_hash(model, matrix),
        parameters=_parameters(n_scenarios, horizon_days, horizon_scaling, chunk_rows,
                               precision, importance), seed=seed))


def tune_importance(model: StudentTModel, exposures_usd: npt.ArrayLike, level: float, *,
                    seed: int, pilot_scenarios: int = 10_000,
                    max_rounds: int = 8) -> ImportanceSampling:
    """Cross-entropy tilt for the CVaR at ``level`` of the linear exposures (n_factors,).

    The loss of a linear portfolio under the t model depends on the normals only through
    their projection on the loss direction, so the pilot draws that projection and the
    mixing variable (``pilot_scenarios`` pairs per round), raising the loss threshold round
    by round (elite tenth) up to the VaR; its stream is separate from the scenarios'. The
    horizon (square-root-of-time) and the mean do not change the best tilt.
    """
    alpha = check_level(level)
    exposure = np.asarray(exposures_usd, dtype=np.float64).reshape(-1)
    if exposure.shape != (len(model.factors),) or not np.isfinite(exposure).all():
        raise InvalidInput(f"exposures must be {len(model.factors)} finite numbers",
                           field="exposures_usd")
    nu = model.dof
    scatter = model.covariance * ((nu - 2) / nu if math.isfinite(nu) else 1.0)
    gradient = square_root(scatter, "covariance").T @ exposure  # P&L per unit normal
    size = float(np.linalg.norm(gradient))
    if size == 0.0:
        raise InvalidInput("the exposures carry no risk under the model", field="exposures_usd")
    direction = -gradient / size  # larger projection -> larger loss
    rng = np.random.Generator(np.random.SFC64(child_stream(seed_streams(seed), 1)))
    shift, mixing = 0.0, 1.0
    for _ in range(max_rounds):
        normal = rng.standard_normal(pilot_scenarios) + shift
        log_ratio = -shift * (normal - shift) - shift**2 / 2
        if math.isfinite(nu):
            chi2 = 2.0 * rng.standard_gamma(nu / 2, pilot_scenarios)
            log_ratio += nu / 2 * math.log(mixing) + chi2 * (1 - mixing) / 2
            drawn = mixing * chi2
            loss = normal * np.sqrt(nu / drawn)
        else:
            drawn, loss = np.ones(pilot_scenarios), normal
        weights = np.exp(log_ratio)
        target = tail_estimate(-loss, alpha, weights=weights).var  # the VaR of the loss
        threshold = min(target, float(np.quantile(loss, 0.9)))
        elite = loss >= threshold
        w = weights[elite]
        shift = float(w @ normal[elite] / w.sum())
        if math.isfinite(nu):
            mixing = float(min(max(w @ drawn[elite] / (nu * w.sum()), 0.05), 1.0))
        if threshold >= target:
            break
    return ImportanceSampling(direction, shift, mixing)


def monte_carlo_risk(model: StudentTModel | CopulaModel, exposures_usd: npt.ArrayLike,
                     level: float, n_scenarios: int, *, seed: int, horizon_days: int = 1,
                     horizon_scaling: str = "sqrt_time",
                     importance: ImportanceSampling | str | None = "auto",
                     engine: ComputeEngine | None = None, chunk_rows: int = DEFAULT_CHUNK_ROWS,
                     precision: str = "float64") -> MonteCarloRisk:
    """VaR and CVaR in USD of a linear portfolio, exposures (n_factors,) in USD per unit move.

    ``importance="auto"`` tunes the tilt (:func:`tune_importance`) for the Student-t model
    with ``"sqrt_time"`` and draws untilted otherwise; None never tilts.
    """
    alpha = check_level(level)
    exposure = np.asarray(exposures_usd, dtype=np.float64).reshape(-1)
    tilt: ImportanceSampling | None
    if isinstance(importance, str):
        if importance != "auto":
            raise InvalidInput("importance must be 'auto', None or an ImportanceSampling",
                               field="importance")
        eligible = isinstance(model, StudentTModel) and horizon_scaling == "sqrt_time"
        tilt = tune_importance(model, exposure, alpha, seed=seed) \
            if eligible and isinstance(model, StudentTModel) else None
    else:
        tilt = importance
    sample = simulate_pnl(model, exposure, n_scenarios, seed=seed, horizon_days=horizon_days,
                          horizon_scaling=horizon_scaling, importance=tilt, engine=engine,
                          chunk_rows=chunk_rows, precision=precision)
    estimate = tail_estimate(sample.pnl[:, 0], alpha, weights=sample.weights)
    return MonteCarloRisk(alpha, horizon_days, estimate.var, estimate.cvar, "USD", n_scenarios,
                          estimate.tail_effective_scenarios, tilt, Provenance(
                              method=sample.provenance.method,
                              inputs_hash=sample.provenance.inputs_hash,
                              parameters={**sample.provenance.parameters, "level": alpha},
                              seed=seed))


def book_monte_carlo_risk(book: RiskBook, scenarios: ScenarioSet, level: float, *,
                          currency: str = "USD") -> MonteCarloRisk:
    """VaR and CVaR of ``book`` (USD or KZT) over simulated scenarios, priced like
    ``scenario_pnl`` (through :func:`~qoima.risk.positions.book_pnl`, its sum over positions)."""
    alpha = check_level(level)
    pnl = book_pnl(book, scenarios.factors, scenarios.moves, currency=currency)
    estimate = tail_estimate(pnl, alpha, weights=scenarios.weights)
    return MonteCarloRisk(alpha, scenarios.horizon_days, estimate.var, estimate.cvar, currency,
                          scenarios.moves.shape[0], estimate.tail_effective_scenarios, None,
                          Provenance(method="montecarlo.book",
                                     inputs_hash=array_hash(book.values_usd, pnl),
                                     parameters={**scenarios.provenance.parameters,
                                                 "level": alpha, "currency": currency},
                                     seed=scenarios.provenance.seed))
