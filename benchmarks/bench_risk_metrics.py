"""Risk metrics: VaR/CVaR, max drawdown, Sharpe, Sortino for 500 series x 3,000 days.

Peers, each looping over the series as its users do: empyrical (``value_at_risk``,
``conditional_value_at_risk``, ``max_drawdown``, ``sharpe_ratio``, ``sortino_ratio`` on each
column) and quantstats (``qs.stats.value_at_risk``, ``cvar``, ``max_drawdown``, ``sharpe``,
``sortino`` on each column as a pandas Series); and a straightforward NumPy version on the
whole matrix. qoima: ``performance.risk_arrays`` (all five measures of all series in one
call, input checked once) and, reported beside it, the five array functions of
``qoima.risk.measures`` and ``qoima.risk.performance`` called one after the other.

Like is compared with like: empyrical's VaR and CVaR are historical (numpy percentile and
the mean of the worst ``floor((n - 1) * 0.05) + 1`` returns), so qoima's historical
VaR/CVaR are timed against them; quantstats' ``value_at_risk`` and ``cvar`` are parametric
normal by default, so qoima's ``normal_var_cvar`` is timed against them. quantstats caches
its prepared returns; the cache is cleared before each repetition so that every run does
the work a first call does. Data: seeded Student-t (4 dof) daily returns, scale 1 %.

    .venv/bin/python benchmarks/bench_risk_metrics.py [--series 500] [--days 3000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from _common import console, environment, write_result
from rich.table import Table

from qoima.risk import measures, performance

LEVEL = 0.95
PERIODS_PER_YEAR = 252
MEASURES = ("var", "cvar", "max_drawdown", "sharpe", "sortino")
Metrics = dict[str, np.ndarray]


def as_metrics(arrays: performance.RiskArrays) -> Metrics:
    return dict(zip(MEASURES, arrays, strict=True))


def qoima_batch(returns: np.ndarray, var_method: str) -> Metrics:
    """One call: input checked once, mean shared."""
    return as_metrics(performance.risk_arrays(returns, PERIODS_PER_YEAR, level=LEVEL,
                                              var_method=var_method))


def qoima_separate(returns: np.ndarray) -> Metrics:
    """The five array functions one after the other, each checking its input."""
    var, cvar = measures.historical_var_cvar(returns, LEVEL)
    return {"var": np.asarray(var), "cvar": np.asarray(cvar),
            "max_drawdown": np.asarray(performance.max_drawdown(returns)),
            "sharpe": np.asarray(performance.sharpe_ratio(returns, PERIODS_PER_YEAR)),
            "sortino": np.asarray(performance.sortino_ratio(returns, PERIODS_PER_YEAR))}


def plain_numpy(returns: np.ndarray) -> Metrics:
    """The straightforward matrix version: quantile, mask, cumprod, running max."""
    quantile = np.quantile(returns, 1 - LEVEL, axis=0)
    tail = returns <= quantile
    cvar = -(np.where(tail, returns, 0.0).sum(axis=0) / tail.sum(axis=0))
    value = np.vstack([np.ones(returns.shape[1]), np.cumprod(1 + returns, axis=0)])
    drawdown = (value / np.maximum.accumulate(value, axis=0) - 1).min(axis=0)
    mean, std = returns.mean(axis=0), returns.std(axis=0, ddof=1)
    downside = np.sqrt((np.minimum(returns, 0) ** 2).mean(axis=0))
    root = np.sqrt(PERIODS_PER_YEAR)
    return {"var": -quantile, "cvar": cvar, "max_drawdown": drawdown,
            "sharpe": mean / std * root, "sortino": mean / downside * root}


def empyrical_loop(columns: list[np.ndarray]) -> Metrics:
    import empyrical as ep

    cutoff = 1 - LEVEL
    rows = [(-ep.value_at_risk(c, cutoff), -ep.conditional_value_at_risk(c, cutoff),
             ep.max_drawdown(c), ep.sharpe_ratio(c, period="daily"),
             ep.sortino_ratio(c, period="daily")) for c in columns]
    return dict(zip(MEASURES, (np.array(v) for v in zip(*rows, strict=True)), strict=True))


def quantstats_loop(series: list[pd.Series]) -> Metrics:
    import quantstats as qs

    rows = [(-qs.stats.value_at_risk(s, confidence=LEVEL), -qs.stats.cvar(s, confidence=LEVEL),
             qs.stats.max_drawdown(s), qs.stats.sharpe(s, periods=PERIODS_PER_YEAR),
             qs.stats.sortino(s, periods=PERIODS_PER_YEAR)) for s in series]
    return dict(zip(MEASURES, (np.array(v, dtype=float) for v in zip(*rows, strict=True)),
                    strict=True))


def clear_quantstats_cache() -> None:
    import quantstats as qs

    qs.utils._PREPARE_RETURNS_CACHE.clear()


def interleaved(runners: dict[str, Callable[[], Metrics]], rounds: int,
                every_round: dict[str, int]) -> tuple[dict[str, list[float]], dict[str, Metrics]]:
    """Seconds of each runner, run in turns so that load from other processes falls on all
    of them alike: per round, runner ``name`` runs ``every_round[name]`` times (0: only in
    the first three rounds, once). One warm-up run each first; returns runs and answers."""
    answers = {name: fn() for name, fn in runners.items()}
    seconds: dict[str, list[float]] = {name: [] for name in runners}
    for round_number in range(rounds):
        for name, fn in runners.items():
            times = every_round[name] or (1 if round_number < 3 else 0)
            for _ in range(times):
                if name == "quantstats":
                    clear_quantstats_cache()
                started = time.perf_counter()
                answers[name] = fn()
                seconds[name].append(time.perf_counter() - started)
    return seconds, answers


def differences(ours: Metrics, theirs: Metrics) -> dict[str, dict[str, float]]:
    """Per measure: the largest absolute difference, the largest relative one, and the
    largest ``|a - b| / max(1, |b|)`` that the agreement test uses."""
    out = {}
    for name in MEASURES:
        a, b = np.asarray(ours[name], float), np.asarray(theirs[name], float)
        absolute = np.abs(a - b)
        out[name] = {"max_abs": float(absolute.max()),
                     "max_rel": float((absolute / np.maximum(np.abs(b), 1e-300)).max()),
                     "max_scaled": float((absolute / np.maximum(np.abs(b), 1.0)).max())}
    return out


def agree(diff: dict[str, dict[str, float]], tolerance: float = 1e-12) -> bool:
    """Identical up to float rounding: ``|a - b| <= 1e-12 * max(1, |b|)`` everywhere."""
    return all(d["max_scaled"] <= tolerance for d in diff.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--series", type=int, default=500)
    parser.add_argument("--days", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20260604)
    parser.add_argument("--label", default="", help="free note stored in the results file")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")  # the peers' deprecation chatter
    rng = np.random.default_rng(args.seed)
    returns = 0.0003 + 0.01 * rng.standard_t(4, size=(args.days, args.series))
    columns = [np.ascontiguousarray(returns[:, j]) for j in range(args.series)]
    index = pd.date_range("2015-01-01", periods=args.days, freq="D")
    series = [pd.Series(c, index=index, name=f"s{j}") for j, c in enumerate(columns)]

    runners: dict[str, Callable[[], Metrics]] = {
        "qoima_historical": lambda: qoima_batch(returns, "historical"),
        "qoima_normal": lambda: qoima_batch(returns, "normal"),
        "qoima_separate": lambda: qoima_separate(returns),
        "plain_numpy": lambda: plain_numpy(returns),
        "empyrical": lambda: empyrical_loop(columns),
        "quantstats": lambda: quantstats_loop(series),
    }
    per_round = {"qoima_historical": 4, "qoima_normal": 4, "qoima_separate": 4,
                 "plain_numpy": 2, "empyrical": 1, "quantstats": 0}
    runs, answers = interleaved(runners, args.repeat, per_round)
    median = {name: statistics.median(values) for name, values in runs.items()}
    q_hist, q_norm, q_sep = (median[k] for k in ("qoima_historical", "qoima_normal",
                                                 "qoima_separate"))
    t_numpy, t_emp, t_qs = (median[k] for k in ("plain_numpy", "empyrical", "quantstats"))
    parts = {name: statistics.median(interleaved({name: fn}, args.repeat * 4, {name: 1})[0][name])
             for name, fn in {
        "historical var+cvar": lambda: measures.historical_var_cvar(returns, LEVEL),
        "normal var+cvar": lambda: measures.normal_var_cvar(returns, LEVEL),
        "max drawdown": lambda: performance.max_drawdown(returns),
        "sharpe": lambda: performance.sharpe_ratio(returns, PERIODS_PER_YEAR),
        "sortino": lambda: performance.sortino_ratio(returns, PERIODS_PER_YEAR),
    }.items()}

    vs_emp = differences(answers["qoima_historical"], answers["empyrical"])
    vs_qs = differences(answers["qoima_normal"], answers["quantstats"])
    vs_numpy = differences(answers["qoima_historical"], answers["plain_numpy"])
    vs_separate = differences(answers["qoima_historical"], answers["qoima_separate"])
    table = Table(title=f"risk metrics: {args.series} series x {args.days} days "
                        "(VaR, CVaR, max drawdown, Sharpe, Sortino at 95 %)")
    for col in ("implementation", "median ms", "time / qoima"):
        table.add_column(col, justify="left" if col == "implementation" else "right")
    table.add_row("qoima risk_arrays, historical VaR/CVaR", f"{q_hist * 1e3:.1f}", "1.0x")
    table.add_row("qoima risk_arrays, normal VaR/CVaR", f"{q_norm * 1e3:.1f}", "1.0x")
    table.add_row("qoima, five separate calls (historical)", f"{q_sep * 1e3:.1f}",
                  f"{q_sep / q_hist:.1f}x")
    table.add_row("plain NumPy (historical)", f"{t_numpy * 1e3:.1f}", f"{t_numpy / q_hist:.1f}x")
    table.add_row("empyrical, per series (historical)", f"{t_emp * 1e3:.1f}",
                  f"{t_emp / q_hist:.1f}x")
    table.add_row("quantstats, per series (normal)", f"{t_qs * 1e3:.1f}", f"{t_qs / q_norm:.1f}x")
    console.print(table)
    console.print("qoima per measure, one call each (ms): " + ", ".join(
        f"{name} {seconds * 1e3:.1f}" for name, seconds in parts.items()))
    for label, diff in (("empyrical", vs_emp), ("quantstats", vs_qs), ("plain NumPy", vs_numpy),
                        ("separate calls", vs_separate)):
        console.print(f"vs {label}: " + "; ".join(
            f"{name} abs {d['max_abs']:.1e} rel {d['max_rel']:.1e}" for name, d in diff.items())
            + f" -> {'AGREE' if agree(diff) else 'DIFFER'} (|d| <= 1e-12 max(1, |peer|))")
    goals = {"quantstats_20x": t_qs / q_norm >= 20, "empyrical_5x": t_emp / q_hist >= 5}
    console.print(f">= 20x quantstats: {'MET' if goals['quantstats_20x'] else 'NOT MET'} "
                  f"({t_qs / q_norm:.1f}x); >= 5x empyrical: "
                  f"{'MET' if goals['empyrical_5x'] else 'NOT MET'} ({t_emp / q_hist:.1f}x; "
                  f"separate calls {t_emp / q_sep:.1f}x)")
    all_agree = all(agree(d) for d in (vs_emp, vs_qs, vs_numpy, vs_separate))

    def ms(runs: list[float]) -> list[float]:
        return [round(s * 1e3, 3) for s in runs]

    payload: dict[str, Any] = {
        "label": args.label, "series": args.series, "days": args.days, "seed": args.seed,
        "level": LEVEL, "periods_per_year": PERIODS_PER_YEAR, "environment": environment(),
        "median_ms": {name: round(value * 1e3, 3) for name, value in median.items()},
        "runs_ms": {name: ms(values) for name, values in runs.items()},
        "qoima_parts_ms": {k: round(v * 1e3, 3) for k, v in parts.items()},
        "ratios": {"empyrical_over_qoima": round(t_emp / q_hist, 2),
                   "empyrical_over_qoima_separate": round(t_emp / q_sep, 2),
                   "quantstats_over_qoima": round(t_qs / q_norm, 2),
                   "numpy_over_qoima": round(t_numpy / q_hist, 2)},
        "goals": goals,
        "agreement": {"empyrical": vs_emp, "quantstats": vs_qs, "plain_numpy": vs_numpy,
                      "separate_calls": vs_separate, "all": all_agree},
    }
    path = write_result("risk-metrics", payload)
    console.print(f"results: {path}")
    raise SystemExit(0 if all_agree else 1)


if __name__ == "__main__":
    main()
