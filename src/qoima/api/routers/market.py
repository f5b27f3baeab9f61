"""Market data: stored series and their bars, quality checks, closes and FX rates."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from qoima.api.deps import ReserveDep, UserDep, api_router
from qoima.api.governance_models import QuotesOut, SeriesCheckOut, SeriesInfoOut, SeriesPageOut
from qoima.api.models import Amount, Code, Day, Strict
from qoima.api.pagination import Paging, page
from qoima.api.responses import PageOut
from qoima.api.results import plain
from qoima.api.security import Caller
from qoima.market.quotes import FxQuote, PriceQuote
from qoima.market.series import SeriesId

router = api_router("market data")


class PriceIn(Strict):
    instrument: Code
    date: Day
    price: Amount
    currency: Code = "USD"


class FxIn(Strict):
    base: Code
    quote: Code
    date: Day
    rate: Amount


class QuotesIn(Strict):
    source: Annotated[str, Field(min_length=1, max_length=200)]
    prices: Annotated[list[PriceIn], Field(max_length=100_000)] = Field(default_factory=list)
    fx: Annotated[list[FxIn], Field(max_length=100_000)] = Field(default_factory=list)


@router.get("/market/series", summary="Stored series (without bars)")
def list_series(reserve: ReserveDep, user: UserDep, paging: Paging) -> PageOut[SeriesInfoOut]:
    return PageOut[SeriesInfoOut].of(page(reserve.market_data.list_series(), paging))


@router.get("/market/series/{series_id:path}",
            summary="One series' bars, e.g. price:BTC or fx:USD/KZT")
def get_series(series_id: str, reserve: ReserveDep, user: UserDep, paging: Paging,
               since: Day | None = None, until: Day | None = None) -> SeriesPageOut:
    series = reserve.market_data.load_series(SeriesId.parse(series_id), since, until)
    return SeriesPageOut.of({**page(list(series.bars), paging), "series": str(series.id),
            "source": series.source, "calendar": series.calendar,
            "currency": series.currency, "synthetic": series.is_synthetic,
            "warnings": [plain(w) for w in series.warnings]})


@router.get("/market/checks", summary="Quality checks and lag of every stored series")
def checks(reserve: ReserveDep, user: UserDep,
           as_of: Day | None = None) -> list[SeriesCheckOut]:
    return [SeriesCheckOut.of({"series": str(c.info.id), "as_of": c.as_of_date,
                               "lag_sessions": c.lag_sessions, "worst": c.worst,
                               "findings": c.findings})
            for c in reserve.market_data.check(as_of)]


@router.post("/market/quotes", status_code=201, summary="Store closes and FX rates")
def add_quotes(body: QuotesIn, reserve: ReserveDep, principal: Caller) -> QuotesOut:
    source = f"api:{body.source}"
    prices = [PriceQuote(p.instrument, p.date, p.price, p.currency, source)
              for p in body.prices]
    rates = [FxQuote(f.base, f.quote, f.date, f.rate, source) for f in body.fx]
    changed_prices, changed_fx = reserve.book.add_quotes(prices, rates, actor=principal.user,
                                                         source_name=source)
    return QuotesOut(prices_read=len(prices), prices_changed=changed_prices,
                     fx_read=len(rates), fx_changed=changed_fx)
