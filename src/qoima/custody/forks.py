"""Forks and airdrops of seized coins, and how each case chooses to value them.

Coins held at the moment a chain splits (BTC -> BCH in 2017, ETH -> ETHW in 2022) give rise
to a second asset the state now controls too. The audit of the US Marshals found no policy
for these; here each case records the forked asset and picks a valuation policy, and the
value follows from the policy and a price, not from a person's judgement on the day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, Inexact
from enum import StrEnum
from types import MappingProxyType

from qoima.custody.cases import asset_scale
from qoima.domain.errors import InvalidInput
from qoima.domain.money import MONEY_CONTEXT, ZERO, check_scale, quantize
from qoima.domain.reference import check_code

USD_SCALE = 2


class ValuationPolicy(StrEnum):
    MARKET_PRICE = "market_price"  # the quoted price, whatever the volume
    ZERO_UNTIL_LIQUID = "zero_until_liquid"  # 0 until a price with enough volume exists
    COST_ZERO = "cost_zero"  # carried at its cost, which is zero
    FAIR_VALUE_ESTIMATE = "fair_value_estimate"  # a valuer's estimate, volume not required


@dataclass(frozen=True, slots=True)
class KnownFork:
    parent_instrument: str
    fork_date: date
    ratio: Decimal  # new coins per parent coin


#: Well-known chain splits, so a forked asset naming one is checked against its history.
KNOWN_FORKS = MappingProxyType({
    "ETC": KnownFork("ETH", date(2016, 7, 20), Decimal(1)),
    "BCH": KnownFork("BTC", date(2017, 8, 1), Decimal(1)),
    "BTG": KnownFork("BTC", date(2017, 10, 24), Decimal(1)),
    "BSV": KnownFork("BCH", date(2018, 11, 15), Decimal(1)),
    "ETHW": KnownFork("ETH", date(2022, 9, 15), Decimal(1)),
})


def forked_quantity(parent_quantity: Decimal, ratio: Decimal, *,
                    instrument_code: str | None = None) -> Decimal:
    """``parent_quantity * ratio``, exactly; with ``instrument_code``, refused if the result
    has more decimal places than that instrument is booked with (no silent rounding)."""
    for name, value in (("parent quantity", parent_quantity), ("ratio", ratio)):
        if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
            raise InvalidInput(f"{name} must be an exact Decimal > 0, got {value!r}",
                               field=name.replace(" ", "_"))
    exact = MONEY_CONTEXT.copy()
    exact.traps[Inexact] = True
    try:
        result = exact.multiply(parent_quantity, ratio)
    except Inexact:
        raise InvalidInput(f"{parent_quantity} x {ratio} has more than {exact.prec} digits",
                           field="ratio") from None
    if instrument_code is not None:
        try:
            result = check_scale(result, asset_scale(instrument_code), asset=instrument_code)
        except InvalidInput as error:
            raise error.with_origin(None, "ratio") from None
    return result


@dataclass(frozen=True, slots=True)
class ForkedAsset:
    """A forked or airdropped asset that arose from coins seized in a case."""

    case_id: str
    parent_instrument: str
    instrument_code: str
    quantity: Decimal
    fork_date: date
    source_address: str
    valuation_policy: ValuationPolicy
    note: str = ""

    def __post_init__(self) -> None:
        check_code(self.case_id, what="case")
        check_code(self.parent_instrument, what="instrument")
        check_code(self.instrument_code, what="instrument")
        if self.instrument_code == self.parent_instrument:
            raise InvalidInput(f"a fork of {self.parent_instrument} must be another instrument",
                               field="instrument_code")
        if not isinstance(self.quantity, Decimal) or not self.quantity.is_finite() \
                or self.quantity <= 0:
            raise InvalidInput(f"quantity must be an exact Decimal > 0, got {self.quantity!r}",
                               field="quantity")
        try:
            check_scale(self.quantity, asset_scale(self.instrument_code),
                        asset=self.instrument_code)
        except InvalidInput as error:
            raise error.with_origin(None, "quantity") from None
        if not self.source_address.strip():
            raise InvalidInput("a forked asset needs the address that held the parent coins",
                               field="source_address")
        if not isinstance(self.valuation_policy, ValuationPolicy):
            raise InvalidInput(f"valuation policy must be one of: {', '.join(ValuationPolicy)}",
                               field="valuation_policy")
        known = KNOWN_FORKS.get(self.instrument_code)
        if known is not None:
            if known.parent_instrument != self.parent_instrument:
                raise InvalidInput(f"{self.instrument_code} forked from "
                                   f"{known.parent_instrument}, not {self.parent_instrument}",
                                   field="parent_instrument")
            if known.fork_date != self.fork_date:
                raise InvalidInput(f"{self.instrument_code} forked on {known.fork_date}, not "
                                   f"{self.fork_date}", field="fork_date")


@dataclass(frozen=True, slots=True)
class ForkPrice:
    """A USD price of the forked asset and the traded volume behind it (24 h, USD)."""

    price_usd: Decimal
    volume_usd: Decimal
    priced_on: date
    source: str

    def __post_init__(self) -> None:
        for name in ("price_usd", "volume_usd"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
                raise InvalidInput(f"{name} must be an exact Decimal >= 0, got {value!r}",
                                   field=name)


@dataclass(frozen=True, slots=True)
class ForkValuation:
    """``value_usd`` is None when the policy cannot give a value (no price); ``basis``
    says in words how the figure came about, for the report."""

    instrument_code: str
    quantity: Decimal
    policy: ValuationPolicy
    value_usd: Decimal | None
    price: ForkPrice | None
    basis: str


def value_forked(asset: ForkedAsset, price: ForkPrice | None, *,
                 min_volume_usd: Decimal = ZERO) -> ForkValuation:
    """Value ``asset`` under its case's policy (USD, rounded half-even to cents).

    ``min_volume_usd`` is the traded volume a price needs before ``zero_until_liquid``
    trusts it; the other policies ignore it.
    """
    policy = asset.valuation_policy
    code, quantity = asset.instrument_code, asset.quantity

    def result(value: Decimal | None, used: ForkPrice | None, basis: str) -> ForkValuation:
        rounded = None if value is None else quantize(value, USD_SCALE)
        return ForkValuation(code, quantity, policy, rounded, used, basis)

    if policy is ValuationPolicy.COST_ZERO:
        return result(ZERO, None, "carried at cost, which is zero")
    if policy is ValuationPolicy.ZERO_UNTIL_LIQUID:
        if price is None:
            return result(ZERO, None, "no price yet: zero until liquid")
        if price.volume_usd < min_volume_usd:
            return result(ZERO, None, f"volume {price.volume_usd} USD below "
                                      f"{min_volume_usd} USD: zero until liquid")
        return result(quantity * price.price_usd, price,
                      f"liquid: {price.price_usd} USD from {price.source} on {price.priced_on}")
    if price is None:
        what = "market price" if policy is ValuationPolicy.MARKET_PRICE else "fair-value estimate"
        return result(None, None, f"no {what} for {code}")
    label = "market" if policy is ValuationPolicy.MARKET_PRICE else "fair-value estimate"
    return result(quantity * price.price_usd, price,
                  f"{label}: {price.price_usd} USD from {price.source} on {price.priced_on}")
