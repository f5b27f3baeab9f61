"""Types shared by request and response models: dates in range, exact amounts, codes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer

FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2100, 12, 31)


def _in_range(day: date) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"{day} is outside {FIRST_DAY}..{LAST_DAY}")
    return day


def _finite(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("must be a finite number")
    return value


#: An ISO date between 1970 and 2100 (anything else is a typo, never a valuation day).
Day = Annotated[date, AfterValidator(_in_range)]
#: An exact decimal: a JSON string ("74.32") or number; written back as a string.
Amount = Annotated[Decimal, AfterValidator(_finite),
                   PlainSerializer(lambda v: format(v, "f"), return_type=str, when_used="json")]
Code = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\s].*$")]


class Strict(BaseModel):
    """Request bodies: unknown fields are an error, never silently ignored."""

    model_config = ConfigDict(extra="forbid")
