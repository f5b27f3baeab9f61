"""Snapshots of the demo vehicles with round prices, and a context builder for the rules."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from qoima.adapters.policy_files import read_policy
from qoima.app.demo.reference import INSTRUMENTS, SLEEVE, TOKENS, VEHICLES
from qoima.domain.enums import AccountKind
from qoima.domain.reference import Account
from qoima.market.quotes import FxQuote, PriceQuote
from qoima.policy.context import PolicyContext, Transfer
from qoima.policy.model import InvestmentPolicy
from qoima.portfolio.snapshot import PortfolioSnapshot, Position, build_snapshot

D = Decimal
AS_OF = date(2026, 6, 1)
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "policies"
BY_CODE = {i.code: i for i in INSTRUMENTS}
PRICES_USD = {"IBIT": "50", "FBTC": "80", "ETHA": "25", "AIX-BTC": "10", "COIN": "250",
              "BTC": "100000", "ETH": "3000", "BNB": "600", "USDT": "1",
              "HF-A-LP": "1000", "HF-B-LP": "1000"}
USD_KZT = FxQuote("USD", "KZT", AS_OF - timedelta(days=1), D("500"), "nbk")
DEFAULT_CUSTODIAN = {"AIX-BTC": "bitgo", "BTC": "bitgo", "BNB": "bitgo", "ETH": "bitgo",
                     "USDT": "bitgo", "HF-A-LP": "fund-admin", "HF-B-LP": "fund-admin"}

Holding = tuple[str, str] | tuple[str, str, str]  # (instrument, quantity[, custodian])


def snapshot(holdings: Sequence[Holding] = (), *, vehicle: str = SLEEVE,
             others: Sequence[tuple[str, Holding]] = (),
             unpriced: Sequence[str] = ()) -> PortfolioSnapshot:
    """``holdings`` of ``vehicle`` (tranche "main") plus ``(vehicle, holding)`` of others."""
    rows = [(vehicle, h) for h in holdings] + list(others)
    positions = []
    for owner, holding in rows:
        code, quantity = holding[0], holding[1]
        custodian = holding[2] if len(holding) == 3 else DEFAULT_CUSTODIAN.get(code, "bny")
        tranche = "managers" if owner == "state-fund" else "main"
        account = Account(AccountKind.HOLDING, code, owner, tranche, custodian)
        positions.append(Position(account, BY_CODE[code], D(quantity)))
    prices = {code: PriceQuote(code, AS_OF, D(price), "USD", "exchange")
              for code, price in PRICES_USD.items() if code not in unpriced}
    return build_snapshot(as_of=AS_OF, positions=positions,
                          vehicles={v.code: v for v in VEHICLES}, prices=prices, fx=(USD_KZT,))


def context(snap: PortfolioSnapshot, *, vehicle: str = SLEEVE,
            total_reserves_usd: str = "5000000000", **kw: Any) -> PolicyContext:
    kw.setdefault("instruments", BY_CODE)
    return PolicyContext(as_of=AS_OF, vehicle_code=vehicle, snapshot=snap,
                         total_reserves_usd=D(total_reserves_usd), **kw)


def transfer(tid: str, usd: str | None = "1000000", days_ago: int = 0, quantity: str = "100",
             destination: str = "0x00000000000000000000000000000000000a1e01",
             approvers: tuple[str, ...] = ("a", "b", "c"), proposed: bool = False) -> Transfer:
    return Transfer(tid, TOKENS, "BNB", "bnb-smart-chain", destination, D(quantity),
                    None if usd is None else D(usd), AS_OF - timedelta(days=days_ago),
                    approvers, proposed)


def example(name: str) -> InvestmentPolicy:
    return read_policy(EXAMPLES / f"{name}.yaml")


def sleeve_policy() -> InvestmentPolicy:
    return example("fx-sleeve")


def token_policy() -> InvestmentPolicy:
    return example("alem-fund")


__all__ = ["AS_OF", "BY_CODE", "SLEEVE", "TOKENS", "context", "example", "sleeve_policy",
           "snapshot", "token_policy", "transfer"]
