"""Four eyes, quorum by size, binding to the terms hash, and the committee override."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from qoima.domain.errors import Forbidden, InvalidInput, OrderStateError
from qoima.domain.roles import Role, RoleGrant, User
from qoima.orders.approvals import (
    DEFAULT_APPROVAL_RULES,
    LARGE_ORDER_USD,
    ApprovalRules,
    QuorumStep,
    approval_state,
    counted_approvals,
)
from qoima.orders.lifecycle import approve, edit, new_order, submit
from qoima.orders.model import Approval, Order, OrderStatus
from tests.orders.builders import (
    BLOCKED,
    CLEAN,
    CM1,
    CM2,
    CM3,
    LARGE,
    PM,
    RO,
    RO2,
    RULES,
    VEHICLE,
    WARNED,
    at,
    person,
    submitted,
    terms,
)

S = OrderStatus
D = Decimal
BOTH = person("nurlan", Role.RISK_OFFICER, Role.COMMITTEE_MEMBER)


def run(order: Order, *steps: tuple[User, str | None]) -> Order:
    """Approve in turn, a minute apart, after the order's last change."""
    for user, reason in steps:
        order = approve(order, user, order.updated_at + timedelta(minutes=1), RULES, reason)
    return order


# -- four eyes -----------------------------------------------------------------------


def test_the_maker_can_never_approve_even_holding_an_approving_role() -> None:
    maker = User("kairat", "Kairat", (RoleGrant(Role.PORTFOLIO_MANAGER, VEHICLE),
                                      RoleGrant(Role.RISK_OFFICER, VEHICLE),
                                      RoleGrant(Role.COMMITTEE_MEMBER, VEHICLE)))
    order = submit(new_order("o-1", "k-1", terms(), maker, at(0)), maker, at(1), pretrade=CLEAN)
    with pytest.raises(Forbidden, match="kairat made order o-1 and can never approve it"):
        approve(order, maker, at(2), RULES)
    with pytest.raises(Forbidden, match="can never approve"):
        approve(order, maker, at(2), RULES, "the committee says so")


def test_a_maker_approval_slipped_into_the_record_does_not_count() -> None:
    order = submitted()
    forged = Approval("dana", (Role.RISK_OFFICER,), order.terms.content_hash, at(2))
    state = approval_state(replace(order, approvals=(forged,)), RULES)
    assert not state.satisfied and state.approvers == ()


def test_approvals_count_over_distinct_people() -> None:
    order = submitted(*LARGE)
    once = run(order, (BOTH, None))  # one person holding both roles
    state = approval_state(once, RULES)
    assert once.status is S.SUBMITTED
    assert state.approvers == ("nurlan",)
    assert len(state.missing) == 1 and "a person not already counted" in state.missing[0]
    again = run(once, (BOTH, None))  # approving twice still counts once
    assert again.status is S.SUBMITTED
    assert len(again.approvals) == 1
    done = run(again, (CM1, None))
    assert done.status is S.APPROVED
    assert approval_state(done, RULES).approvers == ("aliya", "nurlan")


def test_duplicate_records_of_one_person_count_once() -> None:
    order = submitted(*LARGE)
    h = order.terms.content_hash
    twice = (Approval("nurlan", (Role.RISK_OFFICER,), h, at(2)),
             Approval("nurlan", (Role.COMMITTEE_MEMBER,), h, at(3)))
    assert not approval_state(replace(order, approvals=twice), RULES).satisfied
    assert len(counted_approvals(replace(order, approvals=twice))) == 1


def test_approval_records_the_approving_roles_held_on_the_vehicle() -> None:
    mixed = User("zhan", "Zhan", (RoleGrant(Role.RISK_OFFICER, None),
                                  RoleGrant(Role.COMMITTEE_MEMBER, VEHICLE),
                                  RoleGrant(Role.AUDITOR, None),
                                  RoleGrant(Role.COMMITTEE_MEMBER, "state-fund")))
    order = run(submitted(), (mixed, None))
    assert order.approvals[0].roles == (Role.COMMITTEE_MEMBER, Role.RISK_OFFICER)
    assert order.approvals[0].terms_hash == order.terms.content_hash
    assert order.approvals[0].at == at(2)


def test_an_approval_in_a_role_that_cannot_approve_does_not_count() -> None:
    order = submitted()
    odd = Approval("aigerim", (Role.AUDITOR, Role.OPERATIONS), order.terms.content_hash, at(2))
    assert not approval_state(replace(order, approvals=(odd,)), RULES).satisfied


# -- quorum by size --------------------------------------------------------------------


