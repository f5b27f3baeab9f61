"""The audit records written since a mark: what a refused form left behind."""

from __future__ import annotations

import json
from typing import Any

from qoima.app.audit_trail import REFUSED
from qoima.audit.records import AuditRecord
from tests.web.world import WebWorld


class Trail:
    def __init__(self, world: WebWorld) -> None:
        self.world = world
        with world.reserve.units(write=False) as uow:
            last = uow.audit.last()
        self.mark = last.seq if last else 0

    def records(self) -> list[AuditRecord]:
        with self.world.reserve.units(write=False) as uow:
            return [r for r in uow.audit.iter_records() if r.seq > self.mark]

    def actions(self) -> list[str]:
        return [r.action for r in self.records()]

    def refused(self, actor: str, target: str, reason: str) -> dict[str, Any]:
        """The one record since the mark is this refusal (nothing else was written)."""
        found = [(r.actor, r.object_id, r.action, json.loads(r.payload))
                 for r in self.records()]
        assert [(a, t, action, p.get("reason")) for a, t, action, p in found] == [
            (actor, target, REFUSED, reason)], found
        return found[0][3]
