"""``qoima case`` end to end on a demo workspace built with the command line: a case from
intake through forfeiture into the reserve with the ledger and the audit trail checked at
each step, case files with bad input (one line naming file, line and field, nothing
written), custody events, reconciliation files, proofs of control signed with real keys,
sanctions screening with committee overrides, forks, the inventory and the disposition
comparison, with their exit codes (3 when a check finds something)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
from collections.abc import Iterator
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import base58
import pytest
from coincurve import PrivateKey

from qoima.bootstrap.wiring import Reserve, open_reserve
from qoima.cli.main import main
from qoima.custody.addresses import eip55
from qoima.custody.hashes import hash160
from qoima.custody.proofs_bitcoin import legacy_message_hash
from qoima.custody.proofs_ethereum import account_of
from qoima.custody.signatures import CURVE_ORDER
from qoima.market.series import SeriesId, SeriesKind
from tests.custody.test_proofs import _p2wpkh_address

ROOT = Path(__file__).resolve().parents[2]
SDN = ROOT / "tests" / "custody" / "data" / "sdn_sample.xml"
POOL_BTC = "holding:seized-pool/main:BTC@state-wallet"
FUND_BTC = "holding:state-fund/liquidity:BTC@bitgo"
AS_OF = "2026-10-30"
USERS = [("admin", "administrator"), ("liaison", "enforcement_liaison:seized-pool"),
         ("pm-fund", "portfolio_manager:state-fund"), ("risk", "risk_officer"),
         ("cm1", "committee_member"), ("cm2", "committee_member"), ("ops", "operations"),
         ("auditor", "auditor")]
CENT = Decimal("0.01")
CASE = """\
case_id: {case_id}
agency: Financial Monitoring Agency
case_number: "{case_id}"
court: Astana City Court
description: Illegal exchange, wallets seized
opened_on: 2026-03-02
documents:
  - {{kind: seizure_order, reference: SO-{case_id}, dated: 2026-03-02, issued_by: Court}}
assets:
  - asset_id: {case_id}-A1
    chain: {chain}
    network: {network}
    instrument: {instrument}
    quantity: "{quantity}"
    addresses: [{address}]
    tx_ids: [{tx}]
    holding: state_wallet
    holder: AFM key custody unit
    seized_on: 2026-03-02
"""
LINE = {"quantity": 14, "addresses": 15, "tx_ids": 16, "asset": 10}


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def flat(text: str) -> str:
    """A usage error's text without the box it is drawn in (wrapped at any width)."""
    return " ".join(text.replace("│", " ").split())


def key(label: str) -> PrivateKey:
    return PrivateKey(hashlib.sha256(label.encode()).digest())


def btc_address(label: str) -> str:
    return _p2wpkh_address(key(label))


def p2pkh_address(label: str) -> str:
    """A mainnet P2PKH (1...) address of ``key(label)``'s compressed public key."""
    digest = hash160(key(label).public_key.format())
    return str(base58.b58encode_check(b"\x00" + digest).decode())


def txid(label: str) -> str:
    return hashlib.sha256(f"tx {label}".encode()).hexdigest()


