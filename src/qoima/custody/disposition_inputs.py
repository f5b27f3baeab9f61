"""The inputs of the disposition comparison: the models, the price history, the model
parameters and the forfeited batch, each validated on construction (see
:mod:`qoima.custody.disposition` for the conventions)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from qoima.domain.errors import InsufficientHistory, InvalidInput

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_E = TypeVar("_E", bound=StrEnum)
METHOD = "custody.disposition"


class DispositionModel(StrEnum):
    AUCTION_ON_FORFEITURE = "auction_on_forfeiture"
    STAGED_LIQUIDATION = "staged_liquidation"
    HOLD_IN_RESERVE = "hold_in_reserve"
    EXTERNAL_MANAGER = "external_manager"
    CHINA_QUIET_DISPOSAL = "china_quiet_disposal"


DEFAULT_MODELS = (DispositionModel.AUCTION_ON_FORFEITURE, DispositionModel.STAGED_LIQUIDATION,
                  DispositionModel.HOLD_IN_RESERVE, DispositionModel.EXTERNAL_MANAGER)


class VolumeUnit(StrEnum):
    """What a history's volumes count: token units, or USD traded (as Yahoo's crypto files)."""

    QUANTITY = "quantity"
    USD = "usd"


def _member(enum: type[_E], value: object, field: str) -> _E:
    """``value`` as a member of ``enum``, or InvalidInput listing the allowed values."""
    if isinstance(value, str) and value in enum._value2member_map_:
        return enum(value)
    allowed = ", ".join(member.value for member in enum)
    raise InvalidInput(f"{field} {value!r} is not one of: {allowed}", field=field)


def _frozen(values: npt.ArrayLike, what: str, n: int) -> FloatArray:
    array = np.array(values, dtype=np.float64)
    if array.shape != (n,):
        raise InvalidInput(f"{what} must hold one value per date ({n}), got shape "
                           f"{array.shape}", field=what)
    if not np.isfinite(array).all():
        bad = int(np.argmin(np.isfinite(array)))
        raise InvalidInput(f"{what} must be finite (row {bad} is {float(array[bad])!r})",
                           field=what)
    array.setflags(write=False)
    return array


@dataclass(frozen=True, slots=True, eq=False)
class PriceHistory:
    """Daily closes in USD of one instrument, with optional volumes and annual cash rates.

    ``cash_rates`` are annual fractions (0.05 = 5 %) per row, applied from that row to the
    next. Arrays are copied to read-only float64.
    """

    dates: tuple[date, ...]
    closes: FloatArray
    volumes: FloatArray | None = None
    volume_unit: VolumeUnit = VolumeUnit.QUANTITY
    cash_rates: FloatArray | None = None

    def __post_init__(self) -> None:
        dates = tuple(self.dates)
        n = len(dates)
        if n < 2:
            raise InsufficientHistory(f"a price history needs at least 2 dates, got {n}",
                                      field="dates")
        ordinals = np.fromiter((d.toordinal() for d in dates), dtype=np.int64, count=n)
        steps = np.diff(ordinals)
        if (steps <= 0).any():
            bad = int(np.argmax(steps <= 0)) + 1
            raise InvalidInput(f"dates must be strictly increasing: {dates[bad]} follows "
                               f"{dates[bad - 1]}", field="dates")
        closes = _frozen(self.closes, "closes", n)
        if (closes <= 0).any():
            bad = int(np.argmax(closes <= 0))
            raise InvalidInput(f"closes must be positive: {float(closes[bad])!r} on {dates[bad]}",
                               field="closes")
        object.__setattr__(self, "dates", dates)
        object.__setattr__(self, "closes", closes)
        object.__setattr__(self, "volume_unit",
                           _member(VolumeUnit, self.volume_unit, "volume_unit"))
        if self.volumes is not None:
            volumes = _frozen(self.volumes, "volumes", n)
            if (volumes < 0).any():
                raise InvalidInput("volumes cannot be negative", field="volumes")
            object.__setattr__(self, "volumes", volumes)
        if self.cash_rates is not None:
            rates = _frozen(self.cash_rates, "cash_rates", n)
            if (rates <= -1).any():
                raise InvalidInput("cash rates must be above -100 %", field="cash_rates")
            object.__setattr__(self, "cash_rates", rates)

    def volume_quantity(self) -> FloatArray | None:
        """Volumes in token units (USD volumes divided by the close)."""
        if self.volumes is None:
            return None
        if self.volume_unit is VolumeUnit.USD:
            return np.asarray(self.volumes / self.closes, dtype=np.float64)
        return self.volumes

    def index_on_or_after(self, day: date) -> int:
        """Row of the first price on or after ``day``."""
        if day < self.dates[0]:
            raise InvalidInput(f"forfeiture date {day} is before the first price "
                               f"({self.dates[0]})", field="forfeited_on")
        if day > self.dates[-1]:
            raise InsufficientHistory(f"no price on or after {day}: the history ends on "
                                      f"{self.dates[-1]}", field="forfeited_on")
        ordinals = [d.toordinal() for d in self.dates]
        return int(np.searchsorted(np.asarray(ordinals), day.toordinal(), side="left"))


@dataclass(frozen=True, slots=True)
class DispositionParams:
    """Model parameters; shares, rates and fees are annual fractions (0.02 = 2 %)."""

    slices: int = 4
    spacing_days: int = 7
    adv_share: float = 0.1
    adv_window_days: int = 30
    cash_rate: float = 0.0
    management_fee: float = 0.0
    performance_fee: float = 0.0
    hurdle: float = 0.0
    disposal_discount: float = 0.0
    periods_per_year: int = 365
    models: tuple[DispositionModel, ...] = DEFAULT_MODELS

    def __post_init__(self) -> None:
        for name in ("slices", "spacing_days", "adv_window_days", "periods_per_year"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInput(f"{name} must be a whole number >= 1, got {value!r}",
                                   field=name)
        _range("adv_share", self.adv_share, 0.0, 1.0, low_open=True)
        _range("cash_rate", self.cash_rate, -1.0, np.inf, low_open=True)
        for name in ("management_fee", "performance_fee", "disposal_discount"):
            _range(name, getattr(self, name), 0.0, 1.0, high_open=True)
        _range("hurdle", self.hurdle, 0.0, np.inf)
        models = tuple(_member(DispositionModel, m, "models") for m in self.models)
        if not models or len(set(models)) != len(models):
            raise InvalidInput("models must be a non-empty list without repeats",
                               field="models")
        object.__setattr__(self, "models", models)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["models"] = [str(m) for m in self.models]
        return data


def _range(name: str, value: float, low: float, high: float, *, low_open: bool = False,
           high_open: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
        raise InvalidInput(f"{name} must be a finite number, got {value!r}", field=name)
    if value < low or (low_open and value == low) or value > high or (high_open and value == high):
        what = "negative" if value < 0 and low == 0 else "out of range"
        lo, hi = ("(" if low_open else "[") + f"{low:g}", f"{high:g}" + (")" if high_open else "]")
        raise InvalidInput(f"{name} is {what}: {value!r} (allowed {lo}, {hi})", field=name)


@dataclass(frozen=True, slots=True)
class DispositionBatch:
    """A forfeited batch: ``quantity`` token units of ``instrument_code``."""

    instrument_code: str
    quantity: Decimal
    forfeited_on: date

    def __post_init__(self) -> None:
        _check_quantity(self.quantity)


def _check_quantity(quantity: Decimal) -> None:
    if not isinstance(quantity, Decimal) or not quantity.is_finite():
        raise InvalidInput(f"quantity must be a finite Decimal, got {quantity!r}",
                           field="quantity")
    if quantity <= 0:
        raise InvalidInput(f"quantity must be positive, got {quantity}", field="quantity")
