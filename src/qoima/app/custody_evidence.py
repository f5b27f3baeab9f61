"""Evidence about seized assets: reconciliations against the chain, proofs of control,
sanctions lists, forks, and the inventory of the pool.

A reconciliation compares the book's expected balance per address (seizures plus custody
events) with an observed snapshot; every difference is a finding and the result is kept
(idempotent on the snapshot's and the book's content). A proof of control answers a
challenge qoima issued (case, address, date and a random nonce), so a signature made for
anything else cannot be replayed; the proof is recorded valid or not, with the reason.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from qoima.app.custody import CustodyService
from qoima.app.custody_book import get_case, held_balances, record_hits, require_any, seized_pool
from qoima.app.custody_ports import (
    ChallengeRecord,
    ForkRecord,
    ProofRecord,
    ReconciliationRecord,
    SanctionedAddressRecord,
    SanctionsListRecord,
    ScreeningHitRecord,
)
from qoima.app.ports import Clock, UnitOfWork, UnitOfWorkFactory
from qoima.app.units import in_write_unit, record_change
from qoima.custody.addresses import Chain, Network, validate_address
from qoima.custody.chain_of_custody import address_key
from qoima.custody.forks import ForkedAsset
from qoima.custody.inventory import (
    AssetSnapshot,
    CaseSnapshot,
    PoolInventory,
    ReconciliationState,
    pool_inventory,
)
from qoima.custody.legal import LegalStatus
from qoima.custody.proofs import Challenge, ProofResult, challenge_message, verify_proof
from qoima.custody.reconciliation import ObservedBalance, Reconciliation, reconcile
from qoima.custody.screening import SanctionsList
from qoima.domain.canonical import canonical_json, content_hash
from qoima.domain.errors import Conflict, InvalidInput, NotFound
from qoima.domain.roles import Permission

WRITERS = (Permission.CASE_WRITE, Permission.ENTRY_POST)


@dataclass(frozen=True, slots=True, eq=False)
class ReconciliationOutcome:
    result: Reconciliation
    record: ReconciliationRecord
    new: bool


@dataclass(frozen=True, slots=True, eq=False)
class ProofOutcome:
    result: ProofResult
    record: ProofRecord


class CustodyEvidence:
    def __init__(self, units: UnitOfWorkFactory, clock: Clock, cases: CustodyService) -> None:
        self._units, self._clock, self._cases = units, clock, cases

    # -- reconciliation ----------------------------------------------------------------------
    def reconcile(self, observed: Sequence[ObservedBalance], *, source: str, as_of: date,
                  actor: str, tolerance: dict[str, Decimal] | None = None
                  ) -> ReconciliationOutcome:
        """Compare the observed snapshot with the book's balance per address."""
        moment = datetime.combine(as_of, time(23, 59, 59), tzinfo=UTC)

        def work(uow: UnitOfWork) -> ReconciliationOutcome:
            require_any(uow, actor, WRITERS, seized_pool(uow))
            book: dict[tuple[str, str], Decimal] = {}
            for held in held_balances(uow):
                key = (held.address, held.instrument_code)
                book[key] = book.get(key, Decimal(0)) + held.quantity
            result = reconcile(book, observed, moment, tolerance, max_age=timedelta(days=7))
            rows = [{"address": r.address, "instrument": r.instrument_code, "book": r.book,
                     "observed": r.observed, "difference": r.difference,
                     "status": r.status.value} for r in result.rows]
            findings = [{"rule": f.rule, "severity": f.severity.value, "subject": f.subject,
                         "message": f.message} for f in result.findings]
            digest = content_hash({"as_of": as_of, "rows": rows, "source": source})
            record = ReconciliationRecord(
                digest, as_of, source, "matched" if result.matched else "differences",
                canonical_json(rows), canonical_json(findings), self._clock.now(), actor)
            stored = uow.custody.add_reconciliation(record)
            new = stored.recorded_at == record.recorded_at
            if new:
                record_change(uow, at=record.recorded_at, actor=actor,
                              action="custody.reconciled", object_type="reconciliation",
                              object_id=digest, payload={"as_of": as_of, "source": source,
                                                         "status": record.status,
                                                         "findings": findings})
            return ReconciliationOutcome(result, stored, new)

        return in_write_unit(self._units, work)

    # -- proof of control --------------------------------------------------------------------
    def challenge(self, case_id: str, chain: str, address: str, issued_on: date, *,
                  actor: str, network: str = "mainnet") -> ChallengeRecord:
        """Issue a challenge for an address the case holds: the message to sign."""
        normalized = validate_address(chain, address, network).normalized
        # hex, not token_urlsafe: a nonce starting with "-" would read as an option when
        # pasted into `qoima case verify-proof NONCE`
        nonce = secrets.token_hex(16)
        message = challenge_message(Challenge(case_id, Chain(chain), normalized, issued_on,
                                              nonce, Network(network)))

        def work(uow: UnitOfWork) -> ChallengeRecord:
            require_any(uow, actor, WRITERS, seized_pool(uow))
            get_case(uow, case_id)
            held = uow.custody.find_address(chain, normalized)
            if held is None or held.case_id != case_id:
                raise NotFound(f"case {case_id} holds no address {normalized} on {chain}",
                               field="address")
            record = ChallengeRecord(nonce, case_id, chain, normalized, issued_on, message,
                                     self._clock.now(), actor)
            uow.custody.add_challenge(record)
            record_change(uow, at=record.issued_at, actor=actor, action="custody.challenge",
                          object_type="challenge", object_id=nonce,
                          payload={"case": case_id, "address": normalized,
                                   "issued_on": issued_on})
            return record

        return in_write_unit(self._units, work)

    def verify(self, nonce: str, signature: str, *, actor: str, network: str = "mainnet"
               ) -> ProofOutcome:
        """Verify the key holder's signature of a challenge and record the proof."""
        with self._units(write=False) as uow:
            challenge = uow.custody.find_challenge(nonce)
        if challenge is None:
            raise NotFound(f"no challenge with nonce {nonce!r}: issue one with `qoima case "
                           "prove`", field="nonce")
        result = verify_proof(challenge.chain, challenge.address, challenge.message,
                              signature.strip(), network)

        def work(uow: UnitOfWork) -> ProofOutcome:
            require_any(uow, actor, WRITERS, seized_pool(uow))
            if any(p.nonce == nonce and p.valid
                   for p in uow.custody.list_proofs(challenge.case_id)):
                # a challenge is answered once: verifying it again would date an old
                # signature as a new proof of control
                raise Conflict(f"challenge {nonce} already has a valid proof: issue a new one "
                               "with `qoima case prove`", nonce=nonce)
            record = uow.custody.add_proof(ProofRecord(
                nonce, challenge.case_id, challenge.chain, challenge.address,
                signature.strip(), result.scheme.value, result.valid, result.reason,
                self._clock.now(), actor))
            record_change(uow, at=record.verified_at, actor=actor, action="custody.proof",
                          object_type="proof", object_id=nonce, payload={
                              "case": challenge.case_id, "address": challenge.address,
                              "scheme": result.scheme.value, "valid": result.valid,
                              "reason": result.reason, "signer": result.signer,
                              "message_hash": content_hash(challenge.message)})
            return ProofOutcome(result, record)

        return in_write_unit(self._units, work)

    def proofs(self, case_id: str | None = None) -> list[ProofRecord]:
        with self._units(write=False) as uow:
            return uow.custody.list_proofs(case_id)

    def export_proofs(self, case_id: str | None = None) -> list[dict[str, object]]:
        """Valid proofs with their challenge, for the public transparency report: anyone
        can re-verify the signature of the published message."""
        with self._units(write=False) as uow:
            exported: list[dict[str, object]] = []
            for proof in uow.custody.list_proofs(case_id):
                challenge = uow.custody.find_challenge(proof.nonce)
                if not proof.valid or challenge is None:
                    continue
                exported.append({"case": proof.case_id, "chain": proof.chain,
                                 "address": proof.address, "message": challenge.message,
                                 "signature": proof.signature, "scheme": proof.scheme,
                                 "verified_at": proof.verified_at.isoformat()})
            return exported

    # -- sanctions -----------------------------------------------------------------------------
    def import_sanctions(self, sanctions: SanctionsList, *, actor: str,
                         list_date: date | None = None) -> tuple[SanctionsListRecord, bool]:
        """Store a sanctions list (idempotent on its content) and re-screen every address."""
        dates = sorted({e.list_date for e in sanctions.entries})
        record = SanctionsListRecord(sanctions.content_hash, sanctions.source,
                                     list_date or (dates[-1] if dates else None),
                                     len(sanctions.entries), self._clock.now(), actor)
        rows = [SanctionedAddressRecord(0, e.chain_code, e.address, address_key(e.address),
                                        e.entity, e.program) for e in sanctions.entries]

        def work(uow: UnitOfWork) -> tuple[SanctionsListRecord, bool]:
            require_any(uow, actor, (Permission.CASE_WRITE, Permission.REFERENCE_WRITE),
                         seized_pool(uow))
            stored = uow.custody.add_sanctions_list(record, rows)
            new = stored.imported_at == record.imported_at
            if new:
                record_change(uow, at=record.imported_at, actor=actor,
                              action="custody.sanctions_list", object_type="sanctions_list",
                              object_id=str(stored.list_id), payload={
                                  "source": sanctions.source, "entries": record.entries,
                                  "content_hash": sanctions.content_hash})
                self._rescreen(uow, actor)
            return stored, new

        return in_write_unit(self._units, work)

    def screen(self, *, actor: str) -> list[ScreeningHitRecord]:
        """Screen every held address against every stored list; returns the open hits."""
        def work(uow: UnitOfWork) -> list[ScreeningHitRecord]:
            require_any(uow, actor, WRITERS, seized_pool(uow))
            self._rescreen(uow, actor)
            return uow.custody.list_hits(status="open")

        return in_write_unit(self._units, work)

    def screen_addresses(self, addresses: Sequence[tuple[str, str]]
                         ) -> list[SanctionedAddressRecord]:
        """Listed entries matching any of ``(chain, address)`` (a check before a transfer)."""
        with self._units(write=False) as uow:
            return uow.custody.find_sanctioned(sorted({address_key(a) for _, a in addresses}))

    def _rescreen(self, uow: UnitOfWork, actor: str) -> None:
        by_case: dict[str, list[tuple[str, str]]] = {}
        for held in uow.custody.list_addresses():
            by_case.setdefault(held.case_id, []).append((held.chain, held.address))
        for case_id, addresses in by_case.items():
            record_hits(uow, case_id, addresses, "screening", self._clock.now(), actor)

    # -- forks -------------------------------------------------------------------------------
    def record_fork(self, fork: ForkedAsset, *, actor: str) -> ForkRecord:
        def work(uow: UnitOfWork) -> ForkRecord:
            require_any(uow, actor, WRITERS, seized_pool(uow))
            get_case(uow, fork.case_id)
            held = [a for a in uow.custody.list_addresses(fork.case_id)
                    if address_key(a.address) == address_key(fork.source_address)]
            if not held:
                raise NotFound(f"case {fork.case_id} holds no address {fork.source_address}",
                               field="source_address")
            if any(f.instrument_code == fork.instrument_code
                   and f.source_address == fork.source_address
                   for f in uow.custody.list_forks(fork.case_id)):
                raise Conflict(f"{fork.instrument_code} from {fork.source_address} is already "
                               "recorded", case_id=fork.case_id)
            record = uow.custody.add_fork(ForkRecord(
                fork.case_id, fork.parent_instrument, fork.instrument_code, fork.quantity,
                fork.fork_date, fork.source_address, fork.valuation_policy.value, fork.note,
                self._clock.now(), actor))
            record_change(uow, at=record.recorded_at, actor=actor, action="custody.fork",
                          object_type="case", object_id=fork.case_id, payload={
                              "instrument": fork.instrument_code, "quantity": fork.quantity,
                              "parent": fork.parent_instrument, "fork_date": fork.fork_date,
                              "valuation_policy": fork.valuation_policy.value})
            return record

        return in_write_unit(self._units, work)

    # -- inventory -----------------------------------------------------------------------------
    def inventory(self, as_of: date, *, stale_after_days: int = 30) -> PoolInventory:
        """Counts, quantities, values, legal status, last reconciliation and proof per
        case and for the whole pool."""
        with self._units(write=False) as uow:
            # newest first; each with its rows, so a case counts as reconciled only by a
            # reconciliation that compared its addresses, with the status of those rows
            reconciliations = [
                (r, json.loads(r.rows_json)) for r in sorted(
                    (r for r in uow.custody.list_reconciliations() if r.as_of_date <= as_of),
                    key=lambda r: (r.as_of_date, r.recorded_at), reverse=True)]
            snapshots = []
            codes: set[str] = set()
            for case in uow.custody.list_cases():
                assets = uow.custody.list_assets(case.case_id)
                codes.update(a.instrument_code for a in assets)
                proofs = [p for p in uow.custody.list_proofs(case.case_id)
                          if p.verified_at.date() <= as_of]
                last_proof = max(proofs, key=lambda p: p.verified_at, default=None)
                held = {address_key(a.address) for a in uow.custody.list_addresses(case.case_id)}
                last_rec, state = _last_reconciliation(reconciliations, held)
                disposed = {d.asset_id: LegalStatus(d.model)
                            for d in uow.custody.list_dispositions(case.case_id)
                            if d.status == "executed"}
                snapshots.append(CaseSnapshot(
                    case.case_id, tuple(AssetSnapshot(
                        a.asset_id, a.instrument_code, a.quantity,
                        disposed.get(a.asset_id, LegalStatus(case.legal_status)),
                        len(json.loads(a.addresses_json)))
                        for a in assets),
                    last_rec.as_of_date if last_rec else None, state,
                    last_proof.verified_at.date() if last_proof else None,
                    all(p.valid for p in proofs) if proofs else None))
            quotes = uow.market.latest_prices(as_of, sorted(codes))
        prices: dict[str, Decimal | None] = {
            c: (quotes[c].price if c in quotes and quotes[c].currency == "USD" else None)
            for c in codes}
        return pool_inventory(snapshots, prices, as_of_date=as_of,
                              stale_after_days=stale_after_days)


def _last_reconciliation(reconciliations: Sequence[tuple[ReconciliationRecord, Any]],
                         held: set[str]
                         ) -> tuple[ReconciliationRecord | None, ReconciliationState | None]:
    """The newest reconciliation with a row for one of ``held`` (address keys), and whether
    those rows matched."""
    for record, rows in reconciliations:
        mine = [row for row in rows if address_key(row["address"]) in held]
        if mine:
            matched = all(row["status"] == "matched" for row in mine)
            return record, (ReconciliationState.MATCHED if matched
                            else ReconciliationState.DIFFERENCES)
    return None, None


__all__ = ["CustodyEvidence", "InvalidInput", "ProofOutcome", "ReconciliationOutcome"]
