"""RFC 6962 Merkle trees: published test vectors, accumulator, inclusion proofs."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qoima.audit.merkle import (
    EMPTY_ROOT,
    MerkleAccumulator,
    inclusion_proof,
    leaf_hash,
    merkle_root,
    node_hash,
    verify_inclusion,
)

# RFC 6962 / certificate-transparency reference test vectors
LEAVES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f")]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
PROOFS = {
    0: ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
    5: ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"],
}


def reference_root(leaves: list[bytes]) -> bytes:
    """RFC 6962 2.1 written out independently: MTH(D[n]) with k the largest 2^i < n."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1 << ((n - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + reference_root(leaves[:k]) + reference_root(leaves[k:])
                          ).digest()


def test_hash_prefixes() -> None:
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()
    assert ROOTS[0] == EMPTY_ROOT


@pytest.mark.parametrize("size", range(9))
def test_rfc6962_roots(size: int) -> None:
    assert merkle_root(LEAVES[:size]) == ROOTS[size]
    assert reference_root(LEAVES[:size]).hex() == ROOTS[size]


def test_accumulator_gives_every_prefix_root() -> None:
    accumulator = MerkleAccumulator()
    assert accumulator.root() == ROOTS[0]
    for size, leaf in enumerate(LEAVES, start=1):
        accumulator.append(leaf)
        assert accumulator.size == size
        assert accumulator.root() == ROOTS[size]


@pytest.mark.parametrize("index", sorted(PROOFS))
def test_rfc6962_inclusion_proofs(index: int) -> None:
    assert inclusion_proof(LEAVES, index) == PROOFS[index]
    assert verify_inclusion(LEAVES[index], index, 8, PROOFS[index], ROOTS[8])


def test_single_leaf_has_an_empty_proof() -> None:
    assert inclusion_proof(LEAVES[:1], 0) == []
    assert verify_inclusion(LEAVES[0], 0, 1, [], ROOTS[1])
    assert not verify_inclusion(LEAVES[1], 0, 1, [], ROOTS[1])


@pytest.mark.parametrize("index", [-1, 8, 100])
def test_proof_index_out_of_range(index: int) -> None:
    with pytest.raises(IndexError, match="outside a tree of 8"):
        inclusion_proof(LEAVES, index)
    assert not verify_inclusion(LEAVES[0], index, 8, PROOFS[0], ROOTS[8])


@settings(max_examples=40)
@given(st.lists(st.binary(max_size=8), min_size=1, max_size=70))
def test_accumulator_matches_recursive_definition(leaves: list[bytes]) -> None:
    accumulator = MerkleAccumulator()
    for leaf in leaves:
        accumulator.append(leaf)
    assert accumulator.root() == reference_root(leaves).hex()


def test_accumulator_every_size_up_to_70() -> None:
    leaves = [n.to_bytes(2, "big") for n in range(70)]
    accumulator = MerkleAccumulator()
    for size in range(1, 71):
        accumulator.append(leaves[size - 1])
        assert accumulator.root() == reference_root(leaves[:size]).hex() == merkle_root(
            leaves[:size])


def _flip(hex_digest: str) -> str:
    raw = bytearray(bytes.fromhex(hex_digest))
    raw[0] ^= 0x01
    return raw.hex()


@pytest.mark.parametrize("size", range(1, 41))
def test_every_inclusion_proof_verifies_and_tampering_fails(size: int) -> None:
    leaves = [f"leaf-{n}".encode() for n in range(size)]
    root = merkle_root(leaves)
    for index in range(size):
        proof = inclusion_proof(leaves, index)
        assert len(proof) <= (size - 1).bit_length()
        assert verify_inclusion(leaves[index], index, size, proof, root)
        # another leaf at the same place
        assert not verify_inclusion(b"forged", index, size, proof, root)
        # the same leaf claimed at another place
        for other in {index - 1, index + 1} & set(range(size)):
            if leaves[other] != leaves[index]:
                assert not verify_inclusion(leaves[index], other, size, proof, root)
        # any sibling flipped, dropped, or an extra one appended
        for position in range(len(proof)):
            flipped = [*proof[:position], _flip(proof[position]), *proof[position + 1:]]
            assert not verify_inclusion(leaves[index], index, size, flipped, root)
        if proof:
            assert not verify_inclusion(leaves[index], index, size, proof[:-1], root)
        assert not verify_inclusion(leaves[index], index, size, [*proof, root], root)
        # the wrong root, or a size the path cannot come from
        assert not verify_inclusion(leaves[index], index, size, proof, _flip(root))
        assert not verify_inclusion(leaves[index], index, 2 * size + 1, proof, root)
