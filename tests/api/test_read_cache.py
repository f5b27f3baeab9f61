"""Kept GET answers: ETag / If-None-Match, and every write seen at once, whoever wrote it.

The API keeps the NAV, holdings and order pages per worker under the data version tokens
read with the caller's credential; these tests change the data through the API, through
the services (another program's path) and the users' grants, and check the next answer.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import text

from qoima.api.read_cache import ResponseCache
from qoima.domain.enums import EntryCode
from qoima.domain.roles import Role, RoleGrant
from qoima.ledger.entries import EntryDraft, PostingDraft
from tests.api.conftest import World
from tests.app.governance import PEOPLE, SLEEVE

ORDER = {"vehicle": SLEEVE, "instrument": "IBIT", "side": "buy", "quantity": "10",
         "estimated_price": "74.32", "tranche": "main", "custodian": "bny"}


def test_an_answer_carries_an_etag_and_a_matching_one_gets_304(world: World) -> None:
    auditor = world.session("auditor")
    first = auditor.get("/api/v1/nav")
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag.startswith('"') and etag.endswith('"')
    again = auditor.get("/api/v1/nav")
    assert again.headers["ETag"] == etag and again.content == first.content
    for sent in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        not_modified = auditor.get("/api/v1/nav", headers={"If-None-Match": sent})
        assert not_modified.status_code == 304, sent
        assert not_modified.content == b"" and not_modified.headers["ETag"] == etag
    other = auditor.get("/api/v1/nav", headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.content == first.content


def test_a_new_order_shows_in_the_list_and_changes_its_etag(world: World) -> None:
    auditor, pm = world.session("auditor"), world.session("pm")
    before = auditor.get("/api/v1/orders?limit=500")
    posted = pm.post("/api/v1/orders", json=ORDER)
    assert posted.status_code == 201, posted.text
    after = auditor.get("/api/v1/orders?limit=500")
    assert after.headers["ETag"] != before.headers["ETag"]
    assert after.json()["total"] == before.json()["total"] + 1
    assert posted.json()["order_id"] in {o["order_id"] for o in after.json()["items"]}
    stale = auditor.get("/api/v1/orders?limit=500",
                        headers={"If-None-Match": before.headers["ETag"]})
    assert stale.status_code == 200


def test_an_amended_order_shows_on_a_page_kept_before(world: World) -> None:
    """The page's contents are kept until an order is amended (not when one is added)."""
    auditor, pm = world.session("auditor"), world.session("pm")
    order_id = pm.post("/api/v1/orders", json=ORDER).json()["order_id"]
    pm.post("/api/v1/orders", json=ORDER)  # a later order: the page's contents stay
    total = auditor.get("/api/v1/orders?limit=1").json()["total"]
    offset = next(i for i in range(total) if auditor.get(
        f"/api/v1/orders?limit=1&offset={i}").json()["items"][0]["order_id"] == order_id)
    url = f"/api/v1/orders?limit=1&offset={offset}"
    assert auditor.get(url).json()["items"][0]["status"] == "draft"
    cancelled = pm.post(f"/api/v1/orders/{order_id}/cancellation", json={})
    assert cancelled.status_code == 200, cancelled.text
    assert auditor.get(url).json()["items"][0]["status"] == "cancelled"
    assert auditor.get(f"/api/v1/orders/{order_id}").json()["status"] == "cancelled"


def test_a_posting_made_outside_the_api_shows_in_the_next_nav(world: World) -> None:
    auditor = world.session("auditor")

    def sleeve_nav() -> Decimal:
        vehicles = auditor.get("/api/v1/nav").json()["vehicles"]
        return next(Decimal(v["nav_usd"]) for v in vehicles if v["vehicle_code"] == SLEEVE)

    before = sleeve_nav()
    day = date.fromisoformat(auditor.get("/api/v1/nav").json()["as_of"])
    world.reserve.book.post([EntryDraft("cache-test-funding", EntryCode.TRANSFER, day, (
        PostingDraft("holding:fx-reserves/investment:USD@bny", Decimal("-1250000")),
        PostingDraft(f"holding:{SLEEVE}/main:USD@bny", Decimal("1250000"))))], actor="ops")
    assert sleeve_nav() == before + Decimal("1250000")


