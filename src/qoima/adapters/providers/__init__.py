"""Network price providers (Yahoo, CoinGecko, FRED) behind ``qoima.market.sources.PriceSource``.

This package module holds the one HTTP path they share, so every provider fails the same
way: a network failure becomes :class:`ProviderUnavailable` within the short connect
timeout (an offline machine must not hang a valuation), an HTTP error status becomes
:class:`ProviderError` carrying the status. Every provider takes an injectable
``httpx.Client`` so tests replay recorded payloads through ``httpx.MockTransport``.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from qoima.market.sources import ProviderError, ProviderUnavailable

# Connecting is where an offline machine or dead DNS shows; 5 s is long enough for a slow
# link and short enough that a fallback chain of three providers answers within seconds.
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 30.0  # a multi-year history can take a while to stream
DEFAULT_TIMEOUT = httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)
USER_AGENT = "qoima (sovereign reserve market data)"
_BODY_EXCERPT_CHARS = 200


def http_get(client: httpx.Client | None, provider: str, url: str, *,
             params: Mapping[str, str] | None = None,
             headers: Mapping[str, str] | None = None) -> httpx.Response:
    """GET ``url`` and return a 2xx response, or raise the provider error that explains it.

    ``client`` None opens (and closes) a client with :data:`DEFAULT_TIMEOUT`; an injected
    client keeps its own settings, so tests and callers with a proxy decide for themselves.
    """
    if client is None:
        with httpx.Client(timeout=DEFAULT_TIMEOUT, headers={"User-Agent": USER_AGENT},
                          follow_redirects=True) as own:
            return _get(own, provider, url, params, headers)
    return _get(client, provider, url, params, headers)


def _get(client: httpx.Client, provider: str, url: str, params: Mapping[str, str] | None,
         headers: Mapping[str, str] | None) -> httpx.Response:
    try:
        response = client.get(url, params=params, headers=headers)
    except httpx.TransportError as error:  # connect/DNS/timeout/read failures alike
        kind = type(error).__name__
        raise ProviderUnavailable(f"{provider} is unreachable (offline?): {kind}: {error}",
                                  provider=provider, url=url) from error
    if response.is_success:
        return response
    status = response.status_code
    excerpt = response.text[:_BODY_EXCERPT_CHARS].strip()
    if status == httpx.codes.TOO_MANY_REQUESTS:
        retry_after = response.headers.get("Retry-After")
        wait = f"; retry after {retry_after} s" if retry_after else ""
        raise ProviderError(f"{provider} refused the request: HTTP 429 rate limited{wait}",
                            provider=provider, status=status, retry_after=retry_after)
    raise ProviderError(f"{provider} answered HTTP {status}: {excerpt or response.reason_phrase}",
                        provider=provider, status=status)
