#!/usr/bin/env python3
"""Set up and run qoima with nothing but Python: the two README commands live here.

    python3 tasks.py demo    # create .venv, install qoima, build and show the demo reserve
    python3 tasks.py test    # create .venv, install qoima with test tools, run the tests
    python3 tasks.py check   # ruff, mypy and import-linter (the layering in DESIGN.md)

Only the standard library is used, so it runs on a fresh machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("QOIMA_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def ensure_venv(extras: str) -> None:
    """Create the virtual environment once and (re)install qoima into it."""
    if sys.version_info < (3, 11):
        sys.exit(f"qoima needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        print(f"creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
        run(str(PYTHON), "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    target = f"{ROOT}[{extras}]" if extras else str(ROOT)
    run(str(PYTHON), "-m", "pip", "install", "--quiet", "--editable", target)


def run(*command: str) -> None:
    completed = subprocess.run(command, cwd=ROOT, check=False)
    if completed.returncode != 0:
        sys.exit(completed.returncode)


def demo(args: list[str]) -> None:
    ensure_venv("")
    run(str(BIN / "qoima"), "demo", *(args or ["--dir", str(ROOT / "demo-reserve")]))


def test(args: list[str]) -> None:
    ensure_venv("dev")
    workers = [] if "-n" in args else ["-n", "auto"]
    run(str(PYTHON), "-m", "pytest", *workers, *args)


def check(_args: list[str]) -> None:
    ensure_venv("dev")
    run(str(BIN / "ruff"), "check", "src", "tests", "benchmarks", "tasks.py")
    run(str(BIN / "mypy"))
    run(str(BIN / "lint-imports"))


TASKS = {"demo": demo, "test": test, "check": check}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in TASKS:
        sys.exit(f"usage: python3 tasks.py {{{','.join(TASKS)}}} [args...]")
    TASKS[sys.argv[1]](sys.argv[2:])
