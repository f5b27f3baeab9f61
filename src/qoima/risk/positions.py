"""The book as risk sees it: positions valued in USD, each a linear map onto risk factors.

A :class:`RiskBook` is built from the portfolio snapshot by :mod:`qoima.risk.exposures`
(the mapping and its estimates are part of that result). Every measure that needs the
book's profit and loss in a scenario goes through :func:`scenario_pnl`, so historical
simulation, Monte Carlo and stress tests price positions the same way.

Factor moves (the columns of a scenario matrix) are *simple returns* for prices and FX
(0.01 = +1 %) and *changes in percentage points* for rates. A loading is the P&L in USD per
USD of position value per unit factor move: 1.0 for an ETF on its underlying,
``-duration / 100`` for a bond on its yield (pp), the estimated betas for a crypto equity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from qoima.domain.enums import InstrumentKind
from qoima.domain.errors import InvalidInput

FloatArray = npt.NDArray[np.float64]
#: The tenge rate factor: KZT per USD (a rise is a weaker tenge).
USD_KZT = "USD/KZT"
@dataclass(frozen=True, slots=True)
class FactorLoading:
    factor: str
    beta: float


@dataclass(frozen=True, slots=True)
class RiskPosition:
    """One valued position and its factor loadings (per USD of value).

    ``residual`` names a factor column holding the position's own idiosyncratic returns
    (e.g. a crypto equity's regression residual, an ETF's tracking difference) with loading
    1.0; scenarios that lack it (a stress window before the instrument existed) treat it
    as zero. ``crypto`` marks digital-asset exposure (direct or indirect).
    """

    key: str  # the holding account code
    instrument_code: str
    instrument_kind: InstrumentKind
    vehicle_code: str
    value_usd: float
    loadings: tuple[FactorLoading, ...]
    residual: str | None = None
    crypto: bool = False
    underlying: str | None = None
    issuer: str | None = None
    custodian_code: str | None = None
    local_currency: str = "USD"  # KZT cash and tenge assets: no KZT-translation risk

    def beta(self, factor: str) -> float:
        return sum(loading.beta for loading in self.loadings if loading.factor == factor)


@dataclass(frozen=True, slots=True)
class RiskBook:
    """Positions of the whole institution at ``as_of_date`` with their factor maps."""

    as_of_date: date
    positions: tuple[RiskPosition, ...]
    usd_kzt: float | None  # KZT per USD at the as-of date

    @property
    def total_usd(self) -> float:
        return float(sum(p.value_usd for p in self.positions))

    @property
    def factors(self) -> tuple[str, ...]:
        """Every factor some position loads on (residuals included), sorted."""
        names = {lo.factor for p in self.positions for lo in p.loadings}
        names.update(p.residual for p in self.positions if p.residual)
        return tuple(sorted(names))

    def select(self, *, vehicle: str | None = None, crypto: bool | None = None) -> RiskBook:
        """The sub-book of one vehicle and/or of crypto exposure only."""
        kept = tuple(p for p in self.positions
                     if (vehicle is None or p.vehicle_code == vehicle)
                     and (crypto is None or p.crypto == crypto))
        return RiskBook(self.as_of_date, kept, self.usd_kzt)

    @property
    def values_usd(self) -> FloatArray:
        return np.array([p.value_usd for p in self.positions], dtype=np.float64)


def exposure_matrix(book: RiskBook, factors: Sequence[str]) -> FloatArray:
    """USD exposure of each position to each factor, shape (n_positions, n_factors).

    ``E[p, f] = value_usd[p] * beta[p, f]`` (residual factors get beta 1). Factors a position
    loads on but absent from ``factors`` are an error: a silently dropped exposure would
    understate risk.
    """
    index = {name: k for k, name in enumerate(factors)}
    matrix = np.zeros((len(book.positions), len(factors)), dtype=np.float64)
    for row, position in enumerate(book.positions):
        terms = [(lo.factor, lo.beta) for lo in position.loadings]
        if position.residual:
            terms.append((position.residual, 1.0))
        for factor, beta in terms:
            if factor not in index:
                raise InvalidInput(f"position {position.key} loads on factor {factor!r}, "
                                   "which the scenario set does not contain", field="factors")
            matrix[row, index[factor]] += position.value_usd * beta
    return matrix


def scenario_pnl(book: RiskBook, factors: Sequence[str], moves: npt.ArrayLike, *,
                 currency: str = "USD") -> FloatArray:
    """Profit and loss of every position in every scenario, shape (n_scenarios, n_positions).

    Parameters
    ----------
    factors : names of the columns of ``moves``
    moves : array (n_scenarios, n_factors) of factor moves (module doc for units)
    currency : "USD", or "KZT" to measure in tenge: a USD asset worth V USD is worth
        ``V * fx`` KZT, so its KZT P&L is ``V * fx * ((1 + r) * (1 + r_fx) - 1)``; tenge
        assets (``local_currency == "KZT"``) have no translation effect. Needs the
        ``USD/KZT`` factor in ``factors`` and the book's ``usd_kzt``.
    """
    scenarios = np.asarray(moves, dtype=np.float64)
    if scenarios.ndim != 2 or scenarios.shape[1] != len(factors):
        raise InvalidInput(f"moves must have shape (n_scenarios, {len(factors)}), "
                           f"got {scenarios.shape}", field="moves")
    exposures = exposure_matrix(book, factors)
    pnl_usd = scenarios @ exposures.T
    if currency == "USD":
        return pnl_usd
    if currency != "KZT":
        raise InvalidInput(f"currency must be USD or KZT, got {currency!r}", field="currency")
    if book.usd_kzt is None or USD_KZT not in factors:
        raise InvalidInput("KZT risk needs the USD/KZT rate and its history", field="currency")
    fx_column = list(factors).index(USD_KZT)
    r_fx = scenarios[:, fx_column][:, None]
    values = book.values_usd[None, :]
    tenge = np.array([p.local_currency == "KZT" for p in book.positions])
    # a tenge asset's KZT value ignores the rate: drop its (USD-view) loading on USD/KZT
    local = exposures.copy()
    local[tenge, fx_column] = 0.0
    local_pnl = scenarios @ local.T
    local_returns = np.divide(local_pnl, values, out=np.zeros_like(local_pnl),
                              where=values != 0)
    kzt_returns = np.where(tenge[None, :], local_returns,
                           (1 + local_returns) * (1 + r_fx) - 1)
    return values * book.usd_kzt * kzt_returns



@dataclass(frozen=True, slots=True)
class BookExposure:
    """The whole book's P&L as linear maps of the factor moves, summed over positions.

    In USD the P&L is ``moves @ usd``. In KZT (``scenario_pnl`` summed) it is
    ``usd_kzt * (moves @ foreign * (1 + r_fx) + foreign_value_usd * r_fx + moves @ tenge)``
    with ``r_fx`` the USD/KZT move: an asset worth V USD gains V * fx * ((1 + r) * (1 + r_fx)
    - 1) tenge, a tenge asset (its USD/KZT loading dropped) V * fx * r.
    """

    usd: FloatArray  # (n_factors,)
    foreign: FloatArray  # (n_factors,) assets not in tenge
    tenge: FloatArray  # (n_factors,) tenge assets, without their USD/KZT loading
    foreign_value_usd: float
    fx_column: int | None  # of USD/KZT in the factors, when present
    usd_kzt: float | None

    def kzt_pnl(self, foreign_pnl: npt.ArrayLike, tenge_pnl: npt.ArrayLike,
                fx_move: npt.ArrayLike) -> FloatArray:
        """The KZT P&L from the scenarios' ``moves @ foreign``, ``moves @ tenge`` and r_fx."""
        if self.usd_kzt is None or self.fx_column is None:
            raise InvalidInput("KZT risk needs the USD/KZT rate and its history",
                               field="currency")
        foreign, tenge = np.asarray(foreign_pnl), np.asarray(tenge_pnl)
        r_fx = np.asarray(fx_move)
        result: FloatArray = self.usd_kzt * (foreign * (1 + r_fx)
                                             + self.foreign_value_usd * r_fx + tenge)
        return result


