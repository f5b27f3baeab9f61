"""Reading a manager mandate from YAML, with errors that name file, line and key.

Rates and shares may be fractions (``0.02``) or percentages (``2%``); money is plain
(``100_000_000``) in the mandate's currency. Sections and keys (all but the top five and
``inception`` optional; the defaults are those of :mod:`qoima.managers.model`)::

    manager: hf-a
    vehicle: state-fund
    kind: hedge_fund                 # hedge_fund | venture_fund | asset_manager
    strategy: market-neutral basis and funding-rate trading
    inception: "2026-01-01"
    currency: USD
    allocation: 100_000_000          # hedge funds; venture funds give commitment:
    benchmark: BTC
    statements: {frequency: monthly, lag_days: 30}
    fees:
      management_rate: 1.5%
      management_basis: nav          # nav | commitment | invested_capital
      performance_rate: 20%
      hurdle_rate: 5%
      hurdle: hard                   # none | hard | soft
      high_water_mark: true
      crystallisation: quarterly     # monthly | quarterly | semi_annual | annual
      carry_rate: 20%                # venture: European waterfall
      preferred_return: 8%
      catch_up: 100%
    liquidity:
      lock_up_months: 12
      notice_days: 45
      redemption_frequency: quarterly   # none: closed-end
      gate: 25%
      term_years: 10
    guidelines:
      max_leverage: 3
      max_single_asset_share: 40%
      asset_share_overrides: {BTC: 60%}
      allowed_venues: [cme, coinbase-prime]
      allowed_custodians: [copper, bitgo]
      no_go_assets: [XMR]
      severity: blocking             # blocking | warning
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from qoima.adapters.fields import parse_date, parse_enum, parse_int
from qoima.adapters.located_yaml import MAX_YAML_BYTES, Mapping, as_mapping, load_yaml_text
from qoima.adapters.policy_fields import (
    amount_value,
    built,
    pairs,
    severity,
    share,
    share_value,
    text,
    usd,
    words,
)
from qoima.domain.enums import ManagerKind
from qoima.domain.errors import InvalidInput, Origin
from qoima.managers.model import (
    FeeTerms,
    Frequency,
    Guidelines,
    HurdleKind,
    LiquidityTerms,
    ManagementFeeBasis,
    Mandate,
    Waterfall,
)

Parser = Callable[[Mapping, str], Any]

_TOP_KEYS = {"manager", "vehicle", "kind", "strategy", "inception", "currency", "allocation",
             "commitment", "benchmark", "statements", "fees", "liquidity", "guidelines"}


def _enum(kind: type[Any]) -> Parser:
    return lambda m, key: parse_enum(kind, text(m, key), origin=m.origin(key), field=key)


def _integer(m: Mapping, key: str) -> int:
    return parse_int(text(m, key), origin=m.origin(key), field=key)


def _flag(m: Mapping, key: str) -> bool:
    word = text(m, key).lower()
    if word not in ("true", "false", "yes", "no"):
        raise InvalidInput(f"{word!r} is not true or false", origin=m.origin(key), field=key)
    return word in ("true", "yes")


def _number(m: Mapping, key: str) -> Any:
    return amount_value(text(m, key), m.origin(key), key)


_FEES: dict[str, Parser] = {
    "management_rate": share, "management_basis": _enum(ManagementFeeBasis),
    "performance_rate": share, "hurdle_rate": share, "hurdle": _enum(HurdleKind),
    "high_water_mark": _flag, "crystallisation": _enum(Frequency), "carry_rate": share,
    "preferred_return": share, "catch_up": share, "waterfall": _enum(Waterfall),
}
_LIQUIDITY: dict[str, Parser] = {
    "lock_up_months": _integer, "notice_days": _integer,
    "redemption_frequency": _enum(Frequency), "gate": share, "term_years": _integer,
}
_GUIDELINES: dict[str, Parser] = {
    "max_leverage": _number, "max_single_asset_share": share,
    "asset_share_overrides": pairs(share_value), "allowed_venues": words,
    "allowed_custodians": words, "no_go_assets": words, "severity": severity,
}
_STATEMENTS: dict[str, Parser] = {"frequency": _enum(Frequency), "lag_days": _integer}


def _section(top: Mapping, key: str, parsers: dict[str, Parser]) -> tuple[Mapping, dict[str, Any]]:
    section = (as_mapping(top.get(key), what=key, origin=top.origin(key))
               if key in top.values else Mapping({}, top.file, top.line))
    section.check_keys(set(parsers))
    return section, {name: parse(section, name) for name, parse in parsers.items()
                     if name in section.values}


def read_mandate(path: Path) -> Mandate:
    """The mandate in the YAML file ``path``."""
    if not path.exists():
        raise InvalidInput("file not found", origin=Origin(str(path)))
    size = path.stat().st_size
    if size > MAX_YAML_BYTES:
        raise InvalidInput(f"file is {size} bytes; mandate files are limited to "
                           f"{MAX_YAML_BYTES}", origin=Origin(str(path)))
    return parse_mandate(path.read_text(encoding="utf-8"), source=str(path))


def parse_mandate(source_text: str, *, source: str = "<mandate>") -> Mandate:
    """Parse mandate YAML ``source_text``; ``source`` names it in errors."""
    top = as_mapping(load_yaml_text(source_text, source), what="file",
                     origin=Origin(source, 1))
    top.check_keys(_TOP_KEYS)
    fee_map, fee_values = _section(top, "fees", _FEES)
    fees: FeeTerms = built(lambda: FeeTerms(**fee_values), fee_map)
    liq_map, liq_values = _section(top, "liquidity", _LIQUIDITY)
    liquidity: LiquidityTerms = built(lambda: LiquidityTerms(**liq_values), liq_map)
    rule_map, rule_values = _section(top, "guidelines", _GUIDELINES)
    guidelines: Guidelines = built(lambda: Guidelines(**rule_values), rule_map)
    _, reporting = _section(top, "statements", _STATEMENTS)
    values: dict[str, Any] = {
        "manager_code": text(top, "manager"), "vehicle_code": text(top, "vehicle"),
        "kind": _enum(ManagerKind)(top, "kind"), "strategy": text(top, "strategy"),
        "inception": parse_date(top.string("inception"), origin=top.origin("inception"),
                                field="inception"),
        "fees": fees, "liquidity": liquidity, "guidelines": guidelines,
    }
    for key in ("currency", "benchmark"):
        if key in top.values:
            values[key] = text(top, key)
    for key in ("allocation", "commitment"):
        if key in top.values:
            values[key] = usd(top, key)
    if "frequency" in reporting:
        values["statement_frequency"] = reporting["frequency"]
    if "lag_days" in reporting:
        values["statement_lag_days"] = reporting["lag_days"]
    mandate: Mandate = built(lambda: Mandate(**values), top,
                             {"manager_code": "manager", "vehicle_code": "vehicle",
                              "code": "manager", "statement_frequency": "statements",
                              "statement_lag_days": "statements"})
    return mandate
