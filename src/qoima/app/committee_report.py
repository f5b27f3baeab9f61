"""The investment committee's report: a document built from what the daily run gathered.

Sections come in the order a committee reads them: headline, allocation, risk, stress,
liquidity, policy, stability gate and tranches, sizing, orders awaiting approval, audit.
A section whose step failed says so in its place (the run is then degraded).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TypeVar

from qoima.allocation.sizing import BudgetUse
from qoima.app.committee_risk import liquidity_section, risk_section, stress_section
from qoima.app.run_facts import RunFacts
from qoima.domain.reference import Instrument
from qoima.report.asset_classes import asset_class_totals
from qoima.report.document import (
    Block,
    Column,
    Figure,
    FigureKind,
    KeyFigure,
    KeyFigures,
    NoticeLevel,
    Provenance,
    ReportDocument,
    Section,
    Series,
    Table,
    Text,
)

T = TypeVar("T")
TOP_PER_CLASS = 12  # instruments shown per asset class in the sunburst; the rest grouped
BOOK = "qoima book of record"


def committee_report(facts: RunFacts, *, instruments: Mapping[str, Instrument],
                     meta: tuple[tuple[str, str], ...] = ()) -> ReportDocument:
    builders: list[tuple[str, str, tuple[str, ...], Callable[[], Section]]] = [
        ("headline", "Headline", ("valuation",), lambda: _headline(facts)),
        ("allocation", "Allocation of the reserve", ("valuation",),
         lambda: _allocation(facts, instruments)),
        ("risk", "Risk", ("risk",), lambda: risk_section(_need(facts.assessment))),
        ("stress", "Stress tests and reverse stress", ("risk",),
         lambda: stress_section(_need(facts.assessment))),
        ("liquidity", "Liquidity", ("risk",), lambda: liquidity_section(_need(facts.assessment))),
        ("policy", "Investment policy compliance", ("policy",), lambda: _policy(facts)),
        ("gate", "Stability gate and tranches", ("gate", "tranches"), lambda: _gate(facts)),
        ("sizing", "Sizing of the digital-asset sleeve", ("sizing",), lambda: _sizing(facts)),
        ("orders", "Orders awaiting approval", ("orders",), lambda: _orders(facts)),
        ("audit", "Audit trail", ("audit",), lambda: _audit(facts)),
    ]
    sections = []
    for sid, title, steps, build in builders:
        failed = "; ".join(f"{s}: {facts.failures[s]}" for s in steps if s in facts.failures)
        if failed and sid not in ("gate",):
            sections.append(Section(sid, title, (), failed=failed))
            continue
        try:
            section = build()
        except Exception as error:  # a builder bug must not lose the whole report
            sections.append(Section(sid, title, (), failed=f"could not build: {error}"))
            continue
        sections.append(Section(section.id, section.title, section.blocks, failed))
    notices = sorted(facts.notices, key=lambda n: (n.level is not NoticeLevel.PROBLEM,
                                                   n.level is not NoticeLevel.WARNING))
    return ReportDocument(
        "Digital-asset reserve: daily report to the investment committee",
        f"As of {facts.as_of.isoformat()}", facts.as_of, facts.label, facts.synthetic,
        tuple(notices), tuple(sections),
        footer="Produced by qoima from the book of record; every figure states its as-of "
               "date and source.", audience="committee", meta=meta)


def _need(value: T | None) -> T:
    if value is None:
        raise ValueError("no result")
    return value


def compact(value: Decimal | float) -> str:
    """A headline amount a reader takes in at a glance: 47.60 bn, 812.3 M."""
    number = float(value)
    for size, unit in ((1e12, "trn"), (1e9, "bn"), (1e6, "M")):
        if abs(number) >= size:
            return f"{number / size:,.2f} {unit}"
    return f"{number:,.0f}"


def _prov(facts: RunFacts, source: str = BOOK) -> Provenance:
    return Provenance(facts.as_of, source, facts.synthetic)


def _headline(facts: RunFacts) -> Section:
    s = _need(facts.snapshot)
    prev = facts.previous
    change = None if prev is None else s.total_usd - prev.total_usd
    items = [KeyFigure("Reserve NAV (USD)", compact(s.total_usd),
                       f"{s.total_usd:,.2f}" + ("" if change is None or prev is None else
                                                f"; {change:+,.0f} since {prev.as_of}")),
             KeyFigure("Reserve NAV (KZT)", "—" if s.total_kzt is None else compact(s.total_kzt),
                       "" if s.usd_kzt is None else f"USD/KZT {s.usd_kzt.rate} "
                                                    f"({s.usd_kzt.rate_date})")]
    for gate in facts.gates or ():
        go = gate.decision.go
        items.append(KeyFigure(f"Stability gate ({gate.vehicle_code})",
                               "GO" if go else "WAIT",
                               "; ".join(gate.decision.reasons[:2]), "good" if go else "warn"))
    if facts.open_breaches is not None:
        n = len(facts.open_breaches)
        items.append(KeyFigure("Open policy breaches", str(n), "", "bad" if n else "good"))
    if facts.pending_orders is not None:
        items.append(KeyFigure("Orders awaiting approval", str(len(facts.pending_orders))))
    rows = []
    for v in s.vehicles:
        before = None if prev is None else prev.nav_usd.get(v.vehicle_code)
        rows.append((v.vehicle_code, v.name, str(v.nav_usd),
                     None if v.nav_kzt is None else str(v.nav_kzt),
                     None if before is None else str(v.nav_usd - before),
                     float(v.nav_usd / s.total_usd) if s.total_usd else None,
                     v.positions, v.unvalued_positions))
    table = Table("nav_by_vehicle", "Net asset value by vehicle", (
        Column("vehicle", "Vehicle"), Column("name", "Name"),
        Column("nav_usd", "NAV (USD)", "money"), Column("nav_kzt", "NAV (KZT)", "money"),
        Column("change_usd", "Change since last run (USD)", "money"),
        Column("share", "Share", "percent"), Column("positions", "Positions", "number", 0),
        Column("unvalued", "Unvalued", "number", 0)), tuple(rows), _prov(facts),
        "" if prev is None else f"Compared with run {prev.run_id} as of {prev.as_of}.")
    return Section("headline", "Headline", (KeyFigures(tuple(items)), table))


def _allocation(facts: RunFacts, instruments: Mapping[str, Instrument]) -> Section:
    s = _need(facts.snapshot)
    totals = asset_class_totals(s, instruments)
    labels: list[str] = []
    parents: list[str] = []
    values: list[float | None] = []
    for total in totals:
        labels.append(total.name)
        parents.append("")
        values.append(float(total.value_usd))
        shown = total.instruments[:TOP_PER_CLASS]
        for piece in shown:
            labels.append(piece.label)
            parents.append(total.name)
            values.append(float(piece.value_usd))
        rest = total.instruments[TOP_PER_CLASS:]
        if rest:
            labels.append(f"{len(rest)} more in {total.name}")
            parents.append(total.name)
            values.append(float(sum((p.value_usd for p in rest), Decimal(0))))
    blocks: list[Block] = [
        Figure("allocation_sunburst", "The reserve by asset class and instrument",
               FigureKind.SUNBURST, _prov(facts), x=tuple(labels), parents=tuple(parents),
               series=(Series("USD", tuple(values)),), value_format="money"),
        Table("allocation_by_class", "The reserve by asset class", (
            Column("class", "Asset class"), Column("usd", "Value (USD)", "money"),
            Column("kzt", "Value (KZT)", "money"), Column("share", "Share", "percent"),
            Column("items", "Line items", "number", 0)),
            tuple((t.name, str(t.value_usd),
                   None if t.value_kzt is None else str(t.value_kzt),
                   float(t.value_usd / s.total_usd) if s.total_usd else None, t.line_items)
                  for t in totals), _prov(facts))]
    for sizing in facts.sizings or ():
        r = sizing.result
        markers = [("current", sizing.sleeve_usd)]
        if r.recommended_usd is not None:
            markers.append(("recommended", r.recommended_usd))
        blocks.append(Figure(
            f"sleeve_range_{sizing.vehicle_code}",
            f"The digital-asset sleeve ({sizing.vehicle_code}) against its policy range",
            FigureKind.RANGE, _prov(facts), series=(
                Series("value", (sizing.sleeve_usd,)), Series("low", (r.min_usd,)),
                Series("high", (r.max_usd,))), markers=tuple(markers), value_format="money"))
    return Section("allocation", "Allocation of the reserve", tuple(blocks))


def _policy(facts: RunFacts) -> Section:
    outcomes = facts.policy or ()
    checked = Table("policy_checks", "Policies checked", (
        Column("vehicle", "Vehicle"), Column("version", "Policy version", "number", 0),
        Column("findings", "Findings", "number", 0), Column("blocking", "Blocking")),
        tuple((o.check.vehicle_code, o.check.version, len(o.check.findings),
               "yes" if o.check.blocking else "no") for o in outcomes), _prov(facts, "policy"))
    breaches = Table("open_breaches", "Open breaches (the breach register)", (
        Column("vehicle", "Vehicle"), Column("rule", "Rule"), Column("subject", "Subject"),
        Column("severity", "Severity"), Column("measured", "Measured"), Column("limit", "Limit"),
        Column("opened", "Opened", "date"), Column("message", "What")),
        tuple((b.vehicle_code, b.rule, b.subject, str(b.severity), b.measured, b.limit_text,
               b.opened_on.isoformat(), b.message) for b in facts.open_breaches or ()),
        _prov(facts, "breach register"))
    opened = sum(len(o.opened) for o in outcomes)
    closed = sum(len(o.closed) for o in outcomes)
    text = Text(f"{len(outcomes)} policies checked; {opened} breaches opened and {closed} "
                f"closed by this run; {len(facts.open_breaches or ())} open in total."
                if outcomes else "No policy is in force for any vehicle.")
    return Section("policy", "Investment policy compliance", (text, checked, breaches))


def _gate(facts: RunFacts) -> Section:
    blocks: list[Block] = []
    if "gate" in facts.failures:
        blocks.append(Text(f"The stability gate could not be evaluated: {facts.failures['gate']}"))
    for gate in facts.gates or ():
        d = gate.decision
        blocks.append(Text(f"{gate.vehicle_code}: {'GO' if d.go else 'WAIT'} — "
                           + ("; ".join(d.reasons) or "every required signal passes.")))
        blocks.append(Table(
            f"gate_{gate.vehicle_code}", f"Stability gate signals ({gate.vehicle_code})", (
                Column("signal", "Signal"), Column("series", "Series"),
                Column("value", "Value"), Column("threshold", "Threshold"),
                Column("passed", "Passed"), Column("blocks", "Blocks entry"),
                Column("data_as_of", "Data as of", "date")),
            tuple((r.id, r.series, _reading(r.value), r.threshold,
                   {True: "yes", False: "no", None: "n/a"}[r.passed], "yes" if r.blocks else "no",
                   r.data_as_of.isoformat() if r.data_as_of else None) for r in d.readings),
            Provenance(d.as_of, "stored market series", gate.synthetic)))
    rows = []
    for view in facts.plans or ():
        for st in view.states:
            rows.append((view.record.plan_id, st.tranche_id, str(st.status),
                         float(st.executed_usd), float(st.remaining_usd), st.reason,
                         st.earliest_release.isoformat() if st.earliest_release else None))
    if "tranches" in facts.failures:
        blocks.append(Text(f"Tranche status unavailable: {facts.failures['tranches']}"))
    blocks.append(Table("tranches", "Tranche plans", (
        Column("plan", "Plan"), Column("tranche", "Tranche"), Column("status", "Status"),
        Column("executed", "Executed (USD)", "money"), Column("remaining", "Remaining (USD)",
                                                              "money"),
        Column("reason", "Why"), Column("release", "Earliest release", "date")), tuple(rows),
        _prov(facts, "tranche plans"), "" if rows else "No tranche plan is recorded."))
    return Section("gate", "Stability gate and tranches", tuple(blocks))


def _reading(value: float | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return f"{value:.4g}"


def _sizing(facts: RunFacts) -> Section:
    blocks: list[Block] = []
    for sizing in facts.sizings or ():
        r = sizing.result
        blocks.append(Text(f"{sizing.vehicle_code}: {r.message}"))
        names = sorted({u.name for row in r.curve for u in row.uses})
        blocks.append(Figure(
            f"sizing_curve_{sizing.vehicle_code}", "Budget use by sleeve size",
            FigureKind.LINE, Provenance(sizing.as_of, "qoima sizing", facts.synthetic),
            x=tuple(f"{row.size_usd / 1e6:.0f}M" for row in r.curve),
            series=tuple(Series(n, tuple(_use(row.uses, n) for row in r.curve)) for n in names),
            y_title="share of budget used", value_format="percent",
            markers=(("budget limit", 1.0),)))
        mix = sizing.composition.result
        blocks.append(Table(
            f"mix_{sizing.vehicle_code}", "Composition at the recommended size", (
                Column("instrument", "Instrument"), Column("weight", "Weight", "percent")),
            tuple((c, float(w)) for c, w in zip(mix.codes, mix.weights, strict=True)),
            Provenance(sizing.as_of, "qoima optimizer", facts.synthetic)))
    if not blocks:
        blocks.append(Text("No vehicle has an allocation policy to size."))
    return Section("sizing", "Sizing of the digital-asset sleeve", tuple(blocks))


def _use(uses: tuple[BudgetUse, ...], name: str) -> float | None:
    """A budget's use at one size; None where it is undefined (nothing sells: infinite)."""
    for u in uses:
        if u.name == name:
            return u.use if math.isfinite(u.use) else None
    return None


