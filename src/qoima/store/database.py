"""One database: its engine, schema state and unit-of-work factory, for the wiring layer."""

from __future__ import annotations

from sqlalchemy import Engine

from qoima.store.engine import make_engine, normalize_url
from qoima.store.schema import current_revision, head_revision, upgrade
from qoima.store.uow import SqlUnitOfWorkFactory


class Database:
    def __init__(self, url: str) -> None:
        self.engine: Engine = make_engine(url)
        self.units = SqlUnitOfWorkFactory(self.engine)

    @staticmethod
    def describe(url: str) -> str:
        """The URL with any password hidden, for messages."""
        return normalize_url(url).render_as_string(hide_password=True)

    def upgrade(self) -> None:
        upgrade(self.engine)

    def revision(self) -> str | None:
        return current_revision(self.engine)

    def head(self) -> str | None:
        return head_revision(self.engine)

    def dispose(self) -> None:
        self.units.close()
        self.engine.dispose()
