"""The public transparency report: aggregates, summaries, the audit root and a holdings root.

The public sees holdings by vehicle and by asset class, the policy and risk in a few lines,
the audit trail's published checkpoint, and one Merkle root over every detailed line item
(:mod:`qoima.report.holdings_commitment`). Nothing below the asset-class level is printed:
an auditor who is shown one line item and its proof checks it against the root with
``qoima verify-inclusion`` without the list being published. No clock, no randomness: the
caller passes the salt key and the dates, so the same book gives the same report.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from qoima.domain.errors import InvalidInput
from qoima.domain.money import ZERO
from qoima.domain.reference import Instrument, Vehicle
from qoima.portfolio.snapshot import PortfolioSnapshot
from qoima.report.asset_classes import AssetClassTotal, asset_class_totals
from qoima.report.document import (
    Cell,
    Column,
    Figure,
    FigureKind,
    KeyFigure,
    KeyFigures,
    Notice,
    NoticeLevel,
    Provenance,
    ReportDocument,
    Section,
    Series,
    Table,
    Text,
)
from qoima.report.holdings_commitment import (
    SCHEME,
    HoldingsCommitment,
    InclusionProof,
    VerificationResult,
    commit_holdings,
    verify_proof,
)

__all__ = [
    "HoldingsCommitment",
    "InclusionProof",
    "TransparencyReport",
    "VerificationResult",
    "build_transparency",
    "verify_proof",
]

_HEX64 = re.compile(r"[0-9a-f]{64}")
Checkpoint = tuple[str, int, str]  # audit root (hex), records covered, created-at (ISO)


@dataclass(frozen=True, slots=True)
class TransparencyReport:
    document: ReportDocument  # audience "public": aggregates only
    commitment: HoldingsCommitment
    proofs: tuple[InclusionProof, ...]  # one per line item: handed out one at a time
    by_asset_class: tuple[AssetClassTotal, ...]  # the exact (Decimal) figures behind the table


def build_transparency(
    snapshot: PortfolioSnapshot,
    *,
    policy_summary: Sequence[tuple[str, str]],
    risk_summary: Sequence[tuple[str, str]],
    checkpoint: Checkpoint | None,
    salt_key: bytes,
    label: str,
    synthetic: bool,
    published_on: date,
    vehicles: Mapping[str, Vehicle] | None = None,
    instruments: Mapping[str, Instrument] | None = None,
) -> TransparencyReport:
    """The public report for ``snapshot``.

    ``vehicles`` adds each vehicle's parent ("part of FX reserves"); ``instruments`` tells
    which ETFs hold crypto (their underlying), for the asset classes. ``salt_key`` is the
    institution's secret for the per-line-item salts (at least 16 bytes).
    """
    if checkpoint is not None:
        _check_checkpoint(checkpoint)
    commitment, proofs = commit_holdings(snapshot, salt_key)
    classes = asset_class_totals(snapshot, instruments)
    is_synthetic = synthetic or snapshot.synthetic_market
    provenance = Provenance(snapshot.as_of_date, "qoima book of record, valuation snapshot "
                            f"{snapshot.inputs_hash[:12]}", is_synthetic)
    sections = (
        _by_vehicle(snapshot, vehicles or {}, provenance),
        _by_asset_class(snapshot, classes, provenance),
        _summary("policy", "Investment policy", policy_summary, provenance,
                 "No policy summary was given."),
        _summary("risk", "Risk", risk_summary, provenance, "No risk summary was given."),
        _audit(checkpoint),
        _commitment(commitment),
    )
    document = ReportDocument(
        title="Transparency report",
        subtitle=f"Holdings as of {snapshot.as_of_date.isoformat()}; published "
                 f"{published_on.isoformat()}",
        as_of=snapshot.as_of_date, label=label, synthetic=is_synthetic,
        notices=_notices(snapshot, checkpoint, is_synthetic), sections=sections,
        footer="Aggregates only. Every detailed holding is committed to by the holdings root "
               "above; an auditor shown one holding and its proof can check it with "
               "`qoima verify-inclusion`.",
        audience="public",
        meta=(("published_on", published_on.isoformat()), ("holdings_root", commitment.root),
              ("holdings_scheme", commitment.scheme), ("inputs_hash", snapshot.inputs_hash),
              ("qoima_version", snapshot.qoima_version)),
    )
    return TransparencyReport(document, commitment, proofs, classes)


def _share(value: Decimal, total: Decimal) -> float | None:
    return float(value / total) if total > 0 else None


def _money(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


_VALUE_COLUMNS = (Column("line_items", "Line items", "number", 0),
                  Column("unvalued", "Without a value", "number", 0),
                  Column("value_usd", "Value (USD)", "money"),
                  Column("value_kzt", "Value (KZT)", "money"),
                  Column("share", "Share of total", "percent"))


def _by_vehicle(snapshot: PortfolioSnapshot, vehicles: Mapping[str, Vehicle],
                provenance: Provenance) -> Section:
    names = {nav.vehicle_code: nav.name for nav in snapshot.vehicles}
    rows: list[tuple[Cell, ...]] = []
    for nav in snapshot.vehicles:
        parent = vehicles[nav.vehicle_code].parent_code if nav.vehicle_code in vehicles else None
        rows.append((nav.name, nav.kind.replace("_", " "),
                     names.get(parent, parent) if parent else "", nav.positions,
                     nav.unvalued_positions, _money(nav.nav_usd), _money(nav.nav_kzt),
                     _share(nav.nav_usd, snapshot.total_usd)))
    rows.append(("Total", "", "", sum(n.positions for n in snapshot.vehicles),
                 sum(n.unvalued_positions for n in snapshot.vehicles),
                 _money(snapshot.total_usd), _money(snapshot.total_kzt),
                 1.0 if snapshot.total_usd > 0 else None))
    unvalued = sum(n.unvalued_positions for n in snapshot.vehicles)
    note = (f"{unvalued} line items have no price or FX rate on the date and are not in the "
            "totals." if unvalued else "")
    table = Table("holdings_by_vehicle", "Holdings by vehicle",
                  (Column("vehicle", "Vehicle"), Column("kind", "Kind"),
                   Column("part_of", "Part of"), *_VALUE_COLUMNS), tuple(rows), provenance,
                  note)
    blocks: list[Text | Table] = [table]
    if snapshot.pending_positions:
        pending = snapshot.pending_positions
        value = sum((p.value_usd for p in pending if p.value_usd is not None), ZERO)
        blocks.append(Text(f"Seized assets awaiting forfeiture: {len(pending)} line items "
                           f"worth USD {value:,.2f}, held in custody but not in the totals "
                           "until a court forfeits them. They are committed in the holdings "
                           "root."))
    return Section("holdings", "Holdings by vehicle", tuple(blocks))


def _by_asset_class(snapshot: PortfolioSnapshot, classes: Sequence[AssetClassTotal],
                    provenance: Provenance) -> Section:
    rows = tuple((c.asset_class.value, c.name, c.line_items, c.unvalued, _money(c.value_usd),
                  _money(c.value_kzt), _share(c.value_usd, snapshot.total_usd))
                 for c in classes)
    total = (("total", "Total", sum(c.line_items for c in classes),
              sum(c.unvalued for c in classes), _money(snapshot.total_usd),
              _money(snapshot.total_kzt), 1.0 if snapshot.total_usd > 0 else None),)
    table = Table("holdings_by_asset_class", "Holdings by asset class",
                  (Column("id", "Class id"), Column("asset_class", "Asset class"),
                   *_VALUE_COLUMNS), rows + total, provenance)
    shown = [c for c in classes if c.value_usd > 0]
    blocks: list[Table | Figure | Text] = [table]
    if shown:
        blocks.append(Figure("asset_class_pie", "Holdings by asset class (USD)", FigureKind.PIE,
                             provenance, x=tuple(c.name for c in shown),
                             series=(Series("Value (USD)", tuple(float(c.value_usd)
                                                                 for c in shown)),),
                             value_format="money"))
    else:
        blocks.append(Text("No valued holdings on this date: nothing to chart."))
    return Section("asset-classes", "Holdings by asset class", tuple(blocks))


def _summary(section_id: str, title: str, lines: Sequence[tuple[str, str]],
             provenance: Provenance, empty: str) -> Section:
    if not lines:
        return Section(section_id, title, (Text(empty),))
    table = Table(f"{section_id}_summary", f"{title} summary",
                  (Column("item", "Item"), Column("summary", "Summary")),
                  tuple((item, text) for item, text in lines), provenance)
    return Section(section_id, title, (table,))


def _audit(checkpoint: Checkpoint | None) -> Section:
    if checkpoint is None:
        return Section("audit", "Audit trail checkpoint",
                       (Text("No audit checkpoint has been published for this report."),))
    root, size, created = checkpoint
    return Section("audit", "Audit trail checkpoint", (
        KeyFigures((KeyFigure("Audit trail root", root, f"over {size:,} records"),
                    KeyFigure("Checkpoint taken", created))),
        Text("Every recorded action (entries, approvals, policy changes) is appended to a "
             "hash-chained audit trail. The root above is the RFC 6962 Merkle root of its "
             f"first {size:,} records: `qoima audit verify --root ROOT --size {size}` proves "
             "that none of them was altered, removed or reordered since."),
    ))


def _commitment(commitment: HoldingsCommitment) -> Section:
    figures = [KeyFigure("Holdings root", commitment.root, commitment.scheme),
               KeyFigure("Line items committed", f"{commitment.size:,}",
                         f"as of {commitment.as_of.isoformat()}")]
    if commitment.unvalued:
        figures.append(KeyFigure("Committed without a value", f"{commitment.unvalued:,}",
                                 "no price or FX rate on the date", "warn"))
    if commitment.pending:
        figures.append(KeyFigure("Seized, awaiting forfeiture", f"{commitment.pending:,}",
                                 "committed, not in the totals"))
    return Section("commitment", "Commitment to the detailed holdings", (
        KeyFigures(tuple(figures)),
        Text("The detailed list of holdings is not published. Each holding (vehicle, tranche, "
             "instrument, custodian, quantity, value in USD and KZT, date) is one leaf of a "
             "Merkle tree whose root is printed above; each leaf also carries a secret salt "
             "so that nothing can be guessed from the hashes in a proof."),
        Text("To check that a holding you were shown is part of these totals: take its proof "
             "file (one JSON file per holding) and run `qoima verify-inclusion PROOF.json "
             "--root ROOT`. It recomputes the leaf from the holding and its salt, follows the "
             "audit path up the tree, and says whether it arrives at the published root. A "
             "changed value, quantity, salt or position in the tree does not."),
        Text(f"Scheme: {SCHEME}."),
    ))


def _notices(snapshot: PortfolioSnapshot, checkpoint: Checkpoint | None,
             synthetic: bool) -> tuple[Notice, ...]:
    notices = []
    if synthetic:
        notices.append(Notice(NoticeLevel.WARNING, "valuation", "Values use SYNTHETIC "
                              "market data: they illustrate the report, not a real reserve."))
    unvalued = sum(n.unvalued_positions for n in snapshot.vehicles)
    if unvalued:
        notices.append(Notice(NoticeLevel.WARNING, "valuation", f"{unvalued} holdings have no "
                              "price or FX rate on the date: they are committed without a "
                              "value and left out of the totals."))
    if snapshot.total_kzt is None:
        notices.append(Notice(NoticeLevel.WARNING, "valuation", "No USD/KZT rate on the date: "
                              "values in tenge are not shown."))
    if checkpoint is None:
        notices.append(Notice(NoticeLevel.WARNING, "audit", "No audit checkpoint is "
                              "published with this report."))
    return tuple(notices)


def _check_checkpoint(checkpoint: Checkpoint) -> None:
    root, size, created = checkpoint
    if not isinstance(root, str) or not _HEX64.fullmatch(root):
        raise InvalidInput(f"checkpoint root must be 64 lowercase hex digits, got {root!r}",
                           field="checkpoint.root")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise InvalidInput(f"checkpoint size must be a whole number >= 0, got {size!r}",
                           field="checkpoint.size")
    if not isinstance(created, str) or not created:
        raise InvalidInput("checkpoint creation time is missing", field="checkpoint.created_at")
