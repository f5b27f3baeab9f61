"""Screening addresses against a sanctions list."""

from __future__ import annotations

from datetime import date

import pytest

from qoima.custody.screening import (
    SanctionedAddress,
    SanctionsList,
    chain_for_currency,
    hit_findings,
    screen,
)
from qoima.domain.enums import Severity
from qoima.domain.errors import InvalidInput

LAZARUS = "0x098B716B8Aaf21512996dC57EB0615e2383E2f96"  # OFAC SDN, 14 Apr 2022
SAMSAM = "149w62rY42aZBox8fGcmqNsXUzSStKeq8C"  # OFAC SDN, 28 Nov 2018 (sm556)
BECH = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"  # BIP-173 vector, synthetic listing
LISTED = date(2022, 4, 14)


def listing(chain: str, address: str, entity: str, currency: str) -> SanctionedAddress:
    return SanctionedAddress(chain, address, entity, "DPRK3", "OFAC SDN", LISTED, currency)


SDN = SanctionsList(
    entries=(
        listing("ethereum", LAZARUS, "LAZARUS GROUP", "ETH"),
        listing("ethereum", LAZARUS, "LAZARUS GROUP", "USDT"),
        listing("bitcoin", SAMSAM, "Ali KHORASHADIZADEH", "XBT"),
        listing("bitcoin", BECH.upper(), "TEST ENTITY", "XBT"),
    ),
    source="sdn.xml", content_hash="0" * 64)


def test_currency_codes_map_to_chains() -> None:
    assert chain_for_currency("XBT", SAMSAM) == "bitcoin"
    assert chain_for_currency("eth", LAZARUS) == "ethereum"
    assert chain_for_currency("USDT", LAZARUS) == "ethereum"
    assert chain_for_currency("USDT", "TfsSM5YycUn9UoqmYDLMxX9K8svBZY1Uzx") == "tron"
    assert chain_for_currency("USDC", "So1anaLikeAddress") == "USDC"
    assert chain_for_currency("XMR", "4abc") == "monero"
    assert chain_for_currency("ZZZ", "x") == "ZZZ"


def test_evm_matches_without_case_and_once_per_listing() -> None:
    hits = screen([("ethereum", LAZARUS.lower()), ("ethereum", LAZARUS)], SDN)
    assert [(h.address, h.listed.currency_code) for h in hits] == [
        (LAZARUS.lower(), "ETH"), (LAZARUS.lower(), "USDT")]
    assert all(h.same_chain for h in hits)


def test_other_evm_chain_still_hits() -> None:
    (eth_hit, _) = screen([("bsc", LAZARUS)], SDN)
    assert not eth_hit.same_chain and eth_hit.chain == "bsc"


def test_bech32_lower_and_upper_case_match() -> None:
    assert len(screen([("bitcoin", BECH)], SDN)) == 1
    assert len(screen([("bitcoin", BECH.upper())], SDN)) == 1


def test_base58_is_exact() -> None:
    assert len(screen([("bitcoin", SAMSAM)], SDN)) == 1
    assert screen([("bitcoin", SAMSAM.lower())], SDN) == ()
    assert screen([("bitcoin", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2")], SDN) == ()


def test_hits_become_blocking_findings() -> None:
    hits = screen([("bitcoin", SAMSAM), ("bsc", LAZARUS)], SDN)
    findings = hit_findings(hits, SDN, date(2025, 6, 1))
    assert len(findings) == 3
    assert {f.severity for f in findings} == {Severity.BLOCKING}
    assert findings[0].rule == "custody.sanctions_hit"
    assert findings[0].subject == f"bitcoin:{SAMSAM}"
    assert "Ali KHORASHADIZADEH" in findings[0].message
    assert "(another chain)" in findings[1].message
    assert "sha256 000000000000" in findings[0].message


def test_validation() -> None:
    with pytest.raises(InvalidInput, match="empty or has spaces"):
        listing("bitcoin", " 1abc", "x", "XBT")
    with pytest.raises(InvalidInput, match="needs a chain"):
        listing("", "1abc", "x", "XBT")
    with pytest.raises(InvalidInput, match="SHA-256"):
        SanctionsList((), "x", "abc")
