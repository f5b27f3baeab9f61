"""Address and transaction-id checks against the official vectors of BIP-173, BIP-350, EIP-55.

Vector sources (copied verbatim from the specification texts):
* BIP-173 "Test vectors" appendix, https://github.com/bitcoin/bips/blob/master/bip-0173.mediawiki
* BIP-350 "Test vectors", https://github.com/bitcoin/bips/blob/master/bip-0350.mediawiki
* EIP-55 (ERC-55) test cases, https://eips.ethereum.org/EIPS/eip-55
* base58check: the genesis-block P2PKH address, the BIP-13/16 era P2SH example used by the
  Bitcoin wiki and Bitcoin Core's key_io tests, and Core's ``rpc_signmessage.py`` testnet key.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qoima.custody import bech32
from qoima.custody.addresses import (
    AddressKind,
    Chain,
    Network,
    eip55,
    validate_address,
    validate_txid,
)
from qoima.domain.errors import InvalidInput

# --- bech32 / bech32m strings (BIP-173, BIP-350) --------------------------------------------

VALID_BECH32 = [
    "A12UEL5L",
    "a12uel5l",
    "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
    "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
    "11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqc8247j",
    "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
    "?1ezyfcl",
]
VALID_BECH32M = [
    "A1LQFN3A",
    "a1lqfn3a",
    "an83characterlonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11sg7hg6",
    "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",
    "11llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllludsr8",
    "split1checkupstagehandshakeupstreamerranterredcaperredlc445v",
    "?1v759aa",
]
# (string, words of the reason we give) -- BIP-173 then BIP-350 invalid strings.
INVALID_BECH32 = [
    ("\x201nwldj5", "out of range"),
    ("\x7f1axkwrx", "out of range"),
    ("\x801eym55h", "out of range"),
    ("an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio"
     "1569pvx", "more than the maximum 90"),
    ("pzry9x0s0muk", "no separator"),
    ("1pzry9x0s0muk", "empty human-readable part"),
    ("x1b4n0q5v", "invalid character 'b' in the data part"),
    ("li1dgmt3", "checksum too short"),
    ("de1lg7wt\xff", "out of range"),
    ("A1G7SGD8", "checksum does not match"),
    ("10a06t8", "empty human-readable part"),
    ("1qzzfhee", "empty human-readable part"),
    ("\x201xj0phk", "out of range"),
    ("\x7f1g6xzxy", "out of range"),
    ("\x801vctc34", "out of range"),
    ("an84characterslonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber"
     "11d6pts4", "more than the maximum 90"),
    ("qyrz8wqd2c9m", "no separator"),
    ("1qyrz8wqd2c9m", "empty human-readable part"),
    ("y1b0jsk6g", "invalid character 'b' in the data part"),
    ("lt1igcx5c0", "invalid character 'i' in the data part"),
    ("in1muywd", "checksum too short"),
    ("mm1crxm3i", "invalid character 'i' in the checksum"),
    ("au1s5cgom", "invalid character 'o' in the checksum"),
    ("M1VUXWEZ", "checksum does not match"),
    ("16plkw9", "empty human-readable part"),
    ("1p2gdwpf", "empty human-readable part"),
]


@pytest.mark.parametrize("text", VALID_BECH32)
def test_bip173_valid_strings_decode_as_bech32(text: str) -> None:
    assert bech32.decode(text).encoding is bech32.Encoding.BECH32


@pytest.mark.parametrize("text", VALID_BECH32M)
def test_bip350_valid_strings_decode_as_bech32m(text: str) -> None:
    assert bech32.decode(text).encoding is bech32.Encoding.BECH32M


@pytest.mark.parametrize(("text", "reason"), INVALID_BECH32)
def test_invalid_strings_are_refused_with_their_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        bech32.decode(text)


# --- segwit addresses -----------------------------------------------------------------------

# BIP-350's valid list (it replaces BIP-173's, whose v1+ entries used bech32): address,
# scriptPubKey hex, expected kind.
VALID_SEGWIT = [
    ("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
     "0014751e76e8199196d454941c45d1b3a323f1433bd6", AddressKind.P2WPKH),
    ("tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
     "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262", AddressKind.P2WSH),
    ("bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
     "5128751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6",
     AddressKind.WITNESS_UNKNOWN),
    ("BC1SW50QGDZ25J", "6002751e", AddressKind.WITNESS_UNKNOWN),
    ("bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", "5210751e76e8199196d454941c45d1b3a323",
     AddressKind.WITNESS_UNKNOWN),
    ("tb1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesrxh6hy",
     "0020000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433", AddressKind.P2WSH),
    ("tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c",
     "5120000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433", AddressKind.P2TR),
    ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
     "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798", AddressKind.P2TR),
]


def _network(address: str) -> Network:
    return Network.TESTNET if address.lower().startswith("tb") else Network.MAINNET


@pytest.mark.parametrize(("address", "script_hex", "kind"), VALID_SEGWIT)
def test_bip350_valid_segwit_addresses(address: str, script_hex: str, kind: AddressKind) -> None:
    info = validate_address(Chain.BITCOIN, address, _network(address))
    assert info.script_pubkey.hex() == script_hex
    assert info.kind is kind
    assert info.normalized == address.lower()
    assert info.witness_version == int(script_hex[:2], 16) % 0x50
    assert info.program_hex == script_hex[4:]


# BIP-350's invalid list with its reasons, then BIP-173's (v0 and HRP cases).
INVALID_SEGWIT = [
    ("tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut",
     "wrong human-readable part 'tc'"),
    ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",
     r"bech32 checksum for witness version 1 \(bech32m expected, BIP-350\)"),
    ("tb1z0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqglt7rf",
     "bech32 checksum for witness version 2"),
    ("BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL",
     "bech32 checksum for witness version 16"),
    ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",
     r"bech32m checksum for witness version 0 \(bech32 expected"),
    ("tb1q0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq24jc47",
     "bech32m checksum for witness version 0"),
    ("bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4",
     "invalid character 'o' in the checksum"),
    ("BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R",
     "invalid witness version 17"),
    ("bc1pw5dgrnzv", "invalid witness program length 1 bytes"),
    ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav",
     "invalid witness program length 41 bytes"),
    ("BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P", "16 bytes for witness version 0"),
    ("tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq", "mixes upper and lower"),
    ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf",
     "more than 4 bits of zero padding"),
    ("tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vpggkg4j", "non-zero padding"),
    ("bc1gmk9yu", "empty data section"),
    ("tc1qw508d6qejxtdg4y5r3zarvary0c5xw7kg3g4ty", "wrong human-readable part 'tc'"),
    ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", "checksum does not match"),
    ("BC13W508D6QEJXTDG4Y5R3ZARVARY0C5XW7KN40WF2", "invalid witness version 17"),
    ("bc1rw5uspcuh", "invalid witness program length 1 bytes"),
    ("bc10w508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kw5rljs90",
     "invalid witness program length 41 bytes"),
    ("tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sL5k7", "mixes upper and lower"),
    ("bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du", "more than 4 bits of zero padding"),
    ("tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3pjxtptv", "non-zero padding"),
]


@pytest.mark.parametrize(("address", "reason"), INVALID_SEGWIT)
def test_invalid_segwit_addresses_are_refused_with_their_reason(address: str,
                                                                reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason) as caught:
        validate_address(Chain.BITCOIN, address, _network(address))
    assert caught.value.field == "address"


@pytest.mark.parametrize("address", [
    # BIP-173's own v1+ examples were encoded with bech32: BIP-350 makes them invalid.
    "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7k7grplx",
    "BC1SW50QA3JX3S",
    "bc1zw508d6qejxtdg4y5r3zarvaryvg6kdaj",
])
def test_bip173_v1_plus_vectors_now_need_bech32m(address: str) -> None:
    with pytest.raises(InvalidInput, match="bech32m expected"):
        validate_address(Chain.BITCOIN, address)


def test_segwit_network_is_checked() -> None:
    testnet = "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7"
    with pytest.raises(InvalidInput, match=r"testnet/signet address .* on mainnet"):
        validate_address(Chain.BITCOIN, testnet)
    assert validate_address(Chain.BITCOIN, testnet, Network.SIGNET).network is Network.SIGNET
    with pytest.raises(InvalidInput, match=r"mainnet address .* on regtest .* 'bcrt'"):
        validate_address(Chain.BITCOIN, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
                         Network.REGTEST)
    regtest = "bcrt1q9vza2e8x573nczrlzms0wvx3gsqjx7vay85cr9"
    assert validate_address(Chain.BITCOIN, regtest, "regtest").kind is AddressKind.P2WPKH


# --- base58check ----------------------------------------------------------------------------

def test_base58check_mainnet_and_testnet_addresses() -> None:
    genesis = validate_address(Chain.BITCOIN, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")
    assert genesis.kind is AddressKind.P2PKH
    assert genesis.program_hex == "62e907b15cbf27d5425399ebf6f0fb50ebb88f18"
    assert genesis.script_pubkey.hex() == "76a91462e907b15cbf27d5425399ebf6f0fb50ebb88f1888ac"
    p2sh = validate_address(Chain.BITCOIN, "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy")
    assert p2sh.kind is AddressKind.P2SH
    assert p2sh.script_pubkey.hex() == "a914b472a266d0bd89c13706a4132ccfb16f7c3b9fcb87"
    core = validate_address(Chain.BITCOIN, "mpLQjfK79b7CCV4VMJWEWAj5Mpx8Up5zxB", "testnet")
    assert core.kind is AddressKind.P2PKH
    testnet_p2sh = validate_address(Chain.BITCOIN, "2MyQBsrfRnTLwEdpjVVYNWHDB8LXLJUcub9",
                                    Network.REGTEST)
    assert testnet_p2sh.kind is AddressKind.P2SH


@pytest.mark.parametrize(("address", "network", "reason"), [
    ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", "mainnet", "base58check checksum does not match"),
    ("1A1zP1eP5QGefi2DMPTfTL5SLmv7Div0Na", "mainnet",
     "bad base58 character '0' at position 31"),
    ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNaI", "mainnet", "bad base58 character 'I'"),
    ("mpLQjfK79b7CCV4VMJWEWAj5Mpx8Up5zxB", "mainnet",
     "testnet/signet/regtest address on mainnet"),
    ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "testnet", "mainnet address on testnet"),
    ("1A1zP1eP5QGefi2DMPTfTL5SLmv7Dive", "mainnet", "payload is 24 bytes, expected 25"),
    # version 0x30: a Litecoin P2PKH address, well-formed base58check
    ("LVg2kJoFNg45Nbpy53h7Fe1wKyeXVRhMH9", "mainnet", "unknown version byte 0x30"),
])
def test_base58_refusals_name_the_fault(address: str, network: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        validate_address(Chain.BITCOIN, address, network)


@pytest.mark.parametrize(("chain", "address", "network", "reason"), [
    ("bitcoin", "", "mainnet", "empty"),
    ("bitcoin", " 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "mainnet", "whitespace"),
    ("dogecoin", "x", "mainnet", "unknown chain 'dogecoin'"),
    ("bitcoin", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "moonnet", "unknown network"),
])
def test_bad_arguments(chain: str, address: str, network: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        validate_address(chain, address, network)


# --- Ethereum (EIP-55) ------------------------------------------------------------------------

EIP55_ALL_CAPS = ["0x52908400098527886E0F7030069857D2E4169EE7",
                  "0x8617E340B3D01FA5F11F306F4090FD50E238070D"]
EIP55_ALL_LOWER = ["0xde709f2102306220921060314715629080e2fb77",
                   "0x27b1fdb04752bbc536007a920d24acb045561c26"]
EIP55_NORMAL = ["0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
                "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
                "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
                "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb"]


@pytest.mark.parametrize("address", EIP55_ALL_CAPS + EIP55_ALL_LOWER + EIP55_NORMAL)
def test_eip55_vectors_are_their_own_checksum_encoding(address: str) -> None:
    info = validate_address(Chain.ETHEREUM, address)
    assert info.normalized == address
    assert info.checksummed
    assert info.kind is AddressKind.EOA
    assert eip55(bytes.fromhex(address[2:])) == address


@pytest.mark.parametrize("address", EIP55_NORMAL)
def test_unchecksummed_forms_are_accepted_and_flagged(address: str) -> None:
    for variant in ("0x" + address[2:].lower(), "0x" + address[2:].upper()):
        info = validate_address(Chain.ETHEREUM, variant)
        assert info.normalized == address
        assert not info.checksummed


@pytest.mark.parametrize(("address", "reason"), [
    ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD",
     "EIP-55 checksum mismatch .*0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"),
    ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA", "38 hex digits after '0x', expected 40"),
    ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAedaa", "42 hex digits"),
    ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg", "non-hex character 'g' at position 41"),
    ("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "starts with '0x'"),
])
def test_ethereum_refusals_name_the_fault(address: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        validate_address(Chain.ETHEREUM, address)


# --- transaction ids ----------------------------------------------------------------------

GENESIS_COINBASE = "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"


def test_txids_are_normalized_to_lower_case() -> None:
    assert validate_txid(Chain.BITCOIN, GENESIS_COINBASE.upper()) == GENESIS_COINBASE
    assert validate_txid("ethereum", "0x" + "AB" * 32) == "0x" + "ab" * 32


@pytest.mark.parametrize(("chain", "txid", "reason"), [
    ("bitcoin", "0x" + GENESIS_COINBASE, "without '0x'"),
    ("bitcoin", GENESIS_COINBASE[:-1], "63 hex digits, expected 64"),
    ("bitcoin", GENESIS_COINBASE[:-1] + "z", "non-hex character 'z' at position 63"),
    ("ethereum", GENESIS_COINBASE, "'0x' and 64 hex digits"),
    ("ethereum", "0x" + GENESIS_COINBASE + "00", "66 hex digits"),
    ("bitcoin", "", "empty"),
])
def test_bad_txids(chain: str, txid: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason) as caught:
        validate_txid(chain, txid)
    assert caught.value.field == "txid"


# --- properties ---------------------------------------------------------------------------

_HRP = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=10)


@given(_HRP, st.lists(st.integers(0, 31), max_size=60), st.sampled_from(bech32.Encoding))
def test_encode_of_decode_is_identity(hrp: str, words: list[int],
                                      encoding: bech32.Encoding) -> None:
    text = bech32.encode(hrp, words, encoding)
    decoded = bech32.decode(text)
    assert (decoded.hrp, list(decoded.data), decoded.encoding) == (hrp, words, encoding)
    assert bech32.encode(decoded.hrp, decoded.data, decoded.encoding) == text
    assert bech32.decode(text.upper()) == decoded


@st.composite
def _segwit(draw: st.DrawFn) -> tuple[int, bytes]:
    version = draw(st.integers(0, 16))
    length = draw(st.sampled_from([20, 32]) if version == 0 else st.integers(2, 40))
    return version, draw(st.binary(min_size=length, max_size=length))


@given(_segwit(), st.sampled_from(Network), st.booleans())
def test_normalize_is_idempotent_for_segwit(witness: tuple[int, bytes], network: Network,
                                            upper: bool) -> None:
    version, program = witness
    encoding = bech32.Encoding.BECH32 if version == 0 else bech32.Encoding.BECH32M
    hrp = {"mainnet": "bc", "testnet": "tb", "signet": "tb", "regtest": "bcrt"}[network]
    address = bech32.encode(hrp, [version, *bech32.to_words(program)], encoding)
    info = validate_address(Chain.BITCOIN, address.upper() if upper else address, network)
    assert (info.witness_version, info.program) == (version, program)
    assert info.normalized == address
    assert validate_address(Chain.BITCOIN, info.normalized, network) == info


@given(st.binary(min_size=20, max_size=20))
def test_normalize_is_idempotent_for_ethereum(account: bytes) -> None:
    info = validate_address(Chain.ETHEREUM, "0x" + account.hex())
    again = validate_address(Chain.ETHEREUM, info.normalized)
    assert again.normalized == info.normalized
    assert again.checksummed
    assert again.program == account