@pytest.mark.parametrize(("quantity", "approvers", "approved"), [
    ("500000", [RO], True),  # exactly USD 25M: one approver
    ("500000", [CM1], True),
    ("1000", [RO], True),
    ("500000.0002", [RO], False),  # USD 25,000,000.01: a risk officer AND a committee member
    ("500000.0002", [CM1], False),
    ("500000.0002", [RO, CM1], True),
    ("500000.0002", [CM1, RO], True),
    ("600000", [RO, RO2], False),  # two risk officers: no committee member
    ("600000", [CM1, CM2], False),  # two committee members: no risk officer
    ("600000", [CM1, CM2, CM3], False),
    ("600000", [BOTH, RO], True),  # BOTH covers the committee seat, RO the risk seat
    ("600000", [BOTH, CM1], True),
])
def test_quorum_grows_with_size(quantity: str, approvers: list[User], approved: bool) -> None:
    order = run(submitted(quantity, "50"), *[(u, None) for u in approvers])
    assert order.status is (S.APPROVED if approved else S.SUBMITTED)
    assert approval_state(order, RULES).satisfied is approved


def test_missing_says_what_is_lacking() -> None:
    state = approval_state(run(submitted(*LARGE), (CM1, None)), RULES)
    assert state.missing == ("an approval by a risk_officer (a person not already counted)",)
    nothing = approval_state(submitted(), RULES)
    assert nothing.missing == (
        "1 more approval(s) by a committee_member or risk_officer other than the maker",)
    assert D("25000000") == LARGE_ORDER_USD


def test_a_longer_ladder_with_a_repeated_role() -> None:
    rules = ApprovalRules(steps=(
        QuorumStep(D(0), (), 1),
        QuorumStep(D("25000000"), (Role.RISK_OFFICER, Role.COMMITTEE_MEMBER), 2),
        QuorumStep(D("100000000"), (Role.RISK_OFFICER, Role.COMMITTEE_MEMBER,
                                    Role.COMMITTEE_MEMBER), 3),
    ))
    assert rules.step_for(D("100000000")).min_approvers == 2
    assert rules.step_for(D("100000000.01")).min_approvers == 3
    assert rules.step_for(D("1")).min_approvers == 1
    order = submitted("3000000", "50")  # USD 150M
    for user in (RO, CM1, BOTH):
        order = approve(order, user, at(5), rules)
    assert order.status is S.APPROVED  # BOTH fills the second committee seat
    short = submitted("3000000", "50")
    for user in (BOTH, CM1):
        short = approve(short, user, at(5), rules)
    assert short.status is S.SUBMITTED


def test_a_step_may_demand_more_people_than_roles() -> None:
    rules = ApprovalRules(steps=(QuorumStep(D(0), (Role.RISK_OFFICER,), 3),))
    order = submitted()
    for minute, user in enumerate((RO, CM1), start=2):
        order = approve(order, user, at(minute), rules)
    assert order.status is S.SUBMITTED
    assert approval_state(order, rules).missing == (
        "1 more approval(s) by a committee_member or risk_officer other than the maker",)
    assert approve(order, CM2, at(4), rules).status is S.APPROVED


@pytest.mark.parametrize("make", [
    lambda: ApprovalRules(steps=(QuorumStep(D(1), (), 1),)),  # no step from 0
    lambda: ApprovalRules(steps=(QuorumStep(D(0), (), 1), QuorumStep(D(0), (), 2))),
    lambda: QuorumStep(D(0), (), 0),
    lambda: QuorumStep(D(-1), (), 1),
    lambda: QuorumStep(D(0), (Role.PORTFOLIO_MANAGER,), 1),  # that role cannot approve
    lambda: ApprovalRules(steps=(QuorumStep(D(0), (), 1),), override_quorum=0),
    lambda: ApprovalRules(steps=(QuorumStep(D(0), (), 1),), override_roles=()),
    lambda: ApprovalRules(steps=(QuorumStep(D(0), (), 1),), override_roles=(Role.AUDITOR,)),
])
def test_unsatisfiable_rules_are_refused(make: object) -> None:
    with pytest.raises(InvalidInput):
        make()  # type: ignore[operator]


# -- binding to the terms hash ------------------------------------------------------------


def test_edit_after_approval_voids_the_approvals() -> None:
    half = run(submitted(*LARGE), (RO, None))
    assert half.status is S.SUBMITTED and len(half.approvals) == 1
    edited = edit(half, terms("600001"), PM, at(5))
    assert edited.status is S.DRAFT and edited.approvals == ()
    again = submit(edited, PM, at(6), pretrade=CLEAN)
    after = approve(again, CM1, at(7), RULES)
    assert after.status is S.SUBMITTED  # the risk officer's approval did not survive
    assert approval_state(after, RULES).approvers == ("aliya",)


def test_editing_back_to_the_same_terms_does_not_revive_approvals() -> None:
    half = run(submitted(*LARGE), (RO, None))
    there = edit(half, terms("1"), PM, at(5))
    back = submit(edit(there, terms(*LARGE), PM, at(6)), PM, at(7), pretrade=CLEAN)
    assert back.terms.content_hash == half.terms.content_hash
    assert back.approvals == ()
    assert approve(back, CM1, at(8), RULES).status is S.SUBMITTED


