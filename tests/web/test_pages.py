"""The dashboard through TestClient: who sees which page, what the pages show (checked
against the services' own numbers), and that forms need the session's CSRF token, act once
per idempotency key, and show the services' refusals with the API's status codes."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from qoima.web.login import safe_next
from tests.web.people import BASE, Person, form_on, forms_of, text_of
from tests.web.world import WebWorld, build_world

EVERY_PAGE = ("/", "/orders", "/risk", "/stress", "/cases", "/managers", "/reports", "/audit")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebWorld]:
    built = build_world(tmp_path_factory.mktemp("web") / "ws", daily_run=True)
    yield built
    built.reserve.close()


@pytest.fixture(scope="module")
def people(world: WebWorld) -> Iterator[dict[str, Person]]:
    logged = {name: Person(world.app, name)
              for name in ("risk", "pm", "pm-risk", "cm1", "ops", "liaison", "auditor")}
    yield logged
    for person in logged.values():
        person.close()


def order_form(**changes: str) -> dict[str, str]:
    return {"vehicle": "da-sleeve", "instrument": "IBIT", "side": "buy",
            "quantity": "600,000", "estimated_price": "74.32", "tranche": "main",
            "custodian": "bny", **changes}


def orders_of(world: WebWorld) -> set[str]:
    return {o.order_id for o in world.reserve.orders.list(actor="risk")}


# -- logging in --------------------------------------------------------------------------------


def test_pages_send_a_visitor_without_a_session_to_the_login_form(world: WebWorld) -> None:
    client = TestClient(world.app, base_url=BASE, follow_redirects=False)
    for path in (*EVERY_PAGE, f"/cases/{world.case_id}"):
        answer = client.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"] == f"/login?next={path}"
    refused = client.post("/orders", data=order_form())
    assert refused.status_code == 303 and refused.headers["location"] == "/login?next=/"
    client.close()


def test_login_with_a_wrong_password_says_so_and_sets_no_session(world: WebWorld) -> None:
    client = TestClient(world.app, base_url=BASE, follow_redirects=False)
    form = form_on(client.get("/login?next=/orders").text, "/login")
    assert form.fields["next"] == "/orders"
    wrong = client.post("/login", data={**form.fields, "user": "risk", "password": "nope" * 4})
    assert wrong.status_code == 401
    assert "invalid user name, password or one-time code" in wrong.text
    assert "qoima_session" not in wrong.cookies
    forged = client.post("/login", data={"user": "risk", "password": "x", "next": "/"})
    assert forged.status_code == 403 and "expired" in forged.text
    client.close()


def test_a_login_goes_back_to_the_page_asked_for_on_this_site_only() -> None:
    assert safe_next("/orders?x=1") == "/orders?x=1"
    for outside in ("//evil.example/x", "https://evil.example/", "evil", "/\\evil", None, "",
                    "/\t/evil.example", "/\n/evil.example", "/ /evil.example"):
        assert safe_next(outside) == "/"


def test_logging_out_ends_the_session(world: WebWorld) -> None:
    person = Person(world.app, "auditor")
    shown = person.get("/")
    assert shown.status_code == 200
    out = person.client.post("/logout", data=form_on(shown.text, "/logout").fields)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert person.get("/").status_code == 303
    person.close()


# -- what each person sees ------------------------------------------------------------------------


def test_a_reader_of_every_vehicle_sees_every_page_with_the_books_numbers(
        world: WebWorld, people: dict[str, Person]) -> None:
    risk = people["risk"]
    for path in (*EVERY_PAGE, f"/cases/{world.case_id}", "/managers/hf-a"):
        answer = risk.get(path)
        assert answer.status_code == 200, (path, answer.text[:500])
        assert answer.headers["content-type"].startswith("text/html")
        assert answer.headers["x-frame-options"] == "DENY"
        assert "script-src 'self'" in answer.headers["content-security-policy"]
        assert answer.headers["cache-control"] == "no-store"
    reserve = world.reserve
    snapshot = reserve.valuation.snapshot(reserve.valuation.default_as_of())  # type: ignore[arg-type]
    overview = text_of(risk.get("/").text)
    assert f"{snapshot.total_usd:,.2f}" in overview  # 47,602,553,398.54
    assert f"{snapshot.total_kzt:,.2f}" in overview
    for vehicle in snapshot.vehicles:
        assert f"{vehicle.vehicle_code} {vehicle.name} {vehicle.nav_usd:,.2f}" in overview
    assert "Stability gate (da-sleeve) WAIT" in overview
    assert "Policy range 50.00 M – 300.00 M USD: inside the range." in overview
    breaches = reserve.policies.breaches(None, open_only=True)
    assert f"Open policy breaches {len(breaches)}" in overview
    assert breaches and breaches[0].message in overview


def test_a_vehicle_restricted_user_sees_only_their_vehicle(world: WebWorld,
                                                            people: dict[str, Person]) -> None:
    pm = people["pm"]
    overview = pm.get("/")
    assert overview.status_code == 200
    rows = re.findall(r'data-vehicle="([^"]+)"', overview.text)
    assert rows == ["da-sleeve"]
    assert "Reserve NAV" not in overview.text and "Total" not in text_of(overview.text)
    assert 'href="/reports"' not in overview.text and 'href="/cases"' not in overview.text
    assert pm.get("/reports").status_code == 403
    assert pm.get("/audit").status_code == 403
    missing, hidden = pm.get(f"/cases/{world.case_id}"), pm.get("/cases/no-such-case")
    assert missing.status_code == hidden.status_code == 404
    assert pm.get("/cases").status_code == 404
    assert pm.get("/managers/hf-a").status_code == 404  # a state-fund manager
    assert 'data-manager="hf-a"' not in pm.get("/managers").text
    risk_page = pm.get("/risk?currency=KZT").text
    assert re.findall(r'data-scope="([^"]+)"', risk_page) == ["da-sleeve"]
    stress = pm.get("/stress").text
    assert "fx-reserves" not in stress and ">reserve<" not in stress and "da-sleeve" in stress


def test_another_vehicles_order_is_not_found(world: WebWorld, people: dict[str, Person]) -> None:
    made = people["pm"].client.post("/orders", data={
        **form_on(people["pm"].get("/orders").text, "/orders").fields, **order_form(
            quantity="10")})
    order_id = made.headers["location"].rsplit("/", 1)[-1]
    liaison = people["liaison"]
    hidden, missing = liaison.get(f"/orders/{order_id}"), liaison.get("/orders/ord-none")
    assert hidden.status_code == missing.status_code == 404
    assert order_id not in liaison.get("/orders").text


# -- forms: CSRF, idempotency, refusals ---------------------------------------------------------


def test_a_form_without_the_sessions_csrf_token_is_refused(world: WebWorld,
                                                            people: dict[str, Person]) -> None:
    pm = people["pm"]
    before = orders_of(world)
    fields = form_on(pm.get("/orders").text, "/orders").fields
    for token in ("", "forged", people["risk"].get("/").text.split('name="csrf_token" value="')[1]
                  .split('"')[0]):
        answer = pm.client.post("/orders", data={**fields, **order_form(), "csrf_token": token,
                                                  "idempotency_key": uuid.uuid4().hex})
        assert answer.status_code == 403, token
        assert "CSRF token missing or wrong" in answer.text
    json_body = pm.client.post("/orders", json={**fields, **order_form()})
    assert json_body.status_code == 400 and "application/x-www-form-urlencoded" in json_body.text
    assert orders_of(world) == before


def test_a_form_sent_twice_acts_once(world: WebWorld, people: dict[str, Person]) -> None:
    pm = people["pm"]
    before = orders_of(world)
    fields = {**form_on(pm.get("/orders").text, "/orders").fields, **order_form(quantity="20")}
    first = pm.client.post("/orders", data=fields)
    again = pm.client.post("/orders", data=fields)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    assert len(orders_of(world) - before) == 1
    assert "already sent" in text_of(pm.follow(again).text)
    no_key = pm.client.post("/orders", data={**fields, "idempotency_key": ""})
    assert no_key.status_code == 400 and "no idempotency key" in no_key.text
    assert len(orders_of(world) - before) == 1


def test_four_eyes_and_quorum_through_the_forms(world: WebWorld,
                                                people: dict[str, Person]) -> None:
    pm, risk, cm1, ops = (people[u] for u in ("pm", "risk", "cm1", "ops"))
    made = pm.send("/orders", "/orders", **order_form())
    page = pm.follow(made)
    order_id = made.headers["location"].rsplit("/", 1)[-1]
    assert "Order " + order_id + " drafted" in text_of(page.text)
    assert "44,592,000.00" in text_of(page.text)  # 600,000 x 74.32
    page = pm.follow(pm.send(f"/orders/{order_id}", f"/orders/{order_id}/submit"))
    assert f"/orders/{order_id}/approve" not in {f.action for f in forms_of(page.text)}
    forged = pm.client.post(f"/orders/{order_id}/approve", data={
        **form_on(page.text, "/logout").fields, "idempotency_key": uuid.uuid4().hex})
    assert forged.status_code == 403
    assert "may not order.approve" in text_of(forged.text)
    assert world.reserve.orders.get(order_id, actor="risk").status == "submitted"
    inbox = text_of(risk.get("/orders").text)
    assert f"{order_id} da-sleeve buy 600,000 IBIT 44,592,000.00 pm nobody yet" in inbox
    assert "an approval by a risk_officer" in inbox and "an approval by a committee_member" in inbox
    shown = text_of(risk.follow(risk.send(f"/orders/{order_id}",
                                          f"/orders/{order_id}/approve")).text)
    assert "Approved by risk: the order is now submitted" in shown
    assert "an approval by a committee_member" in shown and "risk_officer (a person" not in shown
    again = risk.send(f"/orders/{order_id}", f"/orders/{order_id}/reject", reason="")
    assert again.status_code == 422 and "Reason is required" in again.text
    shown = text_of(cm1.follow(cm1.send(f"/orders/{order_id}",
                                        f"/orders/{order_id}/approve")).text)
    assert "the order is now approved" in shown and "Nothing: the quorum is met." in shown
    filled = ops.follow(ops.send(f"/orders/{order_id}", f"/orders/{order_id}/fills",
                                 venue="NASDAQ", counterparty="broker-x", fees_usd="1200",
                                 price="74.30"))
    assert "the order is now executed" in text_of(filled.text)
    assert f"ledger entry {order_id}-fill-1" in text_of(filled.text)
    order = world.reserve.orders.get(order_id, actor="risk")
    assert order.status == "executed" and order.fills[0].fees_usd == Decimal("1200")


def test_a_refused_case_step_says_why_and_writes_nothing(world: WebWorld,
                                                          people: dict[str, Person]) -> None:
    liaison, risk = people["liaison"], people["risk"]
    page = f"/cases/{world.case_id}"
    action = f"{page}/transitions"
    assert action not in {f.action for f in forms_of(risk.get(page).text)}
    wrong = liaison.send(page, action, to="frozen", document_kind="court_filing",
                         reference="CF-1", dated="2026-03-10")
    assert wrong.status_code == 422
    assert ("Refused: a court_filing (CF-1) does not prove frozen; it needs a freeze_order or "
            "court_order") in text_of(wrong.text)
    assert world.reserve.custody.case(world.case_id).case.legal_status == "seized"
    bad_date = liaison.send(page, action, to="frozen", document_kind="freeze_order",
                            reference="FO-1", dated="10/03/2026")
    assert bad_date.status_code == 422 and "is not a date" in bad_date.text
    forged = risk.client.post(action, data={**form_on(liaison.get(page).text, action).fields,
                                            "to": "frozen", "document_kind": "freeze_order",
                                            "reference": "FO-1", "dated": "2026-03-10"})
    assert forged.status_code == 403  # liaison's CSRF token in risk's session
    assert world.reserve.custody.case(world.case_id).case.legal_status == "seized"


def test_reports_link_to_the_runs_files_and_the_audit_page_verifies(
        world: WebWorld, people: dict[str, Person]) -> None:
    cm1 = people["cm1"]
    page = cm1.get("/reports").text
    link = re.search(r'href="(/api/v1/runs/[^"]+/files/report\.html)"', page)
    assert link is not None and world.run_id is not None and world.run_id in link.group(1)
    report = cm1.get(link.group(1))
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    assert "daily report to the investment committee" in report.text
    verified = world.reserve.audit.verify()
    audit = text_of(cm1.get("/audit").text)
    assert f"Verification Intact Records {verified.records}" in audit
    assert verified.root in audit
    assert "Record a checkpoint" not in audit  # committee members do not publish roots
    ops = people["ops"]
    done = ops.follow(ops.send("/audit", "/audit/checkpoints"))
    latest = world.reserve.audit.latest_checkpoint()
    assert latest is not None and f"root {latest.root}" in text_of(done.text)


def test_static_files_and_plotly_come_from_this_server(world: WebWorld) -> None:
    client = TestClient(world.app, base_url=BASE)
    plotly = client.get("/static/plotly.min.js")
    assert plotly.status_code == 200 and plotly.headers["content-type"].startswith(
        "text/javascript")
    assert len(plotly.content) > 1_000_000
    assert client.get("/static/web.css").status_code == 200
    assert "Plotly.newPlot" in client.get("/static/web.js").text
    client.close()
