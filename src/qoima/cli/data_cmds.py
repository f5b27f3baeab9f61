"""``qoima data``: import, fetch, list, show and check market series."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from qoima.adapters.market_files import ColumnMap, read_series
from qoima.adapters.price_files import read_etf_facts
from qoima.adapters.series_naming import guess_series
from qoima.bootstrap.sources import PROVIDERS, market_source
from qoima.cli.context import state
from qoima.cli.options import Json
from qoima.cli.options import parse_date as _date
from qoima.cli.render import console, print_json, table
from qoima.market.quality import DEFAULT_LIMITS
from qoima.market.series import Series, SeriesId, SeriesInfo, SeriesKind

data_app = typer.Typer(no_args_is_help=True,
                       help="Market series: prices (OHLCV), FX rates and interest rates.")





def _column_map(text: str | None) -> ColumnMap | None:
    """``date=Date,close=Px Last,volume=Vol`` into a column map."""
    if not text:
        return None
    pairs = {}
    for part in text.split(","):
        name, sep, column = part.partition("=")
        if not sep or not column.strip():
            raise typer.BadParameter(f"{part!r} is not FIELD=COLUMN", param_hint="--map")
        pairs[name.strip()] = column.strip()
    try:
        return ColumnMap(**pairs)
    except TypeError as error:
        raise typer.BadParameter(str(error), param_hint="--map") from None


@data_app.command("import")
def import_files(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="CSV (generic, Yahoo, FRED) or Parquet "
                                                "files; each imports completely or not at all.")],
    series: Annotated[str | None, typer.Option(
        "--series", help="What the file holds: price:CODE, fx:BASE/QUOTE or rate:CODE "
        "(default: guessed from the file name; only with one file).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="auto, generic, yahoo, fred, parquet, "
                                     "or columns (with --map).")] = "auto",
    calendar: Annotated[str | None, typer.Option(
        "--calendar", help="crypto, xnys, aix, kz-valuation or weekdays (default: guessed).")
    ] = None,
    currency: Annotated[str | None, typer.Option("--currency", help="Quote currency.")] = None,
    source: Annotated[str | None, typer.Option(
        "--source", help="Where the data came from (default: file:<name>).")] = None,
    column_map: Annotated[str | None, typer.Option(
        "--map", help="Columns of any other CSV: date=COL,close=COL[,open=..,high=..,low=..,"
        "volume=..,date_format=%d.%m.%Y].")] = None,
    allow_non_positive: Annotated[bool, typer.Option(
        "--allow-non-positive", help="Accept zero or negative prices (WTI futures closed at "
        "-37.63 on 2020-04-20); without it they are errors.")] = False,
    lenient_ohlc: Annotated[bool, typer.Option(
        "--lenient-ohlc", help="Report open/close outside the day's high-low range as "
        "warnings, not errors (some published series mix settlement and range).")] = False,
    json: Json = False,
) -> None:
    """Validate every file, then store them all in one transaction (or nothing)."""
    if series and len(files) > 1:
        raise typer.BadParameter("--series names one file's series; import files one by one",
                                 param_hint="--series")
    mapping = _column_map(column_map)
    limits = replace(DEFAULT_LIMITS, allow_non_positive=allow_non_positive,
                     strict_ohlc=not lenient_ohlc)
    loaded: list[Series] = []
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("validating", total=len(files))
        for path in files:
            progress.update(task, description=f"validating {path.name}")
            guess = guess_series(path)
            loaded.append(read_series(
                path, series_id=SeriesId.parse(series) if series else guess.series_id,
                fmt=fmt, calendar=calendar or guess.calendar,
                source=source or f"file:{path.name}",
                currency=currency or guess.currency, column_map=mapping, limits=limits))
            progress.advance(task)
        progress.update(task, description="storing")
        outcomes = state(ctx).reserve().market_data.import_series(
            loaded, actor=state(ctx).actor, origin=", ".join(str(p) for p in files))
    if json:
        print_json({"imported": outcomes,
                    "warnings": {str(s.id): s.warnings for s in loaded if s.warnings}})
        return
    console.print(table("Imported series", [
        ("series", "l"), ("bars", "r"), ("written", "r"), ("first", "l"), ("last", "l"),
        ("warnings", "r")], [[str(o.series_id), f"{o.bars:,}", f"{o.written:,}",
                              str(o.first_date), str(o.last_date), str(o.warnings)]
                             for o in outcomes]))
    for item in loaded:
        for finding in item.warnings[:5]:
            console.print(f"[yellow]warning[/] {item.id}: {finding.message}", highlight=False)
        if len(item.warnings) > 5:
            console.print(f"  … and {len(item.warnings) - 5} more for {item.id} "
                          "(qoima data check shows them all)")


@data_app.command("list")
def list_series(ctx: typer.Context, json: Json = False) -> None:
    """Every stored series: source, calendar, date range, bars and warnings."""
    infos = state(ctx).reserve().market_data.list_series()
    if json:
        print_json([_plain_info(i) for i in infos])
        return
    if not infos:
        console.print("no market series stored yet: qoima data import FILE... or data fetch")
        return
    console.print(table("Market series", [
        ("series", "l"), ("source", "l"), ("calendar", "l"), ("first", "l"), ("last", "l"),
        ("bars", "r"), ("warnings", "r")],
        [[str(i.id) + (" [SYNTHETIC]" if i.is_synthetic else ""), i.source, i.calendar,
          str(i.first_date), str(i.last_date), f"{i.bars:,}", str(len(i.warnings))]
         for i in infos]))


def _plain_info(info: SeriesInfo) -> dict[str, object]:
    return {"series": str(info.id), "kind": info.id.kind, "code": info.id.code,
            "source": info.source, "synthetic": info.is_synthetic, "calendar": info.calendar,
            "currency": info.currency, "first_date": info.first_date,
            "last_date": info.last_date, "bars": info.bars,
            "content_hash": info.content_hash, "warnings": info.warnings,
            "updated_at": info.updated_at}


@data_app.command("show")
def show(ctx: typer.Context,
         series: Annotated[str, typer.Argument(help="price:CODE, fx:BASE/QUOTE or rate:CODE")],
         since: Annotated[str | None, typer.Option("--since", help="First date.")] = None,
         until: Annotated[str | None, typer.Option("--until", help="Last date.")] = None,
         json: Json = False) -> None:
    """The stored bars of one series."""
    found = state(ctx).reserve().market_data.load_series(
        SeriesId.parse(series), _date(since, "--since"), _date(until, "--until"))
    adv = (state(ctx).reserve().market_data.average_daily_volume(found.id.code,
                                                                 found.bars[-1].day)
           if found.bars and found.id.kind is SeriesKind.PRICE else None)
    if json:
        print_json({"series": str(found.id), "source": found.source,
                    "synthetic": found.is_synthetic, "calendar": found.calendar,
                    "currency": found.currency, "adv_20": adv, "bars": found.bars})
        return
    caption = None if adv is None else f"average daily volume, last 20 bars: {adv:,.0f}"
    synthetic = " [SYNTHETIC]" if found.is_synthetic else ""
    console.print(table(f"{found.id}{synthetic} ({found.source}, {found.calendar})", [
        ("date", "l"), ("open", "r"), ("high", "r"), ("low", "r"), ("close", "r"),
        ("volume", "r")], [[str(b.day), *(("" if v is None else format(v, "f"))
                                          for v in (b.open, b.high, b.low, b.close, b.volume))]
                           for b in found.bars], caption=caption))


@data_app.command("check")
def check(ctx: typer.Context,
          as_of: Annotated[str | None, typer.Option(
              "--as-of", help="Measure staleness against this date (default: the latest "
              "stored date).")] = None,
          json: Json = False) -> None:
    """Quality report for what is stored; exits 1 when any series has an error."""
    service = state(ctx).reserve().market_data
    total = len(service.list_series())
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("checking", total=total)
        checks = service.check(_date(as_of, "--as-of"),
                               progress=lambda info: progress.update(
                                   task, advance=1, description=f"checking {info.id}"))
    failed = any(f.severity.value in ("error", "blocking") for c in checks for f in c.findings)
    if json:
        print_json([{"series": str(c.info.id), "as_of": c.as_of_date,
                     "lag_sessions": c.lag_sessions, "worst": c.worst,
                     "findings": c.findings} for c in checks])
    else:
        console.print(table("Market data quality", [
            ("series", "l"), ("last", "l"), ("lag (sessions)", "r"), ("findings", "r"),
            ("worst", "l"), ("first finding", "l")],
            [[str(c.info.id), str(c.info.last_date), str(c.lag_sessions),
              str(len(c.findings)), c.worst.value if c.worst else "ok",
              c.findings[0].message if c.findings else ""] for c in checks]))
    if failed:
        raise typer.Exit(1)



@data_app.command("etf-facts")
def etf_facts(ctx: typer.Context,
              file: Annotated[Path | None, typer.Argument(
                  help="CSV: instrument,date,underlying,units_per_share,expense_ratio"
                  "[,source]. Without a file, print the facts as of --as-of.")] = None,
              as_of: Annotated[str | None, typer.Option("--as-of", help="Date to list facts "
                                                        "for (default: today).")] = None,
              json: Json = False) -> None:
    """Load or list ETF look-through facts: underlying, units per share, expense ratio."""
    service = state(ctx).reserve().market_data
    if file is not None:
        facts = read_etf_facts(file, default_source=f"file:{file.name}")
        changed = service.import_etf_facts(facts, actor=state(ctx).actor, origin=str(file))
        if json:
            print_json({"rows": len(facts), "changed": changed})
        else:
            console.print(f"{len(facts)} ETF fact rows read, {changed} new or changed")
        return
    day = _date(as_of, "--as-of") or datetime.now(UTC).date()
    found = service.etf_facts(day)
    if json:
        print_json(list(found.values()))
        return
    console.print(table(f"ETF facts as of {day}", [
        ("ETF", "l"), ("since", "l"), ("underlying", "l"), ("units/share", "r"),
        ("expense ratio", "r"), ("source", "l")],
        [[f.instrument_code, str(f.as_of_date), f.underlying, format(f.units_per_share, "f"),
          format(f.expense_ratio, "f"), f.source] for f in found.values()]))


@data_app.command("fetch")
def fetch(
    ctx: typer.Context,
    symbols: Annotated[list[str], typer.Argument(
        help="Series to fetch: BTC, price:IBIT, fx:USD/KZT, rate:DGS10 ...")],
    since: Annotated[str, typer.Option("--since", help="First date (YYYY-MM-DD).")],
    until: Annotated[str | None, typer.Option("--until", help="Last date (default: today).")
                     ] = None,
    providers: Annotated[str, typer.Option(
        "--provider", help="Providers to try, in order (comma-separated).")
    ] = ",".join(PROVIDERS),
    no_cache: Annotated[bool, typer.Option(
        "--no-cache", help="Do not read or write the workspace's cache/market.")] = False,
    json: Json = False,
) -> None:
    """Download series from Yahoo Finance, CoinGecko or FRED (the first that answers).

    Validated like a file and stored in one transaction; offline it fails at once.
    """
    first = _date(since, "--since")
    last = _date(until, "--until") or datetime.now(UTC).date()
    assert first is not None
    ids = [SeriesId.parse(s) for s in symbols]
    cli = state(ctx)
    reserve = cli.reserve()
    cache = None if no_cache else _cache_directory(reserve.location, cli.settings.home)
    source = market_source(cache, [p.strip() for p in providers.split(",") if p.strip()],
                           cli.settings)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("fetching", total=len(ids))

        def step(series_id: SeriesId) -> None:
            progress.update(task, completed=ids.index(series_id),
                            description=f"fetching {series_id}")

        fetched, outcomes = reserve.market_data.fetch(source, ids, first, last,
                                                      actor=cli.actor, progress=step)
    if json:
        print_json({"imported": outcomes, "sources": {str(s.id): s.source for s in fetched},
                    "warnings": {str(s.id): s.warnings for s in fetched if s.warnings}})
        return
    console.print(table("Fetched series", [
        ("series", "l"), ("source", "l"), ("bars", "r"), ("written", "r"), ("first", "l"),
        ("last", "l"), ("warnings", "r")],
        [[str(o.series_id), s.source, f"{o.bars:,}", f"{o.written:,}", str(o.first_date),
          str(o.last_date), str(o.warnings)] for o, s in zip(outcomes, fetched, strict=True)]))


def _cache_directory(location: str, home: Path) -> Path:
    """``cache/market`` in the workspace directory; with PostgreSQL (no directory) in
    ``QOIMA_HOME``."""
    workspace = Path(location)
    return (workspace if workspace.is_dir() else home) / "cache" / "market"
