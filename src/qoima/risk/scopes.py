"""VaR and CVaR of the book's scopes (whole institution, digital assets, each vehicle).

One table row per scope × currency × method × level × horizon, every model run on the same
historical window of factor moves priced on today's holdings (:func:`scenario_pnl`):

* ``historical``, ``normal``, ``student-t``, ``cornish-fisher`` on the scope's daily P&L
  (:mod:`qoima.risk.measures`; 10 days from overlapping 10-day sums for historical, mean·h
  and σ·√h for the parametric models);
* ``filtered`` historical simulation: GARCH(1,1) on the scope's return (P&L / value), then
  scaled back to money (USD and KZT alike, through the scope's value in that currency);
* ``monte-carlo``: a multivariate Student-t fitted to the factor moves (Ledoit–Wolf
  covariance), seeded, √h for 10 days, priced position by position.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from qoima.domain.enums import Severity
from qoima.domain.errors import InvalidInput, QoimaError
from qoima.domain.findings import Finding
from qoima.risk.contributions import tail_estimate
from qoima.risk.engine import ComputeEngine
from qoima.risk.factor_models import StudentTModel, fit_student_t
from qoima.risk.filtered import fhs_var
from qoima.risk.garch import MIN_OBS as GARCH_MIN_OBS
from qoima.risk.garch import fit_garch
from qoima.risk.history import FactorHistory
from qoima.risk.measures import CF_NOT_MONOTONE, ValueKind, var_table
from qoima.risk.montecarlo import simulate_pnl
from qoima.risk.positions import (
    USD_KZT,
    BookExposure,
    RiskBook,
    book_exposure,
    scenario_pnl,
)

TOTAL = "total"
DIGITAL_ASSETS = "digital-assets"
BOOK_METHODS = ("historical", "normal", "student-t", "cornish-fisher")
METHODS = (*BOOK_METHODS, "filtered", "monte-carlo")


@dataclass(frozen=True, slots=True)
class Scope:
    name: str
    book: RiskBook

    @property
    def value_usd(self) -> float:
        return self.book.total_usd


@dataclass(frozen=True, slots=True)
class VarRow:
    """One figure of the VaR table; ``var``/``cvar`` are positive losses in ``currency``."""

    scope: str
    currency: str
    method: str
    level: float
    horizon_days: int
    var: float
    cvar: float
    value: float  # the scope's value in ``currency``
    n_obs: int

    @property
    def var_share(self) -> float:
        return self.var / self.value if self.value else 0.0

    @property
    def cvar_share(self) -> float:
        return self.cvar / self.value if self.value else 0.0


def scopes_of(book: RiskBook) -> list[Scope]:
    """The whole book, its digital-asset part and each vehicle holding something."""
    scopes = [Scope(TOTAL, book)]
    crypto = book.select(crypto=True)
    if crypto.positions:
        scopes.append(Scope(DIGITAL_ASSETS, crypto))
    for vehicle in sorted({p.vehicle_code for p in book.positions}):
        scopes.append(Scope(vehicle, book.select(vehicle=vehicle)))
    return [s for s in scopes if s.value_usd > 0]


def scope_pnl(scopes: Sequence[Scope], window: FactorHistory, currency: str) -> np.ndarray:
    """Daily P&L of every scope over the window, shape (n_periods, n_scopes)."""
    return np.column_stack([scenario_pnl(s.book, window.names, window.values,
                                         currency=currency).sum(axis=1) for s in scopes])


def var_rows(scopes: Sequence[Scope], window: FactorHistory, *, currencies: Sequence[str],
             levels: Sequence[float], horizons: Sequence[int], methods: Sequence[str],
             usd_kzt: float | None, seed: int, mc_scenarios: int,
             engine: ComputeEngine | None = None,
             step: Callable[[str], None] = lambda _: None
             ) -> tuple[list[VarRow], list[Finding]]:
    """Every VaR/CVaR figure; a model that fails adds a finding and the others still run."""
    rows: list[VarRow] = []
    findings: list[Finding] = []
    as_of = window.dates[-1]
    every_scope = scopes
    simulated = _Simulations(scopes, window, seed, mc_scenarios, engine)
    for currency in currencies:
        fx = 1.0 if currency == "USD" else (usd_kzt or 0.0)
        pnl = scope_pnl(every_scope, window, currency)
        # a scope holding only cash in the reporting currency has a constant P&L: no
        # market risk to measure, said once, while the other scopes are measured as usual
        flat = [k for k in range(pnl.shape[1]) if not np.ptp(pnl[:, k]) > 0]
        for k in flat:
            findings.append(Finding(
                "risk.no_market_risk", Severity.INFO, every_scope[k].name,
                f"{every_scope[k].name}: P&L constant over the window in {currency} (only "
                "cash in that currency): no VaR to report", as_of))
        keep = [k for k in range(pnl.shape[1]) if k not in flat]
        scopes = [every_scope[k] for k in keep]
        pnl = pnl[:, keep]
        values = [s.value_usd * fx for s in scopes]
        if not scopes:
            continue
        book_methods = [m for m in methods if m in BOOK_METHODS]
        if book_methods:
            step(f"VaR {currency}: historical and parametric")
            for result in var_table(pnl, levels, horizons, book_methods,
                                    names=[s.name for s in scopes], kind=ValueKind.PNL):
                index = [s.name for s in scopes].index(result.series)
                findings.extend(result.provenance.warnings)
                if any(w.rule == CF_NOT_MONOTONE for w in result.provenance.warnings) or \
                        result.var <= 0:
                    # a non-monotone expansion gives meaningless (even negative) quantiles
                    findings.append(Finding(
                        "risk.var_not_reported", Severity.WARNING, result.series,
                        f"{result.method} VaR at {result.level:.0%} over {result.horizon_days}"
                        f" day(s) in {currency} not reported: the model does not fit this "
                        "P&L (see the model's warning)", as_of))
                    continue
                rows.append(VarRow(result.series, currency, str(result.method), result.level,
                                   result.horizon_days, result.var, result.cvar,
                                   values[index], result.n_obs))
        if "filtered" in methods:
            step(f"VaR {currency}: filtered historical simulation (GARCH)")
            for k, scope in enumerate(scopes):
                try:
                    rows.extend(_filtered(scope.name, currency, pnl[:, k], values[k], levels,
                                          horizons, seed))
                except QoimaError as error:
                    findings.append(_failed("filtered", scope.name, error, as_of))
        if "monte-carlo" in methods:
            step(f"VaR {currency}: Monte Carlo ({mc_scenarios:,} scenarios per horizon)")
            try:
                rows.extend(_monte_carlo(scopes, simulated, currency, values, levels,
                                         horizons))
            except QoimaError as error:
                findings.append(_failed("monte-carlo", "all scopes", error, as_of))
    return rows, findings


def _filtered(scope: str, currency: str, pnl: np.ndarray, value: float,
              levels: Sequence[float], horizons: Sequence[int], seed: int) -> list[VarRow]:
    if len(pnl) < GARCH_MIN_OBS:
        return []
    fit = fit_garch(pnl / value, name=scope)
    rows = []
    for horizon in horizons:
        risk = fhs_var(fit, levels=levels, horizon_days=horizon, seed=seed)
        for level in levels:
            var, cvar = risk.at(level)
            rows.append(VarRow(scope, currency, "filtered", level, horizon, var * value,
                               cvar * value, value, len(pnl)))
    return rows


class _Simulations:
    """Monte Carlo P&L of every scope, simulated once per horizon for every currency.

    The same draws as ``simulate_scenarios`` on the window's Student-t model (same seed,
    same chunks), with each scope's summed exposures folded into the model's loading
    (:func:`simulate_pnl`): three linear maps per scope (USD; assets outside and inside
    the tenge for KZT) and the USD/KZT move, instead of every factor of every scenario
    priced position by position. Equal to ``book_monte_carlo_risk`` up to rounding.
    """

    def __init__(self, scopes: Sequence[Scope], window: FactorHistory, seed: int,
                 n_scenarios: int, engine: ComputeEngine | None) -> None:
        self.scopes, self.window, self.seed = list(scopes), window, seed
        self.n_scenarios, self.engine = n_scenarios, engine
        self._model: StudentTModel | None = None
        self._exposures: dict[str, BookExposure] = {}
        self._pnl: dict[int, np.ndarray] = {}

    def pnl(self, scope: Scope, horizon: int, currency: str) -> np.ndarray:
        """(n_scenarios,) P&L of ``scope`` over ``horizon`` days in ``currency``."""
        if horizon not in self._pnl:
            if self._model is None:
                self._exposures = {s.name: book_exposure(s.book, self.window.names)
                                   for s in self.scopes}
                self._model = fit_student_t(self.window.names, self.window.values)
            self._pnl[horizon] = simulate_pnl(
                self._model, self._rows(), self.n_scenarios, seed=self.seed,
                horizon_days=horizon, importance=None, engine=self.engine).pnl
        k = 3 * self.scopes.index(scope)
        columns = self._pnl[horizon]
        if currency == "USD":
            return np.asarray(columns[:, k])
        if currency != "KZT":
            raise InvalidInput(f"currency must be USD or KZT, got {currency!r}",
                               field="currency")
        return self._exposures[scope.name].kzt_pnl(columns[:, k + 1], columns[:, k + 2],
                                                   columns[:, -1])

    def _rows(self) -> np.ndarray:
        rows = []
        for scope in self.scopes:
            exposure = self._exposures[scope.name]
            rows += [exposure.usd, exposure.foreign, exposure.tenge]
        fx = np.zeros(len(self.window.names))
        if USD_KZT in self.window.names:
            fx[self.window.names.index(USD_KZT)] = 1.0
        return np.vstack([*rows, fx])


def _monte_carlo(scopes: Sequence[Scope], simulated: _Simulations, currency: str,
                 values: Sequence[float], levels: Sequence[float], horizons: Sequence[int]
                 ) -> list[VarRow]:
    rows = []
    for horizon in horizons:
        for k, scope in enumerate(scopes):
            pnl = simulated.pnl(scope, horizon, currency)
            for level in levels:
                risk = tail_estimate(pnl, level)
                rows.append(VarRow(scope.name, currency, "monte-carlo", level, horizon,
                                   risk.var, risk.cvar, values[k], simulated.n_scenarios))
    return rows


def _failed(method: str, subject: str, error: QoimaError, as_of: date) -> Finding:
    return Finding(f"risk.{method}_failed", Severity.WARNING, subject,
                   f"{method} VaR not computed: {error}", as_of)
