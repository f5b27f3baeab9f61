"""``qoima manager``: mandates, statement imports, performance, scorecards, look-through."""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

from qoima.adapters.mandate_files import read_mandate
from qoima.adapters.statement_files import (
    ColumnMap,
    column_pairs,
    read_column_map,
    read_statement,
)
from qoima.app.manager_analysis import LookThrough, Performance
from qoima.app.manager_records import findings_of
from qoima.app.managers import ManagerService, MandateView, StatementImport
from qoima.bootstrap.wiring import SystemClock
from qoima.cli.context import state
from qoima.cli.options import Json, parse_date
from qoima.cli.render import console, money, print_json, table
from qoima.domain.enums import Severity
from qoima.domain.errors import InvalidInput, Origin
from qoima.domain.findings import Finding
from qoima.managers.oversight import COMPARISON_COLUMNS, Scorecard
from qoima.store.manager_repo import manager_repository

manager_app = typer.Typer(no_args_is_help=True, help="External managers: mandates, "
                          "statements, performance, oversight and look-through.")
AsOf = Annotated[str | None, typer.Option("--as-of", help="Date (default: the last market "
                                          "date).")]
FAILING = (Severity.BLOCKING, Severity.ERROR)
RATIOS = frozenset({"twr", "irr", "volatility", "max_drawdown"})


def _service(ctx: typer.Context) -> ManagerService:
    reserve = state(ctx).reserve()
    wired = getattr(reserve, "managers", None)
    if isinstance(wired, ManagerService):
        return wired
    return ManagerService(reserve.units, SystemClock(), manager_repository)


def _as_of(ctx: typer.Context, text: str | None) -> date:
    given = parse_date(text, "--as-of")
    if given is not None:
        return given
    return state(ctx).reserve().valuation.default_as_of() or datetime.now(UTC).date()


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.2%}"


def _num(value: float | None, places: int = 2) -> str:
    return "—" if value is None else f"{value:.{places}f}"


def _column_map(text: str | None, sheet: str | None) -> ColumnMap:
    """A YAML file (``sheet:``, ``columns:``) or ``field=Header,field=Header``."""
    if text is None:
        found = ColumnMap({})
    elif Path(text).is_file():
        found = read_column_map(Path(text))
    else:
        try:
            found = column_pairs(text)
        except InvalidInput as error:
            raise typer.BadParameter(f"{error.message} (or give a YAML column map file)",
                                     param_hint="--map") from None
    return ColumnMap(found.columns, sheet) if sheet else found


def _findings_table(findings: tuple[Finding, ...] | list[Finding], title: str) -> None:
    if findings:
        console.print(table(title, [("severity", "l"), ("rule", "l"), ("subject", "l"),
                                    ("message", "l")],
                            [[str(f.severity), f.rule, f.subject, f.message]
                             for f in findings]))


def _mandate_plain(view: MandateView) -> dict[str, Any]:
    r = view.record
    return {"manager": r.manager_code, "version": r.version, "vehicle": r.vehicle_code,
            "kind": r.kind, "content_hash": r.content_hash, "recorded_at": r.recorded_at,
            "recorded_by": r.recorded_by, "mandate": asdict(view.mandate)}


@manager_app.command("add")
def add(ctx: typer.Context, file: Annotated[Path, typer.Argument(
        help="Mandate YAML (see qoima.adapters.mandate_files).")], json: Json = False) -> None:
    """Add a manager's mandate, or replace the one in force by a new version."""
    mandate = read_mandate(file)
    view = _service(ctx).set_mandate(mandate, actor=state(ctx).actor,
                                     source_text=file.read_text(encoding="utf-8"))
    if json:
        print_json(_mandate_plain(view))
        return
    console.print(f"mandate {view.record.manager_code} version {view.record.version} "
                  f"({view.record.content_hash[:12]}) in force", highlight=False)


@manager_app.command("show")
def show(ctx: typer.Context, manager: str, json: Json = False) -> None:
    """A mandate and the statements imported under it."""
    service = _service(ctx)
    view = service.mandate(manager)
    statements = service.statements(manager)
    if json:
        print_json({**_mandate_plain(view), "statements": [
            {"period_start": s.period_start, "period_end": s.period_end,
             "opening_nav": s.opening_nav, "closing_nav": s.closing_nav,
             "received_on": s.received_on, "source": s.source_file, "sheet": s.source_sheet,
             "flows": list(s.flows), "fees": list(s.fees), "exposures": list(s.exposures),
             "findings": findings_of(s.findings_json)} for s in statements]})
        return
    m = view.mandate
    console.print(f"[bold]{m.manager_code}[/] ({m.kind}, {m.vehicle_code}): {m.strategy}; "
                  f"since {m.inception}, mandate version {view.record.version}",
                  highlight=False)
    console.print(f"fees: management {m.fees.management_rate:%} on {m.fees.management_basis}, "
                  f"performance {m.fees.performance_rate:%}, carry {m.fees.carry_rate:%}; "
                  f"statements {m.statement_frequency} within {m.statement_lag_days} days",
                  highlight=False)
    console.print(table("Statements", [("period", "l"), ("opening NAV", "r"), ("flows", "r"),
                                       ("fees", "r"), ("closing NAV", "r"), ("received", "l"),
                                       ("findings", "r")],
                        [[f"{s.period_start}..{s.period_end}", money(s.opening_nav),
                          str(len(s.flows)), money(sum((f.amount for f in s.fees), Decimal(0))),
                          money(s.closing_nav), str(s.received_on or "—"),
                          str(len(findings_of(s.findings_json)))] for s in statements]))


