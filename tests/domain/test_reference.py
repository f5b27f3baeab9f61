"""Reference data: account codes, instruments, vehicles."""

from __future__ import annotations

from decimal import Decimal

import pytest

from qoima.domain.enums import AccountKind, InstrumentKind, TrancheKind, VehicleKind
from qoima.domain.errors import InvalidInput
from qoima.domain.reference import Account, Instrument, Tranche, Vehicle, check_code

# kinds that need a vehicle vs. those that may stand alone
NEEDS_VEHICLE = {AccountKind.HOLDING, AccountKind.SUSPENSE}


def _variants(kind: AccountKind) -> list[Account]:
    result = [
        Account(kind, "USD", "fx-reserves"),
        Account(kind, "BTC", "fx-reserves", "liquidity"),
        Account(kind, "IBIT", "fx-reserves", "liquidity", "bny"),
        Account(kind, "ETH", "sleeve_2", None, "state-wallet"),
        Account(kind, "KZT", "fund.a", "main", "fed-ny", "coupons"),
        Account(kind, "USD", "fund.a", None, None, "fees"),
    ]
    if kind not in NEEDS_VEHICLE:
        result += [
            Account(kind, "IBIT"),
            Account(kind, "USD", custodian_code="bny"),
            Account(kind, "USD", label="counterparty-1"),
            Account(kind, "BTC", custodian_code="coinbase", label="otc"),
        ]
    return result


ALL_ACCOUNTS = [account for kind in AccountKind for account in _variants(kind)]


@pytest.mark.parametrize("account", ALL_ACCOUNTS, ids=lambda a: a.code)
def test_account_code_round_trip(account: Account) -> None:
    assert Account.parse(account.code) == account
    assert Account.parse(account.code).code == account.code


def test_account_code_examples() -> None:
    assert Account(AccountKind.HOLDING, "USD", "fx-reserves", "liquidity",
                   "fed-ny").code == "holding:fx-reserves/liquidity:USD@fed-ny"
    assert Account(AccountKind.EXTERNAL, "IBIT").code == "external:IBIT"
    assert Account(AccountKind.EXPENSE, "USD", "fund-a",
                   label="fees").code == "expense:fund-a:USD#fees"
    assert Account(AccountKind.CAPITAL, "USD", "fund-a").code == "capital:fund-a:USD"


def test_every_kind_is_covered() -> None:
    assert {a.kind for a in ALL_ACCOUNTS} == set(AccountKind)


