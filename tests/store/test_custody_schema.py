"""Migration 0005 (seized-asset cases) and the custody repository, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import inspect

from qoima.app.custody_ports import (
    AddressRecord,
    AssetRecord,
    CaseRecord,
    ChallengeRecord,
    CustodyEventRecord,
    DispositionRecord,
    ForkRecord,
    ProofRecord,
    ReconciliationRecord,
    SanctionedAddressRecord,
    SanctionsListRecord,
    ScreeningHitRecord,
    TransitionRecord,
)
from qoima.app.demo.build import build_demo
from qoima.bootstrap.wiring import Reserve, open_reserve
from qoima.domain.errors import Conflict, NotFound
from qoima.store.database import Database
from qoima.store.schema import current_revision, upgrade
from tests.store.test_governance_schema import _downgrade, _tables

CUSTODY = {"cases", "seized_assets", "custody_addresses", "legal_transitions",
           "custody_events", "reconciliations", "control_challenges", "control_proofs",
           "sanctions_lists", "sanctioned_addresses", "screening_hits", "forked_assets",
           "dispositions"}
INDEXES = {"seized_assets": {"ix_seized_assets_case"},
           "legal_transitions": {"ix_legal_transitions_case"},
           "custody_events": {"ix_custody_events_case"},
           "control_proofs": {"ix_control_proofs_case"},
           "sanctioned_addresses": {"ix_sanctioned_addresses_key"}}
CHECKS = {"reconciliations": "ck_reconciliations_status",
          "screening_hits": "ck_screening_hits_status",
          "dispositions": "ck_dispositions_status"}
AT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
WEI = Decimal("1200.000000000000000001")  # ETH to the wei


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    made = Database(database_url)
    yield made
    made.dispose()


def test_0005_adds_exactly_the_custody_tables_and_goes_back(database: Database) -> None:
    engine = database.engine
    upgrade(engine, "0004")
    at_0004 = _tables(engine)
    assert not (at_0004 & CUSTODY)
    upgrade(engine, "0005")
    assert current_revision(engine) == "0005"
    assert _tables(engine) - at_0004 == CUSTODY
    inspector = inspect(engine)
    for table, names in INDEXES.items():
        assert {ix["name"] for ix in inspector.get_indexes(table)} >= names
    for table, name in CHECKS.items():
        assert name in {ck["name"] for ck in inspector.get_check_constraints(table)}
    _downgrade(engine, "0004")
    assert current_revision(engine) == "0004"
    assert _tables(engine) == at_0004


@pytest.fixture
def custody_reserve(database_url: str) -> Iterator[Reserve]:
    """A fresh reserve with the instrument and the vehicle the foreign keys point at."""
    reserve = open_reserve(database_url=database_url, create=True)
    reference = build_demo().reference
    with reserve.units(write=True) as uow:
        uow.reference.add_instrument(next(i for i in reference.instruments if i.code == "ETH"))
        uow.reference.add_vehicle(next(v for v in reference.vehicles
                                       if v.code == "state-fund"))
        uow.commit()
    yield reserve
    reserve.close()


def _case(case_id: str = "case-1", opened_on: date = date(2026, 3, 1)) -> CaseRecord:
    return CaseRecord(case_id, "AFM", f"{case_id}/2026", "Astana city court", "fraud ring",
                      opened_on, "seized", opened_on, AT, "intake")


def _asset(asset_id: str = "asset-1", case_id: str = "case-1",
           **changes: object) -> AssetRecord:
    base = AssetRecord(asset_id, case_id, "ethereum", "ETH", WEI, "cold_wallet", "afm-vault",
                       date(2026, 3, 2), "seized:state-fund/main:ETH@afm", f"{asset_id}-intake",
                       '["0xab"]', '["0x01"]')
    return replace(base, **changes)  # type: ignore[arg-type]


def _event(event_id: str, at: datetime, case_id: str = "case-1") -> CustodyEventRecord:
    return CustodyEventRecord(event_id, case_id, "transfer", at, "custodian", "afm-vault",
                              "nbk-vault", "0xab", "0xcd", "0x02", WEI, "ETH", "moved",
                              AT, fee=Decimal("0.000000000000000021"), chain="ethereum")


def test_cases_assets_addresses_and_events(custody_reserve: Reserve) -> None:
    with custody_reserve.units(write=True) as uow:
        repo = uow.custody
        repo.add_case(_case("case-2", date(2026, 4, 1)))
        repo.add_case(_case("case-1"))
        repo.add_case(_case("case-0", date(2026, 4, 1)))
        repo.add_case(_case("case-1"))  # the same record again: a no-op
        with pytest.raises(Conflict):
            repo.add_case(replace(_case("case-1"), court="another court"))
        repo.set_case_status("case-1", "forfeited", date(2026, 9, 1))
        with pytest.raises(NotFound):
            repo.set_case_status("case-x", "forfeited", date(2026, 9, 1))

        repo.add_asset(_asset("asset-2"))
        repo.add_asset(_asset("asset-1"))
        repo.add_asset(_asset("asset-0", "case-2", quantity=Decimal("0.5")))
        repo.add_asset(_asset("asset-1"))
        with pytest.raises(Conflict):
            repo.add_asset(_asset("asset-1", quantity=Decimal("1200")))

        address = AddressRecord("ethereum", "0xab", "case-1", "asset-1", "ETH", AT, "seizure")
        repo.add_address(address)
        repo.add_address(address)
        with pytest.raises(Conflict):  # one case per address
            repo.add_address(replace(address, case_id="case-2", asset_id="asset-0"))
        repo.add_address(replace(address, address="0x01", source="custody_event"))
        repo.add_address(replace(address, chain="bitcoin", address="bc1q", case_id="case-2",
                                 asset_id="asset-0"))

        repo.add_transition(TransitionRecord("case-1", "seized", "frozen", date(2026, 5, 1),
                                             '["order.pdf"]', "none", None, "legal", AT))
        repo.add_transition(TransitionRecord(
            "case-1", "frozen", "forfeited", date(2026, 6, 1), '["judgment.pdf"]', "post",
            "asset-1-post", "legal", AT + timedelta(days=1)))

        repo.add_event(_event("ev-b", AT + timedelta(hours=1)))
        repo.add_event(_event("ev-a", AT + timedelta(hours=1)))
        repo.add_event(_event("ev-c", AT, "case-2"))
        repo.add_event(_event("ev-c", AT, "case-2"))
        with pytest.raises(Conflict):
            repo.add_event(replace(_event("ev-c", AT, "case-2"), note="edited"))
        uow.commit()

    with custody_reserve.units(write=False) as uow:
        repo = uow.custody
        assert [c.case_id for c in repo.list_cases()] == ["case-1", "case-0", "case-2"]
        case = repo.find_case("case-1")
        assert case == replace(_case("case-1"), legal_status="forfeited",
                               status_changed_on=date(2026, 9, 1))
        assert repo.find_case("case-x") is None

        stored = repo.find_asset("asset-1")
        assert stored == _asset("asset-1")
        assert stored is not None and stored.quantity == WEI
        assert str(stored.quantity) == "1200.000000000000000001"
        assert repo.find_asset("asset-x") is None
        assert [(a.case_id, a.asset_id) for a in repo.list_assets()] == [
            ("case-1", "asset-1"), ("case-1", "asset-2"), ("case-2", "asset-0")]
        assert [a.asset_id for a in repo.list_assets("case-2")] == ["asset-0"]
        assert repo.list_assets("case-x") == []

        assert repo.find_address("ethereum", "0xab") == address
        assert repo.find_address("bitcoin", "0xab") is None
        assert [(a.chain, a.address) for a in repo.list_addresses()] == [
            ("ethereum", "0x01"), ("ethereum", "0xab"), ("bitcoin", "bc1q")]
        assert [a.address for a in repo.list_addresses("case-2")] == ["bc1q"]

        transitions = repo.list_transitions("case-1")
        assert [(t.from_status, t.to_status, t.entry_id) for t in transitions] == [
            ("seized", "frozen", None), ("frozen", "forfeited", "asset-1-post")]
        assert transitions[0].id is not None and transitions[1].id is not None
        assert transitions[0].id < transitions[1].id
        assert transitions[1].at == AT + timedelta(days=1)
        assert repo.list_transitions("case-2") == []

        assert repo.find_event("ev-a") == _event("ev-a", AT + timedelta(hours=1))
        assert repo.find_event("ev-x") is None
        assert [e.event_id for e in repo.list_events()] == ["ev-c", "ev-a", "ev-b"]
        assert [e.event_id for e in repo.list_events("case-1")] == ["ev-a", "ev-b"]
        event = repo.find_event("ev-b")
        assert event is not None
        assert (event.quantity, event.fee) == (WEI, Decimal("0.000000000000000021"))


def test_reconciliations_challenges_proofs_and_forks(custody_reserve: Reserve) -> None:
    reconciliation = ReconciliationRecord("r" * 64, date(2026, 10, 31), "snapshot.csv",
                                          "matched", "[]", "[]", AT, "auditor")
    challenge = ChallengeRecord("n" * 32, "case-1", "ethereum", "0xab", date(2026, 11, 2),
                                "qoima proof of control n...", AT, "custodian")
    with custody_reserve.units(write=True) as uow:
        repo = uow.custody
        repo.add_case(_case())
        first = repo.add_reconciliation(reconciliation)
        assert first.id is not None
        assert first == replace(reconciliation, id=first.id)
        again = repo.add_reconciliation(replace(reconciliation, recorded_by="someone-else"))
        assert again == first  # the same content hash: the stored record
        second = repo.add_reconciliation(replace(
            reconciliation, content_hash="s" * 64, status="differences",
            findings_json='[{"asset":"asset-1"}]'))
        assert second.id is not None and second.id != first.id

        repo.add_challenge(challenge)
        repo.add_challenge(challenge)
        with pytest.raises(Conflict):
            repo.add_challenge(replace(challenge, message="another"))
        proofs = [repo.add_proof(ProofRecord(challenge.nonce, "case-1", "ethereum", "0xab",
                                             "0xsig", "eip191", valid, reason, AT, "verifier"))
                  for valid, reason in ((False, "bad signature"), (True, ""))]
        assert [p.id is not None for p in proofs] == [True, True]

        forks = [repo.add_fork(ForkRecord("case-1", "ETH", code, WEI, date(2026, 6, 1),
                                          "0xab", "zero_until_market", "", AT, "analyst"))
                 for code in ("ETHW", "ETHF")]
        uow.commit()

    with custody_reserve.units(write=False) as uow:
        repo = uow.custody
        assert repo.list_reconciliations() == [first, second]
        assert repo.find_challenge(challenge.nonce) == challenge
        assert repo.find_challenge("x") is None
        assert repo.list_proofs() == proofs
        assert repo.list_proofs("case-1") == proofs
        assert [p.valid for p in repo.list_proofs()] == [False, True]
        assert repo.list_proofs("case-x") == []
        assert repo.list_forks() == forks
        assert repo.list_forks("case-1")[0].quantity == WEI
        assert repo.list_forks("case-x") == []


def test_sanctions_lists_screening_and_hits(custody_reserve: Reserve) -> None:
    listed = [SanctionedAddressRecord(0, "ethereum", f"0xAB{i:04d}", f"0xab{i:04d}",
                                      f"entity {i}", "SDN") for i in range(1200)]
    sanctions = SanctionsListRecord("l" * 64, "sdn.csv", date(2026, 11, 1), len(listed), AT,
                                    "compliance")
    with custody_reserve.units(write=True) as uow:
        repo = uow.custody
        repo.add_case(_case())
        stored = repo.add_sanctions_list(sanctions, listed)
        assert stored.list_id is not None
        assert stored == replace(sanctions, list_id=stored.list_id)
        again = repo.add_sanctions_list(replace(sanctions, imported_by="x"), listed[:1])
        assert again == stored  # same content hash: nothing added
        older = repo.add_sanctions_list(replace(sanctions, content_hash="m" * 64,
                                                list_date=None, entries=1),
                                        [replace(listed[7], entity="older entity")])
        assert older.list_id is not None and older.list_id != stored.list_id

        hit = repo.add_hit(ScreeningHitRecord("case-1", "ethereum", "0xab0007", stored.list_id,
                                              "entity 7", "intake", "open", AT, "[]"))
        assert hit.id is not None
        no_case = repo.add_hit(replace(hit, id=None, case_id=None, context="disposition"))
        overridden = replace(hit, status="overridden",
                             overrides_json='[{"user":"cco","reason":"false positive"}]')
        repo.update_hit(overridden)
        with pytest.raises(NotFound):
            repo.update_hit(replace(hit, id=10_000))
        with pytest.raises(NotFound):
            repo.update_hit(replace(hit, id=None))
        uow.commit()

    with custody_reserve.units(write=False) as uow:
        repo = uow.custody
        assert repo.list_sanctions_lists() == [stored, older]
        keys = [f"0xab{i:04d}" for i in range(0, 1200, 2)] + ["0xnotlisted", "0xab0007"]
        assert len(keys) > 500
        found = repo.find_sanctioned(keys)
        # every list's match, in insertion order, each once
        assert len(found) == 601 + 1  # 601 keys in the first list, one in the other
        assert found[0] == replace(listed[0], list_id=stored.list_id)
        assert [f.list_id for f in found].count(older.list_id) == 1
        assert found[-1] == replace(listed[7], list_id=older.list_id, entity="older entity")
        assert [f.address_key for f in found[:-1]] == sorted(set(keys) - {"0xnotlisted"})
        assert repo.find_sanctioned([]) == []
        assert repo.find_sanctioned(["0xAB0001"]) == []  # keys are matched exactly

        assert repo.find_hit(hit.id) == overridden
        assert repo.find_hit(10_000) is None
        assert repo.list_hits() == [overridden, no_case]
        assert repo.list_hits("case-1") == [overridden]
        assert repo.list_hits(status="open") == [no_case]
        assert repo.list_hits("case-1", "open") == []


def _disposition(disposition_id: str = "disp-1", key: str = "key-1",
                 **changes: object) -> DispositionRecord:
    base = DispositionRecord(
        disposition_id, key, "case-1", "asset-1", "transferred_to_reserve", "state-fund",
        "holding:state-fund/main:ETH@nbk", WEI, Decimal("3456.78"),
        Decimal("4148136.000000000000003456"), "proposed", "pm", AT, AT, "[]",
        '{"hold":"1.2"}')
    return replace(base, **changes)  # type: ignore[arg-type]


def test_dispositions(custody_reserve: Reserve) -> None:
    with custody_reserve.units(write=True) as uow:
        repo = uow.custody
        repo.add_case(_case())
        repo.add_asset(_asset())
        assert repo.add_disposition(_disposition()) == _disposition()
        assert repo.add_disposition(_disposition("disp-9")) == _disposition()  # same key
        with pytest.raises(Conflict):
            repo.add_disposition(_disposition(key="key-2"))
        later = _disposition("disp-0", "key-0", created_at=AT + timedelta(minutes=5),
                             model="liquidated", target_vehicle=None, target_account=None)
        repo.add_disposition(later)
        executed = _disposition(status="executed", updated_at=AT + timedelta(hours=2),
                                approvals_json='[{"user":"risk","roles":["risk_officer"]}]',
                                entry_id="disp-1-exec", reason="board decision")
        repo.update_disposition(executed)
        with pytest.raises(NotFound):
            repo.update_disposition(_disposition("disp-x"))
        uow.commit()

    with custody_reserve.units(write=False) as uow:
        repo = uow.custody
        stored = repo.find_disposition("disp-1")
        assert stored == executed
        assert stored is not None
        assert stored.valuation_usd == Decimal("4148136.000000000000003456")
        assert repo.find_disposition("disp-9") is None
        assert repo.list_dispositions() == [executed, later]
        assert repo.list_dispositions("case-1") == [executed, later]
        assert repo.list_dispositions("case-x") == []