class Workspace:
    """A demo workspace and the people of the case workflow."""

    def __init__(self, directory: Path, files: Path) -> None:
        self.dir, self.files = str(directory), files

    def run(self, actor: str, *args: str) -> tuple[int, str, str]:
        return cli("--dir", self.dir, "--as", actor, *args)

    def ok(self, actor: str, *args: str) -> Any:
        code, out, err = self.run(actor, *args, "--json")
        assert code == 0, out + err
        return json.loads(out)

    def json(self, code: int, actor: str, *args: str) -> Any:
        got, out, err = self.run(actor, *args, "--json")
        assert got == code, out + err
        return json.loads(out)

    def error(self, actor: str, *args: str) -> str:
        """The one line a refused command prints; it exits 1 and prints nothing else."""
        code, out, err = self.run(actor, *args)
        assert code == 1, out + err
        assert out == ""
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith("error: ")
        return lines[0].removeprefix("error: ")

    def case_file(self, case_id: str, **fields: str) -> Path:
        values = {"case_id": case_id, "chain": "bitcoin", "network": "mainnet",
                  "instrument": "BTC", "quantity": "2.5", "address": btc_address(case_id),
                  "tx": txid(case_id), **fields}
        path = self.files / f"{case_id}.yaml"
        path.write_text(CASE.format(**values))
        return path

    def open(self, case_id: str, **fields: str) -> Any:
        return self.ok("liaison", "case", "open", str(self.case_file(case_id, **fields)))

    def step(self, case_id: str, to: str, document: str, on: str) -> Any:
        return self.ok("liaison", "case", "transition", case_id, "--to", to, "--document",
                       f"{document}:{document.upper()}-{case_id}:{on}:Astana City Court",
                       "--on", on)

    def forfeit(self, case_id: str) -> None:
        self.step(case_id, "frozen", "freeze_order", "2026-03-10")
        self.step(case_id, "under_court_review", "court_filing", "2026-04-01")
        self.step(case_id, "forfeited", "court_order", "2026-05-15")

    def audit(self) -> int:
        """Records in the trail, which must verify."""
        result = self.ok("auditor", "audit", "verify")
        assert result["ok"], result["problems"]
        return int(result["records"])

    def actions(self, since: int) -> list[str]:
        with self.reserve() as reserve, reserve.units(write=False) as uow:
            return [r.action for r in uow.audit.iter_records()][since:]

    def footprint(self) -> tuple[Any, ...]:
        """Everything a case command can write (read from the store in one go)."""
        with self.reserve() as reserve, reserve.units(write=False) as uow:
            c = uow.custody
            cases = c.list_cases()
            return (uow.audit.count(), len(uow.journal.list_entries(limit=10_000)),
                    tuple(cases), sum(len(c.list_transitions(x.case_id)) for x in cases),
                    len(c.list_assets()), len(c.list_addresses()), len(c.list_events()),
                    tuple(c.list_hits()), len(c.list_proofs()),
                    len(c.list_reconciliations()), tuple(c.list_dispositions()),
                    len(c.list_forks()), len(c.list_sanctions_lists()))

    def ledger(self, account: str, as_of: str = AS_OF) -> tuple[Decimal, Decimal]:
        """(posted, pending) quantity of ``account`` as ``qoima holdings`` shows them."""
        vehicle = account.split(":")[1].split("/")[0]
        held = self.ok("auditor", "holdings", "--vehicle", vehicle, "--as-of", as_of)

        def total(rows: list[dict[str, Any]]) -> Decimal:
            return sum((Decimal(r["quantity"]) for r in rows if r["account_code"] == account),
                       Decimal(0))
        return total(held["positions"]), total(held["pending"])

    @contextlib.contextmanager
    def reserve(self) -> Iterator[Reserve]:
        reserve = open_reserve(workspace=Path(self.dir))
        try:
            yield reserve
        finally:
            reserve.close()


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    directory = tmp_path_factory.mktemp("cases") / "demo-reserve"
    assert main(["demo", "--dir", str(directory), "--size", "small", "--no-run", "--json"]) == 0
    for name, role in USERS:
        code, out, err = cli("--dir", str(directory), "--as", "admin", "user", "add", name,
                             "--role", role)
        assert code == 0, out + err
    return Workspace(directory, tmp_path_factory.mktemp("case-files"))


# -- 1. intake -> forfeiture -> the reserve --------------------------------------------------------


