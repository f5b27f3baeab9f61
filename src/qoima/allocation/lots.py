"""From weights to orderable quantities: share counts rounded down to whole lots.

Rounding down never spends more than the sleeve holds; the cash left over is reported. An
optional greedy top-up then buys at most one more lot per instrument, largest shortfall to
its target first, while the cash lasts and no cap (a policy's per-instrument share) would
be exceeded — so rounding never breaks a limit the optimizer respected. Exact ``Decimal``
arithmetic throughout: these amounts become orders.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from qoima.domain.errors import InvalidInput

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class LotLine:
    """One instrument: target and rounded weight, quantity in units, amount in USD."""

    code: str
    price_usd: Decimal
    lot_size: Decimal
    target_weight: Decimal
    quantity: Decimal
    amount_usd: Decimal
    weight: Decimal


@dataclass(frozen=True, slots=True)
class LotAllocation:
    size_usd: Decimal
    lines: tuple[LotLine, ...]
    invested_usd: Decimal
    cash_usd: Decimal  # size_usd - invested_usd, never negative


def _decimal(value: Decimal | float, what: str) -> Decimal:
    number = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    if not number.is_finite():
        raise InvalidInput(f"{what} must be finite, got {value!r}", field=what)
    return number


def round_to_lots(codes: Sequence[str], weights: Sequence[Decimal | float],
                  prices_usd: Sequence[Decimal], lot_sizes: Sequence[Decimal],
                  size_usd: Decimal, *, caps: Sequence[Decimal | float] | None = None,
                  top_up: bool = True) -> LotAllocation:
    """Quantities ``floor(w · size / price / lot) · lot`` per instrument, then a top-up.

    Parameters
    ----------
    weights : (N,) target weights (fractions of ``size_usd``), non-negative
    prices_usd, lot_sizes : (N,) positive; a lot of 1 is one share, 0.0001 a crypto step
    caps : (N,) weight caps the top-up must respect; without them the top-up only buys
        the one lot that brings an instrument closest to its target
    """
    n = len(codes)
    if not (len(weights) == len(prices_usd) == len(lot_sizes) == n) \
            or (caps is not None and len(caps) != n):
        raise InvalidInput("codes, weights, prices, lot sizes and caps must have the same "
                           "length", field="weights")
    size = _decimal(size_usd, "size_usd")
    if size <= 0:
        raise InvalidInput(f"size_usd must be positive, got {size_usd}", field="size_usd")
    targets = [_decimal(w, "weights") for w in weights]
    prices = [_decimal(p, "prices_usd") for p in prices_usd]
    lots = [_decimal(lot, "lot_sizes") for lot in lot_sizes]
    for code, w, price, lot in zip(codes, targets, prices, lots, strict=True):
        if w < 0:
            raise InvalidInput(f"{code}: weight {w} is negative", field="weights")
        if price <= 0 or lot <= 0:
            raise InvalidInput(f"{code}: price and lot size must be positive", field="prices_usd")
    limits = [_decimal(c, "caps") for c in caps] if caps is not None else None
    quantities = []
    for w, price, lot in zip(targets, prices, lots, strict=True):
        lots_bought = (w * size / price / lot).to_integral_value(rounding=ROUND_FLOOR)
        quantities.append((lots_bought * lot).quantize(lot))
    invested = sum((q * p for q, p in zip(quantities, prices, strict=True)), ZERO)
    if top_up:
        cash = size - invested
        shortfall = [w * size - q * p
                     for w, q, p in zip(targets, quantities, prices, strict=True)]
        for i in sorted(range(n), key=lambda j: (-shortfall[j], codes[j])):
            cost = lots[i] * prices[i]
            if targets[i] <= 0 or cost > cash or shortfall[i] <= 0:
                continue
            new_amount = (quantities[i] + lots[i]) * prices[i]
            if limits is not None and new_amount > limits[i] * size:
                continue
            if limits is None and new_amount - targets[i] * size > shortfall[i]:
                continue  # the extra lot would overshoot the target more than it fills
            quantities[i] += lots[i]
            cash -= cost
            invested += cost
    lines = tuple(
        LotLine(code=code, price_usd=p, lot_size=lot, target_weight=w, quantity=q,
                amount_usd=q * p, weight=q * p / size)
        for code, w, p, lot, q in zip(codes, targets, prices, lots, quantities, strict=True))
    return LotAllocation(size_usd=size, lines=lines, invested_usd=invested,
                         cash_usd=size - invested)
