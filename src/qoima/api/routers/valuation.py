"""Holdings and NAV as of a date, limited to the vehicles the caller may read."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from fastapi import Request, Response

from qoima.api.access import can_read, require_read
from qoima.api.deps import ReserveDep, UserDep, api_router
from qoima.api.models import Day
from qoima.api.order_models import HoldingsOut, NavOut
from qoima.api.pagination import PageRequest, Paging, page
from qoima.api.read_cache import CONDITIONAL, cached_read
from qoima.api.results import plain
from qoima.app.ports import VALUATION_DATA
from qoima.bootstrap.wiring import Reserve
from qoima.domain.roles import User
from qoima.portfolio.snapshot import PortfolioSnapshot

router = api_router("valuation")


def _as_of(reserve: Reserve, given: date | None, today: date) -> date:
    """Without ``as_of``: the last market day, or ``today`` when there is no market data."""
    return given or reserve.valuation.default_as_of() or today


async def _kept(request: Request, reserve: Reserve, given: date | None, model: Any,
                render: Callable[[date], dict[str, Any]]) -> Response:
    """``render(day)`` for the day asked (or the default), kept while the valuation's
    inputs and the caller's access are unchanged; under today's date too when the day is
    the default, since with no market data the default is today."""
    today = datetime.now(UTC).date()
    return await cached_read(request, (VALUATION_DATA,),
                             lambda: render(_as_of(reserve, given, today)), model,
                             () if given is not None else (today,))


def _snapshot(reserve: Reserve, user: User, day: date, vehicle: str | None
              ) -> PortfolioSnapshot:
    if vehicle is not None:
        require_read(user, vehicle, f"unknown vehicle {vehicle!r}", "vehicle")
    return reserve.valuation.snapshot(day, vehicle=vehicle)


@router.get("/nav", summary="NAV per vehicle (and the institution's, for readers of all)",
            response_model=NavOut, responses=CONDITIONAL)
async def nav(request: Request, reserve: ReserveDep, user: UserDep, as_of: Day | None = None,
              vehicle: str | None = None) -> Response:
    return await _kept(request, reserve, as_of, NavOut,
                       lambda day: _nav(reserve, user, day, vehicle))


def _nav(reserve: Reserve, user: User, day: date, vehicle: str | None) -> dict[str, Any]:
    snapshot = _snapshot(reserve, user, day, vehicle)
    everything = can_read(user, None)
    return {"as_of": plain(snapshot.as_of_date),
            "vehicles": [plain(v) for v in snapshot.vehicles if can_read(user, v.vehicle_code)],
            "total_usd": plain(snapshot.total_usd) if everything or vehicle else None,
            "total_kzt": plain(snapshot.total_kzt) if everything or vehicle else None,
            "usd_kzt": plain(snapshot.usd_kzt), "complete": snapshot.complete,
            "synthetic_market": snapshot.synthetic_market,
            "findings": [plain(f) for f in snapshot.findings]}


@router.get("/holdings", summary="Positions: quantity, price, value USD/KZT, cost, P&L",
            response_model=HoldingsOut, responses=CONDITIONAL)
async def holdings(request: Request, reserve: ReserveDep, user: UserDep, paging: Paging,
                   as_of: Day | None = None, vehicle: str | None = None) -> Response:
    return await _kept(request, reserve, as_of, HoldingsOut,
                       lambda day: _holdings(reserve, user, paging, day, vehicle))


def _holdings(reserve: Reserve, user: User, paging: PageRequest, day: date,
              vehicle: str | None) -> dict[str, Any]:
    snapshot = _snapshot(reserve, user, day, vehicle)
    visible = [p for p in snapshot.positions if can_read(user, p.vehicle_code)]
    pending = [p for p in snapshot.pending_positions if can_read(user, p.vehicle_code)]
    return {**page(visible, paging), "as_of": plain(snapshot.as_of_date),
            "pending": [plain(p) for p in pending],
            "synthetic_market": snapshot.synthetic_market}
