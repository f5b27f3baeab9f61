"""Long computations run as jobs: status, progress, result, and the daily run's reports."""

from __future__ import annotations

import time
from typing import Any

from qoima.app.risk import RiskRequest
from qoima.risk.assessment import AssessmentSettings
from tests.api.conftest import Session, World


def wait(session: Session, job: dict[str, Any], timeout_s: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = session.get(job["links"]["self"]).json()
        if status["status"] in ("succeeded", "failed"):
            return status
        time.sleep(0.2)
    raise AssertionError(f"job {job['job_id']} did not finish")


def test_daily_run_job_reports_progress_and_links_the_run(world: World) -> None:
    risk = world.session("risk")
    started = risk.post("/api/v1/runs", json={"mc_scenarios": 2000, "label": "API TEST"})
    assert started.status_code == 202, started.text
    job = started.json()
    assert started.headers["location"] == job["links"]["self"]
    assert job["kind"] == "daily-run" and job["status"] in ("queued", "running", "succeeded")
    done = wait(risk, job)
    assert done["status"] == "succeeded", done
    progress = risk.get(job["links"]["progress"]).json()
    titles = [s["title"] for s in progress["steps"]]
    assert "Valuing every vehicle" in titles and "Verifying the audit trail" in titles
    assert progress["steps_done"] == len(progress["steps"])
    result = risk.get(job["links"]["result"]).json()
    run_id = result["run_id"]
    assert done["links"]["resource"] == f"/api/v1/runs/{run_id}"
    run = risk.get(f"/api/v1/runs/{run_id}").json()
    assert run["run_id"] == run_id and run["summary"]["headline"]["total_usd"]
    listed = risk.get("/api/v1/runs").json()
    assert run_id in {r["run_id"] for r in listed["items"]}
    files = {f["name"] for f in risk.get(f"/api/v1/runs/{run_id}/files").json()}
    assert {"report.html", "summary.json"} <= files
    report = risk.get(f"/api/v1/runs/{run_id}/files/report.html")
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    assert b"API TEST" in report.content or b"<html" in report.content.lower()
    escape = risk.get(f"/api/v1/runs/{run_id}/files/..%2F..%2Fqoima.db")
    assert escape.status_code == 404


def test_jobs_are_private_and_runs_need_the_risk_role(world: World) -> None:
    risk, pm = world.session("risk"), world.session("pm")
    job = risk.post("/api/v1/risk/backtests", json={"scope": "BTC", "windows": [100]}).json()
    assert pm.get(job["links"]["self"]).status_code == 404
    assert job["job_id"] in {j["job_id"] for j in risk.get("/api/v1/jobs").json()["items"]}
    assert pm.post("/api/v1/runs", json={"mc_scenarios": 2000}).status_code == 403
    done = wait(risk, job)
    assert done["status"] == "succeeded", done
    (result,) = risk.get(job["links"]["result"]).json()
    (direct,) = world.reserve.risk.backtest(world.reserve.risk.default_as_of(), scope="BTC",
                                            windows=[100], levels=[0.99])
    assert result["series"] == "BTC" and result["n_obs"] == direct.n_obs > 0
    assert result["exceedances"] == direct.n_exceedances


def test_a_failed_job_keeps_its_problem(world: World) -> None:
    risk = world.session("risk")
    job = risk.post("/api/v1/risk/backtests", json={"scope": "no-such-scope"}).json()
    done = wait(risk, job)
    assert done["status"] == "failed"
    assert done["error"]["code"] == "not-found" and "no-such-scope" in done["error"]["detail"]
    result = risk.get(job["links"]["result"])
    assert result.status_code == 404
    assert result.headers["content-type"] == "application/problem+json"


def test_monte_carlo_risk_report_job_gives_the_services_numbers(world: World) -> None:
    auditor = world.session("auditor")
    job = auditor.post("/api/v1/risk/reports", json={"mc_scenarios": 2000,
                                                      "scenarios": ["covid-2020"]}).json()
    done = wait(auditor, job)
    assert done["status"] == "succeeded", done
    assert len(done["progress"]["steps"]) >= 2  # the assessment reports its steps
    report = auditor.get(job["links"]["result"]).json()
    mc = [r for r in report["var"] if r["method"] == "monte-carlo" and r["scope"] == "total"
          and r["currency"] == "USD" and r["level"] == 0.99 and r["horizon_days"] == 1]
    historical = [r for r in report["var"] if r["method"] == "historical"
                  and r["scope"] == "total" and r["currency"] == "USD"
                  and r["level"] == 0.99 and r["horizon_days"] == 1]
    assert len(mc) == len(historical) == 1 and mc[0]["var"] > 0
    only = AssessmentSettings(methods=("historical",), levels=(0.99,), horizons=(1,),
                              currencies=("USD",))
    _, rows = world.reserve.risk.var(world.reserve.risk.default_as_of(),
                                     RiskRequest(settings=only), scope="total")
    assert historical[0]["var"] == round(rows[0].var, 2)
