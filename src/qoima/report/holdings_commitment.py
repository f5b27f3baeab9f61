"""A Merkle commitment over the detailed holdings, and checking one line item against it.

The public report publishes aggregates and one root. Each detailed line item (one holding
account on the as-of date) is a leaf of an RFC 6962 tree (:mod:`qoima.audit.merkle`); an
auditor given one line item and its proof recomputes the path to the published root without
seeing any other holding. Each leaf carries a salt, ``HMAC-SHA256(key, scheme, account, date,
status)``: without it, a sibling hash in a proof could be brute-forced back to a neighbour's
holding (account codes and plausible quantities are few). The key never leaves the
institution; salts are derived, not random, so the same book gives the same root.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Any

from qoima.audit.merkle import EMPTY_ROOT, leaf_hash, node_hash, verify_inclusion
from qoima.domain.canonical import canonical_json, plain_decimal
from qoima.domain.errors import InvalidInput
from qoima.portfolio.snapshot import PortfolioSnapshot, PositionValue

SCHEME_ID = "qoima-holdings-v1"
SCHEME = (f"{SCHEME_ID}: RFC 6962 SHA-256 over canonical JSON line items with "
          "HMAC-SHA256 salts")
MIN_SALT_KEY_BYTES = 16
HELD, PENDING = "held", "pending"  # pending: seized, awaiting forfeiture (outside the NAV)

_HEX64 = re.compile(r"[0-9a-f]{64}")
_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_ITEM_FIELDS = ("account", "vehicle", "tranche", "custodian", "instrument", "quantity",
                "value_usd", "value_kzt", "unvalued", "as_of", "status")
PROOF_FIELDS = ("scheme", "line_item", "salt", "index", "tree_size", "audit_path", "root")


@dataclass(frozen=True, slots=True)
class LineItem:
    """One detailed holding as committed: what an auditor is shown and can check."""

    account: str
    vehicle: str
    tranche: str | None
    custodian: str | None
    instrument: str
    quantity: Decimal
    value_usd: Decimal | None  # None: no price or FX on the date (committed and flagged)
    value_kzt: Decimal | None
    as_of: date
    status: str = HELD

    @property
    def unvalued(self) -> bool:
        return self.value_usd is None

    def to_dict(self) -> dict[str, Any]:
        def money(value: Decimal | None) -> str | None:
            return None if value is None else plain_decimal(value)

        return {"account": self.account, "vehicle": self.vehicle, "tranche": self.tranche,
                "custodian": self.custodian, "instrument": self.instrument,
                "quantity": plain_decimal(self.quantity), "value_usd": money(self.value_usd),
                "value_kzt": money(self.value_kzt), "unvalued": self.unvalued,
                "as_of": self.as_of.isoformat(), "status": self.status}

    @staticmethod
    def of(position: PositionValue, as_of: date, status: str = HELD) -> LineItem:
        return LineItem(position.account_code, position.vehicle_code, position.tranche_code,
                        position.custodian_code, position.instrument_code, position.quantity,
                        position.value_usd, position.value_kzt, as_of, status)


@dataclass(frozen=True, slots=True)
class HoldingsCommitment:
    scheme: str  # SCHEME_ID
    root: str
    size: int
    as_of: date
    unvalued: int  # line items committed without a value
    pending: int  # seized line items awaiting forfeiture (committed, outside the NAV)

    def to_dict(self) -> dict[str, Any]:
        return {"scheme": self.scheme, "description": SCHEME, "root": self.root,
                "size": self.size, "as_of": self.as_of.isoformat(), "unvalued": self.unvalued,
                "pending": self.pending}


@dataclass(frozen=True, slots=True)
class InclusionProof:
    line_item: LineItem
    salt: str  # hex
    index: int
    tree_size: int
    audit_path: tuple[str, ...]  # hex, deepest sibling first
    root: str
    scheme: str = SCHEME_ID

    def leaf(self) -> bytes:
        return leaf_bytes(self.line_item, self.salt)

    def to_dict(self) -> dict[str, Any]:
        return {"scheme": self.scheme, "line_item": self.line_item.to_dict(), "salt": self.salt,
                "index": self.index, "tree_size": self.tree_size,
                "audit_path": list(self.audit_path), "root": self.root}


def leaf_bytes(item: LineItem, salt: str) -> bytes:
    """The leaf: canonical JSON of the scheme id, the line item and its salt."""
    return canonical_json({"scheme": SCHEME_ID, "item": item.to_dict(),
                           "salt": salt}).encode("utf-8")


def salt_for(salt_key: bytes, item: LineItem) -> str:
    message = "\n".join((SCHEME_ID, item.account, item.as_of.isoformat(), item.status))
    return hmac.new(salt_key, message.encode("utf-8"), hashlib.sha256).hexdigest()


def all_inclusion_proofs(leaves: Sequence[bytes]) -> tuple[str, list[list[str]]]:
    """The root and every leaf's audit path in one pass, O(n log n).

    Equal to :func:`qoima.audit.merkle.inclusion_proof` per leaf (which rebuilds subtrees
    for each leaf, O(n) apiece: ~10^6 hashes for a thousand line items).
    """
    hashes = [leaf_hash(leaf) for leaf in leaves]
    if not hashes:
        return EMPTY_ROOT, []
    paths: list[list[bytes]] = [[] for _ in hashes]

    def subtree(low: int, high: int) -> bytes:
        if high - low == 1:
            return hashes[low]
        split = low + _largest_power_of_two_below(high - low)
        left, right = subtree(low, split), subtree(split, high)
        for i in range(low, split):
            paths[i].append(right)
        for i in range(split, high):
            paths[i].append(left)
        return node_hash(left, right)

    root = subtree(0, len(hashes)).hex()
    return root, [[h.hex() for h in path] for path in paths]


def audit_path_length(index: int, size: int) -> int:
    """How many hashes the audit path of leaf ``index`` in a tree of ``size`` has."""
    length = 0
    while size > 1:
        split = _largest_power_of_two_below(size)
        index, size = (index, split) if index < split else (index - split, size - split)
        length += 1
    return length


def commit_holdings(snapshot: PortfolioSnapshot, salt_key: bytes
                    ) -> tuple[HoldingsCommitment, tuple[InclusionProof, ...]]:
    """Commit to every held and pending line item of ``snapshot``, sorted by account code."""
    as_of = snapshot.as_of_date
    items = [LineItem.of(p, as_of) for p in snapshot.positions]
    items += [LineItem.of(p, as_of, PENDING) for p in snapshot.pending_positions]
    return commit_line_items(items, salt_key, as_of)


def commit_line_items(items: Sequence[LineItem], salt_key: bytes, as_of: date
                      ) -> tuple[HoldingsCommitment, tuple[InclusionProof, ...]]:
    """The root over ``items`` (sorted by account, then status) and one proof per item."""
    if len(salt_key) < MIN_SALT_KEY_BYTES:
        raise InvalidInput(f"the salt key must be at least {MIN_SALT_KEY_BYTES} secret bytes "
                           f"(got {len(salt_key)}): short keys let salts be guessed",
                           field="salt_key")
    ordered = sorted(items, key=lambda item: (item.account, item.status))
    for first, second in pairwise(ordered):
        if (first.account, first.status) == (second.account, second.status):
            raise InvalidInput(f"account {first.account} ({first.status}) appears twice in "
                               "the holdings", field="account")
    salts = [salt_for(salt_key, item) for item in ordered]
    root, paths = all_inclusion_proofs([leaf_bytes(item, salt)
                                        for item, salt in zip(ordered, salts, strict=True)])
    size = len(ordered)
    proofs = tuple(InclusionProof(item, salt, index, size, tuple(path), root)
                   for index, (item, salt, path) in enumerate(zip(ordered, salts, paths,
                                                                  strict=True)))
    commitment = HoldingsCommitment(SCHEME_ID, root, size, as_of,
                                    sum(1 for i in ordered if i.unvalued),
                                    sum(1 for i in ordered if i.status == PENDING))
    return commitment, proofs


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """What was checked, in order, and the one-line outcome."""

    included: bool
    reason: str
    checks: tuple[str, ...]
    proof: InclusionProof | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"included": self.included, "reason": self.reason, "checks": list(self.checks),
                "line_item": self.proof.line_item.to_dict() if self.proof else None,
                "index": self.proof.index if self.proof else None,
                "tree_size": self.proof.tree_size if self.proof else None,
                "root": self.proof.root if self.proof else None}


def verify_proof(proof_dict: Mapping[str, Any], *, expected_root: str | None,
                 expected_size: int | None = None) -> VerificationResult:
    """Check one disclosed line item against its proof and (if given) the published root."""
    checks: list[str] = []

    def failed(reason: str, proof: InclusionProof | None = None) -> VerificationResult:
        return VerificationResult(False, reason, tuple(checks), proof)

    try:
        proof = proof_from_dict(proof_dict)
    except InvalidInput as error:
        return failed(f"malformed proof: {error}")
    checks.append("the proof is well-formed (scheme, fields, types, 64-digit lowercase hex)")
    published = None if expected_root is None else expected_root.strip().lower()
    if published is not None and not _HEX64.fullmatch(published):
        return failed(f"malformed published root {_show(expected_root)}: it must be 64 hex digits",
                      proof)
    if proof.index >= proof.tree_size:
        return failed(f"wrong index/size: index {proof.index} is outside a tree of "
                      f"{proof.tree_size} leaves", proof)
    needed = audit_path_length(proof.index, proof.tree_size)
    if len(proof.audit_path) != needed:
        return failed(f"wrong index/size: leaf {proof.index} of a tree of {proof.tree_size} "
                      f"needs {needed} hashes in its audit path, the proof has "
                      f"{len(proof.audit_path)}", proof)
    checks.append(f"leaf index {proof.index} fits a tree of {proof.tree_size} leaves with a "
                  f"{needed}-hash audit path")
    if not verify_inclusion(proof.leaf(), proof.index, proof.tree_size, proof.audit_path,
                            proof.root):
        return failed("not included: the line item with its salt and audit path does not hash "
                      f"to the proof's root {proof.root[:16]}… (a value, the salt, the index or "
                      "a path hash was changed)", proof)
    checks.append(f"the line item and salt hash, along the audit path, to root {proof.root}")
    if published is not None:
        if proof.root != published:
            return failed(f"wrong root: the proof leads to root {proof.root[:16]}…, not to the "
                          f"published root {published[:16]}…", proof)
        checks.append("that root is the published root")
    if expected_size is not None:
        if proof.tree_size != expected_size:
            return failed(f"wrong size: the proof is for a tree of {proof.tree_size} line "
                          f"items, the published commitment has {expected_size}", proof)
        checks.append(f"the tree size is the published {expected_size}")
    item = proof.line_item
    where = ("the published root" if published is not None
             else "the root in the proof only (give the published root to check it)")
    return VerificationResult(True, f"{item.account} ({item.status}) as of {item.as_of} is "
                              f"leaf {proof.index} of a tree of {proof.tree_size} line items "
                              f"under {where}", tuple(checks), proof)


def proof_from_dict(data: Mapping[str, Any]) -> InclusionProof:
    """Strict parse: every field present, none unknown, types and hex checked.

    Raises :class:`InvalidInput` whose ``field`` names the bad field (``line_item.quantity``).
    """
    _exact_fields(data, PROOF_FIELDS, "")
    if data["scheme"] != SCHEME_ID:
        raise InvalidInput(f"unknown scheme {_show(data['scheme'])} (expected {SCHEME_ID})",
                           field="scheme")
    raw_item = data["line_item"]
    if not isinstance(raw_item, Mapping):
        raise InvalidInput("must be an object", field="line_item")
    _exact_fields(raw_item, _ITEM_FIELDS, "line_item.")
    item = LineItem(
        account=_text(raw_item, "account"), vehicle=_text(raw_item, "vehicle"),
        tranche=_optional_text(raw_item, "tranche"),
        custodian=_optional_text(raw_item, "custodian"),
        instrument=_text(raw_item, "instrument"),
        quantity=_number(raw_item, "quantity"),
        value_usd=_optional_number(raw_item, "value_usd"),
        value_kzt=_optional_number(raw_item, "value_kzt"),
        as_of=_date(raw_item, "as_of"), status=_text(raw_item, "status"))
    if item.status not in (HELD, PENDING):
        raise InvalidInput(f"{_show(item.status)} is not {HELD} or {PENDING}",
                           field="line_item.status")
    if not isinstance(raw_item["unvalued"], bool):
        raise InvalidInput(f"must be true or false, got {_show(raw_item['unvalued'])}",
                           field="line_item.unvalued")
    if raw_item["unvalued"] is not item.unvalued:
        raise InvalidInput("must be true exactly when value_usd is null",
                           field="line_item.unvalued")
    path = data["audit_path"]
    if not isinstance(path, list):
        raise InvalidInput("must be a list of hex hashes", field="audit_path")
    for number, entry in enumerate(path):
        _hex(entry, f"audit_path[{number}]")
    return InclusionProof(item, _hex(data["salt"], "salt"), _count(data, "index", 0),
                          _count(data, "tree_size", 1), tuple(path),
                          _hex(data["root"], "root"), SCHEME_ID)


def commitment_from_dict(data: Mapping[str, Any]) -> HoldingsCommitment:
    """Strict parse of a published commitment (``commitment.json``)."""
    _exact_fields(data, ("scheme", "description", "root", "size", "as_of", "unvalued",
                         "pending"), "")
    if data["scheme"] != SCHEME_ID:
        raise InvalidInput(f"unknown scheme {_show(data['scheme'])} (expected {SCHEME_ID})",
                           field="scheme")
    _text(data, "description", prefix="")
    return HoldingsCommitment(SCHEME_ID, _hex(data["root"], "root"), _count(data, "size", 0),
                              _date(data, "as_of", prefix=""), _count(data, "unvalued", 0),
                              _count(data, "pending", 0))


def _exact_fields(data: Any, fields: Sequence[str], prefix: str) -> None:
    if not isinstance(data, Mapping):
        raise InvalidInput("must be a JSON object", field=prefix.rstrip(".") or None)
    missing = [f for f in fields if f not in data]
    if missing:
        raise InvalidInput("is missing", field=prefix + missing[0])
    unknown = sorted(str(k) for k in data if k not in fields)
    if unknown:
        raise InvalidInput(f"unknown field (allowed: {', '.join(fields)})",
                           field=prefix + unknown[0])


def _text(data: Mapping[str, Any], name: str, *, prefix: str = "line_item.") -> str:
    value = data[name]
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"must be a non-empty string, got {_show(value)}", field=prefix + name)
    return value


def _optional_text(data: Mapping[str, Any], name: str) -> str | None:
    return None if data[name] is None else _text(data, name)


def _number(data: Mapping[str, Any], name: str) -> Decimal:
    value = data[name]
    if not isinstance(value, str) or not _DECIMAL.fullmatch(value):
        raise InvalidInput(f"must be a decimal string such as \"12.5\", got {_show(value)}",
                           field=f"line_item.{name}")
    return Decimal(value)


def _optional_number(data: Mapping[str, Any], name: str) -> Decimal | None:
    return None if data[name] is None else _number(data, name)


def _date(data: Mapping[str, Any], name: str, *, prefix: str = "line_item.") -> date:
    value = data[name]
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"must be a date YYYY-MM-DD, got {_show(value)}",
                           field=prefix + name) from None


def _count(data: Mapping[str, Any], name: str, least: int) -> int:
    value = data[name]
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise InvalidInput(f"must be a whole number >= {least}, got {_show(value)}", field=name)
    return value


def _hex(value: Any, name: str) -> str:
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise InvalidInput(f"must be 64 lowercase hex digits (a SHA-256), got {_show(value)}",
                           field=name)
    return value


def _show(value: Any) -> str:
    """A bad value, shortened: a message is one line even for a 10 MB string."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _largest_power_of_two_below(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)
