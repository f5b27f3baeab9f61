"""External managers: mandates, statement imports, performance, oversight and look-through.

Who may do what (:mod:`qoima.domain.roles`): a mandate is a contract the investment
committee signs off, so adding or replacing one needs ``policy.approve`` (a committee
member) or ``reference.write`` (an administrator registering what was signed) on the
mandate's vehicle. Importing a statement books cash flows, so it needs ``entry.post``
(operations) on that vehicle. Reads need no grant beyond being a known user, as for the
rest of the book. Every write is audited in the same unit as the change.

A statement import is one unit of work: validation against the mandate and the previous
statement, the ledger entries for its flows (:mod:`qoima.app.manager_ledger`), the NAV per
unit it implies, the statement with its lines, its findings and the audit record, all or
nothing. It is idempotent by (manager, period end, file hash): the same file again returns
the stored import; another file for a period already imported is a conflict.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import cast

from qoima.app.custody_book import require_any
from qoima.app.manager_analysis import LookThrough, ManagerAnalysis, Performance
from qoima.app.manager_ledger import (
    book_flows,
    interest_accounts,
    units_held,
)
from qoima.app.manager_ports import ManagerRepository, MandateRecord, StatementRecord
from qoima.app.manager_records import (
    findings_of,
    mandate_hash,
    mandate_json,
    mandate_of,
    statement_of,
    statement_record,
)
from qoima.app.ports import Clock, UnitOfWork, UnitOfWorkFactory
from qoima.app.units import in_write_unit, record_change
from qoima.app.users import require
from qoima.domain.canonical import plain_decimal
from qoima.domain.enums import Severity
from qoima.domain.errors import Conflict, InvalidInput, NotFound, Origin, QoimaError
from qoima.domain.findings import Finding
from qoima.domain.money import MONEY_CONTEXT, quantize
from qoima.domain.reference import BASE_CURRENCY
from qoima.domain.roles import Permission
from qoima.managers.fees import fee_checks
from qoima.managers.guidelines import guideline_findings
from qoima.managers.model import Mandate, Statement
from qoima.managers.oversight import NAV_NOT_RECONCILING, Scorecard, fee_findings
from qoima.managers.validation import ROLL_FORWARD_TOLERANCE, ensure_valid
from qoima.market.quotes import PriceQuote
from qoima.policy.context import LookThroughShares

#: The book's NAV per unit and the statement's may differ by this share before it is a finding.
PRICE_TOLERANCE = Decimal("0.0001")
PRICE_SCALE = 6
FEES_NOT_VERIFIED = "manager.fees_not_verified"
Column = Callable[[str], str]


def managers_of(uow: UnitOfWork) -> ManagerRepository:
    """The unit's manager repository (``uow.managers`` once the unit of work carries it)."""
    return cast("ManagerRepository", getattr(uow, "managers"))  # noqa: B009


@dataclass(frozen=True, slots=True)
class MandateView:
    record: MandateRecord
    mandate: Mandate


@dataclass(frozen=True, slots=True)
class StatementImport:
    record: StatementRecord
    statement: Statement
    findings: tuple[Finding, ...]
    replayed: bool

    @property
    def posted(self) -> tuple[str, ...]:
        """Ledger entries this import posted (matched flows were already in the book)."""
        return tuple(f.entry_id for f in self.record.flows if not f.matched)

    @property
    def matched(self) -> tuple[str, ...]:
        return tuple(f.entry_id for f in self.record.flows if f.matched)


@dataclass(frozen=True, slots=True)
class ImportContext:
    """What reading a statement file needs to validate it before the import; ``replay``
    is the stored import when that very file was imported before (nothing to read)."""

    manager_code: str
    previous_period_end: date | None
    known_assets: frozenset[str]
    replay: StatementImport | None = None


