"""The public transparency report and its holdings commitment.

Checked: aggregates equal the snapshot's totals exactly; every proof verifies and the root is
the RFC 6962 root of the leaves (:mod:`qoima.audit.merkle`); tampering with any part of a
proof fails with the right reason; the fast all-proofs pass equals ``inclusion_proof``; and
nothing below the asset-class level reaches the public document.
"""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qoima.audit.merkle import inclusion_proof, merkle_root, verify_inclusion
from qoima.domain.canonical import plain_decimal
from qoima.domain.errors import InvalidInput
from qoima.report.document import (
    Figure,
    KeyFigures,
    NoticeLevel,
    Table,
    Text,
    figure_problems,
)
from qoima.report.holdings_commitment import (
    PENDING,
    LineItem,
    all_inclusion_proofs,
    audit_path_length,
    commit_line_items,
    leaf_bytes,
)
from qoima.report.transparency import TransparencyReport, build_transparency, verify_proof
from tests.report.demo_snapshot import (
    AS_OF,
    CLASS_USD,
    HELD_ROWS,
    INSTRUMENTS,
    PENDING_ROWS,
    SALT_KEY,
    TOTAL_USD,
    VEHICLES,
    demo_snapshot,
)

D = Decimal
CHECKPOINT = ("ab" * 32, 1234, "2026-10-31T09:00:00+00:00")


def report(**changes: Any) -> TransparencyReport:
    arguments: dict[str, Any] = {
        "policy_summary": [("Sleeve range", "USD 50-300M, within range")],
        "risk_summary": [("1-day VaR 99%", "0.4% of NAV")], "checkpoint": CHECKPOINT,
        "salt_key": SALT_KEY, "label": "ILLUSTRATIVE", "synthetic": False,
        "published_on": date(2026, 11, 2), "vehicles": VEHICLES, "instruments": INSTRUMENTS}
    arguments.update(changes)
    snapshot = arguments.pop("snapshot", None) or demo_snapshot()
    return build_transparency(snapshot, **arguments)


@pytest.fixture(scope="module")
def built() -> TransparencyReport:
    return report()


def table(built: TransparencyReport, table_id: str) -> Table:
    return next(t for t in built.document.tables() if t.id == table_id)


# -- aggregates -------------------------------------------------------------------------------


def test_asset_class_aggregates_equal_the_snapshot_exactly(built: TransparencyReport) -> None:
    snapshot = demo_snapshot()
    assert {c.asset_class.value: c.value_usd for c in built.by_asset_class} == CLASS_USD
    assert sum((c.value_usd for c in built.by_asset_class), D(0)) == snapshot.total_usd
    assert sum((c.value_kzt or D(0) for c in built.by_asset_class), D(0)) == snapshot.total_kzt
    rows = table(built, "holdings_by_asset_class").rows
    assert rows[-1][:4] == ("total", "Total", 16, 1)
    assert D(str(rows[-1][4])) == TOTAL_USD
    for row, total in zip(rows, built.by_asset_class, strict=False):
        assert D(str(row[4])).quantize(D("0.01")) == total.value_usd
    assert sum(row[6] for row in rows[:-1]) == pytest.approx(1.0)  # type: ignore[misc]


def test_vehicle_table_equals_the_navs(built: TransparencyReport) -> None:
    snapshot = demo_snapshot()
    rows = table(built, "holdings_by_vehicle").rows
    by_name = {row[0]: row for row in rows}
    for nav in snapshot.vehicles:
        row = by_name[nav.name]
        assert D(str(row[5])).quantize(D("0.01")) == nav.nav_usd
        assert (row[3], row[4]) == (nav.positions, nav.unvalued_positions)
    assert by_name["Digital-asset sleeve of the FX reserves"][2] == "FX reserves"  # parent
    assert D(str(by_name["Total"][5])) == snapshot.total_usd == TOTAL_USD
    assert D(str(by_name["Total"][6])) == snapshot.total_kzt


