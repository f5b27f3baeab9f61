"""Daily runs, on the metadata of :mod:`qoima.store.tables`."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, String, Table, Text

from qoima.store.tables import metadata
from qoima.store.types import IsoDate, UtcDateTime

RUN_STATUSES = ("ok", "degraded")

daily_runs = Table(
    "daily_runs", metadata,
    Column("run_id", String(64), primary_key=True),
    Column("as_of_date", IsoDate, nullable=False),
    Column("status", String(16), nullable=False),
    Column("inputs_hash", String(64), nullable=False),
    Column("inputs_json", Text, nullable=False),
    Column("settings_json", Text, nullable=False),
    Column("versions_json", Text, nullable=False),
    Column("seed", Integer, nullable=False),
    Column("numbers_hash", String(64), nullable=False),
    Column("summary_json", Text, nullable=False),
    Column("folder", Text, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=False),
    Column("run_by", String(128), nullable=False),
    Column("replay_of", String(64), ForeignKey("daily_runs.run_id")),
    CheckConstraint(f"status IN ({', '.join(repr(s) for s in RUN_STATUSES)})", name="status"),
)
Index("ix_daily_runs_as_of", daily_runs.c.as_of_date, daily_runs.c.started_at)
