"""People using the dashboard through FastAPI's TestClient: log in with the form, read
pages, and send forms as a browser would (every field the page rendered, plus changes)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.web.world import PASSWORD

BASE = "http://testserver"


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)


class Forms(HTMLParser):
    """The forms of a page with their fields' rendered values (selected options too)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._select: str | None = None
        self._first_option: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        elif not self.forms:
            return
        elif tag == "input" and a.get("name"):
            self.forms[-1].fields[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select:
            self._first_option.setdefault(self._select, a.get("value", ""))
            self.forms[-1].fields.setdefault(self._select, self._first_option[self._select])
            if "selected" in a:
                self.forms[-1].fields[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def forms_of(html: str) -> list[Form]:
    parser = Forms()
    parser.feed(html)
    return parser.forms


def form_on(html: str, action: str) -> Form:
    found = [f for f in forms_of(html) if f.action == action]
    assert len(found) == 1, f"{len(found)} forms post to {action}"
    return found[0]


def text_of(html: str) -> str:
    """The page's text, tags removed and white space collapsed (for assertions)."""
    body = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", body).replace("&amp;", "&").split())


class Person:
    """One logged-in user (redirects are not followed, so each answer can be checked)."""

    def __init__(self, app: FastAPI, user: str, password: str = PASSWORD) -> None:
        self.user = user
        self.client = TestClient(app, base_url=BASE, follow_redirects=False)
        login = self.client.get("/login")
        form = form_on(login.text, "/login")
        answer = self.client.post("/login", data={**form.fields, "user": user,
                                                   "password": password})
        assert answer.status_code == 303, answer.text

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, **kwargs)

    def follow(self, answer: Any) -> Any:
        assert answer.status_code == 303, (answer.status_code, answer.text[:2000])
        return self.client.get(answer.headers["location"])

    def send(self, page: str, action: str, **changes: str) -> Any:
        """Open ``page``, fill the form posting to ``action`` and send it."""
        shown = self.get(page)
        assert shown.status_code == 200, shown.text
        form = form_on(shown.text, action)
        return self.client.post(action, data={**form.fields, **changes})

    def close(self) -> None:
        self.client.close()
