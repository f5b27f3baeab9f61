"""Where daily series come from: the ``PriceSource`` port, a fallback chain and a cache.

Providers (Yahoo, CoinGecko, FRED) live in ``qoima.adapters.providers`` and do the I/O; this
module only decides which one to ask, what to keep and what to tell the user. A provider
that cannot answer raises :class:`ProviderUnavailable` (not reached) or :class:`ProviderError`
(reached, but the answer is unusable), so a fallback chain can move on and say why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Protocol

from qoima.domain.enums import Severity
from qoima.domain.errors import InvalidInput, QoimaError
from qoima.domain.findings import Finding
from qoima.market.series import Bar, Series, SeriesId

PROVIDER_FAILED = "market.provider_failed"
CACHE_STALE = "market.cache_stale"


# --- errors ------------------------------------------------------------------------------
class ProviderError(QoimaError):
    """A provider answered, but not with data we can use (HTTP 429/5xx, a refused request).

    The market package's error subtree: every provider failure derives from it, so a caller
    that wants "any provider trouble" catches one class. ``details`` carries ``provider``
    and, for HTTP answers, ``status``.
    """

    code = "provider_error"


class ProviderUnavailable(ProviderError):
    """The provider could not be reached (offline, DNS, timeout): try another or later."""

    code = "provider_unavailable"


class MalformedPayload(ProviderError):
    """The provider's answer does not have the shape we parse; ``field`` names the part."""

    code = "malformed_payload"


class UnsupportedSeries(InvalidInput):
    """No configured provider knows the series: a set-up problem, not a transient one."""

    code = "unsupported_series"


@dataclass(frozen=True, slots=True)
class ProviderAttempt:
    """One provider's failure inside a fallback chain: ``code`` is the error's stable code,
    ``unreachable`` whether it was a :class:`ProviderUnavailable` (offline, timeout)."""

    provider: str
    code: str
    message: str
    unreachable: bool = False


class ProvidersFailed(ProviderError):
    """Every provider that supports the series failed; ``attempts`` says how, in order."""

    code = "providers_failed"

    def __init__(self, message: str, *, attempts: tuple[ProviderAttempt, ...]) -> None:
        self.attempts = attempts
        super().__init__(message, attempts=[f"{a.provider}: {a.message}" for a in attempts])


class ProvidersUnavailable(ProvidersFailed, ProviderUnavailable):
    """Every provider failed by being unreachable: most likely the machine is offline."""

    code = "providers_unavailable"


# --- ports -------------------------------------------------------------------------------
class PriceSource(Protocol):
    """Anything that returns a daily series for a date range (both ends inclusive)."""

    @property
    def name(self) -> str: ...

    def supports(self, series_id: SeriesId) -> bool: ...

    def fetch(self, series_id: SeriesId, since: date, until: date) -> Series:
        """Bars with ``since <= day <= until``; raises :class:`ProviderError` and subclasses."""
        ...


class SeriesCache(Protocol):
    """Local copy of fetched series (a file per series in the workspace; see adapters)."""

    def load(self, series_id: SeriesId) -> Series | None:
        """The cached series, or None when nothing (usable) is cached."""
        ...

    def save(self, series: Series) -> None:
        """Replace the cached series whole; never leave a half-written copy."""
        ...


def _check_range(series_id: SeriesId, since: date, until: date) -> None:
    if since > until:
        raise InvalidInput(f"{series_id}: since {since} is after until {until}", field="since")


def _slice(series: Series, since: date, until: date) -> Series:
    return replace(series, bars=tuple(b for b in series.bars if since <= b.day <= until))


