"""Policy changes (issue 5, item 7): a loosening waits ``change_delay_days`` after approval
and the committee can veto it meanwhile; a tightening takes effect at once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from qoima.adapters.policy_files import parse_policy
from qoima.app.policies import PolicyService
from qoima.bootstrap.wiring import Reserve
from qoima.domain.errors import Conflict, Forbidden, InvalidInput
from qoima.domain.roles import Role, RoleGrant
from qoima.policy.model import Custody, InvestmentPolicy
from tests.app.custody import ALEM, PEOPLE, alem_policy
from tests.app.governance import governed_demo


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.at = start

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


def _velocity(policy: InvestmentPolicy | None) -> Decimal | None:
    assert policy is not None
    (custody,) = [limit for limit in policy.limits if isinstance(limit, Custody)]
    return custody.velocity_max_usd


@pytest.fixture
def setup(reserve: Reserve) -> tuple[PolicyService, FakeClock]:
    governed_demo(reserve)
    for name, grants in PEOPLE.items():
        reserve.users.add(name, name.title(), grants, actor="admin")
    reserve.users.add("cm-alem", "Cm", [RoleGrant(Role.COMMITTEE_MEMBER, ALEM)], actor="admin")
    clock = FakeClock(datetime.now(UTC))
    service = PolicyService(reserve.units, clock, reserve.valuation, parse_policy)
    service.propose(alem_policy(), fmt="yaml", actor="pm-alem")
    first = service.approve(ALEM, 1, actor="cm1")
    assert first.status == "active"  # the first version has nothing to loosen
    return service, clock


def _today(clock: FakeClock) -> date:
    return clock.now().date()


def test_loosening_waits_for_the_declared_delay(setup: tuple[PolicyService, FakeClock]
                                                ) -> None:
    service, clock = setup
    service.propose(alem_policy(velocity_max_usd="30_000_000"), fmt="yaml", actor="pm-alem")
    approved = service.approve(ALEM, 2, actor="cm1")
    assert approved.status == "approved"
    assert approved.takes_effect_at == clock.now() + timedelta(days=14)
    assert _velocity(service.in_force(ALEM, _today(clock))) == Decimal("15000000")
    clock.advance(days=13, hours=23)
    assert _velocity(service.in_force(ALEM, _today(clock))) == Decimal("15000000")
    with pytest.raises(Forbidden):  # only the committee vetoes
        service.veto(ALEM, 2, actor="risk", reason="too loose")
    clock.advance(hours=1)
    assert _velocity(service.in_force(ALEM, _today(clock))) == Decimal("30000000")
    with pytest.raises(Conflict):  # in force now: too late to veto
        service.veto(ALEM, 2, actor="cm2", reason="too loose")


def test_vetoed_loosening_never_takes_effect(setup: tuple[PolicyService, FakeClock]) -> None:
    service, clock = setup
    service.propose(alem_policy(approval_quorum="1"), fmt="yaml", actor="pm-alem")
    assert service.approve(ALEM, 2, actor="cm1").status == "approved"
    clock.advance(days=3)
    with pytest.raises(InvalidInput):
        service.veto(ALEM, 2, actor="cm2", reason=" ")
    service.veto(ALEM, 2, actor="cm-alem", reason="a single approver is not enough")
    assert [v.status for v in service.versions(ALEM)] == ["active", "vetoed"]
    clock.advance(days=30)
    policy = service.in_force(ALEM, _today(clock))
    assert policy is not None and policy.version == 1
    with pytest.raises(Conflict):
        service.approve(ALEM, 2, actor="cm1")


def test_tightening_takes_effect_at_once(setup: tuple[PolicyService, FakeClock]) -> None:
    service, clock = setup
    service.propose(alem_policy(velocity_max_usd="5_000_000"), fmt="yaml", actor="pm-alem")
    approved = service.approve(ALEM, 2, actor="cm2")
    assert approved.status == "active" and approved.takes_effect_at == clock.now()
    assert _velocity(service.in_force(ALEM, _today(clock))) == Decimal("5000000")
    assert [v.status for v in service.versions(ALEM)] == ["superseded", "active"]
