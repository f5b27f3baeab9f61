"""What every rule shares: rule ids, the finding builders and exact text for figures.

Kept apart from :mod:`qoima.policy.rules` so rule modules (concentration) can use them
without importing the dispatch table.
"""

from __future__ import annotations

from decimal import Decimal

from qoima.domain.canonical import plain_decimal
from qoima.domain.enums import Severity
from qoima.domain.findings import Finding
from qoima.domain.money import MONEY_CONTEXT, format_amount, quantize
from qoima.policy.context import PolicyContext
from qoima.policy.model import Limit

NOT_EVALUATED = "not_evaluated"


def rule_id(limit: Limit) -> str:
    return f"policy.{limit.id}"


def not_evaluated_rule(limit: Limit) -> str:
    return f"policy.{limit.id}.{NOT_EVALUATED}"


def found(limit: Limit, ctx: PolicyContext, subject: str, message: str, measured: str,
          limit_text: str, severity: Severity | None = None) -> Finding:
    return Finding(rule_id(limit), severity or limit.severity, subject, message, ctx.as_of,
                   measured=measured, limit=limit_text)


def not_evaluated(limit: Limit, ctx: PolicyContext, why: str,
                  subject: str | None = None) -> Finding:
    return Finding(not_evaluated_rule(limit), Severity.WARNING, subject or ctx.vehicle_code,
                   f"{limit.id} not evaluated: {why}", ctx.as_of)


def usd(value: Decimal) -> str:
    return f"USD {format_amount(value)}"


def cents(value: Decimal) -> str:
    return plain_decimal(quantize(value, 2))


def pct(share: Decimal) -> str:
    return f"{share * 100:.2f} %"


def ratio(part: Decimal, whole: Decimal) -> Decimal:
    return MONEY_CONTEXT.divide(part, whole)


def share_text(share: Decimal) -> str:
    return plain_decimal(quantize(share, 6))


def exact_text(value: Decimal) -> str:
    return plain_decimal(value)
