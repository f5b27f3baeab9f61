"""Spinu's Newton method for risk budgeting, without the optimize() wrapper."""

from __future__ import annotations

import numpy as np
import pytest

from qoima.allocation.parity import check_budgets, risk_parity_newton
from qoima.domain.errors import InvalidInput


def random_covariance(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    factor = rng.normal(size=(n, n + 5)) * rng.uniform(0.005, 0.03, (n, 1))
    return factor @ factor.T / (n + 5)


@pytest.mark.parametrize("n", [2, 10, 300])
def test_contributions_match_budgets_to_machine_precision(n: int) -> None:
    cov = random_covariance(n, seed=n)
    budgets = check_budgets(np.arange(1, n + 1, dtype=float), n)
    solution = risk_parity_newton(cov, budgets)
    w = solution.weights
    shares = w * (cov @ w) / (w @ cov @ w)
    assert np.abs(shares - budgets).max() < 1e-12
    assert w.sum() == pytest.approx(1.0, abs=1e-14)
    assert solution.iterations < 40


def test_scale_of_the_covariance_does_not_matter() -> None:
    cov = random_covariance(20, seed=4)
    budgets = check_budgets(None, 20)
    a = risk_parity_newton(cov, budgets).weights
    b = risk_parity_newton(cov * 1e6, budgets).weights
    np.testing.assert_allclose(a, b, atol=1e-13)


def test_singular_covariance_and_bad_budgets_are_refused() -> None:
    x = np.array([1.0, 1.0])
    with pytest.raises(InvalidInput, match="not positive definite"):
        risk_parity_newton(np.outer(x, x), check_budgets(None, 2))
    with pytest.raises(InvalidInput, match="no positive variance"):
        risk_parity_newton(np.zeros((2, 2)), check_budgets(None, 2))
    with pytest.raises(InvalidInput, match="risk budgets"):
        check_budgets([1.0, 0.0], 2)
