"""Stress tests on today's book: historical replays, hypothetical shocks, reverse stress.

Every scenario becomes one vector of factor moves priced by
:func:`qoima.risk.positions.scenario_pnl`, so a position without a factor of its own in a
window (an ETF listed after it, a crypto equity) takes the window through its loadings.
Where each move came from is part of the result (``move_sources``):

``history``   the factor's own closes: close on/before the end over close on/before the
              start, minus one (rates: the difference in percentage points);
``recorded``  the scenario's ``recorded_moves`` (no history covering the window was given);
``scenario``  stated by a hypothetical shock;
``proxy``     derived from other factors (:data:`~qoima.risk.scenarios.DEFAULT_PROXIES`);
``residual``  a position's own residual factor: zero, it is not a market move;
``unchanged`` a factor a hypothetical shock does not name: zero by definition;
``missing``   a historical factor with neither history nor a recorded move: zero, with a
              warning (the figure may understate the loss).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import partial
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from scipy.optimize import brentq

from qoima.domain.enums import InstrumentKind
from qoima.domain.errors import InvalidInput, UnknownScenario
from qoima.risk.positions import USD_KZT, FactorLoading, RiskBook, scenario_pnl
from qoima.risk.provenance import Provenance, array_hash
from qoima.risk.scenarios import (
    CRYPTO_BETAS,
    DEFAULT_PROXIES,
    HistoricalScenario,
    HypotheticalScenario,
    PriceHistory,
    Scenario,
    ScenarioExtras,
    resolve_moves,
)

FloatArray = npt.NDArray[np.float64]
#: The worst BTC move the reverse stress test searches down to.
REVERSE_FLOOR = -0.99


class Engine(Protocol):
    def map(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterable[Any]: ...


@dataclass(frozen=True, slots=True)
class PositionStress:
    key: str
    instrument_code: str
    instrument_kind: InstrumentKind
    vehicle_code: str
    crypto: bool
    value_usd: float
    market_pnl_usd: float  # from factor moves
    extra_pnl_usd: float  # ETF discount and liquidity haircut

    @property
    def pnl_usd(self) -> float:
        return self.market_pnl_usd + self.extra_pnl_usd


@dataclass(frozen=True, slots=True)
class StressResult:
    """P&L (negative = loss) of one scenario, per position and vehicle, in USD (and KZT)."""

    scenario: str
    kind: str  # "historical" or "hypothetical"
    description: str
    as_of_date: date
    window: tuple[date, date] | None
    factor_moves: Mapping[str, float]
    move_sources: Mapping[str, str]
    positions: tuple[PositionStress, ...]
    vehicle_pnl_usd: Mapping[str, float]
    crypto_pnl_usd: float
    total_pnl_usd: float
    total_reserves_usd: float
    total_pnl_kzt: float | None
    vehicle_pnl_kzt: Mapping[str, float] | None
    worst_date: date | None  # path mode: the day of the worst cumulative P&L
    worst_pnl_usd: float | None
    provenance: Provenance

    @property
    def share_of_reserves(self) -> float:
        return self.total_pnl_usd / self.total_reserves_usd

    @property
    def crypto_share_of_reserves(self) -> float:
        return self.crypto_pnl_usd / self.total_reserves_usd

    @property
    def proxied_factors(self) -> tuple[str, ...]:
        """Factors not measured from their own history or stated by the scenario."""
        return tuple(f for f, s in self.move_sources.items()
                     if s in ("recorded", "proxy", "missing"))

    def vehicles_pnl_usd(self, vehicles: Collection[str]) -> float:
        return float(sum(v for k, v in self.vehicle_pnl_usd.items() if k in vehicles))


@dataclass(frozen=True, slots=True)
class StressGrid:
    results: tuple[StressResult, ...]
    provenance: Provenance

    def result(self, name: str) -> StressResult:
        for item in self.results:
            if item.scenario == name:
                return item
        raise UnknownScenario(f"no result for scenario {name!r}", field="scenario")

    @property
    def worst(self) -> StressResult:
        return min(self.results, key=lambda r: r.total_pnl_usd)


@dataclass(frozen=True, slots=True)
class ReverseStressResult:
    """The smallest BTC fall whose loss reaches ``loss_limit_usd`` (``None``: not reachable
    down to :data:`REVERSE_FLOOR`)."""

    loss_limit_usd: float
    btc_move: float | None
    factor_moves: Mapping[str, float]  # at the solution, or at the floor when unreachable
    loss_usd: float  # at the solution, or at the floor
    loss_at_floor_usd: float
    scope: str
    provenance: Provenance

    @property
    def reachable(self) -> bool:
        return self.btc_move is not None


# --- pricing ------------------------------------------------------------------------------

def _amplified(book: RiskBook, extra: ScenarioExtras) -> RiskBook:
    """Crypto equities with their loadings on ``amplified_factors`` scaled."""
    if extra.beta_amplification == 1.0:
        return book
    factors, k = set(extra.amplified_factors), extra.beta_amplification
    positions = tuple(
        replace(p, loadings=tuple(FactorLoading(lo.factor, lo.beta * k)
                                  if lo.factor in factors else lo for lo in p.loadings))
        if p.instrument_kind is InstrumentKind.EQUITY and p.crypto else p
        for p in book.positions)
    return RiskBook(book.as_of_date, positions, book.usd_kzt)


def _extra_pnl(book: RiskBook, market: FloatArray, extra: ScenarioExtras) -> FloatArray:
    """ETF discount and liquidity haircut on the stressed value, shape like ``market``."""
    cut = extra.etf_discount + extra.etf_liquidity_haircut
    etf = np.array([p.instrument_kind is InstrumentKind.ETF and p.crypto
                    for p in book.positions], dtype=bool)
    stressed = np.maximum(book.values_usd[None, :] + market, 0.0)
    out: FloatArray = np.where(etf[None, :], -cut * stressed, 0.0)
    return out


def run_stress(book: RiskBook, scenario: Scenario, *, history: PriceHistory | None = None,
               total_reserves_usd: float | None = None,
               proxies: Mapping[str, Mapping[str, float]] = DEFAULT_PROXIES,
               max_stale_days: int = 5, path: bool = False) -> StressResult:
    """Price ``scenario`` on ``book``: P&L per position, vehicle, crypto part and total.

    ``total_reserves_usd`` is the denominator of the shares (default: the book's value).
    KZT figures come with a ``USD/KZT`` move (stated, measured or unchanged by definition)
    and the book's rate; ``path`` adds the worst day of a replay (needs ``history``).
    """
    reserves = book.total_usd if total_reserves_usd is None else float(total_reserves_usd)
    if not np.isfinite(reserves) or reserves <= 0:
        raise InvalidInput(f"total reserves must be positive, got {reserves!r}",
                           field="total_reserves_usd")
    residuals = {p.residual for p in book.positions if p.residual}
    optional = () if USD_KZT in book.factors else (USD_KZT,)
    resolved = resolve_moves(scenario, [*book.factors, USD_KZT], history=history,
                             proxies=proxies, residuals=residuals, optional=optional,
                             max_stale_days=max_stale_days, path=path)
    extra = scenario.extra if isinstance(scenario, HypotheticalScenario) else ScenarioExtras()
    priced = _amplified(book, extra)
    names = list(resolved.moves)
    row = np.array([[resolved.moves[n] for n in names]])
    market = scenario_pnl(priced, names, row)
    extras = _extra_pnl(priced, market, extra)
    per_position = (market + extras)[0]
    positions = tuple(PositionStress(
        p.key, p.instrument_code, p.instrument_kind, p.vehicle_code, p.crypto, p.value_usd,
        float(market[0, k]), float(extras[0, k])) for k, p in enumerate(book.positions))
    vehicles: dict[str, float] = {}
    for item in positions:
        vehicles[item.vehicle_code] = vehicles.get(item.vehicle_code, 0.0) + item.pnl_usd
    total_kzt: float | None = None
    vehicles_kzt: dict[str, float] = {}
    if book.usd_kzt is not None and resolved.sources.get(USD_KZT) != "missing":
        fx_move = resolved.moves[USD_KZT]
        kzt = scenario_pnl(priced, names, row, currency="KZT")[0]
        kzt = kzt + extras[0] * book.usd_kzt * (1 + fx_move)
        for k, p in enumerate(book.positions):
            vehicles_kzt[p.vehicle_code] = vehicles_kzt.get(p.vehicle_code, 0.0) + float(kzt[k])
        total_kzt = float(kzt.sum())
    worst_date: date | None = None
    worst_pnl: float | None = None
    if resolved.path is not None and "history" in resolved.sources.values():
        matrix = np.column_stack([resolved.path[n] for n in names])
        totals = scenario_pnl(priced, names, matrix).sum(axis=1)
        at = int(np.argmin(totals))
        worst_date, worst_pnl = resolved.path_dates[at], float(totals[at])
    window = ((scenario.start_date, scenario.end_date)
              if isinstance(scenario, HistoricalScenario) else None)
    provenance = Provenance(
        f"stress-{scenario.kind}",
        array_hash(book.values_usd, row) + ":" + scenario.name,
        {"scenario": scenario.name, "window": [str(d) for d in window] if window else None,
         "sources": dict(resolved.sources), "max_stale_days": max_stale_days,
         "total_reserves_usd": reserves, "extra": _extra_parameters(extra), "path": path},
        warnings=resolved.findings)
    return StressResult(
        scenario.name, scenario.kind, scenario.description, book.as_of_date, window,
        dict(resolved.moves), dict(resolved.sources), positions, dict(sorted(vehicles.items())),
        float(sum(x.pnl_usd for x in positions if x.crypto)), float(per_position.sum()),
        reserves, total_kzt, dict(sorted(vehicles_kzt.items())) if total_kzt is not None
        else None,
        worst_date, worst_pnl, provenance)


def _extra_parameters(extra: ScenarioExtras) -> dict[str, Any]:
    return {"etf_discount": extra.etf_discount,
            "etf_liquidity_haircut": extra.etf_liquidity_haircut,
            "beta_amplification": extra.beta_amplification,
            "amplified_factors": list(extra.amplified_factors)}


def run_stress_grid(book: RiskBook, scenarios: Sequence[Scenario], *,
                    engine: Engine | None = None, **options: Any) -> StressGrid:
    """:func:`run_stress` for every scenario, in-process or through ``engine.map``."""
    if not scenarios:
        raise InvalidInput("no scenarios to run", field="scenarios")
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise InvalidInput("scenario names must be unique", field="scenarios")
    task = partial(_run_one, book, options)
    results = tuple(engine.map(task, list(scenarios)) if engine is not None
                    else (task(s) for s in scenarios))
    engine_name = ("in-process" if engine is None
                   else str(getattr(engine, "name", type(engine).__name__)))
    provenance = Provenance("stress-grid", array_hash(book.values_usd) + ":" + ",".join(names),
                            {"scenarios": names, "engine": engine_name},
                            warnings=tuple(w for r in results for w in r.provenance.warnings))
    return StressGrid(results, provenance)


def _run_one(book: RiskBook, options: Mapping[str, Any], scenario: Scenario) -> StressResult:
    return run_stress(book, scenario, **options)


# --- reverse stress -----------------------------------------------------------------------

def reverse_stress(book: RiskBook, loss_limit_usd: float, *,
                   co_moves: Mapping[str, float] = CRYPTO_BETAS,
                   vehicle: str | None = None, crypto: bool | None = None,
                   proxies: Mapping[str, Mapping[str, float]] = DEFAULT_PROXIES,
                   steps: int = 99) -> ReverseStressResult:
    """The smallest BTC fall ``x`` in [-0.99, 0] whose loss reaches ``loss_limit_usd``.

    Other factors move by ``co_moves[f] * x`` (ETH 1.2, BNB 1.0 by default), ETFs through
    ``proxies``, crypto equities through their loadings; everything else is unchanged. The
    loss is scanned on ``steps`` points to bracket the first crossing, which
    ``scipy.optimize.brentq`` then solves. Sub-book: ``vehicle`` and/or ``crypto``.
    """
    limit = float(loss_limit_usd)
    if not np.isfinite(limit) or limit <= 0:
        raise InvalidInput(f"loss limit must be a positive USD amount, got {loss_limit_usd!r}",
                           field="loss_limit_usd")
    scope_book = book.select(vehicle=vehicle, crypto=crypto)
    scope = ", ".join(filter(None, [f"vehicle {vehicle}" if vehicle else "",
                                    {True: "crypto", False: "non-crypto", None: ""}[crypto]]))
    step = 0.01  # a small BTC rise: any co-move beta passes the scenario's checks
    unit = HypotheticalScenario("reverse-stress", "BTC +1 % with its co-moves",
                                {"BTC": step, **{f: b * step for f, b in co_moves.items()
                                                 if f != "BTC"}})
    residuals = {p.residual for p in scope_book.positions if p.residual}
    resolved = resolve_moves(unit, scope_book.factors, proxies=proxies, residuals=residuals)
    names = list(resolved.moves)
    per_unit = np.array([resolved.moves[n] / step for n in names])
    per_unit_moves = dict(zip(names, per_unit.tolist(), strict=True))

    def loss(x: npt.ArrayLike) -> FloatArray:
        grid = np.atleast_1d(np.asarray(x, dtype=np.float64))
        out: FloatArray = -scenario_pnl(scope_book, names, grid[:, None] * per_unit).sum(axis=1)
        return out

    grid = np.linspace(0.0, REVERSE_FLOOR, steps + 1)
    losses = loss(grid)
    floor_loss = float(losses[-1])
    hit = np.flatnonzero(losses >= limit)
    provenance_params = {"co_moves": dict(co_moves), "vehicle": vehicle, "crypto": crypto,
                         "floor": REVERSE_FLOOR, "steps": steps}
    provenance = Provenance("reverse-stress", array_hash(scope_book.values_usd, per_unit),
                            provenance_params, warnings=resolved.findings)
    if hit.size == 0:
        return ReverseStressResult(limit, None, _scaled(per_unit_moves, REVERSE_FLOOR),
                                   floor_loss, floor_loss, scope or "whole book", provenance)
    k = int(hit[0])
    if losses[k] == limit or k == 0:
        move = float(grid[k])
    else:
        move = float(brentq(lambda x: float(loss(x)[0]) - limit, grid[k], grid[k - 1],
                            xtol=1e-12, rtol=1e-12))
    return ReverseStressResult(limit, move, _scaled(per_unit_moves, move),
                               float(loss(move)[0]), floor_loss, scope or "whole book",
                               provenance)


def _scaled(moves: Mapping[str, float], x: float) -> dict[str, float]:
    return {name: value * x for name, value in moves.items() if value != 0.0}
