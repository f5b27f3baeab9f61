"""Chain of custody: every event that touched seized coins, and the balances they imply.

The book starts from the *opening holdings*: the quantity of each instrument placed under
the state's control at each address at intake. Custody events then change it:

=================  ==========================================================================
kind               rule
=================  ==========================================================================
key_generation     registers ``to_address`` (new to the case) as a state wallet held by
                   ``to_holder``; its chain is ``chain``, or else the chain the case already
                   uses for ``instrument_code``; balance 0
transfer           moves ``quantity`` (+ ``fee``, paid to the network) from ``from_address``
                   (known) to ``to_address``; needs ``tx_id``. A ``to_address`` the case does
                   not know yet is registered as a state wallet (holder ``to_holder``, else the
                   sender's holder) on the sender's chain
exchange_release   a transfer out of an exchange freeze into a state address (same rules)
outbound_transfer  ``quantity`` (+ ``fee``) leaves the state's control (return to the owner,
                   release to victims, a sale); needs ``tx_id``; ``to_address`` is not booked
agency_handover,   the keys of ``from_address`` pass from ``from_holder`` (must be the
custodian_change,  current holder) to ``to_holder``; no coins move. A key ceremony may keep the
key_ceremony       holder (``to_holder`` empty)
exchange_freeze    the exchange ``to_holder`` freezes ``from_address``: it becomes the holder
=================  ==========================================================================

Every event must name addresses the case knows (opening or registered), be at or after the
previous event, and leave no balance below zero, so the sum of all balances of an instrument
is always the opening quantity minus what left the state's control (outbound and fees).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from qoima.domain.errors import InvalidInput
from qoima.domain.money import ZERO

_EVM = re.compile(r"^0x[0-9a-fA-F]{40}$")
_BECH32 = re.compile(r"^(bc|tb|bcrt|ltc|tltc)1[02-9ac-hj-np-z]{6,87}$", re.IGNORECASE)


def address_key(address: str) -> str:
    """The form two spellings of one address share, for comparison only.

    EVM addresses (0x + 40 hex) compare without case (EIP-55 only adds a checksum in the
    case); bech32 addresses are case-insensitive by BIP-173 when not mixed-case, so they
    compare lower-cased; anything else (base58: case is data) compares exactly.
    """
    text = address.strip()
    if _EVM.fullmatch(text):
        return text.lower()
    if _BECH32.fullmatch(text) and (text.islower() or text.isupper()):
        return text.lower()
    return text


class CustodyEventKind(StrEnum):
    KEY_GENERATION = "key_generation"
    TRANSFER = "transfer"
    AGENCY_HANDOVER = "agency_handover"
    CUSTODIAN_CHANGE = "custodian_change"
    KEY_CEREMONY = "key_ceremony"
    EXCHANGE_FREEZE = "exchange_freeze"
    EXCHANGE_RELEASE = "exchange_release"
    OUTBOUND_TRANSFER = "outbound_transfer"


K = CustodyEventKind
MOVES = frozenset({K.TRANSFER, K.EXCHANGE_RELEASE, K.OUTBOUND_TRANSFER})
HOLDER_CHANGES = frozenset({K.AGENCY_HANDOVER, K.CUSTODIAN_CHANGE, K.KEY_CEREMONY,
                            K.EXCHANGE_FREEZE})


@dataclass(frozen=True, slots=True)
class CustodyEvent:
    """One thing that happened to the coins or their keys; ``at`` is an aware UTC time."""

    event_id: str
    case_id: str
    kind: CustodyEventKind
    at: datetime
    actor: str
    from_holder: str = ""
    to_holder: str = ""
    from_address: str = ""
    to_address: str = ""
    tx_id: str = ""
    quantity: Decimal | None = None
    instrument_code: str = ""
    note: str = ""
    fee: Decimal | None = None
    chain: str = ""

    def __post_init__(self) -> None:
        if not self.event_id.strip():
            raise InvalidInput("a custody event needs an id", field="event_id")
        if not self.case_id.strip():
            raise InvalidInput(f"custody event {self.event_id} needs a case id",
                               field="case_id")
        if not isinstance(self.kind, CustodyEventKind):
            raise InvalidInput(f"kind must be one of: {', '.join(CustodyEventKind)}",
                               field="kind")
        if (not isinstance(self.at, datetime) or self.at.utcoffset() != timedelta(0)):
            raise InvalidInput(f"custody event {self.event_id}: 'at' must be an aware UTC "
                               f"datetime, got {self.at!r}", field="at")
        if not self.actor.strip():
            raise InvalidInput(f"custody event {self.event_id} needs the actor who recorded "
                               "it", field="actor")
        for name in ("quantity", "fee"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, Decimal) or not value.is_finite()
                                      or value < 0):
                raise InvalidInput(f"custody event {self.event_id}: {name} must be an exact "
                                   f"Decimal >= 0, got {value!r}", field=name)


@dataclass(frozen=True, slots=True)
class Holding:
    """Coins placed under the state's control at intake: ``quantity`` of an instrument at
    an address on a chain, keys held by ``holder``."""

    address: str
    chain: str
    instrument_code: str
    quantity: Decimal
    holder: str

    def __post_init__(self) -> None:
        if not self.address.strip() or not self.chain.strip() or not self.instrument_code:
            raise InvalidInput("a holding needs an address, a chain and an instrument",
                               field="address")
        if not isinstance(self.quantity, Decimal) or not self.quantity.is_finite() \
                or self.quantity < 0:
            raise InvalidInput(f"opening quantity at {self.address} must be an exact Decimal "
                               f">= 0, got {self.quantity!r}", field="quantity")


@dataclass(frozen=True, slots=True)
class AddressBalance:
    """The book's view of one (address, instrument) after the events."""

    address: str
    chain: str
    instrument_code: str
    quantity: Decimal
    holder: str
    registered_by: str | None = None  # the event id that brought the address in, if any
    frozen_by_exchange: bool = False