# --- fallback ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FallbackSource:
    """Ask providers in order; the first that answers wins.

    A provider that does not support the id is skipped silently; one that fails with a
    :class:`ProviderError` is recorded as a ``market.provider_failed`` warning on the
    returned series, so a report shows that a backup provider supplied the data.
    """

    sources: Sequence[PriceSource]
    name: str = "fallback"

    def supports(self, series_id: SeriesId) -> bool:
        return any(source.supports(series_id) for source in self.sources)

    def fetch(self, series_id: SeriesId, since: date, until: date) -> Series:
        _check_range(series_id, since, until)
        attempts: list[ProviderAttempt] = []
        for source in self.sources:
            if not source.supports(series_id):
                continue
            try:
                series = source.fetch(series_id, since, until)
            except ProviderError as error:
                attempts.append(ProviderAttempt(source.name, error.code, str(error),
                                                unreachable=isinstance(error, ProviderUnavailable)))
                continue
            findings = tuple(
                Finding(PROVIDER_FAILED, Severity.WARNING, str(series_id),
                        f"{a.provider} failed ({a.code}): {a.message}; used {source.name}")
                for a in attempts)
            return replace(series, warnings=findings + series.warnings)
        if not attempts:
            names = ", ".join(s.name for s in self.sources) or "none configured"
            raise UnsupportedSeries(f"no provider supports {series_id} (providers: {names})",
                                    field="series")
        listing = "; ".join(f"{a.provider}: {a.message}" for a in attempts)
        message = f"no provider could supply {series_id} for {since}..{until}: {listing}"
        error_class = (ProvidersUnavailable if all(a.unreachable for a in attempts)
                       else ProvidersFailed)
        raise error_class(message, attempts=tuple(attempts))


# --- cache -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CachedSource:
    """Serve from ``cache`` what is settled, fetch only what is missing or may still change.

    The last cached day is never trusted: it may have been an unfinished day (crypto's
    running close, a rate published later), so any request reaching it refetches from it
    onward and merges. A request that ends before the last cached day and starts on or
    after the first is answered from the cache alone. When the refresh fails but the cache
    covers the start, the cached bars are returned with a ``market.cache_stale`` warning
    (``stale_ok``): being offline should not stop a valuation that can say how old its data is.
    """

    inner: PriceSource
    cache: SeriesCache
    stale_ok: bool = True

    @property
    def name(self) -> str:
        return self.inner.name

    def supports(self, series_id: SeriesId) -> bool:
        return self.inner.supports(series_id)

    def fetch(self, series_id: SeriesId, since: date, until: date) -> Series:
        _check_range(series_id, since, until)
        cached = self.cache.load(series_id)
        if cached is None or cached.first_date is None or cached.last_date is None:
            return self._refresh(None, series_id, since, until, since, until)
        if cached.first_date > since:
            # Refetch the whole span: fetching only the head could leave a hole between the
            # new bars and the cached ones that a later request would take for a cache hit.
            return self._refresh(cached, series_id, since, until,
                                 since, max(until, cached.last_date))
        if until < cached.last_date:
            return _slice(cached, since, until)
        return self._refresh(cached, series_id, since, until, cached.last_date, until)

    def _refresh(self, cached: Series | None, series_id: SeriesId, since: date, until: date,
                 fetch_since: date, fetch_until: date) -> Series:
        try:
            fetched = self.inner.fetch(series_id, fetch_since, fetch_until)
        except ProviderError as error:
            covered = (cached is not None and cached.first_date is not None
                       and cached.first_date <= since)
            if not (self.stale_ok and covered) or cached is None:
                raise
            stale = Finding(CACHE_STALE, Severity.WARNING, str(series_id),
                            f"could not refresh from {self.inner.name}, using cached bars "
                            f"through {cached.last_date}: {error}",
                            as_of_date=until, measured=str(cached.last_date))
            sliced = _slice(cached, since, until)
            return replace(sliced, warnings=(stale, *sliced.warnings))
        merged = merge_series(cached, fetched)
        # Warnings such as fallback attempts describe this fetch, not the data: keep them
        # out of the cache so an old outage is not reported forever.
        self.cache.save(replace(merged, warnings=()))
        return replace(_slice(merged, since, until), warnings=fetched.warnings)


def merge_series(cached: Series | None, fetched: Series) -> Series:
    """Cached bars overlaid by fetched ones (a fetched day wins), in date order.

    Bars the provider did not return are kept: a provider that drops a day is no reason to
    forget it. Metadata comes from ``fetched``; ``source`` lists every provider involved.
    """
    if cached is None:
        return fetched
    by_day: dict[date, Bar] = {bar.day: bar for bar in cached.bars}
    by_day.update((bar.day, bar) for bar in fetched.bars)
    names = dict.fromkeys([*cached.source.split("+"), *fetched.source.split("+")])
    source = fetched.source if len(names) == 1 else "+".join(sorted(names))
    return replace(fetched, bars=tuple(by_day[day] for day in sorted(by_day)), source=source)
