"""Settings from ``QOIMA_*`` environment variables, validated by pydantic-settings."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

DB_FILE = "qoima.db"


class Settings(BaseSettings):
    """Where the workspace lives and which database backs it.

    ``QOIMA_DATABASE_URL`` (PostgreSQL for production) wins over the workspace's SQLite
    file; ``QOIMA_HOME`` names the workspace directory (default: the current one).
    """

    model_config = SettingsConfigDict(env_prefix="QOIMA_", extra="ignore")

    home: Path = Path()
    database_url: str | None = None
    actor: str | None = None
    coingecko_api_key: str | None = None  # a CoinGecko demo key; without it, the public API
    #: Where Monte Carlo, stress grids and backtests run: "numpy" (in-process) or "dask".
    engine: str = "numpy"
    #: Where daily runs write their folders (default: ``runs/`` in the workspace).
    runs_dir: Path | None = None
    #: Chromium/Chrome for the PDF reports; unset: looked up on PATH; "none": never used
    #: (PDFs are then drawn with reportlab and matplotlib).
    browser: str | None = None
    dask_scheduler: str | None = None  # tcp://host:8786; without it a LocalCluster is started

    def resolved_url(self, workspace: Path | None = None) -> str:
        if self.database_url:
            return self.database_url
        directory = (workspace or self.home).resolve()
        return f"sqlite+pysqlite:///{directory / DB_FILE}"
