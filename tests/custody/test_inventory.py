"""Inventory per case and for the pool: hand-computed values, counts and findings."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from qoima.custody.inventory import (
    AssetSnapshot,
    CaseSnapshot,
    ReconciliationState,
    case_inventory,
    pool_inventory,
)
from qoima.custody.legal import LegalStatus
from qoima.domain.enums import Severity
from qoima.domain.errors import InvalidInput

AS_OF = date(2026, 6, 30)
PRICES: dict[str, Decimal | None] = {"BTC": Decimal("60000.005"), "ETH": Decimal("3000.10"),
                                     "XMR": None}


def _asset(asset_id: str, code: str, quantity: str,
           status: LegalStatus = LegalStatus.FROZEN, addresses: int = 1) -> AssetSnapshot:
    return AssetSnapshot(asset_id, code, Decimal(quantity), status, addresses)


CASE_A = CaseSnapshot(
    "case-a", (_asset("a1", "BTC", "1.5", addresses=3),
               _asset("a2", "ETH", "2.000000000000000001", LegalStatus.FORFEITED)),
    last_reconciled_on=date(2026, 6, 20), last_reconciliation_status=ReconciliationState.MATCHED,
    last_proof_on=date(2026, 6, 1), proofs_valid=True)
CASE_B = CaseSnapshot(
    "case-b", (_asset("b1", "BTC", "0.25", LegalStatus.UNDER_COURT_REVIEW),
               _asset("b2", "XMR", "10"),
               _asset("b3", "BTC", "4", LegalStatus.RETURNED_TO_OWNER)),
    last_reconciled_on=date(2026, 5, 30),
    last_reconciliation_status=ReconciliationState.DIFFERENCES)
CASE_C = CaseSnapshot("case-c", (_asset("c1", "ETH", "5", LegalStatus.TRANSFERRED_TO_RESERVE),))


def test_case_values_are_quantity_times_price_in_cents() -> None:
    result = case_inventory(CASE_A, PRICES, as_of_date=AS_OF)
    btc, eth = result.assets
    assert btc.value_usd == Decimal("90000.01")  # 90000.0075 -> half-even to cents
    assert eth.value_usd == Decimal("6000.20")  # 6000.2000000000000000030001
    assert btc.addresses_count == 3 and eth.legal_status is LegalStatus.FORFEITED
    assert result.value_usd_total == Decimal("96000.21") and result.value_complete
    assert result.last_reconciled_on == date(2026, 6, 20)
    assert result.last_reconciliation_status is ReconciliationState.MATCHED
    assert result.last_proof_on == date(2026, 6, 1) and result.proofs_valid is True
    assert result.findings == ()  # reconciled 10 days ago, proof valid, all priced


def test_case_findings_stale_unpriced_differences_no_proof() -> None:
    result = case_inventory(CASE_B, PRICES, as_of_date=AS_OF)
    btc, xmr, returned = result.assets
    assert btc.value_usd == Decimal("15000.00")  # 15000.00125
    assert xmr.value_usd is None and xmr.held
    assert returned.value_usd is None and not returned.held  # returned: no longer the pool's
    assert result.value_usd_total == Decimal("15000.00") and not result.value_complete
    rules = {f.rule: f for f in result.findings}
    assert list(rules) == ["inventory.unpriced_asset", "inventory.stale_reconciliation",
                           "inventory.reconciliation_differences", "inventory.no_proof"]
    stale = rules["inventory.stale_reconciliation"]
    assert (stale.measured, stale.limit) == ("31", "30")  # 2026-05-30 -> 2026-06-30
    assert stale.subject == "case case-b" and stale.as_of_date == AS_OF
    assert rules["inventory.unpriced_asset"].subject == "case case-b asset b2"


def test_staleness_boundary_is_inclusive() -> None:
    on_limit = case_inventory(CASE_B, PRICES, as_of_date=date(2026, 6, 29))
    assert "inventory.stale_reconciliation" not in {f.rule for f in on_limit.findings}
    stricter = case_inventory(CASE_A, PRICES, as_of_date=AS_OF, stale_after_days=9)
    assert [f.rule for f in stricter.findings] == ["inventory.stale_reconciliation"]


def test_never_reconciled_and_invalid_proof() -> None:
    case = CaseSnapshot("case-d", (_asset("d1", "BTC", "1"),), last_proof_on=date(2026, 6, 2),
                        proofs_valid=False)
    findings = case_inventory(case, PRICES, as_of_date=AS_OF).findings
    assert [(f.rule, f.severity) for f in findings] == [
        ("inventory.never_reconciled", Severity.WARNING),
        ("inventory.invalid_proof", Severity.ERROR)]


def test_a_case_holding_nothing_needs_no_reconciliation_or_proof() -> None:
    result = case_inventory(CASE_C, PRICES, as_of_date=AS_OF)
    assert result.findings == () and result.value_usd_total == Decimal("0.00")
    assert result.value_complete and result.assets[0].value_usd is None


def test_pool_counts_quantities_and_values() -> None:
    pool = pool_inventory([CASE_A, CASE_B, CASE_C], PRICES, as_of_date=AS_OF)
    assert pool.cases_count == 3 and pool.as_of_date == AS_OF
    assert pool.assets_by_legal_status[LegalStatus.FROZEN] == 2
    assert pool.assets_by_legal_status[LegalStatus.FORFEITED] == 1
    assert pool.assets_by_legal_status[LegalStatus.UNDER_COURT_REVIEW] == 1
    assert pool.assets_by_legal_status[LegalStatus.RETURNED_TO_OWNER] == 1
    assert pool.assets_by_legal_status[LegalStatus.TRANSFERRED_TO_RESERVE] == 1
    assert pool.assets_by_legal_status[LegalStatus.SEIZED] == 0
    assert sum(pool.assets_by_legal_status.values()) == 6
    # held only: BTC 1.5 + 0.25 (the 4 returned are not counted); ETH 2.0..01 (5 transferred)
    assert pool.quantity_by_instrument == {"BTC": Decimal("1.75"),
                                           "ETH": Decimal("2.000000000000000001"),
                                           "XMR": Decimal(10)}
    assert pool.value_by_instrument == {"BTC": Decimal("105000.01"), "ETH": Decimal("6000.20"),
                                        "XMR": None}
    assert pool.value_usd_total == Decimal("111000.21")
    assert pool.value_usd_total == sum(c.value_usd_total for c in pool.cases)
    assert not pool.value_complete
    assert len(pool.findings) == 4 and all(f.subject.startswith("case case-b")
                                           for f in pool.findings)


def test_empty_pool() -> None:
    pool = pool_inventory([], {}, as_of_date=AS_OF)
    assert pool.cases_count == 0 and pool.value_usd_total == Decimal("0.00")
    assert pool.value_complete and pool.quantity_by_instrument == {} and pool.findings == ()


@pytest.mark.parametrize(("call", "text"), [
    (lambda: _asset("x", "BTC", "0"), "asset x: quantity must be > 0, got 0"),
    (lambda: AssetSnapshot("x", "BTC", 1.5, LegalStatus.SEIZED, 1),  # type: ignore[arg-type]
     "exact finite Decimal"),
    (lambda: _asset("x", "BTC", "1", addresses=-1), "addresses_count must be a whole number"),
    (lambda: AssetSnapshot("x", "BTC", Decimal(1), "gone", 1),  # type: ignore[arg-type]
     "legal_status 'gone' is not one of: seized, frozen,"),
    (lambda: CaseSnapshot("c", (), AS_OF, "ok"),  # type: ignore[arg-type]
     "last_reconciliation_status 'ok' is not one of: matched, differences"),
    (lambda: _asset("", "BTC", "1"), "asset_id must not be empty"),
    (lambda: CaseSnapshot("c", (_asset("x", "BTC", "1"), _asset("x", "ETH", "1"))),
     "case c: asset ids repeat"),
    (lambda: CaseSnapshot("c", (), last_reconciled_on=AS_OF), "needs both its date and its"),
    (lambda: CaseSnapshot("c", (), proofs_valid=True), "needs both its date and whether"),
    (lambda: case_inventory(CASE_A, {"BTC": Decimal(-1)}, as_of_date=AS_OF),
     "price of BTC must be an exact Decimal >= 0, got Decimal('-1')"),
    (lambda: case_inventory(CASE_A, {"BTC": 1.0}, as_of_date=AS_OF),  # type: ignore[dict-item]
     "price of BTC must be an exact Decimal"),
    (lambda: case_inventory(CASE_A, PRICES, as_of_date=date(2026, 6, 10)),
     "case case-a: last reconciliation on 2026-06-20 is after the report date 2026-06-10"),
    (lambda: case_inventory(CASE_A, PRICES, as_of_date=AS_OF, stale_after_days=-1),
     "stale_after_days must be a whole number >= 0"),
    (lambda: pool_inventory([CASE_A, CASE_A], PRICES, as_of_date=AS_OF),
     "case ids repeat: case-a"),
])
def test_bad_input_names_the_cause(call: object, text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        call()  # type: ignore[operator]
    assert text in str(caught.value)
