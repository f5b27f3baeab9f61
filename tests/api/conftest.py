"""An API over the governed demo: people with passwords, the sleeve policy in force.

One reserve and app per test module (building the demo takes seconds); tests that write use
their own idempotency keys and orders, so they do not depend on one another.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from qoima.adapters.passwords import Argon2PasswordHasher
from qoima.api.app import create_app
from qoima.api.settings import ApiSettings
from qoima.app.auth import AuthService
from qoima.app.idempotency import IdempotencyService
from qoima.bootstrap.settings import Settings
from qoima.bootstrap.wiring import Reserve, SystemClock, open_reserve
from qoima.store.auth_repo import SqlAuthRepository, SqlIdempotencyRepository
from tests.app.governance import PEOPLE, governed_demo

PASSWORD = "correct horse battery staple"
HASHER = Argon2PasswordHasher(time_cost=1, memory_cost_kib=1024, parallelism=1)
BASE = "https://testserver"  # Secure cookies travel over https only
SETTINGS = ApiSettings(login_attempts=1000, token_attempts=1000, job_workers=2)


def auth_repository(uow: Any) -> Any:
    return getattr(uow, "auth", None) or SqlAuthRepository(uow._connection)


def idempotency_repository(uow: Any) -> Any:
    return getattr(uow, "idempotency", None) or SqlIdempotencyRepository(uow._connection)


@dataclass
class World:
    reserve: Reserve
    auth: AuthService
    keys: IdempotencyService
    app: FastAPI
    clients: list[TestClient] = field(default_factory=list)

    def client(self, **kwargs: Any) -> TestClient:
        client = TestClient(self.app, base_url=BASE, **kwargs)
        client.__enter__()
        self.clients.append(client)
        return client

    def session(self, user: str) -> Session:
        client = self.client()
        response = client.post("/api/v1/auth/login", json={"user": user, "password": PASSWORD})
        assert response.status_code == 200, response.text
        return Session(client, response.json()["csrf_token"])

    def bearer(self, user: str, scopes: list[str]) -> Session:
        owner = self.session(user)
        issued = owner.post("/api/v1/auth/tokens", json={"name": "test", "scopes": scopes})
        assert issued.status_code == 201, issued.text
        client = self.client(headers={"Authorization": f"Bearer {issued.json()['secret']}"})
        return Session(client, None)


@dataclass
class Session:
    """A logged-in client: POSTs carry the CSRF token and a fresh Idempotency-Key."""

    client: TestClient
    csrf: str | None

    def headers(self, key: str | None = None, **extra: str) -> dict[str, str]:
        headers = {"Idempotency-Key": key or uuid.uuid4().hex, **extra}
        if self.csrf:
            headers["X-CSRF-Token"] = self.csrf
        return headers

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, **kwargs)

    def post(self, url: str, *, key: str | None = None, **kwargs: Any) -> Any:
        headers = {**self.headers(key), **kwargs.pop("headers", {})}
        return self.client.post(url, headers=headers, **kwargs)

    def put(self, url: str, **kwargs: Any) -> Any:
        return self.client.put(url, headers=self.headers(), **kwargs)


def build_world(workspace: Path, database_url: str | None = None,
                settings: ApiSettings = SETTINGS) -> World:
    reserve = open_reserve(workspace=None if database_url else workspace,
                           database_url=database_url, create=True,
                           settings=Settings(runs_dir=workspace / "runs", browser="none"))
    governed_demo(reserve)
    clock = SystemClock()
    auth = AuthService(reserve.units, clock, HASHER, repository=auth_repository)
    keys = IdempotencyService(reserve.units, clock, repository=idempotency_repository)
    for name in PEOPLE:
        auth.set_password(name, PASSWORD, actor="admin")
    app = create_app(reserve, settings, auth_service=auth, idempotency_service=keys)
    return World(reserve, auth, keys, app)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = build_world(tmp_path_factory.mktemp("api") / "ws")
    yield built
    for client in built.clients:
        client.__exit__(None, None, None)
    built.reserve.close()