class ManagerService:
    def __init__(self, units: UnitOfWorkFactory, clock: Clock,
                 repository: Callable[[UnitOfWork], ManagerRepository] = managers_of) -> None:
        self._units, self._clock, self._repo = units, clock, repository
        self._analysis = ManagerAnalysis(repository)

    # -- mandates ------------------------------------------------------------------------
    def set_mandate(self, mandate: Mandate, *, actor: str, source_text: str = "") -> MandateView:
        """Add a mandate, or replace the one in force by a new version; the same mandate
        again changes nothing."""
        def work(uow: UnitOfWork) -> MandateView:
            require_any(uow, actor, (Permission.POLICY_APPROVE, Permission.REFERENCE_WRITE),
                        mandate.vehicle_code)
            _check_reference(uow, mandate)
            repo = self._repo(uow)
            latest = repo.find_mandate(mandate.manager_code)
            digest = mandate_hash(mandate)
            if latest is not None and latest.content_hash == digest:
                return MandateView(latest, mandate_of(latest))
            record = MandateRecord(
                mandate.manager_code, latest.version + 1 if latest else 1, mandate.vehicle_code,
                str(mandate.kind), digest, mandate_json(mandate), source_text,
                self._clock.now(), actor)
            repo.add_mandate(record)
            record_change(uow, at=record.recorded_at, actor=actor,
                          action="mandate.replaced" if latest else "mandate.added",
                          object_type="mandate", object_id=mandate.manager_code,
                          payload={"version": record.version, "content_hash": digest,
                                   "previous_hash": latest.content_hash if latest else None,
                                   "mandate": mandate})
            return MandateView(record, mandate)
        return in_write_unit(self._units, work)

    def mandate(self, manager_code: str) -> MandateView:
        with self._units(write=False) as uow:
            return MandateView(*_mandate(self._repo(uow), manager_code))

    def mandates(self) -> list[MandateView]:
        with self._units(write=False) as uow:
            return [MandateView(r, mandate_of(r)) for r in self._repo(uow).list_mandates()]

    def mandate_history(self, manager_code: str) -> list[MandateRecord]:
        with self._units(write=False) as uow:
            return self._repo(uow).mandate_history(manager_code)

    # -- statements ----------------------------------------------------------------------
    def import_context(self, manager_code: str, file_hash: str | None = None
                       ) -> ImportContext:
        with self._units(write=False) as uow:
            _mandate(self._repo(uow), manager_code)
            stored = self._repo(uow).list_statements(manager_code)
            same = next((s for s in stored if file_hash and s.file_hash == file_hash), None)
            return ImportContext(
                manager_code, stored[-1].period_end if stored else None,
                frozenset(i.code for i in uow.reference.list_instruments()),
                StatementImport(same, statement_of(same), findings_of(same.findings_json),
                                True) if same else None)

    def import_statement(self, statement: Statement, *, file_hash: str, actor: str,
                         column: Column | None = None) -> StatementImport:
        """Validate, book and store ``statement`` (see the module docstring)."""
        def work(uow: UnitOfWork) -> StatementImport:
            repo = self._repo(uow)
            record, mandate = _mandate(repo, statement.manager_code)
            require(uow, actor, Permission.ENTRY_POST, [mandate.vehicle_code])
            stored = repo.find_statement(statement.manager_code, statement.period_end)
            if stored is not None:
                if stored.file_hash != file_hash:
                    raise Conflict(f"{statement.manager_code} already has a statement for the "
                                   f"period ending {statement.period_end}, imported from "
                                   f"{stored.source_file} (another file); statements are not "
                                   "replaced", origin=_origin(statement), field="period_end")
                return StatementImport(stored, statement_of(stored),
                                       findings_of(stored.findings_json), True)
            return self._import(uow, repo, record, mandate, statement, file_hash, actor,
                                column)
        return in_write_unit(self._units, work)

    def _import(self, uow: UnitOfWork, repo: ManagerRepository, mandate_record: MandateRecord,
                mandate: Mandate, statement: Statement, file_hash: str, actor: str,
                column: Column | None) -> StatementImport:
        earlier = repo.list_statements(statement.manager_code)
        ensure_valid(statement,
                     previous_period_end=earlier[-1].period_end if earlier else None,
                     known_assets={i.code for i in uow.reference.list_instruments()},
                     column=column)
        if statement.currency != mandate.currency or mandate.currency != BASE_CURRENCY:
            raise InvalidInput(f"statement in {statement.currency}, mandate in "
                               f"{mandate.currency}: qoima books USD statements of USD "
                               "mandates", origin=_origin(statement), field="currency")
        now = self._clock.now()
        accounts = interest_accounts(uow, statement.manager_code, mandate.vehicle_code)
        claimed = {f.entry_id for s in earlier for f in s.flows}
        flows = book_flows(uow, statement, accounts, claimed, at=now, actor=actor)
        findings = guideline_findings(mandate, statement)
        previous = [statement_of(s) for s in earlier]
        findings += _fee_findings(mandate, [*previous, statement])
        if previous:
            findings += _opening_findings(previous[-1], statement)
        findings += _price(uow, statement, accounts.instrument.code, accounts.holding)
        record = repo.add_statement(statement_record(
            statement, flows, file_hash=file_hash, mandate_version=mandate_record.version,
            findings=findings, imported_at=now, imported_by=actor))
        record_change(uow, at=now, actor=actor, action="manager.statement_imported",
                      object_type="manager", object_id=statement.manager_code, payload={
                          "period_start": statement.period_start,
                          "period_end": statement.period_end, "file_hash": file_hash,
                          "content_hash": record.content_hash,
                          "source": record.source_file, "sheet": record.source_sheet,
                          "closing_nav": statement.closing_nav,
                          "flows": [[f.kind, f.on_date, f.amount, f.entry_id, f.matched]
                                    for f in flows],
                          "findings": [[f.rule, f.severity, f.subject] for f in findings]})
        return StatementImport(record, statement, tuple(findings), False)

    def statements(self, manager_code: str | None = None,
                   until: date | None = None) -> list[StatementRecord]:
        with self._units(write=False) as uow:
            return self._repo(uow).list_statements(manager_code, until)

    # -- performance, oversight, look-through (read side: :mod:`manager_analysis`) -------
    def performance(self, manager_code: str, *, as_of: date | None = None,
                    benchmark: str | None = None) -> Performance:
        with self._units(write=False) as uow:
            return self._analysis.performance(uow, manager_code, as_of, benchmark)

    def scorecard(self, manager_code: str, as_of: date) -> Scorecard:
        with self._units(write=False) as uow:
            return self._analysis.scorecard(uow, manager_code, as_of)

    def scorecards(self, as_of: date) -> list[Scorecard]:
        with self._units(write=False) as uow:
            return self._analysis.scorecards(uow, as_of)

    def comparison(self, as_of: date) -> list[dict[str, str | float | int | None]]:
        with self._units(write=False) as uow:
            return self._analysis.comparison(uow, as_of)

    def oversight(self, as_of: date) -> list[Finding]:
        """Every manager's findings at ``as_of`` (late statements included)."""
        with self._units(write=False) as uow:
            return [f for card in self._analysis.scorecards(uow, as_of) for f in card.findings]

    def reported_exposures(self, as_of: date, *, factors: Sequence[str] | None = None,
                           fallback: str = "BTC") -> Mapping[str, Mapping[str, float]]:
        with self._units(write=False) as uow:
            return self._analysis.reported_exposures(uow, as_of, factors, fallback)

    def look_through(self, as_of: date) -> LookThrough:
        with self._units(write=False) as uow:
            return self._analysis.look_through(uow, as_of)

    def look_through_shares(self, as_of: date) -> Mapping[str, LookThroughShares]:
        """Per fund interest, what its manager reports it holds (for policy limits)."""
        with self._units(write=False) as uow:
            return self._analysis.look_through_shares(uow, as_of)


