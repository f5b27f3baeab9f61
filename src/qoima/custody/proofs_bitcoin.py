"""Bitcoin proofs of control: which format a signature is in, and legacy signmessage.

A Bitcoin signature arrives as base64 text in one of three formats, told apart by shape:

* *legacy* (``signmessage``): 65 bytes, a header byte 27-42 then ``r || s``. The header
  follows BIP-137: 27-30 P2PKH with an uncompressed key, 31-34 P2PKH compressed, 35-38
  P2SH-P2WPKH, 39-42 P2WPKH (Trezor and BIP-137 signers); ``(header - 27) % 4`` is the
  recovery id. Electrum signs segwit addresses with 31-34, so 31-34 is accepted for
  P2SH-P2WPKH and P2WPKH addresses too; a header that declares another type than the
  address has is a well-formed signature that proves nothing (``valid=False``). The hash
  is ``sha256d("\\x18Bitcoin Signed Message:\\n" || compact_size(len(m)) || m)``.
* BIP-322 *simple*: a consensus-encoded witness stack;
* BIP-322 *full*: a serialized ``to_sign`` transaction (see :mod:`qoima.custody.bip322`).
"""

from __future__ import annotations

import base64
import binascii

from qoima.custody import bip322
from qoima.custody.addresses import AddressInfo, AddressKind
from qoima.custody.bitcoin_tx import compact_size, parse_tx, parse_witness
from qoima.custody.hashes import hash160, sha256d
from qoima.custody.proof_results import ProofResult, ProofScheme
from qoima.custody.signatures import recover_ecdsa
from qoima.domain.errors import InvalidInput

MESSAGE_MAGIC = b"\x18Bitcoin Signed Message:\n"
LEGACY_LENGTH = 65
_HEADER_MIN, _HEADER_MAX = 27, 42

#: Header ranges per key type (BIP-137) and the address kinds each may prove.
_HEADER_TYPES = {27: "P2PKH (uncompressed key)", 31: "P2PKH (compressed key)",
                 35: "P2SH-P2WPKH", 39: "P2WPKH"}
_ALLOWED_HEADERS = {
    AddressKind.P2PKH: (27, 31),
    AddressKind.P2SH: (31, 35),
    AddressKind.P2WPKH: (31, 39),
}


def legacy_message_hash(message: bytes) -> bytes:
    return sha256d(MESSAGE_MAGIC + compact_size(len(message)) + message)


def decode_base64(signature: str) -> bytes:
    """Strict base64 (the standard alphabet, correct padding); outer whitespace ignored."""
    text = signature.strip()
    if not text:
        raise InvalidInput("signature is empty", field="signature")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(f"signature is not valid base64 ({exc})", field="signature") from None


def verify_legacy(info: AddressInfo, message: bytes, raw: bytes) -> ProofResult:
    """Recover the key from a 65-byte compact signature and compare it with the address."""
    header = raw[0]
    if not _HEADER_MIN <= header <= _HEADER_MAX:
        raise InvalidInput(f"legacy signature header byte {header} is not 27-42 (BIP-137)",
                           field="signature")
    allowed = _ALLOWED_HEADERS.get(info.kind)
    if allowed is None:
        raise InvalidInput(f"a legacy message signature cannot prove a {info.kind} address; "
                           "use BIP-322", field="signature")
    key_type = header - (header - _HEADER_MIN) % 4
    recovered = recover_ecdsa(raw[1:], (header - _HEADER_MIN) % 4, legacy_message_hash(message))
    if recovered is None:
        return ProofResult(False, ProofScheme.LEGACY_MESSAGE, "no public key recovers from "
                           "this signature and message", info)
    public_key = recovered.format(compressed=key_type != 27)
    if key_type not in allowed:
        return ProofResult(False, ProofScheme.LEGACY_MESSAGE, f"header byte {header} declares "
                           f"a {_HEADER_TYPES[key_type]} key but the address is {info.kind}",
                           info, public_key.hex())
    key_hash = hash160(public_key)
    committed = hash160(b"\x00\x14" + key_hash) if info.kind is AddressKind.P2SH else key_hash
    if committed != info.program:
        return ProofResult(False, ProofScheme.LEGACY_MESSAGE, "the key that signed this "
                           "message does not belong to this address (another key or another "
                           "message)", info, public_key.hex())
    return ProofResult(True, ProofScheme.LEGACY_MESSAGE, "signature verifies for this address "
                       "and message", info, public_key.hex())


def verify_bitcoin(info: AddressInfo, message: str, signature: str) -> ProofResult:
    """Detect the format of ``signature`` (base64) and check it against ``info``."""
    raw = decode_base64(signature)
    data = message.encode("utf-8")
    if len(raw) == LEGACY_LENGTH and (_HEADER_MIN <= raw[0] <= _HEADER_MAX
                                      or info.kind is AddressKind.P2PKH):
        return verify_legacy(info, data, raw)
    try:
        parse_witness(raw)
    except InvalidInput as simple_error:
        try:
            parse_tx(raw)
        except InvalidInput as full_error:
            raise InvalidInput(
                f"signature is neither a legacy signature, a BIP-322 simple signature "
                f"({simple_error.message}) nor a BIP-322 full one ({full_error.message})",
                field="signature") from None
        return bip322.verify_full(info, data, raw)
    return bip322.verify_simple(info, data, raw)
