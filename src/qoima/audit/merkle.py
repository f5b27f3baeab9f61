"""RFC 6962 (Certificate Transparency) Merkle tree hashes over audit record hashes.

Written here rather than imported: the algorithm is a dozen lines, fully specified by
RFC 6962 section 2.1, and the published root must not depend on a third party's choices.
Leaves are ``SHA-256(0x00 || leaf)``, nodes ``SHA-256(0x01 || left || right)``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

EMPTY_ROOT = hashlib.sha256(b"").hexdigest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class MerkleAccumulator:
    """Appends leaves one at a time and gives the root of the first n at any point.

    Keeps one perfect subtree per set bit of n (O(log n) memory), so verifying a trail of
    millions of records and every checkpoint along it is a single pass.
    """

    def __init__(self) -> None:
        self._stack: list[tuple[int, bytes]] = []  # (size, hash), sizes strictly decreasing
        self.size = 0

    def append(self, data: bytes) -> None:
        size, digest = 1, leaf_hash(data)
        while self._stack and self._stack[-1][0] == size:
            left_size, left = self._stack.pop()
            size, digest = left_size + size, node_hash(left, digest)
        self._stack.append((size, digest))
        self.size += 1

    def root(self) -> str:
        if not self._stack:
            return EMPTY_ROOT
        digest = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            digest = node_hash(left, digest)
        return digest.hex()


def merkle_root(leaves: Iterable[bytes]) -> str:
    accumulator = MerkleAccumulator()
    for leaf in leaves:
        accumulator.append(leaf)
    return accumulator.root()


def _subtree_root(leaves: Sequence[bytes]) -> bytes:
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    split = _largest_power_of_two_below(len(leaves))
    return node_hash(_subtree_root(leaves[:split]), _subtree_root(leaves[split:]))


def _largest_power_of_two_below(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[str]:
    """Audit path for leaf ``index`` (RFC 6962 2.1.1), as hex, deepest sibling first."""
    if not 0 <= index < len(leaves):
        raise IndexError(f"leaf {index} outside a tree of {len(leaves)}")
    if len(leaves) == 1:
        return []
    split = _largest_power_of_two_below(len(leaves))
    if index < split:
        return [*inclusion_proof(leaves[:split], index), _subtree_root(leaves[split:]).hex()]
    return [*inclusion_proof(leaves[split:], index - split), _subtree_root(leaves[:split]).hex()]


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[str], root: str) -> bool:
    """Check an audit path against a published root (RFC 9162 2.1.3.2)."""
    if not 0 <= index < size:
        return False
    fn, sn = index, size - 1
    digest = leaf_hash(leaf)
    for sibling_hex in proof:
        sibling = bytes.fromhex(sibling_hex)
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            digest = node_hash(sibling, digest)
            while fn % 2 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            digest = node_hash(digest, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and digest.hex() == root
