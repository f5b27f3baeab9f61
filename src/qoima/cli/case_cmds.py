"""``qoima case``: seized crypto from intake through custody, proof and forfeiture into the
reserve."""

from __future__ import annotations

import json as jsonlib
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from qoima.adapters.case_files import read_case
from qoima.adapters.chain_snapshot_files import read_snapshot
from qoima.adapters.sanctions_files import read_sanctions
from qoima.app.custody import CaseView
from qoima.cli.context import state
from qoima.cli.options import Json, parse_date
from qoima.cli.render import console, print_json, table
from qoima.custody.chain_of_custody import CustodyEvent, CustodyEventKind
from qoima.custody.disposition_inputs import DispositionParams
from qoima.custody.forks import ForkedAsset, ValuationPolicy
from qoima.custody.legal import Document, DocumentKind, LegalStatus

case_app = typer.Typer(no_args_is_help=True, help="Seized crypto: cases, legal status, chain "
                       "of custody, reconciliation, proof of control, screening, disposition.")

_E = TypeVar("_E", bound=StrEnum)
Network = Annotated[str, typer.Option("--network", help="mainnet, testnet, signet, regtest.")]


def _day(text: str | None, hint: str) -> date:
    """The date given, else today (the date a step is recorded)."""
    return parse_date(text, hint) or datetime.now(UTC).date()


def _number(text: str | None, hint: str) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise typer.BadParameter(f"{text!r} is not a number", param_hint=hint) from None
    if not value.is_finite():
        raise typer.BadParameter(f"{text!r} is not a number", param_hint=hint)
    return value


def _choice(kind: type[_E], text: str, hint: str) -> _E:
    try:
        return kind(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r}: one of {', '.join(kind)}",
                                 param_hint=hint) from None


