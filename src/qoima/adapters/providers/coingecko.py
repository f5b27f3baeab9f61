"""CoinGecko daily closes for crypto assets (``/coins/{id}/market_chart/range``).

The endpoint returns timestamped points (``[ms, value]``), five-minutely, hourly or daily
depending on the span, not daily bars: this module buckets them into UTC days. Prices are
parsed straight from the JSON text into ``Decimal``, never through float.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from qoima.adapters.providers import http_get
from qoima.market.calendars import CalendarName
from qoima.market.series import Bar, Series, SeriesId, SeriesKind
from qoima.market.sources import MalformedPayload, UnsupportedSeries

BASE_URL = "https://api.coingecko.com/api/v3"
API_KEY_HEADER = "x-cg-demo-api-key"
COIN_IDS: Mapping[str, str] = {
    "BTC": "bitcoin",
    "ETH": "ethereum",
    "BNB": "binancecoin",
    "USDT": "tether",
}
_MS_PER_DAY = 86_400_000
_EPOCH_DAY = date(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class CoinGeckoSource:
    """USD closes of the coins in ``coin_ids`` (qoima code → CoinGecko id); no OHLC.

    ``api_key`` (a demo key) is sent as ``x-cg-demo-api-key``; without it the public,
    more tightly rate-limited API is used.
    """

    client: httpx.Client | None = None
    api_key: str | None = field(default=None, repr=False)
    coin_ids: Mapping[str, str] = field(default_factory=lambda: dict(COIN_IDS))
    base_url: str = BASE_URL
    name: str = "coingecko"

    def supports(self, series_id: SeriesId) -> bool:
        return series_id.kind is SeriesKind.PRICE and series_id.code in self.coin_ids

    def fetch(self, series_id: SeriesId, since: date, until: date) -> Series:
        if not self.supports(series_id):
            raise UnsupportedSeries(f"{self.name} has no coin id for {series_id}",
                                    field="series", provider=self.name)
        coin = self.coin_ids[series_id.code]
        # A point stamped exactly 00:00 UTC closes the previous day (see ``utc_day_closes``),
        # so ask from ``since``'s midnight + 1 s up to the midnight that closes ``until``.
        start_s = _day_start_ms(since) // 1000 + 1
        end_s = _day_start_ms(until + timedelta(days=1)) // 1000
        params = {"vs_currency": "usd", "from": str(start_s), "to": str(end_s)}
        headers = {API_KEY_HEADER: self.api_key} if self.api_key else None
        url = f"{self.base_url}/coins/{coin}/market_chart/range"
        response = http_get(self.client, self.name, url, params=params, headers=headers)
        bars = parse_market_chart(response.content, provider=self.name)
        return Series(id=series_id,
                      bars=tuple(b for b in bars if since <= b.day <= until),
                      source=self.name, calendar=CalendarName.CRYPTO, currency="USD")


def parse_market_chart(content: bytes | str, *, provider: str = "coingecko") -> tuple[Bar, ...]:
    """Daily bars (close and 24 h volume) from a ``market_chart/range`` JSON answer."""
    try:
        payload = json.loads(content, parse_float=Decimal)
    except ValueError as error:
        raise MalformedPayload(f"{provider} answered with invalid JSON: {error}",
                               field="body", provider=provider) from None
    if not isinstance(payload, dict):
        raise MalformedPayload(f"{provider} answer is not a JSON object", field="body",
                               provider=provider)
    closes = utc_day_closes(_points(payload, "prices", provider, required=True), provider)
    volumes = utc_day_closes(_points(payload, "total_volumes", provider, required=False),
                             provider)
    return tuple(Bar(day=day, close=close, volume=volumes.get(day))
                 for day, close in sorted(closes.items()))


def utc_day_closes(points: list[tuple[int, Decimal]], provider: str) -> dict[date, Decimal]:
    """The last point of each UTC day, where a point at exactly 00:00:00.000 UTC belongs to
    the day before.

    CoinGecko's daily-granularity points are stamped at 00:00 UTC and hold the price at that
    instant, which is the close of the day that just ended; Yahoo's crypto bars are UTC
    days too. Counting midnight as the end of the previous day keeps both providers on the
    same day, whatever granularity CoinGecko picked for the span.
    """
    closes: dict[date, tuple[int, Decimal]] = {}
    for ms, value in points:
        day = _EPOCH_DAY + timedelta(days=(ms - 1) // _MS_PER_DAY)
        latest = closes.get(day)
        if latest is None or ms >= latest[0]:
            closes[day] = (ms, value)
    return {day: value for day, (_, value) in closes.items()}


def _points(payload: dict[str, Any], key: str, provider: str,
            *, required: bool) -> list[tuple[int, Decimal]]:
    raw = payload.get(key)
    if raw is None and not required:
        return []
    if not isinstance(raw, list):
        found = "missing" if raw is None else type(raw).__name__
        raise MalformedPayload(f"{provider} answer: '{key}' must be a list of [ms, value] "
                               f"pairs, got {found}", field=key, provider=provider)
    points: list[tuple[int, Decimal]] = []
    for index, item in enumerate(raw):
        if item is None or (isinstance(item, list) and len(item) == 2 and item[1] is None):
            continue  # CoinGecko leaves gaps as null values
        ok = (isinstance(item, list) and len(item) == 2
              and isinstance(item[0], int | Decimal) and not isinstance(item[0], bool)
              and isinstance(item[1], int | Decimal) and not isinstance(item[1], bool))
        if not ok:
            raise MalformedPayload(f"{provider} answer: '{key}[{index}]' must be [ms, value], "
                                   f"got {item!r}", field=key, provider=provider)
        points.append((int(item[0]), Decimal(item[1])))
    return points


def _day_start_ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1000
