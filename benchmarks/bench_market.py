"""Market data: importing 50 series x 10 years, and 10,000 random as-of lookups, vs pandas.

Peer: ``pandas.read_csv`` of the same files (dates parsed, indexed), and ``Series.asof``.
qoima: ``read_series`` (parse to exact Decimals and run every quality check) and, reported
apart, storing them all in one transaction on SQLite; lookups through ``AsOfIndex`` built
from the parsed series. Agreement: the same number of bars per file, and every lookup gives
the same close (pandas' float equals ``float`` of qoima's Decimal) on the same date.

    .venv/bin/python benchmarks/bench_market.py [--series 50] [--years 10] [--lookups 10000]
"""

from __future__ import annotations

import argparse
import math
import random
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from _common import console, environment, write_result
from rich.table import Table

from qoima.adapters.market_files import read_series
from qoima.bootstrap.wiring import open_reserve
from qoima.market.asof import AsOfIndex
from qoima.market.calendars import CalendarName, get_calendar
from qoima.market.series import Series, SeriesId, SeriesKind

START = date(2015, 1, 1)


def write_files(directory: Path, count: int, years: int, seed: int) -> list[Path]:
    """``count`` CSV files of NYSE-session OHLCV bars: a seeded random walk per file."""
    rng = random.Random(seed)
    days = get_calendar(CalendarName.XNYS).sessions(START, START + timedelta(365 * years))
    paths = []
    for n in range(count):
        close = 20 + 80 * rng.random()
        lines = ["date,open,high,low,close,volume"]
        for day in days:
            open_ = close
            close = max(0.5, close * math.exp(rng.gauss(0, 0.015)))
            high = max(open_, close) * (1 + abs(rng.gauss(0, 0.004)))
            low = min(open_, close) * (1 - abs(rng.gauss(0, 0.004)))
            lines.append(f"{day.isoformat()},{open_:.4f},{high:.4f},{low:.4f},{close:.4f},"
                         f"{rng.randint(10_000, 5_000_000)}")
        path = directory / f"S{n:02d}.csv"
        path.write_text("\n".join(lines) + "\n")
        paths.append(path)
    return paths


def timed(fn: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--series", type=int, default=50)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--lookups", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--label", default="", help="free note stored in the results file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qoima-bench-market-") as tmp:
        paths = write_files(Path(tmp), args.series, args.years, args.seed)
        rows = sum(len(p.read_text().splitlines()) - 1 for p in paths)

        def pandas_read() -> dict[str, pd.DataFrame]:
            return {p.stem: pd.read_csv(p, parse_dates=["date"], index_col="date")
                    for p in paths}

        def qoima_read() -> dict[str, Series]:
            return {p.stem: read_series(p, series_id=SeriesId(SeriesKind.PRICE, p.stem),
                                        calendar=CalendarName.XNYS, source=f"file:{p.name}",
                                        currency="USD") for p in paths}

        # warm both once (imports, caches), then measure the better of three runs each
        pandas_read()
        qoima_read()
        peer_read = min(timed(pandas_read)[0] for _ in range(3))
        q_read, loaded = min((timed(qoima_read) for _ in range(3)), key=lambda r: r[0])
        frames = pandas_read()
        reserve = open_reserve(database_url=f"sqlite+pysqlite:///{tmp}/q.db", create=True)
        try:
            q_store, _ = timed(lambda: reserve.market_data.import_series(
                list(loaded.values()), actor="bench", origin="bench"))
        finally:
            reserve.close()

        rng = random.Random(args.seed + 1)
        names = sorted(loaded)
        span = (START + timedelta(365 * args.years) - START).days
        queries = [(rng.choice(names), START + timedelta(rng.randint(-5, span + 5)))
                   for _ in range(args.lookups)]
        closes = {name: frame["close"] for name, frame in frames.items()}
        peer_lookup, peer_answers = timed(lambda: [
            closes[n].asof(pd.Timestamp(d)) for n, d in queries])
        index = AsOfIndex.from_series(list(loaded.values()))
        q_lookup, q_answers = timed(lambda: [index.close_as_of(n, d) for n, d in queries])

    bars_agree = all(len(loaded[n].bars) == len(frames[n]) for n in names)
    lookups_agree = all(
        (math.isnan(p) and q is None) or (q is not None and float(q[1]) == p)
        for p, q in zip(peer_answers, q_answers, strict=True))
    read_ratio = q_read / peer_read
    lookup_ratio = peer_lookup / q_lookup
    table = Table(title=f"market data: {args.series} series x {args.years} years "
                        f"({rows:,} bars), {args.lookups:,} lookups")
    for col in ("step", "pandas s", "qoima s", "qoima/pandas"):
        table.add_column(col, justify="left" if col == "step" else "right")
    table.add_row("read + validate", f"{peer_read:.3f}", f"{q_read:.3f}", f"{read_ratio:.2f}x")
    table.add_row("store (SQLite, one commit)", "—", f"{q_store:.3f}", "—")
    table.add_row("as-of lookups", f"{peer_lookup:.3f}", f"{q_lookup:.4f}",
                  f"{q_lookup / peer_lookup:.3f}x")
    console.print(table)
    read_goal = read_ratio <= 2
    lookup_goal = q_lookup < peer_lookup
    console.print(f"import within 2x of pandas read_csv: {'MET' if read_goal else 'NOT MET'} "
                  f"({read_ratio:.2f}x); lookups faster than pandas asof: "
                  f"{'MET' if lookup_goal else 'NOT MET'} ({lookup_ratio:.0f}x faster)")
    agree = bars_agree and lookups_agree
    console.print(f"agreement: bars per file {'OK' if bars_agree else 'DIFFER'}, lookups "
                  f"{'OK' if lookups_agree else 'DIFFER'} -> {'AGREE' if agree else 'DISAGREE'}")
    path = write_result("market", {
        "label": args.label, "series": args.series, "years": args.years, "bars": rows,
        "lookups": args.lookups, "environment": environment(),
        "pandas_read_s": round(peer_read, 4), "qoima_read_validate_s": round(q_read, 4),
        "qoima_store_sqlite_s": round(q_store, 4), "read_ratio": round(read_ratio, 3),
        "pandas_asof_s": round(peer_lookup, 4), "qoima_asof_s": round(q_lookup, 5),
        "lookup_speedup": round(lookup_ratio, 1), "goals": {"read": read_goal,
                                                           "lookup": lookup_goal},
        "agreement": {"bars": bars_agree, "lookups": lookups_agree, "all": agree},
    })
    console.print(f"results: {path}")
    raise SystemExit(0 if agree else 1)


if __name__ == "__main__":
    main()
