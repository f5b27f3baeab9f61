"""Proof of control against the official vectors of BIP-322, Bitcoin Core and eth-account.

Vector sources:
* BIP-322 "Test vectors" (message hashes, to_spend/to_sign ids, the P2WPKH simple
  signatures of bc1q9vza2e8x573nczrlzms0wvx3gsqjx7vavgkx0l, key
  L3VFeEujGtevx9w18HD1fhRbCH67Az2dpCymeRE1SoPK6XQtaN2k),
  https://github.com/bitcoin/bips/blob/master/bip-0322.mediawiki
* The P2TR (SIGHASH_ALL) vector of the same key, and the negative vectors (wrong address,
  "malformed address" signature, wrong taproot message): Bitcoin Core BIP-322 branch
  src/test/util_tests.cpp (luke-jr/bitcoin 9ab7b8a), as also used by btcd's bip322 tests.
* P2TR SIGHASH_DEFAULT (Leather wallet) and P2SH-P2WPKH (bip322-js test/Verifier.test.ts)
  signatures, as collected in bitonicnl/verify-signed-message's bip322 tests.
* Legacy signmessage: Bitcoin Core test/functional/rpc_signmessage.py (key, address,
  message, expected signature).
* EIP-191: the eth-account / web3.py documentation example ("I♥SF" signed by
  0x5ce9454909639D2D17A3F753ce7d93fa0b9aB12E, message hash 0x1476abb7...).
"""

from __future__ import annotations

import base64
from datetime import date

import base58
import pytest
from coincurve import PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from qoima.custody import bech32, bip322
from qoima.custody.addresses import Chain, Network, eip55, validate_address
from qoima.custody.bitcoin_tx import (
    Tx,
    TxIn,
    parse_witness,
    serialize,
    serialize_witness,
    sighash_legacy,
    sighash_segwit_v0,
    sighash_taproot,
    txid,
)
from qoima.custody.hashes import hash160, keccak256
from qoima.custody.proofs import (
    Challenge,
    ProofScheme,
    challenge_message,
    verify_proof,
)
from qoima.custody.proofs_bitcoin import legacy_message_hash
from qoima.custody.proofs_ethereum import account_of, personal_message_hash
from qoima.custody.signatures import CURVE_ORDER, parse_der
from qoima.domain.errors import InvalidInput

P2WPKH = "bc1q9vza2e8x573nczrlzms0wvx3gsqjx7vavgkx0l"
P2TR = "bc1ppv609nr0vr25u07u95waq5lucwfm6tde4nydujnu8npg4q75mr5sxq8lt3"
SIG_EMPTY = ("AkcwRAIgM2gBAQqvZX15ZiysmKmQpDrG83avLIT492QBzLnQIxYCIBaTpOaD20qRlEylyxFSeEA2ba9Y"
             "OixpX8z46TSDtS40ASECx/EgAxlkQpQ9hYjgGu6EBCPMVPwVIVJqO4XCsMvViHI=")
SIG_EMPTY_ALT = ("AkgwRQIhAPkJ1Q4oYS0htvyuSFHLxRQpFAY56b70UvE7Dxazen0ZAiAtZfFz1S6T6I23MWI2lK/pcNTW"
                 "ncuyL8UL+oMdydVgzAEhAsfxIAMZZEKUPYWI4BruhAQjzFT8FSFSajuFwrDL1Yhy")
SIG_HELLO = ("AkcwRAIgZRfIY3p7/DoVTty6YZbWS71bc5Vct9p9Fia83eRmw2QCICK/ENGfwLtptFluMGs2KsqoNSk8"
             "9pO7F29zJLUx9a/sASECx/EgAxlkQpQ9hYjgGu6EBCPMVPwVIVJqO4XCsMvViHI=")
SIG_HELLO_ALT = ("AkgwRQIhAOzyynlqt93lOKJr+wmmxIens//zPzl9tqIOua93wO6MAiBi5n5EyAcPScOjf1lAqIUIQtr3"
                 "zKNeavYabHyR8eGhowEhAsfxIAMZZEKUPYWI4BruhAQjzFT8FSFSajuFwrDL1Yhy")
