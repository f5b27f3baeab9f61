"""The dashboard's forms for cases, custody events, order terms, daily runs and policy
approval (TestClient): each acts through its service, shows a refusal next to the field in
plain words, writes nothing when refused, and audits refusals as the API does."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from qoima.adapters.policy_files import read_policy
from qoima.api.context import ApiContext
from tests.app.governance import ROOT
from tests.web.people import BASE, Person, form_on, forms_of, text_of
from tests.web.trail import Trail
from tests.web.world import HOLDER, WebWorld, build_world

NEW_CASE = "KZ-AFM-2026-0102"
ADDRESS = "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebWorld]:
    built = build_world(tmp_path_factory.mktemp("web-actions") / "ws")
    yield built
    built.reserve.close()


@pytest.fixture(scope="module")
def people(world: WebWorld) -> Iterator[dict[str, Person]]:
    logged = {name: Person(world.app, name)
              for name in ("risk", "pm", "cm1", "cm2", "risk-cm", "liaison", "auditor")}
    yield logged
    for person in logged.values():
        person.close()


def case_form(**changes: str) -> dict[str, str]:
    return {"case_id": NEW_CASE, "agency": "Financial Monitoring Agency",
            "case_number": "2026-0102", "court": "Almaty City Court",
            "description": "Mixer operator, hardware wallet", "opened_on": "2026-04-02",
            "document_kind": "seizure_order", "reference": "SO-2026-0102",
            "dated": "2026-04-02", "a1_asset_id": "A0102-1", "a1_chain": "bitcoin",
            "a1_instrument": "BTC", "a1_quantity": "3.25", "a1_addresses": ADDRESS,
            "a1_holding": "state_wallet", "a1_holder": HOLDER, "a1_seized_on": "2026-04-02",
            **changes}


def has_field_error(html: str, name: str, words: str) -> bool:
    """The error sits next to field ``name``, which points to it and is marked invalid."""
    found = re.search(rf'<span class="field-error" id="e-{name}"[^>]*>([^<]*)</span>', html)
    field = re.search(rf'<(?:input|select|textarea) id="f-{name}"[^>]*>', html)
    return (found is not None and words in found.group(1) and field is not None
            and 'aria-invalid="true"' in field.group(0) and f"e-{name}" in field.group(0))


# -- unknown pages and refusals outside a service ---------------------------------------------


def test_an_unknown_page_is_an_html_404_and_an_unknown_api_path_stays_problem_json(
        world: WebWorld, people: dict[str, Person]) -> None:
    client = TestClient(world.app, base_url=BASE, follow_redirects=False)
    for answer in (client.get("/no-such-page"), people["risk"].get("/no-such-page")):
        assert answer.status_code == 404
        assert answer.headers["content-type"].startswith("text/html")
        assert "There is no page at /no-such-page" in text_of(answer.text)
    assert 'href="/orders"' in people["risk"].get("/no-such-page").text  # with navigation
    wrong_method = client.get("/logout")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["content-type"].startswith("text/html")
    for path in ("/api/v1/no-such-resource", "/api/v1"):
        api = client.get(path)
        assert api.status_code == 404
        assert api.headers["content-type"] == "application/problem+json"
        assert api.json()["code"] == "route-not-found"
    client.close()


def test_a_form_without_the_csrf_token_is_refused_and_audited(
        world: WebWorld, people: dict[str, Person]) -> None:
    liaison = people["liaison"]
    fields = {**form_on(liaison.get("/cases/new").text, "/cases").fields, **case_form()}
    trail = Trail(world)
    answer = liaison.client.post("/cases", data={**fields, "csrf_token": ""})
    assert answer.status_code == 403 and "CSRF token missing or wrong" in text_of(answer.text)
    payload = trail.refused("liaison", "POST /cases", "csrf-failed")
    assert payload["via"] == "session" and payload["status"] == 403
    assert NEW_CASE not in {c.case_id for c in world.reserve.custody.cases()}


def test_a_page_refused_or_concealed_is_audited_as_the_api_does(
        world: WebWorld, people: dict[str, Person]) -> None:
    trail = Trail(world)
    assert people["pm"].get("/reports").status_code == 403
    trail.refused("pm", "GET /reports", "forbidden")
    made = people["pm"].send("/orders", "/orders", vehicle="da-sleeve", instrument="IBIT",
                             side="buy", quantity="5", estimated_price="74.32")
    order_id = made.headers["location"].rsplit("/", 1)[-1]
    trail = Trail(world)
    hidden = people["liaison"].get(f"/orders/{order_id}")
    assert hidden.status_code == 404 and "no order" in text_of(hidden.text)
    trail.refused("liaison", f"GET /orders/{order_id}", "concealed-forbidden")
    trail = Trail(world)
    assert people["liaison"].get("/orders/ord-none").status_code == 404
    assert trail.records() == []  # a missing order is no refusal


# -- seized-asset cases -----------------------------------------------------------------------


def test_opening_a_case_through_the_form(world: WebWorld, people: dict[str, Person]) -> None:
    liaison = people["liaison"]
    assert 'href="/cases/new"' in liaison.get("/cases").text
    more = liaison.send("/cases/new", "/cases", more_assets="yes")
    assert more.status_code == 200 and 'data-testid="asset-2"' in more.text
    assert len(world.reserve.custody.cases()) == 1
    bad = liaison.send("/cases/new", "/cases", **case_form(a1_quantity="three"))
    assert bad.status_code == 422
    assert has_field_error(bad.text, "a1_quantity", "Asset 1 quantity")
    bad = liaison.send("/cases/new", "/cases", **case_form(a1_addresses="bc1qnotanaddress"))
    assert bad.status_code == 422 and has_field_error(bad.text, "a1_addresses", "bech32")
    assert 'value="Mixer operator, hardware wallet"' in bad.text  # what was typed stays
    assert len(world.reserve.custody.cases()) == 1
    trail = Trail(world)
    opened = liaison.send("/cases/new", "/cases", **case_form())
    assert opened.status_code == 303 and opened.headers["location"] == f"/cases/{NEW_CASE}"
    shown = text_of(liaison.follow(opened).text)
    assert f"Case {NEW_CASE} opened as seized with 3.25 BTC" in shown
    view = world.reserve.custody.case(NEW_CASE)
    assert view.case.legal_status == "seized" and view.case.court == "Almaty City Court"
    assert [(a.quantity, a.instrument_code) for a in view.assets] == [(Decimal("3.25"), "BTC")]
    assert "case.opened" in trail.actions()
    again = liaison.send("/cases/new", "/cases", **case_form())
    assert again.status_code == 409 and "already exists" in text_of(again.text)


def test_only_the_liaison_opens_cases_and_a_refusal_is_audited(
        world: WebWorld, people: dict[str, Person]) -> None:
    risk = people["risk"]
    page = risk.get("/cases/new")
    assert "Only the enforcement liaison opens cases" in text_of(page.text)
    trail = Trail(world)
    refused = risk.client.post("/cases", data={**form_on(page.text, "/logout").fields,
                                               **case_form(case_id="KZ-AFM-2026-0199"),
                                               "idempotency_key": uuid.uuid4().hex})
    assert refused.status_code == 403 and "may not case.write" in text_of(refused.text)
    trail.refused("risk", "POST /cases", "forbidden")


def test_recording_a_custody_event(world: WebWorld, people: dict[str, Person]) -> None:
    liaison, page = people["liaison"], f"/cases/{world.case_id}"
    action = f"{page}/custody-events"
    assert action not in {f.action for f in forms_of(people["auditor"].get(page).text)}
    bad = liaison.send(page, action, kind="custodian_change", at="yesterday",
                       to_holder="Qualified custodian")
    assert bad.status_code == 422 and has_field_error(bad.text, "at", "is not a date and time")
    before = len(world.reserve.custody.case(world.case_id).events)
    seized_at = world.reserve.custody.case(world.case_id).assets[0].addresses_json.strip('[]"')
    done = liaison.send(page, action, kind="custodian_change", at="2026-03-04T10:00",
                        from_holder=HOLDER, to_holder="Qualified custodian",
                        from_address=seized_at,
                        note="moved under court order")
    assert done.status_code == 303
    shown = text_of(liaison.follow(done).text)
    assert (f"Custody event {world.case_id}-EV-2 (custodian change) recorded for case "
            f"{world.case_id}") in shown
    events = world.reserve.custody.case(world.case_id).events
    assert len(events) == before + 1
    assert (events[-1].kind, events[-1].to_holder, events[-1].actor) == (
        "custodian_change", "Qualified custodian", "liaison")
    assert events[-1].at.isoformat() == "2026-03-04T10:00:00+00:00"
    twice = liaison.send(page, action, event_id=events[-1].event_id, kind="key_ceremony",
                         at="2026-03-05T10:00")
    assert twice.status_code == 409 and "already recorded" in text_of(twice.text)
    assert len(world.reserve.custody.case(world.case_id).events) == before + 1


# -- order terms ------------------------------------------------------------------------------


def test_the_maker_changes_terms_and_earlier_approvals_no_longer_count(
        world: WebWorld, people: dict[str, Person]) -> None:
    pm, risk = people["pm"], people["risk"]
    made = pm.send("/orders", "/orders", vehicle="da-sleeve", instrument="IBIT", side="buy",
                   quantity="400,000", estimated_price="74.32", tranche="main",
                   custodian="bny")
    order_id = made.headers["location"].rsplit("/", 1)[-1]
    page, terms = f"/orders/{order_id}", f"/orders/{order_id}/terms"
    pm.send(page, f"{page}/submit")
    risk.send(page, f"{page}/approve")
    assert len(world.reserve.orders.get(order_id, actor="risk").approvals) == 1
    assert terms not in {f.action for f in forms_of(risk.get(page).text)}
    bad = pm.send(page, terms, quantity="lots")
    assert bad.status_code == 422 and has_field_error(bad.text, "quantity", "Quantity")
    assert 'value="lots"' in bad.text
    changed = pm.follow(pm.send(page, terms, quantity="300,000"))
    assert "Terms changed by pm: the order is now draft" in text_of(changed.text)
    order = world.reserve.orders.get(order_id, actor="risk")
    assert order.status == "draft" and order.approvals == ()
    assert order.terms.quantity == Decimal("300000")
    trail = Trail(world)
    forged = risk.client.post(terms, data={**form_on(risk.get(page).text, "/logout").fields,
                                           "idempotency_key": uuid.uuid4().hex,
                                           "instrument": "IBIT", "side": "buy",
                                           "quantity": "1", "estimated_price": "74.32"})
    assert forged.status_code == 403
    trail.refused("risk", f"POST {terms}", "forbidden")
    assert world.reserve.orders.get(order_id, actor="risk").terms.quantity == Decimal("300000")


# -- daily run --------------------------------------------------------------------------------


def test_a_daily_run_started_from_the_reports_page_runs_as_a_job(
        world: WebWorld, people: dict[str, Person]) -> None:
    risk, cm1, pm = people["risk"], people["cm1"], people["pm"]
    assert "/runs" not in {f.action for f in forms_of(cm1.get("/reports").text)}
    trail = Trail(world)
    fields = {**form_on(risk.get("/reports").text, "/runs").fields}
    refused = cm1.client.post("/runs", data={**fields, **form_on(
        cm1.get("/reports").text, "/logout").fields, "idempotency_key": uuid.uuid4().hex})
    assert refused.status_code == 403 and "may not risk.run" in text_of(refused.text)
    assert 'data-testid="error"' in refused.text and "Start a daily run" not in refused.text
    trail.refused("cm1", "POST /runs", "forbidden")
    assert pm.client.post("/runs", data={**fields, **form_on(pm.get("/").text, "/logout")
                                         .fields}).status_code == 403
    bad = risk.send("/reports", "/runs", mc_scenarios="7")
    assert bad.status_code == 422 and has_field_error(bad.text, "mc_scenarios", "choose one")
    started = risk.send("/reports", "/runs", mc_scenarios="2000", label="web test")
    assert started.status_code == 303
    job_path = started.headers["location"]
    job_id = job_path.rsplit("/", 1)[-1]
    jobs = world.app.state.qoima
    assert isinstance(jobs, ApiContext)
    assert jobs.jobs.wait(job_id, 600)
    done = risk.get(job_path)
    assert done.status_code == 200 and "data-refresh-s" not in done.text
    shown = text_of(done.text)
    assert "Daily run succeeded" in shown and "Valuing every vehicle — ok" in shown
    link = re.search(r'href="(/api/v1/runs/([^/"]+)/files/report\.html)"', done.text)
    assert link is not None
    record = world.reserve.runs.get(link.group(2))
    assert record.run_by == "risk"
    assert risk.get(link.group(1)).status_code == 200
    assert people["auditor"].get(job_path).status_code == 404  # someone else's job
    assert risk.get(f"/api/v1/jobs/{job_id}").json()["status"] == "succeeded"


# -- policy approval (four eyes) ----------------------------------------------------------------


def test_a_policy_version_is_approved_by_someone_other_than_its_proposer(
        world: WebWorld, people: dict[str, Person]) -> None:
    policy = read_policy(ROOT / "examples" / "policies" / "fx-sleeve.yaml")
    proposed = world.reserve.policies.propose(policy, fmt="yaml", actor="risk-cm",
                                              reason="annual review")
    vehicle, version = proposed.vehicle_code, proposed.version
    action = f"/policies/{vehicle}/versions/{version}/approval"
    own = people["risk-cm"]
    page = own.get("/policies")
    assert "You proposed this version" in text_of(page.text)
    trail = Trail(world)
    refused = own.client.post(action, data=form_on(page.text, action).fields)
    assert refused.status_code == 403
    assert (f"risk-cm proposed policy {vehicle} v{version} and cannot approve it"
            in text_of(refused.text))
    trail.refused("risk-cm", f"POST {action}", "forbidden")
    assert world.reserve.policies.versions(vehicle)[-1].status == "proposed"
    pm = people["pm"]
    assert action not in {f.action for f in forms_of(pm.get("/policies").text)}
    approved = people["cm2"].follow(people["cm2"].send("/policies", action))
    assert f"Policy {vehicle} v{version} approved by cm2: in force now" in text_of(
        approved.text)
    latest = [r for r in world.reserve.policies.versions(vehicle) if r.version == version]
    assert latest[0].status == "active" and latest[0].approved_by == "cm2"
