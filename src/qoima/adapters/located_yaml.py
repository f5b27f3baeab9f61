"""Safe YAML that keeps line numbers and refuses what should never be in a book file.

Every scalar stays a string (no ``NO`` -> False, no floats for money), tags other than the
plain ones and aliases are refused (no alias bombs), and each mapping remembers the line
of every key so errors can name the line of the bad field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from qoima.domain.errors import InvalidInput, Origin

MAX_YAML_BYTES = 64 * 1024 * 1024
_PLAIN_TAGS = {"tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


@dataclass
class Mapping:
    """A YAML mapping with the line of each key (1-based) and its own line."""

    values: dict[str, Any]
    file: str
    line: int
    key_lines: dict[str, int] = field(default_factory=dict)

    def origin(self, key: str | None = None) -> Origin:
        return Origin(self.file, self.key_lines.get(key, self.line) if key else self.line)

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def require(self, key: str) -> Any:
        if key not in self.values or self.values[key] in (None, ""):
            raise InvalidInput(f"missing required field {key!r}", origin=self.origin(),
                               field=key)
        return self.values[key]

    def string(self, key: str, default: str | None = None) -> str | None:
        value = self.values.get(key, default)
        if value is None:
            return None
        if not isinstance(value, str):
            raise InvalidInput(f"{key!r} must be a plain value", origin=self.origin(key),
                               field=key)
        return value

    def check_keys(self, allowed: set[str]) -> None:
        for key in self.values:
            if key not in allowed:
                raise InvalidInput(f"unknown field {key!r} (expected one of: "
                                   f"{', '.join(sorted(allowed))})", origin=self.origin(key),
                                   field=key)


def load_yaml(path: Path) -> Any:
    """Parse ``path`` into str / list / :class:`Mapping` values."""
    size = path.stat().st_size
    if size > MAX_YAML_BYTES:
        raise InvalidInput(f"file is {size} bytes; YAML input is limited to {MAX_YAML_BYTES}",
                           origin=Origin(str(path)))
    return load_yaml_text(path.read_text(encoding="utf-8"), str(path))


def load_yaml_text(text: str, source: str) -> Any:
    """Parse YAML ``text`` (named ``source`` in errors), as :func:`load_yaml` does a file."""
    if len(text.encode("utf-8")) > MAX_YAML_BYTES:
        raise InvalidInput(f"YAML input is limited to {MAX_YAML_BYTES} bytes",
                           origin=Origin(source))
    try:
        root = yaml.compose(text, Loader=yaml.BaseLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        raise InvalidInput(f"not valid YAML: {getattr(error, 'problem', error)}",
                           origin=Origin(source, line)) from None
    if root is None:
        raise InvalidInput("file is empty", origin=Origin(source))
    return _convert(root, source, set())


def _convert(node: yaml.Node, file: str, seen: set[int]) -> Any:
    line = node.start_mark.line + 1
    if id(node) in seen:
        raise InvalidInput("YAML anchors/aliases are not allowed in qoima files",
                           origin=Origin(file, line))
    seen.add(id(node))
    if node.tag not in _PLAIN_TAGS:
        raise InvalidInput(f"YAML tag {node.tag!r} is not allowed", origin=Origin(file, line))
    if isinstance(node, yaml.ScalarNode):
        return str(node.value)
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, file, seen) for item in node.value]
    if isinstance(node, yaml.MappingNode):
        result = Mapping({}, file, line)
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise InvalidInput("mapping keys must be plain words",
                                   origin=Origin(file, key_node.start_mark.line + 1))
            key = str(key_node.value)
            if key in result.values:
                raise InvalidInput(f"key {key!r} appears twice",
                                   origin=Origin(file, key_node.start_mark.line + 1), field=key)
            if key == "<<":
                raise InvalidInput("YAML merge keys are not allowed",
                                   origin=Origin(file, key_node.start_mark.line + 1))
            result.key_lines[key] = key_node.start_mark.line + 1
            result.values[key] = _convert(value_node, file, seen)
        return result
    raise InvalidInput(f"unsupported YAML node {type(node).__name__}", origin=Origin(file, line))


def as_list(value: Any, *, what: str, origin: Origin) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidInput(f"{what} must be a list", origin=origin, field=what)
    return value


def as_mapping(value: Any, *, what: str, origin: Origin) -> Mapping:
    if not isinstance(value, Mapping):
        raise InvalidInput(f"each {what} must be a mapping of fields", origin=origin, field=what)
    return value