def test_document_shape(built: TransparencyReport) -> None:
    document = built.document
    assert document.audience == "public"
    assert [s.id for s in document.sections] == [
        "holdings", "asset-classes", "policy", "risk", "audit", "commitment"]
    pie = next(f for f in document.figures() if f.id == "asset_class_pie")
    assert figure_problems(pie) == []
    assert sum(v or 0 for v in pie.series[0].values) == pytest.approx(float(TOTAL_USD))
    assert ("holdings_root", built.commitment.root) in document.meta
    texts = " ".join(_strings(document))
    for expected in ("Sleeve range", "0.4% of NAV", "ab" * 32, "1,234 records",
                     built.commitment.root, "qoima verify-inclusion", "awaiting forfeiture"):
        assert expected in texts
    assert any("1 holdings have no price" in n.text for n in document.notices)


def test_missing_checkpoint_and_summaries_are_said_plainly() -> None:
    built = report(checkpoint=None, policy_summary=[], risk_summary=[], synthetic=True)
    texts = " ".join(_strings(built.document))
    assert "No audit checkpoint has been published" in texts
    assert "No policy summary was given." in texts
    assert built.document.synthetic
    levels = {(n.step, n.level) for n in built.document.notices}
    assert ("audit", NoticeLevel.WARNING) in levels


