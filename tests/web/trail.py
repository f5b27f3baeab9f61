"""The audit records written since a mark, in a dashboard test's world."""

from __future__ import annotations

from tests.trail import AuditTrail
from tests.web.world import WebWorld


class Trail(AuditTrail):
    def __init__(self, world: WebWorld) -> None:
        super().__init__(world.reserve)
