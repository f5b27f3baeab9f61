"""What several commands parse the same way: dates and the --json switch."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def parse_date(text: str | None, option: str) -> date | None:
    """``YYYY-MM-DD`` (None stays None); a bad date is a usage error naming the option."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)",
                                 param_hint=option) from None
