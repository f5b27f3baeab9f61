"""The run folder: complete or absent, and a PDF even when the browser fails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qoima.adapters import run_folder
from qoima.adapters.run_folder import RunFolder
from tests.adapters.report_fixture import TABLE_IDS, sample_document


def test_reports_land_in_a_dated_folder_with_every_table(tmp_path: Path) -> None:
    doc = sample_document()
    rendered = RunFolder(tmp_path, browser=None).write_reports("run-1", doc, None)
    folder = Path(rendered.folder)
    assert folder == tmp_path / doc.as_of.isoformat() / "run-1"
    assert rendered.pdf_renderer == "reportlab" and rendered.problems == ()
    assert (folder / "report.pdf").read_bytes().startswith(b"%PDF")
    assert {p.stem for p in (folder / "tables").glob("*.csv")} == set(TABLE_IDS)
    summary = RunFolder(tmp_path).write_summary(rendered.folder, {"run_id": "run-1"})
    assert json.loads(Path(summary).read_text()) == {"run_id": "run-1"}
    assert not list(tmp_path.rglob("*.partial"))


def test_a_failure_while_writing_leaves_no_folder_behind(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_a: object, **_k: object) -> bytes:
        raise OSError("disk full")
    monkeypatch.setattr(run_folder, "render_pdf", broken)
    with pytest.raises(OSError, match="disk full"):
        RunFolder(tmp_path, browser=None).write_reports("run-2", sample_document(), None)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_a_failing_browser_falls_back_to_reportlab_and_says_so(tmp_path: Path) -> None:
    browser = tmp_path / "fake-chromium"
    browser.write_text("#!/bin/sh\necho 'GPU process crashed' >&2\nexit 3\n")
    browser.chmod(0o755)
    rendered = RunFolder(tmp_path / "runs", browser=browser).write_reports(
        "run-3", sample_document(), None)
    assert rendered.pdf_renderer == "reportlab"
    assert len(rendered.problems) == 1 and "reportlab instead" in rendered.problems[0]
    assert (Path(rendered.folder) / "report.pdf").read_bytes().startswith(b"%PDF")
