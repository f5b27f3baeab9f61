"""BIP-322 generic signed messages: the *simple* and *full* formats, single-key scripts.

A BIP-322 proof is a spend of a virtual output locked with the address's own script:
``to_spend`` commits to the message (its input's scriptSig is ``OP_0 PUSH32[H(m)]`` with
``H`` the tagged hash ``BIP0322-signed-message``) and ``to_sign`` spends it to a single
``OP_RETURN``. A *simple* signature is only the witness of ``to_sign``; a *full* one is the
whole signed ``to_sign``. Both are checked here by evaluating the one script template the
address implies, with the BIP's required rules (SIGHASH_ALL, strict DER, low S, compressed
keys in segwit) -- there is no general script interpreter, so only these are supported:

* P2WPKH (BIP-143 sighash, ECDSA), simple and full;
* P2SH-wrapped P2WPKH, simple (the redeem script is derived from the witness key) and full;
* P2TR key path (BIP-341 sighash, BIP-340 Schnorr, SIGHASH_DEFAULT or SIGHASH_ALL, optional
  annex), simple and full;
* P2PKH, full only (legacy sighash; BIP-322 has no simple form without a witness).

Anything else (P2WSH, multisig, taproot script paths, proofs of funds with extra inputs,
``to_sign`` versions other than 0 and 2) is the BIP's *inconclusive* and is refused with
:class:`InvalidInput` saying so -- never reported as an invalid proof.
"""

from __future__ import annotations

from collections.abc import Callable

from qoima.custody.addresses import AddressInfo, AddressKind, p2pkh_script
from qoima.custody.bitcoin_tx import (
    SIGHASH_ALL,
    SIGHASH_DEFAULT,
    Tx,
    TxIn,
    TxOut,
    parse_tx,
    parse_witness,
    sighash_legacy,
    sighash_segwit_v0,
    sighash_taproot,
    txid,
)
from qoima.custody.hashes import hash160, tagged_hash
from qoima.custody.proof_results import ProofResult, ProofScheme
from qoima.custody.signatures import parse_der, verify_ecdsa, verify_schnorr
from qoima.domain.errors import InvalidInput

MESSAGE_TAG = "BIP0322-signed-message"
OP_RETURN = b"\x6a"
_ANNEX_TAG = 0x50

#: (valid, reason, signer public key hex)
Outcome = tuple[bool, str, str]


def message_hash(message: bytes) -> bytes:
    return tagged_hash(MESSAGE_TAG, message)


def to_spend(message: bytes, script_pubkey: bytes) -> Tx:
    """The virtual transaction whose only output is locked with the address's script."""
    script_sig = b"\x00\x20" + message_hash(message)
    return Tx(0, (TxIn(b"\x00" * 32, 0xFFFFFFFF, script_sig, 0),),
              (TxOut(0, script_pubkey),), 0)


def to_sign(spend: Tx, witness: tuple[bytes, ...] = (), script_sig: bytes = b"") -> Tx:
    """The virtual transaction that spends ``spend`` (defaults of the simple format)."""
    return Tx(0, (TxIn(txid(spend), 0, script_sig, 0, witness),), (TxOut(0, OP_RETURN),), 0)


def _unsupported(what: str) -> InvalidInput:
    return InvalidInput(f"{what} is not supported (BIP-322 'inconclusive': qoima checks "
                        "single-key P2PKH, P2WPKH, P2SH-P2WPKH and P2TR key-path proofs)",
                        field="signature")


def _push(data: bytes) -> bytes:
    if not 1 <= len(data) <= 75:
        raise InvalidInput("push too long for a direct push", field="signature")
    return bytes([len(data)]) + data


def _pushes(script: bytes) -> list[bytes]:
    """Split a scriptSig made only of direct pushes (1-75 bytes: always minimal)."""
    items: list[bytes] = []
    pos = 0
    while pos < len(script):
        opcode = script[pos]
        if not 1 <= opcode <= 75 or pos + 1 + opcode > len(script):
            raise InvalidInput("scriptSig must consist of direct data pushes only",
                               field="signature")
        items.append(script[pos + 1:pos + 1 + opcode])
        pos += 1 + opcode
    return items


