"""The demo's investment policies, shipped inside the package (also linked from
``examples/policies/``), so ``qoima demo`` works from an installed wheel."""

from __future__ import annotations

from importlib import resources

from qoima.adapters.policy_files import parse_policy
from qoima.policy.model import InvestmentPolicy

DEMO_POLICIES = ("fx-sleeve.yaml", "alem-fund.yaml", "state-fund.yaml")


def demo_policies() -> list[InvestmentPolicy]:
    folder = resources.files("qoima.adapters") / "demo_policies"
    return [parse_policy((folder / name).read_text(encoding="utf-8"), fmt="yaml",
                         source=f"demo_policies/{name}") for name in DEMO_POLICIES]
