"""How crypto exposures react to Federal Reserve rate decisions: an event study (issue 4, item 7).

For each FOMC decision and each asset, returns are compared with what a model fitted before
the event expects (MacKinlay, 1997): the *market model* ``r = alpha + beta * r_market`` or
the *constant mean* ``r = mu``, fitted on the estimation window (default trading days
[-120, -11] relative to day 0). Abnormal returns over the event window (default [-1, +1])
add up to the cumulative abnormal return (CAR). Per asset and per kind of decision (hike,
cut, hold) the mean CAR gets a cross-sectional t-test and confidence interval, and two
standardized tests: Patell (1976) and Boehmer, Musumeci and Poulsen (1991, "BMP"), which
weight each event by its own forecast-error variance.

Day 0. A date in the decision list is the announcement day (US/Eastern). Statements come
out at 2:00 pm New York time (18:00 or 19:00 UTC); a crypto daily bar dated that day closes
at 24:00 UTC and an NYSE session at 4:00 pm New York time, both *after* the announcement.
So day 0 is the first return period ending on or after the decision date: the period that
contains the announcement. Unscheduled actions follow the same rule: the Sunday 15 March
2020 cut (about 5 pm New York time) is day 0 on Sunday for a crypto calendar and on Monday
16 March on NYSE sessions. Day -1 is in the default event window because a daily crypto bar
also holds the 18 hours before the statement, and markets drift ahead of it.

Returns are the caller's (log or simple, on one calendar; align a crypto asset and an
equity benchmark with ``AlignmentRule.COMPOUND``); abnormal returns are in the same units
and CARs are their sums. Days inside any event's window are left out of every estimation
window by default, so one decision's move does not bias the next one's normal return.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import stats

from qoima.domain.enums import Severity
from qoima.domain.errors import InvalidInput
from qoima.domain.findings import Finding
from qoima.risk.checks import check_level
from qoima.risk.provenance import Provenance, array_hash

FloatArray = npt.NDArray[np.float64]
EventModel = Literal["market", "constant-mean"]

DEFAULT_ESTIMATION_WINDOW = (-120, -11)
DEFAULT_EVENT_WINDOW = (-1, 1)
DEFAULT_MIN_ESTIMATION_OBS = 60
#: Calendar days between a decision and the end of the first period after it that still
#: count as "the period containing the announcement" (a Sunday action lands on Monday).
DEFAULT_MAX_DAY0_LAG_DAYS = 3
EVENT_SKIPPED = "risk.event_skipped"
KIND_NOT_SUMMARISED = "risk.event_kind_not_summarised"


class DecisionKind(StrEnum):
    HIKE = "hike"
    CUT = "cut"
    HOLD = "hold"


@dataclass(frozen=True, slots=True)
class FomcDecision:
    """One FOMC rate decision.

    ``date`` is the announcement day (US/Eastern); ``change_bps`` the change of the upper
    bound of the federal funds target range in basis points (0 for a hold);
    ``upper_bound_pct`` the upper bound after the decision, in percent.
    """

    date: dt.date
    change_bps: int
    upper_bound_pct: float

    @property
    def kind(self) -> DecisionKind:
        if self.change_bps > 0:
            return DecisionKind.HIKE
        return DecisionKind.CUT if self.change_bps < 0 else DecisionKind.HOLD


@dataclass(frozen=True, slots=True, eq=False)
class EventOutcome:
    """One asset around one decision.

    ``abnormal_returns`` has one value per event-window day, shape (event_days,);
    ``car_standard_error`` is the model's forecast standard error of the CAR, and
    ``standardized_car`` the CAR divided by it. ``beta`` is 0.0 under the constant mean.
    """

    asset: str
    decision: FomcDecision
    day0: dt.date
    abnormal_returns: FloatArray
    car: float
    car_standard_error: float
    standardized_car: float
    alpha: float
    beta: float
    estimation_obs: int

    @property
    def kind(self) -> DecisionKind:
        return self.decision.kind


@dataclass(frozen=True, slots=True)
class KindSummary:
    """Mean CAR of one asset over the decisions of one kind, and its tests.

    ``ci_low``/``ci_high`` are ``mean_car ± t_{level, n-1} * car_std / sqrt(n)``;
    ``t_stat``/``p_value`` the cross-sectional t-test of mean CAR = 0 (two-sided, n - 1
    degrees of freedom); ``bmp_*`` the same test on standardized CARs; ``patell_*`` the
    Patell Z (normal p-value).
    """

    asset: str
    kind: DecisionKind
    n_events: int
    mean_car: float
    car_std: float
    ci_low: float
    ci_high: float
    t_stat: float
    p_value: float
    bmp_t_stat: float
    bmp_p_value: float
    patell_z: float
    patell_p_value: float


@dataclass(frozen=True, slots=True, eq=False)
class EventStudyResult:
    """Per-event table (``events``) and per asset/kind summaries; skipped events and kinds
    too small to test are findings in ``warnings`` (also in the provenance)."""

    assets: tuple[str, ...]
    model: EventModel
    estimation_window: tuple[int, int]
    event_window: tuple[int, int]
    level: float
    events: tuple[EventOutcome, ...]
    summaries: tuple[KindSummary, ...]
    warnings: tuple[Finding, ...]
    provenance: Provenance

    def summary(self, asset: str, kind: DecisionKind | str) -> KindSummary:
        for item in self.summaries:
            if item.asset == asset and item.kind == DecisionKind(kind):
                return item
        raise InvalidInput(f"no summary for {asset} and {kind} (too few events?)",
                           field="kind")

    def outcomes(self, asset: str, kind: DecisionKind | str | None = None
                 ) -> tuple[EventOutcome, ...]:
        return tuple(e for e in self.events if e.asset == asset
                     and (kind is None or e.kind == DecisionKind(kind)))


def fomc_event_study(
    decisions: Sequence[FomcDecision],
    returns: npt.ArrayLike,
    names: Sequence[str],
    dates: Sequence[dt.date],
    market_returns: npt.ArrayLike | None = None,
    *,
    model: EventModel = "market",
    estimation_window: tuple[int, int] = DEFAULT_ESTIMATION_WINDOW,
    event_window: tuple[int, int] = DEFAULT_EVENT_WINDOW,
    level: float = 0.95,
    min_estimation_obs: int = DEFAULT_MIN_ESTIMATION_OBS,
    exclude_event_days: bool = True,
    max_day0_lag_days: int = DEFAULT_MAX_DAY0_LAG_DAYS,
) -> EventStudyResult:
    """Abnormal returns of each asset around each decision, summarised per decision kind.

    Parameters
    ----------
    decisions : sequence of FomcDecision
        The events, any order.
    returns : array_like, shape (n_obs,) or (n_obs, n_assets)
        Per-period returns of the assets; NaN allowed (an event whose window touches one
        is skipped; NaN estimation days are left out).
    names : sequence of str, length n_assets
    dates : sequence of date, length n_obs
        Period end dates, strictly ascending.
    market_returns : array_like, shape (n_obs,), optional
        The benchmark (e.g. S&P 500 log returns on the same dates); needed by the market
        model.
    model : "market" or "constant-mean"
    estimation_window, event_window : (first, last) trading days relative to day 0
        Inclusive; the estimation window must end before the event window starts.
    level : float
        Confidence level of the intervals, in (0, 1).
    min_estimation_obs : int
        Fewest usable estimation days; an event with fewer is skipped.
    exclude_event_days : bool
        Leave every event's window days out of the estimation windows.
    max_day0_lag_days : int
        A decision whose next period ends more than this many calendar days later has no
        return period containing it (a data gap) and is skipped.
    """
    level = check_level(level)
    values, market, labels, days = _inputs(returns, names, dates, market_returns, model)
    (e0, e1), (w0, w1) = _windows(estimation_window, event_window)
    d = 2 if model == "market" else 1
    if min_estimation_obs < d + 3:
        raise InvalidInput(f"min_estimation_obs must be at least {d + 3}",
                           field="min_estimation_obs")
    ordinals = np.array([day.toordinal() for day in days], dtype=np.int64)
    ordered = sorted(decisions, key=lambda e: e.date)
    day0 = np.searchsorted(ordinals, [e.date.toordinal() for e in ordered], side="left")
    event_days = np.zeros(len(days), dtype=np.bool_)
    if exclude_event_days:
        for index in day0:
            event_days[max(index + w0, 0):max(index + w1 + 1, 0)] = True

    outcomes: list[EventOutcome] = []
    warnings: list[Finding] = []
    for decision, index in zip(ordered, day0, strict=True):
        problem = _placement(decision, int(index), days, (e0, w1), max_day0_lag_days)
        if problem:
            warnings.append(_skipped(decision, "all", problem))
            continue
        window = np.arange(index + w0, index + w1 + 1)
        estimation = np.arange(index + e0, index + e1 + 1)
        for column, asset in enumerate(labels):
            outcome, problem = _one_event(asset, decision, days[index], values[:, column],
                                          market, window, estimation, event_days,
                                          min_estimation_obs)
            if outcome is None:
                warnings.append(_skipped(decision, asset, problem))
            else:
                outcomes.append(outcome)

    summaries = []
    for asset in labels:
        for kind in DecisionKind:
            chosen = [o for o in outcomes if o.asset == asset and o.kind is kind]
            summary, problem = _summarise(asset, kind, chosen, level, d)
            if summary is not None:
                summaries.append(summary)
            elif chosen:
                warnings.append(Finding(KIND_NOT_SUMMARISED, Severity.WARNING,
                                        f"{asset}/{kind.value}", problem,
                                        measured=str(len(chosen))))
    parameters = {"model": model, "estimation_window": [e0, e1], "event_window": [w0, w1],
                  "level": level, "min_estimation_obs": int(min_estimation_obs),
                  "exclude_event_days": exclude_event_days,
                  "max_day0_lag_days": int(max_day0_lag_days), "assets": list(labels),
                  "day0": "first period ending on or after the decision date",
                  "decisions": [[e.date.isoformat(), e.change_bps] for e in ordered]}
    inputs = (values,) if market is None else (values, market)
    return EventStudyResult(
        assets=labels, model=model, estimation_window=(e0, e1), event_window=(w0, w1),
        level=level, events=tuple(outcomes), summaries=tuple(summaries),
        warnings=tuple(warnings),
        provenance=Provenance("fomc-event-study", array_hash(ordinals, *inputs), parameters,
                              warnings=tuple(warnings)))


def _one_event(asset: str, decision: FomcDecision, day0: dt.date, asset_returns: FloatArray,
               market: FloatArray | None, window: npt.NDArray[np.int64],
               estimation: npt.NDArray[np.int64], event_days: npt.NDArray[np.bool_],
               min_obs: int) -> tuple[EventOutcome | None, str]:
    """Fit the normal-return model on ``estimation`` and measure abnormal returns."""
    def design(rows: npt.NDArray[np.int64]) -> FloatArray:
        ones = np.ones((rows.size, 1))
        return ones if market is None else np.column_stack([ones, market[rows]])

    event_values = asset_returns[window]
    if not np.isfinite(event_values).all() or (
            market is not None and not np.isfinite(market[window]).all()):
        return None, "a return in the event window is missing"
    usable = np.isfinite(asset_returns[estimation]) & ~event_days[estimation]
    if market is not None:
        usable &= np.isfinite(market[estimation])
    rows = estimation[usable]
    n_params = 1 if market is None else 2
    if rows.size < min_obs:
        return None, (f"{rows.size} usable estimation days, at least {min_obs} needed")
    x = design(rows)
    if market is not None and np.ptp(x[:, 1]) == 0.0:
        return None, "the market return is constant over the estimation window"
    y = asset_returns[rows]
    coefficients, *_ = np.linalg.lstsq(x, y, rcond=None)
    residuals = y - x @ coefficients
    sigma2 = float(residuals @ residuals) / (rows.size - n_params)
    if sigma2 <= 0.0:
        return None, "the estimation window has no residual variance"
    event_design = design(window)
    abnormal = event_values - event_design @ coefficients
    g = event_design.sum(axis=0)
    # Var(CAR) = s² (L2 + gᵀ(XᵀX)⁻¹g): the event days' noise plus the parameters' error.
    car_variance = sigma2 * (window.size + float(g @ np.linalg.solve(x.T @ x, g)))
    car = float(abnormal.sum())
    standard_error = float(np.sqrt(car_variance))
    abnormal.setflags(write=False)
    return EventOutcome(asset, decision, day0, abnormal, car, standard_error,
                        car / standard_error, float(coefficients[0]),
                        float(coefficients[1]) if market is not None else 0.0,
                        int(rows.size)), ""


def _summarise(asset: str, kind: DecisionKind, outcomes: list[EventOutcome], level: float,
               n_params: int) -> tuple[KindSummary | None, str]:
    n = len(outcomes)
    if n < 2:
        return None, f"{asset}: {n} {kind.value} event, at least 2 needed for a t-test"
    cars = np.array([o.car for o in outcomes])
    scars = np.array([o.standardized_car for o in outcomes])
    car_std, scar_std = float(cars.std(ddof=1)), float(scars.std(ddof=1))
    if car_std == 0.0 or scar_std == 0.0:
        return None, f"{asset}: every {kind.value} CAR is identical; no dispersion to test"
    mean = float(cars.mean())
    standard_error = car_std / np.sqrt(n)
    t_stat = mean / standard_error
    critical = float(stats.t.ppf(0.5 + level / 2.0, n - 1))
    bmp = float(scars.mean()) / (scar_std / np.sqrt(n))
    # Patell: each SCAR is t-distributed with L1 - d degrees of freedom, variance
    # (L1 - d) / (L1 - d - 2).
    dof = np.array([o.estimation_obs - n_params for o in outcomes], dtype=np.float64)
    patell = float(scars.sum()) / float(np.sqrt(np.sum(dof / (dof - 2.0))))
    return KindSummary(
        asset=asset, kind=kind, n_events=n, mean_car=mean, car_std=car_std,
        ci_low=mean - critical * standard_error, ci_high=mean + critical * standard_error,
        t_stat=float(t_stat), p_value=float(2.0 * stats.t.sf(abs(t_stat), n - 1)),
        bmp_t_stat=bmp, bmp_p_value=float(2.0 * stats.t.sf(abs(bmp), n - 1)),
        patell_z=patell, patell_p_value=float(2.0 * stats.norm.sf(abs(patell))),
    ), ""


def _inputs(returns: npt.ArrayLike, names: Sequence[str], dates: Sequence[dt.date],
            market_returns: npt.ArrayLike | None, model: str
            ) -> tuple[FloatArray, FloatArray | None, tuple[str, ...], tuple[dt.date, ...]]:
    values = np.asarray(returns, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    labels, days = tuple(names), tuple(dates)
    if values.ndim != 2 or values.shape[1] != len(labels):
        raise InvalidInput(f"returns of shape {values.shape} do not match {len(labels)} names",
                           field="returns")
    if values.shape[0] != len(days):
        raise InvalidInput(f"{len(days)} dates for {values.shape[0]} returns", field="dates")
    if any(b <= a for a, b in pairwise(days)):
        raise InvalidInput("dates must be strictly ascending", field="dates")
    if model not in ("market", "constant-mean"):
        raise InvalidInput(f"model must be 'market' or 'constant-mean', got {model!r}",
                           field="model")
    if model == "constant-mean":
        return values, None, labels, days
    if market_returns is None:
        raise InvalidInput("the market model needs market_returns", field="market_returns")
    market = np.asarray(market_returns, dtype=np.float64)
    if market.shape != (len(days),):
        raise InvalidInput(f"market returns of shape {market.shape}, expected "
                           f"({len(days)},)", field="market_returns")
    return values, market, labels, days


def _windows(estimation: tuple[int, int], event: tuple[int, int]
             ) -> tuple[tuple[int, int], tuple[int, int]]:
    e0, e1 = int(estimation[0]), int(estimation[1])
    w0, w1 = int(event[0]), int(event[1])
    if not (e0 <= e1 < w0 <= w1):
        raise InvalidInput(f"need estimation window {estimation} to end before event window "
                           f"{event} starts, both as (first, last)", field="event_window")
    return (e0, e1), (w0, w1)


def _placement(decision: FomcDecision, index: int, days: tuple[dt.date, ...],
               span: tuple[int, int], max_lag_days: int) -> str:
    """Why the event cannot be placed in the data, or "" when it can."""
    if index >= len(days):
        return f"no return period ends on or after {decision.date} (data end {days[-1]})"
    lag = (days[index] - decision.date).days
    if lag > max_lag_days:
        return (f"the first period after the decision ends {days[index]}, {lag} days later: "
                "no period contains the announcement")
    first, last = span
    if index + first < 0:
        return f"the estimation window starts {-(index + first)} periods before the data"
    if index + last >= len(days):
        return f"the event window ends {index + last - len(days) + 1} periods after the data"
    return ""


def _skipped(decision: FomcDecision, asset: str, reason: str) -> Finding:
    return Finding(EVENT_SKIPPED, Severity.WARNING, f"FOMC {decision.date} ({asset})",
                   f"FOMC {decision.kind.value} of {decision.date} skipped for {asset}: {reason}",
                   decision.date)


def decisions_from_target_rate(dates: Sequence[dt.date], upper_bound_pct: npt.ArrayLike
                               ) -> list[FomcDecision]:
    """Hikes and cuts read off the daily upper bound of the target range (FRED DFEDTARU).

    Holds leave no trace in that series, so a study built from it has no HOLD events; pass
    the published decision list (``read_fomc_decisions``) for the full schedule.
    """
    levels = np.asarray(upper_bound_pct, dtype=np.float64)
    if levels.shape != (len(dates),):
        raise InvalidInput(f"{len(dates)} dates for {levels.shape} levels", field="dates")
    decisions = []
    for index in range(1, len(levels)):
        step = levels[index] - levels[index - 1]
        if np.isfinite(step) and abs(step) >= 0.005:  # moves are whole basis points
            decisions.append(FomcDecision(dates[index], round(step * 100),
                                          float(levels[index])))
    return decisions
