"""Response models of policies, breaches, policy checks, the caller and API tokens."""

from __future__ import annotations

from qoima.api.case_models import LinksOut
from qoima.api.responses import FindingOut, Out


class PolicyVersionOut(Out):
    vehicle_code: str
    version: int
    content_hash: str
    source_text: str
    format: str
    status: str
    proposed_by: str
    proposed_at: str
    effective_from: str
    approved_by: str | None
    approved_at: str | None
    vetoed_by: str | None
    vetoed_at: str | None
    takes_effect_at: str | None
    reason: str | None
    links: LinksOut


class BreachRecordOut(Out):
    vehicle_code: str
    rule: str
    subject: str
    severity: str
    opened_on: str
    message: str
    policy_hash: str
    measured: str | None
    limit_text: str | None
    closed_on: str | None
    breach_id: int | None


class BreachOut(Out):
    vehicle_code: str
    rule: str
    subject: str
    opened_on: str
    closed_on: str | None
    severity: str
    measured: str | None
    limit: str | None
    message: str


class PolicyCheckOut(Out):
    vehicle: str
    version: int
    policy_hash: str
    as_of: str
    blocking: bool
    actions: list[str]
    findings: list[FindingOut]
    opened: list[BreachOut]
    closed: list[BreachOut]
    still_open: list[BreachOut]


class GrantOut(Out):
    role: str
    vehicle_code: str | None


class MeOut(Out):
    user: str
    display_name: str
    via: str
    scopes: list[str] | None
    csrf_token: str | None
    grants: list[GrantOut]


class LoginOut(Out):
    user: str
    csrf_token: str
    expires_at: str


class IssuedTokenOut(Out):
    token_id: str
    secret: str
    expires_at: str
    scopes: list[str]


class TokenOut(Out):
    token_id: str
    user: str
    name: str
    scopes: list[str]
    created_at: str
    created_by: str
    expires_at: str
    revoked_at: str | None
    revoked_by: str | None


class SeriesIdOut(Out):
    kind: str
    code: str


class SeriesInfoOut(Out):
    id: SeriesIdOut
    source: str
    calendar: str
    currency: str | None
    first_date: str
    last_date: str
    bars: int
    content_hash: str
    warnings: list[FindingOut]
    updated_at: str


class BarOut(Out):
    day: str
    close: str
    open: str | None
    high: str | None
    low: str | None
    volume: str | None


class SeriesPageOut(Out):
    items: list[BarOut]
    total: int | None
    limit: int
    offset: int
    next: str | None
    previous: str | None
    series: str
    source: str
    calendar: str
    currency: str | None
    synthetic: bool
    warnings: list[FindingOut]


class SeriesCheckOut(Out):
    series: str
    as_of: str | None
    lag_sessions: int | None
    worst: str | None
    findings: list[FindingOut]


class QuotesOut(Out):
    prices_read: int
    prices_changed: int
    fx_read: int
    fx_changed: int