def book_exposure(book: RiskBook, factors: Sequence[str]) -> BookExposure:
    exposures = exposure_matrix(book, factors)
    fx_column = list(factors).index(USD_KZT) if USD_KZT in factors else None
    tenge = np.array([p.local_currency == "KZT" for p in book.positions], dtype=bool)
    local = exposures.copy()
    if fx_column is not None:
        local[tenge, fx_column] = 0.0
    return BookExposure(exposures.sum(axis=0), local[~tenge].sum(axis=0),
                        local[tenge].sum(axis=0), float(book.values_usd[~tenge].sum()),
                        fx_column, book.usd_kzt)


def book_pnl(book: RiskBook, factors: Sequence[str], moves: npt.ArrayLike, *,
             currency: str = "USD") -> FloatArray:
    """Profit and loss of the whole book in every scenario, shape (n_scenarios,).

    Equal to ``scenario_pnl(...).sum(axis=1)`` up to rounding, without the (n_scenarios,
    n_positions) matrix: the P&L is linear in the exposures, so they are summed first
    (:class:`BookExposure`). A hundred thousand Monte Carlo scenarios on a thousand
    positions is a 100-million-cell product otherwise, for every scope, level, horizon and
    currency.
    """
    scenarios = np.asarray(moves, dtype=np.float64)
    if scenarios.ndim != 2 or scenarios.shape[1] != len(factors):
        raise InvalidInput(f"moves must have shape (n_scenarios, {len(factors)}), "
                           f"got {scenarios.shape}", field="moves")
    if currency not in ("USD", "KZT"):
        raise InvalidInput(f"currency must be USD or KZT, got {currency!r}", field="currency")
    exposure = book_exposure(book, factors)
    if currency == "USD":
        total: FloatArray = scenarios @ exposure.usd
        return total
    if exposure.usd_kzt is None or exposure.fx_column is None:
        raise InvalidInput("KZT risk needs the USD/KZT rate and its history", field="currency")
    return exposure.kzt_pnl(scenarios @ exposure.foreign, scenarios @ exposure.tenge,
                            scenarios[:, exposure.fx_column])
