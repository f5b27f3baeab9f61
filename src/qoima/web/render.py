"""Pages as HTML: the Jinja2 environment, number formats, charts, and response headers."""

from __future__ import annotations

import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from qoima.adapters.report_charts import figure_json
from qoima.app.committee_report import compact
from qoima.report.document import Figure, figure_problems

if TYPE_CHECKING:
    from qoima.web.session import Viewer

FLASH_COOKIE = "qoima_flash"
#: Pages hold the book: never cached, never framed, scripts only from this server.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' "
    "'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'; object-src 'none'",
}


def _decimal(value: object) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def money(value: object, places: int = 2) -> str:
    """1234567.891 -> "1,234,567.89"; missing values show as an em dash."""
    number = _decimal(value)
    return "—" if number is None else f"{number:,.{places}f}"


def quantity(value: object) -> str:
    """Exact quantities keep their digits (a token amount has up to 18 places)."""
    number = _decimal(value)
    if number is None:
        return "—"
    text = f"{number:,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def short(value: object) -> str:
    number = _decimal(value)
    return "—" if number is None else compact(number)


def percent(value: object, places: int = 1) -> str:
    """A fraction (0.052) as "5.2 %"."""
    number = _decimal(value)
    return "—" if number is None else f"{number * 100:,.{places}f} %"


def when(value: object) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, date):
        return value.isoformat()
    return "—" if value is None else str(value)


def words(value: object) -> str:
    """``under_court_review`` -> "under court review"."""
    return str(value).replace("_", " ")


@dataclass(frozen=True, slots=True)
class Chart:
    """A figure ready for the page: plotly JSON, or why it is not drawn."""

    id: str
    title: str
    caption: str
    spec: str
    problems: tuple[str, ...]
    note: str = ""


def chart(figure: Figure) -> Chart:
    problems = tuple(figure_problems(figure))
    spec = "" if problems else figure_json(figure)
    return Chart(figure.id, figure.title, figure.provenance.caption(), spec, problems,
                 figure.note)


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("qoima.web", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters.update(money=money, quantity=quantity, short=short, percent=percent,
                       when=when, words=words)
    return env


NAV = (("/", "Overview", None), ("/orders", "Orders", None), ("/risk", "Risk", None),
       ("/stress", "Stress", None), ("/policies", "Policies", None),
       ("/cases", "Cases", "cases"),
       ("/managers", "Managers", None), ("/reports", "Reports", "everything"),
       ("/audit", "Audit", "everything"))


def navigation(viewer: Viewer | None, path: str) -> list[dict[str, Any]]:
    if viewer is None:
        return []
    shown = []
    for href, label, needs in NAV:
        if needs == "everything" and not viewer.reads_everything:
            continue
        if needs == "cases" and not viewer.reads_cases:
            continue
        current = path == href or (href != "/" and path.startswith(href + "/"))
        shown.append({"href": href, "label": label, "current": current})
    return shown


def flash_of(request: Request) -> tuple[str, str] | None:
    """The message a redirect left for this page: ("ok" | "error", text)."""
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    tone, _, text = unquote(raw).partition(":")
    return (tone if tone in ("ok", "error") else "ok", text[:500])


def page(request: Request, template: str, viewer: Viewer | None, *, title: str,
         status_code: int = 200, error: str | None = None,
         headers: Mapping[str, str] | None = None, **context: Any) -> HTMLResponse:
    """Render ``template`` inside the layout, with the viewer's navigation and messages."""
    flash = flash_of(request)
    body = environment().get_template(template).render(
        request=request, viewer=viewer, title=title, nav=navigation(viewer, request.url.path),
        flash=flash, error=error, new_key=lambda: secrets.token_urlsafe(18),
        error_field=getattr(request.state, "error_field", None) if error else None,
        csrf=viewer.csrf if viewer is not None else "", **context)
    response = HTMLResponse(body, status_code=status_code,
                            headers={**PAGE_HEADERS, **(headers or {})})
    if flash is not None:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response