def _moment(text: str, hint: str) -> datetime:
    """An ISO time with its zone, in UTC (custody events are kept in UTC)."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not an ISO time (2026-03-05T10:00:00+05:00)",
                                 param_hint=hint) from None
    if value.tzinfo is None:
        raise typer.BadParameter(f"{text!r} has no time zone: add Z or an offset such as "
                                 "+05:00", param_hint=hint)
    return value.astimezone(UTC)


def _documents(values: list[str] | None) -> list[Document]:
    """``KIND:REFERENCE:YYYY-MM-DD:ISSUER``."""
    documents = []
    for value in values or []:
        parts = value.split(":", 3)
        if len(parts) < 4:
            raise typer.BadParameter(f"{value!r}: write KIND:REFERENCE:YYYY-MM-DD:ISSUER",
                                     param_hint="--document")
        documents.append(Document(_choice(DocumentKind, parts[0], "--document"), parts[1],
                                  _day(parts[2], "--document"), parts[3]))
    return documents


def _view_summary(view: CaseView) -> dict[str, Any]:
    return {
        "case": view.case, "assets": [
            {**_plain_record(a), "addresses": jsonlib.loads(a.addresses_json),
             "tx_ids": jsonlib.loads(a.tx_ids_json)} for a in view.assets],
        "legal_history": [{**_plain_record(t), "documents": jsonlib.loads(t.documents_json)}
                          for t in view.transitions],
        "custody_events": list(view.events),
        "screening_hits": [{**_plain_record(h), "overrides": jsonlib.loads(h.overrides_json)}
                           for h in view.hits],
    }


def _plain_record(record: Any) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__slots__
            if not name.endswith("_json")}


def _print_view(view: CaseView) -> None:
    c = view.case
    console.print(f"case {c.case_id} ({c.agency}, {c.case_number}, {c.court}): "
                  f"[bold]{c.legal_status}[/] since {c.status_changed_on}", highlight=False)
    console.print(table("Assets", [("asset", "l"), ("chain", "l"), ("instrument", "l"),
                                   ("quantity", "r"), ("held at", "l"), ("holder", "l"),
                                   ("ledger entry", "l")],
                        [[a.asset_id, a.chain, a.instrument_code, f"{a.quantity:f}",
                          a.holding_place, a.holder, a.intake_entry_id] for a in view.assets]))
    console.print(table("Legal history", [("on", "l"), ("from", "l"), ("to", "l"),
                                          ("documents", "l"), ("ledger", "l"), ("by", "l")],
                        [[str(t.on_date), t.from_status or "—", t.to_status,
                          ", ".join(f"{d['kind']} {d['reference']}"
                                    for d in jsonlib.loads(t.documents_json)),
                          t.ledger_effect, t.actor] for t in view.transitions]))
    if view.events:
        console.print(table("Chain of custody", [("at", "l"), ("event", "l"), ("from", "l"),
                                                 ("to", "l"), ("quantity", "r"), ("tx", "l")],
                            [[e.at.isoformat(), e.kind, e.from_address or e.from_holder or "",
                              e.to_address or e.to_holder or "",
                              "" if e.quantity is None else f"{e.quantity:f}", e.tx_id or ""]
                             for e in view.events]))
    for hit in view.hits:
        console.print(f"[bold red]SANCTIONS HIT[/] {hit.id}: {hit.address} listed as "
                      f"{hit.entity} ({hit.status})", highlight=False)


def _show(view: CaseView, json: bool) -> None:
    print_json(_view_summary(view)) if json else _print_view(view)


@case_app.command("open")
def open_case(ctx: typer.Context, file: Annotated[Path, typer.Argument(
        help="YAML with the case, its intake documents and assets (see docs in "
             "qoima.adapters.case_files).")], json: Json = False) -> None:
    """Open a case: addresses checked, a pending entry per asset in the seized pool."""
    case, intakes, documents = read_case(file)
    view = state(ctx).reserve().custody.open_case(case, intakes, documents,
                                                  actor=state(ctx).actor)
    _show(view, json)


@case_app.command("show")
def show(ctx: typer.Context, case_id: str, json: Json = False) -> None:
    """A case: assets, legal history, chain of custody, screening hits."""
    _show(state(ctx).reserve().custody.case(case_id), json)


@case_app.command("list")
def list_cases(ctx: typer.Context, json: Json = False) -> None:
    """Every case and its legal status."""
    cases = state(ctx).reserve().custody.cases()
    if json:
        print_json(cases)
        return
    console.print(table("Cases", [("case", "l"), ("agency", "l"), ("number", "l"),
                                  ("opened", "l"), ("status", "l")],
                        [[c.case_id, c.agency, c.case_number, str(c.opened_on),
                          c.legal_status] for c in cases]))


@case_app.command("transition")
def transition(ctx: typer.Context, case_id: str,
               to: Annotated[str, typer.Option("--to", help=", ".join(LegalStatus))],
               document: Annotated[list[str] | None, typer.Option(
                   "--document", help="KIND:REFERENCE:YYYY-MM-DD:ISSUER (repeat).")] = None,
               on: Annotated[str | None, typer.Option("--on", help="Effective date.")] = None,
               json: Json = False) -> None:
    """A court step (freeze, court review, forfeiture, return, release to victims)."""
    target = _choice(LegalStatus, to, "--to")
    view = state(ctx).reserve().custody.transition(case_id, target, _documents(document),
                                                   _day(on, "--on"), actor=state(ctx).actor)
    _show(view, json)


@case_app.command("custody")
def custody(ctx: typer.Context, case_id: str,
            event_id: Annotated[str, typer.Option("--event-id")],
            kind: Annotated[str, typer.Option("--kind", help=", ".join(CustodyEventKind))],
            at: Annotated[str, typer.Option("--at", help="ISO time with zone, e.g. "
                                            "2026-03-05T10:00:00+05:00")],
            chain: Annotated[str, typer.Option("--chain")] = "",
            instrument: Annotated[str, typer.Option("--instrument")] = "",
            from_address: Annotated[str, typer.Option("--from-address")] = "",
            to_address: Annotated[str, typer.Option("--to-address")] = "",
            from_holder: Annotated[str, typer.Option("--from-holder")] = "",
            to_holder: Annotated[str, typer.Option("--to-holder")] = "",
            tx: Annotated[str, typer.Option("--tx")] = "",
            quantity: Annotated[str | None, typer.Option("--quantity")] = None,
            fee: Annotated[str | None, typer.Option("--fee")] = None,
            note: Annotated[str, typer.Option("--note")] = "",
            network: Network = "mainnet", json: Json = False) -> None:
    """Record a custody event (key generation, transfer, handover, custodian change...)."""
    event_kind = _choice(CustodyEventKind, kind, "--kind")
    when = _moment(at, "--at")
    event = CustodyEvent(event_id, case_id, event_kind, when, state(ctx).actor, from_holder,
                         to_holder, from_address, to_address, tx,
                         _number(quantity, "--quantity"), instrument, note,
                         _number(fee, "--fee"), chain)
    record = state(ctx).reserve().custody.record_event(event, actor=state(ctx).actor,
                                                       network=network)
    if json:
        print_json(record)
    else:
        console.print(f"recorded {record.kind} {record.event_id} for case {record.case_id}",
                      highlight=False)


@case_app.command("reconcile")
def reconcile(ctx: typer.Context, file: Annotated[Path, typer.Argument(
        help="CSV: chain,address,asset,quantity,unit,observed_at,source")],
              as_of: Annotated[str | None, typer.Option("--as-of")] = None,
              json: Json = False) -> None:
    """Compare observed on-chain balances with the book; differences become findings
    (exit code 3 when any)."""
    observed = read_snapshot(file)
    outcome = state(ctx).reserve().evidence.reconcile(
        observed, source=str(file), as_of=_day(as_of, "--as-of"), actor=state(ctx).actor)
    result = outcome.result
    if json:
        print_json({"status": outcome.record.status, "new": outcome.new,
                    "rows": result.rows, "findings": result.findings})
    else:
        console.print(table(f"Reconciliation {outcome.record.as_of_date} "
                            f"({outcome.record.status})",
                            [("address", "l"), ("asset", "l"), ("book", "r"),
                             ("observed", "r"), ("difference", "r"), ("status", "l")],
                            [[r.address, r.instrument_code, _q(r.book), _q(r.observed),
                              _q(r.difference), r.status.value] for r in result.rows]))
        for finding in result.findings:
            console.print(f"{finding.severity.value}: {finding.message}", highlight=False)
    if not result.matched:
        raise typer.Exit(3)


def _q(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:f}"


@case_app.command("prove")
def prove(ctx: typer.Context, case_id: str, chain: Annotated[str, typer.Option("--chain")],
          address: Annotated[str, typer.Option("--address")],
          on: Annotated[str | None, typer.Option("--on")] = None, network: Network = "mainnet",
          json: Json = False) -> None:
    """Issue a proof-of-control challenge: the message the key holder must sign."""
    record = state(ctx).reserve().evidence.challenge(case_id, chain, address,
                                                     _day(on, "--on"), actor=state(ctx).actor,
                                                     network=network)
    if json:
        print_json(record)
        return
    console.print(f"nonce: {record.nonce}\nsign exactly this message with the key of "
                  f"{record.address}:\n---\n{record.message}\n---", highlight=False)


@case_app.command("verify-proof")
def verify_proof(ctx: typer.Context, nonce: str,
                 signature: Annotated[str, typer.Option("--signature")],
                 network: Network = "mainnet", json: Json = False) -> None:
    """Verify the signature of a challenge (BIP-322, legacy message, EIP-191) and record it
    (exit code 3 when invalid)."""
    outcome = state(ctx).reserve().evidence.verify(nonce, signature, actor=state(ctx).actor,
                                                   network=network)
    if json:
        print_json({"valid": outcome.result.valid, "scheme": outcome.result.scheme.value,
                    "reason": outcome.result.reason, "signer": outcome.result.signer,
                    "proof_id": outcome.record.id})
    else:
        verdict = "[green]VALID[/]" if outcome.result.valid else "[bold red]INVALID[/]"
        console.print(f"{verdict} {outcome.result.scheme.value}: {outcome.result.reason}",
                      highlight=False)
    if not outcome.result.valid:
        raise typer.Exit(3)


@case_app.command("screen")
def screen(ctx: typer.Context,
           sanctions: Annotated[Path | None, typer.Option(
               "--list", help="Import an OFAC SDN list (sdn.xml or sdn.csv) first.")] = None,
           list_date: Annotated[str | None, typer.Option("--list-date")] = None,
           override: Annotated[int | None, typer.Option(
               "--override", help="Committee: override this hit (needs --reason).")] = None,
           reason: Annotated[str | None, typer.Option("--reason")] = None,
           json: Json = False) -> None:
    """Screen every held address against the sanctions lists (exit code 3 on open hits)."""
    reserve, actor = state(ctx).reserve(), state(ctx).actor
    if override is not None:
        hit = reserve.custody.override_hit(override, reason or "", actor=actor)
        print_json(hit) if json else console.print(
            f"hit {hit.id}: {hit.status}", highlight=False)
        return
    if sanctions is not None:
        listed = read_sanctions(sanctions, list_date=_day(list_date, "--list-date")
                                if list_date else None)
        stored, new = reserve.evidence.import_sanctions(listed, actor=actor)
        if not json:
            console.print(f"{'imported' if new else 'already imported'} list {stored.list_id} "
                          f"({stored.entries} addresses)", highlight=False)
    hits = reserve.evidence.screen(actor=actor)
    if json:
        print_json(hits)
    else:
        console.print(table("Open sanctions hits", [("hit", "r"), ("case", "l"),
                                                    ("address", "l"), ("listed as", "l")],
                            [[str(h.id), h.case_id or "", h.address, h.entity] for h in hits]))
    if hits:
        raise typer.Exit(3)


@case_app.command("fork")
def fork(ctx: typer.Context, case_id: str, parent: Annotated[str, typer.Option("--parent")],
         instrument: Annotated[str, typer.Option("--instrument")],
         quantity: Annotated[str, typer.Option("--quantity")],
         fork_date: Annotated[str, typer.Option("--fork-date")],
         source_address: Annotated[str, typer.Option("--source-address")],
         valuation: Annotated[str, typer.Option("--valuation", help=", ".join(ValuationPolicy))
                              ] = ValuationPolicy.ZERO_UNTIL_LIQUID.value,
         note: Annotated[str, typer.Option("--note")] = "", json: Json = False) -> None:
    """Record a forked or airdropped asset arising from the case's coins."""
    amount = _number(quantity, "--quantity")
    assert amount is not None
    record = state(ctx).reserve().evidence.record_fork(ForkedAsset(
        case_id, parent, instrument, amount, _day(fork_date, "--fork-date"), source_address,
        _choice(ValuationPolicy, valuation, "--valuation"), note), actor=state(ctx).actor)
    print_json(record) if json else console.print(
        f"recorded {record.quantity:f} {record.instrument_code} ({record.valuation_policy})",
        highlight=False)


