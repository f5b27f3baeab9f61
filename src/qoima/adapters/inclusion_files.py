"""Holdings proof files: one JSON per line item in a folder, plus ``commitment.json``.

An auditor receives one proof file (and reads the root from the published report or
``commitment.json``). Reading is strict: unknown or duplicate fields, missing fields, wrong
types and malformed hex are refused with the file and the field named, because a lenient
reader would let a doctored file say something other than what was hashed. The folder is
written whole or not at all (built beside the target, then renamed into place).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from qoima.domain.errors import InvalidInput, Origin, QoimaError
from qoima.report.holdings_commitment import (
    PENDING,
    HoldingsCommitment,
    InclusionProof,
    commitment_from_dict,
    proof_from_dict,
)

COMMITMENT_FILE = "commitment.json"
_KEEP = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@")
_STRUCTURE = {":": "+", "/": "="}  # account code separators, never inside a code part


def proof_file_name(proof: InclusionProof) -> str:
    """A file name from the account code, safe on every file system and one-to-one.

    ``:`` becomes ``+`` and ``/`` becomes ``=`` (neither occurs inside a code part), any
    other character outside letters, digits and ``._-@`` is %-escaped, and a pending
    (seized) item ends ``~pending``: ``holding+fx-reserves=liquidity+USD@fed-ny.json``.
    """
    item = proof.line_item
    safe = "".join(c if c in _KEEP else _STRUCTURE.get(c, f"%{ord(c):02X}")
                   for c in item.account)
    return f"{safe}{'~pending' if item.status == PENDING else ''}.json"


def write_inclusion_proofs(directory: Path, commitment: HoldingsCommitment,
                           proofs: Iterable[InclusionProof]) -> list[Path]:
    """Write ``commitment.json`` and one proof per line item into the new ``directory``.

    Refuses a folder that already holds files (proofs of two dates must not mix). Returns
    the proof files' paths in leaf order.
    """
    origin = Origin(str(directory))
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise InvalidInput("already exists and is not an empty folder: choose a new folder "
                           "for the proofs", origin=origin)
    names: list[str] = []
    seen: set[str] = set()
    items = list(proofs)
    for proof in items:
        name = proof_file_name(proof)
        if name.lower() in seen or name.lower() == COMMITMENT_FILE:
            raise InvalidInput(f"two line items would share the file name {name} (names "
                               "differing only in case clash on some file systems)",
                               origin=origin, field="account")
        seen.add(name.lower())
        names.append(name)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        _write_json(staging / COMMITMENT_FILE, commitment.to_dict())
        for name, proof in zip(names, items, strict=True):
            _write_json(staging / name, proof.to_dict())
        if directory.exists():
            directory.rmdir()  # empty, checked above
        staging.replace(directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [directory / name for name in names]


def read_proof(path: Path) -> InclusionProof:
    """One proof file, strictly; errors name the file and the field."""
    try:
        return proof_from_dict(_read_json(path))
    except QoimaError as error:
        raise error.with_origin(Origin(str(path))) from None


def read_proof_data(path: Path) -> dict[str, Any]:
    """A proof file checked strictly and returned as plain data (for ``verify_proof``)."""
    return read_proof(path).to_dict()


def read_commitment(path: Path) -> HoldingsCommitment:
    try:
        return commitment_from_dict(_read_json(path))
    except QoimaError as error:
        raise error.with_origin(Origin(str(path))) from None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _read_json(path: Path) -> dict[str, Any]:
    origin = Origin(str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput("no such file", origin=origin) from None
    except UnicodeDecodeError:
        raise InvalidInput("is not UTF-8 text", origin=origin) from None
    except OSError as error:
        raise InvalidInput(f"cannot be read: {error.strerror or error}", origin=origin) from None
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates,
                          parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise InvalidInput(f"is not valid JSON: {error.msg} (column {error.colno})",
                           origin=Origin(str(path), error.lineno)) from None
    if not isinstance(data, dict):
        raise InvalidInput("must hold one JSON object", origin=origin)
    return data


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise InvalidInput("appears twice in one object", field=key)
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise InvalidInput(f"{name} is not a JSON number")
