"""``qoima order``: draft, submit, approve, reject, cancel, execute, settle, show, list."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer

from qoima.cli.context import state
from qoima.cli.render import console, print_json, table
from qoima.orders.approvals import approval_state
from qoima.orders.model import Fill, Order, OrderSide, OrderTerms

order_app = typer.Typer(no_args_is_help=True, help="Orders with four-eyes approval, checked "
                        "against the policy before approval.")
Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def _decimal(text: str | None, option: str) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text.replace("_", ""))
    except InvalidOperation:
        raise typer.BadParameter(f"{text!r} is not a number", param_hint=option) from None
    if not value.is_finite():
        raise typer.BadParameter(f"{text!r} is not a number", param_hint=option)
    return value


def _number(text: str, option: str) -> Decimal:
    value = _decimal(text, option)
    assert value is not None  # a required option always has text
    return value


def _show(order: Order, json: bool) -> None:
    if json:
        print_json({"order": order, "notional_usd": order.terms.notional_usd,
                    "remaining_quantity": order.remaining_quantity})
        return
    t = order.terms
    console.print(f"[bold]{order.order_id}[/] {order.status}: {t.side} {t.quantity} "
                  f"{t.instrument_code} for {t.vehicle_code} at ~{t.estimated_price} "
                  f"(notional USD {t.notional_usd:,.2f}); maker {order.maker}", highlight=False)
    if order.approvals:
        console.print("approvals: " + ", ".join(
            f"{a.user} ({', '.join(a.roles)})" + (f" override: {a.override_reason}"
                                                  if a.override_reason else "")
            for a in order.approvals), highlight=False)
    for finding in order.pretrade_findings:
        console.print(f"pre-trade {finding.severity}: {finding.message}", highlight=False)
    for fill in order.fills:
        console.print(f"fill {fill.fill_id}: {fill.quantity} at {fill.price} on {fill.venue} "
                      f"({fill.counterparty}), fees {fill.fees_usd}, settles "
                      f"{fill.settlement_date}", highlight=False)


@order_app.command("new")
def new(ctx: typer.Context,
        vehicle: Annotated[str, typer.Option("--vehicle")],
        instrument: Annotated[str, typer.Option("--instrument")],
        side: Annotated[str, typer.Option("--side", help="buy or sell")],
        quantity: Annotated[str, typer.Option("--quantity")],
        price: Annotated[str, typer.Option("--price", help="Estimated USD price per unit.")],
        key: Annotated[str, typer.Option("--key", help="Idempotency key: the same key and "
                                         "terms return the first order.")],
        limit_price: Annotated[str | None, typer.Option("--limit-price")] = None,
        tranche: Annotated[str | None, typer.Option("--tranche")] = None,
        custodian: Annotated[str | None, typer.Option("--custodian")] = None,
        note: Annotated[str, typer.Option("--note")] = "", json: Json = False) -> None:
    """Draft an order (the maker can never approve it)."""
    try:
        order_side = OrderSide(side.lower())
    except ValueError:
        raise typer.BadParameter(f"{side!r}: buy or sell", param_hint="--side") from None
    qty, est = _number(quantity, "--quantity"), _number(price, "--price")
    terms = OrderTerms(vehicle, instrument, order_side, qty, _decimal(limit_price,
                       "--limit-price"), est, tranche, custodian, note)
    _show(state(ctx).reserve().orders.new(terms, idempotency_key=key, actor=state(ctx).actor),
          json)


@order_app.command("submit")
def submit(ctx: typer.Context, order_id: str, json: Json = False) -> None:
    """Send to the approvers with the pre-trade policy check of the post-trade snapshot."""
    _show(state(ctx).reserve().orders.submit(order_id, actor=state(ctx).actor), json)


@order_app.command("approve")
def approve(ctx: typer.Context, order_id: str,
            override_reason: Annotated[str | None, typer.Option(
                "--override-reason", help="Committee only: approve over a blocking finding "
                "(a quorum of committee members must each give a reason).")] = None,
            json: Json = False) -> None:
    """Approve (four eyes; the policy is re-checked in the same transaction)."""
    reserve = state(ctx).reserve()
    order = reserve.orders.approve(order_id, actor=state(ctx).actor,
                                   override_reason=override_reason)
    _show(order, json)
    if not json:
        missing = approval_state(order, reserve.orders.rules).missing
        if missing:
            console.print("still needed: " + "; ".join(missing), highlight=False)


@order_app.command("reject")
def reject(ctx: typer.Context, order_id: str,
           reason: Annotated[str, typer.Option("--reason")], json: Json = False) -> None:
    _show(state(ctx).reserve().orders.reject(order_id, actor=state(ctx).actor, reason=reason),
          json)


@order_app.command("cancel")
def cancel(ctx: typer.Context, order_id: str, json: Json = False) -> None:
    _show(state(ctx).reserve().orders.cancel(order_id, actor=state(ctx).actor), json)


@order_app.command("execute")
def execute(ctx: typer.Context, order_id: str,
            fill_id: Annotated[str, typer.Option("--fill-id")],
            quantity: Annotated[str, typer.Option("--quantity")],
            price: Annotated[str, typer.Option("--price")],
            venue: Annotated[str, typer.Option("--venue")],
            counterparty: Annotated[str, typer.Option("--counterparty")],
            fees: Annotated[str, typer.Option("--fees", help="USD")] = "0",
            executed_at: Annotated[str | None, typer.Option(
                "--executed-at", help="ISO time, UTC (default: now)")] = None,
            settlement_date: Annotated[str | None, typer.Option(
                "--settlement-date", help="Default: the execution date.")] = None,
            json: Json = False) -> None:
    """Book a fill and post its ledger entry (operations)."""
    at = datetime.now(UTC)
    if executed_at:
        try:
            at = datetime.fromisoformat(executed_at)
        except ValueError:
            raise typer.BadParameter(f"{executed_at!r} is not an ISO time",
                                     param_hint="--executed-at") from None
        at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    settles = at.date()
    if settlement_date:
        try:
            settles = date.fromisoformat(settlement_date)
        except ValueError:
            raise typer.BadParameter(f"{settlement_date!r} is not a date",
                                     param_hint="--settlement-date") from None
    qty, px, fee = (_number(quantity, "--quantity"), _number(price, "--price"),
                    _number(fees, "--fees"))
    fill = Fill(fill_id, qty, px, fee, venue, counterparty, at, settles)
    _show(state(ctx).reserve().orders.execute(order_id, fill, actor=state(ctx).actor), json)


@order_app.command("settle")
def settle(ctx: typer.Context, order_id: str, json: Json = False) -> None:
    _show(state(ctx).reserve().orders.settle(order_id, actor=state(ctx).actor), json)


@order_app.command("show")
def show(ctx: typer.Context, order_id: str, json: Json = False) -> None:
    _show(state(ctx).reserve().orders.get(order_id, actor=state(ctx).actor), json)


@order_app.command("list")
def list_orders(ctx: typer.Context,
                vehicle: Annotated[str | None, typer.Option("--vehicle")] = None,
                status: Annotated[list[str] | None, typer.Option("--status")] = None,
                json: Json = False) -> None:
    orders = state(ctx).reserve().orders.list(actor=state(ctx).actor, vehicle=vehicle,
                                              status=status)
    if json:
        print_json(orders)
        return
    console.print(table("Orders", [
        ("order", "l"), ("status", "l"), ("vehicle", "l"), ("side", "l"), ("instrument", "l"),
        ("quantity", "r"), ("notional USD", "r"), ("maker", "l"), ("approvals", "r")],
        [[o.order_id, str(o.status), o.vehicle_code, str(o.terms.side), o.terms.instrument_code,
          str(o.terms.quantity), f"{o.terms.notional_usd:,.2f}", o.maker,
          str(len(o.approvals))] for o in orders]))
