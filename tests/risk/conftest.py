"""Real market history for risk tests, read through qoima's own importer.

Tests that use it are marked ``realdata`` and skip when ``../shared/data/market`` is absent
(CI has it). Nothing from that folder is copied into the repository.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest

from qoima.adapters.market_files import read_series
from qoima.adapters.series_naming import guess_series
from qoima.market.quality import QualityLimits
from qoima.market.series import Series

MARKET = Path(__file__).resolve().parents[3] / "shared" / "data" / "market"
#: Files whose source prints closes outside the day's range or at/below zero (PROVENANCE.md).
_LENIENT = {"GOLD", "VIX", "WTI_FUT", "WTI"}

needs_market = pytest.mark.skipif(not MARKET.is_dir(), reason="../shared/data/market is absent")


@cache
def load_real(stem: str) -> Series:
    """``load_real("BTC-USD")``: the file ``<stem>.csv`` as a qoima Series."""
    path = MARKET / f"{stem}.csv"
    guess = guess_series(path)
    limits = (QualityLimits(allow_non_positive=True, strict_ohlc=False)
              if stem.upper() in _LENIENT else QualityLimits())
    return read_series(path, series_id=guess.series_id, calendar=guess.calendar,
                       source=f"file:{path.name}", currency=guess.currency, limits=limits)


@pytest.fixture
def real_series() -> Callable[[str], Series]:
    if not MARKET.is_dir():
        pytest.skip("../shared/data/market is absent")
    return load_real
