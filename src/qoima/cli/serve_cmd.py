"""``qoima serve``: the REST API and the web dashboard over HTTP with uvicorn."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from qoima.cli.context import state


def serve(ctx: typer.Context,
          host: Annotated[str, typer.Option("--host", help="Address to listen on.")]
          = "127.0.0.1",
          port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
          workers: Annotated[int, typer.Option(
              "--workers", min=1, help="Processes. Background jobs and rate limits live in "
              "one process: keep 1 unless a proxy pins each client to one worker.")] = 1,
          reload: Annotated[bool, typer.Option(
              "--reload", help="Restart on code changes (development).")] = False) -> None:
    """Serve the API under /api/v1 and the dashboard under / on the workspace
    (QOIMA_DATABASE_URL: PostgreSQL).

    Production: set QOIMA_MODE=production, QOIMA_SECRET_KEY and serve behind HTTPS
    (cookies are Secure); QOIMA_COOKIE_SECURE=false only for local plain HTTP.
    """
    import uvicorn

    cli = state(ctx)
    if cli.workspace is not None:  # the app factory reads the workspace from the environment
        os.environ["QOIMA_HOME"] = str(cli.workspace.resolve())
    cli.reserve()  # fail fast with the CLI's one-line error when the workspace is missing
    cli.close()
    uvicorn.run("qoima.web.server:app_from_env", factory=True, host=host, port=port,
                workers=workers, reload=reload, proxy_headers=True, server_header=False)
