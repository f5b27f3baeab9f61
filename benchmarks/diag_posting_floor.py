"""Diagnostic for bench_posting on SQLite: how fast could qoima's write set commit at all?

Writes per transaction exactly the row set one qoima BUY post writes (1 entry, 4 postings,
4 balance upserts, 1 audit record; same tables and indexes), through sqlite3 directly with
WAL + synchronous=FULL, next to the single-row raw insert. The gap between this floor and
qoima's rate is per-statement overhead in qoima, not durability. Run by hand::

    .venv/bin/python benchmarks/diag_posting_floor.py [--entries 3000]
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

from _common import console, environment, write_result

SCHEMA = """
CREATE TABLE entries (seq INTEGER PRIMARY KEY, entry_id TEXT NOT NULL UNIQUE, code TEXT,
  phase TEXT, value_date TEXT, description TEXT, resolves_entry_id TEXT,
  reverses_entry_id TEXT UNIQUE, metadata_json TEXT, content_hash TEXT, recorded_at TEXT,
  actor TEXT);
CREATE INDEX ix_entries_value_date ON entries (value_date);
CREATE TABLE postings (entry_seq INTEGER, leg INTEGER, account_id INTEGER, amount TEXT,
  unit_cost_usd TEXT, unit_price_usd TEXT, PRIMARY KEY (entry_seq, leg));
CREATE INDEX ix_postings_account ON postings (account_id, entry_seq);
CREATE TABLE account_balances (account_id INTEGER, balance_date TEXT, balance TEXT,
  PRIMARY KEY (account_id, balance_date));
CREATE TABLE audit_records (seq INTEGER PRIMARY KEY, at TEXT, actor TEXT, action TEXT,
  object_type TEXT, object_id TEXT, payload TEXT, payload_hash TEXT, prev_hash TEXT,
  record_hash TEXT);
"""
HASH = "0" * 64
PAYLOAD = '{"postings": []}' * 40  # about the size of a BUY entry's audit payload


def connect(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = FULL")
    return con


def floor_rate(path: Path, n: int) -> float:
    con = connect(path)
    con.executescript(SCHEMA)
    started = time.perf_counter()
    for i in range(n):
        day = f"2020-{1 + i // 224 % 12:02d}-{1 + i // 8 % 28:02d}"
        accounts = [1 + leg + (i % 3) * 4 for leg in range(4)]
        con.execute("BEGIN IMMEDIATE")
        seq = con.execute(
            "INSERT INTO entries (entry_id, code, phase, value_date, description, metadata_json,"
            " content_hash, recorded_at, actor) VALUES (?, 'buy', 'posted', ?, '', '{}', ?,"
            " '2026-01-01T00:00:00.000000+00:00', 'bench') RETURNING seq",
            (f"buy-{i:08d}", day, HASH)).fetchone()[0]
        con.executemany("INSERT INTO postings VALUES (?, ?, ?, '1.23', NULL, NULL)",
                        [(seq, leg, a) for leg, a in enumerate(accounts)])
        con.executemany("INSERT INTO account_balances VALUES (?, ?, ?) ON CONFLICT DO UPDATE "
                        "SET balance = excluded.balance", [(a, day, str(i)) for a in accounts])
        con.execute("INSERT INTO audit_records VALUES (?, '2026', 'bench', 'entry.posted', "
                    "'entry', ?, ?, ?, ?, ?)", (i + 1, f"buy-{i:08d}", PAYLOAD, HASH, HASH, HASH))
        con.execute("COMMIT")
    return n / (time.perf_counter() - started)


def raw_rate(path: Path, n: int) -> float:
    con = connect(path)
    con.execute("CREATE TABLE bench_raw (id INTEGER PRIMARY KEY, entry_id TEXT, value_date TEXT,"
                " amount TEXT)")
    started = time.perf_counter()
    for i in range(n):
        con.execute("BEGIN")
        con.execute("INSERT INTO bench_raw (entry_id, value_date, amount) VALUES (?, ?, ?)",
                    (f"raw-{i:08d}", "2020-01-01", "1.23"))
        con.execute("COMMIT")
    return n / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=3000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qoima-floor-") as tmp:
        raw = raw_rate(Path(tmp) / "raw.db", args.entries)
        floor = floor_rate(Path(tmp) / "floor.db", args.entries)
    console.print(f"raw single-row insert+commit: {raw:,.0f}/s; qoima's row set per commit via "
                  f"sqlite3: {floor:,.0f}/s = {floor / raw:.2f} of raw")
    path = write_result("posting-floor-sqlite", {
        "entries": args.entries, "environment": environment(),
        "raw_rate_per_s": round(raw, 1), "floor_rate_per_s": round(floor, 1),
        "floor_over_raw": round(floor / raw, 4)})
    console.print(f"results: {path}")


if __name__ == "__main__":
    main()
