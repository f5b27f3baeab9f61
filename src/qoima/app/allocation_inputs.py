"""What the allocation maths reads, gathered from the book and the market store.

Candidates are priced through the same exposure map as the held book: each is bought
hypothetically (USD 1M into the sleeve, :func:`qoima.policy.hypothetical.apply_trade`), mapped
onto the risk factors, and its scenario P&L per USD becomes one column of the scenario
matrix. So an ETF's scenarios are its underlying's moves plus its tracking residual, exactly
as the risk report would see it once bought; the optimizer and the sizing read the same
numbers the post-trade checks will.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal

import numpy as np
import numpy.typing as npt

from qoima.app.risk import real_price_history, total_reserves_usd, vehicle_roles
from qoima.app.risk_inputs import HistorySettings, RiskInputs, RiskInputsLoader
from qoima.domain.enums import InstrumentKind
from qoima.domain.errors import InsufficientHistory, InvalidInput, NotFound
from qoima.domain.reference import Instrument
from qoima.market.quality import average_daily_volume
from qoima.policy.hypothetical import apply_trade
from qoima.policy.model import InstrumentList, InvestmentPolicy
from qoima.risk.exposures import map_exposures
from qoima.risk.history import FactorHistory
from qoima.risk.positions import RiskBook, scenario_pnl
from qoima.risk.scenarios import Scenario
from qoima.risk.stress import run_stress

FloatArray = npt.NDArray[np.float64]
PROBE_USD = Decimal(1_000_000)  # the hypothetical purchase that prices a candidate
#: Kinds an allocation may buy; cash is what it buys with.
INVESTABLE = frozenset(InstrumentKind) - {InstrumentKind.CASH}


@dataclass(frozen=True, slots=True)
class CandidateFacts:
    instrument: Instrument
    price_usd: Decimal
    lot_size: Decimal
    adv_usd: float | None  # 20-session average daily volume, in USD

    @property
    def code(self) -> str:
        return self.instrument.code


@dataclass(frozen=True, slots=True, eq=False)
class AllocationInputs:
    """Scenario matrices share ``dates`` (rows): candidate returns per USD, the sleeve's
    current P&L and the rest of the reserve's P&L in USD."""

    as_of: date
    vehicle_code: str
    risk: RiskInputs
    candidates: tuple[CandidateFacts, ...]
    excluded: Mapping[str, str]  # code -> why it cannot be a candidate
    dates: tuple[date, ...]
    unit_returns: FloatArray  # (T, N)
    sleeve_pnl: FloatArray  # (T,)
    reserve_pnl: FloatArray  # (T,) reserve vehicles other than this one
    sleeve_usd: float
    total_reserves_usd: float
    candidate_book: RiskBook  # PROBE_USD of each candidate
    sleeve_book: RiskBook
    sleeve_adv_usd: Mapping[str, float | None]  # held instrument -> ADV in USD
    synthetic: bool

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.candidates)

    def sleeve_sellable_usd(self, within_days: int, adv_participation: float) -> float:
        """What the sleeve's holdings could sell within ``within_days`` at
        ``adv_participation`` of ADV a day (an unknown ADV sells nothing)."""
        total = 0.0
        for position in self.sleeve_book.positions:
            adv = self.sleeve_adv_usd.get(position.instrument_code)
            if adv is not None:
                total += min(position.value_usd, within_days * adv_participation * adv)
        return total

    def stress_unit_losses(self, scenarios: Sequence[Scenario]
                           ) -> tuple[dict[str, FloatArray], dict[str, float]]:
        """Per scenario: loss per USD of each candidate (positive: a loss) and the sleeve's
        current loss in USD."""
        history = real_price_history(self.risk)
        per_unit: dict[str, FloatArray] = {}
        sleeve: dict[str, float] = {}
        for scenario in scenarios:
            result = run_stress(self.candidate_book, scenario, history=history,
                                total_reserves_usd=self.total_reserves_usd)
            by_code = {p.instrument_code: -p.pnl_usd / p.value_usd for p in result.positions
                       if p.value_usd}
            per_unit[scenario.name] = np.array([by_code.get(c, 0.0) for c in self.codes])
            if self.sleeve_book.positions:
                held = run_stress(self.sleeve_book, scenario, history=history,
                                  total_reserves_usd=self.total_reserves_usd)
                sleeve[scenario.name] = -held.total_pnl_usd
            else:
                sleeve[scenario.name] = 0.0
        return per_unit, sleeve


def candidate_codes(policy: InvestmentPolicy | None, instruments: Mapping[str, Instrument],
                    requested: Sequence[str]) -> list[str]:
    """The instruments to consider: those asked for, else the policy's allow list, else
    every non-cash instrument (the policy translation then drops the ineligible)."""
    if requested:
        unknown = [c for c in requested if c not in instruments]
        if unknown:
            raise NotFound(f"unknown instrument(s): {', '.join(unknown)}", field="instrument")
        return list(dict.fromkeys(requested))
    if policy is not None:
        for limit in policy.limits:
            if isinstance(limit, InstrumentList) and limit.allow:
                return [c for c in limit.allow if c in instruments]
    return sorted(c for c, i in instruments.items() if i.kind in INVESTABLE)


