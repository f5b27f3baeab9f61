"""Opening a seized-asset case and recording a custody event, as forms.

The case form holds what the CLI's case file holds (``qoima case open case.yaml``): the
case, its intake document and each seized asset (addresses and transaction ids one per
line). Each field is read here so that an error names the field on the form; the custody
service checks everything again and writes all or nothing. Both need ``case.write`` on the
seized-asset pool (the enforcement liaison); a custody event may also be recorded by
operations (``entry.post``), as the service allows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from qoima.app.custody import AssetIntake
from qoima.custody.addresses import validate_address, validate_txid
from qoima.custody.cases import Case, HoldingPlace, SeizedAsset
from qoima.custody.chain_of_custody import CustodyEvent, CustodyEventKind
from qoima.custody.legal import Document, DocumentKind
from qoima.domain.errors import InvalidInput, QoimaError
from qoima.domain.roles import Permission
from qoima.web.cases import case_page, pool_of, visible_case
from qoima.web.forms import act_or_show, amount, day, enum_options, member, optional_amount
from qoima.web.render import page
from qoima.web.session import Posted, PostedDep, Viewer, ViewerDep
from qoima.web.site import web_router

router = web_router()
MAX_ASSETS = 20
#: A check's field name -> the asset form's field (``a1_`` + this).
ASSET_FIELDS = {"instrument_code": "instrument", "address": "addresses", "txid": "tx_ids",
                "tx_id": "tx_ids"}
NETWORKS = (("mainnet", "mainnet"), ("testnet", "testnet"), ("signet", "signet"),
            ("regtest", "regtest"))


def _lines(form: Posted, name: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in form.get(name).splitlines() if line.strip())


def _asset_count(fields: dict[str, str]) -> int:
    try:
        count = int(fields.get("assets", "1"))
    except ValueError:
        count = 1
    return min(max(count, 1), MAX_ASSETS)


def new_case_page(request: Request, viewer: Viewer, *, error: str | None = None,
                  status_code: int = 200, values: dict[str, str] | None = None) -> HTMLResponse:
    pool = pool_of(viewer, "no seized-asset pool you may read")
    values = values or {}
    return page(request, "case_new.html.j2", viewer, title="Open a case", error=error,
                status_code=status_code, values=values, pool=pool,
                may_write=viewer.can(Permission.CASE_WRITE, pool),
                assets=range(1, _asset_count(values) + 1), holdings=enum_options(HoldingPlace),
                document_kinds=enum_options(DocumentKind), networks=NETWORKS)


def _intake(form: Posted, case_id: str, n: int) -> AssetIntake:
    """Asset ``n`` of the form; errors name its field (``a2_quantity``)."""
    p = f"a{n}_"
    network = form.get(p + "network") or "mainnet"
    try:
        asset = SeizedAsset(
            form.need(p + "asset_id", f"Asset {n} id"), case_id,
            form.need(p + "chain", f"Asset {n} chain"),
            form.need(p + "instrument", f"Asset {n} instrument").upper(),
            amount(form, p + "quantity", f"Asset {n} quantity"), _lines(form, p + "addresses"),
            _lines(form, p + "tx_ids"), member(form, HoldingPlace, p + "holding", "Holding"),
            form.need(p + "holder", f"Asset {n} holder"),
            day(form, p + "seized_on", f"Asset {n} seized on"))
        if not asset.addresses:
            raise InvalidInput(f"asset {n} needs at least one address", field="addresses")
        for address in asset.addresses:
            validate_address(asset.chain, address, network)
        for tx_id in asset.tx_ids:
            validate_txid(asset.chain, tx_id)
    except InvalidInput as error:
        named = error.field or ""
        field = named if named.startswith(p) else p + ASSET_FIELDS.get(named, named)
        raise InvalidInput(error.message if error.message.lower().startswith("asset") else
                           f"asset {n}: {error.message}", field=field) from None
    return AssetIntake(asset, network)


def read_new_case(form: Posted) -> tuple[Case, list[AssetIntake], list[Document]]:
    """What ``qoima case open`` reads from a case file, from the form's fields."""
    case = Case(form.need("case_id", "Case id"), form.need("agency", "Agency"),
                form.need("case_number", "Case number"), form.need("court", "Court"),
                form.get("description"), day(form, "opened_on", "Opened on"))
    document = Document(member(form, DocumentKind, "document_kind", "Document"),
                        form.need("reference", "Document reference"),
                        day(form, "dated", "Document date"),
                        form.get("issued_by") or case.court)
    assets = [_intake(form, case.case_id, n)
              for n in range(1, _asset_count(form.fields) + 1)]
    return case, assets, [document]


@router.get("/cases/new")
def open_case_form(request: Request, viewer: ViewerDep) -> HTMLResponse:
    return new_case_page(request, viewer)


@router.post("/cases")
async def open_case(request: Request, form: PostedDep) -> Response:
    viewer = form.viewer
    await run_in_threadpool(pool_of, viewer, "no seized-asset pool you may read")
    if form.get("more_assets"):  # "Add another asset": the form again, one asset longer
        more = {**form.fields, "assets": str(_asset_count(form.fields) + 1)}
        return await run_in_threadpool(new_case_page, request, viewer, values=more)

    def action() -> tuple[str, str]:
        case, assets, documents = read_new_case(form)
        view = viewer.reserve.custody.open_case(case, assets, documents, actor=viewer.name)
        held = ", ".join(f"{a.quantity:f} {a.instrument_code}" for a in view.assets)
        return f"/cases/{case.case_id}", (
            f"Case {case.case_id} opened as seized with {held}; the intake entries are "
            "pending in the seized-asset pool until a court forfeits the assets.")

    return await act_or_show(request, form, action, lambda message, status: new_case_page(
        request, viewer, error=message, status_code=status, values=form.fields))


def _moment(form: Posted, name: str, label: str) -> datetime:
    """An ISO time; without a zone it is read as UTC (the form says so)."""
    text = form.need(name, label)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{label}: {text!r} is not a date and time (YYYY-MM-DDTHH:MM)",
                           field=name) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def read_event(form: Posted, case_id: str, actor: str) -> CustodyEvent:
    quantity = optional_amount(form, "quantity", "Quantity")
    fee = optional_amount(form, "fee", "Fee")
    try:
        return CustodyEvent(form.need("event_id", "Event id"), case_id,
                            member(form, CustodyEventKind, "kind", "Event"),
                            _moment(form, "at", "When"), actor, form.get("from_holder"),
                            form.get("to_holder"), form.get("from_address"),
                            form.get("to_address"), form.get("tx"), quantity,
                            form.get("instrument").upper(), form.get("note"),
                            fee if fee is None else Decimal(fee), form.get("chain"))
    except QoimaError as error:
        if error.field == "tx_id":
            error.field = "tx"
        raise


@router.post("/cases/{case_id}/custody-events")
async def custody_event(case_id: str, request: Request, form: PostedDep) -> Response:
    viewer = form.viewer
    await run_in_threadpool(visible_case, viewer, case_id)

    def action() -> tuple[str, str]:
        event = read_event(form, case_id, viewer.name)
        record = viewer.reserve.custody.record_event(
            event, actor=viewer.name, network=form.get("network") or "mainnet")
        return f"/cases/{case_id}", (f"Custody event {record.event_id} "
                                     f"({record.kind.replace('_', ' ')}) recorded for case "
                                     f"{case_id}.")

    return await act_or_show(request, form, action, lambda message, status: case_page(
        request, viewer, case_id, error=message, status_code=status, values=form.fields))
