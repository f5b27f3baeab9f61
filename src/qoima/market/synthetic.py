"""A seeded synthetic market with the stylized facts of the real one, labeled SYNTHETIC.

Daily series for the instruments the reserve holds or watches, built from a few documented
mechanisms rather than a fitted model:

* a Markov-switching **regime** (calm / turbulent / crisis), one step per calendar day,
  shared by every risk asset: it scales volatility, shifts drifts and tightens the link
  between crypto and equities (correlations go to one in a crisis);
* per asset, an own shock with **GARCH(1,1)** variance and **Student-t** innovations
  (fat tails; df 4 for crypto), so quiet and wild stretches cluster;
* a **factor structure**: every asset loads on earlier "drivers" (a hidden crypto factor,
  BTC, the S&P 500, oil, the dollar), taken over the asset's own session interval, so
  Monday's close of a crypto equity carries the weekend's BTC move;
* **spot ETFs** as underlying x units-per-share x expense drag, plus a small mean-reverting
  premium, on their exchange's sessions only;
* **rates**: the fed funds upper bound moves in 25 bp steps on scheduled meeting days only;
  2- and 10-year Treasury yields float around it;
* **USD/KZT** on Kazakhstan valuation days, loading negatively on oil (oil down, tenge weaker).

Pure NumPy, no I/O, no clock. Every random number comes from
``numpy.random.Generator(PCG64(...))`` with one stream per series named by a stable hash, so
a seed gives the same bit stream on every platform and adding a series leaves the others
unchanged. Values go through ``float`` once and are rounded to ``Decimal`` at the end; the
streams are bit-identical everywhere, and a last-ulp difference in a platform's ``exp``
could only show as a one-unit rounding difference on an exact tie.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

import numpy as np
from numpy.random import PCG64, Generator, SeedSequence
from numpy.typing import NDArray

from qoima.domain.errors import InvalidInput
from qoima.market.calendars import CalendarName, get_calendar
from qoima.market.quotes import SYNTHETIC_SOURCE_PREFIX
from qoima.market.series import Bar, EtfFacts, Series, SeriesId, SeriesKind

Floats = NDArray[np.float64]
SOURCE = f"{SYNTHETIC_SOURCE_PREFIX}:qoima-generator"


class Regime(StrEnum):
    CALM = "calm"
    TURBULENT = "turbulent"
    CRISIS = "crisis"


REGIMES = tuple(Regime)
PerRegime = tuple[float, float, float]  # one value for calm, turbulent, crisis


@dataclass(frozen=True, slots=True)
class RegimeParams:
    """The shared regime: a Markov chain stepped once per calendar day.

    ``transition[i][j]`` is the daily probability of moving from regime ``i`` to ``j``
    (order: calm, turbulent, crisis; rows sum to 1). ``vol_scale`` multiplies every risk
    asset's own shock in that regime.
    """

    transition: tuple[PerRegime, PerRegime, PerRegime] = (
        (0.990, 0.009, 0.001),  # calm lasts ~100 days
        (0.020, 0.970, 0.010),  # turbulent ~33 days, one in three ends in a crisis
        (0.010, 0.040, 0.950),  # crisis ~20 days, usually easing into turbulence
    )
    vol_scale: PerRegime = (0.75, 1.25, 2.2)
    start: Regime = Regime.CALM


@dataclass(frozen=True, slots=True)
class Garch:
    """GARCH(1,1) on the standardized own shock: ``h' = (1-a-b) + a x^2 + b h``, mean 1."""

    alpha: float = 0.08
    beta: float = 0.90


@dataclass(frozen=True, slots=True)
class Loading:
    """``beta`` times the log change of series ``driver`` over the asset's session interval,
    scaled by ``by_regime`` (a crypto-equity link that tightens under stress)."""

    driver: str
    beta: float
    by_regime: PerRegime = (1.0, 1.0, 1.0)


