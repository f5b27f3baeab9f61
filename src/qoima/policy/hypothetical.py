"""The post-trade snapshot of an order that has not happened yet (for the pre-trade check).

The traded position moves by ``quantity_delta`` valued at the order's price; the vehicle's
USD cash moves the other way by the notional and the fees. Existing holdings keep their
marks, so a buy changes the vehicle's value by minus the fees only. Nothing is refused
here for size: a sale beyond the holding, or a buy beyond the cash, gives a negative
holding, which the evaluation reports as BLOCKING with the rest of the findings.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from decimal import Decimal

from qoima.domain.canonical import content_hash
from qoima.domain.enums import AccountKind, InstrumentKind
from qoima.domain.errors import InvalidInput
from qoima.domain.money import MONEY_CONTEXT, ZERO, check_scale, quantize
from qoima.domain.reference import BASE_CURRENCY, Account, Instrument
from qoima.portfolio.snapshot import CENTS, KZT, PortfolioSnapshot, PositionValue, VehicleNav


def apply_trade(
    snapshot: PortfolioSnapshot,
    *,
    vehicle_code: str,
    tranche_code: str | None,
    custodian_code: str | None,
    instrument: Instrument,
    quantity_delta: Decimal,
    price: Decimal,
    fees_usd: Decimal = ZERO,
    cash_tranche_code: str | None = None,
    cash_custodian_code: str | None = None,
) -> PortfolioSnapshot:
    """``snapshot`` as if the trade had settled: positive ``quantity_delta`` buys.

    ``price`` is per unit in the instrument's currency (USD, or KZT through the snapshot's
    USD/KZT rate). Cash comes from the vehicle's USD holding at ``cash_tranche_code`` /
    ``cash_custodian_code``; by default the one at the trade's tranche and custodian, else
    the vehicle's only USD holding, else a new one at the trade's tranche and custodian.
    """
    navs = {nav.vehicle_code: nav for nav in snapshot.vehicles}
    if vehicle_code not in navs:
        raise InvalidInput(f"unknown vehicle {vehicle_code}", field="vehicle_code")
    if instrument.is_currency:
        raise InvalidInput(f"{instrument.code} is cash: trade a non-cash instrument",
                           field="instrument")
    if quantity_delta == 0:
        raise InvalidInput("quantity_delta must not be zero", field="quantity")
    check_scale(quantity_delta, instrument.scale, asset=instrument.code)
    if price <= 0:
        raise InvalidInput(f"price must be positive, got {price}", field="price")
    if fees_usd < 0:
        raise InvalidInput(f"fees_usd must be >= 0, got {fees_usd}", field="fees_usd")
    notional_usd = _to_usd(quantity_delta * price * instrument.price_factor,
                           instrument.currency, snapshot)
    positions = list(snapshot.positions)
    account = Account(AccountKind.HOLDING, instrument.code, vehicle_code, tranche_code,
                      custodian_code)
    index = _find(positions, account.code)
    if index is None:
        positions.append(_new_position(account, instrument, snapshot))
        index = len(positions) - 1
    positions[index] = _traded(positions[index], quantity_delta, price, notional_usd,
                               fees_usd, snapshot)
    cash_delta = quantize(-notional_usd - fees_usd, CENTS)
    cash_index = _cash_index(positions, vehicle_code, cash_tranche_code or tranche_code,
                             cash_custodian_code or custodian_code,
                             explicit=cash_tranche_code is not None
                             or cash_custodian_code is not None)
    if cash_index is None:
        cash = Account(AccountKind.HOLDING, BASE_CURRENCY, vehicle_code,
                       cash_tranche_code or tranche_code, cash_custodian_code or custodian_code)
        positions.append(_new_position(cash, _USD, snapshot))
        cash_index = len(positions) - 1
    positions[cash_index] = _cash_moved(positions[cash_index], cash_delta, snapshot)
    kept = tuple(p for p in positions if p.quantity != 0)
    vehicles = tuple(_renav(nav, kept, snapshot) if nav.vehicle_code == vehicle_code else nav
                     for nav in snapshot.vehicles)
    trade = {"base": snapshot.inputs_hash, "account": account.code, "quantity": quantity_delta,
             "price": price, "fees_usd": fees_usd}
    return replace(
        snapshot, positions=kept, vehicles=vehicles,
        total_usd=sum((nav.nav_usd for nav in vehicles), ZERO),
        total_kzt=(None if snapshot.total_kzt is None else
                   sum((nav.nav_kzt or ZERO for nav in vehicles), ZERO)),
        inputs_hash=content_hash({"hypothetical_trade": trade}),
    )


_USD = Instrument(BASE_CURRENCY, "US dollar", InstrumentKind.CASH, 2, BASE_CURRENCY)


def _to_usd(amount: Decimal, currency: str, snapshot: PortfolioSnapshot) -> Decimal:
    if currency == BASE_CURRENCY:
        return amount
    if currency == KZT and snapshot.usd_kzt is not None:
        return MONEY_CONTEXT.divide(amount, snapshot.usd_kzt.rate)
    raise InvalidInput(f"no {currency}/{BASE_CURRENCY} rate in the snapshot to price the trade",
                       field="currency")


def _kzt(value_usd: Decimal | None, snapshot: PortfolioSnapshot) -> Decimal | None:
    if value_usd is None or snapshot.usd_kzt is None:
        return None
    return quantize(value_usd * snapshot.usd_kzt.rate, CENTS)


def _find(positions: list[PositionValue], account_code: str) -> int | None:
    return next((i for i, p in enumerate(positions) if p.account_code == account_code), None)


def _cash_index(positions: list[PositionValue], vehicle_code: str, tranche_code: str | None,
                custodian_code: str | None, *, explicit: bool) -> int | None:
    cash = Account(AccountKind.HOLDING, BASE_CURRENCY, vehicle_code, tranche_code,
                   custodian_code).code
    index = _find(positions, cash)
    if index is not None or explicit:
        return index
    candidates = [i for i, p in enumerate(positions)
                  if p.vehicle_code == vehicle_code and p.instrument_code == BASE_CURRENCY]
    return candidates[0] if len(candidates) == 1 else None


def _new_position(account: Account, instrument: Instrument,
                  snapshot: PortfolioSnapshot) -> PositionValue:
    return PositionValue(
        account.code, account.vehicle_code or "", account.tranche_code, account.custodian_code,
        instrument.code, instrument.kind, ZERO, None, None, instrument.currency,
        ZERO, None if snapshot.usd_kzt is None else ZERO, ZERO, ZERO, None)


def _traded(position: PositionValue, delta: Decimal, price: Decimal, notional_usd: Decimal,
            fees_usd: Decimal, snapshot: PortfolioSnapshot) -> PositionValue:
    quantity = position.quantity + delta
    if position.value_usd is None:  # unvalued so far: the order's price values all of it
        value = quantize(notional_usd * quantity / delta, CENTS)
    else:
        value = quantize(position.value_usd + notional_usd, CENTS)
    cost = position.cost_usd
    if cost is not None:
        if delta > 0:
            cost = quantize(cost + notional_usd + fees_usd, CENTS)
        elif position.quantity > 0:
            remaining = max(quantity, ZERO) / position.quantity
            cost = quantize(cost * remaining, CENTS)
    return replace(position, quantity=quantity, price=price, price_date=snapshot.as_of_date,
                   value_usd=value, value_kzt=_kzt(value, snapshot), cost_usd=cost,
                   unrealized_usd=None if cost is None else value - cost, findings=())


def _cash_moved(position: PositionValue, delta_usd: Decimal,
                snapshot: PortfolioSnapshot) -> PositionValue:
    quantity = position.quantity + delta_usd
    value = quantize(quantity, CENTS)
    return replace(position, quantity=quantity, value_usd=value,
                   value_kzt=_kzt(value, snapshot), cost_usd=value, unrealized_usd=ZERO)


def _renav(nav: VehicleNav, positions: tuple[PositionValue, ...],
           snapshot: PortfolioSnapshot) -> VehicleNav:
    mine = [p for p in positions if p.vehicle_code == nav.vehicle_code]
    by_tranche: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for item in mine:
        if item.value_usd is not None:
            by_tranche[item.tranche_code or "-"] += item.value_usd
    return replace(
        nav,
        nav_usd=sum((p.value_usd for p in mine if p.value_usd is not None), ZERO),
        nav_kzt=(None if snapshot.usd_kzt is None else
                 sum((p.value_kzt for p in mine if p.value_kzt is not None), ZERO)),
        positions=len(mine),
        unvalued_positions=sum(1 for p in mine if p.value_usd is None),
        by_tranche_usd=dict(by_tranche),
    )
