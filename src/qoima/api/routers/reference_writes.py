"""Reference data writes the CLI has (``qoima reference load``, ``account open``/``list``):
a reference YAML file registered atomically (re-loading is a no-op), an account opened.
The book service checks ``reference.write`` (on the account's vehicle)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from qoima.adapters.reference_files import read_reference
from qoima.api.access import can_read
from qoima.api.deps import ReserveDep, UserDep, api_router
from qoima.api.models import Strict
from qoima.api.pagination import Paging, page
from qoima.api.responses import Out, PageOut
from qoima.api.uploads import YAML, FileIn, parse_file, upload_post
from qoima.domain.reference import Account

router = api_router("reference")


class AccountIn(Strict):
    code: Annotated[str, Field(min_length=3, max_length=300,
                               description="KIND:[VEHICLE[/TRANCHE]:]INSTRUMENT[@CUSTODIAN]"
                               "[#LABEL], e.g. holding:da-sleeve/main:IBIT@bny")]


class AccountOut(Out):
    code: str
    kind: str
    instrument: str
    vehicle: str | None
    tranche: str | None
    custodian: str | None


class OpenedOut(Out):
    code: str
    opened: bool  # false: it was open already


class RegisteredOut(Out):
    created: int
    unchanged: int


@upload_post(router, "/reference/files", YAML, status_code=201, response_model=RegisteredOut,
             summary="Register custodians, managers, vehicles, instruments and accounts "
             "from a reference YAML file, all or nothing")
def load(body: FileIn, reserve: ReserveDep, user: UserDep) -> RegisteredOut:
    data = parse_file(body, (".yaml", ".yml"), read_reference)
    result = reserve.book.register(data, actor=user.name)
    return RegisteredOut(created=result.created, unchanged=result.unchanged)


@router.get("/accounts", response_model=PageOut[AccountOut],
            summary="Open accounts of the vehicles the caller may read")
def list_accounts(reserve: ReserveDep, user: UserDep, paging: Paging) -> PageOut[AccountOut]:
    with reserve.units(write=False) as uow:
        accounts = uow.reference.list_accounts()
    return PageOut[AccountOut].of(page(
        [a for a in accounts if can_read(user, a.account.vehicle_code)], paging,
        lambda a: {"code": a.code, "kind": a.account.kind, "instrument": a.instrument.code,
                   "vehicle": a.account.vehicle_code, "tranche": a.account.tranche_code,
                   "custodian": a.account.custodian_code}))


@router.post("/accounts", status_code=201, response_model=OpenedOut,
             summary="Open an account (opening an open one changes nothing)")
def open_account(body: AccountIn, reserve: ReserveDep, user: UserDep) -> OpenedOut:
    account = Account.parse(body.code)
    opened = reserve.book.open_account(account, actor=user.name)
    return OpenedOut(code=account.code, opened=opened)
