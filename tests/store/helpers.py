"""Reading a reserve's book back for store tests: balances, recomputed sums, counts."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from sqlalchemy import delete

from qoima.bootstrap.wiring import Reserve
from qoima.domain.enums import EntryPhase
from qoima.domain.money import MONEY_CONTEXT
from qoima.ledger.entries import Entry
from qoima.store.tables import metadata
from tests.builders import reference_data


def ready(reserve: Reserve) -> Reserve:
    """The reserve with the shared test reference data registered."""
    reserve.book.register(reference_data(), actor="setup")
    return reserve


def wipe(reserve: Reserve) -> Reserve:
    """Delete every row (schema stays), then register the reference data again."""
    with reserve.engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(delete(table))
    return ready(reserve)


def nonzero(balances: dict[str, Decimal]) -> dict[str, Decimal]:
    return {code: amount for code, amount in balances.items() if amount != 0}


def balances(reserve: Reserve, day: date) -> dict[str, Decimal]:
    """Non-zero balances from the stored balances table as of ``day``."""
    with reserve.units(write=False) as uow:
        return nonzero(dict(uow.journal.balances_as_of(day)))


def entries(reserve: Reserve) -> list[Entry]:
    with reserve.units(write=False) as uow:
        return list(uow.journal.iter_entries())


def sum_postings(stored: list[Entry], day: date) -> dict[str, Decimal]:
    """Balances recomputed in Python from every posted entry dated on or before ``day``."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for entry in stored:
        if entry.draft.phase is EntryPhase.POSTED and entry.value_date <= day:
            for posting in entry.draft.postings:
                totals[posting.account] = MONEY_CONTEXT.add(totals[posting.account],
                                                            posting.amount)
    return nonzero(dict(totals))


def counts(reserve: Reserve) -> tuple[int, int]:
    """(entries in the book, records in the audit trail)."""
    with reserve.units(write=False) as uow:
        return uow.journal.count_entries(), uow.audit.count()


def assert_book_consistent(reserve: Reserve, days: list[date]) -> None:
    """Every entry balances per asset, balances table == sum of postings on every day."""
    stored = entries(reserve)
    with reserve.units(write=False) as uow:
        infos = {info.code: info for info in uow.reference.list_accounts()}
    for entry in stored:
        per_asset: dict[str, Decimal] = defaultdict(Decimal)
        for posting in entry.draft.postings:
            code = infos[posting.account].instrument.code
            per_asset[code] = MONEY_CONTEXT.add(per_asset[code], posting.amount)
        assert all(total == 0 for total in per_asset.values()), (entry.entry_id, per_asset)
    for day in days:
        assert balances(reserve, day) == sum_postings(stored, day), day
