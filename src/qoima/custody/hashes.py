"""The hash functions that addresses and signatures are built from.

Bitcoin needs double SHA-256, HASH160 (RIPEMD-160 of SHA-256) and BIP-340 tagged hashes;
Ethereum needs Keccak-256 (the pre-standard padding, not ``hashlib.sha3_256``). RIPEMD-160
and Keccak come from pycryptodome because OpenSSL 3 no longer ships RIPEMD-160 by default
and the standard library has no Keccak: a hash that silently goes missing on one machine
would make a proof verify here and fail there.
"""

from __future__ import annotations

import hashlib

from Crypto.Hash import RIPEMD160, keccak


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def sha256d(data: bytes) -> bytes:
    """SHA-256 applied twice: transaction ids, base58check checksums, legacy message hashes."""
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def hash160(data: bytes) -> bytes:
    """RIPEMD-160 of SHA-256: the 20-byte hash inside P2PKH, P2SH and P2WPKH scripts."""
    return RIPEMD160.new(hashlib.sha256(data).digest()).digest()


def tagged_hash(tag: str, data: bytes) -> bytes:
    """BIP-340 tagged hash ``sha256(sha256(tag) || sha256(tag) || data)``."""
    tag_digest = hashlib.sha256(tag.encode()).digest()
    return hashlib.sha256(tag_digest + tag_digest + data).digest()


def keccak256(data: bytes) -> bytes:
    """Keccak-256 as Ethereum uses it (original Keccak padding, not FIPS-202 SHA3-256)."""
    return keccak.new(digest_bits=256, data=data).digest()
