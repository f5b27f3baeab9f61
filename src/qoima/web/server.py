"""The served application: the REST API with the dashboard on it (``qoima serve``).

The API package knows nothing of the dashboard (``qoima.web`` sits above ``qoima.api`` in
the import layers); this module composes the two, so uvicorn's factory path
``qoima.web.server:app_from_env`` serves both on one port and one session cookie.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from qoima.api.app import create_app
from qoima.api.idempotency import IdempotencyPort
from qoima.api.security import AuthPort
from qoima.api.settings import ApiSettings
from qoima.bootstrap.settings import Settings
from qoima.bootstrap.wiring import Reserve, open_reserve
from qoima.web.site import install


def create_site(reserve: Reserve, settings: ApiSettings | None = None, *,
                auth_service: AuthPort | None = None,
                idempotency_service: IdempotencyPort | None = None,
                on_shutdown: Callable[[], None] | None = None) -> FastAPI:
    """:func:`~qoima.api.app.create_app` with the dashboard installed under ``/``."""
    app = create_app(reserve, settings, auth_service=auth_service,
                     idempotency_service=idempotency_service, on_shutdown=on_shutdown)
    install(app)
    return app


def app_from_env() -> FastAPI:
    """``QOIMA_HOME`` (SQLite workspace) or ``QOIMA_DATABASE_URL`` (PostgreSQL)."""
    reserve = open_reserve(settings=Settings())
    return create_site(reserve, ApiSettings(), on_shutdown=reserve.close)
