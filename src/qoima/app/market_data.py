"""Use cases for market data: import validated series, list them, check what is stored.

Files and providers are read and validated by adapters before anything reaches here; this
layer writes every series of one request in one unit of work (all or nothing), records
each in the audit trail, and re-checks stored data on demand.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from qoima.app.ports import Clock, UnitOfWork, UnitOfWorkFactory
from qoima.app.units import in_write_unit, record_change
from qoima.app.users import require
from qoima.domain.enums import Severity
from qoima.domain.errors import Conflict, NotFound
from qoima.domain.findings import Finding
from qoima.domain.roles import Permission
from qoima.market.calendars import get_calendar
from qoima.market.quality import average_daily_volume, check_series, validated
from qoima.market.series import (
    EtfFacts,
    Series,
    SeriesId,
    SeriesInfo,
    SeriesKind,
    bars_hash,
)
from qoima.market.sources import PriceSource

#: Sessions of its own calendar a series may lag ``as_of`` before ``data check`` says so.
STALE_AFTER_SESSIONS = 3


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    series_id: SeriesId
    bars: int
    written: int  # new or changed bars; 0 when the store already held exactly this
    first_date: date
    last_date: date
    warnings: int
    content_hash: str


@dataclass(frozen=True, slots=True)
class SeriesCheck:
    """Quality of one stored series as of a date: its findings and how far behind it is."""

    info: SeriesInfo
    as_of_date: date
    lag_sessions: int
    findings: tuple[Finding, ...]

    @property
    def worst(self) -> Severity | None:
        order = [Severity.INFO, Severity.WARNING, Severity.ERROR, Severity.BLOCKING]
        return max((f.severity for f in self.findings), key=order.index, default=None)


class MarketDataService:
    def __init__(self, units: UnitOfWorkFactory, clock: Clock) -> None:
        self._units = units
        self._clock = clock

    def import_series(self, series: Sequence[Series], *, actor: str,
                      origin: str) -> list[ImportOutcome]:
        """Store every series or none; ``origin`` (file names, provider) goes to the audit."""
        seen: set[SeriesId] = set()
        for item in series:
            if item.id in seen:
                raise Conflict(f"series {item.id} appears twice in one import", field="series")
            seen.add(item.id)

        def work(uow: UnitOfWork) -> list[ImportOutcome]:
            require(uow, actor, Permission.MARKET_WRITE)
            at = self._clock.now()
            outcomes = []
            for item in series:
                if not item.bars:
                    raise NotFound(f"series {item.id} has no bars to import", field="series")
                digest = bars_hash(item.bars)
                written = uow.market.add_series(item, content_hash=digest, updated_at=at)
                outcome = ImportOutcome(item.id, len(item.bars), written, item.bars[0].day,
                                        item.bars[-1].day, len(item.warnings), digest)
                record_change(uow, at=at, actor=actor, action="market.series_imported",
                              object_type="series", object_id=str(item.id), payload={
                                  "origin": origin, "source": item.source,
                                  "calendar": item.calendar, "bars": outcome.bars,
                                  "written": written, "first_date": outcome.first_date,
                                  "last_date": outcome.last_date,
                                  "warnings": outcome.warnings,
                                  "content_hash": outcome.content_hash})
                outcomes.append(outcome)
            return outcomes
        return in_write_unit(self._units, work)

    def fetch(self, source: PriceSource, ids: Sequence[SeriesId], since: date, until: date,
              *, actor: str, progress: Callable[[SeriesId], None] | None = None
              ) -> tuple[list[Series], list[ImportOutcome]]:
        """Fetch every series from ``source``, validate each like a file (an error stops
        everything before anything is stored), then store them all in one unit of work."""
        fetched = []
        for series_id in ids:
            if progress is not None:
                progress(series_id)
            fetched.append(validated(source.fetch(series_id, since, until)))
        outcomes = self.import_series(fetched, actor=actor,
                                      origin=f"fetch {source.name} {since}..{until}")
        return fetched, outcomes

    def import_etf_facts(self, facts: Sequence[EtfFacts], *, actor: str, origin: str) -> int:
        def work(uow: UnitOfWork) -> int:
            require(uow, actor, Permission.MARKET_WRITE)
            changed = uow.market.add_etf_facts(facts)
            record_change(uow, at=self._clock.now(), actor=actor,
                          action="market.etf_facts_imported", object_type="etf_facts",
                          object_id=origin, payload={"facts": len(facts), "changed": changed,
                                                     "instruments": sorted(
                                                         {f.instrument_code for f in facts})})
            return changed
        return in_write_unit(self._units, work)

    def list_series(self) -> list[SeriesInfo]:
        with self._units(write=False) as uow:
            return uow.market.list_series()

    def load_series(self, series_id: SeriesId, since: date | None = None,
                    until: date | None = None) -> Series:
        with self._units(write=False) as uow:
            found = uow.market.load_series(series_id, since, until)
        if found is None:
            raise NotFound(f"no stored series {series_id}", field="series")
        return found

    def average_daily_volume(self, code: str, as_of: date,
                             window_sessions: int = 20) -> Decimal | None:
        """Mean volume of the last ``window_sessions`` bars on or before ``as_of``."""
        found = self.load_series(SeriesId(SeriesKind.PRICE, code), until=as_of)
        return average_daily_volume(found.bars, as_of, window_sessions)

    def etf_facts(self, as_of: date) -> dict[str, EtfFacts]:
        with self._units(write=False) as uow:
            return uow.market.etf_facts_as_of(as_of)

    def check(self, as_of: date | None = None,
              progress: Callable[[SeriesInfo], None] | None = None) -> list[SeriesCheck]:
        """Re-run the quality checks on every stored series and measure its lag behind
        ``as_of`` (default: the latest date of any stored series)."""
        with self._units(write=False) as uow:
            infos = uow.market.list_series()
            as_of = as_of or max((i.last_date for i in infos), default=None)
            checks = []
            for info in infos:
                if progress is not None:
                    progress(info)
                stored = uow.market.load_series(info.id)
                assert stored is not None
                assert as_of is not None
                calendar = get_calendar(info.calendar)
                report = check_series(info.id, stored.bars, calendar, source_name=str(info.id))
                lag = calendar.sessions_between(info.last_date, as_of)
                findings = [*report.errors, *report.warnings]
                if lag > STALE_AFTER_SESSIONS:
                    findings.append(Finding(
                        "market.stale_series", Severity.WARNING, str(info.id),
                        f"last bar {info.last_date} is {lag} {info.calendar} sessions before "
                        f"{as_of}", as_of, str(lag), str(STALE_AFTER_SESSIONS)))
                checks.append(SeriesCheck(info, as_of, lag, tuple(findings)))
        return checks
