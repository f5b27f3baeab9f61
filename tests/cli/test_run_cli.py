"""``qoima demo`` as the main job, ``qoima run``, its replay and ``verify-inclusion``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qoima.cli.main import main
from qoima.cli.run_cmds import EXIT_DEGRADED


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:  # type: ignore[type-arg]
    directory = tmp_path_factory.mktemp("main-job") / "demo"
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["demo", "--dir", str(directory), "--size", "small", "--json"])
    assert code == 0, out.getvalue()
    return directory, json.loads(out.getvalue())


def test_demo_runs_the_daily_run_and_names_the_report(demo: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    directory, summary = demo
    run = summary["run"]
    assert run["status"] == "ok", run["notices"]
    report = Path(run["report"])
    assert report.is_file() and report.is_relative_to(directory / "runs")
    assert {s["name"] for s in run["steps"]} >= {"valuation", "risk", "policy", "gate",
                                                 "sizing", "audit", "render"}
    assert all(s["status"] == "ok" for s in run["steps"]), run["steps"]


def test_demo_again_changes_nothing_and_runs_again(capsys: pytest.CaptureFixture[str],
                                                   demo: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    directory, first = demo
    code, out, err = cli(capsys, "demo", "--dir", str(directory), "--size", "small", "--json")
    assert code == 0, err
    again = json.loads(out)
    assert again["loaded"] == "already built"
    assert again["total_usd"] == first["total_usd"]
    assert again["run"]["run_id"] != first["run"]["run_id"]


def test_run_list_and_replay(capsys: pytest.CaptureFixture[str],
                             demo: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    directory, summary = demo
    code, out, err = cli(capsys, "--dir", str(directory), "runs", "list", "--json")
    assert code == 0, err
    runs = json.loads(out)
    assert summary["run"]["run_id"] in {r["run_id"] for r in runs}
    code, out, err = cli(capsys, "--dir", str(directory), "--as", "risk", "run", "--replay",
                         summary["run"]["run_id"], "--mc-scenarios", "1000", "--json")
    assert code == 0, err
    replay = json.loads(out)["replay"]
    assert replay["identical"] and replay["numbers_compared"] > 200


def test_unreadable_scenario_file_degrades_the_run(capsys: pytest.CaptureFixture[str],
                                                   demo: tuple[Path, dict],  # type: ignore[type-arg]
                                                   tmp_path: Path) -> None:
    directory, _ = demo
    bad = tmp_path / "extra.yaml"
    bad.write_text("scenarios:\n  - name: x\n    kind: hypothetical\n    moves: {BTC: lots}\n")
    code, out, err = cli(capsys, "--dir", str(directory), "--as", "risk", "run",
                         "--scenarios", str(bad), "--scenario", "ftx-2022",
                         "--mc-scenarios", "1000", "--json")
    assert code == EXIT_DEGRADED, err
    summary = json.loads(out)
    assert summary["status"] == "degraded"
    problem = [n["text"] for n in summary["notices"] if n["level"] == "problem"]
    assert any(str(bad) in text for text in problem), problem
    assert Path(summary["folder"], "report.html").is_file()


def test_an_auditor_checks_one_holding_against_the_published_root(
        capsys: pytest.CaptureFixture[str], demo: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    _, summary = demo
    folder = Path(summary["run"]["folder"])
    proof = next(p for p in sorted((folder / "proofs").glob("*.json"))
                 if p.name != "commitment.json")
    code, _, err = cli(capsys, "verify-inclusion", str(proof), "--commitment",
                       str(folder / "public" / "commitment.json"))
    assert code == 0, err
    data = json.loads(proof.read_text())
    data["line_item"]["quantity"] = str(int(float(data["line_item"]["quantity"])) + 1)
    forged = proof.with_name("forged.json")
    forged.write_text(json.dumps(data))
    code, _, err = cli(capsys, "verify-inclusion", str(forged), "--commitment",
                       str(folder / "public" / "commitment.json"))
    assert code == 1 and "not included" in err


def test_json_output_of_a_fresh_process_is_pure_json(demo: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    """HiGHS prints a licence banner at the C level on first use: it must not reach stdout."""
    import subprocess
    import sys

    directory, _ = demo
    qoima = Path(sys.executable).with_name("qoima")
    done = subprocess.run([str(qoima), "--dir", str(directory), "--as", "risk", "run",
                           "--mc-scenarios", "1000", "--json"], capture_output=True, text=True,
                          check=False, timeout=600)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "ok"