@manager_app.command("list")
def list_mandates(ctx: typer.Context, json: Json = False) -> None:
    """Every mandate in force and its latest statement."""
    service = _service(ctx)
    views = service.mandates()
    latest = {s.manager_code: s for s in service.statements()}
    if json:
        print_json([{**_mandate_plain(v), "last_period_end": latest[c].period_end if (
            c := v.record.manager_code) in latest else None,
            "nav": latest[c].closing_nav if c in latest else None} for v in views])
        return
    console.print(table("Mandates", [("manager", "l"), ("kind", "l"), ("vehicle", "l"),
                                     ("version", "r"), ("last statement", "l"), ("NAV", "r")],
                        [[v.record.manager_code, v.record.kind, v.record.vehicle_code,
                          str(v.record.version),
                          str(latest[v.record.manager_code].period_end)
                          if v.record.manager_code in latest else "—",
                          money(latest[v.record.manager_code].closing_nav)
                          if v.record.manager_code in latest else "—"] for v in views]))


def _import_plain(result: StatementImport) -> dict[str, Any]:
    r = result.record
    return {"manager": r.manager_code, "period_start": r.period_start,
            "period_end": r.period_end, "replayed": result.replayed, "file_hash": r.file_hash,
            "closing_nav": r.closing_nav, "posted": list(result.posted),
            "matched": list(result.matched), "findings": list(result.findings)}


@manager_app.command("import-statement")
def import_statement(
        ctx: typer.Context,
        file: Annotated[Path, typer.Argument(help="Statement CSV or XLSX (template: "
                                             "qoima.adapters.statement_files).")],
        manager: Annotated[str, typer.Option("--manager", help="Whose statement it is.")],
        column_map: Annotated[str | None, typer.Option(
            "--map", help="Column map: a YAML file, or field=Header,field=Header.")] = None,
        sheet: Annotated[str | None, typer.Option("--sheet", help="XLSX sheet.")] = None,
        received: Annotated[str | None, typer.Option(
            "--received", help="When it arrived (default: today), for lateness.")] = None,
        json: Json = False) -> None:
    """Validate a statement and book its flows, all or nothing; a replay changes nothing."""
    service = _service(ctx)
    columns = _column_map(column_map, sheet)
    if not file.is_file():
        raise InvalidInput("file not found", origin=Origin(str(file)))
    file_hash = hashlib.sha256(file.read_bytes()).hexdigest()
    context = service.import_context(manager, file_hash)
    result = context.replay
    if result is None:
        statement = read_statement(
            file, manager_code=manager, known_assets=context.known_assets,
            previous_period_end=context.previous_period_end, columns=columns,
            received_on=parse_date(received, "--received") or datetime.now(UTC).date())
        result = service.import_statement(statement, file_hash=file_hash,
                                          actor=state(ctx).actor, column=columns.header)
    if json:
        print_json(_import_plain(result))
        return
    r = result.record
    verb = "already imported" if result.replayed else "imported"
    console.print(f"{verb}: {r.manager_code} {r.period_start}..{r.period_end}, closing NAV "
                  f"{money(r.closing_nav)}; entries posted {len(result.posted)}, matched in "
                  f"the book {len(result.matched)}", highlight=False)
    _findings_table(result.findings, "Findings")


def _performance_plain(result: Performance) -> dict[str, Any]:
    return {"manager": result.manager_code, "benchmark": result.benchmark,
            "as_of": result.as_of, "scorecard": _card_plain(result.scorecard),
            "returns": [asdict(r) for r in result.returns],
            "benchmark_returns": list(result.benchmark_returns or []) or None}


def _card_plain(card: Scorecard) -> dict[str, Any]:
    plain = asdict(card)
    if card.multiples is not None:
        plain["multiples"] = {"paid_in": card.multiples.paid_in,
                              "distributed": card.multiples.distributed,
                              "residual": card.multiples.residual, "tvpi": card.multiples.tvpi,
                              "dpi": card.multiples.dpi, "rvpi": card.multiples.rvpi}
    if card.alpha_beta is not None:
        plain["alpha_beta"] = {**asdict(card.alpha_beta),
                               "annual_alpha": card.alpha_beta.annual_alpha}
    return plain


