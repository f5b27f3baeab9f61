"""``qoima audit verify`` and ``qoima audit checkpoint``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from qoima.cli.context import state
from qoima.cli.render import console, errors, print_json

audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@audit_app.command("verify")
def verify(ctx: typer.Context,
           root: Annotated[str | None, typer.Option(
               help="A published checkpoint root to verify against.")] = None,
           size: Annotated[int | None, typer.Option(
               help="Number of records the published root covers.")] = None,
           json: Json = False) -> None:
    """Re-hash every record and checkpoint, and compare the book with the trail.

    Exits 1 and names the first bad record when anything was altered, deleted,
    reordered or inserted.
    """
    if (root is None) != (size is None):
        raise typer.BadParameter("give --root and --size together")
    service = state(ctx).reserve().audit
    with Progress(TextColumn("verifying audit trail"), BarColumn(), MofNCompleteColumn(),
                  console=errors, transient=True, disable=json) as bar:
        task = bar.add_task("verify", total=None)
        result = service.verify(expected_root=root, expected_size=size,
                                progress=lambda done, total: bar.update(task, completed=done,
                                                                        total=total))
    if json:
        print_json({"ok": result.ok, "records": result.records, "root": result.root,
                    "checkpoints_checked": result.checkpoints_checked,
                    "entries_checked": result.entries_checked,
                    "first_bad_record": result.first_bad_seq,
                    "problems": [p.message for p in result.problems]})
    elif result.ok:
        console.print(f"[green]audit trail intact[/]: {result.records} records, "
                      f"{result.checkpoints_checked} checkpoints, {result.entries_checked} "
                      f"entries match; root {result.root}")
    else:
        for problem in result.problems:
            errors.print(f"[red]TAMPERED[/] {problem.message}")
    if not result.ok:
        raise typer.Exit(1)


@audit_app.command("checkpoint")
def checkpoint(ctx: typer.Context, json: Json = False) -> None:
    """Record and print the Merkle root over every record so far, for publication."""
    cp = state(ctx).reserve().audit.checkpoint(actor=state(ctx).actor)
    if json:
        print_json(cp)
        return
    console.print(f"checkpoint {cp.checkpoint_id}: {cp.size} records, root {cp.root} "
                  f"({cp.created_at:%Y-%m-%d %H:%M:%S} UTC)")