def test_an_approved_order_can_no_longer_be_edited() -> None:
    done = run(submitted(), (RO, None))
    with pytest.raises(OrderStateError, match="approved"):
        edit(done, terms("2000"), PM, at(5))


def test_approvals_of_other_terms_do_not_count() -> None:
    order = run(submitted(*LARGE), (RO, None), (CM1, None))
    assert approval_state(order, RULES).satisfied
    swapped = replace(order, terms=terms("600000.5"))  # terms changed behind the lifecycle
    state = approval_state(swapped, RULES)
    assert not state.satisfied and state.approvers == ()


# -- pre-trade findings and the override -------------------------------------------------


def test_a_blocking_finding_blocks_approval() -> None:
    order = run(submitted(check=BLOCKED), (RO, None), (CM1, None), (CM2, None))
    assert order.status is S.SUBMITTED
    state = approval_state(order, RULES)
    assert state.override_required
    assert state.missing == ("override of blocking finding(s) policy.size: 2 more "
                             "committee_member approval(s) with a written reason",)


def test_a_warning_does_not_block() -> None:
    assert run(submitted(check=WARNED), (RO, None)).status is S.APPROVED


def test_committee_override_with_written_reasons() -> None:
    why = "sleeve at 310M for one day while the ETF rebalances; approved in committee 14/26"
    one = run(submitted(check=BLOCKED), (CM1, why))
    assert one.status is S.SUBMITTED
    assert "1 more committee_member" in approval_state(one, RULES).missing[0]
    two = run(one, (CM2, why))
    assert two.status is S.APPROVED
    assert [a.override_reason for a in two.approvals] == [why, why]


def test_a_large_blocked_order_needs_both_the_quorum_and_the_override() -> None:
    why = "stress loss acceptable per committee minute 7"
    no_risk = run(submitted(*LARGE, check=BLOCKED), (CM1, why), (CM2, why))
    assert no_risk.status is S.SUBMITTED
    assert any("risk_officer" in m for m in approval_state(no_risk, RULES).missing)
    assert run(no_risk, (RO, None)).status is S.APPROVED


def test_override_needs_a_reason_and_a_committee_seat() -> None:
    order = submitted(check=BLOCKED)
    for blank in ("", "  \n"):
        with pytest.raises(InvalidInput, match="reason"):
            approve(order, CM1, at(2), RULES, blank)
    with pytest.raises(Forbidden, match="may not override"):
        approve(order, RO, at(2), RULES, "I think it is fine")


def test_one_member_overriding_twice_counts_once() -> None:
    order = run(submitted(check=BLOCKED), (CM1, "first"), (CM1, "second"))
    assert order.status is S.SUBMITTED
    assert [a.override_reason for a in order.approvals] == ["second"]


def test_a_plain_approval_can_be_upgraded_to_an_override() -> None:
    order = run(submitted(check=BLOCKED), (CM1, None), (CM2, "reason b"))
    assert order.status is S.SUBMITTED
    upgraded = run(order, (CM1, "reason a"))
    assert upgraded.status is S.APPROVED
    assert len(upgraded.approvals) == 2


def test_a_fresh_check_at_approval_replaces_the_recorded_one() -> None:
    cleared = approve(submitted(check=BLOCKED), RO, at(2), RULES, pretrade=CLEAN)
    assert cleared.status is S.APPROVED and cleared.pretrade_findings == ()
    # the race: another order was approved meanwhile, so the re-run now blocks
    raced = approve(submitted(check=CLEAN), RO, at(2), RULES, pretrade=BLOCKED)
    assert raced.status is S.SUBMITTED
    assert raced.pretrade_findings == BLOCKED.findings


def test_no_approval_without_a_recorded_pretrade_check() -> None:
    order = run(submitted(check=None), (RO, None))
    assert order.status is S.SUBMITTED
    assert approval_state(order, RULES).missing == ("a recorded pre-trade policy check",)
    lax = replace(DEFAULT_APPROVAL_RULES, require_pretrade_check=False)
    assert approve(submitted(check=None), RO, at(2), lax).status is S.APPROVED


def test_a_blank_stored_reason_is_no_override() -> None:
    order = submitted(check=BLOCKED)
    h = order.terms.content_hash
    records = (Approval("aliya", (Role.COMMITTEE_MEMBER,), h, at(2), "  "),
               Approval("bolat", (Role.COMMITTEE_MEMBER,), h, at(3), "minute 7"))
    state = approval_state(replace(order, approvals=records), RULES)
    assert not state.satisfied
    assert "1 more committee_member" in state.missing[0]
