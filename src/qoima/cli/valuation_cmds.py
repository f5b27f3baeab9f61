"""``qoima holdings`` and ``qoima nav``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

import typer

from qoima.cli.context import state
from qoima.cli.render import console, money, print_json, quantity, table
from qoima.portfolio.grouping import Grouping, group_totals
from qoima.portfolio.snapshot import PortfolioSnapshot

AsOf = Annotated[str | None, typer.Option("--as-of", help="Valuation date YYYY-MM-DD "
                                          "(default: the latest date with market data).")]
Vehicle = Annotated[str | None, typer.Option("--vehicle", help="Only this vehicle.")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


COST_PLACES = Decimal("1e-8")  # display only; lots keep full precision


class Currency(StrEnum):
    USD = "USD"
    KZT = "KZT"


def parse_as_of(ctx: typer.Context, text: str | None) -> date:
    if text:
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)",
                                     param_hint="--as-of") from None
    found = state(ctx).reserve().valuation.default_as_of()
    return found or datetime.now(UTC).date()


def holdings(ctx: typer.Context, as_of: AsOf = None, vehicle: Vehicle = None,
             wide: Annotated[bool, typer.Option("--wide", help="Also KZT, price date and "
                                                "realized P&L.")] = False,
             by: Annotated[Grouping | None, typer.Option(
                 "--by", help="Totals per vehicle, tranche, instrument or custodian.")] = None,
             json: Json = False) -> None:
    """Positions as of a date: quantity, price, value in USD and KZT, cost and P&L."""
    day = parse_as_of(ctx, as_of)
    snapshot = state(ctx).reserve().valuation.snapshot(day, vehicle=vehicle)
    if by is not None:
        totals = group_totals(snapshot, by)
        if json:
            print_json({"as_of": day, "by": by.value, "groups": totals,
                        "synthetic_market": snapshot.synthetic_market})
            return
        console.print(table(
            f"Holdings by {by.value} as of {day}" + _synthetic(snapshot),
            [(by.value, "l"), ("positions", "r"), ("quantity", "r"), ("value USD", "r"),
             ("value KZT", "r")],
            [[g.key, str(g.positions), "" if g.quantity is None else quantity(g.quantity),
              money(g.value_usd), money(g.value_kzt)] for g in totals]))
        print_findings(snapshot)
        return
    if json:
        print_json({"as_of": day, "positions": snapshot.positions,
                    "pending": snapshot.pending_positions, "findings": snapshot.findings,
                    "synthetic_market": snapshot.synthetic_market})
        return
    print_holdings(snapshot, wide=wide)


def lots(ctx: typer.Context, as_of: AsOf = None, vehicle: Vehicle = None,
         json: Json = False) -> None:
    """Open lots (FIFO or average cost, per vehicle) and realized P&L per holding account."""
    day = parse_as_of(ctx, as_of)
    positions = state(ctx).reserve().valuation.lots(day, vehicle=vehicle)
    if json:
        print_json({"as_of": day, "accounts": [
            {"account": code, "instrument": p.instrument_code, "quantity": p.quantity,
             "cost_usd": p.cost_usd, "realized_usd": p.realized_usd, "lots": p.lots,
             "realizations": p.realized} for code, p in positions.items()]})
        return
    rows = []
    for code, position in positions.items():
        for index, lot in enumerate(position.lots):
            rows.append([code if index == 0 else "", str(lot.acquired_date), lot.entry_id,
                         quantity(lot.quantity),
                         "unknown" if lot.unit_cost_usd is None
                         else f"{lot.unit_cost_usd.quantize(COST_PLACES).normalize():,f}"])
    console.print(table(f"Open lots as of {day}", [("account", "l"), ("acquired", "l"),
                                                  ("entry", "l"), ("quantity", "r"),
                                                  ("unit cost USD", "r")], rows))


def print_holdings(snapshot: PortfolioSnapshot, *, wide: bool = False) -> None:
    columns = [("vehicle/tranche", "l"), ("instrument", "l"), ("custodian", "l"),
               ("quantity", "r"), ("price", "r"), ("value USD", "r"), ("cost USD", "r"),
               ("unrealized USD", "r")]
    if wide:
        columns += [("price date", "l"), ("value KZT", "r"), ("realized USD", "r")]
    rows = []
    for p in snapshot.positions:
        row = [f"{p.vehicle_code}/{p.tranche_code}" if p.tranche_code else p.vehicle_code,
               p.instrument_code, p.custodian_code or "", quantity(p.quantity),
               "" if p.price is None else f"{p.price:,}", money(p.value_usd),
               money(p.cost_usd), money(p.unrealized_usd)]
        if wide:
            row += [str(p.price_date or ""), money(p.value_kzt), money(p.realized_usd)]
        rows.append(row)
    console.print(table(f"Holdings as of {snapshot.as_of_date}" + _synthetic(snapshot),
                        columns, rows))
    if snapshot.pending_positions:
        pending = [[p.vehicle_code, p.instrument_code, p.custodian_code or "",
                    quantity(p.quantity), money(p.value_usd)]
                   for p in snapshot.pending_positions]
        console.print(table(
            "Pending (seized, not forfeited: not reserve assets, not in NAV)",
            [("vehicle", "l"), ("instrument", "l"), ("custodian", "l"), ("quantity", "r"),
             ("indicative USD", "r")], pending))
    print_findings(snapshot)


def nav(ctx: typer.Context, as_of: AsOf = None, currency: Annotated[
        Currency, typer.Option("--currency", help="Reporting currency.")] = Currency.USD,
        vehicle: Vehicle = None, json: Json = False) -> None:
    """Net asset value per vehicle and for the whole institution."""
    day = parse_as_of(ctx, as_of)
    snapshot = state(ctx).reserve().valuation.snapshot(day, vehicle=vehicle)
    if json:
        print_json({"as_of": day, "currency": currency.value, "vehicles": snapshot.vehicles,
                    "total_usd": snapshot.total_usd, "total_kzt": snapshot.total_kzt,
                    "usd_kzt": snapshot.usd_kzt, "complete": snapshot.complete,
                    "findings": snapshot.findings, "synthetic_market": snapshot.synthetic_market,
                    "inputs_hash": snapshot.inputs_hash})
        return
    print_nav(snapshot, currency)


def print_nav(snapshot: PortfolioSnapshot, currency: Currency = Currency.USD) -> None:
    kzt = currency is Currency.KZT
    rows = []
    for v in snapshot.vehicles:
        value = v.nav_kzt if kzt else v.nav_usd
        note = "" if v.complete else f"excludes {v.unvalued_positions} unvalued position(s)"
        rows.append([v.vehicle_code, money(value), str(v.positions), note])
    total = snapshot.total_kzt if kzt else snapshot.total_usd
    rows.append(["TOTAL (whole institution)", money(total), "", ""])
    rate = snapshot.usd_kzt
    caption = (f"USD/KZT {rate.rate} ({rate.rate_date}, {rate.source})" if rate
               else "USD/KZT: no rate")
    console.print(table(f"NAV as of {snapshot.as_of_date} in {currency.value}"
                        + _synthetic(snapshot),
                        [("vehicle", "l"), (f"NAV {currency.value}", "r"),
                         ("positions", "r"), ("completeness", "l")], rows, caption))
    print_findings(snapshot)


def print_findings(snapshot: PortfolioSnapshot) -> None:
    for finding in snapshot.findings:
        console.print(f"[yellow]{finding.severity.upper()}[/] {finding.rule}: {finding.message}")


def _synthetic(snapshot: PortfolioSnapshot) -> str:
    return "  [bold red]SYNTHETIC market data[/]" if snapshot.synthetic_market else ""