@pytest.mark.parametrize("kind", sorted(NEEDS_VEHICLE))
def test_holding_and_suspense_need_a_vehicle(kind: AccountKind) -> None:
    with pytest.raises(InvalidInput, match="needs a vehicle"):
        Account(kind, "USD")
    with pytest.raises(InvalidInput, match="needs a vehicle"):
        Account.parse(f"{kind.value}:USD")


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("holdingUSD", "must look like"),
        ("", "must look like"),
        ("asset:fund-a:USD", "unknown kind 'asset'"),
        ("HOLDING:fund-a:USD", "unknown kind"),
        (":USD", "unknown kind"),
        ("external:", "instrument code"),
        ("external:US D", "instrument code"),
        ("holding:fund-a:", "instrument code"),
        ("holding:a:b:USD", "vehicle code"),
        ("holding:fund-a/:USD", "not in canonical form"),
        ("holding:/main:USD", "needs a vehicle|not in canonical form"),
        ("external:/main:USD", "not in canonical form"),
        ("holding:fund-a/ma in:USD", "tranche code"),
        ("holding:fund-a/main:USD@", "not in canonical form"),
        ("external:USD@bad custodian", "custodian code"),
        ("external:USD#", "not in canonical form"),
        ("external:USD#bad label", "account label code"),
        ("external:USD#a@b", "account label code"),
        ("external:USD\n", "code"),
        ("external:\nUSD", "code"),
    ],
)
def test_parse_rejects_malformed_codes(code: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        Account.parse(code)


def test_parse_names_the_known_kinds() -> None:
    with pytest.raises(InvalidInput) as caught:
        Account.parse("wallet:USD")
    for kind in AccountKind:
        assert kind.value in str(caught.value)


@pytest.mark.parametrize("good", ["a", "USD", "fx-reserves", "fund_a.1", "A" * 64])
def test_check_code_accepts(good: str) -> None:
    assert check_code(good, what="x") == good


@pytest.mark.parametrize(
    "bad", ["", "-a", ".a", "_a", "a b", "a/b", "a:b", "a@b", "a#b", "A" * 65, "abc\n", "é"]
)
def test_check_code_rejects(bad: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_code(bad, what="vehicle")
    assert caught.value.field == "code"


# -- instruments ------------------------------------------------------------------------
def test_cash_instrument_is_its_own_currency() -> None:
    kzt = Instrument("KZT", "Tenge", InstrumentKind.CASH, 2, "KZT")
    assert kzt.is_currency
    with pytest.raises(InvalidInput, match="must be its own currency") as caught:
        Instrument("KZT", "Tenge", InstrumentKind.CASH, 2)  # currency defaults to USD
    assert caught.value.field == "currency"


def test_non_cash_instrument_is_not_a_currency() -> None:
    assert not Instrument("BTC", "Bitcoin", InstrumentKind.TOKEN, 8).is_currency


@pytest.mark.parametrize("scale", [0, 2, 18])
def test_instrument_scale_in_range(scale: int) -> None:
    assert Instrument("X", "x", InstrumentKind.TOKEN, scale).scale == scale


@pytest.mark.parametrize("scale", [-1, 19, 100])
def test_instrument_scale_out_of_range(scale: int) -> None:
    with pytest.raises(InvalidInput, match=r"scale must be 0\.\.18") as caught:
        Instrument("X", "x", InstrumentKind.TOKEN, scale)
    assert caught.value.field == "scale"


@pytest.mark.parametrize("factor", [Decimal(0), Decimal("-0.01")])
def test_price_factor_must_be_positive(factor: Decimal) -> None:
    with pytest.raises(InvalidInput, match="price_factor"):
        Instrument("UST", "bond", InstrumentKind.BOND, 0, price_factor=factor)


def test_bond_price_factor() -> None:
    bond = Instrument("UST-2030", "bond", InstrumentKind.BOND, 0, price_factor=Decimal("0.01"),
                      isin="US91282CJL54")
    assert bond.price_factor == Decimal("0.01")


@pytest.mark.parametrize(
    "isin",
    ["US037833100", "US03783310055", "us0378331005", "US037833100X", "1S0378331005",
     "US-378331005", "US0378331005\n", ""],
)
def test_malformed_isin(isin: str) -> None:
    with pytest.raises(InvalidInput, match="malformed ISIN") as caught:
        Instrument("AAPL", "Apple", InstrumentKind.EQUITY, 0, isin=isin)
    assert caught.value.field == "isin"


def test_instrument_code_checked() -> None:
    with pytest.raises(InvalidInput, match="instrument code"):
        Instrument("bad code", "x", InstrumentKind.TOKEN, 8)


# -- vehicles ---------------------------------------------------------------------------
def test_vehicle_tranches() -> None:
    vehicle = Vehicle("fx-reserves", "FX reserves", VehicleKind.FX_RESERVE, tranches=(
        Tranche("liquidity", TrancheKind.LIQUIDITY), Tranche("gold", TrancheKind.GOLD)))
    assert vehicle.has_tranche("gold")
    assert not vehicle.has_tranche("venture")


def test_vehicle_duplicate_tranche() -> None:
    with pytest.raises(InvalidInput, match="tranche liquidity listed twice"):
        Vehicle("fx-reserves", "FX reserves", VehicleKind.FX_RESERVE, tranches=(
            Tranche("liquidity", TrancheKind.LIQUIDITY),
            Tranche("liquidity", TrancheKind.INVESTMENT)))


def test_vehicle_bad_codes() -> None:
    with pytest.raises(InvalidInput, match="vehicle code"):
        Vehicle("fx reserves", "FX", VehicleKind.FX_RESERVE)
    with pytest.raises(InvalidInput, match="tranche code"):
        Vehicle("fx", "FX", VehicleKind.FX_RESERVE, tranches=(Tranche("a/b", TrancheKind.GOLD),))