@dataclass(frozen=True, slots=True)
class AssetParams:
    """One log-price series: ``log P`` moves on the asset's sessions by the drift, the
    loadings on earlier drivers and its own GARCH-t shock.

    ``vol`` is the own shock's daily standard deviation in log units (0.02 = 2 %) before
    the regime scale; ``drift`` is a daily log drift per calendar day, by regime; ``volume``
    is the typical volume per session in units of the instrument (``None``: not published);
    ``hidden`` marks a factor that drives others and is not published.
    """

    code: str
    calendar: CalendarName
    start: float
    vol: float
    df: int = 5
    drift: PerRegime = (0.0, 0.0, 0.0)
    loadings: tuple[Loading, ...] = ()
    garch: Garch = field(default_factory=Garch)
    places: int = 2
    kind: SeriesKind = SeriesKind.PRICE
    currency: str | None = "USD"
    volume: float | None = None
    ohlc: bool = True
    hidden: bool = False
    first_date: date | None = None  # listed later than the period's start: nothing before


@dataclass(frozen=True, slots=True)
class VixParams:
    """An implied-volatility index derived from the equity index's conditional volatility:
    ``VIX = 100 x sqrt(252) x sigma x exp(premium)``, ``sigma`` an EWMA (``decay``) of the
    equity's squared log returns and ``premium`` an AR(1) around ``premium_mean`` (implied
    volatility trades above realized). Mean-reverting like the real index, never a random
    walk; published on the equity's sessions."""

    code: str = "VIX"
    equity: str = "SPX"
    decay: float = 0.94
    premium_mean: float = 0.25
    premium_vol: float = 0.05
    premium_persistence: float = 0.95
    floor: float = 9.0


@dataclass(frozen=True, slots=True)
class EtfParams:
    """A spot ETF: close = underlying x ``units_per_share`` (on the start date) x
    exp(-``expense_ratio`` x years) x exp(premium), premium an AR(1) of daily s.d.
    ``premium_vol``; quoted on ``calendar`` sessions only."""

    code: str
    underlying: str
    calendar: CalendarName
    units_per_share: float
    expense_ratio: float  # fraction per year
    volume: float  # shares per session
    premium_vol: float = 0.0008
    first_date: date | None = None  # listing day (IBIT: 2024-01-11); nothing before it


@dataclass(frozen=True, slots=True)
class RateParams:
    """Fed funds upper bound (percent, 25 bp steps on meeting days) and the 2y/10y yields.

    DGS2 = fed funds mid + a mean-reverting spread (the market's expected path); at each
    meeting the committee moves toward what the 2-year prices and toward ``neutral``, cuts
    in a crisis, and never goes below ``floor``. DGS10 = DGS2 + a mean-reverting term
    spread. Spread vols are daily, in percentage points, before the regime scale.
    """

    fed_funds_upper: float = 4.00
    neutral: float = 3.00
    floor: float = 0.25
    meeting_months: tuple[int, ...] = (1, 3, 5, 6, 7, 9, 11, 12)  # third Wednesday
    spread2_start: float = -0.30
    spread2_vol: float = 0.035
    spread2_reversion: float = 0.02  # per session
    spread2_equity_beta: float = 2.0  # pp per unit S&P log return: risk-off pulls yields down
    crisis_drift: float = -0.01  # pp per session: flight to quality
    term_start: float = 0.55
    term_mean: float = 0.60
    term_vol: float = 0.03
    term_reversion: float = 0.005


MAX_SHOCK = 6.0  # standardized own shocks are clipped to +-6 (before GARCH and regime)
MAX_VARIANCE = 9.0  # GARCH variance at most 9x its mean: vol at most 3x, before the regime
CRISIS = REGIMES.index(Regime.CRISIS)
CRYPTO_T = 4  # Student-t degrees of freedom for crypto: excess kurtosis is large
CRYPTO_DRIFT: PerRegime = (0.0012, -0.0004, -0.003)
EQUITY_DRIFT: PerRegime = (0.0005, 0.0, -0.0015)
XNYS, CRYPTO, KZV, AIX = (CalendarName.XNYS, CalendarName.CRYPTO, CalendarName.KZ_VALUATION,
                          CalendarName.AIX)

