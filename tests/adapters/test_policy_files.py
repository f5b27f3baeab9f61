"""Policy files: the examples load, YAML and TOML agree, and bad input names line and key."""

from __future__ import annotations

import textwrap
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from qoima.adapters.policy_files import parse_policy, read_policy
from qoima.domain.enums import InstrumentKind, Severity, Venue
from qoima.domain.errors import InvalidInput
from qoima.policy.model import Custody, Eligibility, InstrumentList, LimitKind, SizeRange

D = Decimal
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "policies"
HEADER = """\
vehicle: da-sleeve
version: 1
name: Sleeve
effective_from: "2026-01-01"
change_delay_days: 30
limits:
"""


def write(tmp_path: Path, body: str, name: str = "policy.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def yaml_error(tmp_path: Path, limits: str) -> InvalidInput:
    path = write(tmp_path, HEADER + textwrap.dedent(limits))
    with pytest.raises(InvalidInput) as error:
        read_policy(path)
    return error.value


def test_the_sleeve_example() -> None:
    policy = read_policy(EXAMPLES / "fx-sleeve.yaml")
    assert (policy.vehicle_code, policy.version, policy.change_delay_days) == ("da-sleeve", 1, 30)
    assert policy.effective_from == date(2026, 1, 1)
    assert policy.find_limit("size") == SizeRange("size", D(50_000_000), D(300_000_000),
                                                  Severity.BLOCKING, Severity.WARNING)
    eligible = policy.find_limit("eligible")
    assert isinstance(eligible, Eligibility)
    assert eligible.kinds == (InstrumentKind.EQUITY, InstrumentKind.ETF)
    assert set(eligible.venues) == {Venue.NYSE, Venue.NASDAQ, Venue.CBOE, Venue.AIX}
    assert {limit.kind for limit in policy.limits} == set(LimitKind) - {LimitKind.CUSTODY}
    assert policy.source_text == (EXAMPLES / "fx-sleeve.yaml").read_text(encoding="utf-8")


def test_the_token_fund_example_has_custody_rules() -> None:
    custody = read_policy(EXAMPLES / "alem-fund.yaml").find_limit("custody")
    assert isinstance(custody, Custody)
    assert custody.allows("bnb-smart-chain", "0x00000000000000000000000000000000000A1E01")
    assert (custody.max_transfer_usd, custody.max_units("BNB")) == (D(5_000_000), D(8000))
    assert (custody.velocity_window_days, custody.velocity_max_usd,
            custody.approval_quorum) == (7, D(15_000_000), 3)


TOML = """\
vehicle = "da-sleeve"
version = 1
name = "Sleeve"
effective_from = 2026-01-01
change_delay_days = 30

[[limits]]
id = "size"
kind = "size_range"
min_usd = 50_000_000
max_usd = 300_000_000

[[limits]]
id = "per-underlying"
kind = "concentration"
basis = "underlying"
max_share = 0.9
overrides = { ETH = "30%" }
"""
YAML_TWIN = HEADER + """\
  - {id: size, kind: size_range, min_usd: "50000000", max_usd: 300_000_000}
  - id: per-underlying
    kind: concentration
    basis: underlying
    max_share: 90%
    overrides: {ETH: "0.3"}
"""


def test_yaml_and_toml_of_the_same_policy_hash_alike(tmp_path: Path) -> None:
    from_toml = read_policy(write(tmp_path, TOML, "policy.toml"))
    from_yaml = read_policy(write(tmp_path, YAML_TWIN))
    assert from_toml.content_hash == from_yaml.content_hash
    assert from_toml.source_text != from_yaml.source_text
    assert parse_policy(TOML, fmt="toml").content_hash == from_toml.content_hash


@pytest.mark.parametrize(("limits", "line", "field", "words"), [
    ("""\
  - id: size
    kind: size_rnage
""", 8, "kind", "'size_rnage' is not one of"),
    ("""\
  - id: size
    kind: size_range
    min_usd: 300
    max_usd: 50
""", 9, "min_usd", "min_usd 300 is above max_usd 50"),
    ("""\
  - id: share
    kind: share_of_reserves
    max_share: 150%
""", 9, "max_share", "not a share between 0 and 100 %"),
    ("""\
  - id: share
    kind: share_of_reserves
    max_share: "-0.1"
""", 9, "max_share", "not a share"),
    ("""\
  - id: size
    kind: size_range
    max_usd: 300
    maximum: 400
""", 10, "maximum", "unknown field 'maximum'"),
    ("""\
  - id: size
    kind: size_range
    max_usd: 3OO
""", 9, "max_usd", "not a number"),
    ("""\
  - {id: size, kind: size_range, max_usd: 1}
  - id: size
    kind: risk_cvar
    max_usd: 1
""", 8, "id", "used twice (first on line 7)"),
    ("""\
  - id: q
    kind: liquidity
    within_days: five
    min_share: 50%
""", 9, "within_days", "not a whole number"),
    ("""\
  - id: e
    kind: eligibility
    kinds: [etf, tokens]
""", 9, "kinds", "'tokens' is not one of"),
    ("""\
  - id: s
    kind: size_range
    max_usd: 1
    severity: fatal
""", 10, "severity", "not one of: blocking, warning"),
    ("""\
  - id: c
    kind: concentration
    basis: underlying
    max_share: 50%
    overrides: {ETH: 101%}
""", 11, "overrides.ETH", "not a share"),
    ("""\
  - id: c
    kind: custody
    velocity_window_days: 7
""", 9, "velocity_window_days", "needs both"),
])
def test_bad_limits_name_line_and_key(tmp_path: Path, limits: str, line: int, field: str,
                                      words: str) -> None:
    error = yaml_error(tmp_path, limits)
    assert error.origin is not None
    assert (error.origin.line, error.field) == (line, field), str(error)
    assert words in str(error)
    assert str(error).startswith(f"{tmp_path / 'policy.yaml'}:{line}: field '{field}'")


def test_no_stays_a_string(tmp_path: Path) -> None:
    policy = read_policy(write(tmp_path, HEADER.replace("name: Sleeve", "name: NO") + """\
  - id: deny
    kind: instrument_list
    deny: [NO, YES, off, 1e3]
"""))
    assert policy.name == "NO"
    deny = policy.find_limit("deny")
    assert isinstance(deny, InstrumentList)
    assert deny.deny == ("1e3", "NO", "YES", "off")


def test_alias_bomb_is_refused(tmp_path: Path) -> None:
    bomb = HEADER + """\
  - &a {id: size, kind: size_range, max_usd: 1}
  - *a
"""
    with pytest.raises(InvalidInput, match="anchors/aliases are not allowed") as error:
        read_policy(write(tmp_path, bomb))
    assert error.value.origin is not None and error.value.origin.line == 7  # the anchor
    lol = 'a: &a ["x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: [*b,*b,*b,*b,*b,*b,*b,*b]\n'
    with pytest.raises(InvalidInput, match="aliases"):
        read_policy(write(tmp_path, lol))


@pytest.mark.parametrize("tagged", ["!!python/object/apply:os.system [echo hi]",
                                    "!!float 300", "!custom 1"])
def test_unsafe_and_typed_tags_are_refused(tmp_path: Path, tagged: str) -> None:
    body = HEADER + f"  - {{id: size, kind: size_range, max_usd: {tagged}}}\n"
    with pytest.raises(InvalidInput, match="is not allowed") as error:
        read_policy(write(tmp_path, body))
    assert error.value.origin is not None and error.value.origin.line == 7


@pytest.mark.parametrize(("text", "words"), [
    (HEADER.replace("change_delay_days: 30\n", "") + "  - {id: s, kind: size_range, "
     "max_usd: 1}\n", "missing required field 'change_delay_days'"),
    (HEADER, "a policy needs at least one limit"),
    (HEADER.replace("vehicle: da-sleeve", "vehicle: da sleeve") + "  - {id: s, kind: "
     "size_range, max_usd: 1}\n", "vehicle code 'da sleeve'"),
    (HEADER + "  - {id: s, kind: size_range, max_usd: 1}\nowner: nobody\n",
     "unknown field 'owner'"),
    (HEADER.replace('"2026-01-01"', "2026-13-01") + "  - {id: s, kind: size_range, "
     "max_usd: 1}\n", "not a date"),
    (HEADER.replace("version: 1", "version: 0") + "  - {id: s, kind: size_range, "
     "max_usd: 1}\n", r"policy.yaml:2: field 'version': version must be >= 1"),
    ("limits: [\n", "not valid YAML"),
    ("", "file is empty"),
])
def test_bad_policy_header(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(InvalidInput, match=words):
        read_policy(write(tmp_path, text))


def test_toml_errors_name_line_and_key(tmp_path: Path) -> None:
    bad = TOML.replace("max_share = 0.9", "max_share = 1.5")
    with pytest.raises(InvalidInput) as error:
        read_policy(write(tmp_path, bad, "policy.toml"))
    assert error.value.origin is not None
    assert (error.value.origin.line, error.value.field) == (17, "max_share")
    unknown = TOML.replace('basis = "underlying"', 'basis = "underlying"\nbogus = 1')
    with pytest.raises(InvalidInput, match="unknown field 'bogus'") as error:
        read_policy(write(tmp_path, unknown, "policy.toml"))
    assert error.value.origin is not None and error.value.origin.line == 17
    with pytest.raises(InvalidInput, match="not valid TOML") as error:
        read_policy(write(tmp_path, TOML + "max_usd = = 1\n", "policy.toml"))
    assert error.value.origin is not None and error.value.origin.line == 19


def test_files_that_are_not_policies(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="file not found"):
        read_policy(tmp_path / "missing.yaml")
    with pytest.raises(InvalidInput, match="policy files end in"):
        read_policy(write(tmp_path, "x", "policy.json"))
    with pytest.raises(InvalidInput, match="unknown policy format"):
        parse_policy("x", fmt="json")


CUSTODY_TOML = """\
vehicle = "alem-fund"
version = 2
name = "Tokens"
effective_from = 2026-01-01
change_delay_days = 14

[[limits]]
id = "custody"
kind = "custody"
approval_quorum = 2
max_transfer_units = { BNB = 8000 }

[limits.destinations]
bitcoin = ["bc1qexample"]
"bnb-smart-chain" = ["0xAbC"]
"""


def test_toml_sub_tables_and_their_lines(tmp_path: Path) -> None:
    custody = read_policy(write(tmp_path, CUSTODY_TOML, "p.toml")).find_limit("custody")
    assert isinstance(custody, Custody)
    assert custody.allows("bnb-smart-chain", "0xabc") and custody.max_units("BNB") == D(8000)
    bad = CUSTODY_TOML.replace('bitcoin = ["bc1qexample"]', 'bitcoin = "bc1qexample"')
    with pytest.raises(InvalidInput, match="list") as error:
        read_policy(write(tmp_path, bad, "p.toml"))
    assert error.value.origin is not None and error.value.origin.line == 14
    zero = CUSTODY_TOML.replace("approval_quorum = 2", "approval_quorum = 0")
    with pytest.raises(InvalidInput, match="approval_quorum") as error:
        read_policy(write(tmp_path, zero, "p.toml"))
    assert error.value.origin is not None and error.value.origin.line == 10
