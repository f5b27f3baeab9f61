"""Custody transfers end to end on SQLite and PostgreSQL: the alem-fund policy's whitelist,
caps, velocity and quorum enforced by the policy engine, the ledger and the audit trail."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from qoima.app.transfer_ports import TransferStatus
from qoima.app.transfers import TokenTransfer, TransferService
from qoima.bootstrap.wiring import Reserve
from qoima.domain.enums import Severity
from qoima.domain.errors import Conflict, Forbidden, IdempotencyConflict, InvalidInput
from tests.app.custody import (
    ALEM,
    CHAIN,
    WALLET,
    alem_policy,
    bnb_balance,
    custody_demo,
)

EXTERNAL = "external:BNB"
APPROVERS = ("risk", "cm1", "cm2")  # the example policy's quorum is 3


def _propose(service: TransferService, key: str, quantity: str, destination: str = WALLET,
             actor: str = "pm-alem") -> TokenTransfer:
    return service.propose(ALEM, "BNB", CHAIN, destination, Decimal(quantity),
                           idempotency_key=key, actor=actor)


def _blocking_rules(transfer: TokenTransfer) -> set[str]:
    return {f.rule for f in transfer.findings if f.severity is Severity.BLOCKING}


def test_whitelisted_transfer_approved_by_quorum_then_executed(reserve: Reserve) -> None:
    service = custody_demo(reserve)
    before, outside = bnb_balance(reserve), bnb_balance(reserve, EXTERNAL)
    transfer = _propose(service, "t1", "100")
    assert transfer.status is TransferStatus.PROPOSED
    assert transfer.record.quorum == 3 and not transfer.blocking_findings
    assert transfer.record.value_usd is not None and transfer.record.value_usd > 0
    assert _propose(service, "t1", "100") == transfer  # same key, same content
    with pytest.raises(IdempotencyConflict):
        _propose(service, "t1", "101")
    for count, approver in enumerate(APPROVERS, start=1):
        transfer = service.approve(transfer.transfer_id, actor=approver)
        expected = TransferStatus.APPROVED if count == 3 else TransferStatus.PROPOSED
        assert transfer.status is expected, transfer.missing
    with pytest.raises(Forbidden):
        service.execute(transfer.transfer_id, actor="risk", tx_id="0xabc")  # never executes
    done = service.execute(transfer.transfer_id, actor="ops", tx_id="0xabc")
    assert done.status is TransferStatus.EXECUTED and done.record.entry_id
    assert service.execute(transfer.transfer_id, actor="ops", tx_id="0xabc") == done
    with pytest.raises(IdempotencyConflict):
        service.execute(transfer.transfer_id, actor="ops", tx_id="0xother")
    assert bnb_balance(reserve) == before - 100
    assert bnb_balance(reserve, EXTERNAL) == outside + 100
    with reserve.units(write=False) as uow:
        actions = [r.action for r in uow.audit.iter_records()
                   if r.object_id in (transfer.transfer_id, done.record.entry_id)]
        entry = uow.journal.find_entry(str(done.record.entry_id))
    assert actions == ["transfer.proposed", "transfer.approved", "transfer.approved",
                       "transfer.approved", "entry.posted", "transfer.executed"]
    assert entry is not None
    assert reserve.audit.verify().problems == ()
    assert [t.transfer_id for t in service.list(actor="auditor", vehicle=ALEM)] == [
        transfer.transfer_id]


def test_destination_not_whitelisted_is_blocked_until_two_committee_overrides(
        reserve: Reserve) -> None:
    service = custody_demo(reserve)
    transfer = _propose(service, "t2", "100",
                        destination="0x000000000000000000000000000000000000dead")
    assert _blocking_rules(transfer) == {"policy.custody"}
    assert "not whitelisted" in transfer.blocking_findings[0].message
    for approver in APPROVERS:
        transfer = service.approve(transfer.transfer_id, actor=approver)
    assert transfer.status is TransferStatus.PROPOSED
    assert any("override" in m for m in transfer.missing)
    with pytest.raises(Conflict):
        service.execute(transfer.transfer_id, actor="ops", tx_id="0x1")  # not approved
    with pytest.raises(Forbidden):  # a risk officer may not override
        service.approve(transfer.transfer_id, actor="risk", override_reason="urgent")
    transfer = service.approve(transfer.transfer_id, actor="cm1", override_reason="court order")
    assert transfer.status is TransferStatus.PROPOSED
    transfer = service.approve(transfer.transfer_id, actor="cm2", override_reason="court order")
    assert transfer.status is TransferStatus.APPROVED


def test_per_transfer_caps_block(reserve: Reserve) -> None:
    service = custody_demo(reserve)
    units = _propose(service, "t3", "8001")  # 8000 BNB cap; about USD 4.7M, under USD 5M
    assert _blocking_rules(units) == {"policy.custody"}
    assert "8001 BNB is above the per-transfer cap 8000" in units.blocking_findings[0].message
    usd = _propose(service, "t4", "9000")  # above both caps (about USD 5.3M)
    assert "USD" in usd.blocking_findings[0].message
    ok = _propose(service, "t5", "8000")
    assert not ok.blocking_findings


def test_velocity_counts_approved_transfers_at_approval(reserve: Reserve) -> None:
    # two transfers of about USD 590k each: under every per-transfer cap, together above 1M
    service = custody_demo(reserve, alem_policy(velocity_max_usd="1_000_000"))
    first = _propose(service, "v1", "1000")
    second = _propose(service, "v2", "1000")
    assert not first.blocking_findings and not second.blocking_findings
    for approver in APPROVERS:
        first = service.approve(first.transfer_id, actor=approver)
    assert first.status is TransferStatus.APPROVED
    for approver in APPROVERS:
        second = service.approve(second.transfer_id, actor=approver)
    assert second.status is TransferStatus.PROPOSED
    velocity = [f for f in second.blocking_findings if f.subject == "velocity:7d"]
    assert velocity and "within 7 days" in velocity[0].message
    # once the first is executed, a new proposal sees it at once
    service.execute(first.transfer_id, actor="ops", tx_id="0xfirst")
    third = _propose(service, "v3", "1000")
    assert any(f.subject == "velocity:7d" for f in third.blocking_findings)
    # a rejected transfer frees nothing it never moved, and cannot be approved again
    rejected = service.reject(second.transfer_id, actor="cm1", reason="velocity")
    assert rejected.status is TransferStatus.REJECTED
    with pytest.raises(Conflict):
        service.approve(second.transfer_id, actor="cm2")


def test_four_eyes_distinct_people_and_roles(reserve: Reserve) -> None:
    service = custody_demo(reserve)
    own = _propose(service, "own", "10", actor="pm-risk-alem")
    with pytest.raises(Forbidden, match="never approve"):
        service.approve(own.transfer_id, actor="pm-risk-alem")
    again = service.approve(own.transfer_id, actor="risk")
    again = service.approve(own.transfer_id, actor="risk")  # one person counts once
    assert again.status is TransferStatus.PROPOSED
    assert len(again.record.approvals) == 1
    assert again.missing[0].startswith("2 more approval(s)")
    with pytest.raises(Forbidden):
        _propose(service, "aud", "10", actor="auditor")
    with pytest.raises(Forbidden):
        _propose(service, "pm", "10", actor="pm")  # a portfolio manager of another vehicle
    with pytest.raises(Forbidden):
        service.approve(own.transfer_id, actor="ops")
    cancelled = service.cancel(own.transfer_id, actor="pm-alem")
    assert cancelled.status is TransferStatus.CANCELLED


def test_bad_input_is_refused(reserve: Reserve) -> None:
    service = custody_demo(reserve)
    with pytest.raises(InvalidInput, match="positive"):
        _propose(service, "neg", "-5")
    with pytest.raises(InvalidInput, match="less than"):
        _propose(service, "big", "1000000")
    with pytest.raises(InvalidInput, match="not a BNB holding"):
        service.propose(ALEM, "BNB", CHAIN, WALLET, Decimal(1), idempotency_key="x",
                        actor="pm-alem", from_account="holding:alem-fund/main:USD@bny")


def test_vehicle_without_a_policy_in_force_is_blocked(reserve: Reserve) -> None:
    service = custody_demo(reserve, in_force=False)
    transfer = _propose(service, "nopol", "10")
    assert _blocking_rules(transfer) == {"policy.engine.no_policy"}
    assert transfer.record.quorum == 2 and transfer.record.policy_hash is None
    for approver in ("risk", "cm1"):
        transfer = service.approve(transfer.transfer_id, actor=approver)
    assert transfer.status is TransferStatus.PROPOSED


def test_a_sanctioned_destination_is_blocking_even_when_whitelisted(reserve: Reserve) -> None:
    from qoima.custody.screening import SanctionedAddress, SanctionsList

    service = custody_demo(reserve)
    listed = SanctionsList((SanctionedAddress(
        "ethereum", WALLET.upper().replace("0X", "0x"), "Example Entity", "CYBER2",
        "SDN", date(2026, 11, 1), "ETH"),), "test list", "a" * 64)
    reserve.evidence.import_sanctions(listed, actor="admin")
    transfer = _propose(service, "t-sanctioned", "100")
    assert _blocking_rules(transfer) == {"custody.sanctions_hit"}
    assert "listed as Example Entity (CYBER2)" in transfer.blocking_findings[0].message
    for approver in APPROVERS:  # the quorum alone does not clear it
        transfer = service.approve(transfer.transfer_id, actor=approver)
    assert transfer.status is TransferStatus.PROPOSED
    transfer = service.approve(transfer.transfer_id, actor="cm1", override_reason="licence")
    transfer = service.approve(transfer.transfer_id, actor="cm2", override_reason="licence")
    assert transfer.status is TransferStatus.APPROVED
