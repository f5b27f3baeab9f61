"""Returns of several series on one set of dates: the input of correlation and event studies.

Built from aligned returns (:func:`ReturnsPanel.from_aligned`) or plain arrays; the
alignment is the caller's explicit choice (see :mod:`qoima.market.returns`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from qoima.domain.errors import InvalidInput
from qoima.market.returns import AlignedReturns
from qoima.risk.provenance import array_hash

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True, eq=False)
class ReturnsPanel:
    """Returns of several series on one set of period end dates.

    ``values`` has shape (n_obs, n_series), float64, read-only; ``units`` per column ("log
    return", "percentage points"); ``source_hash`` traces the data it came from.
    """

    dates: tuple[date, ...]
    names: tuple[str, ...]
    units: tuple[str, ...]
    values: FloatArray
    source_hash: str

    @classmethod
    def from_arrays(cls, values: npt.ArrayLike, names: Sequence[str], dates: Sequence[date],
                    units: Sequence[str] | None = None) -> ReturnsPanel:
        matrix = np.array(values, dtype=np.float64)
        if matrix.ndim != 2:
            raise InvalidInput(f"values must be 2-D, got shape {matrix.shape}", field="values")
        labels, days = tuple(names), tuple(dates)
        if len(labels) != matrix.shape[1] or len(set(labels)) != len(labels):
            raise InvalidInput(f"need {matrix.shape[1]} unique names, got {labels}",
                               field="names")
        if len(days) != matrix.shape[0]:
            raise InvalidInput(f"{len(days)} dates for {matrix.shape[0]} rows", field="dates")
        if any(b <= a for a, b in pairwise(days)):
            raise InvalidInput("dates must be strictly ascending", field="dates")
        unit_labels = tuple(units) if units is not None else ("return",) * len(labels)
        if len(unit_labels) != len(labels):
            raise InvalidInput(f"{len(unit_labels)} units for {len(labels)} series",
                               field="units")
        matrix.setflags(write=False)
        return cls(days, labels, unit_labels, matrix, array_hash(matrix))

    @classmethod
    def from_aligned(cls, *parts: AlignedReturns) -> ReturnsPanel:
        """Columns of one or more :class:`AlignedReturns` on identical dates, side by side
        (e.g. log returns of prices and changes of yields from the same calendar)."""
        if not parts:
            raise InvalidInput("from_aligned needs at least one AlignedReturns", field="parts")
        for part in parts[1:]:
            if part.dates != parts[0].dates:
                raise InvalidInput(f"returns of {', '.join(part.names)} are on other dates than "
                                   f"{', '.join(parts[0].names)}; align them on one calendar "
                                   "and window", field="dates")
        panel = cls.from_arrays(np.hstack([p.values for p in parts]),
                                [n for p in parts for n in p.names], parts[0].dates,
                                [u for p in parts for u in p.units])
        source = "|".join(p.inputs_hash for p in parts)
        return cls(panel.dates, panel.names, panel.units, panel.values,
                   array_hash(panel.values) + ":" + source)

    def column(self, name: str) -> FloatArray:
        """Returns of ``name``, shape (n_obs,)."""
        return self.values[:, self._index(name)]

    def select(self, *names: str) -> ReturnsPanel:
        columns = [self._index(name) for name in names]
        return ReturnsPanel(self.dates, tuple(names), tuple(self.units[i] for i in columns),
                            _frozen(self.values[:, columns]), self.source_hash)

    def between(self, start_date: date, end_date: date) -> ReturnsPanel:
        """Rows whose date lies in ``[start_date, end_date]``."""
        keep = [i for i, d in enumerate(self.dates) if start_date <= d <= end_date]
        return ReturnsPanel(tuple(self.dates[i] for i in keep), self.names, self.units,
                            _frozen(self.values[keep]), self.source_hash)

    def _index(self, name: str) -> int:
        if name not in self.names:
            raise InvalidInput(f"no series {name!r}; have {', '.join(self.names)}",
                               field="series")
        return self.names.index(name)


def _frozen(array: FloatArray) -> FloatArray:
    result = np.array(array, dtype=np.float64)
    result.setflags(write=False)
    return result
