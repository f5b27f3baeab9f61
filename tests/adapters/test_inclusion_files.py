"""Proof files: a folder written whole, read back equal, bad files named with file and field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qoima.adapters.inclusion_files import (
    COMMITMENT_FILE,
    proof_file_name,
    read_commitment,
    read_proof,
    write_inclusion_proofs,
)
from qoima.domain.errors import InvalidInput, QoimaError
from qoima.report.holdings_commitment import (
    HoldingsCommitment,
    InclusionProof,
    commit_holdings,
    verify_proof,
)
from tests.report.demo_snapshot import SALT_KEY, demo_snapshot


@pytest.fixture(scope="module")
def committed() -> tuple[HoldingsCommitment, tuple[InclusionProof, ...]]:
    return commit_holdings(demo_snapshot(), SALT_KEY)


@pytest.fixture
def folder(tmp_path: Path, committed: tuple[HoldingsCommitment, tuple[InclusionProof, ...]]
           ) -> Path:
    target = tmp_path / "proofs"
    write_inclusion_proofs(target, *committed)
    return target


def test_round_trip(folder: Path,
                    committed: tuple[HoldingsCommitment, tuple[InclusionProof, ...]]) -> None:
    commitment, proofs = committed
    files = sorted(p.name for p in folder.iterdir())
    assert len(files) == len(proofs) + 1 and COMMITMENT_FILE in files
    assert read_commitment(folder / COMMITMENT_FILE) == commitment
    for proof in proofs:
        again = read_proof(folder / proof_file_name(proof))
        assert again == proof
        assert verify_proof(again.to_dict(), expected_root=commitment.root).included
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no staging


def test_file_names_are_safe_and_one_to_one(
        committed: tuple[HoldingsCommitment, tuple[InclusionProof, ...]]) -> None:
    names = [proof_file_name(p) for p in committed[1]]
    assert len(set(names)) == len(names)
    assert "holding+fx-reserves=liquidity+USD@fed-ny.json" in names
    assert "holding+seized-pool=main+ETH@state-wallet~pending.json" in names
    assert "holding+seized-pool=main+ETH@state-wallet.json" in names
    for name in names:
        assert not set(name) & set('/\\:*?"<>|#')


def test_written_paths_are_in_leaf_order(
        tmp_path: Path,
        committed: tuple[HoldingsCommitment, tuple[InclusionProof, ...]]) -> None:
    paths = write_inclusion_proofs(tmp_path / "out", *committed)
    assert [read_proof(p).index for p in paths] == list(range(len(committed[1])))


def test_a_folder_with_files_is_refused_and_left_alone(
        folder: Path, committed: tuple[HoldingsCommitment, tuple[InclusionProof, ...]]) -> None:
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    with pytest.raises(InvalidInput, match="not an empty folder") as caught:
        write_inclusion_proofs(folder, *committed)
    assert str(folder) in str(caught.value)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_an_empty_folder_is_used(
        tmp_path: Path,
        committed: tuple[HoldingsCommitment, tuple[InclusionProof, ...]]) -> None:
    target = tmp_path / "empty"
    target.mkdir()
    write_inclusion_proofs(target, *committed)
    assert (target / COMMITMENT_FILE).exists()


def _write(path: Path, data: Any) -> Path:
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def _proof_data(folder: Path) -> tuple[Path, dict[str, Any]]:
    path = sorted(p for p in folder.iterdir() if p.name != COMMITMENT_FILE)[0]
    return path, json.loads(path.read_text())


@pytest.mark.parametrize(("change", "field", "words"), [
    (lambda d: d.pop("salt"), "salt", "is missing"),
    (lambda d: d.update(note="hi"), "note", "unknown field"),
    (lambda d: d["line_item"].update(colour="red"), "line_item.colour", "unknown field"),
    (lambda d: d.update(salt="zz" * 32), "salt", "64 lowercase hex"),
    (lambda d: d.update(root="AB" * 32), "root", "64 lowercase hex"),
    (lambda d: d["audit_path"].__setitem__(0, 7), "audit_path[0]", "64 lowercase hex"),
    (lambda d: d.update(audit_path="ab"), "audit_path", "list"),
    (lambda d: d.update(index="3"), "index", "whole number"),
    (lambda d: d.update(index=True), "index", "whole number"),
    (lambda d: d.update(tree_size=0), "tree_size", "whole number >= 1"),
    (lambda d: d["line_item"].update(quantity=12), "line_item.quantity", "decimal string"),
    (lambda d: d["line_item"].update(quantity="1e3"), "line_item.quantity", "decimal string"),
    (lambda d: d["line_item"].update(value_usd="NaN"), "line_item.value_usd",
     "decimal string"),
    (lambda d: d["line_item"].update(as_of="30/10/2026"), "line_item.as_of", "YYYY-MM-DD"),
    (lambda d: d["line_item"].update(account=""), "line_item.account", "non-empty string"),
    (lambda d: d["line_item"].update(status="gone"), "line_item.status", "held or pending"),
    (lambda d: d["line_item"].update(unvalued="no"), "line_item.unvalued", "true or false"),
    (lambda d: d.update(line_item=[]), "line_item", "object"),
    (lambda d: d.update(scheme="qoima-holdings-v0"), "scheme", "unknown scheme"),
])
def test_bad_proof_files_name_the_file_and_the_field(folder: Path, change: Any, field: str,
                                                     words: str) -> None:
    path, data = _proof_data(folder)
    change(data)
    bad = _write(folder / "bad.json", data)
    with pytest.raises(InvalidInput) as caught:
        read_proof(bad)
    message = str(caught.value)
    assert message.startswith(f"{bad}: field '{field}': "), message
    assert words in message
    assert caught.value.field == field


@pytest.mark.parametrize(("text", "words"), [
    ('{"scheme": 1,', "is not valid JSON"),
    ("[1, 2]", "one JSON object"),
    ('{"a": 1, "a": 2}', "appears twice"),
    ('{"a": NaN}', "NaN is not a JSON number"),
])
def test_files_that_are_not_a_json_object(tmp_path: Path, text: str, words: str) -> None:
    bad = _write(tmp_path / "bad.json", text)
    with pytest.raises(InvalidInput, match=words) as caught:
        read_proof(bad)
    assert str(caught.value).startswith(str(bad))


def test_json_error_names_the_line(tmp_path: Path) -> None:
    bad = _write(tmp_path / "bad.json", '{\n "scheme": "x",\n "salt": oops\n}')
    with pytest.raises(InvalidInput) as caught:
        read_proof(bad)
    assert str(caught.value).startswith(f"{bad}:3: is not valid JSON")


def test_missing_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no such file"):
        read_proof(tmp_path / "absent.json")
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InvalidInput, match="not UTF-8"):
        read_proof(binary)


def test_bad_commitment_file(folder: Path) -> None:
    data = json.loads((folder / COMMITMENT_FILE).read_text())
    data["size"] = -1
    bad = _write(folder / "c.json", data)
    with pytest.raises(InvalidInput, match=f"^{bad}: field 'size': "):
        read_commitment(bad)


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_reading_any_mutated_file_gives_a_proof_or_one_clear_error(
        tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    snapshot_proofs = commit_holdings(demo_snapshot(), SALT_KEY)[1]
    proof = data.draw(st.sampled_from(snapshot_proofs))
    text = json.dumps(proof.to_dict(), indent=2).encode()
    at = data.draw(st.integers(0, len(text) - 1))
    mutated = text[:at] + bytes([data.draw(st.integers(0, 255))]) + text[at + 1:]
    path = tmp_path_factory.mktemp("fuzz") / "p.json"
    path.write_bytes(mutated)
    try:
        parsed = read_proof(path)
    except QoimaError as error:
        assert str(error).startswith(str(path))
        assert "\n" not in str(error)
        return
    # a parse that succeeds either is the same proof or no longer verifies
    result = verify_proof(parsed.to_dict(), expected_root=proof.root)
    assert parsed == proof or not result.included
