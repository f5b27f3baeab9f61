"""Shared helpers for the hand-run benchmarks: environment facts, timing, results files."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
WORK_DIR = BENCH_DIR / "work"
console = Console()


def progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TimeRemainingColumn(), console=console)


def environment(postgres_version: str | None = None) -> dict[str, Any]:
    import sqlalchemy

    env: dict[str, Any] = {
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sqlalchemy.__version__,
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
    }
    try:
        import psycopg

        env["psycopg"] = psycopg.__version__
    except ImportError:  # pragma: no cover - optional driver
        pass
    if postgres_version:
        env["postgresql"] = postgres_version
    env["git_commit"] = _git("rev-parse", "HEAD")
    env["git_dirty"] = bool(_git("status", "--porcelain", "--untracked-files=no"))
    return env


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=BENCH_DIR, capture_output=True, text=True,
                             timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary_ms(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {"n": len(ms), "median_ms": round(statistics.median(ms), 3),
            "p95_ms": round(percentile(ms, 95), 3), "min_ms": round(min(ms), 3),
            "max_ms": round(max(ms), 3)}


def write_result(name: str, payload: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS_DIR / f"{name}-{stamp}.json"
    payload = {"benchmark": name, "run_at": stamp, "argv": sys.argv[1:], **payload}
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return path
