from __future__ import annotations

import json
import time
from datetime import date
from decimal import Decimal

import httpx
import pytest

from qoima.adapters.providers.coingecko import CoinGeckoSource, parse_market_chart
from qoima.market.calendars import CalendarName
from qoima.market.series import Bar, SeriesId, SeriesKind
from qoima.market.sources import (
    MalformedPayload,
    ProviderError,
    ProviderUnavailable,
    UnsupportedSeries,
)
from tests.adapters.providers.conftest import payload

BTC = SeriesId(SeriesKind.PRICE, "BTC")
JAN_1 = 1_704_067_200_000  # 2024-01-01T00:00:00Z in ms
HOUR = 3_600_000


def _client(handler: httpx.MockTransport) -> httpx.Client:
    return httpx.Client(transport=handler)


def test_range_parses_to_utc_daily_closes_with_exact_values() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=payload("coingecko_bitcoin_range.json"))

    source = CoinGeckoSource(client=_client(httpx.MockTransport(handler)), api_key="demo-key")
    series = source.fetch(BTC, date(2024, 1, 1), date(2024, 1, 2))

    # Jan 1: the 00:00 Jan 2 point closes it (44179.13); Jan 2: its last point, 23:00:00.123.
    # The 00:00 Jan 1 point closes Dec 31 and falls outside the range.
    assert series.bars == (
        Bar(date(2024, 1, 1), Decimal("44179.13"), volume=Decimal("16600000000.5")),
        Bar(date(2024, 1, 2), Decimal("44950.723456789012"), volume=Decimal("21987654321.09")),
    )
    assert (series.source, series.calendar, series.currency) == ("coingecko",
                                                                  CalendarName.CRYPTO, "USD")
    (request,) = seen
    assert request.url.path == "/api/v3/coins/bitcoin/market_chart/range"
    assert dict(request.url.params) == {"vs_currency": "usd", "from": "1704067201",
                                        "to": "1704240000"}
    assert request.headers["x-cg-demo-api-key"] == "demo-key"


def test_two_points_in_one_utc_day_keep_the_later_even_when_listed_first() -> None:
    body = json.dumps({"prices": [[JAN_1 + 20 * HOUR, 2.5], [JAN_1 + 3 * HOUR, 1.25],
                                  [JAN_1 + 30 * HOUR, 7]]})
    bars = parse_market_chart(body)
    assert bars == (Bar(date(2024, 1, 1), Decimal("2.5")), Bar(date(2024, 1, 2), Decimal(7)))


def test_daily_granularity_midnight_points_close_the_previous_day() -> None:
    day = 24 * HOUR
    body = json.dumps({"prices": [[JAN_1, 1.5], [JAN_1 + day, 2.5], [JAN_1 + 2 * day, 3.5]]})
    assert [(b.day, b.close) for b in parse_market_chart(body)] == [
        (date(2023, 12, 31), Decimal("1.5")),
        (date(2024, 1, 1), Decimal("2.5")),
        (date(2024, 1, 2), Decimal("3.5")),
    ]


def test_no_api_key_sends_no_key_header() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert "x-cg-demo-api-key" not in request.headers
        return httpx.Response(200, json={"prices": [], "total_volumes": []})

    series = CoinGeckoSource(client=_client(httpx.MockTransport(handler))).fetch(
        BTC, date(2024, 1, 1), date(2024, 1, 2))
    assert series.bars == ()


@pytest.mark.parametrize(("body", "field"), [
    ({"total_volumes": []}, "prices"),
    ({"prices": {"a": 1}}, "prices"),
    ({"prices": [[JAN_1, "42000"]]}, "prices"),
    ({"prices": [[JAN_1]]}, "prices"),
    ({"prices": [], "total_volumes": [["x", 1]]}, "total_volumes"),
])
def test_malformed_payload_names_provider_and_field(body: object, field: str) -> None:
    with pytest.raises(MalformedPayload) as caught:
        parse_market_chart(json.dumps(body))
    assert caught.value.field == field
    assert "coingecko" in str(caught.value)


def test_invalid_json_is_malformed_body() -> None:
    with pytest.raises(MalformedPayload) as caught:
        parse_market_chart(b"<html>Cloudflare</html>")
    assert caught.value.field == "body"


def test_offline_fails_fast_as_provider_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno -3] Temporary failure in name resolution",
                                 request=request)

    source = CoinGeckoSource(client=_client(httpx.MockTransport(handler)))
    started = time.perf_counter()
    with pytest.raises(ProviderUnavailable, match=r"coingecko is unreachable \(offline\?\)"):
        source.fetch(BTC, date(2024, 1, 1), date(2024, 1, 2))
    assert time.perf_counter() - started < 1.0


def test_timeout_is_provider_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    with pytest.raises(ProviderUnavailable):
        CoinGeckoSource(client=_client(httpx.MockTransport(handler))).fetch(
            BTC, date(2024, 1, 1), date(2024, 1, 2))


@pytest.mark.parametrize("status", [429, 500, 503])
def test_rate_limit_and_server_errors_carry_the_status(status: int) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers={"Retry-After": "60"},
                              json={"status": {"error_code": status}})

    with pytest.raises(ProviderError) as caught:
        CoinGeckoSource(client=_client(httpx.MockTransport(handler))).fetch(
            BTC, date(2024, 1, 1), date(2024, 1, 2))
    assert not isinstance(caught.value, ProviderUnavailable)
    assert caught.value.details["status"] == status
    assert str(status) in str(caught.value)


def test_supports_only_mapped_coins() -> None:
    source = CoinGeckoSource()
    assert source.supports(BTC)
    assert source.supports(SeriesId(SeriesKind.PRICE, "USDT"))
    assert not source.supports(SeriesId(SeriesKind.PRICE, "SPX"))
    assert not source.supports(SeriesId(SeriesKind.FX, "USD/KZT"))
    with pytest.raises(UnsupportedSeries):
        source.fetch(SeriesId(SeriesKind.PRICE, "SPX"), date(2024, 1, 1), date(2024, 1, 2))
