"""Input checks shared by every measure: bad input is a clear error, never a NaN.

Conventions used across :mod:`qoima.risk`:

* returns are per-period *simple* or *log* returns as fractions, arrays of shape
  ``(n_obs,)`` or ``(n_obs, n_series)``; losses are ``-returns`` (or ``-pnl``);
* VaR and CVaR are reported as **positive losses** (a 5 % loss is ``0.05``);
* ``level`` is the confidence level in (0, 1), e.g. ``0.99``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from qoima.domain.errors import DegenerateSeries, InsufficientHistory, InvalidInput

FloatArray = npt.NDArray[np.float64]


def check_level(level: float, *, field: str = "level") -> float:
    """A confidence level strictly inside (0, 1)."""
    value = float(level)
    if not 0.0 < value < 1.0 or not np.isfinite(value):
        raise InvalidInput(f"confidence level must be inside (0, 1), got {level!r}",
                           field=field)
    return value


def check_horizon(horizon_days: int) -> int:
    if int(horizon_days) != horizon_days or horizon_days < 1:
        raise InvalidInput(f"horizon must be a whole number of days >= 1, got {horizon_days!r}",
                           field="horizon_days")
    return int(horizon_days)


def as_matrix(values: npt.ArrayLike, *, what: str = "returns") -> tuple[FloatArray, bool]:
    """``values`` as a float64 2-D array (n_obs, n_series) and whether the input was 1-D."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 1:
        return array[:, None], True
    if array.ndim != 2:
        raise InvalidInput(f"{what} must be 1-D or 2-D, got shape {array.shape}", field=what)
    return array, False


def check_window(values: npt.ArrayLike, *, minimum: int, what: str = "returns",
                 allow_constant: bool = False) -> FloatArray:
    """Validate a window of observations: enough rows, no NaN/inf, not constant.

    Returns the float64 array unchanged in shape. Raises :class:`InsufficientHistory` or
    :class:`DegenerateSeries` naming ``what`` and the column index.
    """
    array = np.asarray(values, dtype=np.float64)
    n = array.shape[0] if array.ndim else 0
    if n < minimum:
        raise InsufficientHistory(f"{what}: {n} observations, at least {minimum} needed",
                                  field=what, observations=n, needed=minimum)
    if array.size:
        # the usual case proven clean from column extremes (NaN and inf show in them): two
        # reductions instead of a full boolean mask; the slow path below names the fault
        low, high = np.min(array, axis=0), np.max(array, axis=0)
        if np.isfinite(low).all() and np.isfinite(high).all() and (
                allow_constant or bool((high > low).all())):
            return array
    bad = ~np.isfinite(array)
    if bad.any():
        where = np.argwhere(bad)[0]
        raise DegenerateSeries(f"{what}: NaN or infinite value at position {tuple(where)} "
                               "inside the window", field=what)
    if not allow_constant:
        matrix = array if array.ndim == 2 else array.reshape(n, -1)
        flat = np.ptp(matrix, axis=0) == 0.0
        if flat.any():
            column = int(np.flatnonzero(flat)[0])
            raise DegenerateSeries(f"{what}: series {column} is constant over the window; "
                                   "its risk is undefined", field=what, column=column)
    return array
