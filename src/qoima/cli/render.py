"""Turning results into JSON and Rich tables."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from rich.console import Console
from rich.table import Table

# Piped output (CI logs, files) gets room for wide tables instead of Rich's 80 columns.
console = Console() if sys.stdout.isatty() else Console(width=160)
errors = Console(stderr=True)


def plain(value: Any) -> Any:
    """JSON-safe form: Decimals as exact strings, dates as ISO, enums as values."""
    if is_dataclass(value) and not isinstance(value, type):
        return plain(asdict(value))
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return value


def print_json(value: Any) -> None:
    console.print_json(json.dumps(plain(value), ensure_ascii=False))


def money(value: Decimal | None, places: int = 2) -> str:
    return "—" if value is None else f"{value:,.{places}f}"


def quantity(value: Decimal) -> str:
    text = format(value, "f")
    if "." in text:
        whole, frac = text.split(".")
        return f"{int(whole):,}.{frac}" if whole != "-0" else f"-0.{frac}"
    return f"{int(text):,}"


def table(title: str, columns: list[tuple[str, str]], rows: list[list[str]],
          caption: str | None = None) -> Table:
    """``columns``: (header, 'l'|'r')."""
    result = Table(title=title, caption=caption, title_justify="left", caption_justify="left")
    for header, align in columns:
        result.add_column(header, justify="right" if align == "r" else "left")
    for row in rows:
        result.add_row(*row)
    return result