#: Levels are illustrative, about early November 2025. Crypto shares a hidden factor:
#: loadings and own vols are set for BTC-ETH correlation ~0.8 and BTC-BNB ~0.7.
ASSETS: tuple[AssetParams, ...] = (
    AssetParams("SPX", XNYS, 6_800.0, 0.0085, drift=EQUITY_DRIFT, ohlc=True),
    AssetParams("DXY", XNYS, 99.8, 0.0040, places=3),
    AssetParams("WTI", XNYS, 60.0, 0.018, loadings=(Loading("SPX", 0.4),), volume=350_000),
    AssetParams("XAU", XNYS, 4_000.0, 0.0090, drift=(0.0001, 0.00015, 0.0004),
                loadings=(Loading("DXY", -0.5),), volume=180_000),
    AssetParams("CRYPTO", CRYPTO, 1.0, 0.024, CRYPTO_T, CRYPTO_DRIFT,
                (Loading("SPX", 1.0, (0.3, 1.2, 2.0)),), hidden=True, ohlc=False),
    AssetParams("BTC", CRYPTO, 106_000.0, 0.0085, CRYPTO_T, loadings=(Loading("CRYPTO", 1.0),),
                volume=25_000),
    AssetParams("ETH", CRYPTO, 3_650.0, 0.0170, CRYPTO_T, loadings=(Loading("CRYPTO", 1.2),),
                volume=450_000),
    AssetParams("BNB", CRYPTO, 1_020.0, 0.0190, CRYPTO_T, loadings=(Loading("CRYPTO", 0.85),),
                volume=900_000),
    AssetParams("COIN", XNYS, 320.0, 0.030, loadings=(Loading("BTC", 1.4), Loading("SPX", 1.2)),
                volume=9_000_000),
    AssetParams("MSTR", XNYS, 280.0, 0.032, loadings=(Loading("BTC", 1.6), Loading("SPX", 1.0)),
                volume=12_000_000),
    AssetParams("USD/KZT", KZV, 522.0, 0.0040, 5, (0.00006, 0.0001, 0.0004),
                (Loading("WTI", -0.10), Loading("DXY", 0.3)), kind=SeriesKind.FX,
                currency="KZT", ohlc=False),
)
ETFS: tuple[EtfParams, ...] = (
    EtfParams("IBIT", "BTC", XNYS, 0.000568, 0.0025, 45_000_000),
    EtfParams("FBTC", "BTC", XNYS, 0.000876, 0.0025, 4_000_000),
    EtfParams("ETHA", "ETH", XNYS, 0.00760, 0.0025, 25_000_000),
    EtfParams("AIX-BTC", "BTC", AIX, 0.0001, 0.0095, 20_000, premium_vol=0.002),
)
RATES = ("DFEDTARU", "DGS2", "DGS10")  # FRED names: fed funds upper bound, 2y, 10y


@dataclass(frozen=True, slots=True)
class MarketParams:
    """Everything the generator needs besides the dates and the seed."""

    regimes: RegimeParams = field(default_factory=RegimeParams)
    assets: tuple[AssetParams, ...] = ASSETS
    etfs: tuple[EtfParams, ...] = ETFS
    rates: RateParams = field(default_factory=RateParams)
    vix: VixParams | None = None  # an implied-volatility index, when wanted

    def with_start(self, **levels: float) -> MarketParams:
        """The same market starting at other levels (``BTC=98_000.0``); loadings are on
        log changes, so every path keeps its shape and only scales."""
        unknown = set(levels) - {a.code for a in self.assets}
        if unknown:
            raise InvalidInput(f"unknown synthetic assets {sorted(unknown)}", field="start")
        assets = tuple(replace(a, start=levels.get(a.code, a.start)) for a in self.assets)
        return MarketParams(self.regimes, assets, self.etfs, self.rates, self.vix)


DEFAULT_PARAMS = MarketParams()


