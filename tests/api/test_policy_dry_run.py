"""A candidate policy dry-run over a past period: findings by day, nothing written; a
policy of another vehicle is not the caller's to run."""

from __future__ import annotations

from pathlib import Path

from tests.api.conftest import World
from tests.api.test_abuse import Trail, refused

POLICIES = Path(__file__).resolve().parents[2] / "examples" / "policies"
URL = "/api/v1/policy-dry-runs"


def test_a_dry_run_reports_each_flagged_day_and_writes_nothing(world: World) -> None:
    document = (POLICIES / "fx-sleeve.yaml").read_text()
    # a 2 USD cap on the sleeve: the day it is funded (the demo's last day) breaches it
    tight = document.replace("min_usd: 50_000_000 ", "min_usd: 1 ", 1).replace(
        "max_usd: 300_000_000 ", "max_usd: 2 ", 1)
    assert tight != document
    pm = world.session("pm")
    trail = Trail(world)
    response = pm.post(URL, json={"document": tight, "from": "2026-10-26", "to": "2026-10-30"})
    assert response.status_code == 200, response.text
    got = response.json()
    assert (got["vehicle"], got["days"]) == ("da-sleeve", 4)  # a KZ holiday falls in the week
    assert got["days_flagged"] == sorted(got["findings"])
    assert "2026-10-30" in got["days_flagged"]
    assert trail.records() == []
    fine = pm.post(URL, json={"document": document, "from": "2026-10-26", "to": "2026-10-30"})
    assert fine.status_code == 200 and fine.json()["days"] == 4


def test_another_vehicles_policy_and_bad_input_are_refused(world: World) -> None:
    pm = world.session("pm")
    trail = Trail(world)
    other = pm.post(URL, json={"document": (POLICIES / "alem-fund.yaml").read_text(),
                               "from": "2026-10-26", "to": "2026-10-30"})
    assert other.status_code == 404
    refused(trail, "pm", f"POST {URL}", "concealed-forbidden")
    document = (POLICIES / "fx-sleeve.yaml").read_text()
    long = pm.post(URL, json={"document": document, "from": "2020-01-01", "to": "2026-10-30"})
    assert long.status_code == 422 and long.json()["field"] == "to"
    assert pm.post(URL, json={"document": document, "from": "2026-10-26",
                              "to": "2026-10-30", "record": True}).status_code == 422