@case_app.command("dispose")
def dispose(ctx: typer.Context, case_id: str,
            asset: Annotated[str | None, typer.Option("--asset", help="Propose for this asset.")
                             ] = None,
            to: Annotated[str, typer.Option("--to", help="transferred_to_reserve or "
                                            "liquidated")] = "transferred_to_reserve",
            vehicle: Annotated[str | None, typer.Option("--vehicle")] = None,
            tranche: Annotated[str | None, typer.Option("--tranche")] = None,
            custodian: Annotated[str | None, typer.Option("--custodian")] = None,
            cash_account: Annotated[str | None, typer.Option("--cash-account")] = None,
            price: Annotated[str | None, typer.Option("--price")] = None,
            approve: Annotated[str | None, typer.Option("--approve", help="Approve this "
                                                        "disposition id.")] = None,
            reject: Annotated[str | None, typer.Option("--reject")] = None,
            reason: Annotated[str, typer.Option("--reason")] = "",
            horizon: Annotated[int, typer.Option("--horizon", help="Days compared.")] = 365,
            management_fee: Annotated[float, typer.Option(
                "--management-fee", help="External manager's yearly fee.")] = 0.02,
            performance_fee: Annotated[float, typer.Option(
                "--performance-fee", help="Over the high-water mark.")] = 0.2,
            start: Annotated[str | None, typer.Option("--from")] = None,
            on: Annotated[str | None, typer.Option("--on")] = None, json: Json = False) -> None:
    """Compare disposition models (default), propose one (--asset), or approve/reject it."""
    reserve, actor, day = state(ctx).reserve(), state(ctx).actor, _day(on, "--on")
    if approve or reject:
        record = (reserve.dispositions.approve(approve, actor=actor, on=day) if approve
                  else reserve.dispositions.reject(reject or "", actor=actor, reason=reason))
        print_json(record) if json else console.print(
            f"disposition {record.disposition_id}: {record.status}", highlight=False)
        return
    if asset is not None:
        record = reserve.dispositions.propose(
            case_id, asset, _choice(LegalStatus, to, "--to"), actor=actor, on=day, vehicle=vehicle,
            tranche=tranche, custodian=custodian, cash_account=cash_account,
            price_usd=_number(price, "--price"))
        print_json(record) if json else console.print(
            f"proposed {record.disposition_id}: {record.model} {record.quantity:f} at USD "
            f"{record.price_usd:f} = USD {record.valuation_usd:,f}; two approvals needed "
            "(one from the committee)", highlight=False)
        return
    comparisons = reserve.dispositions.compare(
        case_id, horizon_days=horizon, forfeited_on=_day(start, "--from") if start else None,
        params=DispositionParams(management_fee=management_fee,
                                 performance_fee=performance_fee))
    rows = [{"instrument": c.batch.instrument_code, "model": p.model.value,
             "proceeds_usd": p.proceeds_usd_at_horizon, "volatility": p.volatility,
             "worst_drawdown": p.worst_drawdown, "days_to_cash": p.days_to_cash}
            for c in comparisons for p in c.paths.values()]
    if json:
        print_json(rows)
        return
    console.print(table(f"Disposition models over {horizon} days", [
        ("instrument", "l"), ("model", "l"), ("proceeds USD", "r"), ("volatility", "r"),
        ("worst drawdown", "r"), ("days to cash", "r")],
        [[str(r["instrument"]), str(r["model"]), f"{r['proceeds_usd']:,.0f}",
          f"{r['volatility']:.1%}", f"{r['worst_drawdown']:.1%}",
          "—" if r["days_to_cash"] is None else str(r["days_to_cash"])] for r in rows]))


