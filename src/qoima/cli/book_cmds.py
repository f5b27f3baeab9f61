"""Commands that write the book: reference data, accounts, entries, market quotes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qoima.adapters.entry_export import write_entries
from qoima.adapters.entry_files import read_entries
from qoima.adapters.fields import parse_amount, parse_date, parse_enum
from qoima.adapters.price_files import read_fx, read_prices
from qoima.adapters.reference_files import read_reference
from qoima.app.book import ReferenceData
from qoima.cli.context import state
from qoima.cli.render import console, print_json, quantity, table
from qoima.domain.enums import CostMethod, InstrumentKind, TrancheKind, VehicleKind, Venue
from qoima.domain.errors import Origin
from qoima.domain.reference import (
    Account,
    Instrument,
    Tranche,
    UnderlyingExposure,
    Vehicle,
)

FileArg = Annotated[Path, typer.Argument(help="Input file.", dir_okay=False)]
Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]

reference_app = typer.Typer(help="Reference data: vehicles, instruments, custodians, managers.",
                            no_args_is_help=True)
accounts_app = typer.Typer(help="Accounts: the balances entries post to.", no_args_is_help=True)
entries_app = typer.Typer(help="Journal entries.", no_args_is_help=True)
market_app = typer.Typer(help="Closes and FX rates (minimal table; see the market issue).",
                         no_args_is_help=True)


@reference_app.command("load")
def reference_load(ctx: typer.Context, file: FileArg) -> None:
    """Register everything in a reference YAML file, atomically (re-loading is a no-op)."""
    data = read_reference(file)
    result = state(ctx).reserve().book.register(data, actor=state(ctx).actor)
    console.print(f"{file}: {result.created} created, {result.unchanged} already present")


@reference_app.command("add-vehicle")
def add_vehicle(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="Vehicle code, e.g. da-sleeve.")],
    name: Annotated[str, typer.Option(help="Display name.")],
    kind: Annotated[VehicleKind, typer.Option(help="What kind of vehicle.")],
    tranche: Annotated[list[str] | None, typer.Option(
        help="CODE:KIND, repeatable (e.g. liquidity:liquidity).")] = None,
    cost_method: Annotated[CostMethod, typer.Option(help="Lot relief method.")]
    = CostMethod.FIFO,
    parent: Annotated[str | None, typer.Option(help="Parent vehicle code.")] = None,
) -> None:
    """Register one vehicle with its tranches."""
    tranches = []
    for text in tranche or []:
        tranche_code, _, tranche_kind = text.partition(":")
        tranches.append(Tranche(tranche_code, parse_enum(
            TrancheKind, tranche_kind or "general", origin=Origin("--tranche"), field="tranche")))
    vehicle = Vehicle(code, name, kind, cost_method, parent, tuple(tranches))
    result = state(ctx).reserve().book.register(ReferenceData(vehicles=(vehicle,)),
                                                actor=state(ctx).actor)
    console.print(f"vehicle {code}: {'registered' if result.created else 'already registered'}")


@reference_app.command("add-instrument")
def add_instrument(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="Instrument code, e.g. IBIT.")],
    name: Annotated[str, typer.Option(help="Display name.")],
    kind: Annotated[InstrumentKind, typer.Option(help="What kind of instrument.")],
    scale: Annotated[int, typer.Option(help="Decimal places of its quantity.")],
    currency: Annotated[str | None, typer.Option(help="Quote currency (cash: itself).")]
    = None,
    ticker: Annotated[str | None, typer.Option()] = None,
    isin: Annotated[str | None, typer.Option()] = None,
    venue: Annotated[Venue | None, typer.Option()] = None,
    chain: Annotated[str | None, typer.Option()] = None,
    contract: Annotated[str | None, typer.Option()] = None,
    underlying: Annotated[str | None, typer.Option(
        help="ASSET:UNITS_PER_SHARE for wrappers, e.g. BTC:0.000568.")] = None,
    price_factor: Annotated[str, typer.Option(help="Value = qty x price x factor.")] = "1",
) -> None:
    """Register one instrument (its external account opens with it)."""
    exposure = None
    if underlying:
        asset, _, units = underlying.partition(":")
        amount = parse_amount(units, origin=Origin("--underlying"), field="underlying")
        assert amount is not None
        exposure = UnderlyingExposure(asset, amount)
    factor = parse_amount(price_factor, origin=Origin("--price-factor"), field="price_factor")
    assert factor is not None
    instrument = Instrument(
        code, name, kind, scale,
        currency or (code if kind is InstrumentKind.CASH else "USD"), factor, ticker, isin,
        venue, chain, contract, exposure)
    result = state(ctx).reserve().book.register(ReferenceData(instruments=(instrument,)),
                                                actor=state(ctx).actor)
    console.print(f"instrument {code}: "
                  f"{'registered' if result.created else 'already registered'}")


@reference_app.command("list")
def reference_list(ctx: typer.Context, json: Json = False) -> None:
    """Vehicles (with tranches), instruments, custodians and managers."""
    with state(ctx).reserve().units(write=False) as uow:
        repo = uow.reference
        vehicles, instruments = repo.list_vehicles(), repo.list_instruments()
        custodians, managers = repo.list_custodians(), repo.list_managers()
    if json:
        print_json({"vehicles": vehicles, "instruments": instruments,
                    "custodians": custodians, "managers": managers})
        return
    console.print(table("Vehicles", [("code", "l"), ("kind", "l"), ("name", "l"),
                                     ("tranches", "l"), ("cost method", "l")],
                        [[v.code, v.kind.value, v.name, ", ".join(t.code for t in v.tranches),
                          v.cost_method.value] for v in vehicles]))
    console.print(table("Instruments", [("code", "l"), ("kind", "l"), ("name", "l"),
                                        ("scale", "r"), ("venue", "l"), ("underlying", "l")],
                        [[i.code, i.kind.value, i.name, str(i.scale),
                          i.venue.value if i.venue else "",
                          f"{i.underlying.units_per_share} {i.underlying.asset}/share"
                          if i.underlying else ""] for i in instruments]))
    console.print(table("Custodians", [("code", "l"), ("kind", "l"), ("name", "l")],
                        [[c.code, c.kind.value, c.name] for c in custodians]))
    console.print(table("Managers", [("code", "l"), ("kind", "l"), ("name", "l"),
                                     ("strategy", "l")],
                        [[m.code, m.kind.value, m.name, m.strategy] for m in managers]))


@accounts_app.command("open")
def account_open(ctx: typer.Context, code: Annotated[str, typer.Argument(
        help="KIND:[VEHICLE[/TRANCHE]:]INSTRUMENT[@CUSTODIAN][#LABEL]")]) -> None:
    """Open an account, e.g. holding:da-sleeve/main:IBIT@bny."""
    opened = state(ctx).reserve().book.open_account(Account.parse(code), actor=state(ctx).actor)
    console.print(f"{code}: {'opened' if opened else 'already open'}")


@accounts_app.command("list")
def account_list(ctx: typer.Context, json: Json = False) -> None:
    """Every open account."""
    with state(ctx).reserve().units(write=False) as uow:
        accounts = uow.reference.list_accounts()
    if json:
        print_json([{"code": a.code, "kind": a.account.kind, "instrument": a.instrument.code,
                     "vehicle": a.account.vehicle_code, "tranche": a.account.tranche_code,
                     "custodian": a.account.custodian_code} for a in accounts])
        return
    console.print(table("Accounts", [("code", "l"), ("kind", "l")],
                        [[a.code, a.account.kind.value] for a in accounts]))


def post(ctx: typer.Context, file: FileArg) -> None:
    """Post every entry of a YAML or CSV file, all or nothing; replays change nothing."""
    drafts = read_entries(file)
    results = state(ctx).reserve().book.post(drafts, actor=state(ctx).actor)
    replayed = sum(1 for r in results if r.replayed)
    console.print(f"{file}: {len(results) - replayed} posted, {replayed} already recorded")


@entries_app.command("list")
def entries_list(ctx: typer.Context,
                 vehicle: Annotated[str | None, typer.Option(help="Touching this vehicle.")] = None,
                 since: Annotated[str | None, typer.Option(help="From date.")] = None,
                 until: Annotated[str | None, typer.Option(help="To date.")] = None,
                 limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
                 offset: Annotated[int, typer.Option(min=0)] = 0, json: Json = False) -> None:
    """Entries in date order with their postings."""
    with state(ctx).reserve().units(write=False) as uow:
        entries = uow.journal.list_entries(
            limit=limit, offset=offset, vehicle=vehicle,
            since=parse_date(since, origin=Origin("--since"), field="since") if since else None,
            until=parse_date(until, origin=Origin("--until"), field="until") if until else None)
    if json:
        print_json([{"seq": e.seq, "recorded_at": e.recorded_at, "actor": e.actor,
                     "content_hash": e.content_hash, **e.draft.content()} for e in entries])
        return
    rows = []
    for e in entries:
        for i, p in enumerate(e.draft.postings or ()):
            rows.append([e.entry_id if i == 0 else "", str(e.value_date) if i == 0 else "",
                         e.draft.code.value if i == 0 else "",
                         e.draft.phase.value if i == 0 else "", p.account, quantity(p.amount)])
        if not e.draft.postings:
            rows.append([e.entry_id, str(e.value_date), e.draft.code.value,
                         e.draft.phase.value, f"(resolves {e.draft.resolves_entry_id})", ""])
    console.print(table("Journal", [("id", "l"), ("date", "l"), ("code", "l"), ("phase", "l"),
                                    ("account", "l"), ("amount", "r")], rows))


@entries_app.command("export")
def entries_export(ctx: typer.Context, file: Annotated[Path, typer.Argument(
        help="YAML file to write.", dir_okay=False)]) -> None:
    """Write every entry to a YAML file that 'qoima post' reads back."""
    with state(ctx).reserve().units(write=False) as uow:
        drafts = [e.draft for e in uow.journal.iter_entries()]
    console.print(f"{write_entries(drafts, file)} entries written to {file}")


@market_app.command("load-prices")
def market_prices(ctx: typer.Context, file: FileArg,
                  source: Annotated[str, typer.Option(help="Source when the file has none.")]
                  = "file") -> None:
    """Load closes: instrument,date,price[,currency][,source]."""
    quotes = read_prices(file, default_source=f"{source}:{file.name}")
    changed, _ = state(ctx).reserve().book.add_quotes(quotes, [], actor=state(ctx).actor,
                                                      source_name=file.name)
    console.print(f"{file}: {len(quotes)} closes read, {changed} new or corrected")


@market_app.command("load-fx")
def market_fx(ctx: typer.Context, file: FileArg,
              source: Annotated[str, typer.Option(help="Source when the file has none.")]
              = "file") -> None:
    """Load FX rates: base,quote,date,rate[,source] (USD,KZT,2026-01-05,512.30)."""
    quotes = read_fx(file, default_source=f"{source}:{file.name}")
    _, changed = state(ctx).reserve().book.add_quotes([], quotes, actor=state(ctx).actor,
                                                      source_name=file.name)
    console.print(f"{file}: {len(quotes)} rates read, {changed} new or corrected")
