"""Which online providers serve ``qoima data fetch``, in what order, cached where."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from qoima.adapters.providers.cache import FileSeriesCache
from qoima.adapters.providers.coingecko import CoinGeckoSource
from qoima.adapters.providers.fred import FredSource
from qoima.adapters.providers.yahoo import YahooSource
from qoima.bootstrap.settings import Settings
from qoima.domain.errors import InvalidInput
from qoima.market.sources import CachedSource, FallbackSource, PriceSource

#: Tried in this order for every series they support: Yahoo has the widest coverage
#: (equities, ETFs, futures, FX, crypto); CoinGecko covers crypto when Yahoo fails; FRED
#: serves rates.
PROVIDERS: dict[str, Callable[[Settings], PriceSource]] = {
    "yahoo": lambda _: YahooSource(),
    "coingecko": lambda settings: CoinGeckoSource(api_key=settings.coingecko_api_key),
    "fred": lambda _: FredSource(),
}


def market_source(cache_directory: Path | None, names: Sequence[str] = tuple(PROVIDERS),
                  settings: Settings | None = None) -> PriceSource:
    """The providers ``names`` with ordered fallback, behind a file cache when given one."""
    settings = settings or Settings()
    unknown = [n for n in names if n not in PROVIDERS]
    if unknown or not names:
        raise InvalidInput(f"unknown provider(s) {', '.join(unknown) or '(none given)'}; "
                           f"known: {', '.join(PROVIDERS)}", field="provider")
    source: PriceSource = FallbackSource([PROVIDERS[n](settings) for n in names])
    if cache_directory is not None:
        source = CachedSource(source, FileSeriesCache(cache_directory))
    return source