def _orders(facts: RunFacts) -> Section:
    rows = []
    for o in facts.pending_orders or ():
        t = o.terms
        rows.append((o.order_id, t.vehicle_code, str(t.side), t.instrument_code,
                     float(t.quantity), float(t.quantity * t.estimated_price), o.maker,
                     ", ".join(a.user for a in o.approvals) or "none", str(o.status)))
    return Section("orders", "Orders awaiting approval", (Table(
        "pending_orders", "Orders awaiting approval (four eyes)", (
            Column("order", "Order"), Column("vehicle", "Vehicle"), Column("side", "Side"),
            Column("instrument", "Instrument"), Column("quantity", "Quantity", "number", 0),
            Column("usd", "Estimated (USD)", "money"), Column("maker", "Maker"),
            Column("approvals", "Approved by"), Column("status", "Status")),
        tuple(rows), _prov(facts, "order book"),
        "" if rows else "No order is waiting for approval."),))


def _audit(facts: RunFacts) -> Section:
    v = _need(facts.audit)
    blocks: list[Block] = [Text(
        f"The audit trail verified: {v.records} records, {v.checkpoints_checked} checkpoints "
        f"and {v.entries_checked} entries checked." if v.ok else
        "The audit trail FAILED verification: " + "; ".join(p.message for p in v.problems))]
    cp = facts.checkpoint
    if cp is not None:
        blocks.append(Table("audit_checkpoint", "Published audit checkpoint", (
            Column("id", "Checkpoint", "number", 0), Column("size", "Records", "number", 0),
            Column("root", "Merkle root (SHA-256, RFC 6962)"), Column("at", "Recorded at")),
            ((cp.checkpoint_id, cp.size, cp.root, cp.created_at.isoformat()),),
            _prov(facts, "audit trail")))
    return Section("audit", "Audit trail", tuple(blocks))