def _check_ecdsa_encoding(signature: bytes) -> None:
    """Malformed before wrong: encoding rules are checked before the key is compared."""
    if not signature:
        return
    if signature[-1] != SIGHASH_ALL:
        raise InvalidInput(f"sighash type 0x{signature[-1]:02x}: BIP-322 requires "
                           "SIGHASH_ALL", field="signature")
    parse_der(signature[:-1])


def _ecdsa(signature: bytes, public_key: bytes, digest_of: Callable[[int], bytes]) -> Outcome:
    if not signature:
        return False, "empty signature (NULLFAIL: the signer did not sign)", public_key.hex()
    der, hash_type = signature[:-1], signature[-1]
    if verify_ecdsa(public_key, der, digest_of(hash_type)):
        return True, "signature verifies for this address and message", public_key.hex()
    return False, "signature does not verify for this address and message", public_key.hex()


def _p2wpkh(program: bytes, tx: Tx, spent: TxOut) -> Outcome:
    witness = tx.inputs[0].witness
    if len(witness) != 2:
        raise InvalidInput(f"a P2WPKH witness holds 2 items (signature, public key), found "
                           f"{len(witness)}", field="signature")
    signature, public_key = witness
    if len(public_key) != 33 or public_key[0] not in (2, 3):
        raise InvalidInput("the witness public key must be 33-byte compressed "
                           "(WITNESS_PUBKEYTYPE)", field="signature")
    _check_ecdsa_encoding(signature)
    if hash160(public_key) != program:
        return False, "the witness public key does not belong to this address", ""
    return _ecdsa(signature, public_key, lambda hash_type: sighash_segwit_v0(
        tx, 0, p2pkh_script(program), spent.value, hash_type))


def _check_p2wpkh(info: AddressInfo, tx: Tx, spent: TxOut) -> Outcome:
    if tx.inputs[0].script_sig:
        raise InvalidInput("a native segwit spend must have an empty scriptSig",
                           field="signature")
    return _p2wpkh(info.program, tx, spent)


def _check_p2sh(info: AddressInfo, tx: Tx, spent: TxOut) -> Outcome:
    script_sig = tx.inputs[0].script_sig
    if len(script_sig) != 23 or script_sig[:3] != b"\x16\x00\x14":
        raise _unsupported("a P2SH proof other than P2SH-wrapped P2WPKH")
    redeem_script = script_sig[1:]
    if hash160(redeem_script) != info.program:
        return False, "the P2SH-P2WPKH redeem script does not belong to this address", ""
    return _p2wpkh(redeem_script[2:], tx, spent)


def _check_p2tr(info: AddressInfo, tx: Tx, spent: TxOut) -> Outcome:
    stack = tx.inputs[0].witness
    annex = None
    if len(stack) >= 2 and stack[-1][:1] == bytes([_ANNEX_TAG]):
        annex, stack = stack[-1], stack[:-1]
    if len(stack) != 1:
        raise _unsupported("a taproot script-path spend")
    signature = stack[0]
    if len(signature) == 64:
        hash_type = SIGHASH_DEFAULT
    elif len(signature) == 65 and signature[64] == SIGHASH_ALL:
        hash_type = SIGHASH_ALL
    elif len(signature) == 65:
        raise InvalidInput(f"Schnorr signature with sighash type 0x{signature[64]:02x}: "
                           "BIP-322 allows SIGHASH_DEFAULT (64 bytes) or SIGHASH_ALL",
                           field="signature")
    else:
        raise InvalidInput(f"a Schnorr signature is 64 or 65 bytes, found {len(signature)}",
                           field="signature")
    digest = sighash_taproot(tx, 0, (spent,), hash_type, annex)
    key = info.program.hex()
    if verify_schnorr(info.program, signature[:64], digest):
        return True, "signature verifies for this address and message", key
    return False, "signature does not verify for this address and message", key


