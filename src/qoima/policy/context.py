"""What the rules read: one snapshot plus the figures the app computed for the vehicle.

The rules never fetch anything; whatever the app could not compute stays ``None`` and the
rule that needs it reports "not evaluated" instead of passing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from qoima.domain.errors import InvalidInput
from qoima.domain.reference import Instrument
from qoima.portfolio.snapshot import PortfolioSnapshot, PositionValue, VehicleNav


@dataclass(frozen=True, slots=True)
class RiskFigures:
    """Risk-engine results for the vehicle: positive losses in USD (floats, as risk gives)."""

    cvar_99_1d_usd: float
    stress_losses_usd: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Transfer:
    """A token transfer out of custody: done (``proposed=False``) or the one being checked.

    ``value_usd`` is None when no price was available; velocity then cannot be checked.
    """

    transfer_id: str
    vehicle_code: str
    instrument_code: str
    chain: str
    destination: str
    quantity: Decimal
    value_usd: Decimal | None
    on_date: date
    approvers: tuple[str, ...] = ()
    proposed: bool = False

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise InvalidInput(f"transfer {self.transfer_id}: quantity must be positive, got "
                               f"{self.quantity}", field="quantity")
        if self.value_usd is not None and self.value_usd < 0:
            raise InvalidInput(f"transfer {self.transfer_id}: value_usd must be >= 0",
                               field="value_usd")


@dataclass(frozen=True, slots=True)
class LookThroughShares:
    """What one fund interest is made of, from its manager's latest statement: value per key
    as a share of the statement's NAV.

    ``assets``: signed economic exposure (a short future offsets a long), cash left out.
    ``custodians`` and ``venues``: net market value, cash included, so each adds up to one
    (within the statement's tolerance). Concentration limits scale them by the fund
    interest's value in the snapshot.
    """

    manager_code: str
    period_end: date
    assets: Mapping[str, Decimal]
    custodians: Mapping[str, Decimal]
    venues: Mapping[str, Decimal]


@dataclass(frozen=True, slots=True)
class PolicyContext:
    """Inputs of one evaluation.

    ``total_reserves_usd``: the denominator of share-of-reserves limits. ``liquidity``:
    share of the vehicle liquid within N days (key N), when the app computed it.
    ``drawdown``: current fall from peak as a positive fraction (0.12 = 12 % below peak).
    ``adv``: average daily volume in USD by instrument code. ``transfers``: custody
    transfers of the vehicle (the rolling window and any proposed one). ``look_through``:
    fund-interest code -> what its manager reported it holds; None when the app supplied
    no look-through (every fund interest is then flagged where a limit looks through).
    """

    as_of: date
    vehicle_code: str
    snapshot: PortfolioSnapshot
    instruments: Mapping[str, Instrument]
    total_reserves_usd: Decimal
    risk: RiskFigures | None = None
    liquidity: Mapping[int, Decimal] | None = None
    drawdown: float | None = None
    adv: Mapping[str, Decimal] = field(default_factory=dict)
    transfers: tuple[Transfer, ...] = ()
    look_through: Mapping[str, LookThroughShares] | None = None

    def __post_init__(self) -> None:
        if not any(v.vehicle_code == self.vehicle_code for v in self.snapshot.vehicles):
            raise InvalidInput(f"vehicle {self.vehicle_code} is not in the snapshot",
                               field="vehicle_code")
        if self.drawdown is not None and (not math.isfinite(self.drawdown)
                                          or self.drawdown < 0):
            raise InvalidInput(f"drawdown must be a positive fraction below peak, got "
                               f"{self.drawdown}", field="drawdown")

    @property
    def nav(self) -> VehicleNav:
        return self.snapshot.vehicle(self.vehicle_code)

    @property
    def positions(self) -> tuple[PositionValue, ...]:
        return tuple(p for p in self.snapshot.positions if p.vehicle_code == self.vehicle_code)
