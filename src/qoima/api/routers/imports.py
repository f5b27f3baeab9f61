"""File imports the CLI has (``qoima post``, ``market load-prices``/``load-fx``, ``manager
import-statement``): the file is parsed whole by the CLI's adapter before anything is
stored, so a bad file names its line and field and writes nothing."""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Query

from qoima.adapters.entry_files import read_entries
from qoima.adapters.mandate_files import read_mandate
from qoima.adapters.market_files import read_series
from qoima.adapters.price_files import read_fx, read_prices
from qoima.adapters.series_naming import guess_series
from qoima.adapters.statement_files import ColumnMap, column_pairs, read_statement
from qoima.api.access import require_read
from qoima.api.deps import ReserveDep, UserDep, api_router
from qoima.api.responses import FindingOut, Out, PostedEntriesOut
from qoima.api.uploads import CSV, XLSX, YAML, FileIn, parse_file, upload_post
from qoima.app.managers import ManagerService
from qoima.bootstrap.wiring import Reserve
from qoima.domain.errors import ConfigurationError, NotFound
from qoima.domain.roles import Permission, authorize
from qoima.market.calendars import CalendarName
from qoima.market.series import Series, SeriesId

router = api_router("imports")
ENTRY_FILES = {**CSV, **YAML}


class QuotesImportOut(Out):
    filename: str
    read: int
    changed: int


class SeriesImportOut(Out):
    series_id: str
    bars: int
    written: int  # new or changed bars; 0 when the store held exactly this already
    first_date: str
    last_date: str
    warnings: int
    content_hash: str


class MandateOut(Out):
    manager: str
    version: int
    vehicle: str
    kind: str
    content_hash: str
    recorded_at: str
    recorded_by: str
    mandate: dict[str, Any]  # limits, fees, liquidity terms, benchmark


class StatementImportOut(Out):
    manager: str
    period_start: str
    period_end: str
    replayed: bool
    file_hash: str
    closing_nav: str
    posted: list[str]
    matched: list[str]
    findings: list[FindingOut]


@upload_post(router, "/entries/imports", ENTRY_FILES, status_code=201,
             response_model=PostedEntriesOut,
             summary="Post every entry of a YAML or CSV file, all or nothing")
def import_entries(body: FileIn, reserve: ReserveDep, user: UserDep) -> PostedEntriesOut:
    drafts = parse_file(body, (".yaml", ".yml", ".csv"), read_entries)
    results = reserve.book.post(drafts, actor=user.name)
    return PostedEntriesOut.of({"results": [
        {"entry_id": r.entry_id, "seq": r.seq, "content_hash": r.content_hash,
         "replayed": r.replayed} for r in results]})


@upload_post(router, "/market/prices/imports", CSV, status_code=201,
             response_model=QuotesImportOut,
             summary="Load closes from CSV: instrument,date,price[,currency][,source]")
def import_prices(body: FileIn, reserve: ReserveDep, user: UserDep) -> QuotesImportOut:
    quotes = parse_file(body, (".csv",), lambda path: read_prices(
        path, default_source=f"api:{body.filename}"))
    changed, _ = reserve.book.add_quotes(quotes, [], actor=user.name,
                                         source_name=body.filename)
    return QuotesImportOut(filename=body.filename, read=len(quotes), changed=changed)


@upload_post(router, "/market/fx/imports", CSV, status_code=201,
             response_model=QuotesImportOut,
             summary="Load FX rates from CSV: base,quote,date,rate[,source]")
def import_fx(body: FileIn, reserve: ReserveDep, user: UserDep) -> QuotesImportOut:
    rates = parse_file(body, (".csv",), lambda path: read_fx(
        path, default_source=f"api:{body.filename}"))
    _, changed = reserve.book.add_quotes([], rates, actor=user.name, source_name=body.filename)
    return QuotesImportOut(filename=body.filename, read=len(rates), changed=changed)


@upload_post(router, "/market/series/imports", CSV, status_code=201,
             response_model=SeriesImportOut,
             summary="Import one price, FX or rate series from CSV (generic, Yahoo or FRED "
             "layout), checked completely before it is stored")
