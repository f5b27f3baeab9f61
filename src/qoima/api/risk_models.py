"""Response models of risk figures, stress results, the stability gate and tranche plans
(the shapes of ``qoima risk var``/``stress``/``gate --json``). Figures are rounded floats,
as the CLI prints them; null where a figure cannot be computed."""

from __future__ import annotations

from qoima.api.case_models import LinksOut
from qoima.api.responses import Out

Figure = float | None


class VarRowOut(Out):
    scope: str
    currency: str
    method: str
    level: float
    horizon_days: int
    var: Figure
    cvar: Figure
    value: Figure
    var_share: Figure
    cvar_share: Figure
    n_obs: int


class VarOut(Out):
    as_of: str
    synthetic_market: bool
    var: list[VarRowOut]


class ScenarioOut(Out):
    name: str
    kind: str
    description: str


class StressPositionOut(Out):
    key: str
    pnl_usd: Figure


class StressResultOut(Out):
    scenario: str
    kind: str
    window: list[str] | None
    total_pnl_usd: Figure
    crypto_pnl_usd: Figure
    total_pnl_kzt: Figure
    share_of_reserves: Figure
    vehicle_pnl_usd: dict[str, Figure]
    factor_moves: dict[str, Figure]
    move_sources: dict[str, str]
    positions: list[StressPositionOut]


class StressOut(Out):
    as_of: str
    scenarios: list[StressResultOut]


class SignalOut(Out):
    id: str
    signal: str
    series: str
    value: float | str | None
    threshold: str
    passed: bool | None
    required: bool
    blocks: bool
    reason: str
    data_as_of: str | None


class GateRecordedOut(Out):
    id: int | None
    decision_hash: str
    new: bool
    recorded_by: str
    recorded_at: str


class GateOut(Out):
    vehicle: str | None
    as_of: str
    verdict: str
    reasons: list[str]
    confirm_days: int
    passing_streak: int
    gate_hash: str
    inputs_hash: str
    policy_version: int | None
    policy_hash: str | None
    synthetic: bool
    signals: list[SignalOut]
    recorded: GateRecordedOut | None = None


class PlanListItemOut(Out):
    plan_id: str
    vehicle: str
    as_of: str
    target_usd: str
    status: str
    orders: int
    created_by: str
    links: LinksOut


class PlanLineOut(Out):
    instrument: str
    weight: float
    quantity: str
    cost_usd: str
    daily_max_quantity: str | None
    sessions: int


class PlanTrancheOut(Out):
    id: str
    cumulative_target_usd: str
    amount_usd: str
    requires_gate: bool
    status: str
    reason: str
    executed_usd: str
    remaining_usd: str
    earliest_start: str
    earliest_end: str
    sessions: int
    lines: list[PlanLineOut]


class PlanOrderOut(Out):
    order_id: str
    tranche: str | None
    instrument: str
    quantity: str
    status: str


class PlanOut(Out):
    """A tranche plan on a date: what ``qoima tranche status --json`` prints."""

    plan_id: str
    vehicle: str
    as_of: str
    target_usd: str
    deployed_usd: str
    status: str
    policy_version: int | None
    gate: str
    gate_reasons: list[str]
    tranches: list[PlanTrancheOut]
    orders: list[PlanOrderOut]
    created_orders: list[str]
    warnings: list[str]


class BoundaryOut(Out):
    budget: str
    max_size_usd: Figure


class BudgetUseOut(Out):
    kind: str
    value: Figure
    cap: Figure
    use: Figure


class CurvePointOut(Out):
    size_usd: float
    feasible: bool
    uses: dict[str, BudgetUseOut]


class InputsHashOut(Out):
    inputs_hash: str


class SizingOut(Out):
    """The largest sleeve inside the range and budgets: ``qoima size --json``."""

    vehicle: str
    as_of: str
    policy_version: int | None
    status: str
    recommended_usd: Figure
    binding: list[str]
    message: str
    range_usd: list[Figure]
    level: float
    total_reserves_usd: Figure
    sleeve_usd: Figure
    breached_at_minimum: list[str]
    mix: dict[str, float]
    mix_method: str
    synthetic_market: bool
    boundaries: list[BoundaryOut]
    curve: list[CurvePointOut]
    findings: list[str]
    provenance: InputsHashOut