SIG_P2TR = ("AUHd69PrJQEv+oKTfZ8l+WROBHuy9HKrbFCJu7U1iK2iiEy1vMU5EfMtjc+VSHM7aU0SDbak5IUZRVno"
            "2P5mjSafAQ==")

CORE_ADDRESS = "mpLQjfK79b7CCV4VMJWEWAj5Mpx8Up5zxB"
CORE_WIF = "cUeKHd5orzT3mz8P9pxyREHfsWtVfgsfDjiZZBcjUBAaGk1BTj7N"
CORE_MESSAGE = "This is just a test message"
CORE_SIGNATURE = ("INbVnW4e6PeRmsv2Qgu8NuopvrVjkcxob+sX8OcZG0SALhWybUjzMLPdAsXI46YZGb0KQTRii+wWIQzR"
                  "pG/U+S0=")

ETH_KEY = bytes.fromhex("b25c7db31feed9122727bf0939dc769a96564b2de4c4726d035b36ecf1e5b364")
ETH_ADDRESS = "0x5ce9454909639D2D17A3F753ce7d93fa0b9aB12E"
ETH_MESSAGE = "I♥SF"
ETH_SIGNATURE = ("0xe6ca9bba58c88611fad66a6ce8f996908195593807c4b38bd528d2cff09d4eb33e5bfbbf4d3e39"
                 "b1a2fd816a7680c19ebebaf3a141b239934ad43cb33fcec8ce1c")


# --- helpers: DER encoding and signing with fresh keys (coincurve) ---------------------------