def import_series(body: FileIn, reserve: ReserveDep, user: UserDep,
                  series: Annotated[str | None, Query(
                      max_length=100, description="price:CODE, fx:BASE/QUOTE or rate:CODE "
                      "(default: guessed from the file name)")] = None,
                  fmt: Annotated[Literal["auto", "generic", "yahoo", "fred"], Query(
                      alias="format")] = "auto",
                  calendar: CalendarName | None = None,
                  currency: Annotated[str | None, Query(max_length=10)] = None
                  ) -> SeriesImportOut:
    def read(path: Path) -> Series:
        guess = guess_series(path)
        return read_series(path, series_id=SeriesId.parse(series) if series
                           else guess.series_id, fmt=fmt,
                           calendar=calendar or guess.calendar,
                           source=f"api:{body.filename}",
                           currency=currency or guess.currency)
    loaded = parse_file(body, (".csv",), read)
    [outcome] = reserve.market_data.import_series([loaded], actor=user.name,
                                                  origin=body.filename)
    return SeriesImportOut.of({**{name: getattr(outcome, name)
                                  for name in outcome.__slots__},
                               "series_id": str(outcome.series_id)})


@upload_post(router, "/managers/mandates", YAML, status_code=201,
             response_model=MandateOut,
             summary="Add a manager's mandate from its YAML file, or replace the one in "
             "force by a new version; the same mandate again changes nothing")
def set_mandate(body: FileIn, reserve: ReserveDep, user: UserDep) -> MandateOut:
    mandate = parse_file(body, (".yaml", ".yml"), read_mandate)
    view = _managers(reserve).set_mandate(mandate, actor=user.name, source_text=body.text())
    r = view.record
    return MandateOut.of({"manager": r.manager_code, "version": r.version,
                          "vehicle": r.vehicle_code, "kind": r.kind,
                          "content_hash": r.content_hash, "recorded_at": r.recorded_at,
                          "recorded_by": r.recorded_by, "mandate": asdict(view.mandate)})


def _managers(reserve: Reserve) -> ManagerService:
    service = reserve.managers
    if not isinstance(service, ManagerService):
        raise ConfigurationError("manager services are not wired into this reserve")
    return service


@upload_post(router, "/managers/{code}/statements", {**CSV, **XLSX}, status_code=201,
             response_model=StatementImportOut,
             summary="Import a manager's statement (CSV or XLSX): validated, flows booked, "
             "all or nothing; the same file again changes nothing")
def import_statement(
        code: str, body: FileIn, reserve: ReserveDep, user: UserDep,
        sheet: Annotated[str | None, Query(max_length=100, description=(
            "XLSX: the sheet to read (default: 'statement', else the first)"))] = None,
        columns: Annotated[str | None, Query(max_length=2000, description=(
            "Their headers for our fields: field=Header,field=Header"))] = None,
        received: Annotated[date | None, Query(description=(
            "When the statement arrived (default: today), for lateness"))] = None,
) -> StatementImportOut:
    service = _managers(reserve)
    missing = f"unknown manager {code!r}"
    with reserve.units(write=False) as uow:
        manager = uow.reference.find_manager(code)
    if manager is None:
        raise NotFound(missing, field="code")
    require_read(user, manager.vehicle_code, missing, "code")
    # a replay writes nothing, so the service would not check it: refuse it here as well
    authorize(user, Permission.ENTRY_POST, manager.vehicle_code)
    column_map = column_pairs(columns, field="columns") if columns else ColumnMap({})
    if sheet:
        column_map = ColumnMap(column_map.columns, sheet)
    # the hash of the file's bytes, as the CLI records it: the same file is the same import
    file_hash = hashlib.sha256(body.data()).hexdigest()
    context = service.import_context(code, file_hash)
    result = context.replay
    if result is None:
        statement = parse_file(body, (".csv", ".xlsx"), lambda path: read_statement(
            path, manager_code=code, known_assets=context.known_assets,
            previous_period_end=context.previous_period_end, columns=column_map,
            received_on=received or datetime.now(UTC).date()))
        result = service.import_statement(statement, file_hash=file_hash, actor=user.name,
                                          column=column_map.header)
    r = result.record
    return StatementImportOut.of({
        "manager": r.manager_code, "period_start": r.period_start,
        "period_end": r.period_end, "replayed": result.replayed, "file_hash": r.file_hash,
        "closing_nav": r.closing_nav, "posted": list(result.posted),
        "matched": list(result.matched), "findings": list(result.findings)})