def test_a_case_from_intake_through_forfeiture_into_the_reserve(ws: Workspace) -> None:
    cid, q = "CLI-E2E", Decimal("4.2")
    pool0, pending0 = ws.ledger(POOL_BTC)
    fund0, _ = ws.ledger(FUND_BTC)
    nav0 = {v["vehicle_code"]: v["nav_usd"]
            for v in ws.ok("auditor", "nav", "--as-of", AS_OF)["vehicles"]}

    n = ws.audit()
    view = ws.open(cid, quantity=str(q))
    assert view["case"]["legal_status"] == "seized"
    (seized,) = view["assets"]
    assert (seized["account_code"], seized["addresses"]) == (POOL_BTC, [btc_address(cid)])
    assert ws.actions(n) == ["entry.pending", "case.opened"]
    assert ws.ledger(POOL_BTC) == (pool0, pending0 + q)
    assert {v["vehicle_code"]: v["nav_usd"]
            for v in ws.ok("auditor", "nav", "--as-of", AS_OF)["vehicles"]} == nav0

    for to, document, on in (("frozen", "freeze_order", "2026-03-10"),
                             ("under_court_review", "court_filing", "2026-04-01")):
        n = ws.audit()
        view = ws.step(cid, to, document, on)
        assert view["case"]["legal_status"] == to
        assert view["legal_history"][-1]["documents"][0]["kind"] == document
        assert ws.actions(n) == ["case.transition"]
        assert ws.ledger(POOL_BTC) == (pool0, pending0 + q)

    n = ws.audit()
    view = ws.step(cid, "forfeited", "court_order", "2026-05-15")
    assert view["legal_history"][-1]["ledger_effect"] == "post_pending"
    assert ws.actions(n) == ["entry.posted", "case.transition"]
    assert ws.ledger(POOL_BTC) == (pool0 + q, pending0)

    # the enforcement liaison cannot take the coins into a reserve vehicle
    before = ws.footprint()
    message = ws.error("liaison", "case", "transition", cid, "--to", "transferred_to_reserve",
                       "--document", "transfer_approval:TA-1:2026-06-01:Committee",
                       "--on", "2026-06-01")
    assert "qoima case dispose" in message and "four-eyes" in message
    message = ws.error("liaison", "case", "transition", cid, "--to", "transferred_to_reserve",
                       "--on", "2026-06-01")
    assert "qoima case dispose" in message
    message = ws.error("liaison", "case", "dispose", cid, "--asset", f"{cid}-A1",
                       "--vehicle", "state-fund", "--tranche", "liquidity", "--custodian",
                       "bitgo", "--on", "2026-06-01")
    assert message == "user liaison (no role) may not order.create on vehicle state-fund"
    assert ws.footprint() == before

    n = ws.audit()
    proposed = ws.ok("pm-fund", "case", "dispose", cid, "--asset", f"{cid}-A1",
                     "--vehicle", "state-fund", "--tranche", "liquidity", "--custodian",
                     "bitgo", "--on", "2026-06-01")
    with ws.reserve() as reserve, reserve.units(write=False) as uow:
        px = uow.market.latest_prices(date(2026, 6, 1), ["BTC"])["BTC"].price
    assert (proposed["status"], Decimal(proposed["price_usd"])) == ("proposed", px)
    assert Decimal(proposed["valuation_usd"]) == (q * px).quantize(CENT, ROUND_HALF_EVEN)
    assert ws.actions(n) == ["disposition.proposed"]
    did = proposed["disposition_id"]

    before = ws.footprint()
    assert "may not order.approve" in ws.error("liaison", "case", "dispose", cid,
                                               "--approve", did, "--on", "2026-06-01")
    assert "maker" in ws.error("pm-fund", "case", "dispose", cid, "--approve", did,
                               "--on", "2026-06-01")
    assert ws.footprint() == before
    assert ws.ok("risk", "case", "dispose", cid, "--approve", did,
                 "--on", "2026-06-01")["status"] == "proposed"
    assert ws.ledger(FUND_BTC)[0] == fund0
    n = ws.audit()
    code, out, err = ws.run("cm1", "case", "dispose", cid, "--approve", did, "--on",
                            "2026-06-01")
    assert code == 0 and out.strip() == f"disposition {did}: executed", out + err
    assert ws.actions(n) == ["entry.posted", "case.transition", "disposition.approved"]
    assert ws.ledger(POOL_BTC) == (pool0, pending0)
    assert ws.ledger(FUND_BTC)[0] == fund0 + q
    view = ws.ok("auditor", "case", "show", cid)
    assert view["case"]["legal_status"] == "transferred_to_reserve"
    assert [t["to_status"] for t in view["legal_history"]] == [
        "seized", "frozen", "under_court_review", "forfeited", "transferred_to_reserve"]
    listed = {c["case_id"]: c["legal_status"] for c in ws.ok("auditor", "case", "list")}
    assert listed[cid] == "transferred_to_reserve"
    code, out, _ = ws.run("auditor", "case", "show", cid)
    assert code == 0 and f"case {cid} (Financial Monitoring Agency" in out
    assert "transferred_to_reserve" in out and "Legal history" in out
    ws.audit()


def test_a_return_order_voids_the_pending_entry(ws: Workspace) -> None:
    cid, q = "CLI-RET", Decimal("0.3")
    pool0, pending0 = ws.ledger(POOL_BTC)
    ws.open(cid, quantity=str(q))
    assert ws.ledger(POOL_BTC) == (pool0, pending0 + q)
    n = ws.audit()
    view = ws.step(cid, "returned_to_owner", "return_order", "2026-03-20")
    assert view["legal_history"][-1]["ledger_effect"] == "void_pending"
    assert ws.actions(n) == ["entry.posted", "case.transition"]
    assert ws.ledger(POOL_BTC) == (pool0, pending0)


