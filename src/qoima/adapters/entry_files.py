"""Reading journal entries from YAML or CSV files, every error located to line and field.

CSV has one row per posting; rows of one entry are contiguous and share its id::

    id,date,code,description,account,amount,unit_cost_usd,unit_price_usd,phase,resolves,reverses

YAML has a list ``entries`` of mappings with a ``postings`` list (see docs in README).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path

from qoima.adapters.fields import parse_amount, parse_date, parse_enum
from qoima.adapters.located_yaml import Mapping, as_list, as_mapping, load_yaml
from qoima.domain.enums import EntryCode, EntryPhase
from qoima.domain.errors import InvalidInput, Origin
from qoima.ledger.entries import EntryDraft, PostingDraft

CSV_COLUMNS = ("id", "date", "code", "description", "account", "amount", "unit_cost_usd",
               "unit_price_usd", "phase", "resolves", "reverses")
CSV_REQUIRED = ("id", "date", "code", "account", "amount")
ENTRY_HEADER = ("date", "code", "description", "phase", "resolves", "reverses")
ENTRY_KEYS = {"id", "date", "code", "description", "phase", "resolves", "reverses",
              "metadata", "postings"}
POSTING_KEYS = {"account", "amount", "unit_cost_usd", "unit_price_usd"}


def read_entries(path: Path) -> list[EntryDraft]:
    """Parse every entry in ``path`` (``.yaml``/``.yml`` or ``.csv``) before any is posted."""
    if not path.exists():
        raise InvalidInput("file not found", origin=Origin(str(path)))
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return _read_yaml(path)
    if suffix == ".csv":
        return list(_read_csv(path))
    raise InvalidInput("entry files must be .yaml, .yml or .csv", origin=Origin(str(path)))


def _read_yaml(path: Path) -> list[EntryDraft]:
    root = load_yaml(path)
    top = as_mapping(root, what="file", origin=Origin(str(path), 1))
    top.check_keys({"entries"})
    items = as_list(top.get("entries"), what="entries", origin=top.origin("entries"))
    if not items:
        raise InvalidInput("no entries in file", origin=top.origin("entries"), field="entries")
    return [_yaml_entry(as_mapping(item, what="entry", origin=top.origin("entries")))
            for item in items]


def _yaml_entry(item: Mapping) -> EntryDraft:
    item.check_keys(ENTRY_KEYS)
    postings = []
    for raw in as_list(item.get("postings"), what="postings", origin=item.origin("postings")):
        leg = as_mapping(raw, what="posting", origin=item.origin("postings"))
        leg.check_keys(POSTING_KEYS)
        postings.append(_posting(leg.string("account"), leg.string("amount"),
                                 leg.string("unit_cost_usd"), leg.string("unit_price_usd"),
                                 leg.origin))
    metadata = item.get("metadata")
    pairs: tuple[tuple[str, str], ...] = ()
    if metadata is not None:
        meta = as_mapping(metadata, what="metadata", origin=item.origin("metadata"))
        for key, value in meta.values.items():
            if not isinstance(value, str):
                raise InvalidInput("metadata values must be plain text",
                                   origin=meta.origin(key), field=f"metadata.{key}")
        pairs = tuple(sorted((k, str(v)) for k, v in meta.values.items()))
    return EntryDraft(
        entry_id=str(item.require("id")),
        code=parse_enum(EntryCode, item.string("code"), origin=item.origin("code"),
                        field="code"),
        value_date=parse_date(item.string("date"), origin=item.origin("date"), field="date"),
        postings=tuple(postings),
        description=item.string("description") or "",
        phase=parse_enum(EntryPhase, item.string("phase"), origin=item.origin("phase"),
                         field="phase", default=EntryPhase.POSTED),
        resolves_entry_id=item.string("resolves"),
        reverses_entry_id=item.string("reverses"),
        metadata=pairs,
        origin=item.origin(),
    )


def _posting(account: str | None, amount: str | None, cost: str | None, price: str | None,
             where: Callable[[str], Origin]) -> PostingDraft:
    if not account:
        raise InvalidInput("a posting needs an account", origin=where("account"),
                           field="account")
    value = parse_amount(amount, origin=where("amount"), field="amount")
    assert value is not None
    return PostingDraft(
        account=account, amount=value,
        unit_cost_usd=parse_amount(cost, origin=where("unit_cost_usd"), field="unit_cost_usd",
                                   required=False),
        unit_price_usd=parse_amount(price, origin=where("unit_price_usd"),
                                    field="unit_price_usd", required=False),
        origin=where("amount"),
    )


def _at(origin: Origin) -> Callable[[str], Origin]:
    """Every field of a CSV row is on the row's line."""
    return lambda _field: origin


def _read_csv(path: Path) -> Iterator[EntryDraft]:
    file = str(path)
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames
        if not header:
            raise InvalidInput("file is empty", origin=Origin(file, 1))
        unknown = [name for name in header if name not in CSV_COLUMNS]
        missing = [name for name in CSV_REQUIRED if name not in header]
        if unknown or missing:
            raise InvalidInput(
                f"bad header: unknown {unknown or 'none'}, missing {missing or 'none'}; "
                f"columns are {', '.join(CSV_COLUMNS)}", origin=Origin(file, 1), field="header")
        current: list[tuple[int, dict[str, str]]] = []
        seen: set[str] = set()
        for row in reader:
            line = reader.line_num
            if None in row:
                raise InvalidInput("more values than columns", origin=Origin(file, line))
            values = {k: (v or "").strip() for k, v in row.items()}
            if current and values["id"] != current[0][1]["id"]:
                yield _csv_entry(file, current, seen)
                current = []
            current.append((line, values))
        if not current:
            raise InvalidInput("no entries in file", origin=Origin(file, 1))
        yield _csv_entry(file, current, seen)


def _csv_entry(file: str, rows: list[tuple[int, dict[str, str]]], seen: set[str]) -> EntryDraft:
    first_line, first = rows[0]
    origin = Origin(file, first_line)
    if not first["id"]:
        raise InvalidInput("missing entry id", origin=origin, field="id")
    if first["id"] in seen:
        raise InvalidInput(f"rows of entry {first['id']!r} must be contiguous", origin=origin,
                           field="id")
    seen.add(first["id"])
    for line, row in rows[1:]:
        for name in ENTRY_HEADER:
            if row.get(name) and row.get(name) != first.get(name):
                raise InvalidInput(f"{name} differs from the entry's first row "
                                   f"(line {first_line})", origin=Origin(file, line), field=name)
    derived = len(rows) == 1 and not first["account"] and not first["amount"]
    postings = () if derived else tuple(
        _posting(row["account"], row["amount"], row.get("unit_cost_usd"),
                 row.get("unit_price_usd"), _at(Origin(file, line)))
        for line, row in rows
    )
    return EntryDraft(
        entry_id=first["id"],
        code=parse_enum(EntryCode, first["code"], origin=origin, field="code"),
        value_date=parse_date(first["date"], origin=origin, field="date"),
        postings=postings,
        description=first.get("description", ""),
        phase=parse_enum(EntryPhase, first.get("phase"), origin=origin, field="phase",
                         default=EntryPhase.POSTED),
        resolves_entry_id=first.get("resolves") or None,
        reverses_entry_id=first.get("reverses") or None,
        origin=origin,
    )
