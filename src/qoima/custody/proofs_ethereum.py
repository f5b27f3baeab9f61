"""Ethereum proofs of control: EIP-191 ``personal_sign`` (version 0x45).

The signed hash is ``keccak256("\\x19Ethereum Signed Message:\\n" || len(m) || m)`` with the
length in decimal ASCII digits of the UTF-8 byte count. The signature is 65 bytes
``r || s || v`` in hex (``0x`` optional), ``v`` in {27, 28} (wallets, ``eth_sign``) or
{0, 1} (raw recovery id, as some hardware signers emit). The signer is recovered with
libsecp256k1 (``coincurve``) and its address compared with the claimed one; EIP-2's
low-S rule is enforced, so a malleated ``(r, n - s)`` copy is refused as malformed.
"""

from __future__ import annotations

from qoima.custody.addresses import AddressInfo, eip55
from qoima.custody.hashes import keccak256
from qoima.custody.proof_results import ProofResult, ProofScheme
from qoima.custody.signatures import recover_ecdsa
from qoima.domain.errors import InvalidInput

PERSONAL_PREFIX = b"\x19Ethereum Signed Message:\n"
_RECOVERY_IDS = {27: 0, 28: 1, 0: 0, 1: 1}


def personal_message_hash(message: bytes) -> bytes:
    return keccak256(PERSONAL_PREFIX + str(len(message)).encode("ascii") + message)


def _decode(signature: str) -> bytes:
    text = signature.strip()
    digits = text[2:] if text[:2] in ("0x", "0X") else text
    for position, char in enumerate(digits):
        if char not in "0123456789abcdefABCDEF":
            raise InvalidInput(f"signature is not hex: {char!r} at position {position}",
                               field="signature")
    if len(digits) != 130:
        raise InvalidInput(f"an EIP-191 signature is 65 bytes (130 hex digits), found "
                           f"{len(digits)} hex digits", field="signature")
    return bytes.fromhex(digits)


def account_of(uncompressed_key: bytes) -> bytes:
    """The 20-byte account of a 65-byte SEC1 public key: keccak of X || Y, last 20 bytes."""
    return keccak256(uncompressed_key[1:])[-20:]


def verify_eip191(info: AddressInfo, message: str, signature: str) -> ProofResult:
    raw = _decode(signature)
    v = raw[64]
    if v not in _RECOVERY_IDS:
        raise InvalidInput(f"bad recovery id v={v} (27, 28, 0 or 1 expected)",
                           field="signature")
    recovered = recover_ecdsa(raw[:64], _RECOVERY_IDS[v],
                              personal_message_hash(message.encode("utf-8")))
    if recovered is None:
        return ProofResult(False, ProofScheme.EIP191, "no public key recovers from this "
                           "signature and message", info)
    signer = eip55(account_of(recovered.format(compressed=False)))
    if signer.lower() != info.normalized.lower():
        return ProofResult(False, ProofScheme.EIP191, f"the message was signed by {signer}, "
                           f"not by {info.normalized} (another key or another message)",
                           info, signer)
    return ProofResult(True, ProofScheme.EIP191, "signature verifies for this address and "
                       "message", info, signer)
