"""The reserve's asset classes: one mapping from a holding to the class it is reported under.

The public transparency report and the committee's allocation chart both group by this
mapping, so "indirect crypto" means the same positions in both. A class depends on the
instrument kind, the vehicle that holds it and, for ETFs, what the ETF holds:

* anything in a seized-asset pool is *seized assets*, whatever it is;
* spot crypto ETFs (an ETF whose underlying is a crypto asset) and every ETF or equity held
  in the digital-asset sleeve (crypto-company stocks) are *indirect crypto*;
* other equities and ETFs, hedge- and venture-fund interests are *equities and funds*;
* tokens, stablecoins and tokenized assets outside the seized pool are *direct tokens*.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from qoima.domain.enums import InstrumentKind, VehicleKind
from qoima.domain.errors import InvalidInput
from qoima.domain.money import ZERO
from qoima.domain.reference import Instrument
from qoima.portfolio.snapshot import PortfolioSnapshot, PositionValue
from qoima.risk.exposures import CRYPTO_ASSETS


class AssetClass(StrEnum):
    """Stable ids (stored in reports and CSV files); declaration order is display order."""

    GOLD = "gold"
    FX_CASH = "fx_cash"
    US_TREASURIES = "us_treasuries"
    SDR = "sdr"
    INDIRECT_CRYPTO = "indirect_crypto"
    EQUITIES_AND_FUNDS = "equities_and_funds"
    SEIZED = "seized"
    DIRECT_TOKENS = "direct_tokens"

    @property
    def display_name(self) -> str:
        return DISPLAY_NAMES[self]


DISPLAY_NAMES: Mapping[AssetClass, str] = {
    AssetClass.GOLD: "Gold",
    AssetClass.FX_CASH: "FX cash and deposits",
    AssetClass.US_TREASURIES: "US Treasuries (bills and bonds)",
    AssetClass.SDR: "SDR holdings",
    AssetClass.INDIRECT_CRYPTO: "Indirect crypto (spot ETFs, crypto-company stocks)",
    AssetClass.EQUITIES_AND_FUNDS: "Equities and fund interests",
    AssetClass.SEIZED: "Seized assets",
    AssetClass.DIRECT_TOKENS: "Direct token holdings",
}

#: Instrument kinds whose class never depends on the vehicle (outside the seized pool).
_BY_KIND: Mapping[InstrumentKind, AssetClass] = {
    InstrumentKind.GOLD: AssetClass.GOLD,
    InstrumentKind.CASH: AssetClass.FX_CASH,
    InstrumentKind.TBILL: AssetClass.US_TREASURIES,
    InstrumentKind.BOND: AssetClass.US_TREASURIES,
    InstrumentKind.SDR: AssetClass.SDR,
    InstrumentKind.HEDGE_FUND_INTEREST: AssetClass.EQUITIES_AND_FUNDS,
    InstrumentKind.VENTURE_FUND_INTEREST: AssetClass.EQUITIES_AND_FUNDS,
    InstrumentKind.TOKEN: AssetClass.DIRECT_TOKENS,
    InstrumentKind.STABLECOIN: AssetClass.DIRECT_TOKENS,
    InstrumentKind.TOKENIZED_RWA: AssetClass.DIRECT_TOKENS,
}
_LISTED = frozenset({InstrumentKind.ETF, InstrumentKind.EQUITY})


def classify(instrument_kind: InstrumentKind | str, vehicle_kind: VehicleKind | str,
             underlying: str | None = None) -> AssetClass:
    """The class of a holding of ``instrument_kind`` in a vehicle of ``vehicle_kind``.

    ``underlying`` is the asset an ETF holds (``Instrument.underlying.asset``), if any.
    """
    kind, vehicle = InstrumentKind(instrument_kind), VehicleKind(vehicle_kind)
    if vehicle is VehicleKind.SEIZED_POOL:
        return AssetClass.SEIZED
    if kind in _LISTED:
        crypto_etf = kind is InstrumentKind.ETF and underlying in CRYPTO_ASSETS
        if crypto_etf or vehicle is VehicleKind.DIGITAL_ASSET_SLEEVE:
            return AssetClass.INDIRECT_CRYPTO
        return AssetClass.EQUITIES_AND_FUNDS
    return _BY_KIND[kind]


def asset_class(position: PositionValue, vehicle_kind: VehicleKind | str,
                underlying: str | None = None) -> AssetClass:
    """The class of one valued position (see :func:`classify`)."""
    return classify(position.instrument_kind, vehicle_kind, underlying)


def underlying_of(instruments: Mapping[str, Instrument] | None, code: str) -> str | None:
    """The asset an instrument wraps, when the reference data says so."""
    instrument = (instruments or {}).get(code)
    return instrument.underlying.asset if instrument and instrument.underlying else None


def vehicle_kinds(snapshot: PortfolioSnapshot) -> dict[str, VehicleKind]:
    return {nav.vehicle_code: VehicleKind(nav.kind) for nav in snapshot.vehicles}


@dataclass(frozen=True, slots=True)
class InstrumentSlice:
    """One instrument inside an asset class; ``label`` is unique across the whole chart."""

    instrument_code: str
    label: str
    line_items: int
    unvalued: int
    value_usd: Decimal
    value_kzt: Decimal | None


@dataclass(frozen=True, slots=True)
class AssetClassTotal:
    asset_class: AssetClass
    line_items: int
    unvalued: int
    value_usd: Decimal
    value_kzt: Decimal | None
    instruments: tuple[InstrumentSlice, ...]

    @property
    def name(self) -> str:
        return self.asset_class.display_name


def group_by_asset_class(positions: Iterable[PositionValue],
                         kinds: Mapping[str, VehicleKind | str],
                         instruments: Mapping[str, Instrument] | None = None, *,
                         with_kzt: bool = True) -> tuple[AssetClassTotal, ...]:
    """Totals by class, then by instrument within each class (the two sunburst levels).

    Values are exact sums of the positions' values (unvalued positions count, add nothing);
    classes come in :class:`AssetClass` order, instruments by value (largest first).
    ``with_kzt`` false gives no KZT totals (the snapshot had no USD/KZT rate).
    """
    grouped: dict[AssetClass, dict[str, list[PositionValue]]] = defaultdict(
        lambda: defaultdict(list))
    for position in positions:
        if position.vehicle_code not in kinds:
            raise InvalidInput(f"position {position.account_code}: vehicle "
                               f"{position.vehicle_code!r} is not in the vehicle list",
                               field="vehicle_code")
        cls = asset_class(position, kinds[position.vehicle_code],
                          underlying_of(instruments, position.instrument_code))
        grouped[cls][position.instrument_code].append(position)
    classes_of: dict[str, int] = defaultdict(int)
    for by_instrument in grouped.values():
        for code in by_instrument:
            classes_of[code] += 1
    totals = []
    for cls in AssetClass:
        if cls not in grouped:
            continue
        slices = [
            InstrumentSlice(code, code if classes_of[code] == 1 else f"{code} ({cls.display_name})",
                            len(items), _unvalued(items), _usd(items),
                            _kzt(items) if with_kzt else None)
            for code, items in grouped[cls].items()
        ]
        slices.sort(key=lambda s: (-s.value_usd, s.instrument_code))
        everything = [p for items in grouped[cls].values() for p in items]
        totals.append(AssetClassTotal(cls, len(everything), _unvalued(everything),
                                      _usd(everything),
                                      _kzt(everything) if with_kzt else None, tuple(slices)))
    return tuple(totals)


def asset_class_totals(snapshot: PortfolioSnapshot,
                       instruments: Mapping[str, Instrument] | None = None
                       ) -> tuple[AssetClassTotal, ...]:
    """:func:`group_by_asset_class` over a snapshot's valued (not pending) positions."""
    return group_by_asset_class(snapshot.positions, vehicle_kinds(snapshot), instruments,
                                with_kzt=snapshot.usd_kzt is not None)


def sunburst_levels(totals: Iterable[AssetClassTotal]
                    ) -> tuple[tuple[str, ...], tuple[str, ...], tuple[float, ...]]:
    """``(labels, parents, values)`` for a two-level sunburst: class, then instrument.

    A class's value is the sum of its instruments' (plotly's ``branchvalues="total"``).
    """
    labels: list[str] = []
    parents: list[str] = []
    values: list[float] = []
    for total in totals:
        labels.append(total.name)
        parents.append("")
        values.append(float(total.value_usd))
        for piece in total.instruments:
            labels.append(piece.label)
            parents.append(total.name)
            values.append(float(piece.value_usd))
    return tuple(labels), tuple(parents), tuple(values)


def _usd(items: Iterable[PositionValue]) -> Decimal:
    return sum((p.value_usd for p in items if p.value_usd is not None), ZERO)


def _kzt(items: Iterable[PositionValue]) -> Decimal:
    return sum((p.value_kzt for p in items if p.value_kzt is not None), ZERO)


def _unvalued(items: Iterable[PositionValue]) -> int:
    return sum(1 for p in items if p.value_usd is None)
