"""Holdings-as-of latency on SQLite at ~1M postings, against a plain SQL sum of postings.

Run by hand (not a test)::

    .venv/bin/python benchmarks/bench_holdings.py --postings 1000000 [--rebuild]

Setup (_holdings_book.py) bulk-loads the workspace, cached under benchmarks/work/:
reference data goes through ``reserve.book.register``; entries, postings and
account_balances are written with SQLAlchemy Core in big transactions, row for row what the
journal writes (same drafts, content hashes, column types and balance arithmetic; a prefix
is posted through the real journal into a scratch database and compared row by row before
every build). Audit records for the bulk-loaded entries are NOT written: this benchmark
reads balances only. Each side then runs over the same random as-of dates.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import time
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any

from _common import WORK_DIR, console, environment, progress, summary_ms, write_result
from _holdings_book import DAYS, START, build

from qoima.bootstrap.wiring import open_reserve
from qoima.domain.money import MONEY_CONTEXT

# The plain "SELECT account_id, SUM(amount) ... WHERE value_date <= d GROUP BY account_id":
# amounts are text on SQLite, so the SUM and GROUP BY happen in Python with exact Decimals.
PEER_SQL = ("SELECT p.account_id, p.amount FROM postings p JOIN entries e ON e.seq = p.entry_seq"
            " WHERE e.phase = 'posted' AND e.value_date <= ?")


def peer_holdings(con: sqlite3.Connection, as_of: date, holding_ids: dict[int, str]
                  ) -> dict[str, Decimal]:
    totals: dict[int, Decimal] = defaultdict(Decimal)
    with localcontext(MONEY_CONTEXT):
        for account_id, amount in con.execute(PEER_SQL, (as_of.isoformat(),)):
            totals[account_id] += Decimal(amount)
    return {holding_ids[a]: s for a, s in totals.items() if a in holding_ids and s != 0}


def timed(label: str, dates: list[date], fn: Any) -> tuple[list[float], list[Any]]:
    latencies, answers = [], []
    with progress() as bar:
        task = bar.add_task(label, total=len(dates))
        for day in dates:
            t0 = time.perf_counter()
            answers.append(fn(day))
            latencies.append(time.perf_counter() - t0)
            bar.advance(task)
    return latencies, answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postings", type=int, default=1_000_000)
    parser.add_argument("--dates", type=int, default=50, help="random as-of dates to time")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--label", default="", help="free note stored in the results file")
    args = parser.parse_args()
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    path = WORK_DIR / f"holdings-{args.postings}-s{args.seed}.db"
    if args.rebuild or not path.with_suffix(".json").exists():
        for stale in (path, path.with_suffix(".json"), Path(f"{path}-wal"), Path(f"{path}-shm")):
            stale.unlink(missing_ok=True)
        meta = build(path, args.postings, args.seed)
    else:
        meta = json.loads(path.with_suffix(".json").read_text())
    console.print(f"workspace {path} ({path.stat().st_size / 2**20:.0f} MiB): {meta}")

    reserve = open_reserve(database_url=f"sqlite+pysqlite:///{path}")
    peer = sqlite3.connect(path)
    holding_ids = dict(peer.execute("SELECT id, code FROM accounts WHERE kind = 'holding'"))
    rng = random.Random(args.seed + 1)
    dates = [START + timedelta(days=rng.randrange(-30, DAYS + 30)) for _ in range(args.dates)]
    t0 = time.perf_counter()
    reserve.valuation.holdings(dates[0], with_cost=False)
    cold_s = time.perf_counter() - t0
    # each side runs over all dates on its own, so neither evicts the other's caches mid-run
    q_lat, answers = timed("qoima holdings(with_cost=False)", dates, lambda day: {
        p.account.code: p.quantity
        for p in reserve.valuation.holdings(day, with_cost=False).positions})
    p_lat, expected = timed("peer: SQL + Decimal sum", dates,
                            lambda day: peer_holdings(peer, day, holding_ids))
    mismatches = [d.isoformat() for d, a, b in zip(dates, answers, expected, strict=True) if a != b]
    last = START + timedelta(days=DAYS)
    t0 = time.perf_counter()
    costed = reserve.valuation.holdings(last, with_cost=True)
    cost_s = time.perf_counter() - t0
    cost_ok = ({p.account.code: p.quantity for p in costed.positions if p.quantity}
               == peer_holdings(peer, last, holding_ids))
    reserve.close()
    q, p = summary_ms(q_lat), summary_ms(p_lat)
    goal = q["max_ms"] < 200  # "as of any date": every sampled date, not just the median
    agree = not mismatches and cost_ok
    console.print(f"qoima holdings(with_cost=False): median {q['median_ms']:.1f} ms, p95 "
                  f"{q['p95_ms']:.1f} ms, max {q['max_ms']:.1f} ms (first call "
                  f"{cold_s * 1000:.0f} ms)")
    console.print(f"peer SQL + Decimal sum:          median {p['median_ms']:.1f} ms, p95 "
                  f"{p['p95_ms']:.1f} ms; peer/qoima median "
                  f"{statistics.median(p_lat) / statistics.median(q_lat):.1f}x")
    console.print(f"qoima holdings(with_cost=True) as of {last}: {cost_s:.2f} s (replays lots)")
    console.print(f"goal < 200 ms at every sampled date: {'MET' if goal else 'NOT MET'}; answers "
                  f"{'AGREE' if agree else 'DISAGREE on ' + ', '.join(mismatches)} "
                  f"({len(dates)} dates + with_cost)")
    out = write_result("holdings-sqlite", {
        "label": args.label, "postings": args.postings, "workspace": meta,
        "environment": environment(), "dates": len(dates), "qoima_ms": q,
        "qoima_first_call_ms": round(cold_s * 1000, 1), "peer_ms": p,
        "with_cost_s": round(cost_s, 3), "with_cost_as_of": last.isoformat(),
        "goal": "max < 200 ms over the sampled dates", "goal_met": goal,
        "agreement": {"mismatched_dates": mismatches, "with_cost_quantities": cost_ok,
                      "all": agree}})
    console.print(f"results: {out}")
    raise SystemExit(0 if agree else 1)


if __name__ == "__main__":
    main()
