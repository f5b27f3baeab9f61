"""Results as JSON-ready data: Decimals as exact strings, dates ISO, no NaN.

The risk and allocation summaries (in :mod:`qoima.adapters`, below both entry points) are
the ones ``--json`` prints, so the API and the CLI give the same numbers under the same keys.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import fields, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, ParamSpec, TypeVar, cast

from pydantic import BaseModel

from qoima.adapters import allocation_summaries as _allocation
from qoima.adapters import risk_summaries as _risk

P = ParamSpec("P")
R = TypeVar("R")


def _plain_of(summary: Callable[P, R]) -> Callable[P, R]:
    """The CLI's ``--json`` summary, made JSON-safe (its Decimals become exact strings; the
    shape, a dict or a list, stays)."""
    @functools.wraps(summary)
    def made(*args: P.args, **kwargs: P.kwargs) -> R:
        return cast(R, plain(summary(*args, **kwargs)))
    return made


composition_summary = _plain_of(_allocation.composition_summary)
deployment_summary = _plain_of(_allocation.deployment_summary)
gate_summary = _plain_of(_allocation.gate_summary)
plan_summary = _plain_of(_allocation.plan_summary)
sizing_summary = _plain_of(_allocation.sizing_summary)
assessment_summary = _plain_of(_risk.assessment_summary)
backtest_summary = _plain_of(_risk.backtest_summary)
exposure_summary = _plain_of(_risk.exposure_summary)
stress_summary = _plain_of(_risk.stress_summary)
var_summary = _plain_of(_risk.var_summary)


_ATOMS = frozenset({str, int, bool, type(None)})
#: Field names per dataclass type, found once: ``fields()`` per object was the largest part
#: of rendering a page of orders.
_FIELDS: dict[type, tuple[str, ...]] = {}


def plain(value: Any) -> Any:
    """The JSON form of a result object (dataclasses, records, numpy values included)."""
    kind = type(value)
    if kind in _ATOMS:
        return value
    if kind is Decimal:
        return format(value, "f") if value.is_finite() else None
    if kind is dict:
        return {str(k): plain(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [plain(v) for v in value]
    names = _FIELDS.get(kind)
    if names is not None:
        return {name: plain(getattr(value, name)) for name in names}
    return _plain_other(value)


def _plain_other(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return format(value, "f") if value.is_finite() else None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if is_dataclass(value) and not isinstance(value, type):
        names = _FIELDS.setdefault(type(value), tuple(f.name for f in fields(value)))
        return {name: plain(getattr(value, name)) for name in names}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return plain(value.tolist())
    if hasattr(value, "__slots__"):
        return {name: plain(getattr(value, name)) for name in value.__slots__
                if not name.startswith("_")}
    return str(value)
