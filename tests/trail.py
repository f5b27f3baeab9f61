"""The audit records written since a mark: what a refused request or form left behind.

Shared by the API and dashboard tests (their worlds differ; both hold a reserve).
"""

from __future__ import annotations

import json
from typing import Any

from qoima.app.audit_trail import REFUSED
from qoima.audit.records import AuditRecord
from qoima.bootstrap.wiring import Reserve


class AuditTrail:
    def __init__(self, reserve: Reserve) -> None:
        self.reserve = reserve
        with reserve.units(write=False) as uow:
            last = uow.audit.last()
        self.mark = last.seq if last else 0

    def records(self) -> list[AuditRecord]:
        with self.reserve.units(write=False) as uow:
            return [r for r in uow.audit.iter_records() if r.seq > self.mark]

    def actions(self) -> list[str]:
        return [r.action for r in self.records()]

    def refusals(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(actor, target, payload) of each refusal since the mark."""
        return [(r.actor, r.object_id, json.loads(r.payload)) for r in self.records()
                if r.action == REFUSED]

    def only_refusals(self) -> list[tuple[str, str, dict[str, Any]]]:
        """The refusals, asserting that nothing else was written (nothing changed)."""
        others = [r.action for r in self.records() if r.action != REFUSED]
        assert others == [], f"a refused request changed something: {others}"
        return self.refusals()

    def refused(self, actor: str, target: str, reason: str) -> dict[str, Any]:
        """The one record since the mark is this refusal; its payload."""
        found = self.only_refusals()
        assert [(a, t, p.get("reason")) for a, t, p in found] == [
            (actor, target, reason)], found
        return found[0][2]