def test_without_its_version_row_nothing_is_kept(world: World) -> None:
    """A deleted ``data_versions`` row (restore gone wrong, a DBA's DELETE) must not freeze
    the answers: each read gets a fresh token, so a posting still shows at once."""
    auditor = world.session("auditor")
    with world.reserve.engine.begin() as connection:
        token = connection.execute(text(
            "SELECT token FROM data_versions WHERE name = 'valuation'")).scalar_one()
        connection.execute(text("DELETE FROM data_versions WHERE name = 'valuation'"))
    try:
        first = auditor.get("/api/v1/nav")
        assert auditor.get("/api/v1/nav").content == first.content  # same data, same bytes
        day = date.fromisoformat(first.json()["as_of"])
        world.reserve.book.post([EntryDraft("cache-test-no-row", EntryCode.TRANSFER, day, (
            PostingDraft("holding:fx-reserves/investment:USD@bny", Decimal("-7")),
            PostingDraft(f"holding:{SLEEVE}/main:USD@bny", Decimal("7"))))], actor="ops")
        after = {v["vehicle_code"]: Decimal(v["nav_usd"])
                 for v in auditor.get("/api/v1/nav").json()["vehicles"]}
        before = {v["vehicle_code"]: Decimal(v["nav_usd"]) for v in first.json()["vehicles"]}
        assert after[SLEEVE] == before[SLEEVE] + 7
    finally:
        with world.reserve.engine.begin() as connection:
            connection.execute(text("INSERT INTO data_versions (name, token) "
                                    "VALUES ('valuation', :token)"), {"token": token})


def test_a_grant_takes_effect_on_the_next_answer(world: World) -> None:
    pm = world.session("pm")
    assert [v["vehicle_code"] for v in pm.get("/api/v1/nav").json()["vehicles"]] == [SLEEVE]
    world.reserve.users.set_grants(
        "pm", [*PEOPLE["pm"], RoleGrant(Role.PORTFOLIO_MANAGER, "state-fund")], actor="admin")
    try:
        seen = {v["vehicle_code"] for v in pm.get("/api/v1/nav").json()["vehicles"]}
        assert seen == {SLEEVE, "state-fund"}
    finally:
        world.reserve.users.set_grants("pm", PEOPLE["pm"], actor="admin")
    assert [v["vehicle_code"] for v in pm.get("/api/v1/nav").json()["vehicles"]] == [SLEEVE]


def test_one_users_answer_is_never_anothers(world: World) -> None:
    auditor, pm = world.session("auditor"), world.session("pm")
    whole = auditor.get("/api/v1/holdings?limit=500")
    sleeve = pm.get("/api/v1/holdings?limit=500")
    assert whole.headers["ETag"] != sleeve.headers["ETag"]
    assert {p["vehicle_code"] for p in sleeve.json()["items"]} == {SLEEVE}
    assert len({p["vehicle_code"] for p in whole.json()["items"]}) > 1
    refused = pm.get("/api/v1/holdings?limit=500",
                     headers={"If-None-Match": whole.headers["ETag"]})
    assert refused.status_code == 200 and refused.content == sleeve.content


def test_the_cache_keeps_the_most_recently_used_answers() -> None:
    cache = ResponseCache(size=2)
    cache.put("a", '"1"', b"a")
    cache.put("b", '"2"', b"b")
    assert cache.get("a") == ('"1"', b"a")  # "a" used: "b" is now the oldest
    cache.put("c", '"3"', b"c")
    assert cache.get("b") is None and cache.get("a") is not None and len(cache) == 2
    ResponseCache(size=0).put("a", '"1"', b"a")  # keeps nothing, fails nothing
