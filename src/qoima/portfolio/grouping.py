"""Totals of a snapshot by vehicle, tranche, instrument or custodian."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from qoima.domain.money import ZERO
from qoima.portfolio.snapshot import PortfolioSnapshot, PositionValue


class Grouping(StrEnum):
    VEHICLE = "vehicle"
    TRANCHE = "tranche"
    INSTRUMENT = "instrument"
    CUSTODIAN = "custodian"


KEYS: dict[Grouping, Callable[[PositionValue], str]] = {
    Grouping.VEHICLE: lambda p: p.vehicle_code,
    Grouping.TRANCHE: lambda p: f"{p.vehicle_code}/{p.tranche_code or '-'}",
    Grouping.INSTRUMENT: lambda p: p.instrument_code,
    Grouping.CUSTODIAN: lambda p: p.custodian_code or "-",
}


@dataclass(frozen=True, slots=True)
class GroupTotal:
    key: str
    positions: int
    quantity: Decimal | None  # only when every position is the same instrument
    value_usd: Decimal
    value_kzt: Decimal | None
    unvalued_positions: int


def group_totals(snapshot: PortfolioSnapshot, by: Grouping) -> list[GroupTotal]:
    key = KEYS[by]
    groups: dict[str, list[PositionValue]] = defaultdict(list)
    for position in snapshot.positions:
        groups[key(position)].append(position)
    totals = []
    for name, items in sorted(groups.items()):
        instruments = {p.instrument_code for p in items}
        kzt = [p.value_kzt for p in items if p.value_kzt is not None]
        totals.append(GroupTotal(
            key=name, positions=len(items),
            quantity=sum((p.quantity for p in items), ZERO) if len(instruments) == 1 else None,
            value_usd=sum((p.value_usd for p in items if p.value_usd is not None), ZERO),
            value_kzt=sum(kzt, ZERO) if snapshot.usd_kzt is not None else None,
            unvalued_positions=sum(1 for p in items if p.value_usd is None),
        ))
    return totals
