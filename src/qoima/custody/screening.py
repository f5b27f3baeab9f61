"""Sanctions screening of the addresses a case touches.

A sanctions list (parsed from OFAC's SDN files by :mod:`qoima.adapters.sanctions_files`)
is a set of listed digital-currency addresses. Every intake and transfer address is
screened against it; a hit is a *blocking* finding that only the committee can override.

Addresses are compared in the form :func:`address_key` gives (EVM without case, bech32
lower-case, base58 exactly), and regardless of the chain they were listed under: the same
EVM address on another EVM chain, or a legacy address listed under BCH, is held by the
same key, and a screen should err towards a hit the committee then looks at.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

from qoima.custody.chain_of_custody import address_key
from qoima.domain.enums import Severity
from qoima.domain.errors import InvalidInput
from qoima.domain.findings import Finding

#: OFAC currency codes ("Digital Currency Address - XBT") to the chain codes qoima uses.
#: Codes not listed here stay as they are (the chain is then named by its currency code).
CURRENCY_CHAINS = MappingProxyType({
    "XBT": "bitcoin",
    "ETH": "ethereum",
    "LTC": "litecoin",
    "BCH": "bitcoin_cash",
    "BSV": "bitcoin_sv",
    "BTG": "bitcoin_gold",
    "ETC": "ethereum_classic",
    "XMR": "monero",
    "ZEC": "zcash",
    "DASH": "dash",
    "TRX": "tron",
    "XRP": "ripple",
    "ARB": "arbitrum",
    "BSC": "bsc",
    "XVG": "verge",
    "SOL": "solana",
})
#: Tokens listed by currency whose chain follows from the address's shape.
TOKEN_CODES = frozenset({"USDT", "USDC"})
_EVM = re.compile(r"^0x[0-9a-fA-F]{40}$")
_TRON = re.compile(r"^T[1-9A-HJ-NP-Za-km-z]{33}$")


def chain_for_currency(currency_code: str, address: str) -> str:
    """The chain an address listed under ``currency_code`` lives on.

    USDT and USDC are issued on several chains; OFAC lists them by token, so the chain is
    read from the address: ``0x`` + 40 hex is Ethereum, ``T`` + 33 base58 is Tron; any
    other shape keeps the token code.
    """
    code = currency_code.strip().upper()
    if code in TOKEN_CODES:
        if _EVM.fullmatch(address):
            return "ethereum"
        if _TRON.fullmatch(address):
            return "tron"
        return code
    return CURRENCY_CHAINS.get(code, code)


@dataclass(frozen=True, slots=True)
class SanctionedAddress:
    """One listed address: on which chain, of which entity, under which programme."""

    chain_code: str
    address: str
    entity: str
    program: str
    list_name: str
    list_date: date
    currency_code: str = ""
    entry_id: str = ""

    def __post_init__(self) -> None:
        if not self.address or self.address != self.address.strip():
            raise InvalidInput(f"listed address {self.address!r} is empty or has spaces",
                               field="address")
        if not self.chain_code:
            raise InvalidInput(f"listed address {self.address} needs a chain",
                               field="chain_code")


@dataclass(frozen=True, slots=True)
class SanctionsList:
    """A parsed list, with the file it came from and the SHA-256 of that file's bytes."""

    entries: tuple[SanctionedAddress, ...]
    source: str
    content_hash: str

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[0-9a-f]{64}", self.content_hash):
            raise InvalidInput("content_hash must be a SHA-256 hex digest",
                               field="content_hash")


@dataclass(frozen=True, slots=True)
class ScreeningHit:
    """A screened address found on the list; ``same_chain`` says whether it was listed
    under the chain it was screened for."""

    chain: str
    address: str
    listed: SanctionedAddress
    same_chain: bool


def screen(addresses: Iterable[tuple[str, str]], sanctions: SanctionsList,
           ) -> tuple[ScreeningHit, ...]:
    """Every listing of every ``(chain, address)``; one hit per (address, listing)."""
    index: dict[str, list[SanctionedAddress]] = {}
    for entry in sanctions.entries:
        index.setdefault(address_key(entry.address), []).append(entry)
    hits: list[ScreeningHit] = []
    seen: set[tuple[str, str]] = set()
    for chain, address in addresses:
        key = address_key(address)
        if (chain, key) in seen:
            continue
        seen.add((chain, key))
        hits.extend(ScreeningHit(chain, address, listed, listed.chain_code == chain)
                    for listed in index.get(key, ()))
    return tuple(hits)


def hit_findings(hits: Iterable[ScreeningHit], sanctions: SanctionsList,
                 as_of_date: date) -> tuple[Finding, ...]:
    """One blocking finding per hit: the committee must override it to go on."""
    return tuple(
        Finding(rule="custody.sanctions_hit", severity=Severity.BLOCKING,
                subject=f"{hit.chain}:{hit.address}",
                message=(f"{hit.address} is listed on {hit.listed.list_name} "
                         f"({hit.listed.list_date}) for {hit.listed.entity}, program "
                         f"{hit.listed.program}, as {hit.listed.chain_code}"
                         f"{'' if hit.same_chain else ' (another chain)'}; "
                         f"source {sanctions.source} sha256 {sanctions.content_hash[:12]}"),
                as_of_date=as_of_date)
        for hit in hits)
