"""The governed demo plus the direct-token fund's people and its custody policy in force."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from qoima.adapters.policy_files import parse_policy
from qoima.app.transfers import TransferService
from qoima.bootstrap.wiring import Reserve, SystemClock
from qoima.domain.roles import Role, RoleGrant
from qoima.policy.model import InvestmentPolicy
from tests.app.governance import governed_demo

ROOT = Path(__file__).resolve().parents[2]
ALEM = "alem-fund"
HOLDING = f"holding:{ALEM}/main:BNB@bitgo"
WALLET = "0x00000000000000000000000000000000000a1e01"  # whitelisted on bnb-smart-chain
CHAIN = "bnb-smart-chain"
PEOPLE = {
    "pm-alem": [RoleGrant(Role.PORTFOLIO_MANAGER, ALEM)],
    "pm-risk-alem": [RoleGrant(Role.PORTFOLIO_MANAGER, ALEM), RoleGrant(Role.RISK_OFFICER, ALEM)],
}


def alem_policy(**replacements: str) -> InvestmentPolicy:
    """examples/policies/alem-fund.yaml with ``key: value`` lines replaced."""
    lines = (ROOT / "examples" / "policies" / "alem-fund.yaml").read_text().splitlines()
    for key, value in replacements.items():
        hits = [i for i, line in enumerate(lines) if line.strip().startswith(f"{key}:")]
        assert len(hits) == 1, key
        indent = lines[hits[0]][:len(lines[hits[0]]) - len(lines[hits[0]].lstrip())]
        lines[hits[0]] = f"{indent}{key}: {value}"
    return parse_policy("\n".join(lines) + "\n", fmt="yaml", source="alem-fund test")


def custody_demo(reserve: Reserve, policy: InvestmentPolicy | None = None, *,
                 in_force: bool = True) -> TransferService:
    """The governed demo, the fund's people, and ``policy`` (default: the example) in force
    unless ``in_force`` is False."""
    governed_demo(reserve)
    for name, grants in PEOPLE.items():
        reserve.users.add(name, name.title(), grants, actor="admin")
    if not in_force:
        return TransferService(reserve.units, SystemClock(), reserve.policies)
    chosen = policy if policy is not None else alem_policy()
    reserve.policies.propose(chosen, fmt="yaml", actor="pm-alem")
    reserve.policies.approve(ALEM, 1, actor="cm1")
    return TransferService(reserve.units, SystemClock(), reserve.policies)


def bnb_balance(reserve: Reserve, account: str = HOLDING) -> Decimal:
    with reserve.units(write=False) as uow:
        return uow.journal.balances_as_of(datetime.now(UTC).date()).get(account, Decimal(0))
