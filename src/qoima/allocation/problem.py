"""What a composition optimizer is asked: instruments, scenarios and constraints.

Weights are fractions of the sleeve's value (0.25 = 25 %), long-only and fully invested by
default. Every constraint has a readable name (a policy limit id where it came from one) so
that an infeasible problem can be reported by the constraints that conflict
(:mod:`qoima.allocation.feasibility`), never by a solver traceback.

Scenarios are simple returns per instrument over one period, shape ``(T, N)``; the loss of
a portfolio ``w`` in scenario ``t`` is ``-scenarios[t] @ w``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from qoima.domain.errors import InsufficientHistory, InvalidInput, RiskError
from qoima.risk.checks import FloatArray, check_level
from qoima.risk.factor_models import ledoit_wolf_covariance

#: Fewest scenarios a problem accepts: below this a tail (or a covariance) is noise.
MIN_SCENARIOS = 30


class Infeasible(InvalidInput):
    """No weights satisfy the constraints; ``conflicts`` names those that clash."""

    code = "allocation_infeasible"

    def __init__(self, message: str, *, conflicts: tuple[str, ...]) -> None:
        super().__init__(f"{message}; conflicting: {'; '.join(conflicts)}",
                         field="constraints", conflicts=conflicts)
        self.conflicts = conflicts


class SolverFailure(RiskError):
    """The solver stopped without an optimum on a problem known to be feasible."""

    code = "allocation_solver_failure"


@dataclass(frozen=True, slots=True)
class GroupCap:
    """The weights of ``members`` (instrument indices) sum to at most ``max_weight``."""

    name: str
    members: tuple[int, ...]
    max_weight: float

    def __post_init__(self) -> None:
        if not self.members:
            raise InvalidInput(f"group {self.name!r} has no members", field="groups")
        if len(set(self.members)) != len(self.members):
            raise InvalidInput(f"group {self.name!r} lists a member twice", field="groups")
        if not math.isfinite(self.max_weight):
            raise InvalidInput(f"group {self.name!r}: max_weight must be finite",
                               field="groups")


@dataclass(frozen=True, slots=True)
class Constraints:
    """Linear constraints on the weights.

    Parameters
    ----------
    lower, upper : per-instrument weight bounds, a scalar for all or one per instrument
        (``upper`` may be ``inf`` for none; ``lower`` may be negative to allow shorts)
    groups : caps on the summed weight of groups of instruments (issuer, underlying, ...)
    budget : the weights sum to this (1: fully invested)
    min_return : the expected return ``mu @ w`` is at least this (needs ``mu``)
    upper_names, lower_names : per instrument, the name of the constraint that set each
        bound (a policy limit id); empty: "upper bound of CODE"
    """

    lower: float | tuple[float, ...] = 0.0
    upper: float | tuple[float, ...] = 1.0
    groups: tuple[GroupCap, ...] = ()
    budget: float = 1.0
    min_return: float | None = None
    upper_names: tuple[str, ...] = ()
    lower_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not math.isfinite(self.budget) or self.budget <= 0:
            raise InvalidInput(f"budget must be a positive number, got {self.budget!r}",
                               field="budget")
        names = [g.name for g in self.groups]
        if len(set(names)) != len(names):
            raise InvalidInput("two groups share a name", field="groups")

    def bounds(self, n: int) -> tuple[FloatArray, FloatArray]:
        """``(lower, upper)`` as arrays of shape ``(n,)``."""
        lower = np.broadcast_to(np.asarray(self.lower, dtype=np.float64), (n,)).copy() \
            if np.ndim(self.lower) == 0 else np.asarray(self.lower, dtype=np.float64)
        upper = np.broadcast_to(np.asarray(self.upper, dtype=np.float64), (n,)).copy() \
            if np.ndim(self.upper) == 0 else np.asarray(self.upper, dtype=np.float64)
        for what, array in (("lower", lower), ("upper", upper)):
            if array.shape != (n,):
                raise InvalidInput(f"{what} bounds: {array.shape[0]} values for {n} "
                                   "instruments", field=what)
            if np.isnan(array).any():
                raise InvalidInput(f"{what} bounds contain NaN", field=what)
        if (lower == np.inf).any():
            raise InvalidInput("a lower bound is +inf", field="lower")
        return lower, upper

    @property
    def long_only(self) -> bool:
        return bool(np.all(np.asarray(self.lower) >= 0))


@dataclass(frozen=True, slots=True)
class CompositionProblem:
    """Instruments, their scenarios and the constraints on the mix.

    Parameters
    ----------
    codes : (N,) instrument codes, unique
    scenarios : (T, N) simple returns per instrument per scenario (one period)
    mu : (N,) expected returns per period; the scenario mean when None
    level : confidence level of the CVaR (0.95: the mean of the worst 5 %)
    constraints : weight bounds, group caps, budget, minimum expected return
    covariance : (N, N) covariance for the variance-based methods; Ledoit–Wolf (2004,
        shrunk toward a scaled identity) of the scenarios when None
    """

    codes: tuple[str, ...]
    scenarios: FloatArray
    mu: FloatArray | None = None
    level: float = 0.95
    constraints: Constraints = field(default_factory=Constraints)
    covariance: FloatArray | None = None

    def __post_init__(self) -> None:
        codes = tuple(str(c) for c in self.codes)
        if not codes:
            raise InvalidInput("no instruments to allocate", field="codes")
        if len(set(codes)) != len(codes):
            raise InvalidInput("an instrument code appears twice", field="codes")
        object.__setattr__(self, "codes", codes)
        data = np.asarray(self.scenarios, dtype=np.float64)
        n = len(codes)
        if data.ndim != 2 or data.shape[1] != n:
            raise InvalidInput(f"scenarios must be (T, {n}) for {n} instruments, got "
                               f"shape {data.shape}", field="scenarios")
        if data.shape[0] < MIN_SCENARIOS:
            raise InsufficientHistory(f"scenarios: {data.shape[0]} rows, at least "
                                      f"{MIN_SCENARIOS} needed", field="scenarios",
                                      observations=data.shape[0], needed=MIN_SCENARIOS)
        if not np.isfinite(data).all():
            row, col = (int(v) for v in np.argwhere(~np.isfinite(data))[0])
            raise InvalidInput(f"scenarios: NaN or infinite return for {codes[col]} in "
                               f"scenario {row}", field="scenarios")
        object.__setattr__(self, "scenarios", data)
        object.__setattr__(self, "level", check_level(self.level))
        tail = data.shape[0] * (1.0 - self.level)
        if tail < 1.0:
            raise InsufficientHistory(f"scenarios: {data.shape[0]} rows leave no tail at "
                                      f"level {self.level}", field="scenarios")
        if self.mu is not None:
            mu = np.asarray(self.mu, dtype=np.float64)
            if mu.shape != (n,) or not np.isfinite(mu).all():
                raise InvalidInput(f"mu must be {n} finite expected returns", field="mu")
            object.__setattr__(self, "mu", mu)
        if self.covariance is not None:
            cov = np.asarray(self.covariance, dtype=np.float64)
            if cov.shape != (n, n) or not np.isfinite(cov).all() \
                    or not np.allclose(cov, cov.T, rtol=1e-10, atol=1e-14):
                raise InvalidInput(f"covariance must be a finite symmetric ({n}, {n}) "
                                   "matrix", field="covariance")
            object.__setattr__(self, "covariance", cov)
        self.constraints.bounds(n)  # shape checks now, not inside a solver
        for group in self.constraints.groups:
            if min(group.members) < 0 or max(group.members) >= n:
                raise InvalidInput(f"group {group.name!r} names an instrument index outside "
                                   f"0..{n - 1}", field="groups")

    @property
    def n_instruments(self) -> int:
        return len(self.codes)

    @property
    def n_scenarios(self) -> int:
        return int(self.scenarios.shape[0])

    def expected_returns(self) -> FloatArray:
        """``mu``, or the scenario mean when none was given (shape ``(N,)``)."""
        if self.mu is not None:
            return self.mu
        return np.asarray(self.scenarios.mean(axis=0), dtype=np.float64)

    def covariance_matrix(self) -> FloatArray:
        """The given covariance or Ledoit–Wolf of the scenarios (shape ``(N, N)``)."""
        if self.covariance is not None:
            return self.covariance
        return ledoit_wolf_covariance(self.scenarios)[0]


@dataclass(frozen=True, slots=True)
class LinearConstraints:
    """The constraints in matrix form ``A_eq w = b_eq``, ``A_ub w <= b_ub``,
    ``lower <= w <= upper``, with a name per row and per bound."""

    a_eq: FloatArray
    b_eq: FloatArray
    eq_names: tuple[str, ...]
    a_ub: FloatArray
    b_ub: FloatArray
    ub_names: tuple[str, ...]
    lower: FloatArray
    upper: FloatArray
    lower_names: tuple[str, ...]
    upper_names: tuple[str, ...]


def _bound_names(given: tuple[str, ...], codes: tuple[str, ...], what: str) -> tuple[str, ...]:
    if given and len(given) != len(codes):
        raise InvalidInput(f"{len(given)} {what} bound names for {len(codes)} instruments",
                           field=f"{what}_names")
    return given or tuple(f"{what} bound of {code}" for code in codes)


def linear_constraints(problem: CompositionProblem) -> LinearConstraints:
    """Matrix form of ``problem.constraints`` (the minimum return uses ``mu``)."""
    spec = problem.constraints
    n = problem.n_instruments
    lower, upper = spec.bounds(n)
    rows, rhs, names = [], [], []
    for group in spec.groups:
        row = np.zeros(n)
        row[list(group.members)] = 1.0
        rows.append(row)
        rhs.append(group.max_weight)
        names.append(group.name)
    if spec.min_return is not None:
        rows.append(-problem.expected_returns())
        rhs.append(-spec.min_return)
        names.append(f"minimum expected return {spec.min_return:g}")
    a_ub = np.vstack(rows) if rows else np.zeros((0, n))
    return LinearConstraints(
        a_eq=np.ones((1, n)), b_eq=np.array([spec.budget]),
        eq_names=(f"budget: weights sum to {spec.budget:g}",),
        a_ub=a_ub, b_ub=np.asarray(rhs, dtype=np.float64), ub_names=tuple(names),
        lower=lower, upper=upper,
        lower_names=_bound_names(spec.lower_names, problem.codes, "lower"),
        upper_names=_bound_names(spec.upper_names, problem.codes, "upper"))
