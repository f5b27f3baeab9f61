"""Vehicles (only those the caller may read), instruments and custodians."""

from __future__ import annotations

from qoima.api.access import can_read, require_read
from qoima.api.deps import ReserveDep, UserDep, api_router
from qoima.api.pagination import Paging, page
from qoima.api.reference_models import CustodianOut, InstrumentOut, VehicleOut
from qoima.api.responses import PageOut
from qoima.domain.errors import NotFound

router = api_router("reference")


@router.get("/vehicles", summary="Vehicles the caller may read, with their tranches")
def list_vehicles(reserve: ReserveDep, user: UserDep, paging: Paging) -> PageOut[VehicleOut]:
    with reserve.units(write=False) as uow:
        vehicles = uow.reference.list_vehicles()
    return PageOut[VehicleOut].of(page([v for v in vehicles if can_read(user, v.code)], paging))


@router.get("/vehicles/{code}")
def get_vehicle(code: str, reserve: ReserveDep, user: UserDep) -> VehicleOut:
    missing = f"unknown vehicle {code!r}"
    require_read(user, code, missing, "vehicle")
    with reserve.units(write=False) as uow:
        vehicle = uow.reference.find_vehicle(code)
    if vehicle is None:
        raise NotFound(missing, field="vehicle")
    return VehicleOut.of(vehicle)


@router.get("/instruments", summary="Every registered instrument")
def list_instruments(reserve: ReserveDep, user: UserDep,
                     paging: Paging) -> PageOut[InstrumentOut]:
    with reserve.units(write=False) as uow:
        return PageOut[InstrumentOut].of(page(uow.reference.list_instruments(), paging))


@router.get("/custodians")
def list_custodians(reserve: ReserveDep, user: UserDep,
                    paging: Paging) -> PageOut[CustodianOut]:
    with reserve.units(write=False) as uow:
        return PageOut[CustodianOut].of(page(uow.reference.list_custodians(), paging))