@dataclass(frozen=True, slots=True)
class SyntheticMarket:
    """The generated series, the regime path and the ETFs' look-through facts.

    ``days`` holds every calendar day of the period and ``regimes`` the regime of each.
    """

    start_date: date
    end_date: date
    seed: int
    series: Mapping[SeriesId, Series]
    days: tuple[date, ...]
    regimes: tuple[Regime, ...]
    etf_facts: tuple[EtfFacts, ...]

    def get(self, series_id: SeriesId | str) -> Series:
        """``get("BTC")``, ``get("fx:USD/KZT")``, ``get("rate:DGS10")``."""
        key = SeriesId.parse(series_id) if isinstance(series_id, str) else series_id
        try:
            return self.series[key]
        except KeyError:
            raise InvalidInput(f"no synthetic series {key}", field="series") from None

    def regime_on(self, day: date) -> Regime:
        return self.regimes[(day - self.start_date).days]


def generate_market(start_date: date, end_date: date, *, seed: int,
                    params: MarketParams = DEFAULT_PARAMS) -> SyntheticMarket:
    """Daily series from ``start_date`` to ``end_date`` inclusive, deterministic in ``seed``.

    Every series starts at its ``start`` level on its first session on or after
    ``start_date`` (or its ``first_date``, when listed later). Prices are in USD per unit,
    USD/KZT in KZT per USD, rates in percent.
    """
    if end_date < start_date:
        raise InvalidInput(f"end {end_date} is before start {start_date}", field="end_date")
    if seed < 0:
        raise InvalidInput(f"seed must be >= 0, got {seed}", field="seed")
    days = [start_date + timedelta(days=i) for i in range((end_date - start_date).days + 1)]
    regime = _regime_path(params.regimes, len(days), _stream(seed, "regime"))
    scale = np.asarray(params.regimes.vol_scale)[regime]
    logs: dict[str, Floats] = {}
    result: dict[SeriesId, Series] = {}
    calendars = _Sessions(days)
    for asset in params.assets:
        sessions = calendars.index(asset.calendar, asset.first_date)
        path = _simulate_asset(asset, sessions, regime, scale, logs, _stream(seed, asset.code))
        logs[asset.code] = path.fill(len(days))
        if not asset.hidden:
            sid = SeriesId(asset.kind, asset.code)
            result[sid] = Series(sid, path.bars(days, asset.places, _volume_places(asset)),
                                 SOURCE, asset.calendar.value, asset.currency)
    facts = []
    for etf in params.etfs:
        sessions = calendars.index(etf.calendar, etf.first_date)
        listed = etf.first_date is not None and etf.first_date > start_date
        path = _simulate_etf(etf, sessions, logs[etf.underlying], _stream(seed, etf.code),
                             int(sessions[0]) if listed else 0)
        sid = SeriesId(SeriesKind.PRICE, etf.code)
        result[sid] = Series(sid, path.bars(days, 2, 0), SOURCE, etf.calendar.value, "USD")
        facts.append(EtfFacts(etf.code, days[int(sessions[0])] if listed else start_date,
                              etf.underlying, Decimal(repr(etf.units_per_share)),
                              Decimal(repr(etf.expense_ratio)), SOURCE))
    result.update(_rates(params.rates, days, regime, scale, logs["SPX"], _stream(seed, "rates"),
                         calendars.index(CalendarName.US_FEDERAL)))
    if params.vix is not None:
        vix = params.vix
        equity = next(a for a in params.assets if a.code == vix.equity)
        sessions = calendars.index(equity.calendar, equity.first_date)
        result[SeriesId(SeriesKind.PRICE, vix.code)] = _vix(
            vix, days, sessions, logs[vix.equity], equity.vol, _stream(seed, vix.code))
    return SyntheticMarket(start_date, end_date, seed, result, tuple(days),
                           tuple(REGIMES[i] for i in regime), tuple(facts))


# -- machinery ---------------------------------------------------------------------------


