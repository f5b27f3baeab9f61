"""``qoima verify-inclusion``: included, tampered, wrong root, bad files; no workspace needed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from qoima.adapters.inclusion_files import COMMITMENT_FILE, proof_file_name, write_inclusion_proofs
from qoima.cli.inclusion_cmd import verify_inclusion
from qoima.report.holdings_commitment import HoldingsCommitment, InclusionProof, commit_holdings
from tests.report.demo_snapshot import SALT_KEY, demo_snapshot

app = typer.Typer()


@app.callback()
def root() -> None:
    """A stand-in for the qoima app: the command must need nothing from it."""


app.command("verify-inclusion")(verify_inclusion)
runner = CliRunner()


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory
              ) -> tuple[Path, HoldingsCommitment, InclusionProof]:
    commitment, proofs = commit_holdings(demo_snapshot(), SALT_KEY)
    folder = tmp_path_factory.mktemp("published") / "proofs"
    write_inclusion_proofs(folder, commitment, proofs)
    return folder, commitment, proofs[3]


def run(*args: str) -> Any:
    return runner.invoke(app, ["verify-inclusion", *args])


def proof_path(published: tuple[Path, HoldingsCommitment, InclusionProof]) -> Path:
    return published[0] / proof_file_name(published[2])


def test_included(published: tuple[Path, HoldingsCommitment, InclusionProof]) -> None:
    folder, commitment, proof = published
    result = run(str(proof_path(published)), "--root", commitment.root)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"INCLUDED {proof.line_item.account} (held) as of 2026-10-30 "
                                    "is leaf 3 of a tree of 19 line items under the published "
                                    "root")
    assert "that root is the published root" in result.stdout
    with_file = run(str(proof_path(published)), "--commitment", str(folder / COMMITMENT_FILE))
    assert with_file.exit_code == 0, with_file.output
    assert "the tree size is the published 19" in with_file.stdout


def test_included_as_json(published: tuple[Path, HoldingsCommitment, InclusionProof]) -> None:
    result = run(str(proof_path(published)), "--root", published[1].root, "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["included"] is True
    assert data["line_item"]["account"] == published[2].line_item.account
    assert data["index"] == 3 and data["tree_size"] == 19


def test_without_a_root_it_says_what_was_not_checked(
        published: tuple[Path, HoldingsCommitment, InclusionProof]) -> None:
    result = run(str(proof_path(published)))
    assert result.exit_code == 0
    assert "root in the proof only" in result.stdout


def _tampered(published: tuple[Path, HoldingsCommitment, InclusionProof], tmp_path: Path,
              change: Any) -> Path:
    data = json.loads(proof_path(published).read_text())
    change(data)
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(data))
    return path


def test_a_tampered_value_is_not_included(
        published: tuple[Path, HoldingsCommitment, InclusionProof], tmp_path: Path) -> None:
    path = _tampered(published, tmp_path, lambda d: d["line_item"].update(quantity="1"))
    result = run(str(path), "--root", published[1].root)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("NOT INCLUDED not included: the line item")
    as_json = run(str(path), "--root", published[1].root, "--json")
    assert as_json.exit_code == 1 and json.loads(as_json.stdout)["included"] is False


def test_a_wrong_root_is_not_included(
        published: tuple[Path, HoldingsCommitment, InclusionProof]) -> None:
    result = run(str(proof_path(published)), "--root", "0" * 64)
    assert result.exit_code == 1
    assert "wrong root" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_root_and_commitment_must_agree(
        published: tuple[Path, HoldingsCommitment, InclusionProof]) -> None:
    folder = published[0]
    result = run(str(proof_path(published)), "--root", "0" * 64, "--commitment",
                 str(folder / COMMITMENT_FILE))
    assert result.exit_code == 1
    assert "differs from the root in" in result.stderr


def test_a_malformed_file_names_the_file_and_field(
        published: tuple[Path, HoldingsCommitment, InclusionProof], tmp_path: Path) -> None:
    path = _tampered(published, tmp_path, lambda d: d.update(salt="not-hex"))
    result = run(str(path), "--root", published[1].root)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {path}: field 'salt': must be 64 lowercase hex")
    as_json = run(str(path), "--json")
    assert as_json.exit_code == 1
    assert f"{path}: field 'salt'" in json.loads(as_json.stdout)["reason"]


def test_not_json_and_missing_files(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{ not json")
    result = run(str(broken))
    assert result.exit_code == 1 and "is not valid JSON" in result.stderr
    missing = run(str(tmp_path / "absent.json"))
    assert missing.exit_code == 1 and "no such file" in missing.stderr


def test_a_bad_commitment_file(published: tuple[Path, HoldingsCommitment, InclusionProof],
                               tmp_path: Path) -> None:
    bad = tmp_path / "commitment.json"
    bad.write_text(json.dumps({"root": "x"}))
    result = run(str(proof_path(published)), "--commitment", str(bad))
    assert result.exit_code == 1
    assert f"{bad}: field 'scheme': is missing" in result.stderr
