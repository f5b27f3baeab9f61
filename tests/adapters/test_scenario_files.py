"""Scenario and ARA input files: good files parse; every bad input names file, line, field."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from qoima.adapters.scenario_files import read_ara_inputs, read_stress_scenarios
from qoima.domain.errors import InvalidInput
from qoima.risk.adequacy import ExchangeRegime
from qoima.risk.scenarios import HistoricalScenario, HypotheticalScenario, ScenarioExtras

GOOD = """\
scenarios:
  - name: shock
    description: BTC down
    moves:
      BTC: "-0.40"
      DGS10: "-1.5"
      USD/KZT: "0.1"
    extra:
      etf_discount: "0.03"
      beta_amplification: "2"
      amplified_factors: [BTC]
  - name: window
    kind: historical
    description: a past window
    start: "2022-11-06"
    end: "2022-11-21"
    recorded_moves: {BTC: "-0.245584"}
"""

ARA = """\
regime: fixed
exports_usd: "10_000"
broad_money_usd: "20000"
short_term_debt_usd: "3000"
other_liabilities_usd: "4000"
reserves_excluding_sleeve_usd: "9000"
"""


def write(tmp_path: Path, text: str, name: str = "scenarios.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error(tmp_path: Path, text: str, reader: object = read_stress_scenarios) -> InvalidInput:
    path = write(tmp_path, text)
    with pytest.raises(InvalidInput) as caught:
        reader(path)  # type: ignore[operator]
    return caught.value


def test_good_file(tmp_path: Path) -> None:
    shock, window = read_stress_scenarios(write(tmp_path, GOOD))
    assert shock == HypotheticalScenario(
        "shock", "BTC down", {"BTC": -0.40, "DGS10": -1.5, "USD/KZT": 0.1},
        ScenarioExtras(etf_discount=0.03, beta_amplification=2.0, amplified_factors=("BTC",)))
    assert window == HistoricalScenario("window", date(2022, 11, 6), date(2022, 11, 21),
                                        "a past window", {"BTC": -0.245584})


@pytest.mark.parametrize(("text", "line", "field", "message"), [
    ("scenarios:\n  - name: a\n    moves: {BTC: lots}\n", 3, "BTC", "not a number"),
    ("scenarios:\n  - name: a\n    moves:\n      BTC: \"-1.2\"\n", 4, "BTC", "100 %"),
    ("scenarios:\n  - name: a\n    kind: future\n    moves: {BTC: \"1\"}\n", 3, "kind",
     "future"),
    ("scenarios:\n  - name: a\n    moves: {BTC: \"1\"}\n    start: \"2020-01-01\"\n", 4,
     "start", "historical"),
    ("scenarios:\n  - name: a\n    description: x\n", 2, "moves", "at least one move"),
    ("scenarios:\n  - description: x\n    moves: {BTC: \"1\"}\n", 2, "name", "missing"),
    ("scenarios:\n  - name: a\n    colour: red\n    moves: {BTC: \"1\"}\n", 3, "colour",
     "unknown field"),
    ("scenarios:\n  - name: a\n    moves: {BTC: \"-0.1\"}\n  - name: a\n"
     "    moves: {BTC: \"-0.2\"}\n", 4, "name", "twice"),
    ("scenarios:\n  - name: a\n    moves: {BTC: \"-0.1\"}\n    extra:\n"
     "      etf_discount: \"1.5\"\n", 5, "etf_discount", "fraction"),
    ("scenarios:\n  - name: a\n    moves: {BTC: \"-0.1\"}\n    extra:\n      gamma: \"1\"\n",
     5, "gamma", "unknown field"),
    ("scenarios:\n  - name: a\n    kind: historical\n    start: \"2020-13-01\"\n"
     "    end: \"2020-03-01\"\n", 4, "start", "not a date"),
    ("scenarios:\n  - name: a\n    kind: historical\n    start: \"2020-03-01\"\n"
     "    end: \"2020-02-01\"\n", 5, "end", "not after"),
    ("scenarios:\n  - name: a\n    kind: historical\n    start: \"2020-01-01\"\n"
     "    end: \"2020-02-01\"\n    recorded_moves: {WTI: \"-1\"}\n", 6, "WTI", "100 %"),
    ("scenarios: []\n", 1, "scenarios", "no scenarios"),
    ("stresses: []\n", 1, "stresses", "unknown field"),
])
def test_bad_scenario_files_name_line_and_field(tmp_path: Path, text: str, line: int,
                                                field: str, message: str) -> None:
    caught = error(tmp_path, text)
    assert caught.origin is not None
    assert caught.origin.file.endswith("scenarios.yaml")
    assert (caught.origin.line, caught.field) == (line, field)
    assert message in str(caught)


def test_missing_and_invalid_yaml_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="file not found"):
        read_stress_scenarios(tmp_path / "absent.yaml")
    caught = error(tmp_path, "scenarios:\n  - name: [unclosed\n")
    assert "not valid YAML" in str(caught)


def test_ara_file(tmp_path: Path) -> None:
    inputs = read_ara_inputs(write(tmp_path, ARA, "ara.yaml"))
    assert inputs.regime is ExchangeRegime.FIXED
    assert (inputs.exports_usd, inputs.broad_money_usd, inputs.short_term_debt_usd,
            inputs.other_liabilities_usd, inputs.reserves_excluding_sleeve_usd) == (
        10_000.0, 20_000.0, 3_000.0, 4_000.0, 9_000.0)
    assert inputs.illustrative and inputs.commodity_buffer_usd == 0.0
    official = read_ara_inputs(write(tmp_path, ARA + "illustrative: \"false\"\n"
                                     "commodity_buffer_usd: \"500\"\nas_of: \"2025-06-30\"\n",
                                     "ara.yaml"))
    assert not official.illustrative and official.commodity_buffer_usd == 500.0
    assert official.as_of_date == date(2025, 6, 30)


@pytest.mark.parametrize(("text", "line", "field", "message"), [
    (ARA.replace("regime: fixed", "regime: pegged"), 1, "regime", "pegged"),
    (ARA.replace("exports_usd: \"10_000\"", "exports_usd: \"-5\""), 2, "exports_usd", ">= 0"),
    (ARA.replace("broad_money_usd: \"20000\"\n", ""), 0, "broad_money_usd", "required"),
    (ARA + "illustrative: maybe\n", 7, "illustrative", "true or false"),
    (ARA + "gdp_usd: \"1\"\n", 7, "gdp_usd", "unknown field"),
    (ARA + "commodity_buffer_usd: \"-1\"\n", 7, "commodity_buffer_usd", ">= 0"),
])
def test_bad_ara_files_name_line_and_field(tmp_path: Path, text: str, line: int, field: str,
                                           message: str) -> None:
    caught = error(tmp_path, text, read_ara_inputs)
    assert caught.origin is not None
    if line:
        assert caught.origin.line == line
    assert caught.field == field
    assert message in str(caught)
