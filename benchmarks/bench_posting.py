"""Durable posting throughput: qoima entries/s against raw single-row durable inserts.

Run by hand (not a test)::

    .venv/bin/python benchmarks/bench_posting.py --db sqlite
    .venv/bin/python benchmarks/bench_posting.py --db postgresql [--pg-url URL]

Peer: a plain table, one INSERT + COMMIT per row through the same driver (sqlite3 in WAL
with synchronous=FULL; psycopg with synchronous_commit=on), in the same fresh database.
It runs before and after qoima and the ratio uses the mean of the two runs, so drift on a
shared machine shows up instead of skewing one side. qoima: N four-leg BUY entries, each
its own unit of work via ``reserve.book.post([draft])`` (validated, balanced, overdraft
checked, audited, committed durably).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from _common import console, environment, progress, summary_ms, write_result
from rich.table import Table

from qoima.app.book import ReferenceData
from qoima.bootstrap.wiring import open_reserve
from qoima.domain.enums import (
    AccountKind,
    CustodianKind,
    EntryCode,
    InstrumentKind,
    TrancheKind,
    VehicleKind,
)
from qoima.domain.reference import Account, Custodian, Instrument, Tranche, Vehicle
from qoima.ledger.entries import EntryDraft, PostingDraft

D = Decimal
ACTOR = "bench"
START = date(2020, 1, 1)
ENTRIES_PER_DAY = 8
FUNDING = D("1000000000000.00")
USD = Instrument("USD", "US dollar", InstrumentKind.CASH, 2, "USD")
ASSETS = (Instrument("BTC", "Bitcoin", InstrumentKind.TOKEN, 8, chain="bitcoin"),
          Instrument("ETH", "Ether", InstrumentKind.TOKEN, 18, chain="ethereum"),
          Instrument("IBIT", "iShares Bitcoin Trust", InstrumentKind.ETF, 0, ticker="IBIT"))
FUND = Vehicle("fund", "Fund", VehicleKind.STATE_FUND,
               tranches=(Tranche("main", TrancheKind.GENERAL),))
BNY = Custodian("bny", "BNY Mellon", CustodianKind.GLOBAL_CUSTODIAN, "US")


def holding(instrument: str) -> str:
    return Account(AccountKind.HOLDING, instrument, "fund", "main", "bny").code


def external(instrument: str) -> str:
    return Account(AccountKind.EXTERNAL, instrument).code


def reference() -> ReferenceData:
    accounts = [Account(AccountKind.HOLDING, i.code, "fund", "main", "bny") for i in (USD, *ASSETS)]
    accounts.append(Account(AccountKind.CAPITAL, "USD", "fund"))
    return ReferenceData(custodians=(BNY,), vehicles=(FUND,), instruments=(USD, *ASSETS),
                         accounts=tuple(accounts))


def funding() -> EntryDraft:
    capital = Account(AccountKind.CAPITAL, "USD", "fund").code
    return EntryDraft("fund-0", EntryCode.CASH_IN, START - timedelta(days=1), (
        PostingDraft(holding("USD"), FUNDING), PostingDraft(capital, -FUNDING)))


def buy(i: int) -> EntryDraft:
    asset = ASSETS[i % len(ASSETS)]
    quantity = D(1 + i % 97).scaleb(-min(asset.scale, 2))
    unit_cost = D(1000 + i % 5000) + D("0.25")
    total = (quantity * unit_cost).quantize(D("0.01"))
    return EntryDraft(f"buy-{i:08d}", EntryCode.BUY, START + timedelta(days=i // ENTRIES_PER_DAY), (
        PostingDraft(holding(asset.code), quantity, unit_cost_usd=unit_cost),
        PostingDraft(external(asset.code), -quantity),
        PostingDraft(holding("USD"), -total),
        PostingDraft(external("USD"), total)))


def expected_balances(drafts: list[EntryDraft]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for draft in drafts:
        for leg in draft.postings:
            totals[leg.account] += leg.amount
    return dict(totals)


# -- the peer: one durable INSERT per row -------------------------------------------------
def raw_sqlite(path: Path, n: int, label: str) -> tuple[float, list[float], int]:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("DROP TABLE IF EXISTS bench_raw")
    conn.execute("CREATE TABLE bench_raw (id INTEGER PRIMARY KEY, entry_id TEXT NOT NULL, "
                 "value_date TEXT NOT NULL, amount TEXT NOT NULL)")
    conn.commit()
    return _raw_loop(conn, n, label, "INSERT INTO bench_raw (entry_id, value_date, amount) "
                     "VALUES (?, ?, ?)")


def raw_postgres(url: str, n: int, label: str) -> tuple[float, list[float], int]:
    import psycopg

    conn = psycopg.connect(url)
    conn.execute("SET synchronous_commit = on")
    conn.execute("DROP TABLE IF EXISTS bench_raw")
    conn.execute("CREATE TABLE bench_raw (id BIGSERIAL PRIMARY KEY, entry_id TEXT NOT NULL, "
                 "value_date DATE NOT NULL, amount NUMERIC(38,18) NOT NULL)")
    conn.commit()
    return _raw_loop(conn, n, label, "INSERT INTO bench_raw (entry_id, value_date, amount) "
                     "VALUES (%s, %s, %s)")


def _raw_loop(conn: Any, n: int, label: str, sql: str) -> tuple[float, list[float], int]:
    latencies = []
    with progress() as bar:
        task = bar.add_task(label, total=n)
        started = time.perf_counter()
        for i in range(n):
            t0 = time.perf_counter()
            conn.execute(sql, (f"raw-{i:08d}", START.isoformat(), str(D(i) / 100)))
            conn.commit()
            latencies.append(time.perf_counter() - t0)
            if i % 50 == 0:
                bar.update(task, completed=i + 1)
        elapsed = time.perf_counter() - started
        bar.update(task, completed=n)
    count = conn.execute("SELECT count(*) FROM bench_raw").fetchone()[0]
    conn.close()
    return elapsed, latencies, int(count)


# -- qoima ------------------------------------------------------------------------------
def run_qoima(url: str, drafts: list[EntryDraft],
              batch: int) -> tuple[float, list[float], dict[str, Any]]:
    """Post ``drafts`` ``batch`` at a time: one unit of work and one durable commit per call.

    ``batch=1`` is one entry per commit (an operator posting one trade); a larger batch is
    what ``qoima post FILE`` does with an entry file (the whole file in one commit).
    """
    reserve = open_reserve(database_url=url, create=True)
    try:
        reserve.book.register(reference(), actor=ACTOR)
        reserve.book.post([funding()], actor=ACTOR)
        latencies = []
        with progress() as bar:
            task = bar.add_task("qoima book.post", total=len(drafts))
            started = time.perf_counter()
            for i in range(0, len(drafts), batch):
                t0 = time.perf_counter()
                reserve.book.post(drafts[i:i + batch], actor=ACTOR)
                latencies.append(time.perf_counter() - t0)
                if (i // batch) % 50 == 0:
                    bar.update(task, completed=i + batch)
            elapsed = time.perf_counter() - started
            bar.update(task, completed=len(drafts))
        with reserve.units(write=False) as uow:
            balances = dict(uow.journal.balances_as_of(date(9999, 12, 31)))
            entries = uow.journal.count_entries()
            audit = uow.audit.count()
        return elapsed, latencies, {"balances": balances, "entries": entries, "audit": audit}
    finally:
        reserve.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--entries", type=int, default=None,
                        help="entries to post and rows to insert (default: 3000 on sqlite, "
                             "2000 on postgresql: about a minute each)")
    parser.add_argument("--pg-url", default=os.environ.get(
        "QOIMA_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="admin URL; a fresh database is created and dropped on it")
    parser.add_argument("--batch", type=int, default=1,
                        help="entries per book.post call, i.e. per durable commit (default 1)")
    parser.add_argument("--label", default="", help="free note stored in the results file")
    args = parser.parse_args()
    n = args.entries or (3000 if args.db == "sqlite" else 2000)
    drafts = [buy(i) for i in range(n)]
    expected = expected_balances([funding(), *drafts])
    pg_version = None
    with tempfile.TemporaryDirectory(prefix="qoima-bench-") as tmp:
        if args.db == "sqlite":
            path = Path(tmp) / "qoima.db"
            url = f"sqlite+pysqlite:///{path}"
            raw = lambda label: raw_sqlite(path, n, label)  # noqa: E731
            cleanup = lambda: None  # noqa: E731
        else:
            import psycopg

            admin = psycopg.connect(args.pg_url, autocommit=True)
            pg_version = admin.execute("SHOW server_version").fetchone()[0]
            name = f"qoima_bench_{uuid.uuid4().hex[:10]}"
            admin.execute(f'CREATE DATABASE "{name}"')
            base = args.pg_url.rsplit("/", 1)[0]
            raw_url = f"{base}/{name}"
            url = raw_url.replace("postgresql://", "postgresql+psycopg://", 1)
            raw = lambda label: raw_postgres(raw_url, n, label)  # noqa: E731

            def cleanup() -> None:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.close()
        try:
            raw1 = raw("raw insert+commit (before)")
            q_elapsed, q_lat, q_state = run_qoima(url, drafts, args.batch)
            raw2 = raw("raw insert+commit (after)")
        finally:
            cleanup()

    raw_rates = [n / raw1[0], n / raw2[0]]
    raw_rate = sum(raw_rates) / 2
    q_rate = n / q_elapsed
    ratio = q_rate / raw_rate
    balances_ok = q_state["balances"] == expected
    raw_ok = raw1[2] == n and raw2[2] == n
    entries_ok = q_state["entries"] == n + 1
    agree = balances_ok and raw_ok and entries_ok
    table = Table(title=f"posting throughput on {args.db}, N={n}, {args.batch} per commit")
    for col in ("side", "rate /s", "median ms", "p95 ms"):
        table.add_column(col, justify="right" if col != "side" else "left")
    for label, rate, lat in (("raw insert+commit (before)", raw_rates[0], raw1[1]),
                             ("raw insert+commit (after)", raw_rates[1], raw2[1]),
                             (f"qoima book.post ({args.batch} x 4 legs)", q_rate, q_lat)):
        s = summary_ms(lat)
        table.add_row(label, f"{rate:,.0f}", f"{s['median_ms']:.2f}", f"{s['p95_ms']:.2f}")
    console.print(table)
    goal = ratio >= 0.5
    console.print(f"ratio qoima/raw = {ratio:.2f} (goal >= 0.50: {'MET' if goal else 'NOT MET'})")
    console.print(f"agreement: balances {'OK' if balances_ok else 'DIFFER'}, entries "
                  f"{q_state['entries']} (expected {n + 1}), raw rows {raw1[2]}/{raw2[2]} "
                  f"(expected {n}) -> {'AGREE' if agree else 'DISAGREE'}")
    path = write_result(f"posting-{args.db}", {
        "label": args.label, "db": args.db, "entries": n, "batch": args.batch,
        "environment": environment(pg_version),
        "raw": [{"rate_per_s": round(r, 1), "elapsed_s": round(x[0], 3), **summary_ms(x[1])}
                for r, x in zip(raw_rates, (raw1, raw2), strict=True)],
        "raw_rate_per_s": round(raw_rate, 1),
        "qoima": {"rate_per_s": round(q_rate, 1), "elapsed_s": round(q_elapsed, 3),
                  "postings_per_s": round(4 * q_rate, 1), **summary_ms(q_lat)},
        "ratio": round(ratio, 4), "goal_ratio": 0.5, "goal_met": goal,
        "agreement": {"balances": balances_ok, "entries": entries_ok, "raw_rows": raw_ok,
                      "audit_records": q_state["audit"], "all": agree},
    })
    console.print(f"results: {path}")
    raise SystemExit(0 if agree else 1)


if __name__ == "__main__":
    main()
