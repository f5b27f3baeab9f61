"""Risk and stress: the full Monte Carlo report as a background job, VaR and stress runs
on request, VaR backtests as jobs. Whole-reserve figures need a read grant on every
vehicle; a vehicle scope needs a read grant on that vehicle."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import Field

from qoima.api.access import require_everywhere, require_read
from qoima.api.deps import ReserveDep, UserDep, api_router
from qoima.api.job_models import JOB_ACCEPTED
from qoima.api.jobs import Progress
from qoima.api.models import Day, Strict
from qoima.api.results import assessment_summary, backtest_summary, stress_summary, var_summary
from qoima.api.risk_models import ScenarioOut, StressOut, VarOut
from qoima.api.routers.jobs import accepted
from qoima.app.risk import RiskRequest, resolve_scenarios
from qoima.bootstrap.engines import compute_engine
from qoima.bootstrap.settings import Settings
from qoima.bootstrap.wiring import Reserve
from qoima.domain.errors import InvalidInput
from qoima.domain.roles import Permission, User
from qoima.risk.assessment import AssessmentSettings
from qoima.risk.scenarios import BUILTIN_SCENARIOS
from qoima.risk.scopes import METHODS, TOTAL

router = api_router("risk")
DIGITAL = "digital-assets"


class ReportIn(Strict):
    as_of: Day | None = None
    window: Annotated[int, Field(ge=30, le=5000)] = 500
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] = 20_260_101
    mc_scenarios: Annotated[int, Field(ge=1000, le=1_000_000)] = 100_000
    scenarios: Annotated[list[str], Field(max_length=100)] = Field(default_factory=list)


class BacktestIn(Strict):
    as_of: Day | None = None
    scope: str = TOTAL
    windows: Annotated[list[Annotated[int, Field(ge=20, le=5000)]],
                       Field(min_length=1, max_length=10)] = Field(default_factory=lambda: [250])
    levels: Annotated[list[Annotated[float, Field(gt=0.5, lt=1)]],
                      Field(min_length=1, max_length=5)] = Field(default_factory=lambda: [0.99])
    start: Day | None = None


def _day(reserve: Reserve, given: date | None) -> date:
    return given or reserve.risk.default_as_of()


def _check_scope(user: User, scope: str | None) -> None:
    if scope is None or scope in (TOTAL, DIGITAL):
        require_everywhere(user, Permission.READ)
    else:
        require_read(user, scope, f"no scope {scope!r}", "scope")


@router.post("/risk/reports", status_code=202, responses=JOB_ACCEPTED,
             summary="Start the full risk report (Monte Carlo, stress, regimes) as a job")
def start_report(body: ReportIn, request: Request, reserve: ReserveDep,
                 user: UserDep) -> Any:
    require_everywhere(user, Permission.READ)
    day = _day(reserve, body.as_of)
    risk_request = RiskRequest(
        settings=AssessmentSettings(window=body.window, seed=body.seed,
                                    mc_scenarios=body.mc_scenarios),
        scenarios=resolve_scenarios(body.scenarios) if body.scenarios else BUILTIN_SCENARIOS)

    def work(progress: Progress) -> Any:
        with compute_engine(None, None, Settings()) as engine:
            return assessment_summary(reserve.risk.assess(day, risk_request, engine=engine,
                                                          step=progress))
    return accepted(request, "risk-report", user.name, work)


@router.get("/risk/var", summary="VaR and CVaR by scope, method, level and horizon")
def var(reserve: ReserveDep, user: UserDep, as_of: Day | None = None,
        scope: str | None = None,
        method: Annotated[list[str] | None, Query(description=", ".join(METHODS))] = None,
        level: Annotated[list[Annotated[float, Field(gt=0.5, lt=1)]] | None, Query()] = None,
        horizon: Annotated[list[Annotated[int, Field(ge=1, le=250)]] | None, Query()] = None,
        window: Annotated[int, Query(ge=30, le=5000)] = 500,
        seed: Annotated[int, Query(ge=0, le=2**32 - 1)] = 20_260_101,
        mc_scenarios: Annotated[int, Query(ge=1000, le=200_000)] = 20_000) -> VarOut:
    _check_scope(user, scope)
    unknown = [m for m in method or () if m not in METHODS]
    if unknown:
        raise InvalidInput(f"unknown method {unknown[0]!r}; methods: {', '.join(METHODS)}",
                           field="method")
    settings = AssessmentSettings(levels=tuple(level or (0.95, 0.99)),
                                  horizons=tuple(horizon or (1, 10)),
                                  methods=tuple(method or METHODS), window=window, seed=seed,
                                  mc_scenarios=mc_scenarios)
    day = _day(reserve, as_of)
    with compute_engine(None, None, Settings()) as engine:
        mapped, rows = reserve.risk.var(day, RiskRequest(settings=settings), scope=scope,
                                        engine=engine)
    return VarOut.of({"as_of": day.isoformat(),
                      "synthetic_market": mapped.history.synthetic, "var": var_summary(rows)})


@router.get("/risk/stress/scenarios", summary="The built-in stress scenario library")
def scenarios(user: UserDep) -> list[ScenarioOut]:
    return [ScenarioOut(name=s.name, kind="historical" if hasattr(s, "start_date")
                        else "hypothetical", description=s.description)
            for s in BUILTIN_SCENARIOS]


@router.get("/risk/stress", summary="Stress scenarios on the holdings of a date")
def stress(reserve: ReserveDep, user: UserDep, as_of: Day | None = None,
           scenario: Annotated[list[str] | None, Query()] = None) -> StressOut:
    require_everywhere(user, Permission.READ)
    day = _day(reserve, as_of)
    with compute_engine(None, None, Settings()) as engine:
        grid = reserve.risk.stress(day, resolve_scenarios(scenario or []), engine=engine)
    return StressOut.of({"as_of": day.isoformat(), "scenarios": stress_summary(grid.results)})


@router.post("/risk/backtests", status_code=202, responses=JOB_ACCEPTED,
             summary="Start a VaR backtest as a job")
def start_backtest(body: BacktestIn, request: Request, reserve: ReserveDep,
                   user: UserDep) -> Any:
    _check_scope(user, body.scope)
    day = _day(reserve, body.as_of)

    def work(progress: Progress) -> Any:
        progress("backtesting rolling historical VaR")
        with compute_engine(None, None, Settings()) as engine:
            results = reserve.risk.backtest(day, scope=body.scope, windows=body.windows,
                                            levels=body.levels, start=body.start,
                                            engine=engine)
        progress("backtesting rolling historical VaR", "ok")
        return [backtest_summary(r) for r in results]
    return accepted(request, "var-backtest", user.name, work)
