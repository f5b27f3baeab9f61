"""The small part of Bitcoin's transaction format that BIP-322 proofs need.

Serialization (with and without witness), a strict parser (minimal compact sizes, no
trailing bytes), and the three signature hashes: legacy (``SignatureHash`` before segwit),
BIP-143 (segwit v0) and BIP-341 (taproot key path). Only what a single-input ``to_sign``
transaction exercises is implemented; every function says what it leaves out.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from qoima.custody.hashes import sha256, sha256d, tagged_hash
from qoima.domain.errors import InvalidInput

SIGHASH_DEFAULT = 0x00
SIGHASH_ALL = 0x01


@dataclass(frozen=True, slots=True)
class TxIn:
    prev_txid: bytes  # internal byte order (the reverse of what explorers show)
    prev_index: int
    script_sig: bytes = b""
    sequence: int = 0
    witness: tuple[bytes, ...] = ()


@dataclass(frozen=True, slots=True)
class TxOut:
    value: int
    script_pubkey: bytes


@dataclass(frozen=True, slots=True)
class Tx:
    version: int
    inputs: tuple[TxIn, ...]
    outputs: tuple[TxOut, ...]
    lock_time: int = 0

    @property
    def has_witness(self) -> bool:
        return any(txin.witness for txin in self.inputs)


def compact_size(n: int) -> bytes:
    if n < 0xFD:
        return bytes([n])
    if n <= 0xFFFF:
        return b"\xfd" + struct.pack("<H", n)
    if n <= 0xFFFFFFFF:
        return b"\xfe" + struct.pack("<I", n)
    return b"\xff" + struct.pack("<Q", n)


def var_bytes(data: bytes) -> bytes:
    return compact_size(len(data)) + data


def _outpoint(txin: TxIn) -> bytes:
    return txin.prev_txid + struct.pack("<I", txin.prev_index)


def _output(txout: TxOut) -> bytes:
    return struct.pack("<q", txout.value) + var_bytes(txout.script_pubkey)


def serialize_witness(stack: tuple[bytes, ...]) -> bytes:
    return compact_size(len(stack)) + b"".join(var_bytes(item) for item in stack)


def serialize(tx: Tx, *, with_witness: bool = True) -> bytes:
    """Network serialization; BIP-144 marker and flag only when a witness is present."""
    segwit = with_witness and tx.has_witness
    parts = [struct.pack("<i", tx.version), b"\x00\x01" if segwit else b""]
    parts.append(compact_size(len(tx.inputs)))
    for txin in tx.inputs:
        parts += [_outpoint(txin), var_bytes(txin.script_sig), struct.pack("<I", txin.sequence)]
    parts.append(compact_size(len(tx.outputs)))
    parts += [_output(txout) for txout in tx.outputs]
    if segwit:
        parts += [serialize_witness(txin.witness) for txin in tx.inputs]
    parts.append(struct.pack("<I", tx.lock_time))
    return b"".join(parts)


def txid(tx: Tx) -> bytes:
    """The transaction id in internal byte order (``txid(tx)[::-1].hex()`` is displayed)."""
    return sha256d(serialize(tx, with_witness=False))


class Reader:
    """Reads a byte string front to back; running short is a precise ``InvalidInput``."""

    def __init__(self, data: bytes, what: str) -> None:
        self.data = data
        self.pos = 0
        self.what = what

    def fail(self, reason: str) -> InvalidInput:
        return InvalidInput(f"malformed {self.what}: {reason}", field="signature")

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise self.fail(f"truncated (needs {n} bytes at offset {self.pos}, "
                            f"{len(self.data) - self.pos} left)")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def uint(self, fmt: str) -> int:
        value: int = struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]
        return value

    def compact_size(self) -> int:
        first = self.take(1)[0]
        if first < 0xFD:
            return first
        fmt, minimum = {0xFD: ("<H", 0xFD), 0xFE: ("<I", 0x10000),
                        0xFF: ("<Q", 0x100000000)}[first]
        value = self.uint(fmt)
        if value < minimum:
            raise self.fail(f"non-canonical compact size at offset {self.pos}")
        return value

    def var_bytes(self) -> bytes:
        length = self.compact_size()
        if length > len(self.data):
            raise self.fail(f"length {length} runs past the end")
        return self.take(length)

    def witness_stack(self) -> tuple[bytes, ...]:
        count = self.compact_size()
        if count > len(self.data):
            raise self.fail(f"stack of {count} items cannot fit")
        return tuple(self.var_bytes() for _ in range(count))

    def finish(self) -> None:
        if self.pos != len(self.data):
            raise self.fail(f"{len(self.data) - self.pos} unexpected trailing bytes")


def parse_witness(data: bytes) -> tuple[bytes, ...]:
    """A consensus-encoded witness stack (the BIP-322 *simple* signature)."""
    reader = Reader(data, "BIP-322 simple signature (witness stack)")
    stack = reader.witness_stack()
    reader.finish()
    return stack


def parse_tx(data: bytes) -> Tx:
    """A network-serialized transaction (the BIP-322 *full* signature)."""
    reader = Reader(data, "BIP-322 full signature (transaction)")
    version = reader.uint("<i")
    segwit = data[reader.pos:reader.pos + 2] == b"\x00\x01"
    if segwit:
        reader.take(2)
    n_in = reader.compact_size()
    if n_in == 0 or n_in > len(data):
        raise reader.fail(f"{n_in} inputs")
    raw_inputs = [(reader.take(32), reader.uint("<I"), reader.var_bytes(), reader.uint("<I"))
                  for _ in range(n_in)]
    n_out = reader.compact_size()
    if n_out > len(data):
        raise reader.fail(f"{n_out} outputs cannot fit")
    outputs = tuple(TxOut(reader.uint("<q"), reader.var_bytes()) for _ in range(n_out))
    witnesses = [reader.witness_stack() for _ in range(n_in)] if segwit else [()] * n_in
    if segwit and not any(witnesses):
        raise reader.fail("segwit marker present but every witness is empty")
    lock_time = reader.uint("<I")
    reader.finish()
    inputs = tuple(TxIn(prev, index, script, seq, wit)
                   for (prev, index, script, seq), wit in zip(raw_inputs, witnesses,
                                                               strict=True))
    return Tx(version, inputs, outputs, lock_time)


def sighash_legacy(tx: Tx, index: int, script_code: bytes, hash_type: int) -> bytes:
    """Pre-segwit ``SignatureHash`` for SIGHASH_ALL (no OP_CODESEPARATOR, which BIP-322
    forbids): every other input's scriptSig emptied, this one's set to ``script_code``."""
    if hash_type != SIGHASH_ALL:
        raise InvalidInput("only SIGHASH_ALL is allowed (BIP-322)", field="signature")
    inputs = tuple(TxIn(t.prev_txid, t.prev_index, script_code if i == index else b"",
                        t.sequence) for i, t in enumerate(tx.inputs))
    stripped = Tx(tx.version, inputs, tx.outputs, tx.lock_time)
    return sha256d(serialize(stripped, with_witness=False) + struct.pack("<I", hash_type))


def sighash_segwit_v0(tx: Tx, index: int, script_code: bytes, amount: int,
                      hash_type: int) -> bytes:
    """BIP-143 signature hash, SIGHASH_ALL only (BIP-322 allows no other)."""
    if hash_type != SIGHASH_ALL:
        raise InvalidInput("only SIGHASH_ALL is allowed (BIP-322)", field="signature")
    txin = tx.inputs[index]
    preimage = b"".join([
        struct.pack("<i", tx.version),
        sha256d(b"".join(_outpoint(t) for t in tx.inputs)),
        sha256d(b"".join(struct.pack("<I", t.sequence) for t in tx.inputs)),
        _outpoint(txin),
        var_bytes(script_code),
        struct.pack("<q", amount),
        struct.pack("<I", txin.sequence),
        sha256d(b"".join(_output(o) for o in tx.outputs)),
        struct.pack("<I", tx.lock_time),
        struct.pack("<I", hash_type),
    ])
    return sha256d(preimage)


def sighash_taproot(tx: Tx, index: int, spent: tuple[TxOut, ...], hash_type: int,
                    annex: bytes | None = None) -> bytes:
    """BIP-341 signature hash for a key-path spend with SIGHASH_DEFAULT or SIGHASH_ALL.

    ``spent`` are the outputs the inputs spend (amounts and scripts are committed to).
    ANYONECANPAY, NONE and SINGLE are refused: BIP-322 requires SIGHASH_ALL semantics.
    """
    if hash_type not in (SIGHASH_DEFAULT, SIGHASH_ALL):
        raise InvalidInput(f"sighash type 0x{hash_type:02x} is not allowed (BIP-322 needs "
                           "SIGHASH_DEFAULT or SIGHASH_ALL)", field="signature")
    parts = [
        bytes([hash_type]),
        struct.pack("<i", tx.version),
        struct.pack("<I", tx.lock_time),
        sha256(b"".join(_outpoint(t) for t in tx.inputs)),
        sha256(b"".join(struct.pack("<q", o.value) for o in spent)),
        sha256(b"".join(var_bytes(o.script_pubkey) for o in spent)),
        sha256(b"".join(struct.pack("<I", t.sequence) for t in tx.inputs)),
        sha256(b"".join(_output(o) for o in tx.outputs)),
        bytes([1 if annex is not None else 0]),  # spend_type: key path, annex flag
        struct.pack("<I", index),
    ]
    if annex is not None:
        parts.append(sha256(var_bytes(annex)))
    return tagged_hash("TapSighash", b"\x00" + b"".join(parts))
