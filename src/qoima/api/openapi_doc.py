"""The OpenAPI document says what errors really look like: problem details.

FastAPI documents a 422 ``application/json`` ``HTTPValidationError`` for every operation
with parameters, but every error of this API leaves as ``application/problem+json`` (see
:mod:`qoima.api.problems`). The document replaces that with one ``Problem`` response for
any 4xx and 5xx status, so a client generator and a schema checker (schemathesis) see the
contract the server keeps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from qoima.api.problems import PROBLEM_JSON

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 problem details; branch on `code`, never parse `detail`.",
    "required": ["type", "title", "status", "detail", "instance", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "code": {"type": "string"},
        "field": {"type": "string"},
        "qoima_code": {"type": "string"},
        "origin": {"type": "string"},
        "details": {"type": "object"},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["field", "message"],
            "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}},
    },
    "additionalProperties": True,
}
_REF = {"$ref": "#/components/responses/Problem"}


def document_problems(spec: dict[str, Any], prefix: str) -> dict[str, Any]:
    """``spec`` with every operation under ``prefix`` answering 4XX/5XX as a Problem."""
    components = spec.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    components.setdefault("responses", {})["Problem"] = {
        "description": "An error, as problem details",
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    for path, item in spec.get("paths", {}).items():
        if not path.startswith(prefix):
            continue
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)  # FastAPI's HTTPValidationError: never sent
            responses["4XX"] = dict(_REF)
            responses["5XX"] = dict(_REF)
    schemas = components["schemas"]
    if "HTTPValidationError" not in repr(spec["paths"]):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
    return spec


def problem_openapi(app: FastAPI, prefix: str) -> Callable[[], dict[str, Any]]:
    """A replacement for ``app.openapi`` that documents problems (built once, cached)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_problems(generate(), prefix)
        return app.openapi_schema

    return openapi