def _mandate(repo: ManagerRepository, manager_code: str) -> tuple[MandateRecord, Mandate]:
    record = repo.find_mandate(manager_code)
    if record is None:
        raise NotFound(f"no mandate for manager {manager_code}: add one with "
                       "`qoima manager add MANDATE.yaml`", field="manager")
    return record, mandate_of(record)


def _check_reference(uow: UnitOfWork, mandate: Mandate) -> None:
    manager = uow.reference.find_manager(mandate.manager_code)
    if manager is None:
        raise NotFound(f"unknown manager {mandate.manager_code}: register it first "
                       "(`qoima reference load`)", field="manager")
    if uow.reference.find_vehicle(mandate.vehicle_code) is None:
        raise NotFound(f"unknown vehicle {mandate.vehicle_code}", field="vehicle")
    if manager.vehicle_code and manager.vehicle_code != mandate.vehicle_code:
        raise InvalidInput(f"manager {manager.code} is registered for vehicle "
                           f"{manager.vehicle_code}, the mandate names {mandate.vehicle_code}",
                           field="vehicle")
    if manager.kind != mandate.kind:
        raise InvalidInput(f"manager {manager.code} is registered as {manager.kind}, the "
                           f"mandate says {mandate.kind}", field="kind")


def _fee_findings(mandate: Mandate, statements: list[Statement]) -> list[Finding]:
    """Fee checks ending with the newest statement; fees that cannot be verified (no
    capital to measure a performance fee on) are a finding, never a refused import."""
    last = statements[-1]
    try:
        checks = fee_checks(mandate, statements)
    except QoimaError as error:
        return [Finding(FEES_NOT_VERIFIED, Severity.WARNING, last.manager_code,
                        f"fees of {last.period_start}..{last.period_end} not verified: "
                        f"{error.message}", last.period_end)]
    return fee_findings([c for c in checks if c.period_end == last.period_end],
                        last.manager_code)


