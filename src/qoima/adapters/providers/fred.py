"""FRED interest rates (Treasury yields, fed funds, the target range) as daily series.

Reads the public graph CSV (``fredgraph.csv``), which needs no API key. Values are percent
(DGS10 4.06 = 4.06 %) parsed from the CSV text into ``Decimal``. FRED writes ``.`` (older
files) or nothing for a day without an observation, such as a holiday; those rows are
skipped, not filled: filling is the calendar's and the quality check's business.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

import httpx

from qoima.adapters.providers import http_get
from qoima.adapters.series_naming import DAILY_RATE_PREFIXES
from qoima.market.calendars import CalendarName
from qoima.market.series import Bar, Series, SeriesId, SeriesKind
from qoima.market.sources import MalformedPayload, UnsupportedSeries

GRAPH_CSV_URL = "https://fred.stlouisfed.org/graph/fredgraph.csv"
DATE_COLUMNS = ("observation_date", "DATE")  # current header, then the older one
MISSING = frozenset({"", "."})
_FRED_ID = re.compile(r"[A-Z0-9_]{2,40}")


@dataclass(frozen=True, slots=True)
class FredSource:
    """Any FRED rate series by its FRED id (``rate:DGS10``, ``rate:EFFR``, ``rate:DFEDTARU``).

    Only ``SeriesKind.RATE`` is served: FRED's FX series (``DEXKZUS`` and the like) are
    noon-buying rates on another calendar, not the official rates the book values at.
    """

    client: httpx.Client | None = None
    url: str = GRAPH_CSV_URL
    name: str = "fred"

    def supports(self, series_id: SeriesId) -> bool:
        return series_id.kind is SeriesKind.RATE and _FRED_ID.fullmatch(series_id.code) is not None

    def fetch(self, series_id: SeriesId, since: date, until: date) -> Series:
        if not self.supports(series_id):
            raise UnsupportedSeries(f"{self.name} serves rate series by FRED id, not {series_id}",
                                    field="series", provider=self.name)
        params = {"id": series_id.code, "cosd": since.isoformat(), "coed": until.isoformat()}
        response = http_get(self.client, self.name, self.url, params=params)
        bars = parse_graph_csv(response.text, series_id.code, provider=self.name)
        # The target range is set for every calendar day; market rates follow US federal
        # business days (the same rule as files named after the series).
        calendar = (CalendarName.DAILY if series_id.code.startswith(DAILY_RATE_PREFIXES)
                    else CalendarName.US_FEDERAL)
        return Series(id=series_id, bars=tuple(b for b in bars if since <= b.day <= until),
                      source=self.name, calendar=calendar, currency=None)


def parse_graph_csv(text: str, fred_id: str, *, provider: str = "fred") -> tuple[Bar, ...]:
    """Bars from ``observation_date,<ID>`` (or ``DATE,<ID>``) CSV text, missing days skipped."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if header is None or len(header) < 2 or header[0] not in DATE_COLUMNS:
        got = ",".join(header) if header else "nothing"
        raise MalformedPayload(f"{provider} CSV for {fred_id}: expected header "
                               f"'observation_date,{fred_id}', got {got[:80]!r}",
                               field="header", provider=provider)
    if header[1] != fred_id:
        raise MalformedPayload(f"{provider} CSV for {fred_id}: value column is {header[1]!r}",
                               field="header", provider=provider)
    bars: list[Bar] = []
    for line, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) < 2:
            raise MalformedPayload(f"{provider} CSV for {fred_id}, line {line}: expected "
                                   f"date and value, got {row!r}", field=header[1],
                                   provider=provider)
        text_date, text_value = row[0].strip(), row[1].strip()
        if text_value in MISSING:
            continue
        try:
            day = date.fromisoformat(text_date)
        except ValueError:
            raise MalformedPayload(f"{provider} CSV for {fred_id}, line {line}: bad date "
                                   f"{text_date!r}", field=header[0], provider=provider) from None
        try:
            value = Decimal(text_value)
        except InvalidOperation:
            raise MalformedPayload(f"{provider} CSV for {fred_id}, line {line}: bad value "
                                   f"{text_value!r}", field=header[1], provider=provider) from None
        if not value.is_finite():
            raise MalformedPayload(f"{provider} CSV for {fred_id}, line {line}: value "
                                   f"{text_value!r} is not a number", field=header[1],
                                   provider=provider)
        bars.append(Bar(day=day, close=value))
    bars.sort(key=lambda bar: bar.day)
    return tuple(bars)
