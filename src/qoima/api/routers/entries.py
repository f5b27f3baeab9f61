"""Journal entries: list, read one, post a batch (all or nothing; replays change nothing)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import Query, Response
from pydantic import Field

from qoima.adapters.entry_export import write_entries
from qoima.api.access import can_read, require_everywhere, require_read
from qoima.api.deps import ReserveDep, UserDep, api_router
from qoima.api.models import Amount, Code, Day, Strict
from qoima.api.pagination import Paging, page_of_fetched
from qoima.api.reference_models import EntryOut
from qoima.api.responses import PageOut, PostedEntriesOut
from qoima.api.results import plain
from qoima.api.security import Caller
from qoima.domain.enums import EntryCode, EntryPhase
from qoima.domain.errors import Forbidden, NotFound
from qoima.domain.reference import Account
from qoima.domain.roles import Permission, User
from qoima.ledger.entries import Entry, EntryDraft, PostingDraft

router = api_router("entries")
YAML_TYPE = "application/yaml"
#: The exported document: ``entries``, each as the entry import reads it.
EXPORT_SCHEMA = {"type": "object", "required": ["entries"], "properties": {
    "entries": {"type": "array", "items": {"type": "object", "required": ["id", "date", "code"]}}}}


class PostingIn(Strict):
    account: Code
    amount: Amount
    unit_cost_usd: Amount | None = None
    unit_price_usd: Amount | None = None


class EntryIn(Strict):
    id: Code
    date: Day
    code: EntryCode
    postings: Annotated[list[PostingIn], Field(max_length=1000)] = Field(default_factory=list)
    description: str = ""
    phase: EntryPhase = EntryPhase.POSTED
    resolves: Code | None = None
    reverses: Code | None = None
    metadata: dict[str, str] = Field(default_factory=dict)

    def draft(self) -> EntryDraft:
        return EntryDraft(self.id, self.code, self.date, tuple(
            PostingDraft(p.account, p.amount, p.unit_cost_usd, p.unit_price_usd)
            for p in self.postings), self.description, self.phase, self.resolves,
            self.reverses, tuple(sorted(self.metadata.items())))


class EntriesIn(Strict):
    entries: Annotated[list[EntryIn], Field(min_length=1, max_length=1000)]


def entry_view(entry: Entry) -> EntryOut:
    return EntryOut.of({"seq": entry.seq, "recorded_at": entry.recorded_at,
                        "actor": entry.actor, "content_hash": entry.content_hash,
                        **plain(entry.draft.content())})


def _vehicles(entry: Entry) -> set[str]:
    found = set()
    for posting in entry.draft.postings:
        vehicle = Account.parse(posting.account).vehicle_code
        if vehicle is not None:
            found.add(vehicle)
    return found


def _visible(user: User, entry: Entry) -> bool:
    return all(can_read(user, v) for v in _vehicles(entry))


@router.get("/entries", summary="Entries in date order (name a vehicle unless you read all)")
def list_entries(reserve: ReserveDep, user: UserDep, paging: Paging,
                 vehicle: str | None = None, since: Day | None = None,
                 until: Annotated[Day | None, Query()] = None) -> PageOut[EntryOut]:
    if vehicle is None and not can_read(user, None):
        raise Forbidden("you read only some vehicles: name one with ?vehicle=",
                        user=user.name)
    if vehicle is not None:
        require_read(user, vehicle, f"unknown vehicle {vehicle!r}", "vehicle")
    with reserve.units(write=False) as uow:
        entries = uow.journal.list_entries(limit=paging.limit + 1, offset=paging.offset,
                                           vehicle=vehicle, since=since, until=until)
    return PageOut[EntryOut].of(page_of_fetched([entry_view(e) for e in entries], paging))


@router.get("/entries/{entry_id}")
def get_entry(entry_id: str, reserve: ReserveDep, user: UserDep) -> EntryOut:
    with reserve.units(write=False) as uow:
        entry = uow.journal.find_entry(entry_id)
    if entry is None or not _visible(user, entry):
        raise NotFound(f"no entry {entry_id!r}", field="entry_id")
    return entry_view(entry)


@router.post("/entries", status_code=201, summary="Post entries, all or nothing")
def post_entries(body: EntriesIn, reserve: ReserveDep,
                 principal: Caller) -> PostedEntriesOut:
    results = reserve.book.post([e.draft() for e in body.entries], actor=principal.user)
    return PostedEntriesOut.of({"results": [
        {"entry_id": r.entry_id, "seq": r.seq, "content_hash": r.content_hash,
         "replayed": r.replayed} for r in results]})


@router.get("/entry-export", response_class=Response,
            responses={200: {"content": {YAML_TYPE: {"schema": EXPORT_SCHEMA}},
                             "description": "Every entry, as YAML that the entry import reads "
                             "back"}},
            summary="Every journal entry as a YAML file (needs read access on every vehicle)")
def export_entries(reserve: ReserveDep, user: UserDep) -> Response:
    require_everywhere(user, Permission.READ)
    with reserve.units(write=False) as uow:
        drafts = [e.draft for e in uow.journal.iter_entries()]
    with tempfile.TemporaryDirectory(prefix="qoima-export-") as folder:
        path = Path(folder) / "entries.yaml"
        write_entries(drafts, path)
        text = path.read_bytes()
    return Response(text, media_type=YAML_TYPE,
                    headers={"Content-Disposition": 'attachment; filename="entries.yaml"'})
