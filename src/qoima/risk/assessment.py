"""The risk assessment of the whole reserve at one date: every section of ``risk report``.

Pure orchestration of the measures in :mod:`qoima.risk` over an :class:`ExposureMap`.
Each section runs on its own: a section that cannot run (too little history, a constant
series) becomes a finding and the others still run, so a report never shows a NaN and
never hides a failure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any, TypeVar

import numpy as np

from qoima.domain.enums import Severity
from qoima.domain.errors import InsufficientHistory, QoimaError
from qoima.domain.findings import Finding
from qoima.risk.adequacy import AraInputs, AraReport, ara_report
from qoima.risk.backtest import VarBacktest, backtest_rolling_historical
from qoima.risk.contributions import (
    EulerContributions,
    IncrementalRisk,
    book_contributions,
    book_incremental_risk,
)
from qoima.risk.correlation import (
    ConditionalCorrelationResult,
    FactorCorrelationResult,
    RollingCorrelationResult,
    conditional_factor_correlations,
    factor_correlations,
    rolling_factor_correlations,
)
from qoima.risk.engine import ComputeEngine
from qoima.risk.events import EventStudyResult, FomcDecision, fomc_event_study
from qoima.risk.exposures import ExposureMap
from qoima.risk.history import FactorHistory
from qoima.risk.liquidity import (
    LiquidityAdjustedVaR,
    LiquidityProfile,
    MarketLiquidity,
    liquidity_adjusted_var,
    liquidity_profile,
)
from qoima.risk.operational import (
    OperationalResult,
    chain_halt,
    custodian_failure,
    etf_halt,
    forced_sale,
)
from qoima.risk.panel import ReturnsPanel
from qoima.risk.performance import PerformanceStats, performance_table
from qoima.risk.positions import USD_KZT, RiskBook
from qoima.risk.provenance import Provenance
from qoima.risk.regimes import RegimeResult, VolatilityState, classify_regimes, volatility_state
from qoima.risk.scenarios import BUILTIN_SCENARIOS, PriceHistory, Scenario
from qoima.risk.scopes import (
    DIGITAL_ASSETS,
    METHODS,
    TOTAL,
    Scope,
    VarRow,
    scope_pnl,
    scopes_of,
    var_rows,
)
from qoima.risk.stress import ReverseStressResult, StressGrid, reverse_stress, run_stress_grid

T = TypeVar("T")
MACRO = ("DXY", "XAU", "WTI", "SPX", "DGS10")
CRYPTO_FACTORS = ("BTC", "ETH", "BNB")


@dataclass(frozen=True, slots=True)
class AssessmentSettings:
    """Every choice of the assessment; recorded in its provenance."""

    levels: tuple[float, ...] = (0.95, 0.99)
    horizons: tuple[int, ...] = (1, 10)
    currencies: tuple[str, ...] = ("USD", "KZT")
    methods: tuple[str, ...] = METHODS
    window: int = 500  # periods of the historical window
    min_window: int = 120  # a shorter history is used down to this, with a finding
    seed: int = 20_260_101
    mc_scenarios: int = 100_000
    contribution_level: float = 0.99
    correlation_obs: int = 730
    rolling_window: int = 90
    macro_factors: tuple[str, ...] = MACRO
    backtest_level: float = 0.99
    backtest_window: int = 250
    reverse_loss_share: float = 0.005  # reverse stress: a loss of 0.5 % of total reserves
    participation: float = 0.10  # share of ADV a liquidation may take per day
    custodian_frozen_days: int = 90  # operational: the largest crypto custodian fails
    custodian_haircut: float = 0.10
    etf_halt_days: int = 5
    etf_reopen_discount: float = 0.10
    chain: str = "bitcoin"
    chain_halt_days: int = 7
    thin_market_depth: float = 0.25  # forced sale of seized coins: market at 25 % of its ADV
    sleeve_vehicles: tuple[str, ...] = ()
    reserve_vehicles: tuple[str, ...] = ()
    legal_hold_vehicles: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class RiskAssessment:
    as_of_date: date
    synthetic: bool
    window: tuple[date, date, int] | None
    exposures: ExposureMap
    scopes: tuple[tuple[str, float], ...]  # (scope, value in USD)
    var: tuple[VarRow, ...]
    contributions: Mapping[str, EulerContributions]
    incremental: IncrementalRisk | None
    regime: RegimeResult | None
    volatility: VolatilityState | None
    correlations: FactorCorrelationResult | None
    rolling: RollingCorrelationResult | None
    conditional: ConditionalCorrelationResult | None
    fed: EventStudyResult | None
    performance: tuple[PerformanceStats, ...]
    backtests: tuple[VarBacktest, ...]
    stress: StressGrid | None
    reverse: ReverseStressResult | None
    liquidity: LiquidityProfile | None
    lvar: LiquidityAdjustedVaR | None
    operational: tuple[OperationalResult, ...]
    adequacy: AraReport | None
    findings: tuple[Finding, ...]
    provenance: Provenance

    def var_row(self, scope: str, method: str, level: float, horizon_days: int = 1,
                currency: str = "USD") -> VarRow | None:
        for row in self.var:
            if (row.scope, row.method, row.level, row.horizon_days, row.currency) == (
                    scope, method, level, horizon_days, currency):
                return row
        return None


@dataclass(frozen=True, slots=True)
class AssessmentInputs:
    """What the assessment reads besides the exposure map (all optional)."""

    usd_kzt: float | None = None
    total_reserves_usd: float | None = None
    price_history: PriceHistory | None = None  # real closes for replaying stress windows
    scenarios: Sequence[Scenario] = BUILTIN_SCENARIOS
    decisions: Sequence[FomcDecision] = ()
    market: Mapping[str, MarketLiquidity] = field(default_factory=dict)
    ara: AraInputs | None = None
    reverse_loss_limit_usd: float | None = None
    pending: RiskBook | None = None  # seized assets awaiting forfeiture (not reserve assets)
    token_chains: Mapping[str, str] = field(default_factory=dict)


def assess(exposures: ExposureMap, inputs: AssessmentInputs | None = None,
           settings: AssessmentSettings | None = None, *,
           engine: ComputeEngine | None = None,
           step: Callable[[str], None] = lambda _: None) -> RiskAssessment:
    """Run every section; ``step`` is told the name of each as it starts (progress)."""
    inputs = inputs or AssessmentInputs()
    settings = settings or AssessmentSettings()
    run = _Runner(exposures.book.as_of_date, step)
    book, history = exposures.book, exposures.history
    scopes = scopes_of(book)
    total_reserves = inputs.total_reserves_usd or book.total_usd
    wanted = list(book.factors)
    if USD_KZT in history.names and USD_KZT not in wanted and inputs.usd_kzt:
        wanted.append(USD_KZT)
    window = run.section("historical window", lambda: _window(history, wanted, settings, run))
    rows: list[VarRow] = []
    contributions: dict[str, EulerContributions] = {}
    incremental = None
    backtests: list[VarBacktest] = []
    currencies = [c for c in settings.currencies
                  if c == "USD" or (inputs.usd_kzt and USD_KZT in wanted)]
    if window is not None and scopes:
        found, notes = var_rows(scopes, window, currencies=currencies, levels=settings.levels,
                                horizons=settings.horizons, methods=settings.methods,
                                usd_kzt=inputs.usd_kzt, seed=settings.seed,
                                mc_scenarios=settings.mc_scenarios, engine=engine,
                                step=step)
        rows, run.findings = found, [*run.findings, *notes]
        for scope in scopes[:2]:
            result = run.section(f"contributions ({scope.name})", partial(
                book_contributions, scope.book, window.names, window.values,
                settings.contribution_level))
            if result is not None:
                contributions[scope.name] = result
        crypto = book.select(crypto=True)
        rest = book.select(crypto=False)
        if crypto.positions and rest.positions:
            incremental = run.section("incremental risk of digital assets", lambda: (
                book_incremental_risk(rest, crypto, window.names, window.values,
                                      settings.contribution_level)))
        backtests = _backtests(run, scopes, history, wanted, settings)
    panel = run.section("correlation panel", lambda: _panel(history, settings))
    regime = volatility = correlations = rolling = conditional = None
    if panel is not None:
        exposures_names = [n for n in CRYPTO_FACTORS if n in panel.names]
        macro = [n for n in settings.macro_factors if n in panel.names]
        regime = run.section("volatility regimes (Markov switching)", lambda: classify_regimes(
            panel.column("BTC"), dates=panel.dates, seed=settings.seed))
        volatility = run.section("GARCH and realized volatility", lambda: volatility_state(
            panel.column("BTC"), periods_per_year=history.periods_per_year))
        correlations = run.section("correlations and betas", lambda: factor_correlations(
            panel, exposures_names, macro))
        rolling = run.section("rolling correlations", lambda: rolling_factor_correlations(
            panel, exposures_names, macro, window=settings.rolling_window))
        if regime is not None:
            labels = [str(label) for label in regime.labels]
            conditional = run.section("calm vs stress correlations", lambda: (
                conditional_factor_correlations(panel, exposures_names, macro, labels)))
    fed = None
    if inputs.decisions:
        fed = run.section("Fed reaction (FOMC event study)", lambda: _fed(history, inputs))
    else:
        run.note("risk.no_fomc_decisions", "Fed reaction not studied: no FOMC decisions")
    performance = run.section("performance and drawdowns", lambda: _performance(
        history, scopes, window, settings)) or ()
    stress = run.section("stress scenarios", lambda: run_stress_grid(
        book, list(inputs.scenarios), engine=engine, history=inputs.price_history,
        total_reserves_usd=total_reserves))
    limit = inputs.reverse_loss_limit_usd or settings.reverse_loss_share * total_reserves
    reverse = run.section("reverse stress", lambda: reverse_stress(book, limit))
    held = inputs.pending.positions if inputs.pending else ()
    liquidity = run.section("liquidity ladder", lambda: liquidity_profile(
        RiskBook(book.as_of_date, (*book.positions, *held), book.usd_kzt), inputs.market,
        participation=settings.participation,
        legal_hold_vehicles=settings.legal_hold_vehicles))
    lvar = None
    base = next((r for r in rows if (r.scope, r.method, r.level, r.horizon_days, r.currency)
                 == (TOTAL, "historical", 0.99, 1, "USD")), None)
    if base is not None:
        lvar = run.section("liquidity-adjusted VaR", lambda: liquidity_adjusted_var(
            book, base.var, inputs.market, participation=settings.participation))
    operational = run.section("operational scenarios", lambda: _operational(
        book, inputs, settings)) or ()
    adequacy = None
    if inputs.ara is not None:
        sleeve = sum(p.value_usd for p in book.positions
                     if p.vehicle_code in settings.sleeve_vehicles)
        adequacy = run.section("reserve adequacy (IMF ARA)", lambda: ara_report(
            inputs.ara, sleeve_value_usd=sleeve,  # type: ignore[arg-type]
            stresses=stress.results if stress else (),
            reserve_vehicles=[v for v in settings.reserve_vehicles
                              if v not in settings.sleeve_vehicles],
            sleeve_vehicle=settings.sleeve_vehicles[0] if settings.sleeve_vehicles else None))
    section_notes = [*(fed.warnings if fed else ()),
                     *(regime.findings if regime else ()),
                     *(stress_note for result in (stress.results if stress else ())
                       for stress_note in result.provenance.warnings)]
    findings = (*exposures.findings, *run.findings, *_unique(section_notes))
    return RiskAssessment(
        as_of_date=book.as_of_date, synthetic=history.synthetic,
        window=None if window is None else (window.dates[0], window.dates[-1],
                                            len(window.dates)),
        exposures=exposures, scopes=tuple((s.name, s.value_usd) for s in scopes),
        var=tuple(rows), contributions=contributions, incremental=incremental,
        regime=regime, volatility=volatility, correlations=correlations, rolling=rolling,
        conditional=conditional, fed=fed, performance=tuple(performance),
        backtests=tuple(backtests), stress=stress, reverse=reverse, liquidity=liquidity,
        lvar=lvar, operational=tuple(operational), adequacy=adequacy, findings=findings,
        provenance=Provenance("risk.assessment", exposures.provenance.inputs_hash,
                              _settings_dict(settings), seed=settings.seed,
                              warnings=findings))


class _Runner:
    def __init__(self, as_of: date, step: Callable[[str], None]) -> None:
        self.as_of, self.step = as_of, step
        self.findings: list[Finding] = []

    def section(self, name: str, compute: Callable[[], T]) -> T | None:
        self.step(name)
        try:
            return compute()
        except QoimaError as error:
            self.findings.append(Finding("risk.section_failed", Severity.WARNING, name,
                                         f"{name} not computed: {error}", self.as_of))
            return None

    def note(self, rule: str, message: str, subject: str = "risk") -> None:
        self.findings.append(Finding(rule, Severity.INFO, subject, message, self.as_of))


def _window(history: FactorHistory, names: Sequence[str], settings: AssessmentSettings,
            run: _Runner) -> FactorHistory:
    try:
        return history.complete_window(names, settings.window)
    except InsufficientHistory as error:
        available = int(error.details.get("observations", 0))
        if available < settings.min_window:
            raise
        run.note("risk.window_shortened", f"historical window shortened to {available} "
                 f"periods ({settings.window} asked): {error}", "window")
        return history.complete_window(names, available)


def _backtests(run: _Runner, scopes: Sequence[Scope], history: FactorHistory,
               names: Sequence[str], settings: AssessmentSettings) -> list[VarBacktest]:
    chosen = [s for s in scopes if s.name in (TOTAL, DIGITAL_ASSETS)]
    if not chosen:
        return []
    full = run.section("backtest window", lambda: history.complete_window(
        names, int(np.isfinite(history.values[:, [history.names.index(n) for n in names]])
                   .all(axis=1).sum())))
    if full is None:
        return []
    n = len(full.dates)
    rolling = min(settings.backtest_window, max(n - 100, 60))
    if rolling != settings.backtest_window:
        run.note("risk.backtest_window_shortened", f"backtest uses a {rolling}-period rolling "
                 f"window ({settings.backtest_window} asked): {n} periods of history", "window")
    pnl = scope_pnl(chosen, full, "USD")
    results = []
    for k, scope in enumerate(chosen):
        result = run.section(f"VaR backtest ({scope.name})", partial(
            backtest_rolling_historical, pnl[:, k], rolling, settings.backtest_level,
            dates=full.dates, series=scope.name))
        if result is not None:
            results.append(result)
    return results


def _panel(history: FactorHistory, settings: AssessmentSettings) -> ReturnsPanel:
    names = [n for n in (*CRYPTO_FACTORS, *settings.macro_factors) if history.has(n)]
    if "BTC" not in names:
        raise InsufficientHistory("no BTC history for regimes and correlations")
    # columns with enough data in the recent past; then rows where all of them are finite
    recent = history.last(settings.correlation_obs)
    kept = [n for n in names if np.isfinite(recent.column(n)).sum() >= settings.min_window]
    if "BTC" not in kept:
        periods = int(np.isfinite(recent.column("BTC")).sum())
        raise InsufficientHistory(f"BTC has {periods} periods of history, at least "
                                  f"{settings.min_window} needed for regimes and correlations",
                                  field="window", observations=periods,
                                  needed=settings.min_window)
    window = recent.complete_window(kept, int(np.isfinite(
        recent.values[:, [recent.names.index(n) for n in kept]]).all(axis=1).sum()))
    return ReturnsPanel.from_arrays(window.values, window.names, window.dates)


def _fed(history: FactorHistory, inputs: AssessmentInputs) -> EventStudyResult:
    names = [n for n in CRYPTO_FACTORS if history.has(n)]
    columns = [history.names.index(n) for n in (*names, "SPX")]
    rows = np.flatnonzero(np.isfinite(history.values[:, columns]).all(axis=1))
    values = history.values[rows][:, columns]
    dates = [history.dates[int(i)] for i in rows]
    return fomc_event_study(inputs.decisions, values[:, :-1], names, dates,
                            market_returns=values[:, -1])


def _performance(history: FactorHistory, scopes: Sequence[Scope],
                 window: FactorHistory | None, settings: AssessmentSettings
                 ) -> tuple[PerformanceStats, ...]:
    results: list[PerformanceStats] = []
    if window is not None:
        chosen = [s for s in scopes if s.name in (TOTAL, DIGITAL_ASSETS)]
        pnl = scope_pnl(chosen, window, "USD") / np.array([s.value_usd for s in chosen])
        results.extend(performance_table(pnl, periods_per_year=history.periods_per_year,
                                         dates=window.dates, names=[s.name for s in chosen]))
    for name in CRYPTO_FACTORS:
        if not history.has(name):
            continue
        recent = history.last(settings.window)
        column = recent.column(name)
        keep = np.isfinite(column)
        if keep.sum() >= settings.min_window:
            dates = [d for d, k in zip(recent.dates, keep.tolist(), strict=True) if k]
            results.extend(performance_table(column[keep][:, None],
                                             periods_per_year=history.periods_per_year,
                                             dates=dates, names=[name]))
    return tuple(results)


def _operational(book: RiskBook, inputs: AssessmentInputs, settings: AssessmentSettings
                 ) -> tuple[OperationalResult, ...]:
    """Custodian failure, ETF halt, chain halt and a forced sale of seized coins."""
    results = []
    by_custodian: dict[str, float] = {}
    for p in book.positions:
        if p.crypto and p.custodian_code:
            by_custodian[p.custodian_code] = by_custodian.get(p.custodian_code, 0.0) + p.value_usd
    if by_custodian:
        largest = max(sorted(by_custodian), key=lambda code: by_custodian[code])
        results.append(custodian_failure(book, largest,
                                         frozen_days=settings.custodian_frozen_days,
                                         haircut=settings.custodian_haircut))
    results.append(etf_halt(book, halt_days=settings.etf_halt_days,
                            discount=settings.etf_reopen_discount))
    results.append(chain_halt(book, settings.chain, token_chains=inputs.token_chains,
                              halt_days=settings.chain_halt_days))
    if inputs.pending is not None and inputs.pending.positions:
        results.append(forced_sale(inputs.pending, inputs.market,
                                   keys=[p.key for p in inputs.pending.positions],
                                   adv_scale=settings.thin_market_depth))
    return tuple(results)


def _unique(findings: Sequence[Finding]) -> list[Finding]:
    return list(dict.fromkeys(findings))


def _settings_dict(settings: AssessmentSettings) -> dict[str, Any]:
    return {name: getattr(settings, name) for name in settings.__dataclass_fields__}


__all__ = [
    "AssessmentInputs",
    "AssessmentSettings",
    "RiskAssessment",
    "assess",
]