def test_legal_steps_without_their_document_are_refused(ws: Workspace) -> None:
    cid = "CLI-LEG"
    ws.open(cid)
    before = ws.footprint()
    assert ws.error("liaison", "case", "transition", cid, "--to", "frozen", "--on",
                    "2026-03-10") == ("field 'documents': frozen needs a freeze_order or "
                                      "court_order (reference and date)")
    assert ws.error("liaison", "case", "transition", cid, "--to", "forfeited", "--document",
                    "court_order:CO-1:2026-03-10:Court", "--on", "2026-03-10") == (
        "field 'status': seized -> forfeited is not allowed; from seized: frozen, "
        "under_court_review, returned_to_owner")
    assert ws.error("liaison", "case", "transition", cid, "--to", "frozen", "--document",
                    "freeze_order:FO-1:2026-03-12:Court", "--on", "2026-03-10") == (
        "field 'dated': freeze_order FO-1 is dated 2026-03-12, after the change on "
        "2026-03-10")
    assert ws.footprint() == before
    code, _, err = ws.run("liaison", "case", "transition", cid, "--to", "seizd")
    assert code == 2 and "'seizd': one of seized" in flat(err)
    code, _, err = ws.run("liaison", "case", "transition", cid, "--to", "frozen",
                          "--document", "warrant:W-1:2026-03-10:Court")
    assert code == 2 and "'warrant': one of seizure_order" in flat(err)
    assert ws.footprint() == before


# -- 4. case files with bad input ------------------------------------------------------------------


def _flip_case(address: str) -> str:
    """The address with its first letter's case flipped: an EIP-55 checksum error."""
    index = next(i for i, c in enumerate(address) if i > 1 and c.isalpha())
    return address[:index] + address[index].swapcase() + address[index + 1:]


ETH = eip55(account_of(key("CLI-BAD eth").public_key.format(compressed=False)))
BAD = {
    "bech32 checksum": ({"address": btc_address("CLI-BAD")[:-1] + (
        "q" if not btc_address("CLI-BAD").endswith("q") else "p")}, "addresses",
        "checksum"),
    "testnet on mainnet": ({"address": "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"},
                           "addresses", "testnet/signet address (human-readable part 'tb') "
                           "on mainnet"),
    "EIP-55 capitalization": ({"chain": "ethereum", "instrument": "ETH",
                               "address": _flip_case(ETH), "tx": "0x" + txid("eth")},
                              "addresses", "EIP-55 checksum"),
    "truncated txid": ({"tx": txid("CLI-BAD")[:63]}, "tx_ids",
                       "63 hex digits, expected 64"),
    "BTC to 9 places": ({"quantity": "1.123456789"}, "quantity", "9"),
}


@pytest.mark.parametrize("fault", sorted(BAD))
def test_a_bad_case_file_names_file_line_and_field_and_writes_nothing(
        ws: Workspace, fault: str) -> None:
    fields, field, reason = BAD[fault]
    path = ws.case_file("CLI-BAD", **fields)
    before = ws.footprint()
    message = ws.error("liaison", "case", "open", str(path))
    assert message.startswith(f"{path}:{LINE[field]}: field '{field}': "), message
    assert reason in message
    assert ws.footprint() == before


def test_a_case_file_without_a_field_or_with_a_held_address_writes_nothing(
        ws: Workspace) -> None:
    path = ws.case_file("CLI-BAD")
    path.write_text(path.read_text().replace("    holder: AFM key custody unit\n", ""))
    before = ws.footprint()
    assert ws.error("liaison", "case", "open", str(path)) == (
        f"{path}:{LINE['asset']}: field 'holder': missing required field 'holder'")
    path.write_text(path.read_text().replace("court: Astana City Court\n", ""))
    assert ws.error("liaison", "case", "open", str(path)) == (
        f"{path}:1: field 'court': missing required field 'court'")
    assert ws.footprint() == before

    ws.open("CLI-DUP-1")
    before = ws.footprint()
    message = ws.error("liaison", "case", "open",
                       str(ws.case_file("CLI-DUP-2", address=btc_address("CLI-DUP-1"))))
    assert message == f"address {btc_address('CLI-DUP-1')} is already held for case CLI-DUP-1"
    assert ws.footprint() == before
    assert "CLI-DUP-2" not in {c["case_id"] for c in ws.ok("auditor", "case", "list")}


