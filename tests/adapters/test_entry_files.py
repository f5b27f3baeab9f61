"""Entry files: every bad input names file, line and field; good files round-trip."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qoima.adapters.entry_export import write_entries
from qoima.adapters.entry_files import read_entries
from qoima.domain.enums import EntryCode, EntryPhase
from qoima.domain.errors import InvalidInput, ScaleError
from qoima.ledger.entries import EntryDraft, PostingDraft

GOOD_YAML = """\
entries:
  - id: E-1
    date: "2026-01-05"
    code: cash_in
    description: funding
    metadata: {order: ORD-1}
    postings:
      - account: "holding:fund-a/main:USD@bny"
        amount: "1000.50"
      - account: "capital:fund-a:USD"
        amount: "-1000.50"
  - id: E-2
    date: "2026-01-06"
    code: reversal
    reverses: E-1
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_file_parses_with_exact_decimals(tmp_path: Path) -> None:
    entries = read_entries(write(tmp_path, "e.yaml", GOOD_YAML))
    assert [e.entry_id for e in entries] == ["E-1", "E-2"]
    first = entries[0]
    assert first.code is EntryCode.CASH_IN
    assert first.value_date == date(2026, 1, 5)
    assert first.postings[0].amount == Decimal("1000.50")
    assert dict(first.metadata) == {"order": "ORD-1"}
    assert entries[1].reverses_entry_id == "E-1"
    assert entries[1].postings == ()


@pytest.mark.parametrize(("text", "line", "field", "words"), [
    (GOOD_YAML.replace('"2026-01-05"', '"2026-13-05"'), 3, "date", "not a date"),
    (GOOD_YAML.replace('"2026-01-05"', '"05/01/2026"'), 3, "date", "not a date"),
    (GOOD_YAML.replace("code: cash_in", "code: deposit"), 4, "code", "not one of"),
    (GOOD_YAML.replace('amount: "1000.50"', 'amount: "1,000.50"', 1), 9, "amount",
     "not a number"),
    (GOOD_YAML.replace("    description: funding\n", "    descripton: funding\n"), 5,
     "descripton", "unknown field"),
    (GOOD_YAML.replace("  - id: E-2\n", "  - id: E-2\n    phase: maybe\n"), 13, "phase",
     "not one of"),
])
def test_yaml_errors_name_line_and_field(tmp_path: Path, text: str, line: int, field: str,
                                         words: str) -> None:
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(InvalidInput) as caught:
        read_entries(path)
    error = caught.value
    assert error.origin is not None
    assert error.origin.file == str(path)
    assert error.origin.line == line
    assert error.field == field
    assert words in str(error)
    assert f"{path}:{line}" in str(error)


