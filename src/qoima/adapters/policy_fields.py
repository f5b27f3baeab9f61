"""Field parsers shared by the policy readers: each names the file, line and key it read."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from qoima.adapters.fields import parse_amount, parse_enum, parse_int
from qoima.adapters.located_yaml import Mapping, as_list, as_mapping
from qoima.domain.enums import Severity
from qoima.domain.errors import InvalidInput, Origin, QoimaError

Parser = Callable[[Mapping, str], Any]


def built(build: Callable[[], Any], m: Mapping, aliases: dict[str, str] | None = None) -> Any:
    """Run a domain constructor; its error points at the line of the key it names."""
    try:
        return build()
    except QoimaError as error:
        key = (aliases or {}).get(error.field or "", error.field)
        located = key if key in m.values else None
        error.field = None
        raise error.with_origin(m.origin(located), key) from None


def text(m: Mapping, key: str) -> str:
    value = m.require(key)
    if not isinstance(value, str):
        raise InvalidInput(f"{key!r} must be a plain value", origin=m.origin(key), field=key)
    return value


def usd(m: Mapping, key: str) -> Decimal:
    value = parse_amount(text(m, key), origin=m.origin(key), field=key)
    assert value is not None
    return value


def share_value(text: str, origin: Origin, field: str) -> Decimal:
    percent = text.strip().endswith("%")
    number = parse_amount(text.strip().removesuffix("%").strip(), origin=origin, field=field)
    assert number is not None
    value = number / 100 if percent else number
    if not Decimal(0) <= value <= Decimal(1):
        raise InvalidInput(f"{text!r} is not a share between 0 and 100 %", origin=origin,
                           field=field)
    return value


def share(m: Mapping, key: str) -> Decimal:
    return share_value(text(m, key), m.origin(key), key)


def integer(m: Mapping, key: str) -> int:
    return parse_int(text(m, key), origin=m.origin(key), field=key)


def severity(m: Mapping, key: str) -> Severity:
    word = text(m, key)
    if word not in (Severity.BLOCKING, Severity.WARNING):
        raise InvalidInput(f"{word!r} is not one of: blocking, warning", origin=m.origin(key),
                           field=key)
    return Severity(word)


def words(m: Mapping, key: str) -> tuple[str, ...]:
    items = as_list(m.get(key), what=key, origin=m.origin(key))
    if not all(isinstance(item, str) and item for item in items):
        raise InvalidInput(f"{key} must be a list of plain words", origin=m.origin(key),
                           field=key)
    return tuple(items)


def enums(kind: type[Any]) -> Parser:
    def parse(m: Mapping, key: str) -> tuple[Any, ...]:
        return tuple(parse_enum(kind, word, origin=m.origin(key), field=key)
                     for word in words(m, key))
    return parse


def enum(kind: type[Any]) -> Parser:
    return lambda m, key: parse_enum(kind, text(m, key), origin=m.origin(key), field=key)


def pairs(value: Callable[[str, Origin, str], Any]) -> Parser:
    """A mapping such as ``{BTC: 90%}`` as sorted ``(key, value)`` pairs."""
    def parse(m: Mapping, key: str) -> tuple[tuple[str, Any], ...]:
        inner = as_mapping(m.get(key), what=key, origin=m.origin(key))
        result = []
        for name, raw in inner.values.items():
            if not isinstance(raw, str):
                raise InvalidInput(f"{key}.{name} must be a plain value",
                                   origin=inner.origin(name), field=f"{key}.{name}")
            result.append((name, value(raw, inner.origin(name), f"{key}.{name}")))
        return tuple(result)
    return parse


def amount_value(text: str, origin: Origin, field: str) -> Decimal:
    value = parse_amount(text, origin=origin, field=field)
    assert value is not None
    return value