# -- 5. chain of custody ---------------------------------------------------------------------------


def test_custody_events_move_balances_and_unknown_addresses_are_refused(ws: Workspace
                                                                        ) -> None:
    cid = "CLI-COC"
    seized, wallet = btc_address(cid), btc_address("CLI-COC state wallet")
    ws.open(cid, quantity="5")

    def custody(event: str, kind: str, at: str, *options: str, actor: str = "liaison",
                code: int = 0) -> tuple[int, str, str]:
        result = ws.run(actor, "case", "custody", cid, "--event-id", event, "--kind", kind,
                        "--at", at, "--chain", "bitcoin", "--instrument", "BTC", *options)
        assert result[0] == code, result
        return result

    n = ws.audit()
    custody("CLI-COC-1", "key_generation", "2026-03-03T10:00:00+00:00", "--to-address",
            wallet, "--to-holder", "State key unit")
    custody("CLI-COC-2", "transfer", "2026-03-04T10:00:00+00:00", "--from-address", seized,
            "--to-address", wallet, "--tx", txid("CLI-COC-2"), "--quantity", "4.5",
            "--fee", "0.0002")
    _, out, _ = custody("CLI-COC-3", "custodian_change", "2026-03-05T10:00:00+00:00",
                        "--from-address", wallet, "--from-holder", "State key unit",
                        "--to-holder", "BitGo", actor="ops")
    assert out.strip() == f"recorded custodian_change CLI-COC-3 for case {cid}"
    assert ws.actions(n) == ["case.custody_event"] * 3
    events = ws.ok("auditor", "case", "show", cid)["custody_events"]
    assert [(e["kind"], e["tx_id"]) for e in events] == [
        ("key_generation", None), ("transfer", txid("CLI-COC-2")), ("custodian_change", None)]
    with ws.reserve() as reserve:
        book = reserve.custody.address_book(cid)
    assert {(b.address, b.quantity, b.holder) for b in book.balances} == {
        (seized, Decimal("0.4998"), "AFM key custody unit"), (wallet, Decimal("4.5"), "BitGo")}

    before = ws.footprint()
    unknown = btc_address("CLI-COC unknown")
    assert ws.error("liaison", "case", "custody", cid, "--event-id", "CLI-COC-4", "--kind",
                    "transfer", "--at", "2026-03-06T10:00:00+00:00", "--chain", "bitcoin",
                    "--instrument", "BTC", "--from-address", unknown, "--to-address", wallet,
                    "--tx", txid("CLI-COC-4"), "--quantity", "1") == (
        f"field 'from_address': custody event CLI-COC-4: address {unknown} is not known to "
        "the case")
    assert "is before CLI-COC-3" in ws.error(
        "liaison", "case", "custody", cid, "--event-id", "CLI-COC-4", "--kind", "transfer",
        "--at", "2026-03-04T12:00:00+00:00", "--chain", "bitcoin", "--instrument", "BTC",
        "--from-address", wallet, "--to-address", seized, "--tx", txid("CLI-COC-4"),
        "--quantity", "1")
    assert "cannot send 5" in ws.error(
        "liaison", "case", "custody", cid, "--event-id", "CLI-COC-4", "--kind", "transfer",
        "--at", "2026-03-06T10:00:00+00:00", "--chain", "bitcoin", "--instrument", "BTC",
        "--from-address", wallet, "--to-address", seized, "--tx", txid("CLI-COC-4"),
        "--quantity", "5")
    for at, kind, reason in (("2026-03-06T10:00:00", "key_ceremony", "has no time zone"),
                             ("2026-03-06T10:00:00Z", "key_party", "'key_party': one of")):
        code, _, err = ws.run("liaison", "case", "custody", cid, "--event-id", "CLI-COC-4",
                              "--kind", kind, "--at", at, "--chain", "bitcoin",
                              "--from-address", wallet)
        assert code == 2 and reason in flat(err), err
    assert ws.footprint() == before

    # a time in Astana is kept in UTC
    ws.ok("liaison", "case", "custody", cid, "--event-id", "CLI-COC-4", "--kind",
          "key_ceremony", "--at", "2026-03-06T15:00:00+05:00", "--chain", "bitcoin",
          "--from-address", wallet, "--note", "quarterly key ceremony")
    events = ws.ok("auditor", "case", "show", cid)["custody_events"]
    assert events[-1]["at"] == "2026-03-06T10:00:00+00:00"


