"""Each report table as a CSV file, for analysts who re-use the numbers.

Layout of ``{table.id}.csv`` (UTF-8, comma-separated, RFC 4180 quoting, CRLF rows):

* one header row with the column **keys** (``market_value``, not "Market value (USD)"):
  keys are stable identifiers a script can rely on; titles may be reworded;
* then one row per table row. Numbers are unformatted and at full precision (``repr`` of a
  float, so it reads back to the same float; no thousands separators; percents stay
  fractions, 0.05 is 5 %); a missing or non-finite cell is empty; text is as is.

Files are written to temporary names first and renamed once all are written, so a
failure leaves no half-written table.
"""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

from qoima.domain.errors import InvalidInput
from qoima.report.document import Cell, ReportDocument, Table

SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")


def csv_cell(value: Cell) -> str:
    """Plain text at full precision: a reader gets back exactly the number we held."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    return str(value)


def table_csv(table: Table) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.key for c in table.columns])
    for number, row in enumerate(table.rows, start=1):
        if len(row) != len(table.columns):
            raise InvalidInput(f"table {table.id!r} row {number} has {len(row)} cells for "
                               f"{len(table.columns)} columns", field="rows")
        writer.writerow([csv_cell(v) for v in row])
    return buffer.getvalue()


def write_tables_csv(doc: ReportDocument, folder: Path) -> list[Path]:
    """Write ``{id}.csv`` for every table of ``doc`` into ``folder``; returns the paths."""
    tables = doc.tables()
    seen: set[str] = set()
    for table in tables:
        if not SAFE_ID.match(table.id) or table.id in (".", ".."):
            raise InvalidInput(f"table id {table.id!r} is not a safe file name", field="id")
        if table.id in seen:
            raise InvalidInput(f"two tables share the id {table.id!r}", field="id")
        seen.add(table.id)
    texts = [(table.id, table_csv(table)) for table in tables]  # fail before writing
    folder.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []
    try:
        for table_id, text in texts:
            final = folder / f"{table_id}.csv"
            temporary = folder / f".{table_id}.csv.tmp"
            staged.append((temporary, final))
            with temporary.open("w", encoding="utf-8", newline="") as handle:
                handle.write(text)
    except OSError:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        raise
    for temporary, final in staged:
        temporary.replace(final)
    return [final for _, final in staged]