def _check_p2pkh(info: AddressInfo, tx: Tx, spent: TxOut) -> Outcome:
    if tx.inputs[0].witness:
        raise InvalidInput("a P2PKH spend must have an empty witness", field="signature")
    pushes = _pushes(tx.inputs[0].script_sig)
    if len(pushes) != 2:
        raise InvalidInput(f"a P2PKH scriptSig pushes a signature and a public key, found "
                           f"{len(pushes)} pushes", field="signature")
    signature, public_key = pushes
    if not (len(public_key) == 33 and public_key[0] in (2, 3)) and not (
            len(public_key) == 65 and public_key[0] == 4):
        raise InvalidInput("the public key is not a SEC1 key (STRICTENC)", field="signature")
    _check_ecdsa_encoding(signature)
    if hash160(public_key) != info.program:
        return False, "the public key in the scriptSig does not belong to this address", ""
    return _ecdsa(signature, public_key, lambda hash_type: sighash_legacy(
        tx, 0, spent.script_pubkey, hash_type))


_CHECKS: dict[AddressKind, Callable[[AddressInfo, Tx, TxOut], Outcome]] = {
    AddressKind.P2WPKH: _check_p2wpkh,
    AddressKind.P2SH: _check_p2sh,
    AddressKind.P2TR: _check_p2tr,
    AddressKind.P2PKH: _check_p2pkh,
}


def _check(info: AddressInfo, tx: Tx, spend: Tx) -> Outcome:
    check = _CHECKS.get(info.kind)
    if check is None:
        raise _unsupported(f"a proof for a {info.kind} address")
    return check(info, tx, spend.outputs[0])


def verify_simple(info: AddressInfo, message: bytes, raw: bytes) -> ProofResult:
    """Check a simple signature: ``raw`` is the consensus-encoded witness stack."""
    if info.kind is AddressKind.P2PKH:
        raise InvalidInput("a P2PKH address has no witness, so no BIP-322 simple signature: "
                           "use the full format or a legacy message signature",
                           field="signature")
    witness = parse_witness(raw)
    script_sig = b""
    if info.kind is AddressKind.P2SH and len(witness) == 2 and len(witness[1]) == 33:
        # The simple format omits the scriptSig; for P2SH-P2WPKH it is implied by the key.
        script_sig = _push(b"\x00\x14" + hash160(witness[1]))
    spend = to_spend(message, info.script_pubkey)
    valid, reason, signer = _check(info, to_sign(spend, witness, script_sig), spend)
    return ProofResult(valid, ProofScheme.BIP322_SIMPLE, reason, info, signer)


def verify_full(info: AddressInfo, message: bytes, raw: bytes) -> ProofResult:
    """Check a full signature: ``raw`` is the signed ``to_sign`` transaction.

    A ``to_sign`` that spends another ``to_spend`` (another message or address) is a valid
    transaction that proves nothing here: ``valid=False``. A non-zero lock time or sequence
    is allowed (the proof is then valid only from that time/age) and stated in ``reason``.
    """
    tx = parse_tx(raw)
    if tx.version not in (0, 2):
        raise InvalidInput(f"to_sign version {tx.version} (BIP-322 accepts 0 or 2; other "
                           "versions are inconclusive)", field="signature")
    if len(tx.inputs) != 1:
        raise _unsupported(f"a proof of funds ({len(tx.inputs) - 1} extra inputs, which need "
                           "the UTXO set)")
    if tx.outputs != (TxOut(0, OP_RETURN),):
        raise InvalidInput("to_sign must have exactly one output: value 0, script OP_RETURN",
                           field="signature")
    spend = to_spend(message, info.script_pubkey)
    first = tx.inputs[0]
    if first.prev_txid != txid(spend) or first.prev_index != 0:
        return ProofResult(False, ProofScheme.BIP322_FULL, "to_sign does not spend the "
                           "to_spend of this message and address (signed for another message "
                           "or address)", info)
    valid, reason, signer = _check(info, tx, spend)
    if valid and (tx.lock_time or first.sequence):
        reason += (f"; valid only from nLockTime {tx.lock_time} and nSequence "
                   f"{first.sequence}")
    return ProofResult(valid, ProofScheme.BIP322_FULL, reason, info, signer)
