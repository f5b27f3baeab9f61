"""Policy versions (source text, hash, approval state) and the breach register. Never commits."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, func, insert, or_, select, update

from qoima.app.governance_ports import BreachRecord, PolicyVersionRecord, PolicyVersionStatus
from qoima.domain.errors import Conflict, InvalidInput, NotFound
from qoima.store import governance_tables as g

_V, _B = g.policy_versions, g.policy_breaches
_STATE_FIELDS = ("status", "approved_by", "approved_at", "vetoed_by", "vetoed_at",
                 "takes_effect_at", "reason", "effective_from")
_IN_FORCE = (PolicyVersionStatus.ACTIVE.value, PolicyVersionStatus.SUPERSEDED.value)
_STATUSES = frozenset(status.value for status in PolicyVersionStatus)


class SqlPolicyRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    # -- versions ---------------------------------------------------------------------
    def add_version(self, record: PolicyVersionRecord) -> None:
        if self.find_version(record.vehicle_code, record.version) is not None:
            raise Conflict(f"policy of {record.vehicle_code!r} already has version "
                           f"{record.version}", vehicle=record.vehicle_code,
                           version=record.version)
        values = {name: getattr(record, name) for name in PolicyVersionRecord.__slots__}
        self._c.execute(insert(_V).values({**values, "status": _status(record.status)}))

    def update_version(self, record: PolicyVersionRecord) -> None:
        status = _status(record.status)
        stored = self.find_version(record.vehicle_code, record.version)
        if stored is None:
            raise NotFound(f"no version {record.version} of the policy of "
                           f"{record.vehicle_code!r}", vehicle=record.vehicle_code,
                           version=record.version)
        if stored.content_hash != record.content_hash:
            raise Conflict(f"version {record.version} of the policy of {record.vehicle_code!r}"
                           " has other content: a changed policy is a new version",
                           vehicle=record.vehicle_code, version=record.version)
        self._c.execute(update(_V).where(_V.c.vehicle_code == record.vehicle_code,
                                         _V.c.version == record.version)
                        .values({**{name: getattr(record, name) for name in _STATE_FIELDS},
                                 "status": status}))

    def find_version(self, vehicle_code: str, version: int) -> PolicyVersionRecord | None:
        row = self._c.execute(select(_V).where(_V.c.vehicle_code == vehicle_code,
                                               _V.c.version == version)).first()
        return None if row is None else _version(row)

    def latest_version(self, vehicle_code: str) -> PolicyVersionRecord | None:
        row = self._c.execute(select(_V).where(_V.c.vehicle_code == vehicle_code)
                              .order_by(_V.c.version.desc()).limit(1)).first()
        return None if row is None else _version(row)

    def list_versions(self, vehicle_code: str | None = None,
                      status: str | None = None) -> list[PolicyVersionRecord]:
        query = select(_V).order_by(_V.c.vehicle_code, _V.c.version)
        if vehicle_code is not None:
            query = query.where(_V.c.vehicle_code == vehicle_code)
        if status is not None:
            query = query.where(_V.c.status == str(status))
        return [_version(row) for row in self._c.execute(query)]

    def find_active(self, vehicle_code: str) -> PolicyVersionRecord | None:
        row = self._c.execute(
            select(_V).where(_V.c.vehicle_code == vehicle_code,
                             _V.c.status == PolicyVersionStatus.ACTIVE.value)
            .order_by(_V.c.version.desc()).limit(1)).first()
        return None if row is None else _version(row)

    def list_active(self) -> list[PolicyVersionRecord]:
        active = _V.c.status == PolicyVersionStatus.ACTIVE.value
        latest = (select(_V.c.vehicle_code, func.max(_V.c.version).label("version"))
                  .where(active).group_by(_V.c.vehicle_code).subquery())
        query = (select(_V).join(latest, (latest.c.vehicle_code == _V.c.vehicle_code)
                                 & (latest.c.version == _V.c.version))
                 .order_by(_V.c.vehicle_code))
        return [_version(row) for row in self._c.execute(query)]

    def in_force(self, vehicle_code: str, on: date) -> PolicyVersionRecord | None:
        row = self._c.execute(
            select(_V).where(_V.c.vehicle_code == vehicle_code, _V.c.status.in_(_IN_FORCE),
                             _V.c.effective_from <= on)
            .order_by(_V.c.version.desc()).limit(1)).first()
        return None if row is None else _version(row)

    # -- breaches ---------------------------------------------------------------------
    def add_breach(self, record: BreachRecord) -> int:
        if record.closed_on is not None and record.closed_on < record.opened_on:
            raise InvalidInput(f"breach {record.rule} on {record.subject} closes before it "
                               "opens", rule=record.rule)
        already = self._c.execute(select(_B.c.id).where(
            _B.c.vehicle_code == record.vehicle_code, _B.c.rule == record.rule,
            _B.c.subject == record.subject, _B.c.closed_on.is_(None))).first()
        if already is not None and record.closed_on is None:
            raise Conflict(f"breach {record.rule} on {record.subject} of "
                           f"{record.vehicle_code!r} is already open (id {already.id})",
                           breach_id=already.id)
        values = {name: getattr(record, name) for name in BreachRecord.__slots__
                  if name != "breach_id"}
        new_id = self._c.execute(insert(_B).values(values).returning(_B.c.id)).scalar_one()
        return int(new_id)

    def close_breach(self, breach_id: int, closed_on: date) -> None:
        row = self._c.execute(select(_B).where(_B.c.id == breach_id)).first()
        if row is None:
            raise NotFound(f"no breach {breach_id}", breach_id=breach_id)
        if row.closed_on is not None:
            raise Conflict(f"breach {breach_id} was closed on {row.closed_on.isoformat()}",
                           breach_id=breach_id)
        if closed_on < row.opened_on:
            raise InvalidInput(f"breach {breach_id} opened on {row.opened_on.isoformat()}, "
                               f"cannot close on {closed_on.isoformat()}", breach_id=breach_id)
        self._c.execute(update(_B).where(_B.c.id == breach_id).values(closed_on=closed_on))

    def list_open_breaches(self, vehicle_code: str | None = None) -> list[BreachRecord]:
        query = select(_B).where(_B.c.closed_on.is_(None))
        if vehicle_code is not None:
            query = query.where(_B.c.vehicle_code == vehicle_code)
        return self._breaches(query)

    def list_breaches(self, vehicle_code: str | None = None,
                      since: date | None = None) -> list[BreachRecord]:
        query = select(_B)
        if vehicle_code is not None:
            query = query.where(_B.c.vehicle_code == vehicle_code)
        if since is not None:
            query = query.where(or_(_B.c.closed_on.is_(None), _B.c.closed_on >= since))
        return self._breaches(query)

    def _breaches(self, query: Any) -> list[BreachRecord]:
        rows = self._c.execute(query.order_by(_B.c.vehicle_code, _B.c.opened_on, _B.c.id))
        return [_breach(row) for row in rows]


def _status(status: str) -> str:
    text = str(status)  # a PolicyVersionStatus member, or its value
    if text not in _STATUSES:
        raise InvalidInput(f"unknown policy status {text!r}: one of {sorted(_STATUSES)}",
                           field="status")
    return text


def _version(row: Any) -> PolicyVersionRecord:
    m = row._mapping
    return PolicyVersionRecord(**{name: m[name] for name in PolicyVersionRecord.__slots__})


def _breach(row: Any) -> BreachRecord:
    m = row._mapping
    return BreachRecord(breach_id=int(m["id"]), **{
        name: m[name] for name in BreachRecord.__slots__ if name != "breach_id"})