@pytest.mark.parametrize(("checkpoint", "field"), [
    (("AB" * 32, 5, "2026-10-31"), "checkpoint.root"),
    (("ab" * 32, -1, "2026-10-31"), "checkpoint.size"),
    (("ab" * 32, 5, ""), "checkpoint.created_at"),
])
def test_malformed_checkpoint_is_refused(checkpoint: tuple[str, int, str], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        report(checkpoint=checkpoint)
    assert caught.value.field == field


def test_nothing_below_the_asset_class_level_is_published(built: TransparencyReport) -> None:
    strings = _strings(built.document)
    numbers = _numbers(built.document)
    text = " ".join(strings)
    for _, _, code, _, quantity in (*HELD_ROWS, *PENDING_ROWS):
        q = D(quantity)
        for form in {plain_decimal(q), f"{q:,f}", f"{q:,.2f}"}:
            if len(form.replace(",", "").replace(".", "").strip("0")) > 3:  # distinctive only
                assert form not in text, form
        assert code not in text or code in ("USD",), code  # "USD" appears as a currency
    for proof in built.proofs:
        assert proof.line_item.account not in text
        assert proof.salt not in text
    # a position's value appears only where it is alone in its class or its vehicle
    snapshot = demo_snapshot()
    for proof in built.proofs:
        item = proof.line_item
        if item.value_usd is None or item.status == PENDING:
            continue
        cls = next(c for c in built.by_asset_class
                   if item.instrument in {s.instrument_code for s in c.instruments})
        alone = cls.line_items == 1 or snapshot.vehicle(item.vehicle).positions == 1
        if not alone:
            assert float(item.value_usd) not in numbers, item.account


# -- the commitment ---------------------------------------------------------------------------


def test_every_proof_verifies_and_the_root_is_rfc6962(built: TransparencyReport) -> None:
    proofs, commitment = built.proofs, built.commitment
    assert commitment.size == len(proofs) == len(HELD_ROWS) + len(PENDING_ROWS) == 19
    assert (commitment.unvalued, commitment.pending) == (1, 3)
    assert commitment.root == merkle_root([p.leaf() for p in proofs])
    assert [p.line_item.account for p in proofs] == sorted(p.line_item.account for p in proofs)
    assert [p.index for p in proofs] == list(range(19))
    for proof in proofs:
        result = verify_proof(proof.to_dict(), expected_root=commitment.root,
                              expected_size=commitment.size)
        assert result.included, result.reason
        assert len(result.checks) == 5
        assert proof.audit_path == tuple(inclusion_proof([p.leaf() for p in proofs],
                                                         proof.index))


def test_unvalued_and_pending_items_are_committed_and_flagged(built: TransparencyReport) -> None:
    items = {(p.line_item.account, p.line_item.status): p for p in built.proofs}
    venture = items[("holding:state-fund/venture:VC-F-LP@fund-admin", "held")].to_dict()
    assert venture["line_item"]["value_usd"] is None
    assert venture["line_item"]["unvalued"] is True
    eth = "holding:seized-pool/main:ETH@state-wallet"
    held, pending = items[(eth, "held")], items[(eth, PENDING)]
    assert held.salt != pending.salt
    assert pending.line_item.quantity == D("1") and held.line_item.quantity == D("3")


def test_same_inputs_same_root_and_the_key_changes_every_salt() -> None:
    first, again, other = report(), report(), report(salt_key=b"another key of 32 bytes, secret!")
    assert first.commitment == again.commitment and first.proofs == again.proofs
    assert other.commitment.root != first.commitment.root
    assert {p.salt for p in other.proofs}.isdisjoint({p.salt for p in first.proofs})
    assert len({p.salt for p in first.proofs}) == len(first.proofs)
    assert other.by_asset_class == first.by_asset_class


def test_a_short_salt_key_is_refused() -> None:
    with pytest.raises(InvalidInput, match="at least 16"):
        report(salt_key=b"short")


def test_duplicate_accounts_are_refused() -> None:
    item = LineItem("holding:x/main:BTC@w", "x", "main", "w", "BTC", D(1), None, None, AS_OF)
    with pytest.raises(InvalidInput, match="appears twice"):
        commit_line_items([item, item], SALT_KEY, AS_OF)


def test_empty_holdings_commit_to_the_empty_root() -> None:
    commitment, proofs = commit_line_items([], SALT_KEY, AS_OF)
    assert (commitment.size, proofs) == (0, ())
    assert commitment.root == merkle_root([])


def _tamper(built: TransparencyReport, change: Any) -> dict[str, Any]:
    data = copy.deepcopy(built.proofs[5].to_dict())
    change(data)
    return data


@pytest.mark.parametrize(("change", "reason"), [
    (lambda d: d["line_item"].update(value_usd="1.00"), "not included"),
    (lambda d: d["line_item"].update(quantity="999"), "not included"),
    (lambda d: d["line_item"].update(custodian="elsewhere"), "not included"),
    (lambda d: d["line_item"].update(as_of="2026-10-29"), "not included"),
    (lambda d: d["line_item"].update(status="pending"), "not included"),
    (lambda d: d.update(salt="0" * 64), "not included"),
    (lambda d: d.update(index=6), "not included"),  # same path length, other position
    (lambda d: d["audit_path"].__setitem__(0, "f" * 64), "not included"),
    (lambda d: d.update(index=17), "wrong index/size"),  # needs a 3-hash path, not 5
    (lambda d: d.update(index=19), "wrong index/size"),
    (lambda d: d.update(tree_size=16), "wrong index/size"),
    (lambda d: d["audit_path"].pop(), "wrong index/size"),
    (lambda d: d.update(salt="XYZ"), "malformed proof: field 'salt'"),
    (lambda d: d["audit_path"].__setitem__(1, "AB" * 32), "field 'audit_path[1]'"),
    (lambda d: d["line_item"].update(quantity=1.5), "field 'line_item.quantity'"),
    (lambda d: d["line_item"].pop("tranche"), "field 'line_item.tranche': is missing"),
    (lambda d: d.update(extra=1), "field 'extra': unknown field"),
    (lambda d: d.update(scheme="other-v2"), "field 'scheme'"),
    (lambda d: d["line_item"].update(unvalued=True), "field 'line_item.unvalued'"),
])
def test_tampering_fails_with_a_reason(built: TransparencyReport, change: Any,
                                       reason: str) -> None:
    result = verify_proof(_tamper(built, change), expected_root=built.commitment.root)
    assert not result.included
    assert reason in result.reason, result.reason


def test_wrong_published_root_or_size(built: TransparencyReport) -> None:
    proof = built.proofs[0].to_dict()
    result = verify_proof(proof, expected_root="cd" * 32)
    assert not result.included and result.reason.startswith("wrong root")
    assert result.checks[-1].startswith("the line item and salt hash")  # consistent in itself
    sized = verify_proof(proof, expected_root=built.commitment.root, expected_size=20)
    assert not sized.included and sized.reason.startswith("wrong size")
    bad = verify_proof(proof, expected_root="not hex")
    assert not bad.included and "malformed published root" in bad.reason
    upper = verify_proof(proof, expected_root=built.commitment.root.upper())
    assert upper.included  # a root typed in capitals is the same root
    alone = verify_proof(proof, expected_root=None)
    assert alone.included and "root in the proof only" in alone.reason
    assert verify_proof({"not": "a proof"}, expected_root=None).reason.startswith("malformed")


# -- the fast all-proofs pass and property tests ----------------------------------------------


@pytest.mark.parametrize("size", [*range(1, 34), 64, 65, 100])
def test_all_proofs_equal_inclusion_proof(size: int) -> None:
    leaves = [f"leaf {i}".encode() for i in range(size)]
    root, paths = all_inclusion_proofs(leaves)
    assert root == merkle_root(leaves)
    for index in range(size):
        assert paths[index] == inclusion_proof(leaves, index)
        assert audit_path_length(index, size) == len(paths[index])


def test_all_proofs_of_nothing() -> None:
    assert all_inclusion_proofs([]) == (merkle_root([]), [])


codes = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=8)
amounts = st.decimals(min_value=-10**12, max_value=10**12, places=6, allow_nan=False,
                      allow_infinity=False)