class AllocationInputsLoader:
    def __init__(self, loader: RiskInputsLoader) -> None:
        self._loader = loader

    def load(self, as_of: date, vehicle_code: str, codes: Sequence[str], *,
             history: HistorySettings | None = None, window: int = 500,
             min_window: int = 120, extra_series: Sequence[str] = ()) -> AllocationInputs:
        inputs = self._loader.load(as_of, history, extra_instruments=codes,
                                   extra_series=extra_series)
        if vehicle_code not in {v.vehicle_code for v in inputs.snapshot.vehicles}:
            raise NotFound(f"unknown vehicle {vehicle_code}", field="vehicle")
        candidates, excluded = _candidates(inputs, codes, as_of)
        if not candidates:
            reasons = "; ".join(f"{c}: {why}" for c, why in excluded.items())
            raise InvalidInput(f"no candidate instrument can be priced ({reasons})",
                               field="instrument")
        snapshot = inputs.snapshot
        for fact in candidates:
            quantity = (PROBE_USD / fact.price_usd).quantize(fact.lot_size, ROUND_DOWN)
            snapshot = apply_trade(snapshot, vehicle_code=vehicle_code, tranche_code=None,
                                   custodian_code=None, instrument=fact.instrument,
                                   quantity_delta=max(quantity, fact.lot_size),
                                   price=fact.price_usd)
        probes = [p for p in snapshot.positions if p.vehicle_code == vehicle_code
                  and p.tranche_code is None and p.custodian_code is None
                  and p.instrument_code in {c.code for c in candidates}]
        mapped = map_exposures(inputs.snapshot.positions + tuple(probes), inputs.instruments,
                               inputs.history, as_of=as_of, usd_kzt=inputs.usd_kzt,
                               etf_facts=inputs.etf_facts)
        probe_keys = {p.account_code for p in probes}
        book = mapped.book
        candidate_book = RiskBook(book.as_of_date, tuple(
            p for p in book.positions if p.key in probe_keys), book.usd_kzt)
        # What the sleeve has deployed: its cash is money still to invest, not exposure.
        sleeve_book = RiskBook(book.as_of_date, tuple(
            p for p in book.positions if p.vehicle_code == vehicle_code
            and p.key not in probe_keys and p.instrument_kind is not InstrumentKind.CASH),
            book.usd_kzt)
        _, reserve_vehicles, _ = vehicle_roles(inputs)
        rest = tuple(p for p in book.positions if p.vehicle_code in reserve_vehicles
                     and p.vehicle_code != vehicle_code and p.key not in probe_keys)
        reserve_book = RiskBook(book.as_of_date, rest, book.usd_kzt)
        span = _window(mapped.history, (candidate_book, sleeve_book, reserve_book),
                       window, min_window)
        order = {p.instrument_code: p for p in candidate_book.positions}
        columns = scenario_pnl(RiskBook(book.as_of_date, tuple(order[c.code] for c in
                                                                candidates),
                                        book.usd_kzt), span.names, span.values)
        values = np.array([order[c.code].value_usd for c in candidates])
        return AllocationInputs(
            as_of=as_of, vehicle_code=vehicle_code, risk=inputs, candidates=tuple(candidates),
            excluded=excluded, dates=tuple(span.dates), unit_returns=columns / values,
            sleeve_pnl=_total(sleeve_book, span), reserve_pnl=_total(reserve_book, span),
            sleeve_usd=sleeve_book.total_usd, total_reserves_usd=total_reserves_usd(inputs),
            candidate_book=candidate_book, sleeve_book=sleeve_book,
            sleeve_adv_usd=_adv_usd(inputs, sleeve_book, as_of),
            synthetic=inputs.history.synthetic)


def _candidates(inputs: RiskInputs, codes: Sequence[str], as_of: date
                ) -> tuple[list[CandidateFacts], dict[str, str]]:
    found: list[CandidateFacts] = []
    excluded: dict[str, str] = {}
    for code in codes:
        instrument = inputs.instruments[code]
        series = inputs.series.get(code)
        if instrument.kind not in INVESTABLE:
            excluded[code] = f"{instrument.kind} is not investable"
            continue
        if series is None or not series.bars:
            excluded[code] = "no stored price series"
            continue
        last = series.bars[-1]
        if instrument.currency != "USD":
            excluded[code] = f"priced in {instrument.currency}; candidates are USD-priced"
            continue
        adv = average_daily_volume(series.bars, as_of)
        value_per_unit = last.close * instrument.price_factor
        found.append(CandidateFacts(instrument, last.close, Decimal(1).scaleb(-instrument.scale),
                                    float(adv * value_per_unit) if adv else None))
    return found, excluded


def _adv_usd(inputs: RiskInputs, book: RiskBook, as_of: date) -> dict[str, float | None]:
    result: dict[str, float | None] = {}
    for position in book.positions:
        series = inputs.series.get(position.instrument_code)
        instrument = inputs.instruments[position.instrument_code]
        adv = average_daily_volume(series.bars, as_of) if series and series.bars else None
        result[position.instrument_code] = None if not adv or series is None else float(
            adv * series.bars[-1].close * instrument.price_factor)
    return result


def _window(history: FactorHistory, books: Sequence[RiskBook], window: int,
            min_window: int) -> FactorHistory:
    names = sorted({f for book in books for f in book.factors})
    columns = [history.names.index(n) for n in names]
    available = int(np.isfinite(history.values[:, columns]).all(axis=1).sum())
    if available < min_window:
        raise InsufficientHistory(
            f"only {available} sessions have every factor of the candidates and the reserve "
            f"({', '.join(names)}); allocation needs at least {min_window}",
            field="history")
    return history.complete_window(names, min(window, available))


def _total(book: RiskBook, span: FactorHistory) -> FloatArray:
    if not book.positions:
        return np.zeros(len(span.dates))
    pnl: FloatArray = scenario_pnl(book, span.names, span.values).sum(axis=1)
    return pnl
