"""Risk use cases: the full assessment, VaR, stress tests and backtests over the stored book.

Loads the snapshot and the factor history (:mod:`qoima.app.risk_inputs`), maps exposures,
and hands everything to the pure :mod:`qoima.risk` functions. "Total reserves", the
denominator of every "share of reserves", is the value of the central bank's reserve
vehicles (FX reserves and their digital-asset sleeve); without such vehicles it is the
whole book.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Protocol

import numpy as np

from qoima.app.ports import UnitOfWorkFactory
from qoima.app.risk_inputs import HistorySettings, RiskInputs, RiskInputsLoader
from qoima.app.valuation import ValuationService
from qoima.domain.enums import InstrumentKind, VehicleKind
from qoima.domain.errors import InvalidInput, NotFound
from qoima.market.quality import average_daily_volume
from qoima.market.series import SeriesKind
from qoima.risk.adequacy import AraInputs
from qoima.risk.assessment import AssessmentInputs, AssessmentSettings, RiskAssessment, assess
from qoima.risk.backtest import VarBacktest, backtest_grid
from qoima.risk.engine import ComputeEngine
from qoima.risk.events import FomcDecision, decisions_from_target_rate
from qoima.risk.exposures import ExposureMap, map_exposures
from qoima.risk.history import FactorHistory
from qoima.risk.liquidity import MarketLiquidity
from qoima.risk.scenarios import BUILTIN_SCENARIOS, PriceHistory, Scenario, get_scenario
from qoima.risk.scopes import TOTAL, VarRow, scope_pnl, scopes_of, var_rows
from qoima.risk.stress import StressGrid, run_stress_grid

RESERVE_KINDS = frozenset({VehicleKind.FX_RESERVE.value,
                           VehicleKind.DIGITAL_ASSET_SLEEVE.value})
#: Typical relative half-spreads, used for the liquidity cost when no quotes are stored.
HALF_SPREAD = {InstrumentKind.ETF: 0.0005, InstrumentKind.EQUITY: 0.001,
               InstrumentKind.TOKEN: 0.0005, InstrumentKind.STABLECOIN: 0.0001,
               InstrumentKind.GOLD: 0.0005}
TARGET_RATE = "DFEDTARU"


@dataclass(frozen=True, slots=True)
class RiskRequest:
    """What the user chose on the command line (everything else has defaults)."""

    settings: AssessmentSettings = field(default_factory=AssessmentSettings)
    history: HistorySettings = field(default_factory=HistorySettings)
    scenarios: Sequence[Scenario] = BUILTIN_SCENARIOS
    decisions: Sequence[FomcDecision] | None = None  # None: read off the target-rate series
    ara: AraInputs | None = None
    reverse_loss_limit_usd: float | None = None


class ReportedExposures(Protocol):
    """Managers' look-through: fund-interest code -> {factor: exposure per USD}."""

    def __call__(self, as_of: date, *, factors: Sequence[str] | None = None
                 ) -> Mapping[str, Mapping[str, float]]: ...


