from __future__ import annotations

from datetime import date
from decimal import Decimal

import httpx
import pytest

from qoima.adapters.providers.fred import FredSource, parse_graph_csv
from qoima.market.calendars import CalendarName
from qoima.market.series import Bar, SeriesId, SeriesKind
from qoima.market.sources import MalformedPayload, ProviderError, ProviderUnavailable
from tests.adapters.providers.conftest import payload

DGS10 = SeriesId(SeriesKind.RATE, "DGS10")


def _source(body: bytes, status: int = 200, seen: list[httpx.Request] | None = None) -> FredSource:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(status, content=body, headers={"content-type": "text/csv"})

    return FredSource(client=httpx.Client(transport=httpx.MockTransport(handler)))


def test_graph_csv_parses_to_exact_bars_and_skips_the_empty_holiday() -> None:
    seen: list[httpx.Request] = []
    series = _source(payload("fred_dgs10.csv"), seen=seen).fetch(
        DGS10, date(2024, 1, 1), date(2024, 1, 4))
    assert series.bars == (Bar(date(2024, 1, 2), Decimal("3.95")),
                           Bar(date(2024, 1, 3), Decimal("3.91")),
                           Bar(date(2024, 1, 4), Decimal("3.99")))  # 01-05 is past until
    assert (series.source, series.calendar, series.currency) == ("fred",
                                                                  CalendarName.US_FEDERAL, None)
    (request,) = seen
    assert request.url.host == "fred.stlouisfed.org"
    assert dict(request.url.params) == {"id": "DGS10", "cosd": "2024-01-01",
                                        "coed": "2024-01-04"}


def test_older_date_header_and_dot_for_missing() -> None:
    bars = parse_graph_csv(payload("fred_dgs10_old.csv").decode(), "DGS10")
    assert bars == (Bar(date(2023, 12, 29), Decimal("3.88")),
                    Bar(date(2024, 1, 2), Decimal("3.95")))


def test_target_range_follows_the_daily_calendar() -> None:
    body = b"observation_date,DFEDTARU\n2024-01-06,5.50\n2024-01-07,5.50\n"
    source = _source(body)
    series = source.fetch(SeriesId(SeriesKind.RATE, "DFEDTARU"), date(2024, 1, 6),
                          date(2024, 1, 7))
    assert series.calendar == CalendarName.DAILY
    assert [b.close for b in series.bars] == [Decimal("5.50")] * 2


def test_supports_rate_ids_only() -> None:
    source = FredSource()
    for code in ("DGS2", "DGS10", "EFFR", "DFEDTARU", "DFEDTARL"):
        assert source.supports(SeriesId(SeriesKind.RATE, code))
    assert not source.supports(SeriesId(SeriesKind.FX, "USD/KZT"))
    assert not source.supports(SeriesId(SeriesKind.PRICE, "BTC"))
    assert not source.supports(SeriesId(SeriesKind.RATE, "../x"))


@pytest.mark.parametrize(("body", "field"), [
    ("<!DOCTYPE html><html>Error</html>", "header"),
    ("observation_date,DGS2\n2024-01-02,4.3\n", "header"),
    ("observation_date,DGS10\n2024/01/02,3.95\n", "observation_date"),
    ("observation_date,DGS10\n2024-01-02,n/a\n", "DGS10"),
    ("observation_date,DGS10\n2024-01-02\n", "DGS10"),
    ("", "header"),
])
def test_malformed_csv_names_provider_and_field(body: str, field: str) -> None:
    with pytest.raises(MalformedPayload) as caught:
        parse_graph_csv(body, "DGS10")
    assert caught.value.field == field
    assert caught.value.message.startswith("fred CSV for DGS10")


def test_offline_and_http_errors() -> None:
    def offline(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Name or service not known", request=request)

    source = FredSource(client=httpx.Client(transport=httpx.MockTransport(offline)))
    with pytest.raises(ProviderUnavailable, match="fred is unreachable"):
        source.fetch(DGS10, date(2024, 1, 1), date(2024, 1, 4))
    with pytest.raises(ProviderError) as caught:
        _source(b"Service Unavailable", status=503).fetch(DGS10, date(2024, 1, 1),
                                                          date(2024, 1, 4))
    assert caught.value.details["status"] == 503
