"""What every command shares: the workspace, who is acting, and the opened reserve."""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field
from pathlib import Path

import typer

from qoima.bootstrap.settings import Settings
from qoima.bootstrap.wiring import Reserve, open_reserve


@dataclass
class CliState:
    workspace: Path | None = None
    actor_name: str | None = None
    settings: Settings = field(default_factory=Settings)
    _reserve: Reserve | None = None

    def reserve(self, *, create: bool = False) -> Reserve:
        if self._reserve is None:
            self._reserve = open_reserve(workspace=self.workspace, create=create,
                                         settings=self.settings)
        return self._reserve

    @property
    def actor(self) -> str:
        return self.actor_name or self.settings.actor or getpass.getuser()

    def close(self) -> None:
        if self._reserve is not None:
            self._reserve.close()
            self._reserve = None


def state(ctx: typer.Context) -> CliState:
    obj = ctx.find_root().obj
    assert isinstance(obj, CliState)
    return obj
