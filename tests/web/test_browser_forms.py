"""The dashboard's forms in headless Chromium against a real uvicorn server.

The enforcement liaison opens a seizure case through the form (a wrong quantity first: the
error shows next to the field) and records a custody event on it; a risk officer starts
the daily run, follows its steps until it finishes and opens its committee report; the
person who proposed a policy version fails to approve it, and another committee member
approves it; an unknown address shows the HTML "not found" page. Every page is
photographed (paths printed).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from qoima.adapters.policy_files import read_policy
from tests.app.governance import ROOT
from tests.web.browser import Camera, log_in
from tests.web.server import serving
from tests.web.trail import Trail
from tests.web.world import HOLDER, WebWorld, build_world

pytestmark = pytest.mark.xdist_group("web_browser")
CASE = "KZ-AFM-2026-0102"
ADDRESS = "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3"
RUN_TIMEOUT_MS = 600_000


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, chromium: Any) -> Iterator[tuple[WebWorld,
                                                                                  str]]:
    world = build_world(tmp_path_factory.mktemp("web-browser-forms") / "ws")
    with serving(world.app) as base:
        yield world, base
    world.reserve.close()


@pytest.fixture(scope="module")
def camera(tmp_path_factory: pytest.TempPathFactory) -> Camera:
    return Camera(tmp_path_factory.mktemp("web-form-screenshots"))


def test_open_a_case_and_record_a_custody_event(site: tuple[WebWorld, str], chromium: Any,
                                                camera: Camera) -> None:
    world, base = site
    liaison = log_in(chromium, base, "liaison")
    liaison.goto(f"{base}/cases")
    liaison.get_by_role("link", name="Open a case").click()
    liaison.wait_for_url(f"{base}/cases/new")
    for label, value in (("Case id", CASE), ("Agency", "Financial Monitoring Agency"),
                         ("Case number", "2026-0102"), ("Court", "Almaty City Court"),
                         ("Opened on", "2026-04-02"), ("Description", "Mixer operator"),
                         ("Document reference", "SO-2026-0102"), ("Document date", "2026-04-02"),
                         ("Asset 1 id", "A0102-1"), ("Asset 1 quantity", "three"),
                         ("Asset 1 key holder", HOLDER), ("Asset 1 seized on", "2026-04-02"),
                         ("Asset 1 addresses", ADDRESS)):
        liaison.get_by_label(label, exact=True).fill(value)
    camera.shoot(liaison, "case-open-form")
    liaison.get_by_role("button", name="Open case").click()
    liaison.wait_for_load_state()
    quantity = liaison.get_by_label("Asset 1 quantity", exact=True)
    assert quantity.get_attribute("aria-invalid") == "true"
    assert "Asset 1 quantity" in liaison.get_by_test_id("field-error").inner_text()
    assert quantity.evaluate("e => e.getAttribute('aria-describedby')").endswith("e-a1_quantity")
    camera.shoot(liaison, "case-open-refused")
    quantity.fill("3.25")
    quantity.press("Enter")  # the keyboard sends the form
    liaison.wait_for_url(f"{base}/cases/{CASE}")
    assert liaison.get_by_test_id("legal-status").inner_text() == "seized"
    assert "opened as seized with 3.25 BTC" in liaison.get_by_role("status").inner_text()
    assert world.reserve.custody.case(CASE).case.court == "Almaty City Court"

    liaison.get_by_label("Event", exact=True).select_option("custodian_change")
    liaison.get_by_label("When (UTC)").fill("2026-04-03T09:30")
    liaison.get_by_label("From holder").fill(HOLDER)
    liaison.get_by_label("To holder").fill("Qualified custodian")
    liaison.get_by_label("From address").fill(ADDRESS)
    liaison.get_by_label("Note", exact=True).fill("moved under court order")
    liaison.get_by_role("button", name="Record event").click()
    liaison.wait_for_load_state()
    chain = liaison.get_by_test_id("custody-chain").inner_text()
    assert "custodian change" in chain and "Qualified custodian" in chain
    camera.shoot(liaison, "case-custody-event")
    events = world.reserve.custody.case(CASE).events
    assert [(e.event_id, e.kind) for e in events] == [(f"{CASE}-EV-1", "custodian_change")]
    assert liaison.errors == []
    liaison.context.close()


def test_start_a_daily_run_and_open_its_report(site: tuple[WebWorld, str], chromium: Any,
                                               camera: Camera) -> None:
    world, base = site
    risk = log_in(chromium, base, "risk")
    risk.goto(f"{base}/reports")
    risk.get_by_label("Monte Carlo scenarios").select_option("2000")
    risk.get_by_label("Label").fill("browser test")
    camera.shoot(risk, "daily-run-form")
    risk.get_by_role("button", name="Start daily run").click()
    risk.wait_for_url(f"{base}/runs/jobs/*")
    assert "Daily run started" in risk.get_by_role("status").first.inner_text() or \
        risk.get_by_test_id("job-status").inner_text() == "succeeded"
    risk.wait_for_selector("[data-testid=open-report]", timeout=RUN_TIMEOUT_MS)
    assert risk.get_by_test_id("job-status").inner_text() == "succeeded"
    steps = risk.get_by_test_id("progress").inner_text()
    assert "Valuing every vehicle — ok" in steps and "Writing HTML, PDF, CSV" in steps
    run_id = risk.get_by_test_id("run-id").inner_text()
    assert world.reserve.runs.get(run_id).run_by == "risk"
    camera.shoot(risk, "daily-run-finished")
    risk.get_by_test_id("open-report").click()
    risk.wait_for_selector("body[data-charts=ready]", timeout=60_000)
    assert "daily report to the investment committee" in risk.locator("h1").first.inner_text()
    camera.shoot(risk, "daily-run-report")
    assert risk.errors == []
    risk.context.close()


def test_approve_a_policy_version_as_a_second_person(site: tuple[WebWorld, str],
                                                     chromium: Any, camera: Camera) -> None:
    world, base = site
    policy = read_policy(ROOT / "examples" / "policies" / "fx-sleeve.yaml")
    proposed = world.reserve.policies.propose(policy, fmt="yaml", actor="risk-cm",
                                              reason="annual review")
    name = f"Approve {proposed.vehicle_code} v{proposed.version}"
    own = log_in(chromium, base, "risk-cm")
    own.goto(f"{base}/policies")
    trail = Trail(world)
    own.get_by_role("button", name=name).click()
    own.wait_for_load_state()
    assert "cannot approve it" in own.get_by_test_id("error").inner_text()
    trail.refused("risk-cm", f"POST /policies/{proposed.vehicle_code}/versions/"
                  f"{proposed.version}/approval", "forbidden")
    camera.shoot(own, "policy-own-approval-refused")
    cm2 = log_in(chromium, base, "cm2")
    cm2.goto(f"{base}/policies")
    assert cm2.get_by_test_id("proposed-by").inner_text().startswith("risk-cm")
    camera.shoot(cm2, "policy-awaiting-approval")
    cm2.get_by_role("button", name=name).click()
    cm2.wait_for_load_state()
    assert "approved by cm2: in force now" in cm2.get_by_role("status").inner_text()
    row = cm2.locator(f'tr[data-version="{proposed.vehicle_code}-v{proposed.version}"]')
    assert row.get_by_test_id("policy-status").inner_text() == "active"
    camera.shoot(cm2, "policy-approved")

    cm2.goto(f"{base}/no-such-page")
    assert cm2.locator("h1").inner_text() == "Not found"
    assert "There is no page at /no-such-page" in cm2.get_by_test_id("problem").inner_text()
    camera.shoot(cm2, "not-found")
    for page in (own, cm2):
        assert page.errors == []
        page.context.close()


def test_the_maker_changes_an_orders_terms(site: tuple[WebWorld, str], chromium: Any,
                                           camera: Camera) -> None:
    world, base = site
    pm = log_in(chromium, base, "pm")
    pm.goto(f"{base}/orders")
    pm.get_by_label("Instrument").fill("IBIT")
    pm.get_by_label("Quantity").fill("100,000")
    pm.get_by_label("Estimated price").fill("74.32")
    pm.get_by_role("button", name="Draft order").click()
    pm.wait_for_url(f"{base}/orders/ord-*")
    order_id = pm.url.rsplit("/", 1)[-1]
    pm.get_by_role("button", name="Submit for approval").click()
    pm.wait_for_load_state()
    assert pm.get_by_test_id("status").inner_text() == "submitted"
    pm.get_by_label("Instrument").fill("NO-SUCH-FUND")
    pm.get_by_role("button", name="Change terms").click()
    pm.wait_for_load_state()
    assert "unknown instrument" in pm.get_by_test_id("field-error").inner_text()
    assert pm.get_by_label("Instrument").get_attribute("aria-invalid") == "true"
    camera.shoot(pm, "order-terms-refused")
    pm.get_by_label("Instrument").fill("IBIT")
    pm.get_by_label("Quantity").fill("80,000")
    pm.get_by_role("button", name="Change terms").click()
    pm.wait_for_load_state()
    assert "Terms changed by pm" in pm.get_by_role("status").inner_text()
    assert pm.get_by_test_id("status").inner_text() == "draft"
    camera.shoot(pm, "order-terms-changed")
    order = world.reserve.orders.get(order_id, actor="risk")
    assert order.status == "draft" and str(order.terms.quantity) == "80000"
    assert pm.errors == []
    pm.context.close()
