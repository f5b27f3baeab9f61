"""FallbackSource and CachedSource with fake providers and the file cache."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from qoima.adapters.providers import cache as cache_module
from qoima.adapters.providers.cache import FileSeriesCache
from qoima.domain.enums import Severity
from qoima.domain.errors import InvalidInput
from qoima.market.series import Bar, Series, SeriesId, SeriesKind
from qoima.market.sources import (
    CACHE_STALE,
    PROVIDER_FAILED,
    CachedSource,
    FallbackSource,
    PriceSource,
    ProviderError,
    ProvidersFailed,
    ProvidersUnavailable,
    ProviderUnavailable,
    UnsupportedSeries,
)

BTC = SeriesId(SeriesKind.PRICE, "BTC")
D0 = date(2024, 1, 1)


def day(n: int) -> date:
    return D0 + timedelta(days=n)


@dataclass
class FakeSource:
    """Closes 100 + day number (+ ``bump``), or the error ``fail`` raises; counts calls."""

    name: str
    codes: frozenset[str] = frozenset({"BTC"})
    fail: Callable[[], Exception] | None = None
    bump: int = 0
    last_day: date | None = None  # the provider's "today": nothing after it
    calls: list[tuple[date, date]] = field(default_factory=list)

    def supports(self, series_id: SeriesId) -> bool:
        return series_id.code in self.codes

    def fetch(self, series_id: SeriesId, since: date, until: date) -> Series:
        self.calls.append((since, until))
        if self.fail is not None:
            raise self.fail()
        end = min(until, self.last_day) if self.last_day else until
        bars = tuple(Bar(d, Decimal(100 + (d - D0).days + self.bump))
                     for d in (since + timedelta(days=i) for i in range((end - since).days + 1)))
        return Series(series_id, bars, source=self.name, calendar="crypto", currency="USD")


def _offline() -> Exception:
    return ProviderUnavailable("a is unreachable (offline?): ConnectError", provider="a")


def test_protocol_is_satisfied_by_the_fakes_and_adapters() -> None:
    sources: list[PriceSource] = [FakeSource("a"), FallbackSource([FakeSource("b")])]
    assert all(s.supports(BTC) for s in sources)


# --- fallback ----------------------------------------------------------------------------
def test_first_supporting_source_wins_and_others_are_not_asked() -> None:
    skipped = FakeSource("eth-only", codes=frozenset({"ETH"}))
    first, second = FakeSource("first"), FakeSource("second")
    series = FallbackSource([skipped, first, second]).fetch(BTC, day(0), day(1))
    assert series.source == "first"
    assert series.warnings == ()
    assert (len(skipped.calls), len(first.calls), len(second.calls)) == (0, 1, 0)


def test_failures_move_on_in_order_and_are_recorded_as_findings() -> None:
    down = FakeSource("down", fail=_offline)
    limited = FakeSource("limited", fail=lambda: ProviderError("HTTP 429", status=429))
    good = FakeSource("good")
    series = FallbackSource([down, limited, good]).fetch(BTC, day(0), day(1))
    assert series.source == "good"
    assert [w.rule for w in series.warnings] == [PROVIDER_FAILED, PROVIDER_FAILED]
    assert all(w.severity is Severity.WARNING for w in series.warnings)
    assert "down failed (provider_unavailable)" in series.warnings[0].message
    assert "limited failed (provider_error)" in series.warnings[1].message
    assert series.warnings[1].message.endswith("used good")


def test_all_failing_raises_one_error_listing_each_provider() -> None:
    sources = [FakeSource("a", fail=_offline),
               FakeSource("b", fail=lambda: ProviderError("b answered HTTP 503", status=503))]
    with pytest.raises(ProvidersFailed) as caught:
        FallbackSource(sources).fetch(BTC, day(0), day(1))
    error = caught.value
    assert not isinstance(error, ProviderUnavailable)
    assert [(a.provider, a.code) for a in error.attempts] == [
        ("a", "provider_unavailable"), ("b", "provider_error")]
    assert "a: a is unreachable" in str(error)
    assert "b: b answered HTTP 503" in str(error)


def test_all_unreachable_is_itself_provider_unavailable() -> None:
    sources = [FakeSource("a", fail=_offline), FakeSource("b", fail=_offline)]
    with pytest.raises(ProvidersUnavailable) as caught:
        FallbackSource(sources).fetch(BTC, day(0), day(1))
    assert isinstance(caught.value, ProviderUnavailable)
    assert len(caught.value.attempts) == 2


def test_no_supporting_source_is_unsupported_series() -> None:
    with pytest.raises(UnsupportedSeries, match="no provider supports price:BTC"):
        FallbackSource([FakeSource("eth", codes=frozenset({"ETH"}))]).fetch(BTC, day(0), day(1))


def test_errors_that_are_not_provider_errors_propagate() -> None:
    broken = FakeSource("broken", fail=lambda: RuntimeError("bug"))
    with pytest.raises(RuntimeError):
        FallbackSource([broken, FakeSource("good")]).fetch(BTC, day(0), day(1))


def test_reversed_range_is_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        FallbackSource([FakeSource("a")]).fetch(BTC, day(2), day(1))


# --- cache -------------------------------------------------------------------------------
def test_cache_hit_does_not_fetch_again(tmp_path: Path) -> None:
    inner = FakeSource("a")
    source = CachedSource(inner, FileSeriesCache(tmp_path))
    first = source.fetch(BTC, day(0), day(9))
    assert len(first.bars) == 10
    again = source.fetch(BTC, day(2), day(5))  # ends before the last cached day
    assert [b.close for b in again.bars] == [Decimal(102), Decimal(103), Decimal(104),
                                             Decimal(105)]
    assert inner.calls == [(day(0), day(9))]


def test_tail_is_refetched_from_the_last_cached_day_and_merged(tmp_path: Path) -> None:
    inner = FakeSource("a", last_day=day(5))  # day 5 is "today": its close is provisional
    cache = FileSeriesCache(tmp_path)
    source = CachedSource(inner, cache)
    source.fetch(BTC, day(0), day(5))
    inner.last_day, inner.bump = day(8), 1000  # later: day 5 settled, days 6-8 exist
    series = source.fetch(BTC, day(3), day(8))
    assert inner.calls == [(day(0), day(5)), (day(5), day(8))]
    assert [(b.day, b.close) for b in series.bars] == [
        (day(3), Decimal(103)), (day(4), Decimal(104)),  # from the cache
        (day(5), Decimal(1105)), (day(6), Decimal(1106)),  # refetched / new
        (day(7), Decimal(1107)), (day(8), Decimal(1108))]
    stored = cache.load(BTC)
    assert stored is not None
    assert (stored.first_date, stored.last_date, len(stored.bars)) == (day(0), day(8), 9)


def test_missing_head_refetches_the_whole_span_without_holes(tmp_path: Path) -> None:
    inner = FakeSource("a")
    source = CachedSource(inner, FileSeriesCache(tmp_path))
    source.fetch(BTC, day(10), day(12))
    series = source.fetch(BTC, day(0), day(3))
    assert inner.calls[-1] == (day(0), day(12))
    assert len(series.bars) == 4
    source.fetch(BTC, day(4), day(9))  # the days between are cached now: no fetch
    assert len(inner.calls) == 2


def test_offline_refresh_serves_cached_bars_with_a_stale_warning(tmp_path: Path) -> None:
    inner = FakeSource("a")
    source = CachedSource(inner, FileSeriesCache(tmp_path))
    source.fetch(BTC, day(0), day(5))
    inner.fail = _offline
    series = source.fetch(BTC, day(2), day(7))
    assert [b.day for b in series.bars] == [day(2), day(3), day(4), day(5)]
    (warning,) = series.warnings
    assert (warning.rule, warning.measured) == (CACHE_STALE, str(day(5)))
    with pytest.raises(ProviderUnavailable):  # nothing cached for the start: no data to serve
        source.fetch(BTC, day(-3), day(2))
    strict = CachedSource(inner, FileSeriesCache(tmp_path), stale_ok=False)
    with pytest.raises(ProviderUnavailable):
        strict.fetch(BTC, day(2), day(7))


def test_fetch_warnings_are_returned_but_not_cached(tmp_path: Path) -> None:
    chain = FallbackSource([FakeSource("down", fail=_offline), FakeSource("good")])
    cache = FileSeriesCache(tmp_path)
    series = CachedSource(chain, cache).fetch(BTC, day(0), day(2))
    assert [w.rule for w in series.warnings] == [PROVIDER_FAILED]
    stored = cache.load(BTC)
    assert stored is not None
    assert stored.warnings == ()
    assert stored.source == "good"


# --- file cache --------------------------------------------------------------------------
def _series(closes: list[str], source: str = "yahoo") -> Series:
    bars = tuple(Bar(day(i), Decimal(c), open=Decimal(c), volume=None if i else Decimal(7))
                 for i, c in enumerate(closes))
    return Series(SeriesId(SeriesKind.FX, "USD/KZT"), bars, source=source, calendar="weekdays",
                  currency="KZT")


def test_file_cache_round_trips_exact_values(tmp_path: Path) -> None:
    cache = FileSeriesCache.for_workspace(tmp_path)
    series = _series(["470.12", "0.000000012345678901", "471"])
    cache.save(series)
    path = cache.path_for(series.id)
    assert path == tmp_path / "cache" / "market" / "fx_USD%2FKZT.csv"
    assert cache.load(series.id) == series
    assert cache.load(SeriesId(SeriesKind.PRICE, "BTC")) is None


def test_unreadable_cache_file_is_a_miss(tmp_path: Path) -> None:
    cache = FileSeriesCache(tmp_path)
    series = _series(["1"])
    cache.save(series)
    cache.path_for(series.id).write_text("garbage\n", encoding="utf-8")
    assert cache.load(series.id) is None


def test_failed_write_leaves_the_old_file_and_no_temp_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = FileSeriesCache(tmp_path)
    old = _series(["1", "2"])
    cache.save(old)
    before = cache.path_for(old.id).read_bytes()

    rows_written = 0
    real_row = cache_module._row

    def failing_row(bar: Bar) -> list[str]:
        nonlocal rows_written
        rows_written += 1
        if rows_written == 3:
            raise OSError(28, "No space left on device")
        return real_row(bar)

    monkeypatch.setattr(cache_module, "_row", failing_row)
    with pytest.raises(OSError, match="No space left"):
        cache.save(_series(["5", "6", "7", "8"]))
    assert cache.path_for(old.id).read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [cache.path_for(old.id).name]

    monkeypatch.setattr(cache_module, "_row", real_row)

    def failing_replace(src: str, dst: str) -> None:
        raise OSError("rename failed")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="rename failed"):
        cache.save(_series(["9"]))
    assert cache.load(old.id) == old
    assert len(list(tmp_path.iterdir())) == 1


def test_nested_chain_that_is_offline_still_counts_as_unreachable() -> None:
    inner = FallbackSource([FakeSource("a", fail=_offline)], name="inner")
    with pytest.raises(ProvidersUnavailable):
        FallbackSource([inner, FakeSource("b", fail=_offline)]).fetch(BTC, day(0), day(1))
