"""``qoima transfer``: custody transfers checked against the vehicle's custody limits."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer

from qoima.app.transfers import TokenTransfer, TransferService
from qoima.cli.context import state
from qoima.cli.render import console, print_json, table

transfer_app = typer.Typer(no_args_is_help=True, help="Token transfers out of custody: "
                           "whitelist, caps, velocity and approval quorum from the policy.")
Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def _service(ctx: typer.Context) -> TransferService:
    reserve = state(ctx).reserve()
    return reserve.transfers


def _quantity(text: str) -> Decimal:
    try:
        value = Decimal(text.replace("_", ""))
    except InvalidOperation:
        raise typer.BadParameter(f"{text!r} is not a number", param_hint="--quantity") from None
    if not value.is_finite():
        raise typer.BadParameter(f"{text!r} is not a number", param_hint="--quantity")
    return value


def _show(transfer: TokenTransfer, json: bool) -> None:
    if json:
        print_json({"transfer": transfer.record, "findings": transfer.findings,
                    "missing": transfer.missing})
        return
    r = transfer.record
    value = "unvalued" if r.value_usd is None else f"USD {r.value_usd:,.2f}"
    console.print(f"[bold]{r.transfer_id}[/] {r.status}: {r.quantity} {r.instrument_code} of "
                  f"{r.vehicle_code} from {r.from_account} to {r.to_account or 'external'} "
                  f"{r.destination} on {r.chain} ({value}); maker {r.maker}, quorum "
                  f"{r.quorum}", highlight=False)
    if r.approvals:
        console.print("approvals: " + ", ".join(
            a.user + (f" (override: {a.override_reason})" if a.override_reason else "")
            for a in r.approvals), highlight=False)
    for finding in transfer.findings:
        console.print(f"custody {finding.severity}: {finding.message}", highlight=False)
    if transfer.missing:
        console.print("still needed: " + "; ".join(transfer.missing), highlight=False)
    if r.tx_id:
        console.print(f"executed: tx {r.tx_id}, ledger entry {r.entry_id}", highlight=False)


@transfer_app.command("new")
def new(ctx: typer.Context,
        vehicle: Annotated[str, typer.Option("--vehicle")],
        instrument: Annotated[str, typer.Option("--instrument")],
        destination: Annotated[str, typer.Option("--to-address", help="Destination address.")],
        quantity: Annotated[str, typer.Option("--quantity")],
        key: Annotated[str, typer.Option("--key", help="Idempotency key: the same key and "
                                         "content return the first transfer.")],
        chain: Annotated[str | None, typer.Option(
            "--chain", help="Default: the instrument's chain.")] = None,
        from_account: Annotated[str | None, typer.Option(
            "--from", help="Holding account (default: the vehicle's one holding).")] = None,
        to_account: Annotated[str | None, typer.Option(
            "--to-account", help="An own holding account (another custodian); default: the "
            "tokens leave the institution.")] = None,
        json: Json = False) -> None:
    """Propose a transfer; the custody limits are checked at once."""
    transfer = _service(ctx).propose(
        vehicle, instrument, chain, destination, _quantity(quantity), idempotency_key=key,
        actor=state(ctx).actor, from_account=from_account, to_account=to_account)
    _show(transfer, json)


@transfer_app.command("approve")
def approve(ctx: typer.Context, transfer_id: str,
            override_reason: Annotated[str | None, typer.Option(
                "--override-reason", help="Committee only: approve over a blocking finding "
                "(two committee members must each give a reason).")] = None,
            json: Json = False) -> None:
    """Approve (distinct people, never the maker; the limits are re-checked)."""
    _show(_service(ctx).approve(transfer_id, actor=state(ctx).actor,
                                override_reason=override_reason), json)


@transfer_app.command("execute")
def execute(ctx: typer.Context, transfer_id: str,
            tx_id: Annotated[str, typer.Option("--tx-id", help="On-chain transaction id.")],
            json: Json = False) -> None:
    """Record the sent transaction and post the ledger entry (operations)."""
    _show(_service(ctx).execute(transfer_id, actor=state(ctx).actor, tx_id=tx_id), json)


@transfer_app.command("reject")
def reject(ctx: typer.Context, transfer_id: str,
           reason: Annotated[str, typer.Option("--reason")], json: Json = False) -> None:
    _show(_service(ctx).reject(transfer_id, actor=state(ctx).actor, reason=reason), json)


@transfer_app.command("cancel")
def cancel(ctx: typer.Context, transfer_id: str, json: Json = False) -> None:
    _show(_service(ctx).cancel(transfer_id, actor=state(ctx).actor), json)


@transfer_app.command("show")
def show(ctx: typer.Context, transfer_id: str, json: Json = False) -> None:
    _show(_service(ctx).get(transfer_id, actor=state(ctx).actor), json)


@transfer_app.command("list")
def list_transfers(ctx: typer.Context,
                   vehicle: Annotated[str | None, typer.Option("--vehicle")] = None,
                   status: Annotated[list[str] | None, typer.Option("--status")] = None,
                   json: Json = False) -> None:
    transfers = _service(ctx).list(actor=state(ctx).actor, vehicle=vehicle, status=status)
    if json:
        print_json([{"transfer": t.record, "findings": t.findings, "missing": t.missing}
                    for t in transfers])
        return
    console.print(table("Transfers", [
        ("transfer", "l"), ("status", "l"), ("vehicle", "l"), ("instrument", "l"),
        ("quantity", "r"), ("value USD", "r"), ("destination", "l"), ("approvals", "r")],
        [[t.transfer_id, t.record.status, t.record.vehicle_code, t.record.instrument_code,
          str(t.record.quantity),
          "—" if t.record.value_usd is None else f"{t.record.value_usd:,.2f}",
          t.record.destination, f"{len(t.record.approvals)}/{t.record.quorum}"]
         for t in transfers]))