def _stream(seed: int, name: str) -> Generator:
    """One PCG64 stream per series: CRC-32 of the name is stable across runs and platforms
    (``hash`` is salted per process)."""
    return Generator(PCG64(SeedSequence(seed, spawn_key=(zlib.crc32(name.encode()),))))


def _student_t(rng: Generator, n: int, df: int) -> Floats:
    """``n`` Student-t draws scaled to unit variance (needs ``df`` > 2).

    Built from normals only (t = z / sqrt(chi2/df), chi2 a sum of ``df`` squared normals) so
    the draws rest on the Generator's normal stream alone.
    """
    if df <= 2:
        raise InvalidInput(f"Student-t needs df > 2 for a finite variance, got {df}",
                           field="df")
    z = rng.standard_normal(n)
    chi2 = np.square(rng.standard_normal((n, df))).sum(axis=1)
    t: Floats = z / np.sqrt(chi2 / df) * math.sqrt((df - 2) / df)
    # one draw in ~10^4 would otherwise be a 20-sigma day that GARCH then amplifies for
    # weeks; real crypto's worst days are about 8-10 sigma of its average vol
    return np.clip(t, -MAX_SHOCK, MAX_SHOCK)


def _regime_path(params: RegimeParams, n: int, rng: Generator) -> NDArray[np.int64]:
    """Regime index (0 calm, 1 turbulent, 2 crisis) of each of ``n`` calendar days."""
    cumulative = np.cumsum(np.asarray(params.transition, dtype=np.float64), axis=1)
    uniforms = rng.random(n)
    path = np.empty(n, dtype=np.int64)
    state = REGIMES.index(params.start)
    for i in range(n):
        path[i] = state
        state = min(int(np.searchsorted(cumulative[state], uniforms[i], side="right")), 2)
    return path


class _Sessions:
    """Positions in ``days`` that are sessions of a calendar, computed once per calendar
    (a market of hundreds of stocks asks for the same exchange days hundreds of times)."""

    def __init__(self, days: list[date]) -> None:
        self._days = days
        self._found: dict[CalendarName, NDArray[np.int64]] = {}

    def index(self, calendar: CalendarName, first_date: date | None = None
              ) -> NDArray[np.int64]:
        if calendar not in self._found:
            cal = get_calendar(calendar)
            self._found[calendar] = np.asarray(
                [i for i, day in enumerate(self._days) if cal.is_session(day)], dtype=np.int64)
        sessions = self._found[calendar]
        if first_date is not None and first_date > self._days[0]:
            sessions = sessions[sessions >= (first_date - self._days[0]).days]
            if not len(sessions):
                raise InvalidInput(f"first date {first_date} is after the period's end",
                                   field="first_date")
        return sessions


def _garch(shocks: Floats, garch: Garch) -> Floats:
    """GARCH(1,1) volatility-clustered shocks from unit-variance ``shocks`` (shape (n,))."""
    out = np.empty_like(shocks)
    h = 1.0
    omega = 1.0 - garch.alpha - garch.beta
    for k, z in enumerate(shocks):
        x = math.sqrt(h) * z
        out[k] = x
        h = min(omega + garch.alpha * x * x + garch.beta * h, MAX_VARIANCE)
    return out


@dataclass(frozen=True, slots=True)
class _Path:
    """Log close, log open/high/low and volume on ``sessions`` (indices into the days)."""

    sessions: NDArray[np.int64]
    close: Floats
    open: Floats | None = None
    high: Floats | None = None
    low: Floats | None = None
    volume: Floats | None = None

    def fill(self, n: int) -> Floats:
        """Log close on every calendar day: the last session's, the first one's before it."""
        position = np.searchsorted(self.sessions, np.arange(n), side="right") - 1
        filled: Floats = self.close[np.maximum(position, 0)]
        return filled

    def bars(self, days: list[date], places: int, volume_places: int) -> tuple[Bar, ...]:
        def dec(values: Floats | None, k: int, digits: int) -> Decimal | None:
            return None if values is None else Decimal(f"{values[k]:.{digits}f}")

        levels = {name: None if v is None else np.exp(v) for name, v in
                  (("open", self.open), ("high", self.high),
                   ("low", self.low))}
        closes = np.exp(self.close)
        bars = []
        for k, index in enumerate(self.sessions):
            close = Decimal(f"{closes[k]:.{places}f}")
            bars.append(Bar(days[index], close, dec(levels["open"], k, places),
                            dec(levels["high"], k, places), dec(levels["low"], k, places),
                            dec(self.volume, k, volume_places)))
        return tuple(bars)


