"""secp256k1 signature checks shared by the Bitcoin and Ethereum proofs.

The curve arithmetic is libsecp256k1's, through ``coincurve`` (MIT/Apache-2.0); nothing
here computes on points. What this module adds is the *encoding* discipline the standards
require and libsecp256k1 leaves to the caller, each refusal with its reason:

* strict DER (BIP-66) for ECDSA signatures inside Bitcoin scripts;
* low S (``s <= n/2``): BIP-146 ``LOW_S`` for segwit and BIP-322, EIP-2 for Ethereum, and
  here for legacy message signatures too (stricter than Bitcoin Core's ``verifymessage``,
  which recovers from a high-S signature; every signer since 2015 produces low S, and a
  high-S signature is a malleated copy of a low-S one);
* ``0 < r, s < n``.

A refusal here is *malformed input* (:class:`InvalidInput`); a well-formed signature that
does not match is answered with ``False`` / ``None`` by the callers.
"""

from __future__ import annotations

from coincurve import PublicKey, PublicKeyXOnly

from qoima.domain.errors import InvalidInput

#: Order of the secp256k1 group.
CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
HALF_ORDER = CURVE_ORDER // 2


def _fail(reason: str) -> InvalidInput:
    return InvalidInput(f"malformed signature: {reason}", field="signature")


def check_scalars(r: int, s: int) -> None:
    """Refuse ``r`` or ``s`` outside ``1..n-1`` and a high ``s`` (non-canonical)."""
    if not 0 < r < CURVE_ORDER:
        raise _fail("r is zero or not below the curve order")
    if not 0 < s < CURVE_ORDER:
        raise _fail("s is zero or not below the curve order")
    if s > HALF_ORDER:
        raise _fail("non-canonical high-S value (s > n/2; BIP-146 LOW_S, EIP-2)")


def parse_der(der: bytes) -> tuple[int, int]:
    """Return ``(r, s)`` of a strictly DER-encoded ECDSA signature (no sighash byte).

    The checks are BIP-66's ``IsValidSignatureEncoding`` (lengths, INTEGER tags, no
    negative numbers, no needless leading zero bytes), stated as reasons.
    """
    if not 8 <= len(der) <= 72:
        raise _fail(f"DER signature of {len(der)} bytes (8-72 expected)")
    if der[0] != 0x30:
        raise _fail("DER signature does not start with a SEQUENCE (0x30)")
    if der[1] != len(der) - 2:
        raise _fail("DER SEQUENCE length does not match the signature length")
    len_r = der[3]
    if 5 + len_r >= len(der):
        raise _fail("DER length of r runs past the signature")
    len_s = der[5 + len_r]
    if len_r + len_s + 6 != len(der):
        raise _fail("DER lengths of r and s do not add up to the signature length")
    for tag_at, length, name in ((2, len_r, "r"), (4 + len_r, len_s, "s")):
        value = der[tag_at + 2:tag_at + 2 + length]
        if der[tag_at] != 0x02:
            raise _fail(f"DER {name} is not an INTEGER (0x02)")
        if length == 0:
            raise _fail(f"DER {name} has zero length")
        if value[0] & 0x80:
            raise _fail(f"DER {name} is negative")
        if length > 1 and value[0] == 0 and not value[1] & 0x80:
            raise _fail(f"DER {name} has a needless leading zero byte")
    r = int.from_bytes(der[4:4 + len_r], "big")
    s = int.from_bytes(der[6 + len_r:6 + len_r + len_s], "big")
    check_scalars(r, s)
    return r, s


def verify_ecdsa(public_key: bytes, der: bytes, digest: bytes) -> bool:
    """True when the DER signature (checked by :func:`parse_der`) signs ``digest``.

    ``public_key`` is SEC1 (33 or 65 bytes); a key that does not parse verifies nothing.
    """
    try:
        key = PublicKey(public_key)
    except ValueError:
        return False
    return key.verify(der, digest, hasher=None)


def recover_ecdsa(signature64: bytes, recovery_id: int, digest: bytes) -> PublicKey | None:
    """The public key that ``signature64`` (r || s) recovers to over ``digest``, or None."""
    r = int.from_bytes(signature64[:32], "big")
    s = int.from_bytes(signature64[32:], "big")
    check_scalars(r, s)
    if not 0 <= recovery_id <= 3:
        raise _fail(f"recovery id {recovery_id} is not 0-3")
    try:
        return PublicKey.from_signature_and_message(
            signature64 + bytes([recovery_id]), digest, hasher=None)
    except ValueError:
        return None


def verify_schnorr(x_only_key: bytes, signature64: bytes, digest: bytes) -> bool:
    """BIP-340 verification of a 64-byte signature over a 32-byte ``digest``."""
    try:
        key = PublicKeyXOnly(x_only_key)
    except ValueError:
        return False
    return key.verify(signature64, digest)
