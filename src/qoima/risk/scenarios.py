"""The stress-scenario library: historical windows and hypothetical shocks, as data.

Factor moves follow :mod:`qoima.risk.positions`: simple returns for prices and FX
(``-0.50`` = -50 %), changes in percentage points for rates (:data:`RATE_FACTORS`).

Historical windows are replayed on today's holdings by :func:`qoima.risk.stress.run_stress`:
from the factors' own closes when their history covers the window, otherwise from
``recorded_moves``, measured once from the real files in ``shared/data/market`` (close on or
before the start date to close on or before the end date; crypto on UTC days, US series on
NYSE sessions, so a window ending on a weekend takes Friday's US close). A test re-measures
them from the files. The dates are the last close before each episode and its trough close.

Hypothetical shocks state every move they make; a factor they do not name is unchanged,
except where :data:`DEFAULT_PROXIES` derives it (a spot ETF's own price from its underlying,
a token without data from BTC). "Crypto -X %" means BTC -X % and the other tokens moved by
their beta to BTC (:data:`CRYPTO_BETAS`: ETH 1.2, BNB 1.0), the reverse stress test's rule.

:func:`resolve_moves` turns a scenario into the move of every factor a book needs and says
where each came from (the sources are listed in :mod:`qoima.risk.stress`).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from qoima.domain.enums import Severity
from qoima.domain.errors import InvalidInput, UnknownScenario
from qoima.domain.findings import Finding

FloatArray = npt.NDArray[np.float64]
#: factor -> (dates ascending, closes): prices/FX levels, or rates in percent.
PriceHistory = Mapping[str, tuple[Sequence[date], npt.ArrayLike]]

#: Factors quoted in percent whose moves are percentage-point changes (FRED yields, rates).
RATE_FACTORS = frozenset({"DGS1MO", "DGS3MO", "DGS1", "DGS2", "DGS5", "DGS10", "DGS30",
                          "EFFR", "DFEDTARU", "DFEDTARL", "SOFR"})
#: Beta of other tokens to BTC in the built-in shocks and the reverse stress test.
CRYPTO_BETAS: Mapping[str, float] = {"ETH": 1.2, "BNB": 1.0}
#: A factor without a move of its own, derived from others (factor -> {base: beta}). An
#: empty mapping says "unchanged by construction" (stablecoins at par).
DEFAULT_PROXIES: Mapping[str, Mapping[str, float]] = {
    **{etf: {"BTC": 1.0} for etf in ("IBIT", "FBTC", "ARKB", "BITB", "GBTC", "AIX-BTC")},
    **{etf: {"ETH": 1.0} for etf in ("ETHA", "FETH", "ETHE")},
    "GLD": {"XAU": 1.0},
    "BNB": {"BTC": 1.0},
    "SOL": {"BTC": 1.3},
    "USDT": {},
    "USDC": {},
}


def check_moves(moves: Mapping[str, float], *, field_name: str = "moves") -> dict[str, float]:
    """Finite moves; a price or FX move above -100 % (a rate's pp change may be anything)."""
    checked: dict[str, float] = {}
    for factor, raw in moves.items():
        if not factor or not isinstance(factor, str):
            raise InvalidInput(f"factor names must be non-empty text, got {factor!r}",
                               field=field_name)
        value = float(raw)
        if not math.isfinite(value):
            raise InvalidInput(f"move of {factor} must be finite, got {raw!r}", field=factor)
        if factor not in RATE_FACTORS and value <= -1.0:
            raise InvalidInput(f"move of {factor} is {value}: a price cannot fall 100 % or "
                               "more (moves are fractions: -0.5 = -50 %)", field=factor)
        checked[factor] = value
    return checked


def _check_share(value: float, name: str) -> float:
    if not math.isfinite(value) or not 0.0 <= value < 1.0:
        raise InvalidInput(f"{name} must be a fraction in [0, 1), got {value!r}", field=name)
    return float(value)


@dataclass(frozen=True, slots=True)
class ScenarioExtras:
    """What a hypothetical shock adds beyond factor moves.

    ``etf_discount``: crypto ETFs trade this fraction below NAV; ``etf_liquidity_haircut``:
    the further concession to sell into the outflows. Both are extra losses on the
    *stressed* value of ETF positions marked ``crypto``. ``beta_amplification`` multiplies
    crypto equities' loadings on ``amplified_factors`` (contagion: their beta to crypto
    rises in a crash).
    """

    etf_discount: float = 0.0
    etf_liquidity_haircut: float = 0.0
    beta_amplification: float = 1.0
    amplified_factors: tuple[str, ...] = ("BTC", "ETH")

    def __post_init__(self) -> None:
        _check_share(self.etf_discount, "etf_discount")
        _check_share(self.etf_liquidity_haircut, "etf_liquidity_haircut")
        if self.etf_discount + self.etf_liquidity_haircut >= 1.0:
            raise InvalidInput("etf_discount + etf_liquidity_haircut must stay below 1",
                               field="etf_discount")
        if not math.isfinite(self.beta_amplification) or self.beta_amplification < 0:
            raise InvalidInput("beta_amplification must be a finite number >= 0, got "
                               f"{self.beta_amplification!r}", field="beta_amplification")

    @property
    def is_empty(self) -> bool:
        return self == ScenarioExtras()


@dataclass(frozen=True, slots=True)
class HypotheticalScenario:
    name: str
    description: str
    moves: Mapping[str, float]
    extra: ScenarioExtras = field(default_factory=ScenarioExtras)

    def __post_init__(self) -> None:
        if not self.name:
            raise InvalidInput("a scenario needs a name", field="name")
        object.__setattr__(self, "moves", check_moves(self.moves))

    @property
    def kind(self) -> str:
        return "hypothetical"


@dataclass(frozen=True, slots=True)
class HistoricalScenario:
    """A window replayed on today's holdings; ``recorded_moves`` are the fallback."""

    name: str
    start_date: date
    end_date: date
    description: str
    recorded_moves: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.name:
            raise InvalidInput("a scenario needs a name", field="name")
        if self.end_date <= self.start_date:
            raise InvalidInput(f"window end {self.end_date} is not after its start "
                               f"{self.start_date}", field="end")
        object.__setattr__(self, "recorded_moves",
                           check_moves(self.recorded_moves, field_name="recorded_moves"))

    @property
    def kind(self) -> str:
        return "historical"


Scenario = HistoricalScenario | HypotheticalScenario


def _crypto(btc: float) -> dict[str, float]:
    """BTC's move and the other tokens' by their beta to BTC."""
    return {"BTC": btc, **{token: beta * btc for token, beta in CRYPTO_BETAS.items()}}


HISTORICAL: tuple[HistoricalScenario, ...] = (
    HistoricalScenario(
        "covid-2020", date(2020, 2, 19), date(2020, 3, 16),
        "COVID crash: the S&P 500's peak close (19 Feb 2020) to 16 Mar 2020, after BTC's "
        "-37 % day of 12 Mar; the oil price war (from 9 Mar) and the tenge's slide fall "
        "inside it.",
        {"BTC": -0.479469, "ETH": -0.574206, "BNB": -0.579732, "SPX": -0.295327,
         "XAU": -0.075645, "DXY": -0.015161, "WTI": -0.456762, "USD/KZT": 0.075947,
         "DGS10": -0.83, "DGS2": -1.06, "MSTR": -0.287032}),
    HistoricalScenario(
        "china-mining-ban-2021", date(2021, 5, 11), date(2021, 5, 23),
        "May 2021: the last close before Tesla suspended BTC payments (12 May) through "
        "China's mining and trading crackdown (18-21 May) to BTC's trough close of 23 May.",
        {"BTC": -0.386812, "ETH": -0.493948, "BNB": -0.608906, "SOL": -0.446161,
         "SPX": 0.000906, "XAU": 0.022223, "DXY": -0.001331, "WTI": -0.02603,
         "DGS10": -0.01, "DGS2": 0.01, "COIN": -0.259571, "MSTR": -0.219149}),
    HistoricalScenario(
        "luna-2022", date(2022, 5, 5), date(2022, 5, 12),
        "Terra/LUNA: 5 May 2022 to 12 May, as UST lost its peg (9 May) and LUNA went to "
        "zero.",
        {"BTC": -0.205806, "ETH": -0.28645, "BNB": -0.288738, "SOL": -0.4718,
         "SPX": -0.052278, "XAU": -0.026788, "DXY": 0.010602, "WTI": -0.018674,
         "DGS10": -0.21, "DGS2": -0.15, "COIN": -0.487965, "MSTR": -0.455742}),
    HistoricalScenario(
        "ftx-2022", date(2022, 11, 6), date(2022, 11, 21),
        "FTX: from Binance's announcement that it would sell FTT (6 Nov 2022) through FTX's "
        "bankruptcy (11 Nov) to BTC's trough close of 21 Nov.",
        {"BTC": -0.245584, "ETH": -0.295046, "BNB": -0.251101, "SOL": -0.637549,
         "SPX": 0.047577, "XAU": 0.038804, "DXY": -0.027417, "WTI": -0.138691,
         "DGS10": -0.34, "DGS2": -0.18, "COIN": -0.299048, "MSTR": -0.432624}),
    HistoricalScenario(
        "btc-fall-nov-2025", date(2025, 11, 2), date(2025, 11, 21),
        "November 2025: BTC from its highest November close (110,640 on 2 Nov) to 85,091 "
        "on 21 Nov, the day of its intraday low near 80,660.",
        {"BTC": -0.23092, "ETH": -0.292852, "SPX": -0.034679, "XAU": 0.023731,
         "DXY": 0.003808, "WTI": -0.046802, "DGS10": -0.05, "DGS2": -0.09,
         "COIN": -0.300686, "MSTR": -0.36737, "IBIT": -0.230016, "FBTC": -0.229596,
         "ETHA": -0.294959}),
)

HYPOTHETICAL: tuple[HypotheticalScenario, ...] = (
    HypotheticalScenario(
        "btc-minus-50", "BTC halves; other tokens follow by their beta to BTC.",
        _crypto(-0.50)),
    HypotheticalScenario(
        "etf-discount-outflows",
        "Heavy redemptions from spot crypto ETFs: BTC -20 %, the ETFs trade 5 % below NAV "
        "and selling into the outflows costs another 2 %.",
        _crypto(-0.20), ScenarioExtras(etf_discount=0.05, etf_liquidity_haircut=0.02)),
    HypotheticalScenario(
        "crypto-equity-contagion",
        "Crypto -30 % spreads to equities: S&P 500 -10 %, and crypto equities' beta to "
        "crypto rises by half.",
        {**_crypto(-0.30), "SPX": -0.10}, ScenarioExtras(beta_amplification=1.5)),
    HypotheticalScenario(
        "dollar-spike",
        "Dollar squeeze: DXY +10 %, gold -5 %, crypto -20 %, S&P 500 -10 %, tenge -15 % "
        "(USD/KZT +15 %).",
        {**_crypto(-0.20), "DXY": 0.10, "XAU": -0.05, "SPX": -0.10, "USD/KZT": 0.15}),
    HypotheticalScenario(
        "oil-crash-tenge",
        "Oil halves, hitting the tenge and the reserves together: WTI -50 %, USD/KZT +25 %, "
        "crypto -30 %, S&P 500 -10 %.",
        {**_crypto(-0.30), "WTI": -0.50, "USD/KZT": 0.25, "SPX": -0.10}),
)

BUILTIN_SCENARIOS: tuple[Scenario, ...] = (*HISTORICAL, *HYPOTHETICAL)


def scenario_names(scenarios: tuple[Scenario, ...] = BUILTIN_SCENARIOS) -> tuple[str, ...]:
    return tuple(s.name for s in scenarios)


def get_scenario(name: str, scenarios: tuple[Scenario, ...] = BUILTIN_SCENARIOS) -> Scenario:
    """The scenario called ``name``; :class:`UnknownScenario` lists the available ones."""
    for scenario in scenarios:
        if scenario.name == name:
            return scenario
    available = ", ".join(scenario_names(scenarios))
    raise UnknownScenario(f"unknown scenario {name!r}; available: {available}",
                          field="scenario", available=scenario_names(scenarios))


@dataclass(frozen=True, slots=True)
class ResolvedMoves:
    """Factor moves of one scenario and where each came from; ``path`` rows for replays."""

    moves: Mapping[str, float]
    sources: Mapping[str, str]
    findings: tuple[Finding, ...] = ()
    path_dates: tuple[date, ...] = ()
    path: Mapping[str, FloatArray] | None = None  # factor -> cumulative move per path date


# --- resolving a scenario into factor moves --------------------------------------------

def _series(name: str, entry: tuple[Sequence[date], npt.ArrayLike]
            ) -> tuple[npt.NDArray[np.int64], FloatArray]:
    dates, closes = entry
    days = np.array([d.toordinal() for d in dates], dtype=np.int64)
    values = np.asarray(closes, dtype=np.float64)
    if values.shape != days.shape:
        raise InvalidInput(f"history of {name}: {len(days)} dates but {values.size} closes",
                           field=name)
    if days.size and np.any(np.diff(days) <= 0):
        raise InvalidInput(f"history of {name}: dates must be strictly increasing", field=name)
    return days, values


def _covering(days: npt.NDArray[np.int64], start: date, end: date, max_stale_days: int
              ) -> tuple[int, int] | None:
    """Indices of the closes on/before ``start`` and ``end``, if both are fresh enough."""
    i = int(np.searchsorted(days, start.toordinal(), side="right")) - 1
    j = int(np.searchsorted(days, end.toordinal(), side="right")) - 1
    if i < 0 or start.toordinal() - days[i] > max_stale_days:
        return None
    if end.toordinal() - days[j] > max_stale_days:
        return None
    return i, j


def _cumulative(name: str, values: FloatArray, base: int, rows: npt.NDArray[np.int64],
                rate: bool) -> FloatArray:
    """Cumulative move from ``values[base]`` to each of ``values[rows]``."""
    used = values[base:int(rows.max()) + 1]
    if not np.all(np.isfinite(used)):
        raise InvalidInput(f"history of {name}: NaN or infinite close inside the window",
                           field=name)
    if rate:
        out: FloatArray = values[rows] - values[base]
        return out
    if values[base] <= 0:
        raise InvalidInput(f"history of {name}: close {values[base]} at the window's start; "
                           "a simple return from it is undefined", field=name)
    out = values[rows] / values[base] - 1
    return out


def resolve_moves(scenario: Scenario, factors: Iterable[str], *,
                  history: PriceHistory | None = None,
                  proxies: Mapping[str, Mapping[str, float]] = DEFAULT_PROXIES,
                  residuals: Collection[str] = (), optional: Collection[str] = (),
                  max_stale_days: int = 5, path: bool = False) -> ResolvedMoves:
    """The move of every factor in ``factors`` (and every factor the scenario names).

    ``max_stale_days``: the latest close on or before a window's start or end may be this
    many calendar days old (weekends, holidays); older and the history does not cover it.
    ``path``: also the cumulative move of each factor on every calendar day of the window
    (replays only); factors without history keep their window move on every day.
    ``optional``: factors whose absence from a replay needs no warning (the tenge rate when
    only the KZT view needs it).
    """
    wanted = list(dict.fromkeys(factors))
    direct: dict[str, float] = {}
    sources: dict[str, str] = {}
    findings: list[Finding] = []
    path_rows: dict[str, FloatArray] = {}
    path_days: tuple[date, ...] = ()
    if isinstance(scenario, HypotheticalScenario):
        direct.update(scenario.moves)
        sources.update(dict.fromkeys(scenario.moves, "scenario"))
    else:
        span = (scenario.end_date - scenario.start_date).days
        path_days = tuple(scenario.start_date + timedelta(days=k) for k in range(span + 1))
        ordinals = np.array([d.toordinal() for d in path_days], dtype=np.int64)
        candidates = [*wanted, *scenario.recorded_moves]
        candidates += [b for f in wanted for b in proxies.get(f, {})]
        for name in dict.fromkeys(candidates):
            if history is not None and name in history:
                days, values = _series(name, history[name])
                covered = _covering(days, scenario.start_date, scenario.end_date,
                                    max_stale_days)
                if covered is not None:
                    rows = np.maximum(np.searchsorted(days, ordinals, side="right") - 1,
                                      covered[0]).astype(np.int64)
                    cumulative = _cumulative(name, values, covered[0], rows,
                                             name in RATE_FACTORS)
                    direct[name], sources[name] = float(cumulative[-1]), "history"
                    path_rows[name] = cumulative
                    continue
            if name in scenario.recorded_moves:
                direct[name], sources[name] = scenario.recorded_moves[name], "recorded"
    moves = dict(direct)
    for name in wanted:
        if name in moves:
            continue
        if name in residuals:
            moves[name], sources[name] = 0.0, "residual"
        elif name in proxies:
            bases = proxies[name]
            absent = [b for b in bases if b not in direct]
            if absent:
                findings.append(Finding(
                    "risk.stress_proxy_incomplete", Severity.WARNING, name,
                    f"{scenario.name}: proxy of {name} lacks {', '.join(absent)}; "
                    "their part is taken as zero"))
            moves[name] = float(sum(beta * direct.get(b, 0.0) for b, beta in bases.items()))
            sources[name] = "proxy"
            if path:
                combined = np.zeros(len(path_days))
                for base, beta in bases.items():
                    combined += beta * path_rows.get(base, direct.get(base, 0.0))
                path_rows[name] = combined
        elif isinstance(scenario, HypotheticalScenario):
            moves[name], sources[name] = 0.0, "unchanged"
        else:
            moves[name], sources[name] = 0.0, "missing"
            if name in optional:
                continue
            findings.append(Finding(
                "risk.stress_missing_factor", Severity.WARNING, name,
                f"{scenario.name}: no history covering {scenario.start_date}.."
                f"{scenario.end_date} and no recorded move for {name}; taken as unchanged"))
    if not path or isinstance(scenario, HypotheticalScenario):
        return ResolvedMoves(moves, sources, tuple(findings))
    full = {name: path_rows.get(name, np.full(len(path_days), move))
            for name, move in moves.items()}
    if any(sources[n] == "recorded" for n in wanted if n not in optional):
        findings.append(Finding(
            "risk.stress_path_partial", Severity.INFO, scenario.name,
            "factors without history keep their whole-window move on every day of the path"))
    return ResolvedMoves(moves, sources, tuple(findings), path_days, full)
