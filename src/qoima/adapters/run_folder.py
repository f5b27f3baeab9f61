"""A daily run's folder: the reports, their tables as CSV, the holdings proofs, summary.json.

Layout of ``<runs>/<as-of>/<run id>/``::

    report.html  report.pdf        the committee report (interactive / print)
    tables/<table id>.csv          every table of the committee report
    public/transparency.html       the public report (aggregates only)
    public/transparency.pdf
    public/commitment.json         the holdings root to publish with it
    proofs/                        one inclusion proof per line item (private: hand out
                                   one at a time), commitment.json
    summary.json                   status, steps and timings, notices, every number

Files are written into a temporary folder that is renamed into place at the end, so a
crash never leaves a half-written run folder behind.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from qoima.adapters.inclusion_files import write_inclusion_proofs
from qoima.adapters.report_csv import write_tables_csv
from qoima.adapters.report_html import render_html
from qoima.adapters.report_pdf import PdfOutput, ReportRenderError, render_pdf
from qoima.app.daily_run import Rendered
from qoima.report.document import ReportDocument
from qoima.report.transparency import TransparencyReport


class RunFolder:
    """The :class:`RunOutput` of a workspace: one folder per run."""

    def __init__(self, root: Path, *, browser: Path | None = None, pdf: bool = True) -> None:
        self.root, self.browser, self.pdf = root, browser, pdf

    def write_reports(self, run_id: str, committee: ReportDocument,
                      public: TransparencyReport | None) -> Rendered:
        final = self.root / committee.as_of.isoformat() / run_id
        work = final.with_name(f".{run_id}.partial")
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        files: list[Path] = []
        problems: list[str] = []
        renderer = "none"
        try:
            files.append(_write(work / "report.html", render_html(committee)))
            files.extend(write_tables_csv(committee, work / "tables"))
            if self.pdf:
                output = self._pdf(committee, problems)
                files.append(_write_bytes(work / "report.pdf", output.data))
                renderer = output.renderer
            if public is not None:
                pub = work / "public"
                pub.mkdir()
                files.append(_write(pub / "transparency.html", render_html(public.document)))
                if self.pdf:
                    out = self._pdf(public.document, problems)
                    files.append(_write_bytes(pub / "transparency.pdf", out.data))
                files.append(_write(pub / "commitment.json", json.dumps(
                    _commitment(public), indent=2, sort_keys=True) + "\n"))
                write_inclusion_proofs(work / "proofs", public.commitment, public.proofs)
                files.append(work / "proofs")
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        if final.exists():
            shutil.rmtree(final)
        work.rename(final)
        moved = tuple(str(final / f.relative_to(work)) for f in files)
        return Rendered(str(final), moved, renderer, tuple(problems))

    def _pdf(self, doc: ReportDocument, problems: list[str]) -> PdfOutput:
        """Chromium prints the HTML when there is one; if it fails, reportlab draws the
        same document, and the run says so."""
        if self.browser is not None:
            try:
                return render_pdf(doc, browser=self.browser)
            except ReportRenderError as error:
                problems.append(f"Chromium could not print {doc.title!r} ({error}); the PDF "
                                "was drawn with reportlab instead.")
        return render_pdf(doc, browser=None)

    def write_summary(self, folder: str, summary: Mapping[str, Any]) -> str:
        path = Path(folder) / "summary.json"
        temp = path.with_suffix(".json.partial")
        temp.write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
        temp.replace(path)
        return str(path)


def _commitment(public: TransparencyReport) -> dict[str, Any]:
    return public.commitment.to_dict()


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
