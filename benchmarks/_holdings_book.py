"""The 1M-posting SQLite workspace for bench_holdings: reference data, generated entries,
and a bulk loader that writes exactly the rows ``Journal.post`` writes (checked against the
real journal on a prefix before every build). Audit records are not written for the
bulk-loaded entries.
"""

from __future__ import annotations

import json
import random
import sqlite3
import tempfile
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal, localcontext
from pathlib import Path
from typing import Any

from _common import console, progress
from sqlalchemy import insert, select

from qoima.app.book import ReferenceData
from qoima.bootstrap.wiring import open_reserve
from qoima.domain.enums import (
    AccountKind,
    CostMethod,
    CustodianKind,
    EntryCode,
    InstrumentKind,
    TrancheKind,
    VehicleKind,
)
from qoima.domain.money import MONEY_CONTEXT, ZERO
from qoima.domain.reference import Account, Custodian, Instrument, Tranche, Vehicle
from qoima.ledger.entries import EntryDraft, PostingDraft
from qoima.store import tables as t
from qoima.store.types import strip_zeros

D = Decimal
ACTOR = "bench-loader"
START, DAYS = date(2015, 1, 1), 3652  # ten years of value dates
FUNDING = D("10000000000000.00")
VEHICLES = tuple(Vehicle(f"fund-{k}", f"Fund {k}", VehicleKind.STATE_FUND,
                         CostMethod.FIFO if k % 2 else CostMethod.AVERAGE,
                         tranches=(Tranche("main", TrancheKind.GENERAL),)) for k in range(1, 5))
CUSTODIANS = tuple(Custodian(f"cust-{k}", f"Custodian {k}", CustodianKind.GLOBAL_CUSTODIAN)
                   for k in range(1, 5))
USD = Instrument("USD", "US dollar", InstrumentKind.CASH, 2, "USD")
ASSETS = (*(Instrument(f"TOK{k:02d}", f"Token {k}", InstrumentKind.TOKEN, 8) for k in range(25)),
          *(Instrument(f"ETF{k:02d}", f"ETF {k}", InstrumentKind.ETF, 0) for k in range(24)))


def hold(vehicle: str, instrument: str, custodian: str) -> str:
    return Account(AccountKind.HOLDING, instrument, vehicle, "main", custodian).code


def ext(instrument: str) -> str:
    return Account(AccountKind.EXTERNAL, instrument).code


def reference() -> ReferenceData:
    accounts = [Account(AccountKind.HOLDING, i.code, v.code, "main", c.code)
                for v in VEHICLES for c in CUSTODIANS for i in (USD, *ASSETS)]
    accounts += [Account(AccountKind.CAPITAL, "USD", v.code) for v in VEHICLES]
    return ReferenceData(custodians=CUSTODIANS, vehicles=VEHICLES, instruments=(USD, *ASSETS),
                         accounts=tuple(accounts))