@pytest.mark.parametrize(("text", "words"), [
    ("entries:\n  - &a {id: X}\n  - *a\n", "aliases"),
    ("entries:\n  - !!python/object:os.system {id: X}\n", "tag"),
    ("entries: [\n", "not valid YAML"),
    ("", "empty"),
    ("entries: []\n", "no entries"),
    ("entries:\n  - id: A\n    id: B\n", "appears twice"),
    ("entries:\n  - {id: X, date: '2026-01-01', code: fee,\n"
     "     postings: [{account: a, amount: 1, <<: {}}]}\n", "merge keys"),
])
def test_yaml_tricks_are_refused(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(InvalidInput, match=words):
        read_entries(write(tmp_path, "trick.yaml", text))


def test_yaml_no_and_yes_stay_text(tmp_path: Path) -> None:
    text = GOOD_YAML.replace("description: funding", "description: NO")
    assert read_entries(write(tmp_path, "e.yaml", text))[0].description == "NO"


CSV_HEADER = "id,date,code,description,account,amount,unit_cost_usd,unit_price_usd\n"


def test_csv_groups_rows_into_entries(tmp_path: Path) -> None:
    text = (
        "id,date,code,description,account,amount,unit_cost_usd,unit_price_usd,reverses\n"
        "B-1,2026-02-02,buy,first,holding:fund-a/main:IBIT@bny,10,50.25,,\n"
        "B-1,2026-02-02,buy,,external:IBIT,-10,,,\n"
        "B-1,2026-02-02,buy,,holding:fund-a/main:USD@bny,-502.50,,,\n"
        "B-1,2026-02-02,buy,,external:USD,502.50,,,\n"
        "R-1,2026-02-03,reversal,undo,,,,,B-1\n"
    )
    entries = read_entries(write(tmp_path, "e.csv", text))
    assert [e.entry_id for e in entries] == ["B-1", "R-1"]
    assert len(entries[0].postings) == 4
    assert entries[0].description == "first"
    assert entries[0].postings[0].unit_cost_usd == Decimal("50.25")
    assert entries[0].postings[2].amount == Decimal("-502.50")
    assert entries[1].reverses_entry_id == "B-1"
    assert entries[1].postings == ()


@pytest.mark.parametrize(("rows", "line", "field", "words"), [
    ("B-1,2026-02-30,fee,,a,1,,\n", 2, "date", "not a date"),
    ("B-1,2026-02-03,fee,,a,1.2.3,,\n", 2, "amount", "not a number"),
    ("B-1,2026-02-03,fee,,a,1,,\nB-1,2026-02-04,fee,,b,-1,,\n", 3, "date", "differs"),
    ("B-1,2026-02-03,fee,,a,1,,\nB-2,2026-02-03,fee,,b,-1,,\nB-1,2026-02-03,fee,,c,1,,\n",
     4, "id", "contiguous"),
    ("B-1,2026-02-03,fee,,,1,,\n", 2, "account", "needs an account"),
    ("B-1,2026-02-03,fee,,a,-1,-5,\n", 2, "unit_cost_usd", None),
])
def test_csv_errors_name_line_and_field(tmp_path: Path, rows: str, line: int, field: str,
                                        words: str | None) -> None:
    path = write(tmp_path, "bad.csv", CSV_HEADER + rows)
    try:
        entries = read_entries(path)
    except InvalidInput as error:
        assert error.origin is not None and error.origin.line == line
        assert error.field == field
        if words:
            assert words in str(error)
        return
    # a negative cost parses; the ledger refuses it (tests/ledger); here only check it parsed
    assert words is None
    assert entries[0].postings[0].unit_cost_usd == Decimal(-5)


def test_csv_header_typo_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.csv", "id,date,code,acount,amount\nA,2026-01-01,fee,a,1\n")
    with pytest.raises(InvalidInput, match="bad header") as caught:
        read_entries(path)
    assert caught.value.origin is not None and caught.value.origin.line == 1


@pytest.mark.parametrize("name", ["empty.csv", "empty.yaml"])
def test_empty_files_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(InvalidInput, match="empty"):
        read_entries(write(tmp_path, name, ""))


def test_unknown_suffix_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"\.yaml, \.yml or \.csv"):
        read_entries(write(tmp_path, "e.json", "{}"))
    with pytest.raises(InvalidInput, match="not found"):
        read_entries(tmp_path / "missing.yaml")


amounts = st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=8,
                      allow_nan=False, allow_infinity=False).filter(lambda d: d != 0)
texts = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)
postings = st.builds(
    PostingDraft,
    account=st.sampled_from(["holding:fund-a/main:BTC@bny", "external:BTC",
                             "capital:fund-a:USD", "expense:fund-a:USD#fees"]),
    amount=amounts,
    unit_cost_usd=st.none() | st.decimals(min_value=0, max_value=10**9, places=6),
    unit_price_usd=st.none() | st.decimals(min_value=0, max_value=10**9, places=6),
)
drafts = st.builds(
    EntryDraft,
    entry_id=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,30}", fullmatch=True),
    code=st.sampled_from(list(EntryCode)),
    value_date=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)),
    postings=st.lists(postings, min_size=1, max_size=5).map(tuple),
    description=texts,
    phase=st.sampled_from(list(EntryPhase)),
    resolves_entry_id=st.none() | st.just("P-1"),
    reverses_entry_id=st.none() | st.just("X-1"),
    metadata=st.dictionaries(st.from_regex(r"[a-z_]{1,10}", fullmatch=True), texts,
                             max_size=3).map(lambda d: tuple(sorted(d.items()))),
)


@settings(max_examples=60, deadline=None)
@given(entries=st.lists(drafts, min_size=1, max_size=6))
def test_export_then_read_is_identity(entries: list[EntryDraft], tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("roundtrip") / "entries.yaml"
    write_entries(entries, path)
    back = read_entries(path)
    assert [e.content_hash() for e in back] == [e.content_hash() for e in entries]


def test_scale_is_checked_by_the_ledger_not_the_parser() -> None:
    """The parser keeps every digit; the journal refuses too many for the asset."""
    from qoima.domain.money import check_scale

    with pytest.raises(ScaleError):
        check_scale(Decimal("1.001"), 2, asset="USD")