# -- 6. reconciliation -----------------------------------------------------------------------------


def _snapshot(ws: Workspace, name: str, short: str | None = None, unit: str = "sat") -> Path:
    """The book's balance of every address, in satoshi (``short`` less 1000 sat)."""
    with ws.reserve() as reserve:
        balances = reserve.custody.expected_on_chain()
    lines = ["chain,address,asset,quantity,unit,observed_at,source"]
    for b in balances:
        assert b.instrument_code == "BTC"  # this workspace's cases hold bitcoin only
        sats = b.quantity.scaleb(8) - (1000 if b.address == short else 0)
        lines.append(f"{b.chain},{b.address},BTC,{sats:f},{unit},2026-10-29T00:00:00Z,"
                     "mempool.space")
    path = ws.files / name
    path.write_text("\n".join(lines) + "\n")
    return path


def test_reconciliation_files_match_differ_or_are_refused(ws: Workspace) -> None:
    cid = "CLI-REC"
    ws.open(cid, quantity="0.125")
    matched = _snapshot(ws, "matched.csv")
    n = ws.audit()
    result = ws.ok("ops", "case", "reconcile", str(matched), "--as-of", AS_OF)
    assert (result["status"], result["new"], result["findings"]) == ("matched", True, [])
    row = next(r for r in result["rows"] if r["address"] == btc_address(cid))
    assert (row["book"], row["observed"], row["status"]) == ("0.125", "0.12500000", "matched")
    assert ws.actions(n) == ["custody.reconciled"]
    replay = ws.ok("ops", "case", "reconcile", str(matched), "--as-of", AS_OF)
    assert (replay["status"], replay["new"]) == ("matched", False)
    assert ws.audit() == n + 1

    short = _snapshot(ws, "short.csv", short=btc_address(cid))
    result = ws.json(3, "ops", "case", "reconcile", str(short), "--as-of", AS_OF)
    assert result["status"] == "differences"
    (finding,) = result["findings"]
    assert (finding["rule"], finding["severity"]) == ("custody.balance_short", "blocking")
    assert finding["subject"] == f"{btc_address(cid)} BTC"
    code, out, _ = ws.run("ops", "case", "reconcile", str(short), "--as-of", AS_OF)
    assert code == 3 and "blocking:" in out and "short by 0.00001" in out

    wrong = _snapshot(ws, "wei.csv", unit="wei")
    before = ws.footprint()
    line = next(i for i, text in enumerate(wrong.read_text().splitlines(), 1) if ",wei," in text)
    assert ws.error("ops", "case", "reconcile", str(wrong), "--as-of", AS_OF) == (
        f"{wrong}:{line}: field 'unit': 'wei' is not a unit of BTC (use BTC, sat)")
    assert ws.footprint() == before


# -- 7. proof of control ---------------------------------------------------------------------------


def _legacy_signature(signer: PrivateKey, message: str, *, high_s: bool = False) -> str:
    """A Bitcoin Core ``signmessage`` signature (compressed key: header 31 + recovery id)."""
    raw = signer.sign_recoverable(legacy_message_hash(message.encode()), hasher=None)
    r, s, recovery = raw[:32], int.from_bytes(raw[32:64], "big"), raw[64]
    if high_s:
        s, recovery = CURVE_ORDER - s, recovery ^ 1
    return base64.b64encode(bytes([31 + recovery]) + r + s.to_bytes(32, "big")).decode()


