"""The portfolio snapshot: the one hand-off object that risk, policy and reports read.

Values every holding at an as-of date in USD and KZT. A missing price leaves the position
unvalued and says so (never a silent zero); a stale price values it and warns. NAV totals
are sums of position values rounded to cents, so every table adds up.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from qoima import __version__
from qoima.domain.canonical import content_hash
from qoima.domain.enums import InstrumentKind, Severity
from qoima.domain.findings import Finding
from qoima.domain.money import MONEY_CONTEXT, ZERO, quantize
from qoima.domain.reference import BASE_CURRENCY, Account, Instrument, Vehicle
from qoima.market.quotes import FxQuote, PriceQuote, StalenessRule

KZT = "KZT"
CENTS = 2


@dataclass(frozen=True, slots=True)
class Position:
    """A holding account's quantity with its cost basis, before valuation."""

    account: Account
    instrument: Instrument
    quantity: Decimal
    cost_usd: Decimal | None = None
    realized_usd: Decimal | None = None


@dataclass(frozen=True, slots=True)
class PositionValue:
    account_code: str
    vehicle_code: str
    tranche_code: str | None
    custodian_code: str | None
    instrument_code: str
    instrument_kind: InstrumentKind
    quantity: Decimal
    price: Decimal | None
    price_date: date | None
    price_currency: str | None
    value_usd: Decimal | None
    value_kzt: Decimal | None
    cost_usd: Decimal | None
    unrealized_usd: Decimal | None
    realized_usd: Decimal | None
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True, slots=True)
class VehicleNav:
    vehicle_code: str
    name: str
    kind: str
    nav_usd: Decimal
    nav_kzt: Decimal | None
    positions: int
    unvalued_positions: int
    by_tranche_usd: Mapping[str, Decimal] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return self.unvalued_positions == 0


@dataclass(frozen=True, slots=True)
class PortfolioSnapshot:
    as_of_date: date
    positions: tuple[PositionValue, ...]
    pending_positions: tuple[PositionValue, ...]  # e.g. seized assets awaiting forfeiture
    vehicles: tuple[VehicleNav, ...]
    total_usd: Decimal
    total_kzt: Decimal | None
    usd_kzt: FxQuote | None
    findings: tuple[Finding, ...]
    synthetic_market: bool
    inputs_hash: str
    qoima_version: str = __version__

    @property
    def complete(self) -> bool:
        return all(v.complete for v in self.vehicles)

    def vehicle(self, code: str) -> VehicleNav:
        for nav in self.vehicles:
            if nav.vehicle_code == code:
                return nav
        raise KeyError(code)


class FxTable:
    """Latest FX quotes by pair; converts in either direction of a stored pair."""

    def __init__(self, quotes: Iterable[FxQuote]) -> None:
        self._quotes = {(q.base, q.quote): q for q in quotes}

    def find(self, base: str, quote: str) -> FxQuote | None:
        return self._quotes.get((base, quote)) or self._quotes.get((quote, base))

    def convert(self, amount: Decimal, source: str, target: str) -> tuple[Decimal, FxQuote] | None:
        """``amount`` in ``source`` expressed in ``target``, with the quote used."""
        direct = self._quotes.get((source, target))
        if direct is not None:
            return amount * direct.rate, direct
        inverse = self._quotes.get((target, source))
        if inverse is not None:
            return MONEY_CONTEXT.divide(amount, inverse.rate), inverse
        return None


def build_snapshot(
    *,
    as_of: date,
    positions: Sequence[Position],
    pending: Sequence[Position] = (),
    vehicles: Mapping[str, Vehicle],
    prices: Mapping[str, PriceQuote],
    fx: Iterable[FxQuote],
    staleness: StalenessRule | None = None,
) -> PortfolioSnapshot:
    rule = staleness or StalenessRule.default()
    fx_table = FxTable(fx)
    findings: list[Finding] = []
    usd_kzt = fx_table.find(BASE_CURRENCY, KZT)
    if usd_kzt is None:
        findings.append(Finding("valuation.missing_fx", Severity.ERROR, f"{BASE_CURRENCY}/{KZT}",
                                "no USD/KZT rate on or before the as-of date: KZT values "
                                "are not shown", as_of))
    elif rule.is_fx_stale(usd_kzt.rate_date, as_of):
        findings.append(_stale_fx(usd_kzt, as_of))
    valuer = _Valuer(as_of, prices, fx_table, rule)
    valued = tuple(valuer.value(p) for p in positions if p.quantity != 0)
    pending_valued = tuple(valuer.value(p) for p in pending if p.quantity != 0)
    for item in valued:
        findings.extend(item.findings)
    navs = tuple(_vehicle_navs(valued, vehicles, usd_kzt is not None))
    total_usd = sum((n.nav_usd for n in navs), ZERO)
    total_kzt = (
        sum((n.nav_kzt for n in navs if n.nav_kzt is not None), ZERO) if usd_kzt else None
    )
    used_quotes = [prices[p.instrument_code] for p in valued if p.instrument_code in prices]
    synthetic = any(q.is_synthetic for q in used_quotes) or bool(usd_kzt and usd_kzt.is_synthetic)
    inputs = {
        "as_of": as_of,
        "positions": [(p.account_code, p.quantity) for p in valued],
        "prices": [(q.instrument_code, q.price_date, q.price, q.source) for q in used_quotes],
        "usd_kzt": None if usd_kzt is None else (usd_kzt.rate_date, usd_kzt.rate),
    }
    return PortfolioSnapshot(
        as_of_date=as_of, positions=valued, pending_positions=pending_valued, vehicles=navs,
        total_usd=total_usd, total_kzt=total_kzt, usd_kzt=usd_kzt,
        findings=tuple(_dedupe(findings)), synthetic_market=synthetic,
        inputs_hash=content_hash(inputs),
    )


