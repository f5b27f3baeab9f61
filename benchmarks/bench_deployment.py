"""Deployment backtest grid: 1,000 gate/tranche parameter sets x 10 years of daily BTC.

Data: ``../shared/data/market/BTC-USD.csv`` (closes and volumes, 2015-06-01 to 2025-12-31)
when present, else a seeded synthetic GBM path of the same length. Grid: 10 realized-vol
thresholds x 10 drawdown thresholds (the default gate's other signals kept, BTC only) x 5
tranche counts (2, 3, 4, 6, 12) x 2 spacings (7, 30 days) = 1,000 GATED_TRANCHES sets, every
start date from 2016-06-01 to 2024-12-31, horizon 365 days. Timed: the GO matrix of the 100
gates plus the grid (``gate_go_matrix`` + ``run_deployment_grid``), run twice, the second
(warm) reported. Peer: plain Python loops (the same definition as the test reference) on a
subset of parameter sets and start dates; per-run time extrapolated to the full grid for the
ratio. Agreement: entry prices, drawdowns, completion and times equal exactly on the subset.
For scale (issue 6): vectorbt runs 1,000 MA-crossover combinations over 10 years in about
0.42 s warm on this machine.

    .venv/bin/python benchmarks/bench_deployment.py [--subset-params 10] [--subset-every 10]
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
from _common import console, environment, write_result

from qoima.allocation.deployment import DeploymentParams, EntryStrategy, PriceHistory
from qoima.allocation.deployment_grid import run_deployment_grid
from qoima.allocation.gate import gate_go_matrix
from qoima.allocation.gate_signals import GateSeries
from qoima.policy.allocation import DEFAULT_GATE, StabilityGate

MARKET = Path(__file__).resolve().parents[2] / "shared" / "data" / "market" / "BTC-USD.csv"
FIRST, LAST = date(2015, 6, 1), date(2025, 12, 31)
WINDOW = (date(2016, 6, 1), date(2024, 12, 31))
HORIZON = 365


def load() -> tuple[str, tuple[date, ...], np.ndarray, np.ndarray]:
    if MARKET.is_file():
        import pandas as pd

        frame = pd.read_csv(MARKET, usecols=["date", "close", "volume"])
        frame = frame[(frame["date"] >= FIRST.isoformat()) & (frame["date"] <= LAST.isoformat())]
        return ("BTC-USD.csv", tuple(date.fromisoformat(d) for d in frame["date"]),
                frame["close"].to_numpy(float), frame["volume"].fillna(0).to_numpy(float))
    n = (LAST - FIRST).days + 1
    rng = np.random.default_rng(20260606)
    closes = 250 * np.exp(np.cumsum(rng.normal(0.0015, 0.037, n)))
    return ("synthetic GBM", tuple(FIRST + timedelta(i) for i in range(n)), closes,
            rng.uniform(1e9, 5e10, n))


def gates() -> list[StabilityGate]:
    btc_only = tuple(s for s in DEFAULT_GATE.signals if s.series == "BTC" and s.required)
    out = []
    for vol in range(50, 150, 10):
        for dd in range(20, 70, 5):
            signals = tuple(
                dataclasses.replace(s, max_value=Decimal(vol) / 100) if s.id == "btc-volatility"
                else dataclasses.replace(s, max_value=Decimal(dd) / 100)
                if s.id == "btc-drawdown" else s for s in btc_only)
            out.append(StabilityGate(signals))
    return out


def grid() -> list[DeploymentParams]:
    return [DeploymentParams(EntryStrategy.GATED_TRANCHES, n, k, g)
            for g in range(100) for n in (2, 3, 4, 6, 12) for k in (7, 30)]


def reference(closes: np.ndarray, dates: tuple[date, ...], go: np.ndarray,
              p: DeploymentParams, s: int) -> tuple[float, float, bool, float]:
    """One (parameter set, start) walked day by day: entry, drawdown, completed, days."""
    n_obs, n = len(closes), p.tranches
    gate = go[p.gate] if p.gate is not None else np.ones(n_obs, dtype=bool)
    deadline = s
    while deadline + 1 < n_obs and dates[deadline + 1] <= dates[s] + timedelta(HORIZON):
        deadline += 1
    days: list[int] = []
    earliest, completed = s, True
    for _ in range(n):
        t = earliest
        while t <= deadline and not gate[t]:
            t += 1
        if t > deadline:
            completed = False
            break
        days.append(t)
        e = t
        while e < n_obs and dates[e] < dates[t] + timedelta(p.spacing_days):
            e += 1
        earliest = e
    days += [deadline] * (n - len(days))
    inverse_sum, worst = 0.0, 0.0
    for j, day in enumerate(days):
        if j > 0:
            for t in range(days[j - 1], day + 1):
                worst = max(worst, (j / n) - (inverse_sum / n) * closes[t])
        inverse_sum += 1.0 / closes[day]
    span = float((dates[days[-1]] - dates[s]).days) if completed else float("nan")
    return n / inverse_sum, worst, completed, span


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subset-params", type=int, default=10)
    parser.add_argument("--subset-every", type=int, default=10, help="every k-th start date")
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    source, dates, closes, volumes = load()
    series = {"BTC": GateSeries("BTC", dates, closes)}
    history = PriceHistory(dates, closes, volumes)
    gate_list, params = gates(), grid()

    timings = []
    for _ in range(2):  # cold, then warm
        started = time.perf_counter()
        go = gate_go_matrix(gate_list, series, dates)
        result = run_deployment_grid(history, params, go=go, window=WINDOW,
                                     horizon_days=HORIZON)
        timings.append(time.perf_counter() - started)
    warm = timings[-1]
    n_runs = result.entry_price.size

    rows = np.linspace(0, len(params) - 1, args.subset_params).round().astype(int)
    cols = np.arange(0, len(result.start_dates), args.subset_every)
    first = dates.index(result.start_dates[0])
    mismatches = 0
    started = time.perf_counter()
    for r in rows:
        for c in cols:
            entry, worst, done, span = reference(closes, dates, go, params[r], first + c)
            got = (result.entry_price[r, c], result.drawdown[r, c], result.completed[r, c],
                   result.time_to_full_days[r, c])
            same_span = (np.isnan(span) and np.isnan(got[3])) or span == got[3]
            if not (entry == got[0] and worst == got[1] and done == got[2] and same_span):
                mismatches += 1
    loop_s = time.perf_counter() - started
    checked = len(rows) * len(cols)
    loop_full_s = loop_s / checked * n_runs
    ratio = loop_full_s / warm
    agree = mismatches == 0
    console.print(f"data: {source}, {len(dates):,} days {dates[0]}..{dates[-1]}; "
                  f"{len(params):,} parameter sets x {len(result.start_dates):,} start dates "
                  f"= {n_runs:,} runs, horizon {HORIZON} days")
    console.print(f"qoima (GO matrix of 100 gates + grid): cold {timings[0]:.3f} s, "
                  f"warm {warm:.3f} s  -> under 1 s warm: {'MET' if warm < 1 else 'NOT MET'}")
    console.print(f"plain loops: {loop_s:.2f} s for {checked:,} runs -> {loop_full_s:.0f} s "
                  f"extrapolated to the grid; ratio {ratio:,.0f}x")
    console.print(f"agreement on {checked:,} runs: {'AGREE (exact)' if agree else 'DISAGREE'} "
                  f"({mismatches} mismatches); completion rate {result.completed.mean():.3f}")
    path = write_result("deployment", {
        "label": args.label, "source": source, "days": len(dates), "params": len(params),
        "starts": len(result.start_dates), "horizon_days": HORIZON,
        "environment": environment(), "cold_s": round(timings[0], 4), "warm_s": round(warm, 4),
        "loop_subset_runs": checked, "loop_subset_s": round(loop_s, 3),
        "loop_extrapolated_s": round(loop_full_s, 1), "ratio": round(ratio, 1),
        "agreement": agree, "mismatches": mismatches, "goals": {"under_1s_warm": warm < 1},
    })
    console.print(f"results: {path}")
    raise SystemExit(0 if agree else 1)


if __name__ == "__main__":
    main()
