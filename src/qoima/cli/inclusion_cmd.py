"""``qoima verify-inclusion``: check one holding's proof against the published root.

An auditor runs this on their own machine with the proof file they were given: it needs no
workspace and no database, only the file and the root from the public report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.markup import escape

from qoima.adapters.inclusion_files import read_commitment, read_proof_data
from qoima.cli.options import Json
from qoima.cli.render import console, errors, print_json
from qoima.domain.errors import QoimaError
from qoima.report.holdings_commitment import verify_proof


def verify_inclusion(
    ctx: typer.Context,
    proof: Annotated[Path, typer.Argument(help="The holding's proof file (JSON).",
                                          dir_okay=False)],
    root: Annotated[str | None, typer.Option(
        "--root", help="The holdings root published in the transparency report.")] = None,
    commitment: Annotated[Path | None, typer.Option(
        "--commitment", help="The published commitment.json (root and number of holdings).",
        dir_okay=False)] = None,
    json: Json = False,
) -> None:
    """Check that a holding was included in a published transparency report.

    Recomputes the holding's leaf from the line item and salt in the file, follows its audit
    path up the Merkle tree and compares the result with the published root. Exits 0 when
    the holding is included, 1 when it is not or the file is bad.
    """
    try:
        data = read_proof_data(proof)
        expected_size = None
        if commitment is not None:
            published = read_commitment(commitment)
            if root is not None and root.strip().lower() != published.root:
                _fail(json, f"--root {root.strip()[:16]}… differs from the root in "
                            f"{commitment} ({published.root[:16]}…): which one was published?")
            root, expected_size = published.root, published.size
    except QoimaError as error:
        _fail(json, str(error))
    result = verify_proof(data, expected_root=root, expected_size=expected_size)
    if json:
        print_json(result.to_dict())
    elif result.included:
        console.print(f"[green]INCLUDED[/] {escape(result.reason)}", highlight=False,
                      soft_wrap=True)
        for check in result.checks:
            console.print(f"  ✓ {escape(check)}", highlight=False, soft_wrap=True)
    else:
        errors.print(f"[red]NOT INCLUDED[/] {escape(result.reason)}", highlight=False,
                     soft_wrap=True)
    if not result.included:
        raise typer.Exit(1)


def _fail(json: bool, message: str) -> NoReturn:
    """A bad file or option: one line (or a JSON verdict) and exit 1."""
    if json:
        print_json({"included": False, "reason": message, "checks": [], "line_item": None,
                    "index": None, "tree_size": None, "root": None})
    else:
        errors.print(f"[red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)
