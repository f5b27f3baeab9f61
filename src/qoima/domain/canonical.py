"""Canonical JSON and SHA-256: one byte-exact form for hashing records and entries."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

_SCALARS = (str, int, bool, type(None))


def _plain(value: Any) -> Any:
    if type(value) in _SCALARS:  # exact types: str/int subclasses such as enums go below
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return plain_decimal(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | bool) or value is None:
        return value
    raise TypeError(f"cannot canonicalize {type(value).__name__}")


def plain_decimal(value: Decimal) -> str:
    """Normalized text: 1.50 and 1.5 give "1.5", never exponent form, "-0" is "0"."""
    text = format(value, "f")
    if "." in text:  # drop trailing zeros: cheaper than normalize() and the same text
        text = text.rstrip("0").rstrip(".")
    return text if text not in ("-0", "") else "0"


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, decimals as plain strings: stable across runs and versions."""
    return json.dumps(_plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_hex(data: str | bytes) -> str:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()


def content_hash(value: Any) -> str:
    return sha256_hex(canonical_json(value))
