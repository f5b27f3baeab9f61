"""Reading an investment policy from YAML or TOML, with errors that name file, line and key.

Both formats become the same located mappings of strings first (YAML through the safe
loader of :mod:`qoima.adapters.located_yaml`; TOML with exact decimals and a line scan), so
one parser validates both. Shares may be written as fractions (``0.05``) or percentages
(``5%``); money is plain USD (``300_000_000``)::

    vehicle: da-sleeve
    version: 1
    name: Digital-asset sleeve
    effective_from: "2026-01-01"
    change_delay_days: 30
    limits:
      - {id: size, kind: size_range, min_usd: 50_000_000, max_usd: 300_000_000}
      - {id: top-issuer, kind: concentration, basis: issuer, max_share: 60%}
"""

from __future__ import annotations

import re
import tomllib
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from qoima.adapters.fields import parse_date, parse_enum, parse_int
from qoima.adapters.located_yaml import (
    MAX_YAML_BYTES,
    Mapping,
    as_list,
    as_mapping,
    load_yaml_text,
)
from qoima.adapters.policy_allocation import parse_allocation
from qoima.adapters.policy_fields import (
    Parser,
)
from qoima.adapters.policy_fields import (
    amount_value as _amount_value,
)
from qoima.adapters.policy_fields import (
    built as _built,
)
from qoima.adapters.policy_fields import (
    enum as _enum,
)
from qoima.adapters.policy_fields import (
    enums as _enums,
)
from qoima.adapters.policy_fields import (
    integer as _int,
)
from qoima.adapters.policy_fields import (
    pairs as _pairs,
)
from qoima.adapters.policy_fields import (
    severity as _severity,
)
from qoima.adapters.policy_fields import (
    share as _share,
)
from qoima.adapters.policy_fields import (
    share_value as _share_value,
)
from qoima.adapters.policy_fields import (
    text as _text,
)
from qoima.adapters.policy_fields import (
    usd as _usd,
)
from qoima.adapters.policy_fields import (
    words as _words,
)
from qoima.domain.enums import InstrumentKind, Venue
from qoima.domain.errors import InvalidInput, Origin
from qoima.policy.model import (
    LIMIT_TYPES,
    ConcentrationBasis,
    InvestmentPolicy,
    Limit,
    LimitKind,
    TriggerAction,
)

POLICY_FORMATS = {".yaml": "yaml", ".yml": "yaml", ".toml": "toml"}
_TOP_KEYS = {"vehicle", "version", "name", "effective_from", "change_delay_days", "limits",
             "allocation"}



def read_policy(path: Path) -> InvestmentPolicy:
    """The policy in ``path`` (``.yaml``, ``.yml`` or ``.toml``), its text kept as source."""
    fmt = POLICY_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InvalidInput(f"policy files end in {', '.join(POLICY_FORMATS)}",
                           origin=Origin(str(path)))
    if not path.exists():
        raise InvalidInput("file not found", origin=Origin(str(path)))
    size = path.stat().st_size
    if size > MAX_YAML_BYTES:
        raise InvalidInput(f"file is {size} bytes; policy files are limited to "
                           f"{MAX_YAML_BYTES}", origin=Origin(str(path)))
    return parse_policy(path.read_text(encoding="utf-8"), fmt=fmt, source=str(path))


def parse_policy(text: str, *, fmt: str, source: str = "<policy>") -> InvestmentPolicy:
    """Parse policy ``text`` (``fmt`` "yaml" or "toml"); ``source`` names it in errors."""
    if fmt == "yaml":
        root = load_yaml_text(text, source)
    elif fmt == "toml":
        root = _toml_root(text, source)
    else:
        raise InvalidInput(f"unknown policy format {fmt!r} (yaml or toml)", field="format")
    top = as_mapping(root, what="file", origin=Origin(source, 1))
    top.check_keys(_TOP_KEYS)
    vehicle = _text(top, "vehicle")
    version = parse_int(_text(top, "version"), origin=top.origin("version"), field="version")
    delay = parse_int(_text(top, "change_delay_days"), origin=top.origin("change_delay_days"),
                      field="change_delay_days")
    effective = parse_date(top.string("effective_from"), origin=top.origin("effective_from"),
                           field="effective_from")
    raw = as_list(top.get("limits") or None, what="limits", origin=top.origin("limits"))
    if not raw:
        raise InvalidInput("a policy needs at least one limit", origin=top.origin("limits"),
                           field="limits")
    limits: list[Limit] = []
    lines: dict[str, int] = {}
    for item in raw:
        m = as_mapping(item, what="limit", origin=top.origin("limits"))
        limit = _limit(m)
        if limit.id in lines:
            raise InvalidInput(f"limit id {limit.id!r} is used twice (first on line "
                               f"{lines[limit.id]})", origin=m.origin("id"), field="id")
        lines[limit.id] = m.origin("id").line
        limits.append(limit)
    allocation = None
    if "allocation" in top.values:
        allocation = parse_allocation(as_mapping(top.get("allocation"), what="allocation",
                                                 origin=top.origin("allocation")))
    policy: InvestmentPolicy = _built(
        lambda: InvestmentPolicy(vehicle, version, _text(top, "name"), effective,
                                 tuple(limits), delay, text, allocation), top,
        {"vehicle_code": "vehicle"})
    return policy