def _volume_places(asset: AssetParams) -> int:
    return 2 if asset.calendar == CalendarName.CRYPTO else 0


def _simulate_asset(asset: AssetParams, sessions: NDArray[np.int64],
                    regime: NDArray[np.int64], scale: Floats, logs: Mapping[str, Floats],
                    rng: Generator) -> _Path:
    n = len(sessions)
    own = _garch(_student_t(rng, n, asset.df), asset.garch)
    at = regime[sessions]
    gap = np.diff(sessions, prepend=sessions[0]).astype(np.float64)  # calendar days
    step = np.asarray(asset.drift)[at] * gap + scale[sessions] * asset.vol * own
    for loading in asset.loadings:
        driver = logs[loading.driver][sessions]
        moved = np.diff(driver, prepend=driver[0])  # the driver's move since our last session
        step += loading.beta * np.asarray(loading.by_regime)[at] * moved
    step[0] = 0.0  # the first session is the start level
    close = math.log(asset.start) + np.cumsum(step)
    if not asset.ohlc:
        return _Path(sessions, close)
    day_vol = scale[sessions] * asset.vol * np.abs(own) + np.abs(step)
    every_day = asset.calendar == CalendarName.CRYPTO
    return _with_ohlc(sessions, close, step, day_vol, 0.0 if every_day else 0.3,
                      asset.volume, rng)


def _with_ohlc(sessions: NDArray[np.int64], close: Floats, step: Floats, day_vol: Floats,
               overnight: float, volume: float | None, rng: Generator) -> _Path:
    """Open, high, low and volume around a log close path.

    The open is the previous close plus ``overnight`` of the day's move (0 for markets that
    never close: the UTC day opens at the last close); high and low reach beyond the open
    and close by half-normal excursions proportional to the day's volatility, so
    high >= max(open, close) and low <= min(open, close) hold before and after rounding
    (rounding is monotone). Volume rises with the size of the move (lognormal noise).
    """
    n = len(close)
    previous = np.concatenate([close[:1], close[:-1]])
    noise = rng.standard_normal((n, 4))
    opened = previous + overnight * step + overnight * 0.2 * day_vol * noise[:, 0]
    opened[0] = close[0]
    reach = 0.5 * day_vol + 0.002
    high = np.maximum(opened, close) + np.abs(noise[:, 1]) * reach
    low = np.minimum(opened, close) - np.abs(noise[:, 2]) * reach
    if volume is None:
        return _Path(sessions, close, opened, high, low)
    size = np.abs(step) / max(float(np.mean(np.abs(step))), 1e-12)
    volumes: Floats = volume * np.exp(0.5 * np.log1p(size) - 0.35 + 0.35 * noise[:, 3])
    return _Path(sessions, close, opened, high, low, np.maximum(volumes, 1.0))


def _simulate_etf(etf: EtfParams, sessions: NDArray[np.int64], underlying: Floats,
                  rng: Generator, origin: int = 0) -> _Path:
    """``origin``: the day the fee drag starts from (the listing day, or the period's start)."""
    n = len(sessions)
    shocks = rng.standard_normal(n)
    premium = np.empty(n)
    level = 0.0
    for k in range(n):
        # AR(1) around NAV: authorized participants arbitrage a premium away within days
        level = 0.5 * level + etf.premium_vol * shocks[k]
        premium[k] = level
    years = (sessions - origin).astype(np.float64) / 365.0
    nav = underlying[sessions] + math.log(etf.units_per_share) - etf.expense_ratio * years
    close = nav + premium
    step = np.diff(close, prepend=close[0])
    # the US session covers a third of the crypto day, so most of the move is overnight
    return _with_ohlc(sessions, close, step, np.abs(step), 0.6, etf.volume, rng)