def _opening_findings(previous: Statement, statement: Statement) -> list[Finding]:
    gap = statement.opening_nav - previous.closing_nav
    if ROLL_FORWARD_TOLERANCE.allows(gap, previous.closing_nav):
        return []
    return [Finding(NAV_NOT_RECONCILING, Severity.ERROR, statement.manager_code,
                    f"opening NAV {plain_decimal(statement.opening_nav)} on "
                    f"{statement.period_start} differs from the previous statement's closing "
                    f"NAV {plain_decimal(previous.closing_nav)} on {previous.period_end}",
                    statement.period_end, measured=plain_decimal(statement.opening_nav),
                    limit=plain_decimal(previous.closing_nav))]


def _origin(statement: Statement) -> Origin | None:
    source = statement.source
    if source is None:
        return None
    return Origin(f"{source.file}[{source.sheet}]" if source.sheet else source.file)


def _price(uow: UnitOfWork, statement: Statement, instrument: str,
           holding: str) -> list[Finding]:
    """The NAV per unit the statement implies: stored when the book has none for that
    day, else compared with the stored one."""
    end, nav, manager = statement.period_end, statement.closing_nav, statement.manager_code
    units = units_held(uow, holding, end)
    if units <= 0:
        if nav == 0:
            return []
        return [Finding(NAV_NOT_RECONCILING, Severity.ERROR, manager,
                        f"the book holds no units of {instrument} on {end}, the statement "
                        f"reports a NAV of {plain_decimal(nav)}", end,
                        measured="0", limit=plain_decimal(nav))]
    implied = quantize(MONEY_CONTEXT.divide(nav, units), PRICE_SCALE)
    quote = uow.market.latest_prices(end, [instrument]).get(instrument)
    if quote is None or quote.price_date != end:
        if implied > 0:
            uow.market.add_prices([PriceQuote(instrument, end, implied, BASE_CURRENCY,
                                              f"manager-statement:{manager}")])
        return []
    book_value = quantize(units * quote.price, 2)
    if abs(quote.price - implied) <= PRICE_TOLERANCE * quote.price:
        return []
    return [Finding(NAV_NOT_RECONCILING, Severity.WARNING, manager,
                    f"the book values {units} units of {instrument} at "
                    f"{plain_decimal(book_value)} on {end} (NAV per unit {quote.price}, "
                    f"{quote.source}); the statement's NAV {plain_decimal(nav)} gives "
                    f"{implied} per unit", end, measured=str(implied),
                    limit=str(quote.price))]
