"""A file per cached series under the workspace's ``cache/market/`` (``SeriesCache``).

CSV rather than Parquet: the values stay the exact decimal text they were parsed into
(Parquet would want a float or a fixed decimal scale per column) and a person can read the
file. The first line is ``#qoima-series `` plus JSON metadata (id, source, calendar,
currency). Writes go to a temporary file in the same directory and are moved over the old
file with ``os.replace``, so a crash leaves the old copy or the new one, never half of one.
The cache is derived data: an unreadable file is treated as not cached and is overwritten
by the next save.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO
from urllib.parse import quote

from qoima.domain.canonical import plain_decimal
from qoima.market.series import Bar, Series, SeriesId

CACHE_SUBDIRECTORY = Path("cache") / "market"
HEADER_PREFIX = "#qoima-series "
FORMAT_VERSION = 1
COLUMNS = ("date", "close", "open", "high", "low", "volume")


@dataclass(frozen=True, slots=True)
class FileSeriesCache:
    """Cached series as CSV files in ``directory`` (created on the first save)."""

    directory: Path

    @classmethod
    def for_workspace(cls, workspace: Path) -> FileSeriesCache:
        return cls(workspace / CACHE_SUBDIRECTORY)

    def path_for(self, series_id: SeriesId) -> Path:
        """``price_BTC.csv``, ``fx_USD%2FKZT.csv``: one name per id, safe on every file system."""
        return self.directory / f"{series_id.kind.value}_{quote(series_id.code, safe='')}.csv"

    def load(self, series_id: SeriesId) -> Series | None:
        path = self.path_for(series_id)
        try:
            with path.open(encoding="utf-8", newline="") as handle:
                return _read(handle, series_id)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, InvalidOperation, TypeError):
            return None  # unreadable cache: refetch, and the next save replaces the file

    def save(self, series: Series) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path_for(series.id)
        descriptor, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                                 dir=self.directory)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
                _write(handle, series)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp_name, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_name)
            raise


def _write(handle: IO[str], series: Series) -> None:
    meta = {"version": FORMAT_VERSION, "id": str(series.id), "source": series.source,
            "calendar": series.calendar, "currency": series.currency}
    handle.write(HEADER_PREFIX + json.dumps(meta, sort_keys=True) + "\n")
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(COLUMNS)
    for bar in series.bars:
        writer.writerow(_row(bar))


def _row(bar: Bar) -> list[str]:
    values = (bar.close, bar.open, bar.high, bar.low, bar.volume)
    return [bar.day.isoformat(), *("" if v is None else plain_decimal(v) for v in values)]


def _read(handle: IO[str], series_id: SeriesId) -> Series | None:
    first = handle.readline()
    if not first.startswith(HEADER_PREFIX):
        return None
    meta = json.loads(first[len(HEADER_PREFIX):])
    if meta.get("version") != FORMAT_VERSION or meta.get("id") != str(series_id):
        return None
    reader = csv.reader(handle)
    if tuple(next(reader, ())) != COLUMNS:
        return None
    bars = []
    for row in reader:
        day, close, *rest = row
        optional = [Decimal(text) if text else None for text in rest]
        bars.append(Bar(date.fromisoformat(day), Decimal(close), *optional))
    currency = meta.get("currency")
    return Series(id=series_id, bars=tuple(bars),
                  source=str(meta["source"]), calendar=str(meta["calendar"]),
                  currency=None if currency is None else str(currency))