def test_proof_of_control_is_verified_and_exported(ws: Workspace) -> None:
    cid = "CLI-PRF"
    signer, address = key(cid), p2pkh_address(cid)
    ws.open(cid, address=address)
    n = ws.audit()
    challenge = ws.ok("liaison", "case", "prove", cid, "--chain", "bitcoin", "--address",
                      address, "--on", "2026-11-02")
    nonce, message = challenge["nonce"], challenge["message"]
    assert len(nonce) == 32 and set(nonce) <= set("0123456789abcdef")  # never "-..."
    assert message.splitlines() == ["qoima proof of control v1", f"case: {cid}",
                                    "chain: bitcoin mainnet", f"address: {address}",
                                    "date: 2026-11-02", f"nonce: {nonce}"]
    assert ws.actions(n) == ["custody.challenge"]

    other = ws.json(3, "liaison", "case", "verify-proof", nonce, "--signature",
                    _legacy_signature(signer, message.replace("2026-11-02", "2026-11-03")))
    assert (other["valid"], other["scheme"]) == (False, "legacy-message")
    assert other["reason"] == ("the key that signed this message does not belong to this "
                               "address (another key or another message)")

    before = ws.footprint()
    assert "high-S" in ws.error("liaison", "case", "verify-proof", nonce, "--signature",
                                _legacy_signature(signer, message, high_s=True))
    truncated = base64.b64encode(base64.b64decode(_legacy_signature(signer, message))[:64])
    assert "neither a legacy signature" in ws.error(
        "liaison", "case", "verify-proof", nonce, "--signature", truncated.decode())
    assert ws.error("liaison", "case", "verify-proof", nonce, "--signature", "not base64!"
                    ).startswith("field 'signature': signature is not valid base64")
    assert ws.footprint() == before

    good = _legacy_signature(signer, message)
    valid = ws.ok("liaison", "case", "verify-proof", nonce, "--signature", good)
    assert (valid["valid"], valid["scheme"]) == (True, "legacy-message")
    assert valid["signer"] == signer.public_key.format().hex()
    code, out, _ = ws.run("liaison", "case", "verify-proof", nonce, "--signature", good)
    assert code == 1  # answered once

    proofs = ws.ok("auditor", "case", "proofs", "--case", cid)
    assert [p["valid"] for p in proofs] == [False, True]
    code, out, err = ws.run("auditor", "case", "proofs", "--export")
    assert code == 0, err
    exported = json.loads(out)
    assert [(e["case"], e["address"], e["message"], e["signature"]) for e in exported] == [
        (cid, address, message, good)]


# -- 8. sanctions screening ------------------------------------------------------------------------


def test_sanctions_screening_blocks_until_two_committee_members_override(ws: Workspace
                                                                        ) -> None:
    cid, listed = "CLI-SCR", "1AjZPMsnmpdK2Rv9KQNfMurTXinscVro9V"
    ws.open(cid, address=listed)
    n = ws.audit()
    hits = ws.json(3, "liaison", "case", "screen", "--list", str(SDN))
    (hit,) = [h for h in hits if h["case_id"] == cid]
    assert (hit["address"], hit["entity"], hit["status"]) == (
        listed, "Mohammad GHORBANIYAN", "open")
    assert ws.actions(n) == ["custody.sanctions_list", "case.sanctions_hit"]
    n = ws.audit()
    code, out, _ = ws.run("liaison", "case", "screen", "--list", str(SDN))
    assert code == 3 and "already imported list" in out and listed in out
    assert ws.audit() == n  # the same list again changes nothing

    ws.forfeit(cid)
    propose = ("case", "dispose", cid, "--asset", f"{cid}-A1", "--vehicle", "state-fund",
               "--tranche", "liquidity", "--custodian", "bitgo", "--on", "2026-06-01")
    before = ws.footprint()
    assert "open sanctions hits" in ws.error("pm-fund", *propose)
    assert ws.error("risk", "case", "screen", "--override", str(hit["id"]), "--reason",
                    "victim wallet") == ("risk is not a committee member: only the "
                                         "committee overrides a sanctions hit")
    assert "written reason" in ws.error("cm1", "case", "screen", "--override",
                                        str(hit["id"]))
    assert ws.footprint() == before
    first = ws.ok("cm1", "case", "screen", "--override", str(hit["id"]), "--reason",
                  "the address is the victim's")
    assert first["status"] == "open"
    assert "open sanctions hits" in ws.error("pm-fund", *propose)
    code, out, _ = ws.run("cm2", "case", "screen", "--override", str(hit["id"]), "--reason",
                          "confirmed by the court file")
    assert code == 0 and out.strip() == f"hit {hit['id']}: overridden"
    assert ws.ok("pm-fund", *propose)["status"] == "proposed"


# -- 9. forks --------------------------------------------------------------------------------------


def test_forks_are_recorded_from_a_held_address(ws: Workspace) -> None:
    cid = "CLI-FRK"
    ws.open(cid, quantity="8")
    fork = ("case", "fork", cid, "--parent", "BTC", "--instrument", "BCH", "--quantity", "8",
            "--fork-date", "2017-08-01", "--valuation", "market_price")
    recorded = ws.ok("liaison", *fork, "--source-address", btc_address(cid))
    assert (recorded["instrument_code"], recorded["quantity"], recorded["valuation_policy"]
            ) == ("BCH", "8", "market_price")
    before = ws.footprint()
    unknown = btc_address("CLI-FRK unknown")
    assert ws.error("liaison", *fork, "--source-address", unknown) == (
        f"field 'source_address': case {cid} holds no address {unknown}")
    assert "already recorded" in ws.error("liaison", *fork, "--source-address",
                                          btc_address(cid))
    code, _, err = ws.run("liaison", "case", "fork", cid, "--parent", "BTC", "--instrument",
                          "BTG", "--quantity", "8", "--fork-date", "2017-10-24",
                          "--source-address", btc_address(cid), "--valuation", "guess")
    assert code == 2 and "'guess': one of market_price" in flat(err)
    assert ws.footprint() == before


