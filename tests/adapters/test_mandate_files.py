"""Mandate YAML: the examples read; each mistake names its line and key."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from qoima.adapters.mandate_files import parse_mandate, read_mandate
from qoima.domain.enums import ManagerKind, Severity
from qoima.domain.errors import InvalidInput
from qoima.managers.model import Frequency, HurdleKind, ManagementFeeBasis

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "managers"

MINIMAL = """\
manager: hf-b
vehicle: state-fund
kind: hedge_fund
strategy: macro
inception: "2026-01-01"
fees:
  management_rate: 2%
  performance_rate: 0.2
  hurdle: soft
  hurdle_rate: 6%
"""


def test_examples_read() -> None:
    hf = read_mandate(EXAMPLES / "mandate-hf-a.yaml")
    assert (hf.manager_code, hf.kind, hf.inception) == ("hf-a", ManagerKind.HEDGE_FUND,
                                                         date(2025, 12, 1))
    assert hf.fees.management_rate == Decimal("0.015")
    assert hf.fees.crystallisation is Frequency.ANNUAL
    assert hf.liquidity.gate == Decimal("0.25") and hf.liquidity.notice_days == 45
    assert hf.guidelines.max_leverage == 3
    assert hf.guidelines.asset_share_overrides == (("USDC", Decimal("0.2")),
                                                   ("USDT", Decimal("0.2")))
    assert hf.allocation == 100_000_000 and hf.statement_lag_days == 30
    vc = read_mandate(EXAMPLES / "mandate-vc-f.yaml")
    assert vc.kind is ManagerKind.VENTURE_FUND and vc.commitment == 100_000_000
    assert vc.fees.management_basis is ManagementFeeBasis.COMMITMENT
    assert (vc.fees.carry_rate, vc.fees.preferred_return, vc.fees.catch_up) == (
        Decimal("0.2"), Decimal("0.08"), Decimal(1))
    assert vc.liquidity.closed_end and vc.guidelines.severity is Severity.WARNING
    assert vc.statement_frequency is Frequency.QUARTERLY


def test_defaults_and_percentages() -> None:
    m = parse_mandate(MINIMAL)
    assert m.fees.hurdle is HurdleKind.SOFT and m.fees.hurdle_rate == Decimal("0.06")
    assert m.fees.performance_rate == Decimal("0.2")
    assert m.guidelines.max_leverage is None and m.benchmark == "BTC"


def _error(text: str) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        parse_mandate(text, source="m.yaml")
    return caught.value


@pytest.mark.parametrize(("change", "line", "field", "words"), [
    (("  management_rate: 2%", "  management_rate: 20%"), 7, "management_rate",
     "between 0 and 10 %"),
    (("  performance_rate: 0.2", "  performance_rate: lots"), 8, "performance_rate",
     "not a number"),
    (("  hurdle: soft", "  hurdle: squishy"), 9, "hurdle", "'squishy' is not one of"),
    (("strategy: macro", "strategy: macro\ncolour: red"), 5, "colour", "unknown field"),
    (("inception: \"2026-01-01\"", "inception: 1/1/2026"), 5, "inception", "not a date"),
    # a missing key has no line of its own: the error points at the file's start
    (("kind: hedge_fund", "kind: venture_fund"), 1, "commitment", "needs a commitment"),
    (("  hurdle: soft\n", "  hurdle: none\n"), 9, "hurdle", "hurdle_rate needs hurdle"),
])
def test_errors_name_line_and_key(change: tuple[str, str], line: int, field: str,
                                  words: str) -> None:
    assert change[0] in MINIMAL
    error = _error(MINIMAL.replace(*change))
    assert words in str(error)
    assert error.field == field
    assert error.origin is not None and error.origin.file == "m.yaml"
    assert error.origin.line == line


def test_section_errors() -> None:
    text = MINIMAL + "guidelines:\n  max_single_asset_share: 150%\n"
    error = _error(text)
    assert error.origin is not None and error.origin.line == 12
    assert error.field == "max_single_asset_share"
    text = MINIMAL + "liquidity:\n  gate: 0%\n"
    error = _error(text)
    assert "gate" in str(error) and error.origin is not None and error.origin.line == 12
    text = MINIMAL + "statements: {frequency: none}\n"
    assert "statements need a frequency" in str(_error(text))
    with pytest.raises(InvalidInput, match="file not found"):
        read_mandate(Path("/nonexistent.yaml"))
