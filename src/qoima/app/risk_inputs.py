"""Gather what the risk engine reads: the snapshot, the instruments and the factor history.

The history comes from the stored series (``qoima data import``), aligned on one calendar:
prices and FX with ``COMPOUND`` (crypto weekend moves land on the next session), rates with
``LAST_OBSERVATION`` as percentage-point changes. Which stored series stands for a factor
is a setting (``factor_series``), so real data named ``GOLD`` can stand for the demo's
``XAU``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from qoima.app.ports import UnitOfWorkFactory
from qoima.app.valuation import ValuationService
from qoima.domain.enums import InstrumentKind, Severity
from qoima.domain.errors import NotFound, RiskError
from qoima.domain.findings import Finding
from qoima.domain.reference import Instrument
from qoima.market.calendars import CalendarName, get_calendar
from qoima.market.returns import AlignmentRule, align_closes, changes, simple_returns
from qoima.market.series import EtfFacts, Series, SeriesId, SeriesInfo, SeriesKind
from qoima.portfolio.snapshot import PortfolioSnapshot
from qoima.risk.history import FactorHistory, combine

#: Macro factors the seeds ask about: dollar, gold, oil, equities, yields, the tenge.
MACRO_FACTORS = ("DXY", "XAU", "WTI", "SPX", "DGS2", "DGS10", "USD/KZT")
PERIODS_PER_YEAR = {CalendarName.CRYPTO.value: 365, CalendarName.DAILY.value: 365}
NOT_PRICED_BY_SERIES = frozenset({InstrumentKind.CASH, InstrumentKind.TBILL, InstrumentKind.BOND,
                                  InstrumentKind.SDR, InstrumentKind.HEDGE_FUND_INTEREST,
                                  InstrumentKind.VENTURE_FUND_INTEREST})


@dataclass(frozen=True, slots=True)
class HistorySettings:
    calendar: str = CalendarName.XNYS.value
    lookback_years: int = 8  # long enough to replay the 2020-2022 stress windows
    max_stale_sessions: int = 3
    #: factor name -> stored series id text, when they differ ("XAU": "price:GOLD").
    factor_series: Mapping[str, str] = field(default_factory=dict)
    extra_factors: tuple[str, ...] = ("DFEDTARU",)  # the target rate: Fed decisions


@dataclass(frozen=True, slots=True, eq=False)
class RiskInputs:
    snapshot: PortfolioSnapshot
    instruments: Mapping[str, Instrument]
    etf_facts: Mapping[str, EtfFacts]
    history: FactorHistory
    series: Mapping[str, Series]
    findings: tuple[Finding, ...]

    @property
    def usd_kzt(self) -> float | None:
        quote = self.snapshot.usd_kzt
        return None if quote is None else float(quote.rate)


class RiskInputsLoader:
    def __init__(self, units: UnitOfWorkFactory, valuation: ValuationService) -> None:
        self._units, self._valuation = units, valuation

    def load(self, as_of: date, settings: HistorySettings | None = None, *,
             extra_instruments: Sequence[str] = (), extra_series: Sequence[str] = ()
             ) -> RiskInputs:
        """The inputs at ``as_of``; ``extra_instruments`` (candidates not held yet) and
        ``extra_series`` (a gate's VIX, say) are loaded as well as the book's factors."""
        settings = settings or HistorySettings()
        snapshot = self._valuation.snapshot(as_of)
        with self._units(write=False) as uow:
            instruments = {i.code: i for i in uow.reference.list_instruments()}
            stored = {info.id: info for info in uow.market.list_series()}
            facts = uow.market.etf_facts_as_of(as_of)
            wanted = _factor_names(snapshot, instruments, settings, extra_instruments)
            wanted += [name for name in extra_series if name not in wanted]
            start = as_of - timedelta(days=round(365.25 * settings.lookback_years))
            series: dict[str, Series] = {}
            findings: list[Finding] = []
            for name in wanted:
                sid = _series_id(name, settings, stored)
                if sid is None:
                    findings.append(Finding("risk.missing_factor", Severity.WARNING, name,
                                            f"no stored series for factor {name}", as_of))
                    continue
                loaded = uow.market.load_series(sid, start - timedelta(days=10), as_of)
                if loaded is not None and len(loaded.bars) >= 2:
                    series[name] = loaded
        if not series:
            raise NotFound("no market history for any risk factor: import series with "
                           "`qoima data import` or run `qoima demo`", field="series")
        history = build_history(series, settings, start, as_of)
        return RiskInputs(snapshot, instruments, facts, history, series, tuple(findings))


def build_history(series: Mapping[str, Series], settings: HistorySettings, start: date,
                  end: date) -> FactorHistory:
    """Align and difference ``series`` into one :class:`FactorHistory` on the calendar."""
    calendar = get_calendar(settings.calendar)
    levels = {n: s for n, s in series.items() if s.id.kind is not SeriesKind.RATE}
    rates = {n: s for n, s in series.items() if s.id.kind is SeriesKind.RATE}
    parts = []
    if levels:
        parts.append(simple_returns(align_closes(
            levels, calendar, start, end, rule=AlignmentRule.COMPOUND,
            max_stale_sessions=settings.max_stale_sessions)))
    if rates:
        parts.append(changes(align_closes(
            rates, calendar, start, end, rule=AlignmentRule.LAST_OBSERVATION,
            max_stale_sessions=settings.max_stale_sessions)))
    if not parts or len(parts[0].dates) < 2:
        raise RiskError(f"no sessions of {settings.calendar} between {start} and {end}")
    periods = PERIODS_PER_YEAR.get(settings.calendar, 252)
    return combine(parts, periods_per_year=periods,
                   synthetic=any(s.is_synthetic for s in series.values()))


def _factor_names(snapshot: PortfolioSnapshot, instruments: Mapping[str, Instrument],
                  settings: HistorySettings, extra_instruments: Sequence[str] = ()
                  ) -> list[str]:
    names: list[str] = [*MACRO_FACTORS, "BTC", *settings.extra_factors]
    held = [p.instrument_code for p in (*snapshot.positions, *snapshot.pending_positions)]
    for code in dict.fromkeys([*held, *extra_instruments]):
        if code not in instruments:
            raise NotFound(f"unknown instrument {code}", field="instrument")
        instrument = instruments[code]
        if instrument.kind is InstrumentKind.CASH and instrument.code != "USD":
            names.append(f"USD/{instrument.code}")
        if instrument.kind not in NOT_PRICED_BY_SERIES:
            names.append(instrument.code)
        if instrument.underlying is not None:
            names.append(instrument.underlying.asset)
    return list(dict.fromkeys(names))


def _series_id(name: str, settings: HistorySettings,
               stored: Mapping[SeriesId, SeriesInfo]) -> SeriesId | None:
    if name in settings.factor_series:
        return SeriesId.parse(settings.factor_series[name])
    for kind in (SeriesKind.PRICE, SeriesKind.FX, SeriesKind.RATE):
        candidate = SeriesId(kind, name)
        if candidate in stored:
            return candidate
    return None