def _destinations(m: Mapping, key: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    inner = as_mapping(m.get(key), what=key, origin=m.origin(key))
    return tuple((chain, _words(inner, chain)) for chain in inner.values)


_COMMON: dict[str, Parser] = {"severity": _severity}
#: Keys each limit kind accepts beyond id and kind, with their parsers.
_FIELDS: dict[LimitKind, dict[str, Parser]] = {
    LimitKind.SIZE_RANGE: {**_COMMON, "min_usd": _usd, "max_usd": _usd,
                           "below_min_severity": _severity},
    LimitKind.SHARE_OF_RESERVES: {**_COMMON, "max_share": _share},
    LimitKind.ELIGIBILITY: {**_COMMON, "kinds": _enums(InstrumentKind),
                            "venues": _enums(Venue), "custodians": _words},
    LimitKind.INSTRUMENT_LIST: {**_COMMON, "allow": _words, "deny": _words},
    LimitKind.CONCENTRATION: {**_COMMON, "basis": _enum(ConcentrationBasis),
                              "max_share": _share, "max_usd": _usd,
                              "overrides": _pairs(_share_value)},
    LimitKind.LIQUIDITY: {**_COMMON, "within_days": _int, "min_share": _share,
                          "adv_participation": _share},
    LimitKind.RISK_CVAR: {**_COMMON, "max_usd": _usd, "max_share": _share},
    LimitKind.STRESS_LOSS: {**_COMMON, "scenarios": _words, "max_usd": _usd,
                            "max_share": _share},
    LimitKind.DRAWDOWN_TRIGGER: {"drawdown": _share, "action": _enum(TriggerAction)},
    LimitKind.CUSTODY: {**_COMMON, "destinations": _destinations,
                        "max_transfer_usd": _usd, "max_transfer_units": _pairs(_amount_value),
                        "velocity_window_days": _int, "velocity_max_usd": _usd,
                        "approval_quorum": _int},
}


def _limit(m: Mapping) -> Limit:
    kind = parse_enum(LimitKind, m.string("kind"), origin=m.origin("kind"), field="kind")
    parsers = _FIELDS[kind]
    m.check_keys({"id", "kind", *parsers})
    limit_id = _text(m, "id")
    values = {key: parse(m, key) for key, parse in parsers.items() if key in m.values}
    cls = LIMIT_TYPES[kind]
    limit: Limit = _built(lambda: cls(id=limit_id, **values), m)
    return limit


_TOML_ERROR_LINE = re.compile(r"at line (\d+)")
_ARRAY_HEADER = re.compile(r"^\s*\[\[\s*([A-Za-z0-9_.-]+)\s*\]\]")
_TABLE_HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_.-]+)\s*\]")
_KEY_LINE = re.compile(r"^\s*([A-Za-z0-9_-]+|\"[^\"]*\")\s*=")

_Path = tuple[str | int, ...]


def _toml_root(text: str, source: str) -> Any:
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as error:
        found = _TOML_ERROR_LINE.search(str(error))
        raise InvalidInput(f"not valid TOML: {error}",
                           origin=Origin(source, int(found.group(1)) if found else 0)) from None
    return _toml_value(data, (), _toml_lines(text), source, 1)


def _toml_lines(text: str) -> dict[_Path, int]:
    """Line of each table header and key (tomllib keeps none); inline tables share a line."""
    lines: dict[_Path, int] = {}
    arrays: dict[tuple[str, ...], int] = {}
    table: _Path = ()
    in_string = False
    for number, line in enumerate(text.splitlines(), 1):
        inside = in_string
        if (line.count('"""') + line.count("'''")) % 2:
            in_string = not in_string
        if inside:
            continue
        header = _ARRAY_HEADER.match(line)
        if header:
            names = tuple(header.group(1).split("."))
            arrays[names] = arrays.get(names, -1) + 1
            table = (*_resolve(names[:-1], arrays), names[-1], arrays[names])
            lines[table] = number
            continue
        header = _TABLE_HEADER.match(line)
        if header:
            table = _resolve(tuple(header.group(1).split(".")), arrays)
            lines[table] = number
            continue
        key = _KEY_LINE.match(line)
        if key:
            lines.setdefault((*table, key.group(1).strip('"')), number)
    return lines


def _resolve(names: tuple[str, ...], arrays: dict[tuple[str, ...], int]) -> _Path:
    path: list[str | int] = []
    for depth, name in enumerate(names, 1):
        path.append(name)
        if names[:depth] in arrays:
            path.append(arrays[names[:depth]])
    return tuple(path)


def _toml_value(value: Any, path: _Path, lines: dict[_Path, int], source: str,
                line: int) -> Any:
    """TOML values as the YAML side gives them: strings, lists and located mappings."""
    if isinstance(value, dict):
        own = lines.get(path, line)
        mapping = Mapping({}, source, own)
        for key, item in value.items():
            key_line = lines.get((*path, key), own)
            mapping.key_lines[key] = key_line
            mapping.values[key] = _toml_value(item, (*path, key), lines, source, key_line)
        return mapping
    if isinstance(value, list):
        return [_toml_value(item, (*path, index), lines, source, line)
                for index, item in enumerate(value)]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)