@manager_app.command("performance")
def performance(ctx: typer.Context, manager: str,
                benchmark: Annotated[str | None, typer.Option(
                    "--benchmark", help="Series to compare with (default: the mandate's).")
                ] = None, as_of: AsOf = None, json: Json = False) -> None:
    """TWR, IRR, multiples, PME, volatility, drawdown, Sharpe, correlation, alpha and beta."""
    result = _service(ctx).performance(manager, as_of=parse_date(as_of, "--as-of"),
                                       benchmark=benchmark)
    if json:
        print_json(_performance_plain(result))
        return
    c = result.scorecard
    figures = [("TWR", _pct(c.twr)), ("annualised", _pct(c.annualised_return)),
               ("IRR", _pct(c.irr)), ("TVPI", _num(c.multiples.tvpi) if c.multiples else "—"),
               ("DPI", _num(c.multiples.dpi) if c.multiples else "—"),
               ("RVPI", _num(c.multiples.rvpi) if c.multiples else "—"),
               (f"PME vs {result.benchmark}", _num(c.pme)),
               ("volatility", _pct(c.volatility)), ("max drawdown", _pct(c.max_drawdown)),
               ("Sharpe", _num(c.sharpe)), (f"correlation to {result.benchmark}",
                                            _num(c.correlation)),
               ("beta", _num(c.alpha_beta.beta) if c.alpha_beta else "—"),
               ("alpha (annual)", _pct(c.alpha_beta.annual_alpha) if c.alpha_beta else "—")]
    console.print(table(f"{manager}: performance to {result.as_of}",
                        [("measure", "l"), ("value", "r")], [list(f) for f in figures],
                        caption="; ".join(c.notes) or None))


@manager_app.command("scorecard")
def scorecard(ctx: typer.Context, manager: Annotated[str | None, typer.Argument()] = None,
              as_of: AsOf = None, json: Json = False) -> None:
    """One manager's scorecard (or every manager's)."""
    service, day = _service(ctx), _as_of(ctx, as_of)
    cards = [service.scorecard(manager, day)] if manager else service.scorecards(day)
    if json:
        print_json([_card_plain(c) for c in cards])
        return
    for c in cards:
        console.print(f"[bold]{c.manager_code}[/] ({c.kind}) at {c.as_of}: NAV "
                      f"{money(c.nav)}, {c.statements} statements, TWR {_pct(c.twr)}, IRR "
                      f"{_pct(c.irr)}, Sharpe {_num(c.sharpe)}, leverage "
                      f"{_num(float(c.leverage)) if c.leverage is not None else '—'}; "
                      f"next dealing {c.liquidity.next_dealing_date or 'closed-end'}",
                      highlight=False)
        _findings_table(c.findings, f"{c.manager_code}: findings")


@manager_app.command("compare")
def compare(ctx: typer.Context, as_of: AsOf = None, json: Json = False) -> None:
    """Every manager side by side."""
    rows = _service(ctx).comparison(_as_of(ctx, as_of))
    if json:
        print_json(rows)
        return
    shown = ("manager", "nav", "twr", "irr", "tvpi", "pme", "volatility", "max_drawdown",
             "sharpe", "beta", "leverage", "errors", "warnings", "next_dealing_date")
    assert set(shown) <= set(COMPARISON_COLUMNS)
    console.print(table("Managers", [(c, "l" if c == "manager" else "r") for c in shown],
                        [[_cell(c, row[c]) for c in shown] for row in rows]))


def _cell(column: str, value: str | float | int | None) -> str:
    if value is None:
        return "—"
    if column == "nav":
        return money(Decimal(str(value)))
    if isinstance(value, float):
        return _pct(value) if column in RATIOS else _num(value)
    return str(value)


@manager_app.command("look-through")
def look_through(ctx: typer.Context, as_of: AsOf = None, json: Json = False) -> None:
    """Reported exposures across managers by asset, venue and custodian (USD)."""
    result: LookThrough = _service(ctx).look_through(_as_of(ctx, as_of))
    if json:
        print_json({"as_of": result.as_of, "managers": list(result.managers),
                    "asset": list(result.by("asset")), "venue": list(result.by("venue")),
                    "custodian": list(result.by("custodian")),
                    "flagged": list(result.flagged), "findings": list(result.findings)})
        return
    for dimension in ("asset", "venue", "custodian"):
        console.print(table(f"Look-through by {dimension} at {result.as_of}",
                            [(dimension, "l"), ("USD", "r"), ("managers", "l")],
                            [[t.key, money(t.value_usd), ", ".join(t.managers)]
                             for t in result.by(dimension)]))
    _findings_table(result.findings, "Managers on a declared proxy")


@manager_app.command("oversight")
def oversight(ctx: typer.Context, as_of: AsOf = None, json: Json = False) -> None:
    """Every finding on every manager (exit code 3 when any is blocking or an error)."""
    findings = _service(ctx).oversight(_as_of(ctx, as_of))
    if json:
        print_json(findings)
    else:
        _findings_table(findings, "Manager oversight")
        if not findings:
            console.print("no findings")
    if any(f.severity in FAILING for f in findings):
        raise typer.Exit(3)
