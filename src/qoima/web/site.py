"""Mount the dashboard on the API's application: pages, static files, HTML error pages.

The API's exception handlers answer ``application/problem+json``; a person in a browser
gets a page instead, so every dashboard route runs inside :class:`WebRoute`, which turns a
missing session into a redirect to the login form and any refusal into an HTML page with
the same status the API would give (404 for another vehicle's object, 403, 409, 422...).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import quote

import plotly  # type: ignore[import-untyped]
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from qoima.api.problems import ApiProblem, kind_of
from qoima.domain.errors import QoimaError
from qoima.web.refusals import audit_page_refusal
from qoima.web.render import page
from qoima.web.session import LoginRequired, Viewer, current_viewer

API_PREFIX = "/api/v1"
STATIC = Path(__file__).with_name("static")
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
log = logging.getLogger("qoima.web")

TITLES = {400: "The request cannot be carried out", 401: "Not logged in",
          403: "Not allowed", 404: "Not found", 409: "Conflicts with the recorded state",
          413: "Too large", 415: "Not a form", 422: "Invalid input", 423: "Locked",
          429: "Too many attempts", 500: "Something went wrong", 503: "Unavailable"}


def status_of(error: Exception) -> int:
    if isinstance(error, QoimaError):
        return kind_of(error).status
    if isinstance(error, HTTPException):
        return error.status_code
    if isinstance(error, RequestValidationError):
        return 422
    return 500


def message_of(error: Exception) -> str:
    if isinstance(error, QoimaError):
        return error.message
    if isinstance(error, HTTPException):
        return str(error.detail)
    if isinstance(error, RequestValidationError):
        return "; ".join(f"{'.'.join(map(str, e.get('loc', ())))}: {e.get('msg', 'invalid')}"
                         for e in list(error.errors())[:5])
    return "an internal error occurred; it was logged"


def error_page(request: Request, error: Exception, message: str | None = None) -> Response:
    status = status_of(error)
    viewer = getattr(request.state, "viewer", None)
    return page(request, "error.html.j2", viewer if isinstance(viewer, Viewer) else None,
                title=TITLES.get(status, "Error"), status_code=status,
                message=message or message_of(error), status=status)


def _plain_words(request: Request, error: HTTPException) -> str | None:
    if error.status_code == 404:
        return (f"There is no page at {request.url.path}. Check the address, or start again "
                "from the overview.")
    if error.status_code == 405:
        return f"{request.url.path} cannot be opened with {request.method}."
    return None


def login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":
        target = "/"
    response = Response(status_code=303, headers={"Location": f"/login?next={quote(target)}"})
    return response


class WebRoute(APIRoute):
    """A dashboard route: HTML errors, and the login form for a missing session."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except LoginRequired:
                return login_redirect(request)
            except (QoimaError, ApiProblem, HTTPException, RequestValidationError) as error:
                await audit_page_refusal(request, error, message_of(error))
                return error_page(request, error)
            except Exception as error:
                log.exception("unhandled error on %s %s", request.method, request.url.path)
                return error_page(request, error)

        return handler


def web_router() -> APIRouter:
    return APIRouter(route_class=WebRoute, include_in_schema=False)


def _plotly_js() -> FileResponse:
    """plotly.js from the installed package: the machines are offline, no CDN."""
    return FileResponse(PLOTLY_JS, media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=86400"})


async def _viewer_if_any(request: Request) -> None:
    """Keep the session's viewer on the request when there is one (for the navigation)."""
    try:
        await run_in_threadpool(current_viewer, request)
    except LoginRequired:
        return


def html_outside_api(app: FastAPI) -> None:
    """Unknown paths and wrong methods outside ``/api/v1`` answer an HTML page; the API's
    own paths keep their problem+json (the handler the API installed)."""
    api_handler = app.exception_handlers[HTTPException]

    async def on_http(request: Request, error: Exception) -> Response:
        if request.url.path.startswith(API_PREFIX + "/") or request.url.path == API_PREFIX:
            answered = api_handler(request, error)
            return await answered if inspect.isawaitable(answered) else answered
        assert isinstance(error, HTTPException)
        await _viewer_if_any(request)
        response = error_page(request, error, _plain_words(request, error))
        if error.headers:
            response.headers.update(error.headers)
        return response

    app.add_exception_handler(HTTPException, on_http)


def install(app: FastAPI) -> None:
    """Add the dashboard to ``app`` (once): pages under ``/``, files under ``/static``."""
    if getattr(app.state, "qoima_web", False):
        return
    html_outside_api(app)
    from qoima.web import (
        case_forms,
        cases,
        login,
        orders,
        oversight,
        overview,
        policies,
        risk,
        runs,
    )

    app.add_api_route("/static/plotly.min.js", _plotly_js, methods=["GET"],
                      include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC), name="web-static")
    for module in (login, overview, orders, case_forms, cases, risk, oversight, runs,
                   policies):
        app.include_router(module.router)
    app.state.qoima_web = True
