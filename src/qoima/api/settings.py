"""Settings of the HTTP server, from ``QOIMA_*`` environment variables."""

from __future__ import annotations

from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

MIB = 1024 * 1024


class ApiSettings(BaseSettings):
    """What the API needs beyond the workspace (:class:`qoima.bootstrap.settings.Settings`).

    ``mode="production"`` refuses to start with a missing secret key or cookies that
    browsers would send over plain HTTP (see ``qoima.app.auth.check_production_settings``).
    """

    model_config = SettingsConfigDict(env_prefix="QOIMA_", extra="ignore")

    mode: Literal["development", "production"] = "development"
    secret_key: str | None = None
    cookie_secure: bool = True
    session_cookie: str = "qoima_session"
    #: Largest request body accepted; bigger ones get 413 before they are read.
    max_body_bytes: int = MIB
    #: Login attempts per client address and user name in ``rate_window_s`` seconds.
    login_attempts: int = 5
    #: Token issue/revoke calls per client address and user in ``rate_window_s`` seconds.
    token_attempts: int = 10
    rate_window_s: float = 60.0
    #: Refused requests audited per client address and actor in ``rate_window_s`` seconds
    #: (past it they are only logged, so a flood cannot flood the audit trail).
    refusal_audits: int = 300
    #: Threads running the requests' database work at once, per worker process (anyio's
    #: default is 40): past a few, threads only queue for Python's GIL, and a thread
    #: holding the database's write lock waits behind them all.
    request_threads: int = 4
    #: Threads running writes (POST, PUT, PATCH, DELETE), per worker process, apart from
    #: the others: writers queue for the database's one write lock, and a write waiting
    #: there must not hold a thread a read could use.
    write_threads: int = 8
    #: Threads running background jobs (daily runs, Monte Carlo reports, backtests).
    job_workers: int = 2
    #: Finished jobs kept in memory (the oldest finished ones are forgotten first).
    jobs_kept: int = 200
    default_page_size: int = 50
    max_page_size: int = 500