# -- 10. inventory ---------------------------------------------------------------------------------


def test_the_inventory_reports_counts_values_and_missing_evidence(ws: Workspace) -> None:
    cid, q = "CLI-INV", Decimal("0.98765432")
    ws.open(cid, quantity=str(q))
    inventory = ws.ok("auditor", "case", "inventory", "--as-of", AS_OF)
    cases = ws.ok("auditor", "case", "list")
    assert inventory["cases_count"] == len(cases)
    with ws.reserve() as reserve, reserve.units(write=False) as uow:
        px = uow.market.latest_prices(date(2026, 10, 30), ["BTC"])["BTC"].price
        assets = {c["case_id"]: uow.custody.list_assets(c["case_id"]) for c in cases}
    expected: dict[str, int] = {}
    for c in cases:
        expected[c["legal_status"]] = expected.get(c["legal_status"], 0) + len(
            assets[c["case_id"]])
    assert {k: v for k, v in inventory["assets_by_legal_status"].items() if v} == expected
    (row,) = [c for c in inventory["cases"] if c["case_id"] == cid]
    assert Decimal(row["value_usd_total"]) == (q * px).quantize(CENT, ROUND_HALF_EVEN)
    assert row["last_proof_on"] is None
    assert {f["rule"] for f in row["findings"]} >= {"inventory.no_proof"}
    held = ("seized", "frozen", "under_court_review", "forfeited")
    btc = sum((a.quantity for c in cases if c["legal_status"] in held
               for a in assets[c["case_id"]] if a.instrument_code == "BTC"), Decimal(0))
    assert Decimal(inventory["quantity_by_instrument"]["BTC"]) == btc
    code, out, _ = ws.run("auditor", "case", "inventory", "--as-of", AS_OF)
    assert code == 0 and f"Seized-asset pool on {AS_OF}" in out and cid in out


# -- 11. disposition models ------------------------------------------------------------------------


def test_dispose_compares_the_four_models_on_the_stored_history(ws: Workspace) -> None:
    cid, q = "CLI-CMP", Decimal("6")
    ws.open(cid, quantity=str(q))
    assert "not forfeited" in ws.error("auditor", "case", "dispose", cid, "--horizon", "120")
    ws.forfeit(cid)
    code, _, err = ws.run("pm-fund", "case", "dispose", cid, "--asset", f"{cid}-A1", "--to",
                          "auction", "--vehicle", "state-fund")
    assert code == 2 and "'auction': one of seized" in flat(err)
    rows = ws.ok("auditor", "case", "dispose", cid, "--horizon", "120")
    by_model = {r["model"]: r for r in rows}
    assert set(by_model) == {"auction_on_forfeiture", "staged_liquidation",
                             "hold_in_reserve", "external_manager"}
    with ws.reserve() as reserve, reserve.units(write=False) as uow:
        series = uow.market.load_series(SeriesId(SeriesKind.PRICE, "BTC"))
    assert series is not None
    start = next(i for i, b in enumerate(series.bars) if b.day >= date(2026, 5, 15))
    assert by_model["hold_in_reserve"]["proceeds_usd"] == pytest.approx(
        float(q * series.bars[start + 120].close), rel=1e-12)
    assert by_model["auction_on_forfeiture"]["proceeds_usd"] == pytest.approx(
        float(q * series.bars[start].close), rel=1e-12)
    assert by_model["auction_on_forfeiture"]["days_to_cash"] == 0
    # the manager's 2 % a year and 20 % over the high-water mark come off the hold path
    assert by_model["external_manager"]["proceeds_usd"] < by_model["hold_in_reserve"][
        "proceeds_usd"]
    code, out, _ = ws.run("auditor", "case", "dispose", cid, "--horizon", "120")
    assert code == 0 and "Disposition models over 120 days" in out
    assert "hold_in_reserve" in out
