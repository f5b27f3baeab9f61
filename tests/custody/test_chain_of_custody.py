"""Chain of custody: balances replayed from opening holdings and events, every refusal."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qoima.custody.chain_of_custody import (
    AddressBook,
    CustodyEvent,
    CustodyEventKind,
    Holding,
    address_key,
    apply_events,
)
from qoima.domain.errors import InvalidInput

K = CustodyEventKind
T0 = datetime(2025, 3, 2, 9, 0, tzinfo=UTC)
SUSPECT = "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"
STATE = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
COLD = "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3"
EVM = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
OPENING = (
    Holding(SUSPECT, "bitcoin", "BTC", Decimal("2.5"), "AFM"),
    Holding(EVM, "ethereum", "ETH", Decimal("10"), "exchange X"),
    Holding(EVM, "ethereum", "USDT", Decimal("5000"), "exchange X"),
)


def event(n: int, kind: K, **fields: Any) -> CustodyEvent:
    values: dict[str, Any] = {"event_id": f"E{n}", "case_id": "KZ-1", "kind": kind,
                              "at": T0 + timedelta(hours=n), "actor": "liaison.a"}
    return CustodyEvent(**(values | fields))


def sweep(n: int = 1, quantity: str = "2.4999", fee: str = "0.0001", **more: Any) -> CustodyEvent:
    return event(n, K.TRANSFER, from_address=SUSPECT, to_address=STATE, tx_id="ab" * 32,
                 quantity=Decimal(quantity), fee=Decimal(fee), instrument_code="BTC", **more)


def balance(book: AddressBook, address: str, code: str) -> Decimal:
    return book.as_mapping()[(address, code)]


def test_address_key() -> None:
    assert address_key(EVM) == EVM.lower() == address_key(EVM.lower())
    assert address_key(STATE.upper()) == STATE
    assert address_key(SUSPECT) == SUSPECT  # base58: case is data
    mixed = "bc1qW508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
    assert address_key(mixed) == mixed  # mixed-case bech32 is invalid: kept as typed


def test_opening_only() -> None:
    book = apply_events(OPENING, [])
    assert book.total("BTC") == Decimal("2.5") and book.last_event_at is None
    assert book.departed == () and book.fees == ()


def test_sweep_into_a_new_state_wallet_registers_it() -> None:
    book = apply_events(OPENING, [sweep(to_holder="AFM key unit")])
    assert balance(book, SUSPECT, "BTC") == 0
    assert balance(book, STATE, "BTC") == Decimal("2.4999")
    row = next(b for b in book.balances if b.address == STATE)
    assert row.registered_by == "E1" and row.holder == "AFM key unit" and row.chain == "bitcoin"
    assert book.fees == (("BTC", Decimal("0.0001")),)
    assert book.left_control("BTC") == Decimal("0.0001")
    assert book.total("BTC") + book.left_control("BTC") == Decimal("2.5")


def test_new_address_holder_defaults_to_the_sender() -> None:
    book = apply_events(OPENING, [sweep()])
    assert next(b for b in book.balances if b.address == STATE).holder == "AFM"


def test_key_generation_then_transfer_and_ceremony() -> None:
    events = [
        event(1, K.KEY_GENERATION, to_address=COLD, to_holder="NBK vault",
              instrument_code="BTC"),
        sweep(2),
        event(3, K.TRANSFER, from_address=STATE, to_address=COLD, tx_id="cd" * 32,
              quantity=Decimal("2"), instrument_code="BTC"),
        event(4, K.KEY_CEREMONY, from_address=COLD, note="2-of-3 reshare"),
        event(5, K.AGENCY_HANDOVER, from_address=COLD, from_holder="NBK vault",
              to_holder="NIC custody"),
    ]
    book = apply_events(OPENING, events)
    rows = {b.address: b for b in book.balances if b.instrument_code == "BTC"}
    assert rows[COLD].quantity == 2 and rows[COLD].holder == "NIC custody"
    assert rows[COLD].registered_by == "E1"
    assert rows[STATE].quantity == Decimal("0.4999")
    assert book.last_event_at == T0 + timedelta(hours=5)


def test_key_generation_needs_a_chain_for_a_new_instrument() -> None:
    with pytest.raises(InvalidInput, match="needs chain") as caught:
        apply_events(OPENING, [event(1, K.KEY_GENERATION, to_address="addr", to_holder="x",
                                     instrument_code="SOL")])
    assert caught.value.field == "chain"
    book = apply_events(OPENING, [event(1, K.KEY_GENERATION, to_address="addr",
                                        to_holder="x", instrument_code="SOL", chain="solana")])
    assert balance(book, "addr", "SOL") == 0


def test_key_generation_for_a_known_holding_is_refused() -> None:
    with pytest.raises(InvalidInput, match="already holds BTC"):
        apply_events(OPENING, [event(1, K.KEY_GENERATION, to_address=SUSPECT, to_holder="x",
                                     instrument_code="BTC")])


def test_exchange_freeze_and_release() -> None:
    events = [
        event(1, K.EXCHANGE_FREEZE, from_address=EVM, to_holder="exchange X (frozen)"),
        event(2, K.KEY_GENERATION, to_address="0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
              to_holder="AFM", instrument_code="ETH"),
        event(3, K.EXCHANGE_RELEASE, from_address=EVM.lower(),
              to_address="0xFB6916095CA1DF60BB79CE92CE3EA74C37C5D359", tx_id="0x" + "1" * 64,
              quantity=Decimal("10"), instrument_code="ETH"),
    ]
    book = apply_events(OPENING, events)
    assert all(b.frozen_by_exchange for b in book.balances if b.address == EVM)
    assert balance(book, EVM, "ETH") == 0 and balance(book, EVM, "USDT") == 5000
    assert balance(book, "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359", "ETH") == 10


def test_release_from_an_address_that_is_not_frozen() -> None:
    with pytest.raises(InvalidInput, match="is not frozen at an exchange"):
        apply_events(OPENING, [event(1, K.EXCHANGE_RELEASE, from_address=SUSPECT,
                                     to_address=STATE, tx_id="t", quantity=Decimal(1),
                                     instrument_code="BTC")])


def test_outbound_transfer_leaves_control() -> None:
    book = apply_events(OPENING, [
        event(1, K.OUTBOUND_TRANSFER, from_address=EVM, to_address="0xowner", tx_id="0x1",
              quantity=Decimal("4000"), instrument_code="USDT", note="return order 12")])
    assert balance(book, EVM, "USDT") == 1000
    assert book.departed == (("USDT", Decimal(4000)),)
    assert all(b.address != "0xowner" for b in book.balances)


@pytest.mark.parametrize(("fields", "field", "text"), [
    ({"tx_id": ""}, "tx_id", "transfer E1 needs tx id"),
    ({"from_address": "1Unknown"}, "from_address", "address 1Unknown is not known"),
    ({"quantity": None}, "quantity", "needs quantity"),
    ({"quantity": Decimal(0), "fee": None}, "quantity", "quantity must be > 0"),
    ({"quantity": Decimal("2.5"), "fee": Decimal("0.0001")}, "quantity",
     "holds 2.5 BTC, cannot send 2.5001"),
    ({"instrument_code": "ETH"}, "instrument_code", "holds no ETH \\(holds BTC\\)"),
    ({"to_address": SUSPECT}, "to_address", "from and to are the same address"),
    ({"to_address": EVM}, "chain", "is on ethereum, not bitcoin"),
])
def test_bad_transfer(fields: dict[str, Any], field: str, text: str) -> None:
    with pytest.raises(InvalidInput, match=text) as caught:
        apply_events(OPENING, [replace(sweep(), **fields)])
    assert caught.value.field == field


def test_transfer_between_known_addresses_on_different_chains() -> None:
    opening = (*OPENING, Holding("shared", "litecoin", "BTC", Decimal(0), "x"))
    with pytest.raises(InvalidInput, match=r"shared is on litecoin, .* on bitcoin"):
        apply_events(opening, [replace(sweep(), to_address="shared")])


@pytest.mark.parametrize(("fields", "field", "text"), [
    ({"from_address": "0xnobody"}, "from_address", "address 0xnobody is not known"),
    ({"from_holder": "KNB"}, "from_holder", "from_holder 'KNB' is not the holder"),
    ({"to_holder": ""}, "to_holder", "needs to holder"),
    ({"instrument_code": "BTC"}, "instrument_code", "holds no BTC"),
])
def test_bad_holder_change(fields: dict[str, Any], field: str, text: str) -> None:
    base = event(1, K.CUSTODIAN_CHANGE, from_address=EVM, from_holder="exchange X",
                 to_holder="BitGo")
    with pytest.raises(InvalidInput, match=text) as caught:
        apply_events(OPENING, [replace(base, **fields)])
    assert caught.value.field == field


def test_holder_change_of_one_instrument() -> None:
    book = apply_events(OPENING, [event(1, K.CUSTODIAN_CHANGE, from_address=EVM.upper()
                                        .replace("0X", "0x"), instrument_code="USDT",
                                        to_holder="BitGo")])
    holders = {b.instrument_code: b.holder for b in book.balances if b.address == EVM}
    assert holders == {"ETH": "exchange X", "USDT": "BitGo"}


def test_order_case_and_ids() -> None:
    with pytest.raises(InvalidInput, match=r"E2 at .* is before E1") as caught:
        apply_events(OPENING, [sweep(1), replace(sweep(2, "0.1", "0"), at=T0)])
    assert caught.value.field == "at"
    same_time = apply_events(OPENING, [sweep(1, "1", "0"), replace(sweep(2, "1", "0"),
                                                                   at=T0 + timedelta(hours=1))])
    assert balance(same_time, STATE, "BTC") == 2
    with pytest.raises(InvalidInput, match="belongs to case KZ-2"):
        apply_events(OPENING, [sweep(1, "1", "0"), replace(sweep(2, "1", "0"), case_id="KZ-2")])
    with pytest.raises(InvalidInput, match="E1 appears twice"):
        apply_events(OPENING, [sweep(1, "1", "0"), replace(sweep(2, "1", "0"), event_id="E1")])


def test_event_and_holding_validation() -> None:
    with pytest.raises(InvalidInput, match="aware UTC"):
        sweep(at=datetime(2025, 1, 1))  # noqa: DTZ001
    with pytest.raises(InvalidInput, match="aware UTC"):
        sweep(at=datetime(2025, 1, 1, tzinfo=timezone(timedelta(hours=5))))
    with pytest.raises(InvalidInput, match="needs the actor"):
        sweep(actor=" ")
    with pytest.raises(InvalidInput, match="fee must be an exact Decimal >= 0"):
        sweep(fee="-1")
    with pytest.raises(InvalidInput, match="kind must be one of"):
        replace(sweep(), kind="seizure")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="needs a case id"):
        sweep(case_id="")
    with pytest.raises(InvalidInput, match="opening quantity"):
        Holding("a", "bitcoin", "BTC", Decimal(-1), "x")
    with pytest.raises(InvalidInput, match="listed twice in the opening"):
        apply_events((*OPENING, Holding(EVM.lower(), "ethereum", "ETH", Decimal(1), "x")), [])


ADDRESSES = ["A", "B", "C", "D"]


@st.composite
def histories(draw: st.DrawFn) -> tuple[tuple[Holding, ...], list[CustodyEvent]]:
    opening = tuple(Holding(a, "bitcoin", "BTC",
                            Decimal(draw(st.integers(0, 10**9))).scaleb(-8), "AFM")
                    for a in ADDRESSES[:2])
    balances = {h.address: h.quantity for h in opening}
    events: list[CustodyEvent] = []
    for n in range(draw(st.integers(0, 12))):
        source = draw(st.sampled_from(sorted(a for a, q in balances.items() if q > 0) or ["A"]))
        held = balances.get(source, Decimal(0))
        if held <= 0:
            break
        units = int(held.scaleb(8))
        quantity = Decimal(draw(st.integers(1, units))).scaleb(-8)
        fee = Decimal(draw(st.integers(0, units - int(quantity.scaleb(8))))).scaleb(-8)
        outbound = draw(st.booleans())
        target = draw(st.sampled_from([a for a in ADDRESSES if a != source]))
        events.append(event(n, K.OUTBOUND_TRANSFER if outbound else K.TRANSFER,
                            from_address=source, to_address=target, tx_id=f"tx{n}",
                            quantity=quantity, fee=fee, instrument_code="BTC"))
        balances[source] = held - quantity - fee
        if not outbound:
            balances[target] = balances.get(target, Decimal(0)) + quantity
    return opening, events


@settings(max_examples=200, deadline=None)
@given(histories())
def test_property_balances_sum_to_seized_minus_what_left(
        history: tuple[tuple[Holding, ...], list[CustodyEvent]]) -> None:
    opening, events = history
    book = apply_events(opening, events)
    seized = sum((h.quantity for h in opening), Decimal(0))
    assert book.total("BTC") == seized - book.left_control("BTC")
    assert all(b.quantity >= 0 for b in book.balances)
    outbound = sum((e.quantity or Decimal(0) for e in events
                    if e.kind is K.OUTBOUND_TRANSFER), Decimal(0))
    fees = sum((e.fee or Decimal(0) for e in events), Decimal(0))
    assert book.left_control("BTC") == outbound + fees