def generate(n_entries: int, seed: int) -> list[EntryDraft]:
    """Funding, then buys and sells (never selling more than is held) over ten years."""
    rng = random.Random(seed)
    drafts = [EntryDraft(f"fund-{v.code}-{c.code}", EntryCode.CASH_IN, START, (
        PostingDraft(hold(v.code, "USD", c.code), FUNDING),
        PostingDraft(Account(AccountKind.CAPITAL, "USD", v.code).code, -FUNDING)))
        for v in VEHICLES for c in CUSTODIANS]
    held: dict[str, Decimal] = {}
    owners: dict[str, tuple[str, str, Instrument]] = {}
    for i in range(n_entries):
        day = START + timedelta(days=i * DAYS // n_entries)
        price = D(rng.randint(1000, 10**7)).scaleb(-2)
        code = rng.choice(list(held)) if held and rng.random() < 0.3 else None
        if code is not None:
            v, c, asset = owners[code]
            quantity = (held[code] * rng.randint(1, 100) / 100).quantize(
                D(1).scaleb(-asset.scale), rounding=ROUND_DOWN)
            total = (quantity * price).quantize(D("0.01"))
            if quantity > 0 and total > 0:
                held[code] -= quantity
                if held[code] == 0:
                    del held[code]
                drafts.append(EntryDraft(f"e{i:07d}", EntryCode.SELL, day, (
                    PostingDraft(code, -quantity, unit_price_usd=price),
                    PostingDraft(ext(asset.code), quantity),
                    PostingDraft(hold(v, "USD", c), total), PostingDraft(ext("USD"), -total))))
                continue
        v, c, asset = rng.choice(VEHICLES).code, rng.choice(CUSTODIANS).code, rng.choice(ASSETS)
        if asset.scale:
            quantity = D(rng.randint(10**5, 10**8)).scaleb(-8)
        else:
            quantity = D(rng.randint(1, 5000))
        total = (quantity * price).quantize(D("0.01"))
        code = hold(v, asset.code, c)
        held[code] = held.get(code, ZERO) + quantity
        owners[code] = (v, c, asset)
        drafts.append(EntryDraft(f"e{i:07d}", EntryCode.BUY, day, (
            PostingDraft(code, quantity, unit_cost_usd=price),
            PostingDraft(ext(asset.code), -quantity),
            PostingDraft(hold(v, "USD", c), -total), PostingDraft(ext("USD"), total))))
    return drafts


def bulk_load(engine: Any, drafts: list[EntryDraft], chunk: int = 25_000) -> None:
    """Write what ``Journal.post`` writes for each draft, in big transactions."""
    with engine.connect() as conn:
        ids = dict(conn.execute(select(t.accounts.c.code, t.accounts.c.id)).all())
    stored: dict[int, Decimal] = {}  # last stored balance per account, as the journal sees it
    balances: dict[tuple[int, date], Decimal] = {}
    now = datetime.now(UTC)
    with progress() as bar, engine.connect() as conn:
        conn = conn.execution_options(qoima_write=True)
        task = bar.add_task("bulk-load entries+postings", total=len(drafts))
        for lo in range(0, len(drafts), chunk):
            entries, postings = [], []
            with localcontext(MONEY_CONTEXT):
                for seq, draft in enumerate(drafts[lo:lo + chunk], start=lo + 1):
                    entries.append({
                        "seq": seq, "entry_id": draft.entry_id, "code": draft.code.value,
                        "phase": draft.phase.value, "value_date": draft.value_date,
                        "description": draft.description, "resolves_entry_id": None,
                        "reverses_entry_id": None,
                        "metadata_json": json.dumps(dict(draft.metadata), sort_keys=True),
                        "content_hash": draft.content_hash(), "actor": ACTOR,
                        "recorded_at": now + timedelta(microseconds=seq)})
                    net: dict[int, Decimal] = defaultdict(lambda: ZERO)
                    for leg, p in enumerate(draft.postings):
                        postings.append({
                            "entry_seq": seq, "leg": leg, "account_id": ids[p.account],
                            "amount": p.amount, "unit_cost_usd": p.unit_cost_usd,
                            "unit_price_usd": p.unit_price_usd})
                        net[ids[p.account]] += p.amount
                    for account_id, delta in net.items():  # Journal: before (as read) + delta
                        if delta != 0:
                            before = stored.get(account_id)
                            value = (ZERO if before is None else strip_zeros(before)) + delta
                            stored[account_id] = balances[(account_id, draft.value_date)] = value
            with conn.begin():
                conn.execute(insert(t.entries), entries)
                conn.execute(insert(t.postings), postings)
            bar.update(task, advance=len(entries))
        with conn.begin():
            conn.execute(insert(t.account_balances), [
                {"account_id": a, "balance_date": d, "balance": b}
                for (a, d), b in balances.items()])


def rows_of(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(path) as con:
        return {name: con.execute(sql).fetchall() for name, sql in {
            "accounts": "SELECT id, code FROM accounts ORDER BY id",
            "entries": "SELECT seq, entry_id, code, phase, value_date, description, "
                       "resolves_entry_id, reverses_entry_id, metadata_json, content_hash, actor "
                       "FROM entries ORDER BY seq",
            "postings": "SELECT * FROM postings ORDER BY entry_seq, leg",
            "account_balances": "SELECT * FROM account_balances ORDER BY 1, 2",
        }.items()}


def verify_loader(drafts: list[EntryDraft]) -> None:
    """Post ``drafts`` through the journal and bulk-load them; the rows must be identical."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = [Path(tmp) / "journal.db", Path(tmp) / "loader.db"]
        for path in paths:
            reserve = open_reserve(database_url=f"sqlite+pysqlite:///{path}", create=True)
            reserve.book.register(reference(), actor=ACTOR)
            if path.name == "journal.db":
                reserve.book.post(drafts, actor=ACTOR)
            else:
                bulk_load(reserve.engine, drafts)
            reserve.close()
        a, b = rows_of(paths[0]), rows_of(paths[1])
    bad = [name for name in a if a[name] != b[name]]
    if bad:
        raise SystemExit(f"bulk loader differs from the journal in: {', '.join(bad)}")
    counts = ", ".join(f"{k} {len(v)}" for k, v in a.items())
    console.print(f"loader check: {len(drafts)} entries posted through the journal and "
                  f"bulk-loaded give identical rows ({counts})")


def build(path: Path, n_postings: int, seed: int) -> dict[str, Any]:
    started = time.perf_counter()
    drafts = generate((n_postings - 2 * len(VEHICLES) * len(CUSTODIANS)) // 4, seed)
    verify_loader(drafts[:1500])
    reserve = open_reserve(database_url=f"sqlite+pysqlite:///{path}", create=True)
    reserve.book.register(reference(), actor=ACTOR)
    bulk_load(reserve.engine, drafts)
    reserve.close()
    meta = {"entries": len(drafts), "postings": sum(len(d.postings) for d in drafts),
            "seed": seed, "build_s": round(time.perf_counter() - started, 1)}
    with sqlite3.connect(path) as con:
        meta["accounts"] = con.execute("SELECT count(*) FROM accounts").fetchone()[0]
        meta["balance_rows"] = con.execute("SELECT count(*) FROM account_balances").fetchone()[0]
    path.with_suffix(".json").write_text(json.dumps(meta, indent=2))
    return meta
