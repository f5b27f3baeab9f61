"""Deployment backtests on stored history: lump sum, equal tranches, gated tranches and
wait-for-stability, for every start date in a window, under the policy's gate and variants
of it (realized-volatility and drawdown thresholds), on imported real or demo data."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from itertools import product

import numpy as np

from qoima.allocation.deployment import DeploymentParams, EntryStrategy, PriceHistory
from qoima.allocation.deployment_grid import DeploymentResult, run_deployment_grid
from qoima.allocation.gate import gate_go_matrix
from qoima.allocation.gate_signals import history_needed
from qoima.app.allocation import AllocationService
from qoima.app.ports import UnitOfWorkFactory
from qoima.domain.errors import InsufficientHistory, InvalidInput, NotFound
from qoima.market.series import SeriesId, SeriesKind
from qoima.policy.allocation import DEFAULT_GATE, GateSignalKind, StabilityGate
from qoima.risk.engine import ComputeEngine


@dataclass(frozen=True, slots=True)
class DeployRequest:
    """The grid: tranche counts × spacings for the tranche strategies, and gate variants
    (each volatility × drawdown threshold replaces the gate's own; none: the gate as is)."""

    series: str = "BTC"
    start: date | None = None  # first start date (default: once the gate has its history)
    end: date | None = None  # last start date (default: the last date less the horizon)
    horizon_days: int = 365
    tranches: tuple[int, ...] = (2, 3, 4, 6, 12)
    spacings: tuple[int, ...] = (7, 30)
    volatility_max: tuple[Decimal, ...] = ()
    drawdown_max: tuple[Decimal, ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class DeployOutcome:
    request: DeployRequest
    result: DeploymentResult
    params: tuple[DeploymentParams, ...]
    gates: tuple[StabilityGate, ...]
    gate_labels: tuple[str, ...]
    synthetic: bool


class DeploymentBacktests:
    def __init__(self, units: UnitOfWorkFactory, allocation: AllocationService) -> None:
        self._units, self._allocation = units, allocation

    def run(self, vehicle: str | None, request: DeployRequest, *,
            engine: ComputeEngine | None = None) -> DeployOutcome:
        base, name = DEFAULT_GATE, "default gate"
        if vehicle is not None:
            as_of = request.end or self._allocation.default_as_of()
            policy = self._allocation.policy(vehicle, as_of)
            base, name = policy.gate, f"{vehicle} policy gate"
        gates, labels = _variants(base, request, name)
        history, synthetic = self._prices(request.series)
        first, last = history.dates[0], history.dates[-1]
        warmup = max(history_needed(s) for s in base.signals if s.required)
        start = request.start or first + timedelta(days=int(warmup * 1.5))
        end = request.end or last - timedelta(days=request.horizon_days)
        if start > end:
            raise InsufficientHistory(
                f"{request.series} runs {first}..{last}: too short for start dates from "
                f"{start} to {end} with a {request.horizon_days}-day horizon", field="window")
        series, gate_synthetic = self._allocation.gate_series(base, last, since=first)
        go = gate_go_matrix(list(gates), series, history.dates)
        params = _params(request, labels)
        result = run_deployment_grid(history, params, window=(start, end),
                                     horizon_days=request.horizon_days, go=go, engine=engine)
        return DeployOutcome(request, result, tuple(params), gates, labels,
                             synthetic or gate_synthetic)

    def _prices(self, name: str) -> tuple[PriceHistory, bool]:
        with self._units(write=False) as uow:
            stored = {info.id for info in uow.market.list_series()}
            sid = next((SeriesId(k, name) for k in (SeriesKind.PRICE, SeriesKind.FX)
                        if SeriesId(k, name) in stored), None)
            if sid is None:
                raise NotFound(f"no stored price series {name!r}: import it with "
                               "`qoima data import`", field="series")
            series = uow.market.load_series(sid)
        if series is None or len(series.bars) < 2:
            raise InsufficientHistory(f"series {name} has fewer than 2 prices",
                                      field="series")
        volumes = [b.volume for b in series.bars]
        has_volume = all(v is not None for v in volumes)
        return PriceHistory(
            tuple(b.day for b in series.bars), np.array([float(b.close) for b in series.bars]),
            np.array([float(v) for v in volumes if v is not None]) if has_volume else None,
        ), series.is_synthetic


def _variants(base: StabilityGate, request: DeployRequest, name: str
              ) -> tuple[tuple[StabilityGate, ...], tuple[str, ...]]:
    if not request.volatility_max and not request.drawdown_max:
        return (base,), (name,)
    kinds = {GateSignalKind.REALIZED_VOLATILITY: request.volatility_max,
             GateSignalKind.DRAWDOWN: request.drawdown_max}
    for kind, values in kinds.items():
        if values and not any(s.signal is kind for s in base.signals):
            raise InvalidInput(f"the gate has no {kind} signal to vary", field=kind.value)
        if any(v <= 0 for v in values):
            raise InvalidInput(f"{kind} thresholds must be above 0", field=kind.value)
    gates, labels = [], []
    for vol, drawdown in product(request.volatility_max or (None,),
                                 request.drawdown_max or (None,)):
        signals = []
        for signal in base.signals:
            if signal.signal is GateSignalKind.REALIZED_VOLATILITY and vol is not None:
                signal = replace(signal, max_value=vol)
            elif signal.signal is GateSignalKind.DRAWDOWN and drawdown is not None:
                signal = replace(signal, max_value=drawdown)
            signals.append(signal)
        gates.append(replace(base, signals=tuple(signals)))
        parts = [f"vol <= {_percent(vol)}" if vol is not None else "",
                 f"drawdown <= {_percent(drawdown)}" if drawdown is not None else ""]
        labels.append(", ".join(part for part in parts if part))
    return tuple(gates), tuple(labels)


def _percent(share: Decimal) -> str:
    return f"{(share * 100).normalize():f}%"


def _params(request: DeployRequest, gate_labels: tuple[str, ...]) -> list[DeploymentParams]:
    if not request.tranches or any(n < 1 for n in request.tranches):
        raise InvalidInput("tranche counts must be at least 1", field="tranches")
    if not request.spacings or any(k < 0 for k in request.spacings):
        raise InvalidInput("spacings must be 0 days or more", field="spacing")
    params = [DeploymentParams(EntryStrategy.LUMP_SUM, label="lump sum")]
    params += [DeploymentParams(EntryStrategy.EQUAL_TRANCHES, n, k,
                                label=f"{n} equal tranches every {k} days")
               for n, k in product(request.tranches, request.spacings) if n > 1]
    for g, gate in enumerate(gate_labels):
        params.append(DeploymentParams(EntryStrategy.WAIT_FOR_STABILITY, gate=g,
                                       label=f"wait for GO ({gate})"))
        params += [DeploymentParams(EntryStrategy.GATED_TRANCHES, n, k, g,
                                    label=f"{n} gated tranches, {k} days apart ({gate})")
                   for n, k in product(request.tranches, request.spacings)]
    return params
