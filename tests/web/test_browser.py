"""The issue's scenario in headless Chromium against a real uvicorn server.

Log in and see the overview; a portfolio manager (who is also the sleeve's risk officer,
so only four eyes stop them) drafts and submits an order and fails to approve it; a risk
officer and a committee member approve it and operations books the fill; the enforcement
liaison moves a seizure case through forfeiture; a committee member opens the committee
report. Every page is photographed (paths printed) at 1280 px and the main ones at 820 px.
Skips without Chromium or playwright unless QOIMA_TEST_BROWSER=required (then fails).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.web.browser import TABLET, Camera, charts_drawn, log_in
from tests.web.server import serving
from tests.web.world import WebWorld, build_world

pytestmark = pytest.mark.xdist_group("web_browser")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, chromium: Any) -> Iterator[tuple[WebWorld,
                                                                                  str]]:
    world = build_world(tmp_path_factory.mktemp("web-browser") / "ws", daily_run=True)
    with serving(world.app) as base:
        yield world, base
    world.reserve.close()


def test_the_dashboard_scenario(site: tuple[WebWorld, str], chromium: Any,
                                tmp_path_factory: pytest.TempPathFactory) -> None:
    world, base = site
    camera = Camera(tmp_path_factory.mktemp("web-screenshots"))

    # log in, see the overview (the whole reserve for a risk officer)
    risk = log_in(chromium, base, "risk")
    assert risk.get_by_test_id("gate-da-sleeve").inner_text() == "WAIT"
    assert "inside the range" in risk.get_by_test_id("range-da-sleeve").inner_text()
    assert risk.locator("tr[data-vehicle]").count() == 5
    assert charts_drawn(risk) == 2  # allocation sunburst, sleeve against its range
    risk.keyboard.press("Tab")
    assert risk.evaluate("document.activeElement.textContent") == "Skip to main content"
    risk.keyboard.press("Enter")
    assert risk.evaluate("document.activeElement.id") == "main"
    camera.shoot(risk, "overview")
    for path, name in (("/risk", "risk"), ("/stress", "stress"), ("/managers", "managers"),
                       ("/managers/hf-a", "manager-scorecard"), ("/audit", "audit")):
        risk.goto(base + path)
        camera.shoot(risk, name)
        if name in ("risk", "stress", "managers"):
            assert charts_drawn(risk) == 1, name
    assert "Intact" in risk.get_by_test_id("audit-result").inner_text()

    # a portfolio manager drafts and submits an order, and cannot approve it
    pm = log_in(chromium, base, "pm-risk")
    assert pm.locator("tr[data-vehicle]").count() == 1  # the sleeve only
    pm.goto(f"{base}/orders")
    pm.get_by_label("Vehicle").select_option("da-sleeve")
    pm.get_by_label("Instrument").fill("IBIT")
    pm.get_by_label("Side").select_option("buy")
    pm.get_by_label("Quantity").fill("600,000")
    pm.get_by_label("Estimated price").fill("74.32")
    camera.shoot(pm, "orders-draft-form")
    pm.get_by_role("button", name="Draft order").click()
    pm.wait_for_url(f"{base}/orders/ord-*")
    order_url = pm.url
    order_id = order_url.rsplit("/", 1)[-1]
    assert pm.get_by_test_id("status").inner_text() == "draft"
    pm.get_by_role("button", name="Submit for approval").click()
    pm.wait_for_load_state()
    assert pm.get_by_test_id("status").inner_text() == "submitted"
    pm.get_by_role("button", name="Approve").click()
    pm.wait_for_load_state()
    refusal = pm.get_by_test_id("error").inner_text()
    assert f"pm-risk made order {order_id} and can never approve it" in refusal
    assert pm.get_by_test_id("status").inner_text() == "submitted"
    camera.shoot(pm, "order-maker-refused")

    # the approval inbox shows who made it and what is missing; risk and committee approve
    risk.goto(f"{base}/orders")
    row = risk.locator(f'tr[data-order="{order_id}"]')
    assert row.get_by_test_id("maker").inner_text() == "pm-risk"
    assert row.get_by_test_id("approvers").inner_text() == "nobody yet"
    missing = row.get_by_test_id("missing").inner_text()
    assert "risk_officer" in missing and "committee_member" in missing
    camera.shoot(risk, "approval-inbox")
    row.get_by_role("link", name="Review").click()
    risk.get_by_role("button", name="Approve").click()
    risk.wait_for_load_state()
    assert "Approved by risk" in risk.get_by_role("status").inner_text()
    assert "committee_member" in risk.get_by_test_id("missing").inner_text()
    cm1 = log_in(chromium, base, "cm1")
    cm1.goto(order_url)
    cm1.get_by_role("button", name="Approve").click()
    cm1.wait_for_load_state()
    assert cm1.get_by_test_id("status").inner_text() == "approved"
    assert cm1.get_by_test_id("missing").inner_text() == "Nothing: the quorum is met."
    approvals = cm1.get_by_test_id("approvals").inner_text()
    assert "risk" in approvals and "cm1" in approvals

    # operations books the fill: executed, with its ledger entry
    ops = log_in(chromium, base, "ops")
    ops.goto(order_url)
    ops.get_by_label("Venue").fill("NASDAQ")
    ops.get_by_label("Counterparty").fill("broker-x")
    ops.get_by_role("button", name="Book fill").click()
    ops.wait_for_load_state()
    assert ops.get_by_test_id("status").inner_text() == "executed"
    assert f"{order_id}-fill-1" in ops.locator("#history-title + ol").inner_text()
    camera.shoot(ops, "order-executed")
    assert world.reserve.orders.get(order_id, actor="risk").status == "executed"

    # the enforcement liaison opens the case and moves it through forfeiture
    liaison = log_in(chromium, base, "liaison")
    liaison.goto(f"{base}/cases")
    camera.shoot(liaison, "cases")
    liaison.get_by_role("link", name=world.case_id).click()
    for target, document, dated in (("frozen", "freeze_order", "2026-03-10"),
                                    ("under_court_review", "court_filing", "2026-04-01"),
                                    ("forfeited", "court_order", "2026-05-15")):
        liaison.get_by_label("Next status").select_option(target)
        liaison.get_by_label("Document", exact=True).select_option(document)
        liaison.get_by_label("Document reference").fill(f"{document.upper()}-0101")
        liaison.get_by_label("Document date").fill(dated)
        liaison.get_by_role("button", name="Record step").click()
        liaison.wait_for_load_state()
        assert liaison.get_by_test_id("legal-status").inner_text() == target.replace("_", " ")
    timeline = liaison.get_by_test_id("legal-timeline").inner_text()
    assert "under court review → forfeited on 2026-05-15" in timeline
    assert "ledger: post pending" in timeline
    assert "key ceremony" in liaison.get_by_test_id("custody-chain").inner_text()
    camera.shoot(liaison, "case-forfeited")
    assert world.reserve.custody.case(world.case_id).case.legal_status == "forfeited"

    # the committee report, opened from the reports page
    cm1.goto(f"{base}/reports")
    camera.shoot(cm1, "reports")
    cm1.get_by_test_id("open-committee-report").click()
    cm1.wait_for_selector("body[data-charts=ready]", timeout=60_000)
    assert "daily report to the investment committee" in cm1.locator("h1").first.inner_text()
    camera.shoot(cm1, "committee-report")

    # a tablet: the same pages fit 820 px
    tablet = log_in(chromium, base, "cm1", TABLET)
    for path, name in (("/", "overview"), (order_url.removeprefix(base), "order"),
                       (f"/cases/{world.case_id}", "case"), ("/orders", "orders")):
        tablet.goto(base + path)
        camera.shoot(tablet, name)
    for page in (risk, pm, cm1, ops, liaison, tablet):
        assert page.errors == []
        page.context.close()
