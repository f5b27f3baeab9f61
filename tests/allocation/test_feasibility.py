"""Infeasible constraints are reported by the constraints that conflict, never a traceback."""

from __future__ import annotations

import numpy as np
import pytest

from qoima.allocation.feasibility import check_feasible
from qoima.allocation.optimizers import OptimizationMethod, optimize
from qoima.allocation.problem import CompositionProblem, Constraints, GroupCap, Infeasible
from qoima.domain.errors import InsufficientHistory, InvalidInput

CODES = ("IBIT", "FBTC", "ETHA", "MSTR")


def data(t: int = 120) -> np.ndarray:
    return np.random.default_rng(1).standard_t(4, (t, 4)) * 0.02


def make(**constraints: object) -> CompositionProblem:
    return CompositionProblem(CODES, data(), constraints=Constraints(**constraints))  # type: ignore[arg-type]


def test_upper_bounds_below_budget_name_every_cap() -> None:
    names = tuple(f"conc-1: {c} at most 20 %" for c in CODES)
    with pytest.raises(Infeasible) as error:
        check_feasible(make(upper=0.2, upper_names=names))
    assert error.value.conflicts == ("budget: weights sum to 1", *names)
    assert "upper bounds sum to 0.8" in str(error.value)


def test_lower_bounds_above_budget() -> None:
    with pytest.raises(Infeasible) as error:
        check_feasible(make(lower=(0.5, 0.6, 0.0, 0.0)))
    assert error.value.conflicts == ("budget: weights sum to 1", "lower bound of IBIT",
                                     "lower bound of FBTC")


def test_crossed_bounds() -> None:
    with pytest.raises(Infeasible) as error:
        check_feasible(make(lower=(0.3, 0, 0, 0), upper=(0.2, 1, 1, 1)))
    assert error.value.conflicts == ("lower bound of IBIT", "upper bound of IBIT")


def test_group_cap_below_its_members_floors() -> None:
    group = GroupCap("conc-issuer: BlackRock at most 30 %", (0, 2), 0.3)
    with pytest.raises(Infeasible) as error:
        check_feasible(make(lower=(0.2, 0, 0.2, 0), groups=(group,)))
    assert error.value.conflicts == (group.name, "lower bound of IBIT", "lower bound of ETHA")


def test_all_excluded() -> None:
    with pytest.raises(Infeasible, match="every instrument is excluded"):
        check_feasible(make(upper=0.0))


def test_return_target_above_what_the_bounds_allow() -> None:
    problem = CompositionProblem(CODES, data(), mu=np.array([0.01, 0.02, 0.03, 0.04]),
                                 constraints=Constraints(upper=0.5, min_return=0.04))
    with pytest.raises(Infeasible) as error:
        check_feasible(problem)
    assert error.value.conflicts[0] == "minimum expected return 0.04"
    assert "best 0.035" in str(error.value)


def test_elastic_phase_one_names_interacting_group_caps() -> None:
    # each cap alone is fine; together the two groups leave MSTR to fill 40 % > its 30 %
    groups = (GroupCap("issuer A", (0, 1), 0.4), GroupCap("issuer B", (2,), 0.2))
    with pytest.raises(Infeasible) as error:
        check_feasible(make(upper=(1, 1, 1, 0.3), groups=groups))
    assert set(error.value.conflicts) == {"budget: weights sum to 1", "issuer A", "issuer B",
                                          "upper bound of MSTR"}
    assert "total violation 0.1" in str(error.value)


def test_elastic_phase_one_with_a_return_target() -> None:
    mu = np.array([0.01, 0.02, 0.03, 0.04])
    problem = CompositionProblem(CODES, data(), mu=mu, constraints=Constraints(
        min_return=0.03, groups=(GroupCap("high-yield cap", (2, 3), 0.2),)))
    with pytest.raises(Infeasible) as error:
        optimize(problem, OptimizationMethod.MIN_CVAR)
    assert "high-yield cap" in error.value.conflicts
    assert "minimum expected return 0.03" in error.value.conflicts


def test_feasible_problem_passes() -> None:
    lin = check_feasible(make(upper=0.3, groups=(GroupCap("g", (0, 1), 0.5),)))
    assert lin.ub_names == ("g",)


def test_bad_scenarios_name_the_cause() -> None:
    with pytest.raises(InsufficientHistory, match="at least 30"):
        CompositionProblem(CODES, data(10))
    bad = data()
    bad[7, 2] = np.nan
    with pytest.raises(InvalidInput, match="ETHA in scenario 7"):
        CompositionProblem(CODES, bad)
    with pytest.raises(InvalidInput, match=r"\(T, 4\)"):
        CompositionProblem(CODES, data()[:, :3])
    with pytest.raises(InvalidInput, match="twice"):
        CompositionProblem(("A", "A", "B", "C"), data())
    with pytest.raises(InvalidInput, match="upper bounds: 3 values"):
        make(upper=(0.5, 0.5, 0.5))
    with pytest.raises(InvalidInput, match="outside"):
        make(groups=(GroupCap("g", (0, 9), 0.5),))
    with pytest.raises(InsufficientHistory, match="no tail"):
        CompositionProblem(CODES, data(40), level=0.99)