def _vix(params: VixParams, days: list[date], sessions: NDArray[np.int64], equity: Floats,
         equity_vol: float, rng: Generator) -> Series:
    """The implied-volatility index on ``sessions`` from the equity's log path (module doc
    of :class:`VixParams`)."""
    moves = np.diff(equity[sessions], prepend=equity[sessions[0]])
    shocks = rng.standard_normal(len(sessions))
    variance, premium = equity_vol ** 2, params.premium_mean
    closes = np.empty(len(sessions))
    for k, move in enumerate(moves):
        variance = params.decay * variance + (1 - params.decay) * move * move
        premium = (params.premium_mean
                   + params.premium_persistence * (premium - params.premium_mean)
                   + params.premium_vol * shocks[k])
        closes[k] = max(100 * math.sqrt(252 * variance) * math.exp(premium), params.floor)
    sid = SeriesId(SeriesKind.PRICE, params.code)
    bars = tuple(Bar(days[i], Decimal(f"{closes[k]:.2f}")) for k, i in enumerate(sessions))
    return Series(sid, bars, SOURCE, CalendarName.XNYS.value, "USD")


def _meeting_days(months: tuple[int, ...], first: date, last: date) -> set[date]:
    days = set()
    for year in range(first.year, last.year + 1):
        for month in months:
            day = date(year, month, 15)  # the 15th-21st hold exactly one Wednesday
            days.add(day + timedelta(days=(2 - day.weekday()) % 7))
    return days


def _rates(params: RateParams, days: list[date], regime: NDArray[np.int64], scale: Floats,
           spx: Floats, rng: Generator, sessions: NDArray[np.int64]
           ) -> dict[SeriesId, Series]:
    """DFEDTARU, DGS2 and DGS10 on US federal business days (``sessions``), in percent."""
    meetings = _meeting_days(params.meeting_months, days[0], days[-1])
    n = len(sessions)
    shocks = rng.standard_normal((n, 3))
    quarters = round(params.fed_funds_upper / 0.25)  # integer quarter points: exact steps
    floor = round(params.floor / 0.25)
    spread2, term = params.spread2_start, params.term_start
    values = np.empty((n, 3))
    previous = sessions[0]
    for k, index in enumerate(sessions):
        s = float(scale[index])
        if k > 0:
            equity = float(spx[index] - spx[previous])
            spread2 += (-params.spread2_reversion * spread2
                        + params.spread2_vol * s * shocks[k, 0]
                        + params.spread2_equity_beta * equity
                        + (params.crisis_drift if regime[index] == CRISIS else 0.0))
            term += (params.term_reversion * (params.term_mean - term)
                     + params.term_vol * s * shocks[k, 1])
            if any(days[previous] < m <= days[index] for m in meetings):
                upper = quarters * 0.25
                wanted = (0.5 * spread2 + 0.15 * (params.neutral - upper)) / 0.25
                steps = max(-2, min(2, round(wanted + 0.4 * shocks[k, 2])))
                if regime[index] == CRISIS:
                    steps = min(steps, -1)
                steps = max(steps, floor - quarters)
                quarters += steps
                # the 2-year had priced most of the move: it moves a fifth of the change
                spread2 -= 0.8 * steps * 0.25
        upper = quarters * 0.25
        dgs2 = max(upper - 0.125 + spread2, 0.05)
        values[k] = (upper, dgs2, max(dgs2 + term, 0.05))
        previous = index
    out = {}
    for j, code in enumerate(RATES):
        sid = SeriesId(SeriesKind.RATE, code)
        bars = tuple(Bar(days[i], Decimal(f"{values[k, j]:.2f}")) for k, i in enumerate(sessions))
        out[sid] = Series(sid, bars, SOURCE, CalendarName.US_FEDERAL.value, None)
    return out
