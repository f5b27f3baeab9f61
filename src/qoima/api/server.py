"""The API alone, from the environment (``uvicorn qoima.api.server:app_from_env --factory``).

``qoima serve`` starts :func:`qoima.web.server.app_from_env` instead, which adds the
dashboard; this factory serves only ``/api/v1`` (machines, load benchmarks) and must not
import the dashboard, which sits above the API in the import layers.
"""

from __future__ import annotations

from fastapi import FastAPI

from qoima.api.app import create_app
from qoima.api.settings import ApiSettings
from qoima.bootstrap.settings import Settings
from qoima.bootstrap.wiring import open_reserve


def app_from_env() -> FastAPI:
    """``QOIMA_HOME`` (SQLite workspace) or ``QOIMA_DATABASE_URL`` (PostgreSQL)."""
    reserve = open_reserve(settings=Settings())
    return create_app(reserve, ApiSettings(), on_shutdown=reserve.close)