def _der_int(value: int) -> bytes:
    body = value.to_bytes((value.bit_length() + 8) // 8, "big")
    return b"\x02" + bytes([len(body)]) + body


def _der(r: int, s: int) -> bytes:
    body = _der_int(r) + _der_int(s)
    return b"\x30" + bytes([len(body)]) + body


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _high_s_witness(signature_b64: str) -> str:
    """The same P2WPKH witness with s replaced by n - s (a malleated, non-canonical copy)."""
    sig, key = parse_witness(base64.b64decode(signature_b64))
    r, s = parse_der(sig[:-1])
    return _b64(serialize_witness((_der(r, CURVE_ORDER - s) + sig[-1:], key)))


def _p2wpkh_address(key: PrivateKey) -> str:
    program = hash160(key.public_key.format())
    return bech32.encode("bc", [0, *bech32.to_words(program)], bech32.Encoding.BECH32)


def _p2tr_address(key: PrivateKey) -> str:
    xonly = key.public_key.format()[1:]
    return bech32.encode("bc", [1, *bech32.to_words(xonly)], bech32.Encoding.BECH32M)


def _sign_p2wpkh(key: PrivateKey, address: str, message: str) -> bytes:
    info = validate_address(Chain.BITCOIN, address)
    spend = bip322.to_spend(message.encode(), info.script_pubkey)
    unsigned = bip322.to_sign(spend)
    digest = sighash_segwit_v0(unsigned, 0, b"\x76\xa9\x14" + info.program + b"\x88\xac", 0, 1)
    return serialize_witness((key.sign(digest, hasher=None) + b"\x01", key.public_key.format()))


def _sign_p2tr(key: PrivateKey, address: str, message: str, hash_type: int) -> bytes:
    info = validate_address(Chain.BITCOIN, address)
    spend = bip322.to_spend(message.encode(), info.script_pubkey)
    digest = sighash_taproot(bip322.to_sign(spend), 0, spend.outputs, hash_type)
    signature = key.sign_schnorr(digest, b"\x00" * 32)
    return serialize_witness((signature + (bytes([hash_type]) if hash_type else b""),))


def _full(address: str, message: str, witness_b64: str) -> str:
    """The full-format signature carrying the given simple one (same to_sign, serialized)."""
    info = validate_address(Chain.BITCOIN, address)
    spend = bip322.to_spend(message.encode(), info.script_pubkey)
    witness = parse_witness(base64.b64decode(witness_b64))
    return _b64(serialize(bip322.to_sign(spend, witness)))


# --- BIP-322 official vectors -----------------------------------------------------------------

def test_bip322_message_hashes() -> None:
    assert bip322.message_hash(b"").hex() == (
        "c90c269c4f8fcbe6880f72a721ddfbf1914268a794cbb21cfafee13770ae19f1")
    assert bip322.message_hash(b"Hello World").hex() == (
        "f0eb03b1a75ac6d9847f55c624a99169b5dccba2a31f5b23bea77ba270de0a7a")


@pytest.mark.parametrize(("message", "to_spend_id", "to_sign_id"), [
    ("", "c5680aa69bb8d860bf82d4e9cd3504b55dde018de765a91bb566283c545a99a7",
     "1e9654e951a5ba44c8604c4de6c67fd78a27e81dcadcfe1edf638ba3aaebaed6"),
    ("Hello World", "b79d196740ad5217771c1098fc4a4b51e0535c32236c71f1ea4d61a2d603352b",
     "88737ae86f2077145f93cc4b153ae9a1cb8d56afa511988c149c5c8c9d93bddf"),
])
def test_bip322_transaction_ids(message: str, to_spend_id: str, to_sign_id: str) -> None:
    info = validate_address(Chain.BITCOIN, P2WPKH)
    spend = bip322.to_spend(message.encode(), info.script_pubkey)
    assert txid(spend)[::-1].hex() == to_spend_id
    assert txid(bip322.to_sign(spend))[::-1].hex() == to_sign_id


@pytest.mark.parametrize(("address", "message", "signature"), [
    (P2WPKH, "", SIG_EMPTY),
    (P2WPKH, "", SIG_EMPTY_ALT),
    (P2WPKH, "Hello World", SIG_HELLO),
    (P2WPKH, "Hello World", SIG_HELLO_ALT),
    (P2TR, "Hello World", SIG_P2TR),
    # P2TR with SIGHASH_DEFAULT (64-byte Schnorr signature), Leather wallet
    ("bc1pgc9k3vdmr9aecmwj09qg5qv550qyyrydufyfmxrsvk5474rxenuqrq4lcz", "hello",
     "AUBuPt7wX3zcAaMs7F/oGXPROspWWIvBh/GqjTQ6uPq8sUPxSIqGGaz8z4yuEoYRzXwaAeXBucxjlygiR02zvX2L"),
    # P2SH-P2WPKH, bip322-js (with the trailing newline it was published with)
    ("3HSVzEhCFuH9Z3wvoWTexy7BMVVp3PjS6f", "Hello World",
     "AkgwRQIhAMd2wZSY3x0V9Kr/NClochoTXcgDaGl3OObOR17yx3QQAiBVWxqNSS+CKen7bmJTG6YfJjsggQ4Fa2RH"
     "KgBKrdQQ+gEhAxa5UDdQCHSQHfKQv14ybcYm1C9y6b12xAuukWzSnS+w\n"),
])
def test_bip322_simple_vectors_verify(address: str, message: str, signature: str) -> None:
    result = verify_proof(Chain.BITCOIN, address, message, signature)
    assert result.valid, result.reason
    assert result.scheme is ProofScheme.BIP322_SIMPLE


def test_bip322_signer_is_reported() -> None:
    result = verify_proof(Chain.BITCOIN, P2WPKH, "", SIG_EMPTY)
    assert hash160(bytes.fromhex(result.signer)) == result.address_info.program
    taproot = verify_proof(Chain.BITCOIN, P2TR, "Hello World", SIG_P2TR)
    assert taproot.signer == taproot.address_info.program_hex


@pytest.mark.parametrize(("address", "message", "signature"), [
    (P2WPKH, "", SIG_EMPTY),
    (P2WPKH, "Hello World", SIG_HELLO),
    (P2TR, "Hello World", SIG_P2TR),
])
def test_bip322_full_format_of_the_vectors_verifies(address: str, message: str,
                                                    signature: str) -> None:
    result = verify_proof(Chain.BITCOIN, address, message, _full(address, message, signature))
    assert result.valid, result.reason
    assert result.scheme is ProofScheme.BIP322_FULL


@pytest.mark.parametrize(("address", "message", "signature"), [
    ("bc1qkecg9ly2xwxqgdy9egpuy87qc9x26smpts562s", "", SIG_EMPTY),  # wrong address
    (P2WPKH, "", "AkcwRAIgClVQ8S9yX1h8YThlGElD9lOrQbOwbFDjkYb0ebfiq+oCIDHgb/X9WNalNNtqTXb465ufbv9J"
     "uLxcJf8qi7DP6yOXASECx/EgAxlkQpQ9hYjgGu6EBCPMVPwVIVJqO4XCsMvViHI="),  # signs other hash
    (P2WPKH, "Hello World", SIG_EMPTY),  # wrong message
    (P2TR, "Hello World - This should fail", SIG_P2TR),  # wrong message
])
def test_bip322_negative_vectors_are_invalid(address: str, message: str, signature: str) -> None:
    result = verify_proof(Chain.BITCOIN, address, message, signature)
    assert not result.valid
    assert result.reason


def test_full_format_for_another_message_is_invalid() -> None:
    full = _full(P2WPKH, "", SIG_EMPTY)
    result = verify_proof(Chain.BITCOIN, P2WPKH, "Hello World", full)
    assert not result.valid
    assert "another message or address" in result.reason


def test_flipped_bit_is_invalid() -> None:
    raw = bytearray(base64.b64decode(SIG_HELLO))
    raw[10] ^= 0x01  # inside r: still strict DER, no longer a signature of this hash
    assert not verify_proof(Chain.BITCOIN, P2WPKH, "Hello World", _b64(bytes(raw))).valid
    raw = bytearray(base64.b64decode(SIG_P2TR))
    raw[5] ^= 0x80
    assert not verify_proof(Chain.BITCOIN, P2TR, "Hello World", _b64(bytes(raw))).valid


def test_high_s_copy_of_a_valid_signature_is_refused() -> None:
    malleated = _high_s_witness(SIG_HELLO)
    with pytest.raises(InvalidInput, match="high-S"):
        verify_proof(Chain.BITCOIN, P2WPKH, "Hello World", malleated)


@pytest.mark.parametrize(("address", "signature", "reason"), [
    (P2WPKH, "not base64!", "not valid base64"),
    (P2WPKH, "", "empty"),
    (P2WPKH, SIG_HELLO[:-9], "not valid base64"),
    (P2WPKH, SIG_HELLO[:-8], "truncated"),
    (P2WPKH, _b64(base64.b64decode(SIG_HELLO)[:-3]), "truncated"),
    (P2WPKH, _b64(base64.b64decode(SIG_HELLO) + b"\x00"), "trailing"),
    (P2TR, _b64(b"\x01\x3f" + b"\x11" * 63), "64 or 65 bytes"),
    (P2TR, _b64(b"\x01\x41" + base64.b64decode(SIG_P2TR)[2:-1] + b"\x83"),
     "sighash type 0x83"),
    (P2WPKH, _b64(serialize_witness((b"\x30\x01\x01\x01", b"\x02" + b"\x00" * 32))),
     "DER signature of 3 bytes"),
])
def test_malformed_bitcoin_signatures_raise(address: str, signature: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason) as caught:
        verify_proof(Chain.BITCOIN, address, "Hello World", signature)
    assert caught.value.field == "signature"


@pytest.mark.parametrize(("address", "signature", "reason"), [
    # P2WSH 3-of-3 multisig (Core BIP-322 branch): a script we do not interpret
    ("bc1qlqtuzpmazp2xmcutlwv0qvggdvem8vahkc333usey4gskug8nutsz53msw",
     "BQBIMEUCIQDQoXvGKLH58exuujBOta+7+GN7vi0lKwiQxzBpuNuXuAIgIE0XYQlFDOfxbegGYYzlf+tqegleAKE6"
     "SXYIa1U+uCcBRzBEAiATegywVl6GWrG9jJuPpNwtgHKyVYCX2yfuSSDRFATAaQIgTLlU6reLQsSIrQSF21z3PtUO"
     "2yAUseUWGZqRUIE7VKoBSDBFAiEAgxtpidsU0Z4u/+5RB9cyeQtoCW5NcreLJmWXZ8kXCZMCIBR1sXoEinhZE4CF"
     "9P9STGIcMvCuZjY6F5F0XTVLj9SjAWlTIQP3dyWvTZjUENWJowMWBsQrrXCUs20Gu5YF79CG5Ga0XSEDwqI5GVBO"
     "uFkFzQOGH5eTExSAj2Z/LDV/hbcvAPQdlJMhA17FuuJd+4wGuj+ZbVxEsFapTKAOwyhfw9qpch52JKxbU64=",
     "inconclusive"),
    # P2SH 2-of-3 multisig, full format (Core BIP-322 branch)
    ("3LnYoUkFrhyYP3V7rq3mhpwALz1XbCY9Uq",
     "AAAAAAHNcfHaNfl8f/+ZC2gTr8aF+0KgppYjKM94egaNm/u1ZAAAAAD8AEcwRAIhAJ6hdj61vLDP+aFa30qUZQmr"
     "bBfE0kiOObYvt5nqPSxsAh9IrOKFwflfPRUcQ/5e0REkdFHVP2GGdUsMgDet+sNlAUcwRAIgH3eW/VyFDoXvCasd"
     "8qxgwj5NDVo0weXvM6qyGXLCR5YCIEwjbEV6fS6RWP6QsKOcMwvlGr1/SgdCC6pW4eH87/YgAUxpUiECKJfGy28i"
     "mLcuAeNBLHCNv3NRP5jnJwFDNRXCYNY/vJ4hAv1RQtaZs7+vKqQeWl2rb/jd/gMxkEjUnjZdDGPDZkMLIQL65cH2"
     "X5O7LujjTLDL2l8Pxy0Y2UUR99u1qCfjdz7dklOuAAAAAAEAAAAAAAAAAAFqAAAAAA==",
     "other than P2SH-wrapped P2WPKH"),
    (P2TR, _b64(serialize_witness((b"\x11" * 64, b"\x51", b"\xc0" + b"\x22" * 32))),
     "script-path"),
])
def test_scripts_without_an_interpreter_are_refused_as_inconclusive(
        address: str, signature: str, reason: str) -> None:
    kind = "p2sh 2-of-3" if address.startswith("3") else "p2wsh 3-of-3"
    message = f"This will be a {kind} multisig BIP 322 signed message"
    with pytest.raises(InvalidInput, match=reason):
        verify_proof(Chain.BITCOIN, address, message, signature)


# --- fresh keys: round trips over messages ---------------------------------------------------

_SECRETS = st.integers(1, CURVE_ORDER - 1).map(lambda n: PrivateKey(n.to_bytes(32, "big")))
_MESSAGES = st.text(max_size=200)


@settings(max_examples=25, deadline=None)
@given(_SECRETS, _MESSAGES)
def test_p2wpkh_round_trip_simple_and_full(key: PrivateKey, message: str) -> None:
    address = _p2wpkh_address(key)
    witness = _sign_p2wpkh(key, address, message)
    simple = verify_proof(Chain.BITCOIN, address, message, _b64(witness))
    assert simple.valid and simple.scheme is ProofScheme.BIP322_SIMPLE
    full = verify_proof(Chain.BITCOIN, address, message, _full(address, message, _b64(witness)))
    assert full.valid and full.scheme is ProofScheme.BIP322_FULL
    assert not verify_proof(Chain.BITCOIN, address, message + ".", _b64(witness)).valid


@settings(max_examples=25, deadline=None)
@given(_SECRETS, _MESSAGES, st.sampled_from([0x00, 0x01]))
def test_p2tr_round_trip(key: PrivateKey, message: str, hash_type: int) -> None:
    address = _p2tr_address(key)
    witness = _b64(_sign_p2tr(key, address, message, hash_type))
    assert verify_proof(Chain.BITCOIN, address, message, witness).valid
    assert not verify_proof(Chain.BITCOIN, address, message + ".", witness).valid


def test_p2pkh_full_format_round_trip() -> None:
    key = PrivateKey(b"\x07" * 32)
    address = base58.b58encode_check(b"\x00" + hash160(key.public_key.format())).decode()
    info = validate_address(Chain.BITCOIN, address)
    spend = bip322.to_spend(b"seized wallet 7", info.script_pubkey)
    unsigned = bip322.to_sign(spend)
    digest = sighash_legacy(unsigned, 0, info.script_pubkey, 1)
    sig = key.sign(digest, hasher=None) + b"\x01"
    pub = key.public_key.format()
    script_sig = bytes([len(sig)]) + sig + bytes([len(pub)]) + pub
    signed = Tx(0, (TxIn(txid(spend), 0, script_sig, 0),), unsigned.outputs, 0)
    result = verify_proof(Chain.BITCOIN, address, "seized wallet 7", _b64(serialize(signed)))
    assert result.valid and result.scheme is ProofScheme.BIP322_FULL
    assert not verify_proof(Chain.BITCOIN, address, "seized wallet 8",
                            _b64(serialize(signed))).valid
    with pytest.raises(InvalidInput, match="no witness"):
        verify_proof(Chain.BITCOIN, address, "m", _b64(serialize_witness((sig, pub))))


# --- legacy signmessage -----------------------------------------------------------------------

def _core_key() -> PrivateKey:
    return PrivateKey(base58.b58decode_check(CORE_WIF)[1:33])


def test_core_signmessage_vector_verifies_and_reproduces() -> None:
    result = verify_proof(Chain.BITCOIN, CORE_ADDRESS, CORE_MESSAGE, CORE_SIGNATURE,
                          Network.REGTEST)
    assert result.valid and result.scheme is ProofScheme.LEGACY_MESSAGE
    assert result.signer == _core_key().public_key.format().hex()
    # RFC 6979 signing with libsecp256k1 gives Core's exact bytes: the hash is right.
    sig = _core_key().sign_recoverable(legacy_message_hash(CORE_MESSAGE.encode()), hasher=None)
    assert _b64(bytes([31 + sig[64]]) + sig[:64]) == CORE_SIGNATURE


def test_legacy_negatives() -> None:
    assert not verify_proof(Chain.BITCOIN, CORE_ADDRESS, CORE_MESSAGE + "!", CORE_SIGNATURE,
                            Network.REGTEST).valid
    other = base58.b58encode_check(b"\x6f" + b"\x01" * 20).decode()
    assert not verify_proof(Chain.BITCOIN, other, CORE_MESSAGE, CORE_SIGNATURE,
                            Network.TESTNET).valid
    raw = base64.b64decode(CORE_SIGNATURE)
    r, s = int.from_bytes(raw[1:33], "big"), int.from_bytes(raw[33:], "big")
    flipped_header = bytes([raw[0] ^ 1]) + raw[1:]  # other recovery id: another key
    assert not verify_proof(Chain.BITCOIN, CORE_ADDRESS, CORE_MESSAGE, _b64(flipped_header),
                            Network.REGTEST).valid
    high_s = bytes([raw[0] ^ 1]) + r.to_bytes(32, "big") + (CURVE_ORDER - s).to_bytes(32, "big")
    with pytest.raises(InvalidInput, match="high-S"):
        verify_proof(Chain.BITCOIN, CORE_ADDRESS, CORE_MESSAGE, _b64(high_s), Network.REGTEST)
    with pytest.raises(InvalidInput, match="header byte 26"):
        verify_proof(Chain.BITCOIN, CORE_ADDRESS, CORE_MESSAGE, _b64(b"\x1a" + raw[1:]),
                     Network.REGTEST)
    uncompressed_header = bytes([raw[0] - 4]) + raw[1:]
    result = verify_proof(Chain.BITCOIN, CORE_ADDRESS, CORE_MESSAGE, _b64(uncompressed_header),
                          Network.REGTEST)
    assert not result.valid  # the uncompressed key hashes to another address


@pytest.mark.parametrize(("kind", "header_base"), [("p2wpkh", 39), ("p2wpkh", 31),
                                                   ("p2sh", 35), ("p2sh", 31)])
def test_legacy_segwit_header_conventions(kind: str, header_base: int) -> None:
    key = PrivateKey(b"\x2a" * 32)
    key_hash = hash160(key.public_key.format())
    if kind == "p2wpkh":
        address = _p2wpkh_address(key)
    else:
        address = base58.b58encode_check(b"\x05" + hash160(b"\x00\x14" + key_hash)).decode()
    sig = key.sign_recoverable(legacy_message_hash(b"custody"), hasher=None)
    signature = _b64(bytes([header_base + sig[64]]) + sig[:64])
    result = verify_proof(Chain.BITCOIN, address, "custody", signature)
    assert result.valid and result.scheme is ProofScheme.LEGACY_MESSAGE
    wrong_type = 35 if header_base == 39 else 39
    mismatch = verify_proof(Chain.BITCOIN, address, "custody",
                            _b64(bytes([wrong_type + sig[64]]) + sig[:64]))
    if header_base != 31:
        assert not mismatch.valid and "declares" in mismatch.reason


def test_legacy_cannot_prove_taproot() -> None:
    sig = _core_key().sign_recoverable(legacy_message_hash(b"x"), hasher=None)
    with pytest.raises(InvalidInput, match="cannot prove a p2tr"):
        verify_proof(Chain.BITCOIN, P2TR, "x", _b64(bytes([31 + sig[64]]) + sig[:64]))


@settings(max_examples=25, deadline=None)
@given(_SECRETS, _MESSAGES)
def test_legacy_round_trip(key: PrivateKey, message: str) -> None:
    address = base58.b58encode_check(b"\x00" + hash160(key.public_key.format())).decode()
    sig = key.sign_recoverable(legacy_message_hash(message.encode()), hasher=None)
    signature = _b64(bytes([31 + sig[64]]) + sig[:64])
    assert verify_proof(Chain.BITCOIN, address, message, signature).valid


# --- EIP-191 ----------------------------------------------------------------------------------

def test_eip191_documented_vector() -> None:
    assert personal_message_hash(ETH_MESSAGE.encode()).hex() == (
        "1476abb745d423bf09273f1afd887d951181d25adc66c4834a70491911b7f750")
    result = verify_proof(Chain.ETHEREUM, ETH_ADDRESS, ETH_MESSAGE, ETH_SIGNATURE)
    assert result.valid and result.scheme is ProofScheme.EIP191
    assert result.signer == ETH_ADDRESS
    # v as a raw recovery id (0/1) and a lower-case address are accepted too
    raw_v = ETH_SIGNATURE[:-2] + "01"
    assert verify_proof(Chain.ETHEREUM, ETH_ADDRESS.lower(), ETH_MESSAGE, raw_v).valid


def test_keccak_and_account_derivation() -> None:
    assert keccak256(b"").hex() == (
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")
    public = PrivateKey(ETH_KEY).public_key.format(compressed=False)
    assert eip55(account_of(public)) == ETH_ADDRESS


def test_eip191_negatives() -> None:
    wrong_message = verify_proof(Chain.ETHEREUM, ETH_ADDRESS, "I♥NY", ETH_SIGNATURE)
    assert not wrong_message.valid and "signed by 0x" in wrong_message.reason
    other = "0x" + "11" * 20
    assert not verify_proof(Chain.ETHEREUM, other, ETH_MESSAGE, ETH_SIGNATURE).valid
    raw = bytes.fromhex(ETH_SIGNATURE[2:])
    flipped = raw[:5] + bytes([raw[5] ^ 1]) + raw[6:]
    assert not verify_proof(Chain.ETHEREUM, ETH_ADDRESS, ETH_MESSAGE, flipped.hex()).valid
    s = int.from_bytes(raw[32:64], "big")
    high_s = raw[:32] + (CURVE_ORDER - s).to_bytes(32, "big") + bytes([55 - raw[64]])
    with pytest.raises(InvalidInput, match="high-S"):
        verify_proof(Chain.ETHEREUM, ETH_ADDRESS, ETH_MESSAGE, high_s.hex())


@pytest.mark.parametrize(("signature", "reason"), [
    (ETH_SIGNATURE[:-2], "130 hex digits"),
    (ETH_SIGNATURE[:-2] + "25", "bad recovery id v=37"),
    (ETH_SIGNATURE[:-1] + "g", "not hex"),
    ("0x" + "00" * 64 + "1b", "r is zero"),
])
def test_malformed_eip191_signatures_raise(signature: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        verify_proof(Chain.ETHEREUM, ETH_ADDRESS, ETH_MESSAGE, signature)


def test_eip191_checks_the_claimed_address_first() -> None:
    with pytest.raises(InvalidInput, match="EIP-55 checksum mismatch"):
        verify_proof(Chain.ETHEREUM, ETH_ADDRESS[:-1] + "e", ETH_MESSAGE, ETH_SIGNATURE)


@settings(max_examples=25, deadline=None)
@given(_SECRETS, _MESSAGES)
def test_eip191_round_trip(key: PrivateKey, message: str) -> None:
    address = eip55(account_of(key.public_key.format(compressed=False)))
    sig = key.sign_recoverable(personal_message_hash(message.encode()), hasher=None)
    signature = "0x" + (sig[:64] + bytes([27 + sig[64]])).hex()
    assert verify_proof(Chain.ETHEREUM, address, message, signature).valid
    assert not verify_proof(Chain.ETHEREUM, address, message + ".", signature).valid


# --- challenges -------------------------------------------------------------------------------

NONCE = "Xq3v9bTz0L1mPp7wKc2dRg"


def test_challenge_message_is_fixed_text() -> None:
    challenge = Challenge("KZ-2026-0042", Chain.BITCOIN,
                          "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", date(2026, 3, 1), NONCE)
    assert challenge.address == "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
    assert challenge_message(challenge) == (
        "qoima proof of control v1\n"
        "case: KZ-2026-0042\n"
        "chain: bitcoin mainnet\n"
        "address: bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4\n"
        "date: 2026-03-01\n"
        f"nonce: {NONCE}")


def test_signed_challenge_verifies() -> None:
    key = PrivateKey(ETH_KEY)
    challenge = Challenge("KZ-1", Chain.ETHEREUM, ETH_ADDRESS.lower(), date(2026, 3, 1), NONCE)
    assert challenge.address == ETH_ADDRESS
    text = challenge_message(challenge)
    sig = key.sign_recoverable(personal_message_hash(text.encode()), hasher=None)
    signature = (sig[:64] + bytes([27 + sig[64]])).hex()
    assert verify_proof(challenge.chain, challenge.address, text, signature).valid


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"nonce": "short"}, "nonce"),
    ({"nonce": "x" * 20 + "\n"}, "nonce"),
    ({"case_id": "KZ-1\naddress: 1evil"}, "case_id"),
    ({"case_id": ""}, "case_id"),
    ({"address": "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7"}, "address"),
    ({"issued_on": "2026-03-01"}, "issued_on"),
])
def test_bad_challenges_are_refused(kwargs: dict[str, object], field: str) -> None:
    fields: dict[str, object] = {"case_id": "KZ-1", "chain": Chain.BITCOIN,
                                 "address": P2WPKH, "issued_on": date(2026, 3, 1),
                                 "nonce": NONCE}
    fields.update(kwargs)
    with pytest.raises(InvalidInput) as caught:
        Challenge(**fields)  # type: ignore[arg-type]
    assert caught.value.field == field
