"""Factor history: the aligned per-period moves that every historical measure reads.

Prices and FX enter as simple returns, rates as changes in percentage points (the units of
:mod:`qoima.risk.positions`). Built once per analysis from :mod:`qoima.market.returns`
results, so the alignment rule and calendar are recorded with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import numpy.typing as npt

from qoima.domain.errors import InsufficientHistory, InvalidInput
from qoima.domain.findings import Finding
from qoima.market.returns import AlignedReturns, ReturnMeasure
from qoima.risk.provenance import array_hash

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True, eq=False)
class FactorHistory:
    """Per-period factor moves, shape (n_periods, n_factors); NaN where a factor has no data.

    ``dates[i]`` is the end of period ``i``. ``synthetic`` says whether any input series was
    generated (reports must say so).
    """

    dates: tuple[date, ...]
    names: tuple[str, ...]
    values: FloatArray
    calendar: str
    periods_per_year: int
    synthetic: bool = False
    sources_hash: str = ""
    warnings: tuple[Finding, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.values.shape != (len(self.dates), len(self.names)):
            raise InvalidInput(f"factor history values have shape {self.values.shape}, "
                               f"expected ({len(self.dates)}, {len(self.names)})")
        if len(set(self.names)) != len(self.names):
            raise InvalidInput("factor names must be unique", field="names")

    @property
    def inputs_hash(self) -> str:
        return array_hash(self.values) + ":" + self.sources_hash

    def has(self, name: str) -> bool:
        return name in self.names

    def column(self, name: str) -> FloatArray:
        if name not in self.names:
            raise InvalidInput(f"no history for factor {name!r}", field="factor")
        return self.values[:, self.names.index(name)]

    def until(self, as_of: date) -> FactorHistory:
        """Periods ending on or before ``as_of``."""
        keep = int(np.searchsorted(np.array([d.toordinal() for d in self.dates]),
                                   as_of.toordinal(), side="right"))
        return self._rows(slice(0, keep))

    def last(self, periods: int) -> FactorHistory:
        return self._rows(slice(max(len(self.dates) - periods, 0), len(self.dates)))

    def complete_window(self, names: Sequence[str], periods: int) -> FactorHistory:
        """The last ``periods`` rows on which every factor in ``names`` has a value.

        Raises :class:`InsufficientHistory` naming the factor that limits the window.
        """
        columns = [self.names.index(n) for n in names if n in self.names]
        missing = [n for n in names if n not in self.names]
        if missing:
            raise InsufficientHistory(f"no history for factor(s) {', '.join(missing)}",
                                      field="factors")
        sub = self.values[:, columns]
        finite = np.isfinite(sub).all(axis=1)
        rows = np.flatnonzero(finite)[-periods:]
        if len(rows) < periods:
            counts = np.isfinite(sub).sum(axis=0)
            worst = names[int(np.argmin(counts))]
            raise InsufficientHistory(
                f"{len(rows)} complete periods for {len(columns)} factors, {periods} needed "
                f"(shortest history: {worst}, {int(counts.min())} periods)",
                field="window", observations=len(rows), needed=periods)
        return FactorHistory(tuple(self.dates[i] for i in rows), tuple(names),
                             np.ascontiguousarray(sub[rows]), self.calendar,
                             self.periods_per_year, self.synthetic, self.sources_hash,
                             self.warnings)

    def with_columns(self, names: Sequence[str], columns: FloatArray) -> FactorHistory:
        """This history with extra columns (e.g. regression residuals) on the same dates."""
        extra = np.asarray(columns, dtype=np.float64).reshape(len(self.dates), len(names))
        return FactorHistory(self.dates, (*self.names, *names),
                             np.hstack([self.values, extra]), self.calendar,
                             self.periods_per_year, self.synthetic, self.sources_hash,
                             self.warnings)

    def _rows(self, rows: slice) -> FactorHistory:
        return FactorHistory(self.dates[rows], self.names, self.values[rows], self.calendar,
                             self.periods_per_year, self.synthetic, self.sources_hash,
                             self.warnings)


def combine(parts: Sequence[AlignedReturns], *, periods_per_year: int,
            synthetic: bool = False) -> FactorHistory:
    """Join return (prices, FX) and change (rates) results aligned on the same dates."""
    if not parts:
        raise InvalidInput("no factor series to combine", field="factors")
    dates = parts[0].dates
    for part in parts[1:]:
        if part.dates != dates or part.calendar != parts[0].calendar:
            raise InvalidInput("factor returns must share one calendar and dates",
                               field="factors")
    for part in parts:
        if part.measure is ReturnMeasure.LOG:
            raise InvalidInput("factor moves are simple returns or rate changes, not log "
                               "returns", field="measure")
    names = tuple(name for part in parts for name in part.names)
    values = np.hstack([part.values for part in parts]) if len(parts) > 1 else parts[0].values
    warnings = tuple(w for part in parts for w in part.warnings)
    sources = ":".join(part.inputs_hash for part in parts)
    return FactorHistory(dates, names, np.ascontiguousarray(values, dtype=np.float64),
                         parts[0].calendar, periods_per_year, synthetic, sources, warnings)