class _Valuer:
    def __init__(self, as_of: date, prices: Mapping[str, PriceQuote], fx: FxTable,
                 rule: StalenessRule) -> None:
        self.as_of, self.prices, self.fx, self.rule = as_of, prices, fx, rule

    def value(self, position: Position) -> PositionValue:
        instrument = position.instrument
        findings: list[Finding] = []
        price: Decimal | None
        quote_date: date | None
        if instrument.is_currency:
            local, currency, price, quote_date = position.quantity, instrument.code, None, None
        else:
            quote = self.prices.get(instrument.code)
            if quote is None:
                findings.append(Finding(
                    "valuation.missing_price", Severity.ERROR, position.account.code,
                    f"no price for {instrument.code} on or before {self.as_of}: position "
                    "left unvalued", self.as_of))
                return _unvalued(position, findings)
            if self.rule.is_stale(instrument.kind, instrument.venue, quote.price_date,
                                  self.as_of):
                age = self.rule.age(instrument.kind, instrument.venue, quote.price_date,
                                    self.as_of)
                limit = self.rule.max_age[instrument.kind]
                findings.append(Finding(
                    "valuation.stale_price", Severity.WARNING, position.account.code,
                    f"price of {instrument.code} is from {quote.price_date}, {age} "
                    f"{limit.unit} before {self.as_of} (limit {limit.count})",
                    self.as_of, measured=str(age), limit=str(limit.count)))
            local = position.quantity * quote.price * instrument.price_factor
            currency, price, quote_date = quote.currency, quote.price, quote.price_date
        value_usd = self._to(local, currency, BASE_CURRENCY, position, findings)
        if value_usd is None:
            return _unvalued(position, findings, price, quote_date, currency)
        # KZT from the unrounded USD value: tenge cash of 1,000,000 stays 1,000,000.00 KZT
        kzt = self.fx.convert(value_usd, BASE_CURRENCY, KZT)
        value_usd = quantize(value_usd, CENTS)
        value_kzt = quantize(kzt[0], CENTS) if kzt else None
        cost = position.cost_usd
        if instrument.code == BASE_CURRENCY:
            cost = position.quantity
        unrealized = None if cost is None else value_usd - quantize(cost, CENTS)
        return PositionValue(
            position.account.code, position.account.vehicle_code or "",
            position.account.tranche_code, position.account.custodian_code, instrument.code,
            instrument.kind, position.quantity, price, quote_date, currency, value_usd,
            value_kzt, None if cost is None else quantize(cost, CENTS), unrealized,
            None if position.realized_usd is None else quantize(position.realized_usd, CENTS),
            tuple(findings),
        )

    def _to(self, amount: Decimal, source: str, target: str, position: Position,
            findings: list[Finding]) -> Decimal | None:
        if source == target:
            return amount
        converted = self.fx.convert(amount, source, target)
        if converted is None:
            findings.append(Finding(
                "valuation.missing_fx", Severity.ERROR, position.account.code,
                f"no {source}/{target} rate on or before {self.as_of}: position left unvalued",
                self.as_of))
            return None
        value, quote = converted
        if self.rule.is_fx_stale(quote.rate_date, self.as_of):
            findings.append(_stale_fx(quote, self.as_of))
        return value


def _stale_fx(quote: FxQuote, as_of: date) -> Finding:
    return Finding("valuation.stale_fx", Severity.WARNING, f"{quote.base}/{quote.quote}",
                   f"{quote.base}/{quote.quote} rate is from {quote.rate_date}", as_of,
                   measured=str((as_of - quote.rate_date).days))


def _unvalued(position: Position, findings: list[Finding], price: Decimal | None = None,
              quote_date: date | None = None, currency: str | None = None) -> PositionValue:
    account = position.account
    return PositionValue(
        account.code, account.vehicle_code or "", account.tranche_code, account.custodian_code,
        position.instrument.code, position.instrument.kind, position.quantity, price,
        quote_date, currency, None, None,
        None if position.cost_usd is None else quantize(position.cost_usd, CENTS), None,
        None if position.realized_usd is None else quantize(position.realized_usd, CENTS),
        tuple(findings),
    )


def _vehicle_navs(values: Sequence[PositionValue], vehicles: Mapping[str, Vehicle],
                  with_kzt: bool) -> Iterable[VehicleNav]:
    grouped: dict[str, list[PositionValue]] = defaultdict(list)
    for item in values:
        grouped[item.vehicle_code].append(item)
    for code, vehicle in vehicles.items():
        items = grouped.get(code, [])
        by_tranche: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for item in items:
            if item.value_usd is not None:
                by_tranche[item.tranche_code or "-"] += item.value_usd
        yield VehicleNav(
            vehicle_code=code, name=vehicle.name, kind=vehicle.kind.value,
            nav_usd=sum((i.value_usd for i in items if i.value_usd is not None), ZERO),
            nav_kzt=(sum((i.value_kzt for i in items if i.value_kzt is not None), ZERO)
                     if with_kzt else None),
            positions=len(items),
            unvalued_positions=sum(1 for i in items if i.value_usd is None),
            by_tranche_usd=dict(by_tranche),
        )


def _dedupe(findings: Iterable[Finding]) -> list[Finding]:
    seen: set[Finding] = set()
    result = []
    for finding in findings:
        if finding not in seen:
            seen.add(finding)
            result.append(finding)
    return result