@case_app.command("inventory")
def inventory(ctx: typer.Context, as_of: Annotated[str | None, typer.Option("--as-of")] = None,
              json: Json = False) -> None:
    """The pool: cases, quantities and values by legal status, reconciliations, proofs."""
    result = state(ctx).reserve().evidence.inventory(_day(as_of, "--as-of"))
    if json:
        print_json(result)
        return
    console.print(table(f"Seized-asset pool on {result.as_of_date}: {result.cases_count} cases",
                        [("case", "l"), ("value USD", "r"), ("reconciled", "l"),
                         ("last proof", "l")],
                        [[c.case_id, f"{c.value_usd_total:,f}",
                          f"{c.last_reconciled_on or '—'} {c.last_reconciliation_status or ''}",
                          str(c.last_proof_on or "—")] for c in result.cases]))
    for finding in result.findings:
        console.print(f"{finding.severity.value}: {finding.message}", highlight=False)


@case_app.command("proofs")
def proofs(ctx: typer.Context, case_id: Annotated[str | None, typer.Option("--case")] = None,
           export: Annotated[bool, typer.Option("--export", help="Valid proofs with their "
                                                "messages, for publication.")] = False,
           json: Json = True) -> None:
    """Recorded proofs of control, as JSON (``--json`` is accepted like everywhere)."""
    evidence = state(ctx).reserve().evidence
    print_json(evidence.export_proofs(case_id) if export else evidence.proofs(case_id))