class RiskService:
    def __init__(self, units: UnitOfWorkFactory, valuation: ValuationService,
                 reported: ReportedExposures | None = None) -> None:
        self._inputs = RiskInputsLoader(units, valuation)
        self._valuation = valuation
        self._reported = reported

    def default_as_of(self) -> date:
        found = self._valuation.default_as_of()
        if found is None:
            raise NotFound("no market data: import series or run `qoima demo`",
                           field="as_of")
        return found

    def exposures(self, as_of: date, history: HistorySettings | None = None
                  ) -> tuple[RiskInputs, ExposureMap]:
        assets: list[str] = []
        if self._reported is not None:  # the assets managers report, so they have history
            assets = sorted({a for s in self._reported(as_of).values() for a in s})
        inputs = self._inputs.load(as_of, history, extra_instruments=assets)
        mapped = map_exposures(inputs.snapshot.positions, inputs.instruments, inputs.history,
                               as_of=as_of, usd_kzt=inputs.usd_kzt,
                               etf_facts=inputs.etf_facts, reported=self._looked_through(
                                   as_of, inputs))
        return inputs, replace(mapped, findings=(*inputs.findings, *mapped.findings))

    def _looked_through(self, as_of: date, inputs: RiskInputs
                        ) -> Mapping[str, Mapping[str, float]] | None:
        if self._reported is None:
            return None
        return self._reported(as_of, factors=inputs.history.names)

    def assess(self, as_of: date, request: RiskRequest | None = None, *,
               engine: ComputeEngine | None = None,
               step: Callable[[str], None] = lambda _: None) -> RiskAssessment:
        request = request or RiskRequest()
        step("loading the book and market history")
        inputs, mapped = self.exposures(as_of, request.history)
        sleeve, reserve, held = vehicle_roles(inputs)
        settings = replace(request.settings, sleeve_vehicles=sleeve, reserve_vehicles=reserve,
                           legal_hold_vehicles=held)
        return assess(mapped, self._assessment_inputs(inputs, mapped, request), settings,
                      engine=engine, step=step)

    def var(self, as_of: date, request: RiskRequest, *, scope: str | None = None,
            engine: ComputeEngine | None = None) -> tuple[ExposureMap, list[VarRow]]:
        """VaR rows only (``risk var``), for every scope or the one named."""
        inputs, mapped = self.exposures(as_of, request.history)
        scopes = scopes_of(mapped.book)
        if scope is not None:
            scopes = [s for s in scopes if s.name == scope]
            if not scopes:
                names = ", ".join(s.name for s in scopes_of(mapped.book))
                raise NotFound(f"no scope {scope!r} with holdings; scopes: {names}",
                               field="scope")
        settings = request.settings
        window = _window(mapped, inputs, settings)
        rows, _ = var_rows(scopes, window, currencies=_currencies(settings, inputs, window),
                           levels=settings.levels, horizons=settings.horizons,
                           methods=settings.methods, usd_kzt=inputs.usd_kzt,
                           seed=settings.seed, mc_scenarios=settings.mc_scenarios,
                           engine=engine)
        return mapped, rows

    def stress(self, as_of: date, scenarios: Sequence[Scenario], *,
               history: HistorySettings | None = None,
               engine: ComputeEngine | None = None) -> StressGrid:
        inputs, mapped = self.exposures(as_of, history)
        return run_stress_grid(mapped.book, list(scenarios), engine=engine,
                               history=real_price_history(inputs),
                               total_reserves_usd=total_reserves_usd(inputs))

    def backtest(self, as_of: date, *, scope: str = TOTAL, windows: Sequence[int],
                 levels: Sequence[float], start: date | None = None,
                 history: HistorySettings | None = None,
                 engine: ComputeEngine | None = None) -> tuple[VarBacktest, ...]:
        """Rolling historical VaR of a scope's P&L on today's holdings, or of one factor's
        returns when ``scope`` names a factor series (``BTC``, ``IBIT``)."""
        _, mapped = self.exposures(as_of, history)
        full = mapped.history.until(as_of)
        if start is not None:
            keep = [i for i, d in enumerate(full.dates) if d >= start]
            if not keep:
                raise InvalidInput(f"no history from {start}", field="from")
            full = full.last(len(full.dates) - keep[0])
        scopes = {s.name: s for s in scopes_of(mapped.book)}
        if scope in scopes:
            names = list(mapped.book.factors)
            columns = [full.names.index(n) for n in names]
            rows = int(np.isfinite(full.values[:, columns]).all(axis=1).sum())
            span = full.complete_window(names, rows)
            series, dates = scope_pnl([scopes[scope]], span, "USD")[:, 0], span.dates
        elif full.has(scope):
            column = full.column(scope)
            finite = np.flatnonzero(np.isfinite(column))
            series, dates = column[finite], tuple(full.dates[int(i)] for i in finite)
        else:
            raise NotFound(f"{scope!r} is neither a scope ({', '.join(scopes)}) nor a factor "
                           f"with history ({', '.join(full.names)})", field="scope")
        return backtest_grid({scope: (series, dates)}, windows, levels, engine=engine)

    def _assessment_inputs(self, inputs: RiskInputs, mapped: ExposureMap,
                           request: RiskRequest) -> AssessmentInputs:
        decisions = request.decisions
        if decisions is None:
            decisions = _decisions_from_series(inputs)
        pending = map_exposures(inputs.snapshot.pending_positions, inputs.instruments,
                                inputs.history, as_of=inputs.snapshot.as_of_date,
                                usd_kzt=inputs.usd_kzt, etf_facts=inputs.etf_facts,
                                reported=self._looked_through(inputs.snapshot.as_of_date,
                                                              inputs)).book
        chains = {code: i.chain for code, i in inputs.instruments.items() if i.chain}
        return AssessmentInputs(
            pending=pending, token_chains=chains,
            usd_kzt=inputs.usd_kzt, total_reserves_usd=total_reserves_usd(inputs),
            price_history=real_price_history(inputs), scenarios=request.scenarios,
            decisions=decisions, market=market_liquidity(inputs, mapped), ara=request.ara,
            reverse_loss_limit_usd=request.reverse_loss_limit_usd)