@dataclass(frozen=True, slots=True)
class AddressBook:
    """Expected balances per address, plus what left the state's control per instrument."""

    balances: tuple[AddressBalance, ...]
    departed: tuple[tuple[str, Decimal], ...] = ()  # (instrument, quantity), sorted
    fees: tuple[tuple[str, Decimal], ...] = ()
    last_event_at: datetime | None = None

    def as_mapping(self) -> dict[tuple[str, str], Decimal]:
        """``{(address, instrument): quantity}``, the form :func:`reconcile` takes."""
        return {(b.address, b.instrument_code): b.quantity for b in self.balances}

    def total(self, instrument_code: str) -> Decimal:
        """Sum of the book's balances of one instrument over all addresses."""
        return sum((b.quantity for b in self.balances if b.instrument_code == instrument_code),
                   ZERO)

    def left_control(self, instrument_code: str) -> Decimal:
        """What left the state's control: outbound transfers plus network fees."""
        return (dict(self.departed).get(instrument_code, ZERO)
                + dict(self.fees).get(instrument_code, ZERO))


@dataclass(slots=True)
class _Row:
    address: str
    chain: str
    instrument_code: str
    quantity: Decimal
    holder: str
    registered_by: str | None = None
    frozen: bool = False


class _Book:
    """Mutable working state of :func:`apply_events`; never leaves this module."""

    def __init__(self, opening: Iterable[Holding]) -> None:
        self.rows: dict[tuple[str, str], _Row] = {}
        self.chains: dict[str, str] = {}  # address key -> chain
        self.departed: dict[str, Decimal] = {}
        self.fees: dict[str, Decimal] = {}
        for holding in opening:
            key = (address_key(holding.address), holding.instrument_code)
            if key in self.rows:
                raise InvalidInput(f"{holding.address} {holding.instrument_code} is listed "
                                   "twice in the opening holdings", field="address")
            self._chain(holding.address, holding.chain)
            self.rows[key] = _Row(holding.address, holding.chain, holding.instrument_code,
                                  holding.quantity, holding.holder)

    def _chain(self, address: str, chain: str) -> None:
        known = self.chains.setdefault(address_key(address), chain)
        if known != chain:
            raise InvalidInput(f"{address} is on {known}, not {chain}", field="chain")

    def knows(self, address: str) -> bool:
        return address_key(address) in self.chains

    def rows_at(self, address: str) -> list[_Row]:
        key = address_key(address)
        return [row for (addr, _), row in self.rows.items() if addr == key]

    def row(self, event: CustodyEvent, address: str, field_name: str) -> _Row:
        if not self.knows(address):
            raise InvalidInput(f"custody event {event.event_id}: address {address} is not "
                               "known to the case", field=field_name)
        found = self.rows.get((address_key(address), event.instrument_code))
        if found is None:
            held = ", ".join(sorted(r.instrument_code for r in self.rows_at(address)))
            raise InvalidInput(f"custody event {event.event_id}: {address} holds no "
                               f"{event.instrument_code} (holds {held})",
                               field="instrument_code")
        return found

    def register(self, event: CustodyEvent, address: str, chain: str, holder: str) -> _Row:
        self._chain(address, chain)
        row = _Row(address, chain, event.instrument_code, ZERO, holder, event.event_id)
        self.rows[(address_key(address), event.instrument_code)] = row
        return row

    def chain_of(self, instrument_code: str) -> str | None:
        chains = {row.chain for row in self.rows.values() if row.instrument_code == instrument_code}
        return chains.pop() if len(chains) == 1 else None


