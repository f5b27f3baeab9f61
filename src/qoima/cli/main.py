"""Entry point of the ``qoima`` command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from qoima import __version__
from qoima.cli import (
    allocation_cmds,
    audit_cmds,
    book_cmds,
    case_cmds,
    data_cmds,
    demo_cmd,
    inclusion_cmd,
    manager_cmds,
    order_cmds,
    policy_cmds,
    risk_cmds,
    run_cmds,
    serve_cmd,
    transfer_cmds,
    valuation_cmds,
)
from qoima.cli.context import CliState, state
from qoima.cli.render import console, errors
from qoima.domain.errors import QoimaError

app = typer.Typer(
    name="qoima", no_args_is_help=True, pretty_exceptions_enable=False,
    help="qoima: book of record, risk and governance for a sovereign digital-asset reserve.",
)


@app.callback()
def root(ctx: typer.Context,
         directory: Annotated[Path | None, typer.Option(
             "--dir", help="Workspace directory (default: QOIMA_HOME or the current one). "
             "QOIMA_DATABASE_URL selects PostgreSQL instead.", file_okay=False)] = None,
         actor: Annotated[str | None, typer.Option(
             "--as", help="Who is acting, for the audit trail (default: QOIMA_ACTOR or the "
             "login name).")] = None) -> None:
    ctx.obj = CliState(workspace=directory, actor_name=actor)
    ctx.call_on_close(ctx.obj.close)


@app.command()
def init(ctx: typer.Context) -> None:
    """Create the workspace (or migrate its database to the current schema)."""
    reserve = state(ctx).reserve(create=True)
    console.print(f"workspace ready: {reserve.location}")


@app.command()
def version() -> None:
    """Print the version."""
    console.print(__version__)


app.command()(demo_cmd.demo)
app.command()(run_cmds.run)
app.command()(serve_cmd.serve)
app.command("verify-inclusion")(inclusion_cmd.verify_inclusion)
app.command()(book_cmds.post)
app.command()(valuation_cmds.holdings)
app.command()(valuation_cmds.nav)
app.command()(valuation_cmds.lots)
app.command("optimize")(allocation_cmds.optimize_command)
app.command("size")(allocation_cmds.size_command)
app.command("gate")(allocation_cmds.gate_command)
app.add_typer(book_cmds.reference_app, name="reference")
app.add_typer(book_cmds.accounts_app, name="account")
app.add_typer(book_cmds.entries_app, name="entries")
app.add_typer(book_cmds.market_app, name="market")
app.add_typer(data_cmds.data_app, name="data")
app.add_typer(audit_cmds.audit_app, name="audit")
app.add_typer(risk_cmds.risk_app, name="risk")
app.add_typer(risk_cmds.stress_app, name="stress")
app.add_typer(policy_cmds.user_app, name="user")
app.add_typer(policy_cmds.policy_app, name="policy")
app.add_typer(order_cmds.order_app, name="order")
app.add_typer(transfer_cmds.transfer_app, name="transfer")
app.add_typer(allocation_cmds.tranche_app, name="tranche")
app.add_typer(allocation_cmds.backtest_app, name="backtest")
app.add_typer(case_cmds.case_app, name="case")
app.add_typer(run_cmds.runs_app, name="runs")
app.add_typer(manager_cmds.manager_app, name="manager")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code: a QoimaError prints one clear line and gives 1.

    Usage errors are Typer's own (message and exit code 2).
    """
    command = typer.main.get_command(app)
    try:
        command.main(args=argv, prog_name="qoima", standalone_mode=True)
    except SystemExit as done:
        code = done.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except QoimaError as error:
        errors.print(f"[red]error:[/] {error}", highlight=False, markup=True, soft_wrap=True)
        return 1
    return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