def resolve_scenarios(names: Sequence[str], extra: Sequence[Scenario] = ()) -> list[Scenario]:
    """The named scenarios from the built-in library and ``extra`` (file) scenarios."""
    library = (*BUILTIN_SCENARIOS, *extra)
    if not names:
        return list(extra) if extra else list(BUILTIN_SCENARIOS)
    return [get_scenario(name, library) for name in names]


def vehicle_roles(inputs: RiskInputs
                   ) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """The digital-asset sleeve(s), the reserve vehicles and the vehicles under legal hold."""
    kinds = {v.vehicle_code: v.kind for v in inputs.snapshot.vehicles}
    return (tuple(c for c, k in kinds.items() if k == VehicleKind.DIGITAL_ASSET_SLEEVE.value),
            tuple(c for c, k in kinds.items() if k in RESERVE_KINDS),
            tuple(c for c, k in kinds.items() if k == VehicleKind.SEIZED_POOL.value))


def total_reserves_usd(inputs: RiskInputs) -> float:
    reserve = sum(float(v.nav_usd) for v in inputs.snapshot.vehicles if v.kind in RESERVE_KINDS)
    return reserve or float(inputs.snapshot.total_usd)


def real_price_history(inputs: RiskInputs) -> PriceHistory:
    """Closes of real (not synthetic) price and FX series, for replaying stress windows."""
    history: dict[str, tuple[Sequence[date], np.ndarray]] = {}
    for name, series in inputs.series.items():
        if series.is_synthetic or not series.bars:
            continue
        dates = [bar.day for bar in series.bars]
        closes = np.array([float(bar.close) for bar in series.bars])
        history[name] = (dates, closes)
    return history


def _decisions_from_series(inputs: RiskInputs) -> list[FomcDecision]:
    target = inputs.series.get(TARGET_RATE)
    if target is None or target.id.kind is not SeriesKind.RATE:
        return []
    bars = target.bars
    return decisions_from_target_rate([b.day for b in bars], [float(b.close) for b in bars])


def market_liquidity(inputs: RiskInputs, mapped: ExposureMap) -> Mapping[str, MarketLiquidity]:
    """Depth of every held or seized instrument with stored volumes: 20-session ADV, the
    valuation price, a typical half-spread and the last 60 periods' volatility."""
    market: dict[str, MarketLiquidity] = {}
    as_of = inputs.snapshot.as_of_date
    valued = (*inputs.snapshot.positions, *inputs.snapshot.pending_positions)
    prices = {p.instrument_code: p.price for p in valued if p.price}
    for code, kind in sorted({(p.instrument_code, p.instrument_kind) for p in valued}):
        series, price = inputs.series.get(code), prices.get(code)
        if series is None or price is None:
            continue
        adv = average_daily_volume(series.bars, as_of)
        if adv is None or adv <= 0:
            continue
        column = mapped.history.column(code) if mapped.history.has(code) else np.array([])
        recent = column[np.isfinite(column)][-60:]
        market[code] = MarketLiquidity(
            float(adv), float(price), HALF_SPREAD.get(kind, 0.001),
            daily_volatility=float(recent.std(ddof=1)) if len(recent) > 2 else 0.0)
    return market


def _window(mapped: ExposureMap, inputs: RiskInputs, settings: AssessmentSettings
            ) -> FactorHistory:
    names = list(mapped.book.factors)
    if inputs.usd_kzt and mapped.history.has("USD/KZT") and "USD/KZT" not in names:
        names.append("USD/KZT")
    columns = [mapped.history.names.index(n) for n in names]
    available = int(np.isfinite(mapped.history.values[:, columns]).all(axis=1).sum())
    return mapped.history.complete_window(names, max(min(settings.window, available),
                                                     settings.min_window))


def _currencies(settings: AssessmentSettings, inputs: RiskInputs, window: FactorHistory
                ) -> list[str]:
    return [c for c in settings.currencies
            if c == "USD" or (inputs.usd_kzt and "USD/KZT" in window.names)]
