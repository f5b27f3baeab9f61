"""The web dashboard, served on the API's FastAPI application under ``/``.

:mod:`qoima.web.server` composes the two (``qoima serve``): the dashboard builds on the API
(sessions, jobs, problem kinds, refusal audits), never the other way round.

Server-rendered Jinja2 pages with plain HTML forms, not a built single-page front end:

* the machines are offline and the repository has no JavaScript tool chain, so there is
  nothing to build, pin or audit beyond Python packages; plotly.js comes from the installed
  ``plotly`` package, and the only script of our own is a few lines that draw the charts;
* every page calls the same application services the CLI and the REST API call (through
  the :class:`~qoima.bootstrap.wiring.Reserve`), so authorization, four eyes and the audit
  trail are decided in one place; this package only parses forms and lays out results;
* plain forms and links work with a keyboard and a screen reader without extra effort,
  keep working without JavaScript (only the charts need it), and are tested with FastAPI's
  TestClient as well as in a real browser.

Sessions are the API's (cookie ``qoima_session``); each form carries the session's CSRF
token and a fresh idempotency key, so a double submit acts once.
"""

from qoima.web.site import install

__all__ = ["install"]
