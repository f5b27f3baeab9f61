"""The legal status of seized assets as data: one transition table, documents required.

Seized coins are not the state's until a court says so. The path is::

    seized -> frozen -> under_court_review -> forfeited -> transferred_to_reserve | liquidated
                                           -> returned_to_owner | released_to_victims

with a few shortcuts (a case can go to court without a freeze; an owner can get coins back
before the court hears the case). Every allowed step is one row of :data:`TRANSITIONS`,
which says which document proves it (any one of the listed kinds), what it does to the
ledger (forfeiture posts the pending intake entry, a return voids it) and whether the
investment committee must approve it. Anything not in the table is refused with the list
of steps that *are* allowed, so the user sees what to do instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from types import MappingProxyType

from qoima.domain.errors import InvalidInput


class LegalStatus(StrEnum):
    SEIZED = "seized"
    FROZEN = "frozen"
    UNDER_COURT_REVIEW = "under_court_review"
    FORFEITED = "forfeited"
    TRANSFERRED_TO_RESERVE = "transferred_to_reserve"
    LIQUIDATED = "liquidated"
    RETURNED_TO_OWNER = "returned_to_owner"
    RELEASED_TO_VICTIMS = "released_to_victims"


class DocumentKind(StrEnum):
    SEIZURE_ORDER = "seizure_order"
    FREEZE_ORDER = "freeze_order"
    COURT_FILING = "court_filing"
    COURT_ORDER = "court_order"
    FORFEITURE_ORDER = "forfeiture_order"
    RETURN_ORDER = "return_order"
    VICTIMS_ORDER = "victims_order"
    TRANSFER_APPROVAL = "transfer_approval"
    LIQUIDATION_APPROVAL = "liquidation_approval"


class LedgerEffect(StrEnum):
    """What the app must do to the seized-asset pool's ledger when the step is taken."""

    NONE = "none"
    POST_PENDING = "post_pending"  # forfeiture: the pending intake entry becomes posted
    VOID_PENDING = "void_pending"  # return / release: the pending intake entry is voided
    MOVE_TO_VEHICLE = "move_to_vehicle"  # forfeited coins move into a reserve vehicle
    LIQUIDATE = "liquidate"  # forfeited coins are sold


@dataclass(frozen=True, slots=True)
class TransitionRule:
    """One allowed step: ``documents`` are alternatives (any one of them proves the step)."""

    documents: tuple[DocumentKind, ...]
    ledger_effect: LedgerEffect
    needs_committee: bool = False


@dataclass(frozen=True, slots=True)
class Document:
    """A legal document that proves a step: its kind, reference (court order number),
    the date it bears and the authority that issued it."""

    kind: DocumentKind
    reference: str
    dated: date
    issued_by: str

    def __post_init__(self) -> None:
        if not isinstance(self.kind, DocumentKind):
            raise InvalidInput(f"document kind must be one of: {', '.join(DocumentKind)}",
                               field="kind")
        for field in ("reference", "issued_by"):
            value = getattr(self, field)
            if not isinstance(value, str) or not value.strip():
                raise InvalidInput(f"a {self.kind} needs its {field.replace('_', ' ')}",
                                   field=field)
        if not isinstance(self.dated, date):
            raise InvalidInput(f"a {self.kind} needs its date", field="dated")


@dataclass(frozen=True, slots=True)
class TransitionOutcome:
    """An accepted step, ready for the app to record (audit trail, ledger effect)."""

    from_status: LegalStatus
    to_status: LegalStatus
    documents: tuple[Document, ...]
    ledger_effect: LedgerEffect
    needs_committee: bool
    on: date


S = LegalStatus
D = DocumentKind
E = LedgerEffect

#: Status of an asset at intake, and the documents that prove the seizure itself.
INITIAL_STATUS = S.SEIZED
INTAKE_DOCUMENTS: tuple[DocumentKind, ...] = (D.SEIZURE_ORDER, D.COURT_ORDER)

