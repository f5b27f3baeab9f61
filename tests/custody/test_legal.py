"""The legal state machine: every pair of statuses, allowed and refused, and documents."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from qoima.custody.legal import (
    INITIAL_STATUS,
    TRANSITIONS,
    Document,
    DocumentKind,
    LedgerEffect,
    LegalStatus,
    allowed_targets,
    check_intake,
    is_terminal,
    transition,
)
from qoima.domain.errors import InvalidInput

S = LegalStatus
ON = date(2025, 6, 10)
BEFORE = date(2025, 6, 1)
PAIRS = list(itertools.product(LegalStatus, LegalStatus))
ALLOWED = [pair for pair in PAIRS if pair in TRANSITIONS]
REFUSED = [pair for pair in PAIRS if pair not in TRANSITIONS]


def doc(kind: DocumentKind, dated: date = ON) -> Document:
    return Document(kind, f"{kind}-17/2025", dated, "Astana City Court")


def test_table_covers_the_issue_path() -> None:
    assert INITIAL_STATUS is S.SEIZED
    path = [S.SEIZED, S.FROZEN, S.UNDER_COURT_REVIEW, S.FORFEITED, S.TRANSFERRED_TO_RESERVE]
    for current, target in itertools.pairwise(path):
        assert (current, target) in TRANSITIONS
    assert allowed_targets(S.UNDER_COURT_REVIEW) == (
        S.FORFEITED, S.RETURNED_TO_OWNER, S.RELEASED_TO_VICTIMS)
    assert allowed_targets(S.FORFEITED) == (S.TRANSFERRED_TO_RESERVE, S.LIQUIDATED)
    terminal = {s for s in LegalStatus if is_terminal(s)}
    assert terminal == {S.TRANSFERRED_TO_RESERVE, S.LIQUIDATED, S.RETURNED_TO_OWNER,
                        S.RELEASED_TO_VICTIMS}
    assert len(ALLOWED) == 10 and len(PAIRS) == 64


def test_ledger_effects() -> None:
    assert TRANSITIONS[S.UNDER_COURT_REVIEW, S.FORFEITED].ledger_effect is \
        LedgerEffect.POST_PENDING
    for target in (S.RETURNED_TO_OWNER, S.RELEASED_TO_VICTIMS):
        assert TRANSITIONS[S.UNDER_COURT_REVIEW, target].ledger_effect is \
            LedgerEffect.VOID_PENDING
    reserve = TRANSITIONS[S.FORFEITED, S.TRANSFERRED_TO_RESERVE]
    assert reserve.ledger_effect is LedgerEffect.MOVE_TO_VEHICLE and reserve.needs_committee
    assert TRANSITIONS[S.FORFEITED, S.LIQUIDATED].needs_committee
    assert not TRANSITIONS[S.SEIZED, S.FROZEN].needs_committee


@pytest.mark.parametrize(("current", "target"), ALLOWED)
def test_allowed_pair_succeeds_with_each_accepted_document(current: S, target: S) -> None:
    rule = TRANSITIONS[current, target]
    for kind in rule.documents:
        outcome = transition(current, target, [doc(kind)], ON, last_change_on=BEFORE)
        assert outcome.from_status is current and outcome.to_status is target
        assert outcome.ledger_effect is rule.ledger_effect
        assert outcome.needs_committee is rule.needs_committee
        assert outcome.documents == (doc(kind),) and outcome.on == ON


@pytest.mark.parametrize(("current", "target"), ALLOWED)
def test_allowed_pair_fails_without_its_document(current: S, target: S) -> None:
    rule = TRANSITIONS[current, target]
    with pytest.raises(InvalidInput) as caught:
        transition(current, target, [], ON, last_change_on=BEFORE)
    names = [str(kind) for kind in rule.documents]
    assert f"{target} needs a " in caught.value.message
    assert "(reference and date)" in caught.value.message
    for name in names:
        assert name in caught.value.message
    wrong = next(k for k in DocumentKind if k not in rule.documents)
    with pytest.raises(InvalidInput, match=f"a {wrong} .* does not prove {target}"):
        transition(current, target, [doc(wrong)], ON, last_change_on=BEFORE)


@pytest.mark.parametrize(("current", "target"), REFUSED)
def test_refused_pair_names_the_allowed_targets(current: S, target: S) -> None:
    documents = [doc(kind) for kind in DocumentKind]  # no document makes it legal
    with pytest.raises(InvalidInput) as caught:
        transition(current, target, documents, ON, last_change_on=BEFORE)
    message = caught.value.message
    assert message.startswith(f"{current} -> {target} is not allowed; ")
    targets = allowed_targets(current)
    if targets:
        assert message.endswith(f"from {current}: {', '.join(targets)}")
    else:
        assert message.endswith(f"{current} is final, nothing follows it")
    assert caught.value.details["allowed"] == [str(t) for t in targets]


def test_exact_messages() -> None:
    with pytest.raises(InvalidInput) as caught:
        transition(S.FORFEITED, S.FROZEN, [], ON, last_change_on=None)
    assert caught.value.message == ("forfeited -> frozen is not allowed; from forfeited: "
                                    "transferred_to_reserve, liquidated")
    with pytest.raises(InvalidInput) as caught:
        transition(S.UNDER_COURT_REVIEW, S.FORFEITED, [], ON, last_change_on=None)
    assert caught.value.message == ("forfeited needs a court_order or forfeiture_order "
                                    "(reference and date)")
    assert caught.value.field == "documents"


def test_document_dated_after_the_change_is_refused() -> None:
    late = doc(DocumentKind.COURT_ORDER, date(2025, 6, 11))
    with pytest.raises(InvalidInput, match="dated 2025-06-11, after the change on 2025-06-10"):
        transition(S.UNDER_COURT_REVIEW, S.FORFEITED, [late], ON, last_change_on=BEFORE)


def test_document_dated_before_the_previous_change_is_refused() -> None:
    stale = doc(DocumentKind.COURT_ORDER, date(2025, 5, 31))
    with pytest.raises(InvalidInput, match="before the previous change on 2025-06-01"):
        transition(S.UNDER_COURT_REVIEW, S.FORFEITED, [stale], ON, last_change_on=BEFORE)
    # on the day of the previous change and on the day itself are both fine
    for dated in (BEFORE, ON):
        transition(S.UNDER_COURT_REVIEW, S.FORFEITED, [doc(DocumentKind.COURT_ORDER, dated)],
                   ON, last_change_on=BEFORE)


def test_change_before_the_previous_change_is_refused() -> None:
    with pytest.raises(InvalidInput, match="before the previous change on 2025-06-10") as c:
        transition(S.SEIZED, S.FROZEN, [doc(DocumentKind.FREEZE_ORDER, BEFORE)], BEFORE,
                   last_change_on=ON)
    assert c.value.field == "on"


def test_first_change_needs_no_previous_date() -> None:
    outcome = transition(S.SEIZED, S.FROZEN, [doc(DocumentKind.FREEZE_ORDER, date(2020, 1, 1))],
                         ON, last_change_on=None)
    assert outcome.to_status is S.FROZEN


@pytest.mark.parametrize(("field", "kwargs"), [
    ("reference", {"reference": " "}),
    ("issued_by", {"issued_by": ""}),
])
def test_document_needs_reference_and_issuer(field: str, kwargs: dict[str, str]) -> None:
    values = {"kind": DocumentKind.COURT_ORDER, "reference": "CO-1", "dated": ON,
              "issued_by": "court"} | kwargs
    with pytest.raises(InvalidInput) as caught:
        Document(**values)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_document_kind_and_date_types() -> None:
    with pytest.raises(InvalidInput, match="document kind must be one of"):
        Document("court_order", "CO-1", ON, "court")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="needs its date"):
        Document(DocumentKind.COURT_ORDER, "CO-1", "2025-06-10", "court")  # type: ignore[arg-type]


def test_intake_needs_a_seizure_or_court_order() -> None:
    assert check_intake([doc(DocumentKind.SEIZURE_ORDER)], ON) == (
        doc(DocumentKind.SEIZURE_ORDER),)
    with pytest.raises(InvalidInput, match="seized needs a seizure_order or court_order"):
        check_intake([], ON)
    with pytest.raises(InvalidInput, match="does not prove seized"):
        check_intake([doc(DocumentKind.FREEZE_ORDER)], ON)
