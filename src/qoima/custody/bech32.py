"""Bech32 (BIP-173) and Bech32m (BIP-350) strings: decode with a precise reason, and encode.

Written here, from the BIPs' reference algorithm (about forty lines), rather than taken from
the ``bech32`` package, because that package answers every bad string with ``None``: an
officer typing an address from a seizure report must be told *what* is wrong (mixed case,
a character outside the alphabet, bech32 where bech32m is required), and the reference
code gives no reasons. The checksum constants and generator are the BIPs' own and the
official test vectors of both BIPs are run against this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from qoima.domain.errors import InvalidInput

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_CHARSET_INDEX = {c: i for i, c in enumerate(CHARSET)}
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
MAX_LENGTH = 90
CHECKSUM_LENGTH = 6


class Encoding(StrEnum):
    BECH32 = "bech32"
    BECH32M = "bech32m"


#: The constant each variant XORs into the checksum (BIP-173: 1; BIP-350: 0x2bc830a3).
_CONSTANT = {Encoding.BECH32: 1, Encoding.BECH32M: 0x2BC830A3}


@dataclass(frozen=True, slots=True)
class Bech32String:
    """A decoded string: lower-case human-readable part, 5-bit data (checksum removed)."""

    hrp: str
    data: tuple[int, ...]
    encoding: Encoding


def _polymod(values: Sequence[int]) -> int:
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i, generator in enumerate(_GENERATOR):
            chk ^= generator if (top >> i) & 1 else 0
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _fail(text: str, reason: str) -> InvalidInput:
    return InvalidInput(f"{text!r} is not valid bech32: {reason}", field="address")


def decode(text: str) -> Bech32String:
    """Decode a Bech32 or Bech32m string, raising :class:`InvalidInput` with the reason.

    The checks run in the order that names the first real fault: characters, case,
    separator, length, alphabet, then the checksum (which tells bech32 from bech32m).
    """
    for position, char in enumerate(text):
        if not 33 <= ord(char) <= 126:
            raise _fail(text, f"character {char!r} at position {position} is out of range "
                              "(printable US-ASCII 33-126 only)")
    if text.lower() != text and text.upper() != text:
        raise _fail(text, "it mixes upper and lower case")
    if len(text) > MAX_LENGTH:
        raise _fail(text, f"{len(text)} characters, more than the maximum {MAX_LENGTH}")
    lowered = text.lower()
    separator = lowered.rfind("1")
    if separator < 0:
        raise _fail(text, "no separator '1' between human-readable part and data")
    if separator == 0:
        raise _fail(text, "empty human-readable part")
    hrp, payload = lowered[:separator], lowered[separator + 1:]
    if len(payload) < CHECKSUM_LENGTH:
        raise _fail(text, f"checksum too short ({len(payload)} characters after the "
                          f"separator, at least {CHECKSUM_LENGTH} needed)")
    for offset, char in enumerate(payload):
        if char not in _CHARSET_INDEX:
            where = ("checksum" if offset >= len(payload) - CHECKSUM_LENGTH else "data part")
            raise _fail(text, f"invalid character {char!r} in the {where} at position "
                              f"{separator + 1 + offset} (not in the bech32 alphabet)")
    values = [_CHARSET_INDEX[c] for c in payload]
    check = _polymod(_hrp_expand(hrp) + values)
    encoding = next((enc for enc, const in _CONSTANT.items() if const == check), None)
    if encoding is None:
        raise _fail(text, "checksum does not match (neither bech32 nor bech32m)")
    return Bech32String(hrp, tuple(values[:-CHECKSUM_LENGTH]), encoding)


def encode(hrp: str, data: Sequence[int], encoding: Encoding) -> str:
    """Encode 5-bit ``data`` under ``hrp`` with the checksum of ``encoding`` (lower case)."""
    values = _hrp_expand(hrp) + list(data)
    polymod = _polymod([*values, 0, 0, 0, 0, 0, 0]) ^ _CONSTANT[encoding]
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(CHECKSUM_LENGTH)]
    return hrp + "1" + "".join(CHARSET[d] for d in [*data, *checksum])


def _regroup(data: Sequence[int], from_bits: int, to_bits: int) -> tuple[list[int], int, int]:
    acc = 0
    bits = 0
    out: list[int] = []
    max_value = (1 << to_bits) - 1
    for value in data:
        acc = (acc << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((acc >> bits) & max_value)
    return out, acc, bits


def to_words(data: bytes) -> list[int]:
    """Regroup bytes into 5-bit values, zero-padding the last one (BIP-173)."""
    out, acc, bits = _regroup(data, 8, 5)
    if bits:
        out.append((acc << (5 - bits)) & 31)
    return out


def from_words(words: Sequence[int]) -> bytes:
    """Regroup 5-bit values into bytes, refusing the padding BIP-173 forbids.

    More than 4 bits of padding, or padding bits that are not zero, mean the string was
    not produced by an encoder (the official vectors include both).
    """
    out, acc, bits = _regroup(words, 5, 8)
    if bits >= 5:
        raise InvalidInput("more than 4 bits of zero padding in the data part", field="address")
    if (acc << (8 - bits)) & 0xFF:
        raise InvalidInput("non-zero padding bits in the data part", field="address")
    return bytes(out)
