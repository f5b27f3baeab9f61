"""Open-loop load on the REST API over loopback: mixed reads and order postings.

Workspace: the small demo reserve (``build_demo()``: 5 vehicles, one year of synthetic
market data) in ``benchmarks/work/api-load`` on SQLite, with a portfolio manager of the
sleeve (who posts orders) and an auditor (who reads), each with an API token. Server:
``uvicorn qoima.api.server:app_from_env --factory`` on 127.0.0.1 with ``--workers`` processes.
Load: asyncio with a minimal HTTP/1.1 keep-alive client (``_raw_http``), open loop: request
i is due at ``i / rate`` seconds whatever became of the earlier ones (no coordinated
omission: latency is measured from the due time, so a server that falls behind shows it).
Mix: 90 % reads spread evenly over ``GET /nav``, ``GET /holdings?vehicle=da-sleeve`` and
``GET /orders?limit=50``; 10 % ``POST /orders`` with a unique Idempotency-Key each
(``--write-share 1.0``: postings only, the writer's capacity). Afterwards the server is
stopped and every order it acknowledged (201) is looked up in the store: a lost one is a
failure.

    .venv/bin/python benchmarks/bench_api_load.py [--rate 300] [--duration 60] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

import httpx
from _common import WORK_DIR, console, environment, percentile, write_result
from _raw_http import RawClient, RawHttpError

from qoima.app.demo.build import build_demo, load_demo
from qoima.bootstrap.settings import Settings
from qoima.bootstrap.wiring import Reserve, open_reserve
from qoima.domain.roles import Role, RoleGrant

WORKSPACE = WORK_DIR / "api-load"
READS = ("/api/v1/nav", "/api/v1/holdings?vehicle=da-sleeve", "/api/v1/orders?limit=50")
ORDER = {"vehicle": "da-sleeve", "instrument": "IBIT", "side": "buy", "quantity": "10",
         "estimated_price": "74.32", "tranche": "main", "custodian": "bny"}
ORDER_BODY = json.dumps(ORDER).encode()
GOAL_RATE, GOAL_P99_MS = 300, 100
T = TypeVar("T")
#: Requests in flight at most (= connections). An open loop against a server that falls
#: behind would otherwise pile up thousands of waiting requests in the client, whose own
#: cost then dominates; past this many, a due request is shed and counted as failed.
MAX_IN_FLIGHT = 512
#: Keep-alive connections opened before the load starts (more open on demand), used in
#: turn: like a reverse proxy's upstream pool, they spread the requests over the workers.
CONNECTIONS = 64


@dataclass
class Outcome:
    kind: str  # "read" | "write"
    path: str
    latency_s: float
    status: int  # 0: no response (timeout, connection error)
    error: str = ""


@dataclass
class Run:
    outcomes: list[Outcome] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)  # order ids answered 201
    late_starts: int = 0  # requests that left over 10 ms after their due time
    shed: int = 0  # not sent: MAX_IN_FLIGHT requests were already waiting for answers
    unanswered: dict[str, int] = field(default_factory=lambda: {"read": 0, "write": 0})


def build_workspace() -> dict[str, str]:
    """A fresh small demo with two users; their API token secrets."""
    shutil.rmtree(WORKSPACE, ignore_errors=True)
    reserve = open_reserve(workspace=WORKSPACE, create=True,
                           settings=Settings(runs_dir=WORKSPACE / "runs", browser="none"))
    try:
        load_demo(reserve.book, reserve.market_data, build_demo(), actor="loader")
        reserve.users.add("admin", "Administrator", [RoleGrant(Role.ADMINISTRATOR)],
                          actor="admin")  # the first user bootstraps the others
        reserve.users.add("pm", "Portfolio manager",
                          [RoleGrant(Role.PORTFOLIO_MANAGER, "da-sleeve")], actor="admin")
        reserve.users.add("viewer", "Auditor", [RoleGrant(Role.AUDITOR)], actor="admin")
        return {user: reserve.auth.issue_token(user, name="load", scopes=["write"],
                                               expires_in=timedelta(days=1),
                                               actor=user).secret
                for user in ("pm", "viewer")}
    finally:
        reserve.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(port: int, workers: int, balance: str = "reuseport"
                 ) -> list[subprocess.Popen[bytes]]:
    """``workers`` uvicorn processes on ``port``.

    "shared": one ``uvicorn --workers N``; the workers share one listening socket, and the
    one that wakes first accepts a burst of new connections, so kept-alive connections (and
    their load) pile up on one worker. "reuseport": N single-worker uvicorns, each on its own
    socket bound with SO_REUSEPORT, among which the kernel spreads connections evenly by
    address hash (what a reverse proxy balancing over the workers does in production).
    """
    env = {**os.environ, "QOIMA_HOME": str(WORKSPACE), "QOIMA_BROWSER": "none",
           "QOIMA_RUNS_DIR": str(WORKSPACE / "runs")}
    base = [sys.executable, "-m", "uvicorn", "qoima.api.server:app_from_env", "--factory",
            "--log-level", "warning", "--no-access-log"]
    if balance == "shared":
        servers = [subprocess.Popen([*base, "--host", "127.0.0.1", "--port", str(port),
                                     "--workers", str(workers)], env=env)]
    else:
        servers = []
        for _ in range(workers):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(("127.0.0.1", port))
            sock.listen(2048)
            servers.append(subprocess.Popen([*base, "--fd", str(sock.fileno())], env=env,
                                            pass_fds=(sock.fileno(),)))
            sock.close()  # the child holds its own copy
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                time.sleep(2)  # every worker has started (they all start in parallel)
                return servers
        except httpx.HTTPError:
            pass
        for server in servers:
            if server.poll() is not None:
                stop_server(servers)
                raise SystemExit(f"uvicorn exited with {server.returncode}")
        time.sleep(0.2)
    stop_server(servers)
    raise SystemExit("uvicorn did not answer /api/v1/health within 60 s")


def stop_server(servers: list[subprocess.Popen[bytes]]) -> None:
    for server in servers:
        server.send_signal(signal.SIGINT)
    for server in servers:
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


async def one(client: RawClient, run: Run, index: int, due: float,
              tokens: dict[str, str], write_every: int) -> None:
    if time.perf_counter() - due > 0.010:
        run.late_starts += 1
    kind = "write" if index % write_every == write_every - 1 else "read"
    path = "/api/v1/orders" if kind == "write" else READS[index % len(READS)]
    try:
        if kind == "write":
            response = await client.request("POST", path, {
                "Authorization": f"Bearer {tokens['pm']}",
                "Content-Type": "application/json",
                "Idempotency-Key": f"load-{os.getpid()}-{index}"}, ORDER_BODY)
        else:
            response = await client.request("GET", path, {
                "Authorization": f"Bearer {tokens['viewer']}"})
    except RawHttpError as error:
        run.outcomes.append(Outcome(kind, path, time.perf_counter() - due, 0, str(error)))
        return
    latency = time.perf_counter() - due
    ok = response.status == (201 if kind == "write" else 200)
    run.outcomes.append(Outcome(kind, path, latency, response.status,
                                "" if ok else response.body[:200].decode("utf-8", "replace")))
    if kind == "write" and response.status == 201:
        run.acknowledged.append(response.json()["order_id"])


async def drive(port: int, tokens: dict[str, str], rate: float, duration: float,
                write_share: float, grace: float) -> tuple[Run, float]:
    """Send ``rate`` requests a second for ``duration`` seconds; wait ``grace`` seconds more
    for the stragglers, then count what is still unanswered as failed."""
    run = Run()
    total = int(rate * duration)
    write_every = max(1, round(1 / write_share))
    client = RawClient("127.0.0.1", port)
    try:
        await client.open(CONNECTIONS)
        for path in READS:  # warm both workers' caches and connections, not measured
            for _ in range(10):
                await client.request("GET", path,
                                     {"Authorization": f"Bearer {tokens['viewer']}"})
        tasks: list[tuple[int, asyncio.Task[None]]] = []
        # The client's own garbage collector would walk every task and outcome kept so far
        # (tens of thousands) and pause the loop for tens of milliseconds, counted as the
        # server's latency: it is off while the load runs.
        gc.collect()
        gc.disable()
        start = time.perf_counter()
        in_flight: set[asyncio.Task[None]] = set()
        for index in range(total):
            due = start + index / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if len(in_flight) >= MAX_IN_FLIGHT:
                run.shed += 1
                run.unanswered["write" if index % write_every == write_every - 1
                               else "read"] += 1
                continue
            task = asyncio.create_task(one(client, run, index, due, tokens, write_every))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
            tasks.append((index, task))
        left = start + duration + grace - time.perf_counter()
        _, pending = await asyncio.wait([t for _, t in tasks], timeout=max(left, 0.1))
        elapsed = time.perf_counter() - start
        for index, task in tasks:
            if task in pending:
                task.cancel()
                run.unanswered["write" if index % write_every == write_every - 1
                               else "read"] += 1
        await asyncio.gather(*pending, return_exceptions=True)
    finally:
        gc.enable()
        await client.close()
    return run, elapsed


def lost_orders(acknowledged: list[str]) -> tuple[list[str], int]:
    """Acknowledged orders missing from the store, and how many orders the store holds."""
    reserve: Reserve = open_reserve(workspace=WORKSPACE,
                                    settings=Settings(runs_dir=WORKSPACE / "runs",
                                                      browser="none"))
    try:
        stored = {o.order_id for o in reserve.orders.list(actor="pm")}
    finally:
        reserve.close()
    return [order_id for order_id in acknowledged if order_id not in stored], len(stored)


def stats(outcomes: list[Outcome]) -> dict[str, Any]:
    if not outcomes:
        return {"n": 0}
    ms = [o.latency_s * 1000 for o in outcomes]
    return {"n": len(ms), "errors": sum(1 for o in outcomes if o.error),
            "p50_ms": round(percentile(ms, 50), 1), "p95_ms": round(percentile(ms, 95), 1),
            "p99_ms": round(percentile(ms, 99), 1), "max_ms": round(max(ms), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rate", type=float, default=GOAL_RATE, help="requests per second")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--write-share", type=float, default=0.1)
    parser.add_argument("--balance", choices=("reuseport", "shared"), default="reuseport",
                        help="how connections reach the workers (see start_server)")
    parser.add_argument("--grace", type=float, default=10.0,
                        help="seconds to wait for answers after the last request is sent")
    args = parser.parse_args()

    console.print(f"building the small demo in {WORKSPACE} ...")
    tokens = build_workspace()
    port = free_port()
    server = start_server(port, args.workers, args.balance)
    try:
        console.print(f"open loop: {args.rate:g} req/s for {args.duration:g} s, "
                      f"{args.workers} worker(s), {args.write_share:.0%} order postings")
        run, elapsed = _run_loop(drive(port, tokens, args.rate, args.duration,
                                       args.write_share, args.grace))
    finally:
        stop_server(server)
    lost, stored = lost_orders(run.acknowledged)
    reads = {**stats([o for o in run.outcomes if o.kind == "read"]),
             "unanswered": run.unanswered["read"]}
    writes = {**stats([o for o in run.outcomes if o.kind == "write"]),
              "unanswered": run.unanswered["write"]}
    by_path = {path: stats([o for o in run.outcomes if o.path == path and o.kind == "read"])
               for path in READS}
    answered = sum(1 for o in run.outcomes if not o.error)
    errors = sum(1 for o in run.outcomes if o.error) + sum(run.unanswered.values())
    sustained = round(answered / elapsed, 1)
    met = (sustained >= GOAL_RATE * 0.99 and reads.get("p99_ms", 1e9) < GOAL_P99_MS
           and errors == 0 and not lost)
    errors_seen = sorted({f"{o.status} {o.error}"[:120] for o in run.outcomes if o.error})[:5]
    result = {"rate": args.rate, "duration_s": args.duration, "workers": args.workers,
              "balance": args.balance,
              "grace_s": args.grace, "elapsed_s": round(elapsed, 2),
              "sent": int(args.rate * args.duration), "answered_ok": answered,
              "sustained_req_s": sustained, "reads": reads, "writes": writes,
              "reads_by_path": by_path,
              "errors": errors, "error_samples": errors_seen, "late_starts": run.late_starts,
              "shed": run.shed,
              "acknowledged_orders": len(run.acknowledged), "stored_orders": stored,
              "lost_orders": len(lost), "goal_met": met, "environment": environment(),
              "versions": _versions()}
    console.print(f"sustained {sustained} req/s over {elapsed:.1f} s ({answered} answered "
                  f"right of {int(args.rate * args.duration)} sent; {errors} errors or "
                  f"unanswered, {run.shed} of them shed; {run.late_starts} sent >10 ms late)")
    for name, figures in (("reads", reads), ("writes", writes), *by_path.items()):
        console.print(f"  {name}: {figures}")
    console.print(f"orders acknowledged {len(run.acknowledged)}, in the store {stored}, "
                  f"lost {len(lost)}")
    for sample in errors_seen:
        console.print(f"  error: {sample}")
    console.print(f"goal (>= {GOAL_RATE} req/s, read p99 < {GOAL_P99_MS} ms, no errors, "
                  f"no lost order): {'MET' if met else 'NOT MET'}")
    console.print(f"results: {write_result('api-load', result)}")
    if lost:
        raise SystemExit(f"{len(lost)} acknowledged orders are missing: {lost[:5]}")


def _run_loop(work: Coroutine[Any, Any, T]) -> T:
    """The client on uvloop too (what uvicorn runs on), so its own cost stays small."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(work)
    return uvloop.run(work)


def _versions() -> dict[str, str]:
    import fastapi
    import starlette
    import uvicorn

    return {"fastapi": fastapi.__version__, "starlette": starlette.__version__,
            "uvicorn": uvicorn.__version__, "httpx": httpx.__version__}


if __name__ == "__main__":
    main()
