"""External managers through the app service, on SQLite and PostgreSQL: the demo's mandates
and a year of statements matched against the demo book, CSV and XLSX imports that book
their flows (replays change nothing), every bad statement refused naming file, sheet, row
and column with nothing written, performance equal to :mod:`qoima.managers` (and to
empyrical) on the stored statements, the look-through against the reported exposures,
late statements, fee mismatches, guideline breaches and permissions."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import empyrical
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qoima.app.demo.managers import load_demo_managers
from qoima.app.manager_records import mandate_from_json, mandate_json, statement_of
from qoima.bootstrap.wiring import open_reserve
from qoima.domain.enums import EntryCode, ManagerKind, Severity
from qoima.domain.errors import Conflict, Forbidden, InvalidInput
from qoima.ledger.entries import EntryDraft, PostingDraft
from qoima.managers import performance as perf
from qoima.managers.model import (
    FeeTerms,
    Flow,
    FlowKind,
    Guidelines,
    LiquidityTerms,
    ManagementFeeBasis,
    Mandate,
)
from qoima.managers.oversight import FEE_MISMATCH, LATE_STATEMENT, NAV_NOT_RECONCILING
from qoima.market.series import SeriesId
from tests.app.manager_world import (
    AS_OF,
    CASH,
    JAN_FEB,
    D,
    World,
    balance,
    build_world,
    import_file,
    month,
    new_manager,
    posted_sum,
    row_counts,
    write,
)

JAN, FEB = JAN_FEB


def _pg(url: str):  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"),
                           autocommit=True, connect_timeout=5)


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[World]:
    """One demo workspace per database for the module; each test uses its own managers."""
    if request.param == "sqlite":
        url = f"sqlite+pysqlite:///{tmp_path_factory.mktemp('managers') / 'qoima.db'}"
        schema = admin = None
    else:
        admin = str(request.getfixturevalue("pg_admin_url"))
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with _pg(admin) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        base = admin.replace("postgresql://", "postgresql+psycopg://", 1)
        url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    reserve = open_reserve(database_url=url, create=True)
    yield build_world(reserve)
    reserve.close()
    if schema is not None and admin is not None:
        with _pg(admin) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


# -- the demo ------------------------------------------------------------------------------


def test_demo_statements_agree_with_the_book_and_replay(world: World) -> None:
    assert world.first_load.statements_imported == len(world.demo.statements) == 57
    assert world.first_load.entries_posted == 0  # every flow was already in the book
    stored = world.service.statements()
    assert all(f.matched and f.entry_id.startswith("SF-") for s in stored for f in s.flows)
    # 5 subscriptions, hf-c's redemption, 4 calls; vc-f's August call and September
    # distribution come after the last venture statement (July)
    assert sum(len(s.flows) for s in stored) == 10
    with world.reserve.units(write=False) as uow:
        for record in stored:
            interest = f"{record.manager_code.upper()}-LP"
            units = sum(b for code, b in uow.journal.balances_as_of(record.period_end).items()
                        if f":{interest}@" in code)
            price = uow.market.latest_prices(record.period_end, [interest])[interest].price
            assert abs(units * price - record.closing_nav) <= D("0.01")
    before = row_counts(world.reserve)
    again = load_demo_managers(world.service, world.demo, actor="loader")
    assert (again.statements_imported, again.statements_replayed) == (0, 57)
    assert row_counts(world.reserve) == before


# -- imports -------------------------------------------------------------------------------


def test_csv_then_xlsx_book_their_flows_and_replay_changes_nothing(world: World,
                                                                   tmp_path: Path) -> None:
    mandate = new_manager(world, "hf-x")
    holding = "holding:state-fund/managers:HF-X-LP@fund-admin"
    jan = month(mandate, *JAN, D(0), pnl=D(200_000),
                flows=[Flow(JAN[0], FlowKind.SUBSCRIPTION, D(10_000_000))])
    cash_before = balance(world.reserve, CASH, JAN[0])
    first = import_file(world, write(jan, tmp_path / "hf-x-jan.csv"), "hf-x")
    assert first.posted == ("MGR-hf-x-2026-01-01-subscription",) and not first.replayed
    assert first.findings == ()
    assert balance(world.reserve, holding) == D(100_000) == posted_sum(world.reserve, holding)
    assert balance(world.reserve, CASH, JAN[0]) == cash_before - D(10_000_000)
    with world.reserve.units(write=False) as uow:
        quote = uow.market.latest_prices(JAN[1], ["HF-X-LP"])["HF-X-LP"]
    assert (quote.price_date, quote.price) == (JAN[1], (jan.closing_nav / 100_000).quantize(
        D("0.000001")))
    counts = row_counts(world.reserve)
    replay = import_file(world, tmp_path / "hf-x-jan.csv", "hf-x")
    assert replay.replayed and replay.record == first.record
    assert row_counts(world.reserve) == counts

    feb = month(mandate, *FEB, jan.closing_nav, pnl=D(-300_000), earlier=[jan],
                flows=[Flow(FEB[1], FlowKind.REDEMPTION, D(1_000_000))])
    second = import_file(world, write(feb, tmp_path / "hf-x-feb.xlsx"), "hf-x")
    assert second.posted == ("MGR-hf-x-2026-02-28-redemption",)
    assert second.record.source_sheet == "statement"
    redeemed = (D(1_000_000) / quote.price).quantize(D("0.000001"))
    assert balance(world.reserve, holding) == D(100_000) - redeemed == posted_sum(
        world.reserve, holding)
    assert statement_of(second.record) == feb.__class__(**{
        **{f: getattr(feb, f) for f in feb.__slots__ if f != "received_on"},
        "received_on": None})  # what the file says, as stored
    counts = row_counts(world.reserve)
    assert import_file(world, tmp_path / "hf-x-feb.xlsx", "hf-x").replayed
    assert row_counts(world.reserve) == counts
    assert world.reserve.audit.verify().ok
    with world.reserve.units(write=False) as uow:
        actions = {(r.action, r.object_id) for r in uow.audit.iter_records()}
    assert {("manager.statement_imported", "hf-x"), ("mandate.added", "hf-x"),
            ("entry.posted", "MGR-hf-x-2026-02-28-redemption")} <= actions
    corrected = replace(feb, pnl=feb.pnl + 1, closing_nav=feb.closing_nav + 1,
                        exposures=(*feb.exposures[:-1], replace(
                            feb.exposures[-1], market_value=feb.exposures[-1].market_value + 1)))
    with pytest.raises(InvalidInput, match="not after the previous statement's end"):
        import_file(world, write(corrected, tmp_path / "hf-x-feb-v2.csv"), "hf-x")
    with pytest.raises(Conflict, match="already has a statement"):
        world.service.import_statement(corrected, file_hash="another file", actor="ops")
    assert row_counts(world.reserve) == counts


def _bad_cases(good: str) -> dict[str, tuple[str, int, str]]:
    """Variants of a good CSV: name -> (text, row at fault, column named)."""
    lines = good.splitlines()
    row = {line.split(",")[2]: i for i, line in enumerate(lines, 1)}
    closing = row["closing_nav"]

    def edit(index: int, column: int, value: str) -> str:
        cells = lines[index - 1].split(",")
        cells[column] = value
        return "\n".join([*lines[:index - 1], ",".join(cells), *lines[index:]]) + "\n"

    header = lines[0].split(",")
    no_custodian = "\n".join(",".join(c for i, c in enumerate(line.split(","))
                                      if i != header.index("custodian")) for line in lines)
    exposure_row = next(i for i, line in enumerate(lines, 1) if ",BTC," in line)
    return {
        "nav does not roll forward": (edit(closing, 8, "9999999"), closing, "amount"),
        "missing column": (no_custodian + "\n", 1, "custodian"),
        "unknown asset": (edit(exposure_row, 5, "DOGE"), exposure_row, "asset"),
        "date before the previous statement": (
            good.replace("2026-02-01", "2025-12-01").replace("2026-02-28", "2025-12-31"),
            2, "period_start"),
    }


def test_bad_statements_are_refused_naming_the_place_and_write_nothing(
        world: World, tmp_path: Path) -> None:
    mandate = new_manager(world, "hf-y")
    jan = month(mandate, *JAN, D(0), flows=[Flow(JAN[0], FlowKind.SUBSCRIPTION, D(5_000_000))])
    import_file(world, write(jan, tmp_path / "jan.csv"), "hf-y")
    feb = month(mandate, *FEB, jan.closing_nav, pnl=D(10_000), earlier=[jan],
                flows=[Flow(FEB[1], FlowKind.SUBSCRIPTION, D(1_000_000))])
    good = write(feb, tmp_path / "feb.csv").read_text()
    counts = row_counts(world.reserve)
    for name, (text, row, column) in _bad_cases(good).items():
        path = tmp_path / f"{name.replace(' ', '-')}.csv"
        path.write_text(text)
        with pytest.raises(InvalidInput) as caught:
            import_file(world, path, "hf-y")
        error = caught.value
        assert error.origin is not None and error.origin.file == str(path), name
        assert (error.origin.line, error.field) == (row, column), (name, str(error))
        assert row_counts(world.reserve) == counts, name
    negative = replace(feb, pnl=feb.pnl - feb.closing_nav - 1, closing_nav=D(-1), exposures=())
    xlsx = write(negative, tmp_path / "negative.xlsx")
    with pytest.raises(InvalidInput, match="closing_nav is negative") as caught:
        import_file(world, xlsx, "hf-y")
    assert caught.value.origin is not None
    assert caught.value.origin.file == f"{xlsx}[statement]"
    assert caught.value.details["sheet"] == "statement" and caught.value.origin.line > 1
    # the service checks again what it is handed, whoever read the file
    for statement, field in ((replace(feb, period_start=date(2025, 12, 1),
                                      period_end=date(2025, 12, 31), flows=()), "period_start"),
                             (replace(feb, exposures=(replace(feb.exposures[0], asset="DOGE"),
                                                      *feb.exposures[1:])), "asset")):
        with pytest.raises(InvalidInput) as caught:
            world.service.import_statement(statement, file_hash="x" * 64, actor="ops")
        assert caught.value.field == field
    assert row_counts(world.reserve) == counts
    assert not import_file(world, write(feb, tmp_path / "feb-good.csv"), "hf-y").replayed


def test_a_flow_the_book_already_holds_is_matched_not_posted(world: World) -> None:
    mandate = new_manager(world, "vc-x", venture=True)
    holding = "holding:state-fund/venture:VC-X-LP@fund-admin"
    world.reserve.book.post([EntryDraft("CALL-NOTICE-VC-X-1", EntryCode.CAPITAL_CALL, JAN[0] +
                                        timedelta(days=14), (
        PostingDraft(holding, D(30_000), unit_cost_usd=D(100)),
        PostingDraft("external:VC-X-LP", D(-30_000)),
        PostingDraft(CASH, D(-3_000_000)), PostingDraft("external:USD", D(3_000_000))))],
        actor="ops")
    jan = month(mandate, *JAN, D(0), flows=[
        Flow(date(2026, 1, 15), FlowKind.CAPITAL_CALL, D("3000000.40")),  # within USD 1
        Flow(date(2026, 1, 15), FlowKind.CAPITAL_CALL, D(500_000))], lines=())
    result = world.service.import_statement(jan, file_hash="vc-x-jan", actor="ops")
    assert result.matched == ("CALL-NOTICE-VC-X-1",)
    assert result.posted == ("MGR-vc-x-2026-01-15-capital_call-2",)
    assert balance(world.reserve, holding) == D(35_000) == posted_sum(world.reserve, holding)


# -- performance, look-through, oversight ------------------------------------------------------


def _btc(world: World) -> dict[date, float]:
    with world.reserve.units(write=False) as uow:
        series = uow.market.load_series(SeriesId.parse("BTC"))
    assert series is not None
    return {bar.day: float(bar.close) for bar in series.bars}


def test_performance_equals_the_manager_functions_on_the_stored_statements(
        world: World) -> None:
    statements = [s for s in world.demo.statements if s.manager_code == "hf-c"]
    result = world.service.performance("hf-c", benchmark="BTC")
    card = result.scorecard
    assert result.as_of == statements[-1].period_end == date(2026, 9, 30)
    returns = [r.value for r in result.returns]
    by_hand = [(s.closing_nav - s.opening_nav - s.net_flows) / (s.opening_nav + sum(
        (f.into_fund * D((s.period_end - f.on_date).days + 1) / D(s.days) for f in s.flows),
        D(0))) for s in statements]
    assert returns == pytest.approx([float(r) for r in by_hand], rel=1e-12)
    assert card.twr == pytest.approx(float(np.prod([1 + r for r in returns]) - 1), rel=1e-12)
    assert card.irr == perf.xirr(perf.investor_flows(statements))
    assert card.sharpe == pytest.approx(empyrical.sharpe_ratio(np.array(returns),
                                                               annualization=12), rel=1e-9)
    assert card.max_drawdown == pytest.approx(empyrical.max_drawdown(np.array(returns)))
    bench = perf.benchmark_period_returns(result.returns, _btc(world))
    assert result.benchmark_returns == tuple(bench)
    alpha, beta = empyrical.alpha_beta(np.array(returns), np.array(bench), annualization=12)
    assert card.alpha_beta is not None
    assert (card.alpha_beta.beta, card.alpha_beta.annual_alpha) == pytest.approx((beta, alpha))
    assert card.correlation == pytest.approx(float(np.corrcoef(returns, bench)[0, 1]))
    venture = [s for s in world.demo.statements if s.manager_code == "vc-f"]
    multiples = world.service.scorecard("vc-f", AS_OF).multiples
    called = sum(f.amount for s in venture for f in s.flows)
    assert multiples is not None
    assert multiples.tvpi == pytest.approx(float(venture[-1].closing_nav / called))
    assert multiples.dpi == 0.0


def test_look_through_adds_up_the_reported_exposures(world: World) -> None:
    result = world.service.look_through(AS_OF)
    reported = world.service.reported_exposures(AS_OF)
    book = {m.instrument_code: m.book_value_usd for m in result.managers
            if m.status == "reported" and m.book_value_usd is not None}
    assert set(reported) == set(book) and "VC-G-LP" not in reported
    assert "vc-g" in result.flagged
    assert any(f.subject == "vc-g" and "declared proxy" in f.message for f in result.findings)
    for total in result.by("asset"):
        if total.key == "USD":
            continue
        expected = sum((D(repr(shares.get(total.key, 0.0))) * book[code]
                        for code, shares in reported.items()), D(0))
        assert abs(total.value_usd - expected) <= D("0.05"), total.key
    reported_value = sum(book.values(), D(0))
    assert abs(result.total("venue") - reported_value) <= D("0.20")
    assert abs(result.total("custodian") - reported_value) <= D("0.20")
    assert reported["HF-A-LP"] == pytest.approx({"BTC": 0.01, "ETH": 0.01}, abs=1e-8)
    folded = world.service.reported_exposures(AS_OF, factors=["BTC", "ETH"])
    assert folded["HF-D-LP"] == pytest.approx({"BTC": 0.05, "ETH": 0.15}, abs=1e-8)
    early = world.service.look_through(date(2025, 11, 15))
    assert early.totals == () and {m.status for m in early.managers} == {"no_statement"}


def test_late_and_missing_statements(world: World) -> None:
    demo = {m.manager_code for m in world.demo.mandates}  # other tests add managers
    late = [f for f in world.service.oversight(AS_OF)
            if f.rule == LATE_STATEMENT and f.subject in demo]
    assert [(f.subject, f.severity) for f in late] == [("hf-d", Severity.WARNING)]
    assert "2026-03-31 arrived on 2026-05-20" in late[0].message
    later = world.service.scorecard("hf-a", date(2026, 12, 15)).findings
    missing = [f for f in later if f.rule == LATE_STATEMENT]
    assert [f.severity for f in missing] == [Severity.ERROR]
    assert "2026-10-31" in missing[0].message


def test_fee_mismatches_and_guideline_breaches_are_findings(world: World) -> None:
    card = world.service.scorecard("hf-e", AS_OF)
    fees = [f for f in card.findings if f.rule == FEE_MISMATCH]
    assert [(f.subject, f.severity) for f in fees] == [("hf-e/management:2026-03-31",
                                                        Severity.ERROR)]
    mandate = new_manager(world, "hf-z", guidelines=Guidelines(max_single_asset_share=D("0.6")))
    jan = month(mandate, *JAN, D(0), fee_factor=D(2), lines=(("BTC", D("0.7")),),
                flows=[Flow(JAN[0], FlowKind.SUBSCRIPTION, D(2_000_000))])
    result = world.service.import_statement(jan, file_hash="hf-z-jan", actor="ops")
    rules = {(f.rule, f.severity) for f in result.findings}
    assert (FEE_MISMATCH, Severity.ERROR) in rules
    assert ("mandate.single_asset", Severity.BLOCKING) in rules
    stored = world.service.scorecard("hf-z", JAN[1]).findings
    assert {"mandate.single_asset", FEE_MISMATCH} <= {f.rule for f in stored}
    feb = month(mandate, *FEB, jan.closing_nav + 50_000, earlier=[jan])
    second = world.service.import_statement(feb, file_hash="hf-z-feb", actor="ops")
    assert any(f.rule == NAV_NOT_RECONCILING and "differs from the previous" in f.message
               for f in second.findings)


def test_who_may_set_mandates_and_import_statements(world: World) -> None:
    mandate = new_manager(world, "hf-w")
    for actor in ("pm", "ops", "auditor"):
        with pytest.raises(Forbidden):
            world.service.set_mandate(replace(mandate, strategy="changed"), actor=actor)
    for actor in ("pm", "cm1", "auditor", "nobody"):
        with pytest.raises(Forbidden):
            world.service.import_statement(month(mandate, *JAN, D(0)), file_hash="w",
                                           actor=actor)
    assert world.service.set_mandate(mandate, actor="admin").record.version == 1  # unchanged
    changed = world.service.set_mandate(replace(mandate, statement_lag_days=45), actor="admin")
    assert changed.record.version == 2 and changed.mandate.statement_lag_days == 45
    assert [r.version for r in world.service.mandate_history("hf-w")] == [1, 2]
    assert world.service.mandate("hf-w").mandate == changed.mandate


# -- the stored form of a mandate --------------------------------------------------------------

_rates = st.decimals(min_value=0, max_value=D("0.1"), places=4)


@given(management=_rates, performance=st.decimals(min_value=0, max_value=D("0.5"), places=3),
       lag=st.integers(0, 120), venture=st.booleans(), gate=st.none() | st.decimals(
           min_value=D("0.01"), max_value=1, places=2),
       venues=st.lists(st.sampled_from(["cme", "okx", "deribit", "bny"]), unique=True),
       leverage=st.none() | st.decimals(min_value=D("0.5"), max_value=10, places=2))
def test_a_mandate_reads_back_from_its_stored_json(
        management: Decimal, performance: Decimal, lag: int, venture: bool,
        gate: Decimal | None, venues: list[str], leverage: Decimal | None) -> None:
    fees = FeeTerms(management_rate=management, performance_rate=performance,
                    carry_rate=D("0.2") if venture else D(0),
                    management_basis=ManagementFeeBasis.COMMITMENT if venture
                    else ManagementFeeBasis.NAV)
    mandate = Mandate(
        "hf-p", "state-fund", ManagerKind.VENTURE_FUND if venture else ManagerKind.HEDGE_FUND,
        "strategy", date(2026, 1, 1), fees,
        LiquidityTerms(notice_days=lag, gate=gate, term_years=10 if venture else None),
        Guidelines(max_leverage=leverage, allowed_venues=tuple(venues),
                   asset_share_overrides=(("BTC", D("0.6")),)),
        commitment=D(50_000_000) if venture else None, statement_lag_days=lag)
    assert mandate_from_json(mandate_json(mandate)) == mandate