#: The one table of allowed steps. A pair that is not here is refused.
TRANSITIONS: Mapping[tuple[LegalStatus, LegalStatus], TransitionRule] = MappingProxyType({
    (S.SEIZED, S.FROZEN): TransitionRule((D.FREEZE_ORDER, D.COURT_ORDER), E.NONE),
    (S.SEIZED, S.UNDER_COURT_REVIEW): TransitionRule((D.COURT_FILING,), E.NONE),
    (S.SEIZED, S.RETURNED_TO_OWNER): TransitionRule((D.RETURN_ORDER,), E.VOID_PENDING),
    (S.FROZEN, S.UNDER_COURT_REVIEW): TransitionRule((D.COURT_FILING,), E.NONE),
    (S.FROZEN, S.RETURNED_TO_OWNER): TransitionRule((D.RETURN_ORDER,), E.VOID_PENDING),
    (S.UNDER_COURT_REVIEW, S.FORFEITED): TransitionRule((D.COURT_ORDER, D.FORFEITURE_ORDER),
                                                        E.POST_PENDING),
    (S.UNDER_COURT_REVIEW, S.RETURNED_TO_OWNER): TransitionRule((D.RETURN_ORDER,),
                                                                E.VOID_PENDING),
    (S.UNDER_COURT_REVIEW, S.RELEASED_TO_VICTIMS): TransitionRule((D.VICTIMS_ORDER,),
                                                                  E.VOID_PENDING),
    (S.FORFEITED, S.TRANSFERRED_TO_RESERVE): TransitionRule((D.TRANSFER_APPROVAL,),
                                                            E.MOVE_TO_VEHICLE,
                                                            needs_committee=True),
    (S.FORFEITED, S.LIQUIDATED): TransitionRule((D.LIQUIDATION_APPROVAL,), E.LIQUIDATE,
                                                needs_committee=True),
})


def allowed_targets(current: LegalStatus) -> tuple[LegalStatus, ...]:
    """Statuses reachable in one step from ``current``, in the enum's order."""
    return tuple(to for to in LegalStatus if (current, to) in TRANSITIONS)


def is_terminal(status: LegalStatus) -> bool:
    return not allowed_targets(status)


def _alternatives(kinds: Sequence[DocumentKind]) -> str:
    names = [str(kind) for kind in kinds]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def get_rule(current: LegalStatus, target: LegalStatus) -> TransitionRule:
    """The rule for ``current -> target``; raise naming the allowed targets if there is none."""
    rule = TRANSITIONS.get((current, target))
    if rule is not None:
        return rule
    targets = allowed_targets(current)
    allowed = (f"from {current}: {', '.join(targets)}" if targets
               else f"{current} is final, nothing follows it")
    raise InvalidInput(f"{current} -> {target} is not allowed; {allowed}", field="status",
                       current=str(current), target=str(target),
                       allowed=[str(t) for t in targets])


def check_documents(kinds: Sequence[DocumentKind], target: str, documents: Sequence[Document],
                    on: date, last_change_on: date | None) -> tuple[Document, ...]:
    """Refuse documents of another kind, dated after ``on`` or before the last change, and
    a set that holds none of ``kinds``. Shared by transitions and by intake."""
    for document in documents:
        if document.kind not in kinds:
            raise InvalidInput(f"a {document.kind} ({document.reference}) does not prove "
                               f"{target}; it needs a {_alternatives(kinds)}",
                               field="documents")
        if document.dated > on:
            raise InvalidInput(f"{document.kind} {document.reference} is dated "
                               f"{document.dated}, after the change on {on}", field="dated")
        if last_change_on is not None and document.dated < last_change_on:
            raise InvalidInput(f"{document.kind} {document.reference} is dated "
                               f"{document.dated}, before the previous change on "
                               f"{last_change_on}", field="dated")
    if not documents:
        raise InvalidInput(f"{target} needs a {_alternatives(kinds)} (reference and date)",
                           field="documents", needs=[str(kind) for kind in kinds])
    return tuple(documents)


def transition(current: LegalStatus, target: LegalStatus, documents: Sequence[Document],
               on: date, *, last_change_on: date | None) -> TransitionOutcome:
    """Check one step of the legal state machine and describe what it does.

    Parameters
    ----------
    current, target
        The asset's status now and the status asked for.
    documents
        The documents that prove the step; each must be of a kind the step accepts and
        dated no later than ``on`` and no earlier than ``last_change_on``.
    on
        The date the change takes effect.
    last_change_on
        The date of the previous status change (``None`` only if there was none), so a
        step can never be back-dated before the one it follows.
    """
    rule = get_rule(current, target)
    if last_change_on is not None and on < last_change_on:
        raise InvalidInput(f"{current} -> {target} on {on} is before the previous change on "
                           f"{last_change_on}", field="on")
    accepted = check_documents(rule.documents, str(target), documents, on, last_change_on)
    return TransitionOutcome(from_status=current, to_status=target, documents=accepted,
                             ledger_effect=rule.ledger_effect,
                             needs_committee=rule.needs_committee, on=on)


def check_intake(documents: Sequence[Document], on: date) -> tuple[Document, ...]:
    """Documents that prove a seizure at intake (a seizure order or a court order)."""
    return check_documents(INTAKE_DOCUMENTS, str(INITIAL_STATUS), documents, on, None)