def _need(event: CustodyEvent, *names: str) -> None:
    for name in names:
        value = getattr(event, name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise InvalidInput(f"{event.kind} {event.event_id} needs {name.replace('_', ' ')}",
                               field=name)


def _key_generation(book: _Book, event: CustodyEvent) -> None:
    _need(event, "to_address", "to_holder", "instrument_code")
    if (address_key(event.to_address), event.instrument_code) in book.rows:
        raise InvalidInput(f"key_generation {event.event_id}: {event.to_address} already "
                           f"holds {event.instrument_code} in the case", field="to_address")
    chain = event.chain or book.chains.get(address_key(event.to_address)) \
        or book.chain_of(event.instrument_code)
    if not chain:
        raise InvalidInput(f"key_generation {event.event_id} needs chain (the case holds no "
                           f"{event.instrument_code} yet)", field="chain")
    book.register(event, event.to_address, chain, event.to_holder)


def _move(book: _Book, event: CustodyEvent) -> None:
    _need(event, "from_address", "to_address", "tx_id", "quantity", "instrument_code")
    assert event.quantity is not None
    if event.quantity == 0:
        raise InvalidInput(f"{event.kind} {event.event_id}: quantity must be > 0",
                           field="quantity")
    source = book.row(event, event.from_address, "from_address")
    fee = event.fee or ZERO
    if source.quantity < event.quantity + fee:
        raise InvalidInput(
            f"{event.kind} {event.event_id}: {event.from_address} holds {source.quantity} "
            f"{event.instrument_code}, cannot send {event.quantity + fee} (quantity "
            f"{event.quantity} + fee {fee})", field="quantity")
    if event.kind is K.EXCHANGE_RELEASE and not source.frozen:
        raise InvalidInput(f"exchange_release {event.event_id}: {event.from_address} is not "
                           "frozen at an exchange", field="from_address")
    source.quantity -= event.quantity + fee
    if fee:
        book.fees[event.instrument_code] = book.fees.get(event.instrument_code, ZERO) + fee
    if event.kind is K.OUTBOUND_TRANSFER:
        code = event.instrument_code
        book.departed[code] = book.departed.get(code, ZERO) + event.quantity
        return
    if address_key(event.to_address) == address_key(event.from_address):
        raise InvalidInput(f"{event.kind} {event.event_id}: from and to are the same address",
                           field="to_address")
    target = book.rows.get((address_key(event.to_address), event.instrument_code))
    if target is None:  # a new address: registered as a state wallet on the sender's chain
        target = book.register(event, event.to_address, source.chain,
                               event.to_holder or source.holder)
    elif target.chain != source.chain:
        raise InvalidInput(f"{event.kind} {event.event_id}: {event.to_address} is on "
                           f"{target.chain}, {event.from_address} on {source.chain}",
                           field="to_address")
    target.quantity += event.quantity


def _holder_change(book: _Book, event: CustodyEvent) -> None:
    _need(event, "from_address")
    if event.kind is not K.KEY_CEREMONY:
        _need(event, "to_holder")
    if not book.knows(event.from_address):
        raise InvalidInput(f"{event.kind} {event.event_id}: address {event.from_address} is "
                           "not known to the case", field="from_address")
    rows = book.rows_at(event.from_address)
    if event.instrument_code:
        rows = [book.row(event, event.from_address, "from_address")]
    for row in rows:
        if event.from_holder and event.from_holder != row.holder:
            raise InvalidInput(f"{event.kind} {event.event_id}: from_holder "
                               f"{event.from_holder!r} is not the holder of "
                               f"{event.from_address} ({row.holder!r})", field="from_holder")
        if event.to_holder:
            row.holder = event.to_holder
        if event.kind is K.EXCHANGE_FREEZE:
            row.frozen = True


_APPLY = {
    K.KEY_GENERATION: _key_generation,
    K.TRANSFER: _move,
    K.EXCHANGE_RELEASE: _move,
    K.OUTBOUND_TRANSFER: _move,
    K.AGENCY_HANDOVER: _holder_change,
    K.CUSTODIAN_CHANGE: _holder_change,
    K.KEY_CEREMONY: _holder_change,
    K.EXCHANGE_FREEZE: _holder_change,
}


def apply_events(opening: Sequence[Holding], events: Sequence[CustodyEvent]) -> AddressBook:
    """Replay a case's custody events over its opening holdings.

    Parameters
    ----------
    opening
        What was placed under the state's control at intake, per address and instrument.
    events
        The case's custody events in the order they happened (``at`` never decreasing).

    Returns
    -------
    AddressBook
        The expected balance of every (address, instrument), sorted by address, and the
        quantities that left the state's control (outbound transfers, network fees).
    """
    book = _Book(opening)
    previous: CustodyEvent | None = None
    seen: set[str] = set()
    for event in events:
        if event.event_id in seen:
            raise InvalidInput(f"custody event {event.event_id} appears twice",
                               field="event_id")
        seen.add(event.event_id)
        if previous is not None:
            if event.case_id != previous.case_id:
                raise InvalidInput(f"custody event {event.event_id} belongs to case "
                                   f"{event.case_id}, not {previous.case_id}", field="case_id")
            if event.at < previous.at:
                raise InvalidInput(f"custody event {event.event_id} at {event.at.isoformat()} "
                                   f"is before {previous.event_id} at "
                                   f"{previous.at.isoformat()}", field="at")
        _APPLY[event.kind](book, event)
        previous = event
    rows = sorted(book.rows.values(), key=lambda r: (r.instrument_code, r.address))
    return AddressBook(
        balances=tuple(AddressBalance(r.address, r.chain, r.instrument_code, r.quantity,
                                      r.holder, r.registered_by, r.frozen) for r in rows),
        departed=tuple(sorted(book.departed.items())),
        fees=tuple(sorted(book.fees.items())),
        last_event_at=previous.at if previous is not None else None,
    )
