"""External managers: mandates, statements, performance and scorecards, each visible to
readers of the manager's vehicle."""

from __future__ import annotations

from datetime import UTC, date, datetime

from qoima.api.access import can_read, require_everywhere, require_read
from qoima.api.deps import ReserveDep, UserDep, api_router
from qoima.api.manager_models import (
    LookThroughOut,
    PerformanceOut,
    ScorecardOut,
    StatementOut,
)
from qoima.api.models import Day
from qoima.api.pagination import Paging, page
from qoima.api.reference_models import ManagerOut, ManagerRefOut
from qoima.api.responses import FindingOut, PageOut
from qoima.api.results import plain
from qoima.app.managers import ManagerService
from qoima.bootstrap.wiring import Reserve
from qoima.domain.errors import ConfigurationError, NotFound
from qoima.domain.reference import Manager
from qoima.domain.roles import Permission, User

router = api_router("managers")


def _service(reserve: Reserve) -> ManagerService:
    found = getattr(reserve, "managers", None)
    if not isinstance(found, ManagerService):
        raise ConfigurationError("manager services are not wired into this reserve")
    return found


def _manager(reserve: Reserve, user: User, code: str) -> Manager:
    missing = f"unknown manager {code!r}"
    with reserve.units(write=False) as uow:
        manager = uow.reference.find_manager(code)
    if manager is None:
        raise NotFound(missing, field="manager")
    require_read(user, manager.vehicle_code, missing, "manager")
    return manager


def _day(given: date | None) -> date:
    return given or datetime.now(UTC).date()


@router.get("/managers", summary="Managers of the vehicles the caller may read")
def list_managers(reserve: ReserveDep, user: UserDep,
                  paging: Paging) -> PageOut[ManagerRefOut]:
    with reserve.units(write=False) as uow:
        managers = uow.reference.list_managers()
    return PageOut[ManagerRefOut].of(
        page([m for m in managers if can_read(user, m.vehicle_code)], paging))


@router.get("/managers/{code}", summary="A manager and the mandate in force")
def get_manager(code: str, reserve: ReserveDep, user: UserDep) -> ManagerOut:
    manager = _manager(reserve, user, code)
    mandates = {v.record.manager_code: v for v in _service(reserve).mandates()}
    view = mandates.get(code)
    return ManagerOut.of({"manager": manager,
                          "mandate": plain(view.mandate) if view else None,
                          "mandate_version": view.record.version if view else None})


@router.get("/managers/{code}/statements", summary="Imported statements, oldest first")
def statements(code: str, reserve: ReserveDep, user: UserDep, paging: Paging,
               until: Day | None = None) -> PageOut[StatementOut]:
    _manager(reserve, user, code)
    return PageOut[StatementOut].of(page(_service(reserve).statements(code, until), paging))


@router.get("/managers/{code}/performance", summary="TWR, IRR, multiples and PME")
def performance(code: str, reserve: ReserveDep, user: UserDep, as_of: Day | None = None,
                benchmark: str | None = None) -> PerformanceOut:
    _manager(reserve, user, code)
    return PerformanceOut.of(_service(reserve).performance(code, as_of=as_of,
                                                           benchmark=benchmark))


@router.get("/managers/{code}/scorecard", summary="Performance, fees and oversight findings")
def scorecard(code: str, reserve: ReserveDep, user: UserDep,
              as_of: Day | None = None) -> ScorecardOut:
    _manager(reserve, user, code)
    return ScorecardOut.of(_service(reserve).scorecard(code, _day(as_of)))


@router.get("/manager-comparison", response_model=list[dict[str, str | float | int | None]],
            summary="Every manager side by side (needs read access on every vehicle)")
def comparison(reserve: ReserveDep, user: UserDep,
               as_of: Day | None = None) -> list[dict[str, str | float | int | None]]:
    require_everywhere(user, Permission.READ)
    return [{k: plain(v) for k, v in row.items()}
            for row in _service(reserve).comparison(_day(as_of))]


@router.get("/manager-findings", response_model=list[FindingOut],
            summary="Every oversight finding on every manager (needs read on every vehicle)")
def oversight(reserve: ReserveDep, user: UserDep, as_of: Day | None = None) -> list[FindingOut]:
    require_everywhere(user, Permission.READ)
    return [FindingOut.of(f) for f in _service(reserve).oversight(_day(as_of))]


@router.get("/manager-look-through", response_model=LookThroughOut,
            summary="Reported exposures across managers by asset, venue and custodian "
            "(needs read on every vehicle)")
def look_through(reserve: ReserveDep, user: UserDep,
                 as_of: Day | None = None) -> LookThroughOut:
    require_everywhere(user, Permission.READ)
    result = _service(reserve).look_through(_day(as_of))
    return LookThroughOut.of({"as_of": result.as_of, "managers": result.managers,
                              "totals": result.totals, "flagged": result.flagged,
                              "findings": result.findings})
