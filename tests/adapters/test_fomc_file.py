"""FOMC decision files and decisions read off the target-rate series."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from qoima.adapters.price_files import read_fomc_decisions
from qoima.domain.errors import InvalidInput
from qoima.risk.events import DecisionKind, FomcDecision, decisions_from_target_rate

MARKET = Path(__file__).resolve().parents[3] / "shared" / "data" / "market"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "fomc.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_decisions_with_their_kind(tmp_path: Path) -> None:
    path = _write(tmp_path, "date,change_bps,upper_bound_pct\n2022-03-16,25,0.50\n"
                            "2022-05-04,50,1.00\n2024-09-18,-50,5.00\n2025-01-29,0,4.50\n")
    decisions = read_fomc_decisions(path)
    assert decisions[0] == FomcDecision(date(2022, 3, 16), 25, 0.5)
    assert [d.kind for d in decisions] == [DecisionKind.HIKE, DecisionKind.HIKE,
                                           DecisionKind.CUT, DecisionKind.HOLD]


@pytest.mark.parametrize(("body", "where"), [
    ("2022-03-16,25.5,0.50\n", "fomc.csv:2: field 'change_bps'"),
    ("2022-03-16,25,\n", "fomc.csv:2: field 'upper_bound_pct'"),
    ("2022-13-16,25,0.50\n", "fomc.csv:2: field 'date'"),
    ("2022-03-16,25,0.50\n2022-03-15,0,0.50\n", "fomc.csv:3: field 'date'"),
])
def test_bad_rows_name_file_line_and_field(tmp_path: Path, body: str, where: str) -> None:
    path = _write(tmp_path, "date,change_bps,upper_bound_pct\n" + body)
    with pytest.raises(InvalidInput) as raised:
        read_fomc_decisions(path)
    assert where in str(raised.value)


def test_missing_column_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="missing"):
        read_fomc_decisions(_write(tmp_path, "date,change_bps\n2022-03-16,25\n"))


def test_target_rate_changes_become_hikes_and_cuts() -> None:
    days = [date(2020, 3, d) for d in (2, 3, 4, 15, 16)]
    decisions = decisions_from_target_rate(days, [1.75, 1.25, 1.25, 0.25, 0.25])
    assert decisions == [FomcDecision(date(2020, 3, 3), -50, 1.25),
                         FomcDecision(date(2020, 3, 15), -100, 0.25)]


@pytest.mark.realdata
@pytest.mark.skipif(not MARKET.is_dir(), reason="../shared/data/market is absent")
def test_the_published_file_reads_completely() -> None:
    decisions = read_fomc_decisions(MARKET / "fomc.csv")
    assert len(decisions) == 142
    assert decisions[0] == FomcDecision(date(2009, 1, 28), 0, 0.25)
