"""The overview: NAV by vehicle in USD and KZT, allocation, the sleeve against its range,
the stability gate, open breaches and everything awaiting an approval.

Everything is limited to the vehicles the viewer may read; the reserve's totals only show
to someone who reads every vehicle.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from qoima.app.allocation import GateCheck
from qoima.bootstrap.wiring import Reserve
from qoima.domain.enums import VehicleKind
from qoima.domain.errors import QoimaError
from qoima.domain.reference import Instrument
from qoima.orders.approvals import approval_state
from qoima.orders.model import Order
from qoima.policy.model import SizeRange
from qoima.portfolio.snapshot import PortfolioSnapshot
from qoima.web import figures
from qoima.web.render import Chart, chart, page
from qoima.web.session import Viewer, ViewerDep
from qoima.web.site import web_router

router = web_router()


@dataclass(frozen=True, slots=True)
class SleeveView:
    vehicle: str
    nav_usd: Decimal
    low: Decimal | None
    high: Decimal | None
    inside: bool | None
    chart: Chart | None
    gate: GateCheck | None
    gate_problem: str


@dataclass(frozen=True, slots=True)
class Pending:
    order: Order
    missing: tuple[str, ...]


def book_day(reserve: Reserve) -> date:
    """The date every page values at: the latest with market data (else today)."""
    return reserve.valuation.default_as_of() or datetime.now(UTC).date()


def instruments_of(reserve: Reserve) -> dict[str, Instrument]:
    with reserve.units(write=False) as uow:
        return {i.code: i for i in uow.reference.list_instruments()}


def sleeve_codes(reserve: Reserve) -> list[str]:
    with reserve.units(write=False) as uow:
        return [v.code for v in uow.reference.list_vehicles()
                if v.kind is VehicleKind.DIGITAL_ASSET_SLEEVE]


def _sleeve(reserve: Reserve, code: str, snapshot: PortfolioSnapshot, day: date) -> SleeveView:
    nav = snapshot.vehicle(code).nav_usd
    policy = reserve.policies.in_force(code, day)
    ranges = [lim for lim in policy.limits if isinstance(lim, SizeRange)] if policy else []
    low = ranges[0].min_usd if ranges else None
    high = ranges[0].max_usd if ranges else None
    drawn = None
    if low is not None and high is not None:
        drawn = chart(figures.size_range(code, nav, low, high, day, snapshot.synthetic_market))
    inside = None if low is None and high is None else (
        (low is None or nav >= low) and (high is None or nav <= high))
    gate, problem = None, ""
    try:
        gate = reserve.allocation.gate(code, day)
    except QoimaError as error:
        problem = error.message
    return SleeveView(code, nav, low, high, inside, drawn, gate, problem)


def _allocation_charts(viewer: Viewer, snapshot: PortfolioSnapshot, day: date,
                       instruments: dict[str, Instrument]) -> list[Chart]:
    if viewer.reads_everything:
        return [chart(figures.allocation(snapshot, instruments, "the reserve"))]
    reserve = viewer.reserve
    return [chart(figures.allocation(reserve.valuation.snapshot(day, vehicle=v.vehicle_code),
                                     instruments, v.vehicle_code))
            for v in snapshot.vehicles if viewer.reads(v.vehicle_code) and v.positions]


def overview_context(viewer: Viewer) -> dict[str, Any]:
    reserve = viewer.reserve
    day = book_day(reserve)
    snapshot = reserve.valuation.snapshot(day)
    vehicles = [v for v in snapshot.vehicles if viewer.reads(v.vehicle_code)]
    sleeves = [_sleeve(reserve, code, snapshot, day) for code in sleeve_codes(reserve)
               if viewer.reads(code)]
    breaches = [b for b in reserve.policies.breaches(None, open_only=True)
                if viewer.reads(b.vehicle_code)]
    rules = reserve.orders.rules
    waiting = [Pending(o, approval_state(o, rules).missing) for o in reserve.orders.list(
        actor=viewer.name, status=["submitted"])]
    to_execute = reserve.orders.list(actor=viewer.name,
                                     status=["approved", "partially_executed"])
    proposals = [v for v in reserve.policies.versions(None)
                 if v.status == "proposed" and viewer.reads(v.vehicle_code)]
    latest = reserve.runs.list(1) if viewer.reads_everything else []
    charts = _allocation_charts(viewer, snapshot, day, instruments_of(reserve))
    return {"day": day, "snapshot": snapshot, "vehicles": vehicles,
            "everything": viewer.reads_everything, "charts": charts,
            "sleeves": sleeves, "breaches": breaches, "waiting": waiting,
            "to_execute": to_execute, "proposals": proposals,
            "latest_run": latest[0] if latest else None,
            "uses_charts": bool(charts) or any(s.chart for s in sleeves)}


@router.get("/")
def overview(request: Request, viewer: ViewerDep) -> HTMLResponse:
    return page(request, "overview.html.j2", viewer, title="Overview",
                **overview_context(viewer))
