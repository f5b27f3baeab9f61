"""Seized crypto through the app services, on SQLite and PostgreSQL: a case from intake
through forfeiture into the reserve with the ledger and the audit trail checked at each step,
the return path, legal steps refused with their reason, the chain of custody, reconciliation,
proof of control with real signatures, sanctions screening with committee overrides, forks,
the inventory and the disposition comparison. Every refusal writes nothing."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from coincurve import PrivateKey

from qoima.adapters.chain_snapshot_files import read_snapshot
from qoima.adapters.sanctions_files import read_sanctions
from qoima.app.custody import AssetIntake, CaseView
from qoima.app.custody_ports import DispositionRecord
from qoima.audit.records import AuditRecord
from qoima.bootstrap.wiring import Reserve, open_reserve
from qoima.custody.addresses import eip55
from qoima.custody.cases import Case, HoldingPlace, SeizedAsset
from qoima.custody.chain_of_custody import CustodyEvent, CustodyEventKind
from qoima.custody.disposition_inputs import DispositionModel
from qoima.custody.forks import ForkedAsset, ValuationPolicy
from qoima.custody.legal import Document, DocumentKind, LegalStatus
from qoima.custody.proofs_ethereum import account_of, personal_message_hash
from qoima.custody.reconciliation import ObservedBalance
from qoima.domain.enums import EntryCode, EntryPhase, PendingOutcome
from qoima.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from qoima.domain.roles import Role, RoleGrant
from qoima.market.series import SeriesId, SeriesKind
from tests.app.governance import governed_demo
from tests.custody.test_proofs import _b64, _high_s_witness, _p2wpkh_address, _sign_p2wpkh

ROOT = Path(__file__).resolve().parents[2]
SDN = ROOT / "tests" / "custody" / "data" / "sdn_sample.xml"
POOL, FUND = "seized-pool", "state-fund"
POOL_BTC = "holding:seized-pool/main:BTC@state-wallet"
POOL_ETH = "holding:seized-pool/main:ETH@state-wallet"
POOL_USDT = "holding:seized-pool/main:USDT@state-wallet"
FUND_BTC = "holding:state-fund/liquidity:BTC@bitgo"
AS_OF = date(2026, 10, 30)  # the demo's last market day
SEIZED_ON, FROZEN_ON, REVIEW_ON = date(2026, 3, 2), date(2026, 3, 10), date(2026, 4, 1)
FORFEITED_ON, DISPOSED_ON = date(2026, 5, 15), date(2026, 6, 1)
CENT = Decimal("0.01")
ZERO = Decimal(0)
S, D, K = LegalStatus, DocumentKind, CustodyEventKind


# -- workspaces ------------------------------------------------------------------------------------


def _pg(url: str):  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"),
                           autocommit=True, connect_timeout=5)


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[str]:
    """One fresh database for this module (PostgreSQL: its own schema)."""
    if request.param == "sqlite":
        yield f"sqlite+pysqlite:///{tmp_path_factory.mktemp('custody') / 'qoima.db'}"
        return
    admin = str(request.getfixturevalue("pg_admin_url"))
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with _pg(admin) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    base = admin.replace("postgresql://", "postgresql+psycopg://", 1)
    separator = "&" if "?" in base else "?"
    yield f"{base}{separator}options=-csearch_path%3D{schema}"
    with _pg(admin) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(scope="module")
def world(database: str) -> Iterator[Reserve]:
    """The governed demo (liaison on the seized pool, risk, cm1/cm2, ops, auditor) and a
    portfolio manager of the State Fund. Tests share it: each uses its own cases and
    addresses, and checks against what the store holds rather than fixed totals."""
    reserve = open_reserve(database_url=database, create=True)
    governed_demo(reserve)
    reserve.users.add("pm-fund", "Pm Fund", [RoleGrant(Role.PORTFOLIO_MANAGER, FUND)],
                      actor="admin")
    yield reserve
    reserve.close()


# -- keys, addresses, cases ------------------------------------------------------------------------


def key(label: str) -> PrivateKey:
    return PrivateKey(hashlib.sha256(label.encode()).digest())


def btc_address(label: str) -> str:
    """A mainnet P2WPKH address whose key is ``key(label)``."""
    return _p2wpkh_address(key(label))


def eth_address(label: str) -> str:
    return eip55(account_of(key(label).public_key.format(compressed=False)))


def txid(label: str) -> str:
    return hashlib.sha256(f"tx {label}".encode()).hexdigest()


def doc(kind: DocumentKind, on: date, reference: str = "") -> Document:
    return Document(kind, reference or f"{kind}-{on}", on, "Astana City Court")


def asset(case_id: str, *, quantity: str = "2.5", address: str | None = None,
          asset_id: str | None = None, chain: str = "bitcoin", instrument: str = "BTC",
          tx: str | None = None, seized: date = SEIZED_ON) -> SeizedAsset:
    return SeizedAsset(asset_id or f"{case_id}-A1", case_id, chain, instrument,
                       Decimal(quantity), (address or btc_address(case_id),),
                       (tx or txid(case_id),), HoldingPlace.STATE_WALLET,
                       "AFM key custody unit", seized)


def case(case_id: str, opened: date = SEIZED_ON) -> Case:
    return Case(case_id, "Financial Monitoring Agency", f"No {case_id}", "Astana City Court",
                f"test case {case_id}", opened)


def open_case(reserve: Reserve, case_id: str, *assets: SeizedAsset, actor: str = "liaison",
              documents: list[Document] | None = None, network: str = "mainnet",
              **changes: Any) -> CaseView:
    intakes = [AssetIntake(a, network) for a in (assets or (asset(case_id, **changes),))]
    return reserve.custody.open_case(
        case(case_id), intakes,
        [doc(D.SEIZURE_ORDER, SEIZED_ON)] if documents is None else documents, actor=actor)


def forfeit(reserve: Reserve, case_id: str) -> CaseView:
    for target, kind, on in ((S.FROZEN, D.FREEZE_ORDER, FROZEN_ON),
                             (S.UNDER_COURT_REVIEW, D.COURT_FILING, REVIEW_ON),
                             (S.FORFEITED, D.COURT_ORDER, FORFEITED_ON)):
        view = reserve.custody.transition(case_id, target, [doc(kind, on)], on,
                                          actor="liaison")
    return view


# -- what the store holds --------------------------------------------------------------------------


def ledger(reserve: Reserve, account: str, as_of: date = AS_OF) -> tuple[Decimal, Decimal]:
    """(posted balance, open pending amount) of ``account`` as of ``as_of``."""
    with reserve.units(write=False) as uow:
        return (uow.journal.balances_as_of(as_of).get(account, ZERO),
                uow.journal.pending_open(as_of).get(account, ZERO))


def pending_in_holdings(reserve: Reserve, account: str, as_of: date = AS_OF) -> Decimal:
    holdings = reserve.valuation.holdings(as_of, vehicle=POOL)
    return sum((p.quantity for p in holdings.pending if p.account.code == account), ZERO)


def posted_in_holdings(reserve: Reserve, account: str, as_of: date = AS_OF) -> Decimal:
    holdings = reserve.valuation.holdings(as_of, vehicle=account.split(":")[1].split("/")[0])
    return sum((p.quantity for p in holdings.positions if p.account.code == account), ZERO)


def navs(reserve: Reserve, as_of: date = AS_OF) -> dict[str, Decimal]:
    return {v.vehicle_code: v.nav_usd for v in reserve.valuation.snapshot(as_of).vehicles}


def price(reserve: Reserve, code: str, on: date) -> Decimal:
    with reserve.units(write=False) as uow:
        return uow.market.latest_prices(on, [code])[code].price


def trail(reserve: Reserve) -> list[AuditRecord]:
    with reserve.units(write=False) as uow:
        return list(uow.audit.iter_records())


def audit_count(reserve: Reserve) -> int:
    with reserve.units(write=False) as uow:
        return uow.audit.count()


def new_actions(reserve: Reserve, before: int) -> list[str]:
    """Actions recorded since the trail held ``before`` records; the trail verifies."""
    verification = reserve.audit.verify()
    assert verification.ok, verification.problems
    return [record.action for record in trail(reserve)[before:]]


def footprint(reserve: Reserve) -> tuple[object, ...]:
    """Everything a custody use case can write."""
    with reserve.units(write=False) as uow:
        c = uow.custody
        cases = c.list_cases()
        return (uow.audit.count(), len(uow.journal.list_entries(limit=10_000)), tuple(cases),
                sum(len(c.list_transitions(x.case_id)) for x in cases), len(c.list_assets()),
                len(c.list_addresses()), len(c.list_events()), tuple(c.list_hits()),
                len(c.list_proofs()), len(c.list_reconciliations()),
                tuple(c.list_dispositions()), len(c.list_forks()),
                len(c.list_sanctions_lists()))


def refused(reserve: Reserve, error: type[Exception], match: str | None,
            call: Callable[[], object]) -> Any:
    """``call`` raises ``error`` matching ``match`` and changes nothing."""
    before = footprint(reserve)
    with pytest.raises(error, match=match) as caught:
        call()
    assert footprint(reserve) == before
    return caught.value


def entry(reserve: Reserve, entry_id: str) -> Any:
    with reserve.units(write=False) as uow:
        found = uow.journal.find_entry(entry_id)
        assert found is not None, entry_id
        return found


def resolution(reserve: Reserve, entry_id: str) -> Any:
    with reserve.units(write=False) as uow:
        return uow.journal.find_resolution(entry_id)


# -- 1. intake -> forfeiture -> the reserve --------------------------------------------------------


def test_a_case_from_intake_through_forfeiture_into_the_reserve(world: Reserve) -> None:
    r, cid, q = world, "E2E-1", Decimal("7.25")
    nav0 = navs(r)
    pool0, pending0 = ledger(r, POOL_BTC)
    fund0, _ = ledger(r, FUND_BTC)
    held0 = pending_in_holdings(r, POOL_BTC)

    # intake: a pending entry in the seized pool, nothing in any NAV
    n = audit_count(r)
    view = open_case(r, cid, quantity=str(q))
    (seized,) = view.assets
    assert view.case.legal_status == "seized" and view.case.created_by == "liaison"
    assert seized.account_code == POOL_BTC
    assert new_actions(r, n) == ["entry.pending", "case.opened"]
    intake = entry(r, seized.intake_entry_id)
    assert intake.draft.phase is EntryPhase.PENDING
    assert intake.draft.code is EntryCode.SEIZURE_INTAKE
    assert intake.draft.postings[0].account == POOL_BTC
    assert intake.draft.postings[0].amount == q
    assert intake.draft.postings[0].unit_cost_usd == price(r, "BTC", SEIZED_ON)
    assert ledger(r, POOL_BTC) == (pool0, pending0 + q)
    assert pending_in_holdings(r, POOL_BTC) == held0 + q
    assert navs(r) == nav0

    # freeze and court review: legal steps, no ledger effect
    for target, kind, on in ((S.FROZEN, D.FREEZE_ORDER, FROZEN_ON),
                             (S.UNDER_COURT_REVIEW, D.COURT_FILING, REVIEW_ON)):
        n = audit_count(r)
        view = r.custody.transition(cid, target, [doc(kind, on)], on, actor="liaison")
        assert (view.case.legal_status, view.case.status_changed_on) == (target, on)
        assert new_actions(r, n) == ["case.transition"]
        payload = json.loads(trail(r)[-1].payload)
        assert (payload["to"], payload["documents"][0]["kind"]) == (target, kind)
        assert ledger(r, POOL_BTC) == (pool0, pending0 + q)
        assert navs(r) == nav0

    # forfeiture: the pending entry is posted at the forfeiture price
    n = audit_count(r)
    view = r.custody.transition(cid, S.FORFEITED, [doc(D.COURT_ORDER, FORFEITED_ON)],
                                FORFEITED_ON, actor="liaison")
    assert view.case.legal_status == "forfeited"
    assert new_actions(r, n) == ["entry.posted", "case.transition"]
    forfeiture = entry(r, f"{seized.intake_entry_id}-forfeit")
    assert forfeiture.draft.code is EntryCode.FORFEITURE
    assert forfeiture.draft.value_date == FORFEITED_ON
    assert forfeiture.draft.resolves_entry_id == seized.intake_entry_id
    (leg, _) = forfeiture.draft.postings
    assert (leg.account, leg.amount) == (POOL_BTC, q)
    assert leg.unit_cost_usd == price(r, "BTC", FORFEITED_ON)
    assert resolution(r, seized.intake_entry_id).outcome is PendingOutcome.POSTED
    assert view.transitions[-1].entry_id == forfeiture.entry_id
    assert ledger(r, POOL_BTC) == (pool0 + q, pending0)
    assert pending_in_holdings(r, POOL_BTC) == held0
    assert posted_in_holdings(r, POOL_BTC) == pool0 + q
    assert resolution(r, seized.intake_entry_id).resolved_date == FORFEITED_ON
    after_forfeiture = navs(r)
    assert after_forfeiture[POOL] > nav0[POOL]
    assert {k: v for k, v in after_forfeiture.items() if k != POOL} == \
        {k: v for k, v in nav0.items() if k != POOL}

    # the enforcement liaison cannot move forfeited coins into a reserve vehicle
    refused(r, Forbidden, "liaison", lambda: r.dispositions.propose(
        cid, seized.asset_id, S.TRANSFERRED_TO_RESERVE, actor="liaison", on=DISPOSED_ON,
        vehicle=FUND, tranche="liquidity", custodian="bitgo"))
    for documents in ([], [doc(D.TRANSFER_APPROVAL, DISPOSED_ON)]):
        refused(r, Forbidden, "qoima case dispose", partial(
            r.custody.transition, cid, S.TRANSFERRED_TO_RESERVE, documents, DISPOSED_ON,
            actor="liaison"))
    refused(r, Forbidden, "qoima case dispose", lambda: r.custody.transition(
        cid, S.LIQUIDATED, [doc(D.LIQUIDATION_APPROVAL, DISPOSED_ON)], DISPOSED_ON,
        actor="liaison"))
    # nor can a portfolio manager of another vehicle
    refused(r, Forbidden, "state-fund", lambda: r.dispositions.propose(
        cid, seized.asset_id, S.TRANSFERRED_TO_RESERVE, actor="pm", on=DISPOSED_ON,
        vehicle=FUND, tranche="liquidity", custodian="bitgo"))

    # the State Fund's manager proposes; price and valuation recorded to the cent
    n = audit_count(r)
    proposed = r.dispositions.propose(cid, seized.asset_id, S.TRANSFERRED_TO_RESERVE,
                                      actor="pm-fund", on=DISPOSED_ON, vehicle=FUND,
                                      tranche="liquidity", custodian="bitgo")
    px = price(r, "BTC", DISPOSED_ON)
    assert (proposed.status, proposed.maker, proposed.target_account) == (
        "proposed", "pm-fund", FUND_BTC)
    assert (proposed.quantity, proposed.price_usd) == (q, px)
    assert proposed.valuation_usd == (q * px).quantize(CENT, ROUND_HALF_EVEN)
    assert new_actions(r, n) == ["disposition.proposed"]
    again = r.dispositions.propose(cid, seized.asset_id, S.TRANSFERRED_TO_RESERVE,
                                   actor="pm-fund", on=DISPOSED_ON, vehicle=FUND,
                                   tranche="liquidity", custodian="bitgo")
    assert again == proposed and audit_count(r) == n + 1  # a replay writes nothing

    did = proposed.disposition_id
    refused(r, Forbidden, "liaison", lambda: r.dispositions.approve(
        did, actor="liaison", on=DISPOSED_ON))
    refused(r, Forbidden, "maker", lambda: r.dispositions.approve(
        did, actor="pm-fund", on=DISPOSED_ON))

    # risk approves: one approval, nothing moves yet
    n = audit_count(r)
    approved = r.dispositions.approve(did, actor="risk", on=DISPOSED_ON)
    assert approved.status == "proposed" and approved.entry_id is None
    assert [a["user"] for a in json.loads(approved.approvals_json)] == ["risk"]
    assert new_actions(r, n) == ["disposition.approved"]
    assert ledger(r, POOL_BTC) == (pool0 + q, pending0)
    assert ledger(r, FUND_BTC)[0] == fund0
    assert r.custody.case(cid).case.legal_status == "forfeited"

    # a committee member approves: executed, the coins are in the State Fund
    n = audit_count(r)
    executed = r.dispositions.approve(did, actor="cm1", on=DISPOSED_ON)
    assert executed.status == "executed"
    assert new_actions(r, n) == ["entry.posted", "case.transition", "disposition.approved"]
    assert ledger(r, POOL_BTC) == (pool0, pending0)
    assert ledger(r, FUND_BTC)[0] == fund0 + q
    assert posted_in_holdings(r, FUND_BTC) == fund0 + q
    assert executed.entry_id is not None
    move = entry(r, executed.entry_id)
    assert move.draft.code is EntryCode.TRANSFER and move.draft.value_date == DISPOSED_ON
    assert {(p.account, p.amount) for p in move.draft.postings} == {(POOL_BTC, -q),
                                                                    (FUND_BTC, q)}
    assert dict(move.draft.metadata)["valuation_usd"] == str(proposed.valuation_usd)
    view = r.custody.case(cid)
    assert (view.case.legal_status, view.case.status_changed_on) == (
        "transferred_to_reserve", DISPOSED_ON)
    last = view.transitions[-1]
    assert (last.from_status, last.to_status, last.entry_id) == (
        "forfeited", "transferred_to_reserve", executed.entry_id)
    assert json.loads(last.documents_json)[0]["kind"] == "transfer_approval"
    (stored,) = r.dispositions.dispositions(cid)
    assert (stored.status, stored.price_usd, stored.valuation_usd) == (
        "executed", px, (q * px).quantize(CENT, ROUND_HALF_EVEN))
    final = navs(r)
    assert final[POOL] == nav0[POOL]
    assert abs(final[FUND] - nav0[FUND] - q * price(r, "BTC", AS_OF)) <= CENT
    assert {k: v for k, v in final.items() if k not in (POOL, FUND)} == \
        {k: v for k, v in nav0.items() if k not in (POOL, FUND)}

    # the whole story is in the trail, by the people who took each step
    story = [(x.action, x.actor) for x in trail(r)
             if x.object_id in (cid, did) or cid in x.object_id or did in x.object_id]
    assert story == [("entry.pending", "liaison"), ("case.opened", "liaison"),
                     ("case.transition", "liaison"), ("case.transition", "liaison"),
                     ("entry.posted", "liaison"), ("case.transition", "liaison"),
                     ("disposition.proposed", "pm-fund"), ("disposition.approved", "risk"),
                     ("entry.posted", "cm1"), ("case.transition", "cm1"),
                     ("disposition.approved", "cm1")]
    refused(r, Conflict, "executed", lambda: r.dispositions.approve(
        did, actor="cm2", on=DISPOSED_ON))
    refused(r, InvalidInput, "only forfeited", lambda: r.dispositions.propose(
        cid, seized.asset_id, S.TRANSFERRED_TO_RESERVE, actor="pm-fund",
        on=date(2026, 6, 2), vehicle=FUND, tranche="liquidity", custodian="bitgo"))


# -- 2. the return path ----------------------------------------------------------------------------


def test_a_return_order_voids_the_pending_entry(world: Reserve) -> None:
    r, cid, q = world, "RET-1", Decimal("1.5")
    pool0, pending0 = ledger(r, POOL_BTC)
    view = open_case(r, cid, quantity=str(q))
    intake_id = view.assets[0].intake_entry_id
    assert ledger(r, POOL_BTC) == (pool0, pending0 + q)
    n = audit_count(r)
    returned_on = date(2026, 3, 20)
    view = r.custody.transition(cid, S.RETURNED_TO_OWNER,
                                [doc(D.RETURN_ORDER, returned_on)], returned_on,
                                actor="liaison")
    assert view.case.legal_status == "returned_to_owner"
    assert new_actions(r, n) == ["entry.posted", "case.transition"]
    voiding = entry(r, f"{intake_id}-return")
    assert voiding.draft.code is EntryCode.RETURN_TO_OWNER and voiding.draft.postings == ()
    assert resolution(r, intake_id).outcome is PendingOutcome.VOIDED
    assert ledger(r, POOL_BTC) == (pool0, pending0)  # nothing posted, nothing pending
    assert pending_in_holdings(r, POOL_BTC) == pending0
    # a returned case is final
    refused(r, InvalidInput, "returned_to_owner is final, nothing follows it",
            lambda: r.custody.transition(cid, S.FORFEITED, [doc(D.COURT_ORDER, AS_OF)],
                                         AS_OF, actor="liaison"))


# -- 3. legal steps refused ------------------------------------------------------------------------


def test_legal_steps_are_refused_with_their_reason_and_write_nothing(world: Reserve) -> None:
    r, cid = world, "LEG-1"
    open_case(r, cid)
    error = refused(r, InvalidInput, None, lambda: r.custody.transition(
        cid, S.FROZEN, [], FROZEN_ON, actor="liaison"))
    assert error.message == "frozen needs a freeze_order or court_order (reference and date)"
    assert error.field == "documents"
    error = refused(r, InvalidInput, None, lambda: r.custody.transition(
        cid, S.FORFEITED, [doc(D.COURT_ORDER, FROZEN_ON)], FROZEN_ON, actor="liaison"))
    assert error.message == ("seized -> forfeited is not allowed; from seized: frozen, "
                             "under_court_review, returned_to_owner")
    error = refused(r, InvalidInput, None, lambda: r.custody.transition(
        cid, S.FROZEN, [doc(D.FREEZE_ORDER, date(2026, 3, 12), "FO-7")], FROZEN_ON,
        actor="liaison"))
    assert error.message == "freeze_order FO-7 is dated 2026-03-12, after the change on 2026-03-10"
    assert error.field == "dated"
    error = refused(r, InvalidInput, None, lambda: r.custody.transition(
        cid, S.FROZEN, [doc(D.COURT_FILING, FROZEN_ON, "CF-1")], FROZEN_ON, actor="liaison"))
    assert error.message == ("a court_filing (CF-1) does not prove frozen; it needs a "
                             "freeze_order or court_order")
    error = refused(r, InvalidInput, None, lambda: r.custody.transition(
        cid, S.FROZEN, [doc(D.FREEZE_ORDER, date(2026, 3, 1))], date(2026, 3, 1),
        actor="liaison"))
    assert error.message == ("seized -> frozen on 2026-03-01 is before the previous change on "
                             "2026-03-02")
    refused(r, Forbidden, "pm", lambda: r.custody.transition(
        cid, S.FROZEN, [doc(D.FREEZE_ORDER, FROZEN_ON)], FROZEN_ON, actor="pm"))
    refused(r, NotFound, "no case", lambda: r.custody.transition(
        "LEG-404", S.FROZEN, [doc(D.FREEZE_ORDER, FROZEN_ON)], FROZEN_ON, actor="liaison"))
    view = r.custody.case(cid)
    assert view.case.legal_status == "seized" and len(view.transitions) == 1


# -- 4. intake: bad input and conflicts ------------------------------------------------------------


def test_intake_refusals_write_nothing(world: Reserve) -> None:
    r = world
    open_case(r, "INT-1")
    refused(r, Conflict, "already held for case INT-1", lambda: open_case(
        r, "INT-2", address=btc_address("INT-1")))
    refused(r, Conflict, "already held for case INT-1", lambda: open_case(  # spelled upper
        r, "INT-2", address=btc_address("INT-1").upper()))
    refused(r, Conflict, "asset id INT-1-A1 is already used", lambda: open_case(
        r, "INT-2", asset_id="INT-1-A1"))
    refused(r, Conflict, "case INT-1 already exists", lambda: open_case(
        r, "INT-1", address=btc_address("INT-1b")))
    refused(r, InvalidInput, r"seized needs a seizure_order or court_order", lambda: open_case(
        r, "INT-2", documents=[]))
    refused(r, InvalidInput, "before the case opened", lambda: open_case(
        r, "INT-2", seized=date(2026, 3, 1)))
    refused(r, InvalidInput, "testnet/signet address .* on mainnet", lambda: open_case(
        r, "INT-2", address="tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"))
    refused(r, InvalidInput, "checksum", lambda: open_case(
        r, "INT-2", address=btc_address("INT-2")[:-1] + (
            "q" if btc_address("INT-2")[-1] != "q" else "p")))
    refused(r, InvalidInput, "64", lambda: open_case(r, "INT-2", tx=txid("INT-2")[:-1]))
    refused(r, Forbidden, "auditor", lambda: open_case(r, "INT-2", actor="auditor"))
    assert [c.case_id for c in r.custody.cases()].count("INT-2") == 0


def test_ether_and_its_tokens_at_one_address_are_one_case(world: Reserve) -> None:
    r, cid = world, "ETH-1"
    address, tx = eth_address(cid), "0x" + txid(cid)
    eth0, usdt0 = ledger(r, POOL_ETH), ledger(r, POOL_USDT)
    view = open_case(r, cid, asset(cid, asset_id=f"{cid}-ETH", chain="ethereum",
                                   instrument="ETH", quantity="10.5", address=address.lower(),
                                   tx=tx),
                     asset(cid, asset_id=f"{cid}-USDT", chain="ethereum", instrument="USDT",
                           quantity="25000.25", address=address, tx=tx))
    assert [json.loads(a.addresses_json) for a in view.assets] == [[address], [address]]
    assert ledger(r, POOL_ETH) == (eth0[0], eth0[1] + Decimal("10.5"))
    assert ledger(r, POOL_USDT) == (usdt0[0], usdt0[1] + Decimal("25000.25"))
    with r.units(write=False) as uow:
        assert [a.address for a in uow.custody.list_addresses(cid)] == [address]
    book = r.custody.address_book(cid)
    assert {(b.address, b.instrument_code, b.quantity) for b in book.balances} == {
        (address, "ETH", Decimal("10.5")), (address, "USDT", Decimal("25000.25"))}


# -- 5. chain of custody ---------------------------------------------------------------------------


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def event(event_id: str, kind: CustodyEventKind, when: datetime, **fields: Any) -> CustodyEvent:
    fields.setdefault("instrument_code", "BTC")
    fields.setdefault("chain", "bitcoin")
    return CustodyEvent(event_id, "COC-1", kind, when, "liaison", **fields)


def test_the_chain_of_custody_moves_balances_and_refuses_what_cannot_be(world: Reserve
                                                                        ) -> None:
    r, cid = world, "COC-1"
    seized, wallet = btc_address(cid), btc_address("COC-1 state wallet")
    open_case(r, cid, quantity="4")
    n = audit_count(r)
    r.custody.record_event(event("COC-1-E1", K.KEY_GENERATION, at(3),
                                 to_address=wallet.upper(), to_holder="State key unit"),
                           actor="liaison")
    transfer = r.custody.record_event(event(
        "COC-1-E2", K.TRANSFER, at(4), from_address=seized, to_address=wallet,
        tx_id=txid("COC-1-E2").upper(), quantity=Decimal("3.5"), fee=Decimal("0.0001")),
        actor="ops")
    assert transfer.tx_id == txid("COC-1-E2") and transfer.actor == "ops"
    r.custody.record_event(event("COC-1-E3", K.CUSTODIAN_CHANGE, at(5), from_address=wallet,
                                 from_holder="State key unit", to_holder="BitGo"),
                           actor="liaison")
    assert new_actions(r, n) == ["case.custody_event"] * 3
    book = r.custody.address_book(cid)
    assert {(b.address, b.quantity, b.holder) for b in book.balances} == {
        (seized, Decimal("0.4999"), "AFM key custody unit"),
        (wallet, Decimal("3.5"), "BitGo")}
    assert book.fees == (("BTC", Decimal("0.0001")),)
    assert book.total("BTC") + book.left_control("BTC") == Decimal("4")
    with r.units(write=False) as uow:
        registered = uow.custody.find_address("bitcoin", wallet)
    assert registered is not None and registered.case_id == cid
    view = r.custody.case(cid)
    assert [e.event_id for e in view.events] == ["COC-1-E1", "COC-1-E2", "COC-1-E3"]

    unknown = btc_address("nobody's wallet")
    refused(r, InvalidInput, "not known to the case", lambda: r.custody.record_event(event(
        "COC-1-E4", K.TRANSFER, at(6), from_address=unknown, to_address=wallet,
        tx_id=txid("E4"), quantity=Decimal(1)), actor="liaison"))
    refused(r, InvalidInput, "not known to the case", lambda: r.custody.record_event(event(
        "COC-1-E4", K.CUSTODIAN_CHANGE, at(6), from_address=unknown, to_holder="X"),
        actor="liaison"))
    refused(r, InvalidInput, "is before COC-1-E3", lambda: r.custody.record_event(event(
        "COC-1-E4", K.TRANSFER, at(5, 9), from_address=wallet, to_address=seized,
        tx_id=txid("E4"), quantity=Decimal(1)), actor="liaison"))
    refused(r, InvalidInput, "cannot send 3.6", lambda: r.custody.record_event(event(
        "COC-1-E4", K.TRANSFER, at(6), from_address=wallet, to_address=seized,
        tx_id=txid("E4"), quantity=Decimal("3.5"), fee=Decimal("0.1")), actor="liaison"))
    refused(r, InvalidInput, "64", lambda: r.custody.record_event(event(
        "COC-1-E4", K.TRANSFER, at(6), from_address=wallet, to_address=seized,
        tx_id=txid("E4")[:40], quantity=Decimal(1)), actor="liaison"))
    refused(r, InvalidInput, "needs tx id", lambda: r.custody.record_event(event(
        "COC-1-E4", K.TRANSFER, at(6), from_address=wallet, to_address=seized,
        quantity=Decimal(1)), actor="liaison"))
    refused(r, InvalidInput, "checksum", lambda: r.custody.record_event(event(
        "COC-1-E4", K.TRANSFER, at(6), from_address=wallet, to_address=seized[:-1] + "x",
        tx_id=txid("E4"), quantity=Decimal(1)), actor="liaison"))
    refused(r, Conflict, "COC-1-E3 already recorded", lambda: r.custody.record_event(event(
        "COC-1-E3", K.KEY_CEREMONY, at(7), from_address=wallet), actor="liaison"))
    refused(r, NotFound, "no case", lambda: r.custody.record_event(CustodyEvent(
        "X-E1", "COC-404", K.KEY_CEREMONY, at(7), "liaison", from_address=wallet,
        chain="bitcoin"), actor="liaison"))
    refused(r, Forbidden, "pm", lambda: r.custody.record_event(event(
        "COC-1-E4", K.KEY_CEREMONY, at(7), from_address=wallet), actor="pm"))
    with pytest.raises(InvalidInput, match="quantity must be an exact Decimal >= 0"):
        event("COC-1-E4", K.TRANSFER, at(6), quantity=Decimal("-1"))
    # balances never went below zero, and the book is what it was
    assert r.custody.address_book(cid) == book
    assert all(b.quantity >= 0 for b in r.custody.address_book().balances)


# -- 6. reconciliation -----------------------------------------------------------------------------


def snapshot_of_book(reserve: Reserve, observed_at: datetime,
                     change: Callable[[str, Decimal], Decimal] = lambda _, q: q
                     ) -> list[ObservedBalance]:
    return [ObservedBalance(b.chain, b.address, b.instrument_code,
                            change(b.address, b.quantity), observed_at, "test explorer")
            for b in reserve.custody.expected_on_chain()]


def test_reconciliation_against_a_snapshot(world: Reserve, tmp_path: Path) -> None:
    r, cid = world, "REC-1"
    open_case(r, cid, quantity="0.75")
    seen = datetime(2026, 10, 29, tzinfo=UTC)
    n = audit_count(r)
    matched = r.evidence.reconcile(snapshot_of_book(r, seen), source="explorer", as_of=AS_OF,
                                   actor="ops")
    assert matched.new and matched.record.status == "matched" and matched.result.matched
    assert matched.result.findings == ()
    assert new_actions(r, n) == ["custody.reconciled"]
    replay = r.evidence.reconcile(snapshot_of_book(r, seen), source="explorer", as_of=AS_OF,
                                  actor="ops")
    assert not replay.new and replay.record == matched.record
    assert audit_count(r) == n + 1

    mine = btc_address(cid)
    short = r.evidence.reconcile(
        snapshot_of_book(r, seen, lambda a, q: q - Decimal("0.1") if a == mine else q),
        source="explorer", as_of=AS_OF, actor="ops")
    assert short.new and short.record.status == "differences"
    (finding,) = short.result.findings
    assert (finding.rule, finding.severity, finding.subject) == (
        "custody.balance_short", "blocking", f"{mine} BTC")
    assert json.loads(short.record.findings_json)[0]["rule"] == "custody.balance_short"
    (row,) = [x for x in short.result.rows if x.address == mine]
    assert (row.book, row.observed, row.difference) == (
        Decimal("0.75"), Decimal("0.65"), Decimal("-0.10"))

    # a file in the wrong units is refused before anything is recorded
    csv = tmp_path / "snapshot.csv"
    csv.write_text("chain,address,asset,quantity,unit,observed_at,source\n"
                   f"bitcoin,{mine},BTC,75000000,sat,2026-10-29T00:00:00Z,x\n"
                   f"bitcoin,{mine},BTC,750000000000000000,wei,2026-10-29T00:00:00Z,x\n")
    before = footprint(r)
    with pytest.raises(InvalidInput) as caught:
        r.evidence.reconcile(read_snapshot(csv), source=str(csv), as_of=AS_OF, actor="ops")
    assert str(caught.value) == (f"{csv}:3: field 'unit': 'wei' is not a unit of BTC "
                                 "(use BTC, sat)")
    assert footprint(r) == before
    refused(r, InvalidInput, "after as_of", lambda: r.evidence.reconcile(
        snapshot_of_book(r, datetime(2026, 10, 31, tzinfo=UTC)), source="x", as_of=AS_OF,
        actor="ops"))
    refused(r, Forbidden, "auditor", lambda: r.evidence.reconcile(
        snapshot_of_book(r, seen), source="y", as_of=AS_OF, actor="auditor"))


# -- 7. proof of control ---------------------------------------------------------------------------


def test_proof_of_control_with_real_signatures(world: Reserve) -> None:
    r, cid = world, "PRF-1"
    signer, address = key(cid), btc_address(cid)
    ether = eth_address(cid)
    open_case(r, cid, asset(cid, quantity="3"),
              asset(cid, asset_id=f"{cid}-ETH", chain="ethereum", instrument="ETH",
                    quantity="2", address=ether, tx="0x" + txid(cid)))
    issued = date(2026, 11, 2)
    n = audit_count(r)
    challenge = r.evidence.challenge(cid, "bitcoin", address.upper(), issued, actor="liaison")
    assert new_actions(r, n) == ["custody.challenge"]
    assert challenge.message == "\n".join([
        "qoima proof of control v1", f"case: {cid}", "chain: bitcoin mainnet",
        f"address: {address}", "date: 2026-11-02", f"nonce: {challenge.nonce}"])
    good = _b64(_sign_p2wpkh(signer, address, challenge.message))

    # a well-formed signature of another text is recorded, invalid, with the reason
    n = audit_count(r)
    other = _b64(_sign_p2wpkh(signer, address, challenge.message + " (edited)"))
    invalid = r.evidence.verify(challenge.nonce, other, actor="liaison")
    assert not invalid.result.valid and not invalid.record.valid
    assert invalid.record.reason == "signature does not verify for this address and message"
    assert new_actions(r, n) == ["custody.proof"]
    assert json.loads(trail(r)[-1].payload)["valid"] is False
    # malformed signatures are errors, and record nothing
    refused(r, InvalidInput, "high-S", lambda: r.evidence.verify(
        challenge.nonce, _high_s_witness(good), actor="liaison"))
    refused(r, InvalidInput, "neither a legacy signature", lambda: r.evidence.verify(
        challenge.nonce, good[:40], actor="liaison"))

    n = audit_count(r)
    valid = r.evidence.verify(challenge.nonce, good, actor="liaison")
    assert valid.result.valid and valid.record.valid
    assert (valid.record.scheme, valid.record.address) == ("bip322-simple", address)
    assert new_actions(r, n) == ["custody.proof"]
    # a challenge is answered once: the same signature later is not a new proof
    refused(r, Conflict, "already has a valid proof", lambda: r.evidence.verify(
        challenge.nonce, good, actor="liaison"))
    refused(r, NotFound, "no challenge", lambda: r.evidence.verify(
        "x" * 32, good, actor="liaison"))
    refused(r, NotFound, f"case {cid} holds no address", lambda: r.evidence.challenge(
        cid, "bitcoin", btc_address("E2E-1"), issued, actor="liaison"))
    refused(r, InvalidInput, "checksum", lambda: r.evidence.challenge(
        cid, "bitcoin", address[:-1] + "x", issued, actor="liaison"))

    # Ethereum: EIP-191 personal_sign by the key behind the seized address
    eth_challenge = r.evidence.challenge(cid, "ethereum", ether.lower(), issued,
                                         actor="liaison")
    assert f"address: {ether}" in eth_challenge.message
    sig = key(cid).sign_recoverable(personal_message_hash(eth_challenge.message.encode()),
                                    hasher=None)
    eth_proof = r.evidence.verify(eth_challenge.nonce,
                                  "0x" + (sig[:64] + bytes([27 + sig[64]])).hex(),
                                  actor="liaison")
    assert eth_proof.result.valid and eth_proof.record.scheme == "eip191"

    assert [p.valid for p in r.evidence.proofs(cid)] == [False, True, True]
    exported = r.evidence.export_proofs(cid)
    assert [(e["address"], e["message"], e["signature"]) for e in exported] == [
        (address, challenge.message, good),
        (ether, eth_challenge.message, eth_proof.record.signature)]
    (case_row,) = [c for c in r.evidence.inventory(date(2026, 12, 31)).cases
                   if c.case_id == cid]
    assert case_row.last_proof_on == valid.record.verified_at.date()


# -- 8. sanctions screening ------------------------------------------------------------------------


def test_sanctions_hits_block_disposition_until_two_committee_members_override(
        world: Reserve) -> None:
    r = world
    listed = "149w62rY42aZBox8fGcmqNsXUzSStKeq8C"  # OFAC SDN, CYBER2 (SamSam)
    open_case(r, "SCR-1", address=listed)
    assert r.custody.case("SCR-1").hits == ()
    n = audit_count(r)
    stored, new = r.evidence.import_sanctions(read_sanctions(SDN), actor="liaison")
    assert new and stored.entries == 6
    assert new_actions(r, n) == ["custody.sanctions_list", "case.sanctions_hit"]
    (hit,) = r.custody.case("SCR-1").open_hits
    assert (hit.address, hit.entity, hit.context) == (
        listed, "Ali KHORASHADIZADEH", "screening")

    n = audit_count(r)
    again, new = r.evidence.import_sanctions(read_sanctions(SDN), actor="liaison")
    assert not new and again.list_id == stored.list_id and audit_count(r) == n
    assert hit in r.evidence.screen(actor="liaison")
    assert audit_count(r) == n  # screening again records nothing new

    # at intake, in any spelling
    view = open_case(r, "SCR-2", address="BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4")
    (intake_hit,) = view.open_hits
    assert (intake_hit.address, intake_hit.context) == (
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "intake")
    # and when coins go to a listed address
    open_case(r, "SCR-3")
    r.custody.record_event(CustodyEvent(
        "SCR-3-E1", "SCR-3", K.OUTBOUND_TRANSFER, at(20), "liaison",
        from_address=btc_address("SCR-3"), to_address="1AjZPMsnmpdK2Rv9KQNfMurTXinscVro9V",
        tx_id=txid("SCR-3-E1"), quantity=Decimal(1), instrument_code="BTC", chain="bitcoin"),
        actor="liaison")
    (transfer_hit,) = r.custody.case("SCR-3").open_hits
    assert (transfer_hit.context, transfer_hit.entity) == ("custody_event",
                                                           "Mohammad GHORBANIYAN")
    assert [e.entity for e in r.evidence.screen_addresses(
        [("ethereum", "0x098b716b8aaf21512996dc57eb0615e2383e2f96")])] == ["LAZARUS GROUP"]

    # the hit blocks the disposition of the forfeited coins
    forfeit(r, "SCR-1")
    def propose() -> DispositionRecord:
        return r.dispositions.propose(
            "SCR-1", "SCR-1-A1", S.TRANSFERRED_TO_RESERVE, actor="pm-fund", on=DISPOSED_ON,
            vehicle=FUND, tranche="liquidity", custodian="bitgo")

    refused(r, Forbidden, "open sanctions hits", propose)
    assert hit.id is not None
    hit_id = hit.id
    refused(r, Forbidden, "not a committee member", lambda: r.custody.override_hit(
        hit_id, "known victim wallet", actor="risk"))
    r.users.add("cm-former", "Former member", [RoleGrant(Role.COMMITTEE_MEMBER)],
                actor="admin")
    r.users.set_active("cm-former", False, actor="admin")
    refused(r, Forbidden, "not an active committee member", lambda: r.custody.override_hit(
        hit_id, "known victim wallet", actor="cm-former"))
    refused(r, InvalidInput, "written reason", lambda: r.custody.override_hit(
        hit_id, "  ", actor="cm1"))
    refused(r, NotFound, "no screening hit", lambda: r.custody.override_hit(
        10_000, "x", actor="cm1"))
    n = audit_count(r)
    first = r.custody.override_hit(hit_id, "address belongs to the ransomware victim",
                                   actor="cm1")
    assert first.status == "open"
    assert r.custody.override_hit(hit_id, "still so", actor="cm1").status == "open"
    refused(r, Forbidden, "open sanctions hits", propose)
    cleared = r.custody.override_hit(hit_id, "confirmed by the court file", actor="cm2")
    assert cleared.status == "overridden"
    assert [o["user"] for o in json.loads(cleared.overrides_json)] == ["cm1", "cm2"]
    assert new_actions(r, n) == ["case.hit_override"] * 3
    refused(r, Conflict, "already overridden", lambda: r.custody.override_hit(
        hit_id, "again", actor="cm1"))
    assert propose().status == "proposed"


# -- 9. forks --------------------------------------------------------------------------------------


def test_forked_coins_are_recorded_from_a_held_address(world: Reserve) -> None:
    r, cid = world, "FRK-1"
    open_case(r, cid, quantity="12")
    fork = ForkedAsset(cid, "BTC", "BCH", Decimal("12"), date(2017, 8, 1), btc_address(cid),
                       ValuationPolicy.ZERO_UNTIL_LIQUID, "BCH airdrop on the seized wallet")
    n = audit_count(r)
    record = r.evidence.record_fork(fork, actor="liaison")
    assert (record.instrument_code, record.quantity, record.valuation_policy) == (
        "BCH", Decimal("12"), "zero_until_liquid")
    assert new_actions(r, n) == ["custody.fork"]
    refused(r, Conflict, "already recorded", lambda: r.evidence.record_fork(
        fork, actor="liaison"))
    for source in (btc_address("FRK-unknown"), btc_address("E2E-1")):
        refused(r, NotFound, f"case {cid} holds no address", partial(
            r.evidence.record_fork, ForkedAsset(cid, "BTC", "BTG", Decimal(1),
                                                date(2017, 10, 24), source,
                                                ValuationPolicy.COST_ZERO), actor="liaison"))
    with pytest.raises(InvalidInput, match="BCH forked from BTC, not ETH"):
        ForkedAsset(cid, "ETH", "BCH", Decimal(1), date(2017, 8, 1), btc_address(cid),
                    ValuationPolicy.COST_ZERO)


# -- 10. inventory ---------------------------------------------------------------------------------


def test_the_inventory_counts_values_and_flags_stale_evidence(world: Reserve) -> None:
    r = world
    open_case(r, "INV-1", quantity="1.23456789")
    reconciled_on = date(2026, 4, 1)
    r.evidence.reconcile(snapshot_of_book(r, datetime(2026, 3, 31, tzinfo=UTC)),
                         source="inventory test", as_of=reconciled_on, actor="ops")
    open_case(r, "INV-2", quantity="0.5")  # after the reconciliation: never reconciled
    as_of = date(2026, 5, 15)
    inventory = r.evidence.inventory(as_of)
    px = price(r, "BTC", as_of)
    rows = {c.case_id: c for c in inventory.cases}
    one, two = rows["INV-1"], rows["INV-2"]
    assert one.value_usd_total == (Decimal("1.23456789") * px).quantize(CENT, ROUND_HALF_EVEN)
    assert (one.last_reconciled_on, one.last_reconciliation_status) == (reconciled_on,
                                                                        "matched")
    assert {f.rule for f in one.findings} == {"inventory.stale_reconciliation",
                                             "inventory.no_proof"}
    (stale,) = [f for f in one.findings if f.rule == "inventory.stale_reconciliation"]
    assert (stale.measured, stale.limit) == ("44", "30")
    assert two.last_reconciled_on is None
    assert {f.rule for f in two.findings} == {"inventory.never_reconciled",
                                             "inventory.no_proof"}

    # the pool: counts by legal status, value = quantity x latest price to the cent
    expected_status: Counter[str] = Counter()
    values: dict[str, Decimal] = {}
    quantities: dict[str, Decimal] = {}
    held = {"seized", "frozen", "under_court_review", "forfeited"}
    for c in r.custody.cases():
        for a in r.custody.case(c.case_id).assets:
            expected_status[c.legal_status] += 1
            if c.legal_status in held:
                value = (a.quantity * price(r, a.instrument_code, as_of)).quantize(
                    CENT, ROUND_HALF_EVEN)
                values[a.instrument_code] = values.get(a.instrument_code, ZERO) + value
                quantities[a.instrument_code] = (quantities.get(a.instrument_code, ZERO)
                                                 + a.quantity)
    assert inventory.cases_count == len(r.custody.cases())
    assert {k.value: v for k, v in inventory.assets_by_legal_status.items() if v} == \
        dict(expected_status)
    assert dict(inventory.quantity_by_instrument) == quantities
    assert dict(inventory.value_by_instrument) == values
    assert inventory.value_usd_total == sum(values.values(), ZERO)


# -- 11. disposition models ------------------------------------------------------------------------


def test_disposition_models_are_compared_on_the_stored_history(world: Reserve) -> None:
    r, cid, q = world, "CMP-1", Decimal("3.3")
    open_case(r, cid, quantity=str(q))
    refused(r, InvalidInput, "not forfeited", lambda: r.dispositions.compare(
        cid, horizon_days=120))
    forfeit(r, cid)
    (comparison,) = r.dispositions.compare(cid, horizon_days=120)
    assert set(comparison.paths) == {DispositionModel.AUCTION_ON_FORFEITURE,
                                     DispositionModel.STAGED_LIQUIDATION,
                                     DispositionModel.HOLD_IN_RESERVE,
                                     DispositionModel.EXTERNAL_MANAGER}
    with r.units(write=False) as uow:
        series = uow.market.load_series(SeriesId(SeriesKind.PRICE, "BTC"))
    assert series is not None
    days = [b.day for b in series.bars]
    start = next(i for i, d in enumerate(days) if d >= FORFEITED_ON)
    hold = comparison.paths[DispositionModel.HOLD_IN_RESERVE]
    auction = comparison.paths[DispositionModel.AUCTION_ON_FORFEITURE]
    assert hold.dates[-1] == days[start + 120]
    assert hold.proceeds_usd_at_horizon == pytest.approx(
        float(q * series.bars[start + 120].close), rel=1e-12)
    assert auction.proceeds_usd_at_horizon == pytest.approx(
        float(q * series.bars[start].close), rel=1e-12)
    assert auction.days_to_cash == 0 and hold.days_to_cash is None
    refused(r, InvalidInput, "horizon", lambda: r.dispositions.compare(cid, horizon_days=1))


def test_every_asset_of_a_forfeited_case_can_be_disposed_of(world: Reserve) -> None:
    """Legal status is kept per case, a disposition per asset: executing the first asset's
    disposition must not close the case while another asset is still in the pool."""
    r, cid = world, "DSP-2"
    open_case(r, cid, asset(cid, asset_id=f"{cid}-A1", quantity="1"),
              asset(cid, asset_id=f"{cid}-A2", quantity="2",
                    address=btc_address(f"{cid} second wallet")))
    forfeit(r, cid)
    pool0, fund0 = ledger(r, POOL_BTC)[0], ledger(r, FUND_BTC)[0]

    def dispose(asset_id: str) -> None:
        proposed = r.dispositions.propose(cid, asset_id, S.TRANSFERRED_TO_RESERVE,
                                          actor="pm-fund", on=DISPOSED_ON, vehicle=FUND,
                                          tranche="liquidity", custodian="bitgo")
        r.dispositions.approve(proposed.disposition_id, actor="risk", on=DISPOSED_ON)
        executed = r.dispositions.approve(proposed.disposition_id, actor="cm1",
                                          on=DISPOSED_ON)
        assert executed.status == "executed"

    dispose(f"{cid}-A1")
    assert ledger(r, POOL_BTC)[0] == pool0 - 1
    (row,) = [c for c in r.evidence.inventory(AS_OF).cases if c.case_id == cid]
    assert {a.asset_id: a.held for a in row.assets} == {f"{cid}-A1": False, f"{cid}-A2": True}
    dispose(f"{cid}-A2")  # today: InvalidInput "case DSP-2 is transferred_to_reserve"
    assert (ledger(r, POOL_BTC)[0], ledger(r, FUND_BTC)[0]) == (pool0 - 3, fund0 + 3)
    assert r.custody.case(cid).case.legal_status == "transferred_to_reserve"


def test_reconciliation_expects_nothing_from_assets_that_left_the_pool(world: Reserve) -> None:
    """A disposed asset is no longer expected on chain; the asset still held in the same
    case is."""
    r, cid = world, "RCN-LEFT"
    held_address = btc_address(f"{cid} kept wallet")
    open_case(r, cid, asset(cid, asset_id=f"{cid}-A1", quantity="1"),
              asset(cid, asset_id=f"{cid}-A2", quantity="2", address=held_address))
    forfeit(r, cid)
    proposed = r.dispositions.propose(cid, f"{cid}-A1", S.TRANSFERRED_TO_RESERVE,
                                      actor="pm-fund", on=DISPOSED_ON, vehicle=FUND,
                                      tranche="liquidity", custodian="bitgo")
    r.dispositions.approve(proposed.disposition_id, actor="risk", on=DISPOSED_ON)
    r.dispositions.approve(proposed.disposition_id, actor="cm1", on=DISPOSED_ON)
    outcome = r.evidence.reconcile([], source="empty snapshot", as_of=AS_OF, actor="ops")
    rows = {(row.address, row.instrument_code): row for row in outcome.result.rows}
    moved = r.custody.case(cid).assets[0]
    first = json.loads(moved.addresses_json)[0]
    assert (first, "BTC") not in rows  # disposed: left the seized pool
    assert rows[(held_address, "BTC")].book == Decimal(2)  # still expected on chain