line_items = st.builds(
    lambda vehicle, code, quantity, value, status: LineItem(
        f"holding:{vehicle}/main:{code}", vehicle, "main", None, code, quantity,
        value, None if value is None else value * 500, AS_OF, status),
    codes, codes, amounts, st.none() | amounts, st.sampled_from(["held", PENDING]))


def _unique(items: list[LineItem]) -> list[LineItem]:
    return list({(i.account, i.status): i for i in items}.values())


@settings(max_examples=60, deadline=None)
@given(items=st.lists(line_items, min_size=1, max_size=40).map(_unique),
       data=st.data())
def test_random_holdings_every_proof_verifies_and_any_tamper_fails(
        items: list[LineItem], data: st.DataObject) -> None:
    commitment, proofs = commit_line_items(items, SALT_KEY, AS_OF)
    assert commitment.root == merkle_root(leaf_bytes(p.line_item, p.salt) for p in proofs)
    for proof in proofs:
        assert verify_proof(proof.to_dict(), expected_root=commitment.root).included
    proof = data.draw(st.sampled_from(proofs))
    leaf = bytearray(proof.leaf())
    at = data.draw(st.integers(0, len(leaf) - 1))
    leaf[at] ^= data.draw(st.integers(1, 255))
    assert not verify_inclusion(bytes(leaf), proof.index, proof.tree_size, proof.audit_path,
                                commitment.root)
    # change one character of one disclosed string field: malformed or not included
    original = proof.to_dict()
    tampered = copy.deepcopy(original)
    name = data.draw(st.sampled_from(["account", "vehicle", "instrument", "quantity",
                                      "value_usd", "as_of", "salt", "root"]))
    holder = tampered if name in ("salt", "root") else tampered["line_item"]
    if holder[name] is None:
        return
    text = holder[name]
    position = data.draw(st.integers(0, len(text) - 1))
    replacement = data.draw(st.sampled_from("0123456789abcdef-.:x").filter(
        lambda c: c != text[position]))
    holder[name] = text[:position] + replacement + text[position + 1:]
    assert not verify_proof(tampered, expected_root=commitment.root).included


def _strings(document: Any) -> list[str]:
    found = [document.title, document.subtitle, document.footer,
             *(n.text for n in document.notices), *(v for _, v in document.meta)]
    for section in document.sections:
        found.append(section.title)
        for block in section.blocks:
            if isinstance(block, Text):
                found.append(block.text)
            elif isinstance(block, Table):
                found += [block.title, block.note, *(c.title for c in block.columns)]
                found += [str(cell) for row in block.rows for cell in row]
            elif isinstance(block, Figure):
                found += [block.title, *block.x, *block.y, *block.parents]
            elif isinstance(block, KeyFigures):
                found += [s for k in block.items for s in (k.label, k.value, k.detail)]
    return found


def _numbers(document: Any) -> set[float]:
    numbers: set[float] = set()
    for block in (b for s in document.sections for b in s.blocks):
        if isinstance(block, Table):
            numbers |= {float(c) for row in block.rows for c in row
                        if isinstance(c, int | float)}
        elif isinstance(block, Figure):
            numbers |= {v for s in block.series for v in s.values if v is not None}
    return numbers


def test_line_item_round_trips_through_its_dict(built: TransparencyReport) -> None:
    for proof in built.proofs:
        again = verify_proof(proof.to_dict(), expected_root=None).proof
        assert again == proof
