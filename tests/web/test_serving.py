"""What is served: ``qoima serve`` starts the API with the dashboard on it, the API's own
factory serves the API alone, and the API package does not import the dashboard."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from qoima.cli.main import main
from tests.web.people import BASE


def test_the_api_package_does_not_import_the_dashboard() -> None:
    probe = ("import sys, qoima.api.app, qoima.api.server; "
             "print(sorted(m for m in sys.modules if m.startswith('qoima.web')))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True, timeout=120)
    assert done.stdout.strip() == "[]"


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "ws"
    assert main(["--dir", str(folder), "init"]) == 0
    monkeypatch.setenv("QOIMA_HOME", str(folder))
    monkeypatch.setenv("QOIMA_COOKIE_SECURE", "false")
    return folder


def test_the_served_app_has_the_dashboard_and_the_api_factory_has_not(
        workspace: Path) -> None:
    from qoima.api.server import app_from_env as api_only
    from qoima.web.server import app_from_env as served

    with TestClient(served(), base_url=BASE, follow_redirects=False) as client:
        login = client.get("/login")
        assert login.status_code == 200 and login.headers["content-type"].startswith(
            "text/html")
        assert client.get("/api/v1/health").status_code == 200
        missing = client.get("/nowhere")
        assert missing.status_code == 404 and "There is no page at /nowhere" in missing.text
    with TestClient(api_only(), base_url=BASE, follow_redirects=False) as client:
        assert client.get("/api/v1/health").status_code == 200
        alone = client.get("/login")
        assert alone.status_code == 404
        assert alone.headers["content-type"] == "application/problem+json"


def test_qoima_serve_starts_the_composed_app(workspace: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    started: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda target, **options: started.update(
        target=target, **options))
    assert main(["--dir", str(workspace), "serve", "--port", "8123"]) == 0
    assert started["target"] == "qoima.web.server:app_from_env"
    assert started["factory"] is True and started["port"] == 8123
