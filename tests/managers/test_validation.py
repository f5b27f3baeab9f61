"""Statement checks: each problem found, located, and turned into one clear error."""

from __future__ import annotations

from datetime import date

import pytest

from qoima.domain.errors import InvalidInput
from qoima.managers import validation as v
from qoima.managers.model import (
    Exposure,
    FeeCharge,
    FeeKind,
    Flow,
    FlowKind,
    Statement,
    StatementSource,
)

from .factory import D, statement

SEP = (date(2026, 9, 1), date(2026, 9, 30))


def _checks(s: Statement, **kwargs: object) -> list[str]:
    return [i.check for i in v.statement_issues(s, **kwargs)]  # type: ignore[arg-type]


def test_a_statement_that_rolls_forward_has_no_issues() -> None:
    s = statement(*SEP, 1000, 50, flows=(Flow(date(2026, 9, 5), FlowKind.SUBSCRIPTION,
                                              D(100)),),
                  fees={FeeKind.MANAGEMENT: 2},
                  exposures=(Exposure("BTC", "cme", "marex", D(600)),
                             Exposure("USD", "bny", "bny", D(548))))
    assert s.closing_nav == 1148
    assert v.statement_issues(s, previous_period_end=date(2026, 8, 31),
                              known_assets={"BTC", "USD"}) == ()
    assert v.ensure_valid(s) is s


def test_roll_forward_failure_names_the_closing_nav() -> None:
    s = statement(*SEP, 1000, 50, fees={FeeKind.MANAGEMENT: 2}, closing=1100)
    [issue] = v.statement_issues(s)
    assert issue.check == v.ROLL_FORWARD and issue.field == "closing_nav"
    assert "1000 + flows 0 + P&L 50 - fees 2 = 1048" in issue.message
    assert "difference 52" in issue.message


def test_roll_forward_tolerance() -> None:
    s = statement(*SEP, 1000, 50, closing="1050.90")
    assert v.statement_issues(s) == ()  # within one currency unit
    strict = v.Tolerance(D("0.01"))
    assert _checks(s, roll_forward=strict) == [v.ROLL_FORWARD]


def test_exposures_must_add_up_to_nav_within_tolerance() -> None:
    near = statement(*SEP, 1_000_000, 0, exposures=(Exposure("BTC", "cme", "marex",
                                                             D(999_500)),))
    assert v.statement_issues(near) == ()  # 0.05 % off: inside 0.1 %
    far = statement(*SEP, 1_000_000, 0, exposures=(Exposure("BTC", "cme", "marex",
                                                            D(990_000)),))
    [issue] = v.statement_issues(far)
    assert issue.check == v.EXPOSURES_TOTAL and "difference -10000" in issue.message


def test_dates_negative_nav_unknown_assets_and_bad_amounts() -> None:
    s = Statement("hf-a", date(2026, 9, 1), date(2026, 9, 30), "USD", D(-5), D(5), D(0),
                  (Flow(date(2026, 10, 2), FlowKind.REDEMPTION, D(1), 4),
                   Flow(date(2026, 9, 2), FlowKind.SUBSCRIPTION, D(-1), 5)),
                  (FeeCharge(FeeKind.OTHER, D(-1), 6),),
                  (Exposure("XYZ", "v", "c", D(0), row=7),),
                  source=StatementSource("f.csv", None, (("opening_nav", 2),
                                                         ("period_start", 2))))
    issues = v.statement_issues(s, previous_period_end=date(2026, 9, 1),
                                known_assets={"BTC"})
    assert sorted(i.check for i in issues) == sorted([
        v.NEGATIVE_NAV, v.DATE_ORDER, v.FLOW_DATE, v.BAD_AMOUNT, v.BAD_AMOUNT,
        v.UNKNOWN_ASSET])
    assert [i.row for i in issues] == sorted(i.row for i in issues)
    by_check = {i.check: i for i in issues}
    assert by_check[v.UNKNOWN_ASSET].row == 7 and by_check[v.UNKNOWN_ASSET].field == "asset"
    assert by_check[v.FLOW_DATE].row == 4 and by_check[v.FLOW_DATE].field == "date"
    assert by_check[v.DATE_ORDER].field == "period_start"


def test_period_must_start_after_the_previous_statement() -> None:
    s = statement(*SEP, 1000, 0)
    assert _checks(s, previous_period_end=date(2026, 9, 30)) == [v.DATE_ORDER]
    assert _checks(s, previous_period_end=date(2026, 8, 31)) == []


def test_rejection_names_file_sheet_row_and_column() -> None:
    s = Statement("hf-a", *SEP, "USD", D(1000), D(0), D(900),
                  source=StatementSource("s.xlsx", "statement", (("closing_nav", 9),)))
    issues = v.statement_issues(s)
    error = v.rejection(s, issues, column=lambda f: {"closing_nav": "NAV"}.get(f, f))
    assert str(error).startswith("s.xlsx[statement]:9: field 'NAV': NAV does not roll")
    assert error.details["sheet"] == "statement" and error.details["row"] == 9
    assert error.details["column"] == "NAV"
    with pytest.raises(InvalidInput):
        v.ensure_valid(s)
