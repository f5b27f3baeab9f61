"""``qoima demo``: build the illustrative demo reserve and show what it holds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from qoima.adapters.entry_export import write_entries
from qoima.app.demo.build import (
    LABEL,
    SLEEVE,
    SLEEVE_RANGE_USD,
    DemoSize,
    build_demo,
    load_demo,
)
from qoima.cli.context import state
from qoima.cli.render import console, errors, money, print_json
from qoima.cli.valuation_cmds import print_holdings, print_nav

DEFAULT_DIR = Path("demo-reserve")


def demo(ctx: typer.Context,
         directory: Annotated[Path, typer.Option("--dir", help="Workspace directory to create.",
                                                 file_okay=False)] = DEFAULT_DIR,
         json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
         size: Annotated[DemoSize, typer.Option(
             "--size", help="full: ~1,000 positions on 10 years of market history; small: "
                            "21 positions on one year.")] = DemoSize.SMALL,
         ) -> None:
    """Build the demo reserve (idempotent), then print NAV by vehicle and the holdings."""
    cli = state(ctx)
    cli.workspace = directory
    steps = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                     console=errors, disable=json)
    with steps:
        task = steps.add_task("opening workspace", total=None)
        reserve = cli.reserve(create=True)
        steps.update(task, description="generating the demo book and SYNTHETIC market")
        content = build_demo(size)
        steps.update(task, description=f"posting {len(content.entries)} entries and "
                                       f"{len(content.prices) + len(content.fx)} quotes, "
                                       f"{len(content.series)} market series")
        loaded = load_demo(reserve.book, reserve.market_data, content, actor=cli.actor)
        steps.update(task, description="valuing the reserve")
        snapshot = reserve.valuation.snapshot(content.as_of_date)
        steps.update(task, description="exporting entries")
        entries_dir = directory / "entries"
        entries_dir.mkdir(parents=True, exist_ok=True)
        entries_file = entries_dir / "demo-entries.yaml"
        write_entries(content.entries, entries_file)
    if json:
        print_json({"workspace": reserve.location, "label": LABEL, "loaded": loaded,
                    "as_of": content.as_of_date, "vehicles": snapshot.vehicles,
                    "total_usd": snapshot.total_usd, "total_kzt": snapshot.total_kzt,
                    "synthetic_market": snapshot.synthetic_market,
                    "entries_file": str(entries_file)})
        return
    console.rule(f"[bold]qoima demo reserve[/] — {LABEL}")
    print_nav(snapshot)
    print_holdings(snapshot)
    sleeve = snapshot.vehicle(SLEEVE)
    low, high = SLEEVE_RANGE_USD
    console.print(f"Digital-asset sleeve: {money(sleeve.nav_usd)} USD invested; policy range "
                  f"{money(low, 0)}–{money(high, 0)} USD; waiting for the stability gate.")
    console.print(f"Loaded: {loaded.entries_posted} entries posted, {loaded.entries_replayed} "
                  f"already present, {loaded.created_reference} reference records created.")
    console.print(f"Workspace: {reserve.location}\nEntries (YAML, re-postable): {entries_file}\n"
                  f"Try: qoima --dir {directory} nav --currency KZT | holdings --vehicle "
                  "state-fund | audit verify | risk report | stress run --scenario ftx-2022")
