"""The OpenAPI document is committed: a change to the API shows up as a diff in review.

Regenerate after an intended change with::

    .venv/bin/python -m tests.api.test_openapi
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from qoima.api.app import create_app
from qoima.api.settings import ApiSettings
from qoima.bootstrap.settings import Settings
from qoima.bootstrap.wiring import open_reserve

SNAPSHOT = Path(__file__).with_name("openapi.json")


def current_spec() -> dict[str, Any]:
    """The document of an app over an empty workspace (the spec never depends on data)."""
    with tempfile.TemporaryDirectory() as folder:
        reserve = open_reserve(workspace=Path(folder), create=True,
                               settings=Settings(runs_dir=Path(folder) / "runs",
                                                 browser="none"))
        try:
            app = create_app(reserve, ApiSettings(), auth_service=object(),  # type: ignore[arg-type]
                             idempotency_service=object())  # type: ignore[arg-type]
            return app.openapi()
        finally:
            reserve.close()


def render(spec: dict[str, Any]) -> str:
    return json.dumps(spec, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_openapi_matches_the_committed_snapshot() -> None:
    assert SNAPSHOT.exists(), "no snapshot: run `.venv/bin/python -m tests.api.test_openapi`"
    assert render(current_spec()) == SNAPSHOT.read_text(encoding="utf-8"), (
        "the API changed: review it, then run `.venv/bin/python -m tests.api.test_openapi`")


def test_every_post_documents_problem_responses_and_the_security_schemes() -> None:
    spec = current_spec()
    schemes = spec["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} == {"http", "apiKey"}
    operations = [(path, method, op) for path, item in spec["paths"].items()
                  for method, op in item.items()]
    protected = [op for path, _, op in operations
                 if path not in ("/api/v1/health", "/api/v1/problems", "/api/v1/auth/login")]
    assert all(op.get("security") for op in protected)
    posts = [(path, op) for path, method, op in operations if method == "post"
             and not path.startswith("/api/v1/auth/")]
    assert posts and all(any(p["name"] == "Idempotency-Key" for p in op.get("parameters", []))
                         for _, op in posts)


if __name__ == "__main__":
    SNAPSHOT.write_text(render(current_spec()), encoding="utf-8")
    print(f"wrote {SNAPSHOT}")
