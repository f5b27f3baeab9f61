"""Exposure mapping: every valued position becomes a linear map onto risk factors.

The mapping and its estimates are part of the result (:class:`ExposureMap`), so a reader
sees *why* a position carries the risk it does:

* spot ETF → its underlying with loading 1 (per USD: units per share cancel out), plus its
  own tracking residual as a factor when it has history; the tracking difference and
  tracking error are measured from history and the fee drag from the expense ratio;
* crypto equity → OLS betas to BTC and to the equity market over a stated window, plus the
  regression residual as its own factor (so historical VaR reproduces its actual returns
  where it has them and stress windows before its listing use the betas);
* fund interest → the manager's reported exposures, or a declared proxy (stated);
* token → itself; stablecoin → itself when it has history, otherwise no market risk (a
  depeg is a stress scenario) with a finding;
* cash → the FX rate against USD (tenge cash: −1 on USD/KZT in the USD view); bills and
  bonds → their yield with loading −duration/100 per percentage point;
* gold → gold; SDR → the dollar index through the basket's non-USD share (declared).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from qoima.domain.enums import InstrumentKind, Severity
from qoima.domain.errors import RiskError
from qoima.domain.findings import Finding
from qoima.domain.reference import Instrument
from qoima.market.series import EtfFacts
from qoima.portfolio.snapshot import PositionValue
from qoima.risk.history import FactorHistory
from qoima.risk.positions import FactorLoading, RiskBook, RiskPosition
from qoima.risk.provenance import Provenance
from qoima.risk.regression import estimate_betas, tracking_difference

CRYPTO_ASSETS = frozenset({"BTC", "ETH", "BNB", "SOL", "XRP", "TON", "TRX", "ADA", "USDT",
                           "USDC"})
RESIDUAL_SUFFIX = ":resid"


@dataclass(frozen=True, slots=True)
class ExposureSettings:
    """Choices of the mapping; every one is recorded in the result."""

    beta_window: int = 250  # periods of the regression for crypto equities
    beta_min_obs: int = 60
    crypto_factor: str = "BTC"
    equity_factor: str = "SPX"
    gold_factor: str = "XAU"
    dollar_factor: str = "DXY"
    short_rate_factor: str = "DGS2"
    long_rate_factor: str = "DGS10"
    sdr_non_usd_share: float = 0.57  # the SDR basket's non-USD weight (EUR, CNY, JPY, GBP)
    #: Declared proxies when a fund reports no exposures: factor -> loading per USD.
    fund_proxies: Mapping[InstrumentKind, Mapping[str, float]] = field(default_factory=lambda: {
        InstrumentKind.HEDGE_FUND_INTEREST: {"BTC": 0.5},
        InstrumentKind.VENTURE_FUND_INTEREST: {"BTC": 0.8, "SPX": 0.3},
    })
    #: Crypto equities without enough history of their own.
    equity_proxy: Mapping[str, float] = field(default_factory=lambda: {"BTC": 1.5, "SPX": 1.0})
    #: An equity whose BTC beta reaches this is a crypto-company stock (digital assets).
    crypto_equity_beta: float = 0.3


@dataclass(frozen=True, slots=True)
class ExposureEstimate:
    """How one instrument was mapped: method, loadings, and the statistics behind them."""

    instrument_code: str
    method: str  # "underlying", "regression", "reported", "proxy", "self", "fx", "rates", "none"
    loadings: tuple[FactorLoading, ...]
    residual: str | None = None
    window: tuple[date, date] | None = None
    n_obs: int | None = None
    r_squared: float | None = None
    units_per_share: float | None = None  # ETFs: underlying held per share
    tracking_difference_annual: float | None = None
    tracking_error_annual: float | None = None
    fee_drag_annual: float | None = None
    note: str = ""


@dataclass(frozen=True, slots=True, eq=False)
class ExposureMap:
    """The risk book, the estimates behind it, and the factor history it is priced on
    (residual columns added)."""

    book: RiskBook
    estimates: tuple[ExposureEstimate, ...]
    history: FactorHistory
    findings: tuple[Finding, ...]
    provenance: Provenance

    def estimate(self, instrument_code: str) -> ExposureEstimate:
        for item in self.estimates:
            if item.instrument_code == instrument_code:
                return item
        raise KeyError(instrument_code)


def map_exposures(positions: Sequence[PositionValue], instruments: Mapping[str, Instrument],
                  history: FactorHistory, *, as_of: date, usd_kzt: float | None,
                  settings: ExposureSettings | None = None,
                  etf_facts: Mapping[str, EtfFacts] | None = None,
                  reported: Mapping[str, Mapping[str, float]] | None = None) -> ExposureMap:
    """Map valued positions onto the factors of ``history`` (periods up to ``as_of``).

    Unvalued positions are left out with a finding: a position without a value has no risk
    figure, and saying so is better than a zero.
    """
    settings = settings or ExposureSettings()
    history = history.until(as_of)
    mapper = _Mapper(history, instruments, settings, etf_facts or {}, reported or {}, as_of)
    risk_positions = []
    for position in positions:
        if position.value_usd is None:
            mapper.findings.append(Finding(
                "risk.unvalued_position", Severity.WARNING, position.account_code,
                "position has no value: left out of risk figures", as_of))
            continue
        estimate = mapper.estimate(position.instrument_code)
        instrument = instruments[position.instrument_code]
        risk_positions.append(RiskPosition(
            key=position.account_code, instrument_code=position.instrument_code,
            instrument_kind=position.instrument_kind, vehicle_code=position.vehicle_code,
            value_usd=float(position.value_usd), loadings=estimate.loadings,
            residual=estimate.residual, crypto=_is_crypto(instrument, estimate, settings),
            underlying=instrument.underlying.asset if instrument.underlying else (
                instrument.code if instrument.kind in (InstrumentKind.TOKEN,
                                                       InstrumentKind.STABLECOIN) else None),
            issuer=instrument.issuer, custodian_code=position.custodian_code,
            local_currency=instrument.code if instrument.is_currency else instrument.currency,
        ))
    book = RiskBook(as_of, tuple(risk_positions), usd_kzt)
    estimates = tuple(mapper.done[code] for code in sorted(mapper.done))
    extended = history.with_columns(list(mapper.residuals), np.column_stack(
        list(mapper.residuals.values())) if mapper.residuals else np.empty((len(history.dates), 0)))
    provenance = Provenance("exposure-map", extended.inputs_hash, {
        "beta_window": settings.beta_window, "crypto_factor": settings.crypto_factor,
        "equity_factor": settings.equity_factor, "calendar": history.calendar},
        warnings=tuple(mapper.findings))
    return ExposureMap(book, estimates, extended, tuple(mapper.findings), provenance)


def _is_crypto(instrument: Instrument, estimate: ExposureEstimate,
               settings: ExposureSettings) -> bool:
    kind = instrument.kind
    if kind in (InstrumentKind.TOKEN, InstrumentKind.STABLECOIN,
                InstrumentKind.HEDGE_FUND_INTEREST, InstrumentKind.VENTURE_FUND_INTEREST):
        return True  # the reserve holds fund interests as crypto exposure
    if kind is InstrumentKind.EQUITY:  # a crypto-company stock moves with BTC; others do not
        beta = sum(lo.beta for lo in estimate.loadings if lo.factor == settings.crypto_factor)
        return abs(beta) >= settings.crypto_equity_beta
    return (kind is InstrumentKind.ETF and instrument.underlying is not None
            and instrument.underlying.asset in CRYPTO_ASSETS)


class _Mapper:
    def __init__(self, history: FactorHistory, instruments: Mapping[str, Instrument],
                 settings: ExposureSettings, etf_facts: Mapping[str, EtfFacts],
                 reported: Mapping[str, Mapping[str, float]], as_of: date) -> None:
        self.history, self.instruments, self.settings = history, instruments, settings
        self.etf_facts, self.reported, self.as_of = etf_facts, reported, as_of
        self.findings: list[Finding] = []
        self.done: dict[str, ExposureEstimate] = {}
        self.residuals: dict[str, np.ndarray] = {}

    def estimate(self, code: str) -> ExposureEstimate:
        if code not in self.done:
            self.done[code] = self._estimate(self.instruments[code])
        return self.done[code]

    def _note(self, code: str, message: str, rule: str = "risk.exposure_proxy") -> None:
        self.findings.append(Finding(rule, Severity.INFO, code, message, self.as_of))

    def _estimate(self, instrument: Instrument) -> ExposureEstimate:
        kind = instrument.kind
        if kind is InstrumentKind.CASH:
            return self._cash(instrument)
        if kind in (InstrumentKind.TBILL, InstrumentKind.BOND):
            return self._rates(instrument)
        if kind is InstrumentKind.GOLD:
            return self._single(instrument.code, self.settings.gold_factor, "self")
        if kind is InstrumentKind.SDR:
            share = self.settings.sdr_non_usd_share
            return ExposureEstimate(instrument.code, "proxy", (
                FactorLoading(self.settings.dollar_factor, -share),),
                note=f"SDR in USD moves against the dollar index by the basket's non-USD "
                     f"share {share}")
        if kind is InstrumentKind.ETF:
            return self._etf(instrument)
        if kind is InstrumentKind.EQUITY:
            return self._equity(instrument)
        if kind in (InstrumentKind.HEDGE_FUND_INTEREST, InstrumentKind.VENTURE_FUND_INTEREST):
            return self._fund(instrument)
        if kind is InstrumentKind.STABLECOIN and not self.history.has(instrument.code):
            self._note(instrument.code, "stablecoin without price history: no market risk "
                       "assumed (a depeg is a stress scenario)")
            return ExposureEstimate(instrument.code, "none", (), note="pegged to USD")
        return self._single(instrument.code, instrument.code, "self")

    def _single(self, code: str, factor: str, method: str) -> ExposureEstimate:
        if not self.history.has(factor):
            raise RiskError(f"{code}: no history for its risk factor {factor!r}; import it "
                            "with `qoima data import`", field="factor")
        return ExposureEstimate(code, method, (FactorLoading(factor, 1.0),))

    def _cash(self, instrument: Instrument) -> ExposureEstimate:
        if instrument.code == "USD":
            return ExposureEstimate("USD", "fx", (), note="base currency: no FX risk in USD")
        pair = f"USD/{instrument.code}"
        if not self.history.has(pair):
            raise RiskError(f"cash in {instrument.code}: no {pair} history", field="factor")
        return ExposureEstimate(instrument.code, "fx", (FactorLoading(pair, -1.0),),
                                note=f"USD value moves by about minus the {pair} return")

    def _rates(self, instrument: Instrument) -> ExposureEstimate:
        years = 0.25  # bills without a stated maturity roll quarterly
        if instrument.maturity:
            years = max((date.fromisoformat(instrument.maturity) - self.as_of).days / 365.25,
                        0.0)
        factor = (self.settings.short_rate_factor if years <= 5
                  else self.settings.long_rate_factor)
        if not self.history.has(factor):
            raise RiskError(f"{instrument.code}: no history for yield {factor!r}",
                            field="factor")
        # zero-coupon approximation: duration = years to maturity (an upper bound for coupons)
        return ExposureEstimate(instrument.code, "rates", (FactorLoading(factor, -years / 100),),
                                note=f"duration ≈ {years:.2f} years on {factor} (pp changes)")

    def _etf(self, instrument: Instrument) -> ExposureEstimate:
        facts = self.etf_facts.get(instrument.code)
        asset = (facts.underlying if facts else
                 instrument.underlying.asset if instrument.underlying else None)
        if asset is None:
            return self._single(instrument.code, instrument.code, "self")
        if not self.history.has(asset):
            raise RiskError(f"ETF {instrument.code}: no history for its underlying {asset!r}",
                            field="factor")
        fee = float(facts.expense_ratio) if facts else None
        units = (float(facts.units_per_share) if facts else
                 float(instrument.underlying.units_per_share) if instrument.underlying else None)
        loadings = (FactorLoading(asset, 1.0),)
        if not self.history.has(instrument.code):
            self._note(instrument.code, f"no price history: mapped to {asset} without tracking "
                       "residual")
            return ExposureEstimate(instrument.code, "underlying", loadings,
                                    units_per_share=units, fee_drag_annual=fee)
        own, base = self.history.column(instrument.code), self.history.column(asset)
        ok = np.isfinite(own) & np.isfinite(base)
        if ok.sum() < self.settings.beta_min_obs:
            return ExposureEstimate(instrument.code, "underlying", loadings,
                                    units_per_share=units, fee_drag_annual=fee,
                                    note="too little history to measure tracking")
        tracking = tracking_difference(own[ok], base[ok], self.history.periods_per_year)
        residual = instrument.code + RESIDUAL_SUFFIX
        self.residuals[residual] = np.where(ok, own - base, np.nan)
        dates = [d for d, k in zip(self.history.dates, ok, strict=True) if k]
        return ExposureEstimate(
            instrument.code, "underlying", loadings, residual, (dates[0], dates[-1]),
            int(ok.sum()), units_per_share=units,
            tracking_difference_annual=tracking.mean_difference_annual,
            tracking_error_annual=tracking.tracking_error_annual, fee_drag_annual=fee)

    def _equity(self, instrument: Instrument) -> ExposureEstimate:
        names = [self.settings.crypto_factor, self.settings.equity_factor]
        code = instrument.code
        if self.history.has(code) and all(self.history.has(n) for n in names):
            y = self.history.column(code)
            x = np.column_stack([self.history.column(n) for n in names])
            ok = np.flatnonzero(np.isfinite(y) & np.isfinite(x).all(axis=1))
            ok = ok[-self.settings.beta_window:]
            if len(ok) >= self.settings.beta_min_obs:
                fit = estimate_betas(y[ok], x[ok], names)
                residual = code + RESIDUAL_SUFFIX
                column = np.full(len(y), np.nan)
                column[ok] = fit.residuals
                self.residuals[residual] = column
                loadings = tuple(FactorLoading(n, float(b))
                                 for n, b in zip(names, fit.betas, strict=True))
                return ExposureEstimate(
                    code, "regression", loadings, residual,
                    (self.history.dates[ok[0]], self.history.dates[ok[-1]]), len(ok),
                    r_squared=float(fit.r_squared),
                    note=f"OLS on {names[0]} and {names[1]} over the last {len(ok)} periods")
        proxy = self.settings.equity_proxy
        self._note(code, f"too little history for a regression: declared proxy {dict(proxy)}")
        return ExposureEstimate(code, "proxy", tuple(
            FactorLoading(f, b) for f, b in proxy.items()), note="declared proxy")

    def _fund(self, instrument: Instrument) -> ExposureEstimate:
        code = instrument.code
        reported = self.reported.get(code)
        if reported:
            return ExposureEstimate(code, "reported", tuple(
                FactorLoading(f, float(b)) for f, b in sorted(reported.items())),
                note="the manager's reported exposures")
        proxy = self.settings.fund_proxies.get(instrument.kind, {"BTC": 1.0})
        self._note(code, f"no reported exposures: declared proxy {dict(proxy)}")
        return ExposureEstimate(code, "proxy", tuple(
            FactorLoading(f, b) for f, b in proxy.items()), note="declared proxy")


__all__ = ["ExposureEstimate", "ExposureMap", "ExposureSettings", "map_exposures"]
