"""Reading stress scenarios and reserve-adequacy inputs from YAML, with file/line/field errors.

Scenario file (``examples/stress-scenarios.yaml``)::

    scenarios:
      - name: btc-minus-50
        description: BTC halves
        moves: {BTC: "-0.50", ETH: "-0.60"}       # fractions; rates in percentage points
        extra: {etf_discount: "0.05", beta_amplification: "1.5"}
      - name: my-window
        kind: historical
        start: "2021-11-08"
        end: "2022-11-21"
        recorded_moves: {BTC: "-0.766346"}

ARA inputs file (``examples/ara-inputs.yaml``): the fields of
:class:`~qoima.risk.adequacy.AraInputs` at the top level, amounts in USD.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

from qoima.adapters.fields import parse_amount, parse_date, parse_enum
from qoima.adapters.located_yaml import Mapping, as_list, as_mapping, load_yaml
from qoima.domain.errors import InvalidInput, Origin, QoimaError
from qoima.risk.adequacy import AraInputs, ExchangeRegime
from qoima.risk.scenarios import (
    HistoricalScenario,
    HypotheticalScenario,
    Scenario,
    ScenarioExtras,
    check_moves,
)

T = TypeVar("T")
_SCENARIO_KEYS = {"name", "kind", "description", "moves", "extra", "start", "end",
                  "recorded_moves"}
_EXTRA_KEYS = {"etf_discount", "etf_liquidity_haircut", "beta_amplification",
               "amplified_factors"}
_ARA_AMOUNTS = ("exports_usd", "broad_money_usd", "short_term_debt_usd",
                "other_liabilities_usd", "reserves_excluding_sleeve_usd")
_ARA_KEYS = {*_ARA_AMOUNTS, "regime", "commodity_buffer_usd", "as_of", "source",
             "illustrative"}


def _top(path: Path) -> Mapping:
    if not path.exists():
        raise InvalidInput("file not found", origin=Origin(str(path)))
    return as_mapping(load_yaml(path), what="file", origin=Origin(str(path), 1))


def _located(build: Callable[[], T], origin: Origin, field: str | None = None) -> T:
    try:
        return build()
    except QoimaError as error:
        raise error.with_origin(origin, field) from None


def _built(build: Callable[[], T], m: Mapping) -> T:
    """Run a constructor; its error points at the line of the field it names."""
    try:
        return build()
    except QoimaError as error:
        key = error.field if error.field in m.values else None
        raise error.with_origin(m.origin(key)) from None


def _number(m: Mapping, key: str, *, required: bool = True) -> float | None:
    value = parse_amount(m.string(key), origin=m.origin(key), field=key, required=required)
    return None if value is None else float(value)


def _moves(m: Mapping, key: str) -> dict[str, float]:
    raw = m.get(key)
    if raw is None:
        return {}
    moves = as_mapping(raw, what=key, origin=m.origin(key))
    out: dict[str, float] = {}
    for factor in moves.values:
        value = _number(moves, factor)
        assert value is not None
        out.update(_located(partial(check_moves, {factor: value}), moves.origin(factor),
                            f"{key}.{factor}"))
    return out


def _extra(m: Mapping) -> ScenarioExtras:
    raw = m.get("extra")
    if raw is None:
        return ScenarioExtras()
    e = as_mapping(raw, what="extra", origin=m.origin("extra"))
    e.check_keys(_EXTRA_KEYS)
    default = ScenarioExtras()
    discount = _number(e, "etf_discount", required=False)
    haircut = _number(e, "etf_liquidity_haircut", required=False)
    amplification = _number(e, "beta_amplification", required=False)
    factors = default.amplified_factors
    if e.get("amplified_factors") is not None:
        names = as_list(e.get("amplified_factors"), what="amplified_factors",
                        origin=e.origin("amplified_factors"))
        if not names or not all(isinstance(n, str) and n for n in names):
            raise InvalidInput("amplified_factors must be a list of factor names",
                               origin=e.origin("amplified_factors"), field="amplified_factors")
        factors = tuple(names)
    return _built(lambda: ScenarioExtras(
        default.etf_discount if discount is None else discount,
        default.etf_liquidity_haircut if haircut is None else haircut,
        default.beta_amplification if amplification is None else amplification,
        factors), e)


def _scenario(m: Mapping) -> Scenario:
    m.check_keys(_SCENARIO_KEYS)
    name = m.require("name")
    if not isinstance(name, str):
        raise InvalidInput("name must be a plain word", origin=m.origin("name"), field="name")
    kind = m.string("kind") or "hypothetical"
    description = m.string("description") or ""
    if kind == "hypothetical":
        for key in ("start", "end", "recorded_moves"):
            if key in m.values:
                raise InvalidInput(f"{key!r} belongs to historical scenarios",
                                   origin=m.origin(key), field=key)
        moves = _moves(m, "moves")
        if not moves:
            raise InvalidInput("a hypothetical scenario needs at least one move",
                               origin=m.origin("moves" if "moves" in m.values else None),
                               field="moves")
        extra = _extra(m)
        return _built(lambda: HypotheticalScenario(name, description, moves, extra), m)
    if kind == "historical":
        for key in ("moves", "extra"):
            if key in m.values:
                raise InvalidInput(f"{key!r} belongs to hypothetical scenarios",
                                   origin=m.origin(key), field=key)
        start = parse_date(m.string("start"), origin=m.origin("start"), field="start")
        end = parse_date(m.string("end"), origin=m.origin("end"), field="end")
        recorded = _moves(m, "recorded_moves")
        return _built(lambda: HistoricalScenario(name, start, end, description, recorded), m)
    raise InvalidInput(f"{kind!r} is not one of: historical, hypothetical",
                       origin=m.origin("kind"), field="kind")


def read_stress_scenarios(path: Path) -> tuple[Scenario, ...]:
    """Every scenario of a scenario file, in file order; names must be unique."""
    top = _top(path)
    top.check_keys({"scenarios"})
    raw = as_list(top.get("scenarios"), what="scenarios", origin=top.origin("scenarios"))
    if not raw:
        raise InvalidInput("the file defines no scenarios", origin=top.origin("scenarios"),
                           field="scenarios")
    scenarios: list[Scenario] = []
    seen: set[str] = set()
    for item in raw:
        m = as_mapping(item, what="scenario", origin=top.origin("scenarios"))
        scenario = _scenario(m)
        if scenario.name in seen:
            raise InvalidInput(f"scenario {scenario.name!r} appears twice",
                               origin=m.origin("name"), field="name")
        seen.add(scenario.name)
        scenarios.append(scenario)
    return tuple(scenarios)


def read_ara_inputs(path: Path) -> AraInputs:
    """The inputs of the IMF ARA EM metric (amounts in USD)."""
    m = _top(path)
    m.check_keys(_ARA_KEYS)
    regime = parse_enum(ExchangeRegime, m.string("regime"), origin=m.origin("regime"),
                        field="regime")
    amounts = {key: _number(m, key) for key in _ARA_AMOUNTS}
    buffer = _number(m, "commodity_buffer_usd", required=False) or 0.0
    as_of = (parse_date(m.string("as_of"), origin=m.origin("as_of"), field="as_of")
             if m.get("as_of") is not None else None)
    flag = (m.string("illustrative") or "true").lower()
    if flag not in ("true", "false"):
        raise InvalidInput(f"illustrative must be true or false, got {flag!r}",
                           origin=m.origin("illustrative"), field="illustrative")
    for key, value in (*amounts.items(), ("commodity_buffer_usd", buffer)):
        if value is not None and value < 0:
            raise InvalidInput(f"{key} must be >= 0, got {value}", origin=m.origin(key),
                               field=key)
    return _built(lambda: AraInputs(
        regime=regime, exports_usd=amounts["exports_usd"] or 0.0,
        broad_money_usd=amounts["broad_money_usd"] or 0.0,
        short_term_debt_usd=amounts["short_term_debt_usd"] or 0.0,
        other_liabilities_usd=amounts["other_liabilities_usd"] or 0.0,
        reserves_excluding_sleeve_usd=amounts["reserves_excluding_sleeve_usd"] or 0.0,
        commodity_buffer_usd=buffer, as_of_date=as_of, source=m.string("source") or "",
        illustrative=flag == "true"), m)
