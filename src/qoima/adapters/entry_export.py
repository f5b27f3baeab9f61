"""Writing journal entries to the YAML format that ``qoima post`` reads."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from qoima.domain.enums import EntryPhase
from qoima.ledger.entries import EntryDraft


def _text(value: Decimal) -> str:
    return format(value, "f")


def entry_to_yaml_data(entry: EntryDraft) -> dict[str, Any]:
    data: dict[str, Any] = {"id": entry.entry_id, "date": entry.value_date.isoformat(),
                            "code": entry.code.value}
    if entry.description:
        data["description"] = entry.description
    if entry.phase is not EntryPhase.POSTED:
        data["phase"] = entry.phase.value
    if entry.resolves_entry_id:
        data["resolves"] = entry.resolves_entry_id
    if entry.reverses_entry_id:
        data["reverses"] = entry.reverses_entry_id
    if entry.metadata:
        data["metadata"] = dict(entry.metadata)
    postings = []
    for p in entry.postings:
        leg: dict[str, str] = {"account": p.account, "amount": _text(p.amount)}
        if p.unit_cost_usd is not None:
            leg["unit_cost_usd"] = _text(p.unit_cost_usd)
        if p.unit_price_usd is not None:
            leg["unit_price_usd"] = _text(p.unit_price_usd)
        postings.append(leg)
    if postings:
        data["postings"] = postings
    return data


def write_entries(entries: Iterable[EntryDraft], path: Path) -> int:
    """Write ``entries`` atomically (temp file, then rename); returns how many."""
    items = [entry_to_yaml_data(e) for e in entries]
    text = yaml.safe_dump({"entries": items}, sort_keys=False, allow_unicode=True, width=100)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
    return len(items)
