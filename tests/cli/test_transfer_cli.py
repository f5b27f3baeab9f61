"""``qoima transfer`` end to end on the demo workspace, bad input included."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from qoima.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
WALLET = "0x00000000000000000000000000000000000a1e01"


def cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(list(args))
    return code, out.getvalue()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> str:
    directory = tmp_path_factory.mktemp("transfers") / "demo-reserve"
    assert main(["demo", "--dir", str(directory), "--size", "small", "--no-run", "--json"]) == 0
    d = str(directory)
    for name, role in [("admin", "administrator"), ("pm", "portfolio_manager:alem-fund"),
                       ("risk", "risk_officer"), ("cm1", "committee_member"),
                       ("cm2", "committee_member"), ("ops", "operations"),
                       ("auditor", "auditor")]:
        code, out = cli("--dir", d, "--as", "admin", "user", "add", name, "--role", role)
        assert code == 0, out
    code, out = cli("--dir", d, "--as", "pm", "policy", "propose",
                    str(ROOT / "examples" / "policies" / "alem-fund.yaml"))
    assert code == 0, out
    code, out = cli("--dir", d, "--as", "cm1", "policy", "approve", "alem-fund", "1")
    assert code == 0, out
    return d


def _json(d: str, *args: str) -> Any:
    code, out = cli("--dir", d, *args, "--json")
    assert code == 0, out
    return json.loads(out)


def test_new_approve_execute_list(demo: str) -> None:
    new = _json(demo, "--as", "pm", "transfer", "new", "--vehicle", "alem-fund",
                "--instrument", "BNB", "--to-address", WALLET, "--quantity", "250",
                "--key", "cli-1")
    transfer_id = new["transfer"]["transfer_id"]
    assert new["transfer"]["status"] == "proposed" and new["transfer"]["quorum"] == 3
    code, out = cli("--dir", demo, "--as", "pm", "transfer", "approve", transfer_id)
    assert code == 1 and out.count("\n") == 1 and "may not order.approve" in out
    for approver in ("risk", "cm1"):
        assert _json(demo, "--as", approver, "transfer", "approve",
                     transfer_id)["transfer"]["status"] == "proposed"
    code, out = cli("--dir", demo, "--as", "cm2", "transfer", "approve", transfer_id)
    assert code == 0 and "approved" in out
    done = _json(demo, "--as", "ops", "transfer", "execute", transfer_id, "--tx-id", "0xfeed")
    assert done["transfer"]["status"] == "executed" and done["transfer"]["entry_id"]
    listed = _json(demo, "--as", "auditor", "transfer", "list", "--vehicle", "alem-fund")
    assert [t["transfer"]["transfer_id"] for t in listed] == [transfer_id]
    code, out = cli("--dir", demo, "--as", "auditor", "transfer", "list")
    assert code == 0 and transfer_id in out
    code, out = cli("--dir", demo, "--as", "auditor", "transfer", "show", transfer_id)
    assert code == 0 and "0xfeed" in out
    code, out = cli("--dir", demo, "audit", "verify")
    assert code == 0, out


@pytest.mark.parametrize(("args", "expected"), [
    (("--vehicle", "no-such-fund", "--quantity", "1"), "unknown vehicle 'no-such-fund'"),
    (("--vehicle", "alem-fund", "--quantity", "-3"), "quantity must be positive"),
    (("--vehicle", "alem-fund", "--quantity", "abc"), "is not a number"),
])
def test_bad_input_gives_one_clear_line(demo: str, args: tuple[str, ...],
                                        expected: str) -> None:
    code, out = cli("--dir", demo, "--as", "pm", "transfer", "new", "--instrument", "BNB",
                    "--to-address", WALLET, "--key", f"bad-{args[1]}-{args[3]}", *args)
    assert code != 0 and expected in out


def test_bad_address_is_blocked_by_the_whitelist(demo: str) -> None:
    code, out = cli("--dir", demo, "--as", "pm", "transfer", "new", "--vehicle", "alem-fund",
                    "--instrument", "BNB", "--to-address", "not-an-address",
                    "--quantity", "1", "--key", "bad-address")
    assert code == 0 and "custody blocking" in out and "not whitelisted" in out
    code, out = cli("--dir", demo, "--as", "auditor", "transfer", "new", "--vehicle",
                    "alem-fund", "--instrument", "BNB", "--to-address", WALLET,
                    "--quantity", "1", "--key", "auditor")
    assert code == 1 and out.count("\n") == 1 and "may not" in out
    code, out = cli("--dir", demo, "--as", "ops", "transfer", "execute", "trf-nope",
                    "--tx-id", "0x1")
    assert code == 1 and "no transfer 'trf-nope'" in out
