"""A small governed demo behind the API and the dashboard, for page and browser tests.

The governed demo (people, the sleeve's policy in force, USD 100M in the sleeve), the demo
managers' mandates and statements, the example seizure case with one custody event, and
passwords for everyone (and ``risk-cm``, a risk officer on the committee). ``daily_run``
adds a daily run, so the reports page has a report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI

from qoima.adapters.case_files import read_case
from qoima.adapters.passwords import Argon2PasswordHasher
from qoima.api.settings import ApiSettings
from qoima.app.auth import AuthService
from qoima.app.daily_run import RunRequest
from qoima.app.demo.build import build_demo
from qoima.app.demo.managers import demo_manager_book, load_demo_managers
from qoima.app.idempotency import IdempotencyService
from qoima.app.run_numbers import RunSettings
from qoima.bootstrap.settings import Settings
from qoima.bootstrap.wiring import Reserve, SystemClock, open_reserve
from qoima.custody.chain_of_custody import CustodyEvent, CustodyEventKind
from qoima.domain.roles import Role, RoleGrant
from qoima.web.server import create_site
from tests.app.governance import PEOPLE, ROOT, governed_demo

PASSWORD = "correct horse battery staple"
HASHER = Argon2PasswordHasher(time_cost=1, memory_cost_kib=1024, parallelism=1)
CASE_FILE = ROOT / "examples" / "custody" / "case.yaml"
HOLDER = "AFM key custody unit"
#: Proposes policy versions and sits on the committee: four eyes must stop them approving
#: their own version.
EXTRA_PEOPLE = {"risk-cm": [RoleGrant(Role.RISK_OFFICER), RoleGrant(Role.COMMITTEE_MEMBER)]}
SETTINGS = ApiSettings(login_attempts=1000, token_attempts=1000, job_workers=1,
                       cookie_secure=False)


@dataclass
class WebWorld:
    reserve: Reserve
    app: FastAPI
    case_id: str
    run_id: str | None


def build_world(workspace: Path, *, daily_run: bool = False,
                settings: ApiSettings = SETTINGS) -> WebWorld:
    reserve = open_reserve(workspace=workspace, create=True, settings=Settings(
        runs_dir=workspace / "runs", browser="none"))
    governed_demo(reserve)
    reserve.users.add("loader", "Loader", [RoleGrant(Role.ADMINISTRATOR),
                                           RoleGrant(Role.OPERATIONS)], actor="admin")
    for name, grants in EXTRA_PEOPLE.items():
        reserve.users.add(name, name.title(), grants, actor="admin")
    demo = build_demo()
    load_demo_managers(reserve.managers, demo_manager_book(demo.reference, demo.entries,
                                                           demo.prices), actor="loader")
    case, intakes, documents = read_case(CASE_FILE)
    view = reserve.custody.open_case(case, intakes, documents, actor="liaison")
    address = view.assets[0].addresses_json.strip('[]"')
    reserve.custody.record_event(CustodyEvent(
        "EV-1", case.case_id, CustodyEventKind.KEY_CEREMONY,
        datetime(2026, 3, 3, 9, 30, tzinfo=UTC), "liaison", from_holder=HOLDER,
        from_address=address, chain="bitcoin",
        note="keys re-sharded 3-of-5 under court supervision"),
        actor="liaison")
    clock = SystemClock()
    auth = AuthService(reserve.units, clock, HASHER)
    keys = IdempotencyService(reserve.units, clock)
    for name in (*PEOPLE, *EXTRA_PEOPLE):
        auth.set_password(name, PASSWORD, actor="admin")
    app = create_site(reserve, settings, auth_service=auth, idempotency_service=keys)
    run_id = None
    if daily_run:
        run_id = reserve.daily.run(RunRequest(settings=RunSettings(mc_scenarios=2000),
                                              salt_key=b"k" * 32), actor="risk").run_id
    return WebWorld(reserve, app, case.case_id, run_id)
