"""Address and transaction-id checks for seized assets, network aware.

Bitcoin: base58check P2PKH/P2SH (the ``base58`` package decodes; the version byte says the
network), and native segwit in bech32 (witness version 0, BIP-173) or bech32m (versions
1-16, BIP-350), decoded by :mod:`qoima.custody.bech32` so every refusal says why. Witness
versions 2-16 are valid recipients per BIP-350 and are reported as ``witness_unknown``.
Ethereum: 20-byte hex with the EIP-55 mixed-case checksum; an all-lower or all-upper
address carries no checksum and is accepted with ``checksummed=False`` (unless that form
happens to be its own checksum encoding, as in the EIP's all-caps examples).

Every refusal is an :class:`~qoima.domain.errors.InvalidInput` on field ``address`` (or
``txid``) whose message names the fault: a bad base58 character and its position, a
checksum mismatch, a testnet address given for mainnet, bech32 where bech32m is required,
a witness program of the wrong length, an EIP-55 capitalization that does not match.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import base58

from qoima.custody import bech32
from qoima.custody.hashes import keccak256, sha256d
from qoima.domain.errors import InvalidInput


class Chain(StrEnum):
    BITCOIN = "bitcoin"
    ETHEREUM = "ethereum"


class Network(StrEnum):
    MAINNET = "mainnet"
    TESTNET = "testnet"
    SIGNET = "signet"
    REGTEST = "regtest"


class AddressKind(StrEnum):
    P2PKH = "p2pkh"
    P2SH = "p2sh"
    P2WPKH = "p2wpkh"
    P2WSH = "p2wsh"
    P2TR = "p2tr"
    WITNESS_UNKNOWN = "witness_unknown"
    EOA = "eoa"  # an Ethereum account address (externally owned or contract: not told apart)


@dataclass(frozen=True, slots=True)
class AddressInfo:
    """A validated address.

    ``program`` is what the address commits to: the 20-byte key or script hash (P2PKH,
    P2SH), the witness program (segwit), or the 20-byte account (Ethereum).
    ``script_pubkey`` is the Bitcoin output script (empty for Ethereum); proofs of
    control sign against it. ``checksummed`` is False only for an Ethereum address
    written without an EIP-55 checksum.
    """

    chain: Chain
    network: Network
    kind: AddressKind
    normalized: str
    program: bytes
    script_pubkey: bytes = b""
    witness_version: int | None = None
    checksummed: bool = True

    @property
    def program_hex(self) -> str:
        return self.program.hex()


# Base58 version bytes (Bitcoin Core chainparams): testnet, signet and regtest share them.
_BASE58_VERSIONS: dict[int, tuple[AddressKind, str]] = {
    0x00: (AddressKind.P2PKH, "mainnet"),
    0x05: (AddressKind.P2SH, "mainnet"),
    0x6F: (AddressKind.P2PKH, "test"),
    0xC4: (AddressKind.P2SH, "test"),
}
_BASE58_FAMILY = {Network.MAINNET: "mainnet", Network.TESTNET: "test",
                  Network.SIGNET: "test", Network.REGTEST: "test"}
_FAMILY_WORDS = {"mainnet": "mainnet", "test": "testnet/signet/regtest"}
# Bech32 human-readable parts (BIP-173; signet shares testnet's, regtest has its own).
HRPS = {Network.MAINNET: "bc", Network.TESTNET: "tb", Network.SIGNET: "tb",
        Network.REGTEST: "bcrt"}
_HRP_WORDS = {"bc": "mainnet", "tb": "testnet/signet", "bcrt": "regtest"}
_BASE58_ALPHABET = base58.BITCOIN_ALPHABET.decode()
_HEX = re.compile(r"[0-9a-fA-F]*")


def _bad(address: str, reason: str) -> InvalidInput:
    return InvalidInput(f"{address!r} is not a valid address: {reason}", field="address")


def _as_enum(enum: type[Chain] | type[Network], value: str, what: str) -> str:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        raise InvalidInput(f"unknown {what} {value!r} (expected one of: {allowed})",
                           field=what) from None


def p2pkh_script(key_hash: bytes) -> bytes:
    return b"\x76\xa9\x14" + key_hash + b"\x88\xac"


def p2sh_script(script_hash: bytes) -> bytes:
    return b"\xa9\x14" + script_hash + b"\x87"


def witness_script(version: int, program: bytes) -> bytes:
    """``OP_n <program>``: OP_0 is 0x00, OP_1..OP_16 are 0x51..0x60."""
    return bytes([version + 0x50 if version else 0, len(program)]) + program


def _bitcoin_base58(address: str, network: Network) -> AddressInfo:
    for position, char in enumerate(address):
        if char not in _BASE58_ALPHABET:
            raise _bad(address, f"bad base58 character {char!r} at position {position}")
    raw = base58.b58decode(address)
    if len(raw) != 25:
        raise _bad(address, f"base58check payload is {len(raw)} bytes, expected 25 "
                            "(version byte, 20-byte hash, 4-byte checksum)")
    payload, checksum = raw[:-4], raw[-4:]
    if sha256d(payload)[:4] != checksum:
        raise _bad(address, "base58check checksum does not match")
    version = payload[0]
    if version not in _BASE58_VERSIONS:
        raise _bad(address, f"unknown version byte 0x{version:02x} (not a Bitcoin P2PKH or "
                            "P2SH address)")
    kind, family = _BASE58_VERSIONS[version]
    if family != _BASE58_FAMILY[network]:
        raise _bad(address, f"{_FAMILY_WORDS[family]} address on {network} (version byte "
                            f"0x{version:02x})")
    program = payload[1:]
    script = p2pkh_script(program) if kind is AddressKind.P2PKH else p2sh_script(program)
    return AddressInfo(Chain.BITCOIN, network, kind, address, program, script)


def _witness_kind(version: int, program: bytes) -> AddressKind:
    if version == 0:
        return AddressKind.P2WPKH if len(program) == 20 else AddressKind.P2WSH
    if version == 1 and len(program) == 32:
        return AddressKind.P2TR
    return AddressKind.WITNESS_UNKNOWN


def _bitcoin_segwit(address: str, network: Network) -> AddressInfo:
    decoded = bech32.decode(address)
    expected = HRPS[network]
    if decoded.hrp != expected:
        if decoded.hrp in _HRP_WORDS:
            raise _bad(address, f"{_HRP_WORDS[decoded.hrp]} address (human-readable part "
                                f"{decoded.hrp!r}) on {network} (expected {expected!r})")
        raise _bad(address, f"wrong human-readable part {decoded.hrp!r} (expected "
                            f"{expected!r} for {network})")
    if not decoded.data:
        raise _bad(address, "empty data section (no witness version)")
    version = decoded.data[0]
    if version > 16:
        raise _bad(address, f"invalid witness version {version} (must be 0-16)")
    try:
        program = bech32.from_words(decoded.data[1:])
    except InvalidInput as exc:
        raise _bad(address, exc.message) from None
    if not 2 <= len(program) <= 40:
        raise _bad(address, f"invalid witness program length {len(program)} bytes "
                            "(must be 2-40)")
    if version == 0 and len(program) not in (20, 32):
        raise _bad(address, f"invalid witness program length {len(program)} bytes for "
                            "witness version 0 (must be 20 or 32, BIP-141)")
    wanted = bech32.Encoding.BECH32 if version == 0 else bech32.Encoding.BECH32M
    if decoded.encoding is not wanted:
        raise _bad(address, f"{decoded.encoding} checksum for witness version {version} "
                            f"({wanted} expected, BIP-350)")
    normalized = address.lower()
    return AddressInfo(Chain.BITCOIN, network, _witness_kind(version, program), normalized,
                       program, witness_script(version, program), version)


def _looks_like_bech32(address: str) -> bool:
    lowered = address.lower()
    if any(lowered.startswith(hrp + "1") for hrp in _HRP_WORDS):
        return True
    # Not base58 (a '0', 'O', 'I' or 'l', or a non-alphanumeric), in one case, and shaped
    # like "<hrp>1<data>": decode as bech32 so that the message names the HRP or checksum.
    # A mixed-case string stays base58, whose message then names the bad character.
    single_case = address in (lowered, address.upper())
    return (single_case and "1" in address[1:]
            and any(c not in _BASE58_ALPHABET for c in address))


def _validate_bitcoin(address: str, network: Network) -> AddressInfo:
    if _looks_like_bech32(address):
        return _bitcoin_segwit(address, network)
    return _bitcoin_base58(address, network)


def eip55(account: bytes) -> str:
    """The EIP-55 checksummed form ``0x...`` of a 20-byte account."""
    lower = account.hex()
    digest = keccak256(lower.encode("ascii")).hex()
    return "0x" + "".join(c.upper() if int(h, 16) >= 8 else c
                          for c, h in zip(lower, digest[:40], strict=True))


def _validate_ethereum(address: str, network: Network) -> AddressInfo:
    if not address.startswith("0x"):
        raise _bad(address, "an Ethereum address starts with '0x'")
    digits = address[2:]
    if not _HEX.fullmatch(digits):
        position, char = next((i, c) for i, c in enumerate(digits)
                              if c not in "0123456789abcdefABCDEF")
        raise _bad(address, f"non-hex character {char!r} at position {position + 2}")
    if len(digits) != 40:
        raise _bad(address, f"wrong length: {len(digits)} hex digits after '0x', expected 40")
    account = bytes.fromhex(digits)
    normalized = eip55(account)
    mixed = digits.lower() != digits and digits.upper() != digits
    if mixed and address != normalized:
        raise _bad(address, f"EIP-55 checksum mismatch (capitalization should be "
                            f"{normalized})")
    return AddressInfo(Chain.ETHEREUM, network, AddressKind.EOA, normalized, account,
                       checksummed=address == normalized)


_VALIDATORS: dict[Chain, Callable[[str, Network], AddressInfo]] = {
    Chain.BITCOIN: _validate_bitcoin,
    Chain.ETHEREUM: _validate_ethereum,
}


def validate_address(chain: Chain | str, address: str,
                     network: Network | str = Network.MAINNET) -> AddressInfo:
    """Validate ``address`` on ``chain`` and ``network``; raise ``InvalidInput`` with why.

    Surrounding whitespace is refused rather than stripped: an address pasted with a
    stray character is exactly what this check exists to catch. Ethereum addresses are
    the same on every network, so ``network`` is only recorded for them.
    """
    chain = Chain(_as_enum(Chain, chain, "chain"))
    network = Network(_as_enum(Network, network, "network"))
    if not isinstance(address, str) or not address:
        raise InvalidInput("address is empty", field="address")
    if address.strip() != address:
        raise _bad(address, "leading or trailing whitespace")
    return _VALIDATORS[chain](address, network)


_TXID_SHAPES: dict[Chain, tuple[str, str]] = {
    Chain.BITCOIN: ("", "64 hex digits without '0x'"),
    Chain.ETHEREUM: ("0x", "'0x' and 64 hex digits"),
}


def validate_txid(chain: Chain | str, txid: str) -> str:
    """Check a transaction id's format and return it in lower case.

    Bitcoin ids are 64 hex digits (the byte-reversed double SHA-256 that explorers show);
    Ethereum transaction hashes are ``0x`` and 64 hex digits. Only the format is checked:
    whether the transaction exists is a question for a chain-data adapter.
    """
    chain = Chain(_as_enum(Chain, chain, "chain"))
    prefix, shape = _TXID_SHAPES[chain]
    if not isinstance(txid, str) or not txid:
        raise InvalidInput("transaction id is empty", field="txid")
    if not txid.startswith(prefix) or (not prefix and txid[:2] in ("0x", "0X")):
        raise InvalidInput(f"{chain} transaction id {txid!r} must be {shape}", field="txid")
    digits = txid[len(prefix):]
    for position, char in enumerate(digits):
        if char not in "0123456789abcdefABCDEF":
            raise InvalidInput(f"{chain} transaction id {txid!r}: non-hex character {char!r} "
                               f"at position {position + len(prefix)}", field="txid")
    if len(digits) != 64:
        raise InvalidInput(f"{chain} transaction id {txid!r}: {len(digits)} hex digits, "
                           f"expected 64", field="txid")
    return txid.lower()
