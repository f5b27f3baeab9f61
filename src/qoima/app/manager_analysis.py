"""The read side of external managers: performance, scorecards, the comparison table and the
look-through of reported exposures, computed by :mod:`qoima.managers` on stored statements.

**Look-through.** A manager's latest statement on or before ``as_of`` says what its NAV is
made of. For the risk engine that is a share of NAV per asset (:meth:`reported_exposures`,
per USD of the fund interest's value); for concentration it is money: each exposure scaled
from the statement's NAV to the interest's book value at ``as_of`` (units held x the NAV
per unit stored), so the totals agree with the portfolio snapshot. Assets add signed
economic exposure (a short future offsets a long); venues and custodians add market value
(what sits there). A manager without a statement, or whose statement lists no exposures,
is flagged: the risk engine uses its declared proxy for it. The policy's concentration
limits read the same statements as shares of NAV per fund interest
(:meth:`look_through_shares`) and scale them by the interest's value in their snapshot.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from qoima.app.manager_ports import ManagerRepository, StatementRecord
from qoima.app.manager_records import findings_of, mandate_of, statement_of
from qoima.app.ports import UnitOfWork
from qoima.domain.enums import AccountKind, InstrumentKind, Severity
from qoima.domain.errors import NotFound, QoimaError
from qoima.domain.findings import Finding
from qoima.domain.money import MONEY_CONTEXT, ZERO, quantize
from qoima.domain.reference import Instrument
from qoima.managers import performance as perf
from qoima.managers.model import Mandate
from qoima.managers.oversight import FEE_MISMATCH, Scorecard, comparison_rows, scorecard
from qoima.market.series import SeriesId
from qoima.policy.context import LookThroughShares

EXPOSURES_PROXIED = "manager.exposures_proxied"
FUND_INTEREST_KINDS = (InstrumentKind.HEDGE_FUND_INTEREST, InstrumentKind.VENTURE_FUND_INTEREST)
DIMENSIONS = ("asset", "venue", "custodian")


@dataclass(frozen=True, slots=True)
class Performance:
    """A manager's performance at ``as_of``: the scorecard's figures and the period returns
    (and the benchmark's over the same periods) they come from."""

    manager_code: str
    benchmark: str
    as_of: date
    scorecard: Scorecard
    returns: tuple[perf.PeriodReturn, ...]
    benchmark_returns: tuple[float, ...] | None


@dataclass(frozen=True, slots=True)
class ManagerLookThrough:
    """One manager in the look-through. ``status``: reported, no_statement, no_exposures.
    ``scale`` turns the statement's money into today's book value (1 without one)."""

    manager_code: str
    instrument_code: str | None
    status: str
    period_end: date | None
    closing_nav: Decimal | None
    book_value_usd: Decimal | None
    scale: Decimal


@dataclass(frozen=True, slots=True)
class ExposureTotal:
    dimension: str  # asset | venue | custodian
    key: str
    value_usd: Decimal
    managers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LookThrough:
    as_of: date
    managers: tuple[ManagerLookThrough, ...]
    totals: tuple[ExposureTotal, ...]
    findings: tuple[Finding, ...]

    def by(self, dimension: str) -> tuple[ExposureTotal, ...]:
        return tuple(t for t in self.totals if t.dimension == dimension)

    def total(self, dimension: str) -> Decimal:
        return sum((t.value_usd for t in self.by(dimension)), ZERO)

    @property
    def flagged(self) -> tuple[str, ...]:
        return tuple(m.manager_code for m in self.managers if m.status != "reported")


class ManagerAnalysis:
    """Read-only computations inside the caller's unit of work."""

    def __init__(self, repository: Callable[[UnitOfWork], ManagerRepository]) -> None:
        self._repo = repository

    def _held(self, uow: UnitOfWork, manager_code: str,
              as_of: date | None) -> tuple[Mandate, list[StatementRecord]]:
        record = self._repo(uow).find_mandate(manager_code)
        if record is None:
            raise NotFound(f"no mandate for manager {manager_code}", field="manager")
        return mandate_of(record), self._repo(uow).list_statements(manager_code, as_of)

    def performance(self, uow: UnitOfWork, manager_code: str, as_of: date | None,
                    benchmark: str | None) -> Performance:
        mandate, records = self._held(uow, manager_code, as_of)
        if not records:
            raise NotFound(f"no statements from {manager_code}"
                           + (f" on or before {as_of}" if as_of else ""), field="manager")
        day = as_of or records[-1].period_end
        mandate = replace(mandate, benchmark=benchmark or mandate.benchmark)
        levels = benchmark_levels(uow, mandate.benchmark)
        card = self._card(mandate, records, day, levels)
        statements = [statement_of(r) for r in records]
        returns = tuple(perf.statement_returns(statements))
        bench = None
        if levels is not None:
            try:
                bench = tuple(perf.benchmark_period_returns(returns, levels))
            except QoimaError:  # the scorecard's notes say why
                bench = None
        return Performance(manager_code, mandate.benchmark, day, card, returns, bench)

    def scorecard(self, uow: UnitOfWork, manager_code: str, as_of: date) -> Scorecard:
        mandate, records = self._held(uow, manager_code, as_of)
        return self._card(mandate, records, as_of, benchmark_levels(uow, mandate.benchmark))

    def scorecards(self, uow: UnitOfWork, as_of: date) -> list[Scorecard]:
        return [self.scorecard(uow, r.manager_code, as_of)
                for r in self._repo(uow).list_mandates()]

    def comparison(self, uow: UnitOfWork, as_of: date
                   ) -> list[dict[str, str | float | int | None]]:
        return comparison_rows(self.scorecards(uow, as_of))

    @staticmethod
    def _card(mandate: Mandate, records: Sequence[StatementRecord], as_of: date,
              levels: Mapping[date, float] | None) -> Scorecard:
        """The scorecard of :mod:`qoima.managers.oversight`, with the findings stored at import
        (guideline breaches of every statement, NAV against the book and the previous
        statement) added to those it recomputes. Fee findings are recomputed over the whole
        history instead (carry is cumulative: an interim shortfall may be made good)."""
        card = scorecard(mandate, [statement_of(r) for r in records], as_of=as_of,
                         benchmark=levels)
        stored = [f for r in records for f in findings_of(r.findings_json)
                  if f.rule != FEE_MISMATCH]
        return replace(card, findings=_unique((*card.findings, *stored)))

    # -- look-through ----------------------------------------------------------------------
    def reported_exposures(self, uow: UnitOfWork, as_of: date,
                           factors: Sequence[str] | None, fallback: str
                           ) -> dict[str, dict[str, float]]:
        """Fund-interest code -> {factor: signed exposure per USD of NAV} from each
        manager's latest statement with exposures; cash is left out (no market risk in
        USD). With ``factors`` (those with history), an asset without its own factor moves
        with ``fallback`` (a stablecoin with none: no market risk, as the risk engine)."""
        instruments = {i.code: i for i in uow.reference.list_instruments()}
        result: dict[str, dict[str, float]] = {}
        for manager, record in sorted(self._repo(uow).latest_statements(as_of).items()):
            interest = _interest(instruments, manager)
            if interest is None or not record.exposures or record.closing_nav <= 0:
                continue
            shares: dict[str, float] = defaultdict(float)
            for exposure in statement_of(record).exposures:
                factor = _factor(instruments.get(exposure.asset), exposure.asset, factors,
                                 fallback)
                if factor is not None:
                    shares[factor] += float(exposure.exposure) / float(record.closing_nav)
            result[interest] = dict(sorted(shares.items()))
        return result

    def look_through_shares(self, uow: UnitOfWork, as_of: date
                            ) -> dict[str, LookThroughShares]:
        """Fund-interest code -> what its manager's latest statement on or before ``as_of``
        says the fund holds, as shares of the statement's NAV, for the policy's
        concentration limits: signed exposure per asset (cash left out, as for the risk
        engine), net market value per custodian and venue (cash counted, as in
        :meth:`look_through`). A manager without such a statement, or whose statement lists
        no exposures or no positive NAV, is left out: the policy flags its interest."""
        instruments = {i.code: i for i in uow.reference.list_instruments()}
        result: dict[str, LookThroughShares] = {}
        for manager, record in sorted(self._repo(uow).latest_statements(as_of).items()):
            interest = _interest(instruments, manager)
            nav = record.closing_nav
            if interest is None or not record.exposures or nav <= 0:
                continue
            assets: dict[str, Decimal] = defaultdict(lambda: ZERO)
            custodians: dict[str, Decimal] = defaultdict(lambda: ZERO)
            venues: dict[str, Decimal] = defaultdict(lambda: ZERO)
            for exposure in statement_of(record).exposures:
                instrument = instruments.get(exposure.asset)
                if instrument is None or instrument.kind is not InstrumentKind.CASH:
                    assets[exposure.asset] += MONEY_CONTEXT.divide(exposure.exposure, nav)
                held = MONEY_CONTEXT.divide(exposure.market_value, nav)
                custodians[exposure.custodian] += held
                venues[exposure.venue] += held
            result[interest] = LookThroughShares(
                manager, record.period_end, dict(sorted(assets.items())),
                dict(sorted(custodians.items())), dict(sorted(venues.items())))
        return result

    def look_through(self, uow: UnitOfWork, as_of: date) -> LookThrough:
        instruments = {i.code: i for i in uow.reference.list_instruments()}
        latest = self._repo(uow).latest_statements(as_of)
        units = _units_by_instrument(uow, as_of)
        codes = sorted({m.manager_code for m in self._repo(uow).list_mandates()} | set(latest))
        prices = uow.market.latest_prices(as_of, sorted(
            i for i in (_interest(instruments, c) for c in codes) if i))
        sums: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
        holders: dict[tuple[str, str], set[str]] = defaultdict(set)
        rows, findings = [], []
        for code in codes:
            interest, record = _interest(instruments, code), latest.get(code)
            quote = prices.get(interest) if interest else None
            book = (quantize(units.get(interest, ZERO) * quote.price, 2)
                    if interest and quote else None)
            if record is None or not record.exposures:
                status = "no_statement" if record is None else "no_exposures"
                rows.append(ManagerLookThrough(
                    code, interest, status, record.period_end if record else None,
                    record.closing_nav if record else None, book, Decimal(1)))
                findings.append(Finding(
                    EXPOSURES_PROXIED, Severity.WARNING, code,
                    f"{code}: " + ("no statement" if record is None else
                                   f"the statement for {record.period_end} lists no exposures")
                    + f" on or before {as_of}; risk uses the declared proxy for {interest}",
                    as_of))
                continue
            scale = (MONEY_CONTEXT.divide(book, record.closing_nav)
                     if book is not None and record.closing_nav > 0 else Decimal(1))
            rows.append(ManagerLookThrough(code, interest, "reported", record.period_end,
                                           record.closing_nav, book, scale))
            for exposure in statement_of(record).exposures:
                for dimension, key, amount in (
                        ("asset", exposure.asset, exposure.exposure),
                        ("venue", exposure.venue, exposure.market_value),
                        ("custodian", exposure.custodian, exposure.market_value)):
                    sums[dimension, key] += amount * scale
                    holders[dimension, key].add(code)
        totals = tuple(ExposureTotal(d, k, quantize(v, 2), tuple(sorted(holders[d, k])))
                       for (d, k), v in sorted(sums.items(),
                                               key=lambda i: (DIMENSIONS.index(i[0][0]),
                                                              -i[1], i[0][1])))
        return LookThrough(as_of, tuple(rows), totals, tuple(findings))


def benchmark_levels(uow: UnitOfWork, code: str) -> dict[date, float] | None:
    """Closes of the benchmark series (``BTC``, ``price:IBIT``), None when not stored."""
    series = uow.market.load_series(SeriesId.parse(code))
    if series is None or not series.bars:
        return None
    return {bar.day: float(bar.close) for bar in series.bars}


def _interest(instruments: Mapping[str, Instrument], manager_code: str) -> str | None:
    found = sorted(code for code, i in instruments.items()
                   if i.manager_code == manager_code and i.kind in FUND_INTEREST_KINDS)
    return found[0] if found else None


def _factor(instrument: Instrument | None, asset: str, factors: Sequence[str] | None,
            fallback: str) -> str | None:
    if instrument is None or instrument.kind is InstrumentKind.CASH:
        return None
    if factors is None or asset in factors:
        return asset
    if instrument.kind is InstrumentKind.STABLECOIN:
        return None
    return fallback if fallback in factors else None


def _units_by_instrument(uow: UnitOfWork, as_of: date) -> dict[str, Decimal]:
    """Units of each fund interest held in any vehicle at ``as_of``."""
    held: dict[str, Decimal] = defaultdict(lambda: ZERO)
    accounts = {i.code: i for i in uow.reference.list_accounts()}
    for code, balance in uow.journal.balances_as_of(as_of).items():
        info = accounts.get(code)
        if info is not None and info.account.kind is AccountKind.HOLDING and \
                info.instrument.kind in FUND_INTEREST_KINDS:
            held[info.instrument.code] += balance
    return held


def _unique(findings: Sequence[Finding]) -> tuple[Finding, ...]:
    seen: dict[tuple[str, str, str], Finding] = {}
    for finding in findings:
        seen.setdefault((finding.rule, finding.subject, finding.message), finding)
    return tuple(seen.values())
