"""External managers as data: the mandate we signed and the statements the manager sends.

A mandate holds what was negotiated (fee, liquidity and guideline terms) and validates it on
construction, as the investment policy does: a hurdle of -5 % or a share above 100 % never
exists in memory. A statement holds what the manager reported for one period, as reported:
its consistency (NAV roll-forward, exposures adding up) is checked by
:mod:`qoima.managers.validation`, so a statement that does not reconcile can still be shown
to the user together with the finding that says so.

Money is exact ``Decimal`` in the statement's currency; rates and shares are fractions
(0.02 = 2 %). ``row`` fields say where a line came from in its file (1-based, 0 unknown) so
errors and findings can point at it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from qoima.domain.canonical import plain_decimal
from qoima.domain.enums import ManagerKind, Severity
from qoima.domain.errors import InvalidInput
from qoima.domain.reference import BASE_CURRENCY, check_code

ZERO = Decimal(0)
ONE = Decimal(1)


class Frequency(StrEnum):
    """Dealing, crystallisation and reporting periods; NONE for a closed-end fund."""

    NONE = "none"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SEMI_ANNUAL = "semi_annual"
    ANNUAL = "annual"

    @property
    def months(self) -> int:
        """Months per period (0 for NONE)."""
        return {"none": 0, "monthly": 1, "quarterly": 3, "semi_annual": 6, "annual": 12}[self]


class ManagementFeeBasis(StrEnum):
    NAV = "nav"  # hedge funds: average or opening NAV of the period
    COMMITMENT = "commitment"  # venture, investment period
    INVESTED_CAPITAL = "invested_capital"  # venture, after the investment period


class HurdleKind(StrEnum):
    """NONE: fee on all profit above the HWM. HARD: fee only on profit above the hurdle.
    SOFT: once the hurdle is beaten the fee applies to all profit."""

    NONE = "none"
    HARD = "hard"
    SOFT = "soft"


class Waterfall(StrEnum):
    """Only the European (whole-fund) waterfall is computed; deal-by-deal is not."""

    EUROPEAN = "european"


class FlowKind(StrEnum):
    """Investor cash flows; SUBSCRIPTION and CAPITAL_CALL go into the fund."""

    SUBSCRIPTION = "subscription"
    REDEMPTION = "redemption"
    CAPITAL_CALL = "capital_call"
    DISTRIBUTION = "distribution"


INFLOW_KINDS = frozenset({FlowKind.SUBSCRIPTION, FlowKind.CAPITAL_CALL})


class FeeKind(StrEnum):
    MANAGEMENT = "management"
    PERFORMANCE = "performance"
    CARRY = "carry"  # venture carried interest
    OTHER = "other"  # admin, audit, organisational costs


def _fail(what: str, message: str, field_name: str) -> InvalidInput:
    return InvalidInput(f"{what}: {message}", field=field_name)


def _rate(what: str, value: Decimal, field_name: str, *, upper: Decimal = ONE) -> None:
    if not ZERO <= value <= upper:
        raise _fail(what, f"{field_name} must be between 0 and {plain_decimal(upper * 100)} "
                          f"%, got {plain_decimal(value * 100)} %", field_name)


def _unique_sorted(what: str, values: tuple[str, ...], field_name: str) -> tuple[str, ...]:
    if len(set(values)) != len(values):
        raise _fail(what, f"a code is listed twice in {field_name}", field_name)
    return tuple(sorted(values))


@dataclass(frozen=True, slots=True)
class FeeTerms:
    """Fee terms of a mandate.

    management_rate: annual rate on ``management_basis``, charged pro rata by days (act/365).
    performance_rate: share of profit over the high-water mark (and hurdle), measured per
    ``crystallisation`` period. hurdle_rate: annual, pro-rated to the period.
    carry_rate / preferred_return / catch_up: the venture waterfall; catch_up is the GP's
    share of profit in the catch-up tier (1 = full catch-up, 0 = none); preferred_return is
    annual, compounded.
    """

    management_rate: Decimal = ZERO
    management_basis: ManagementFeeBasis = ManagementFeeBasis.NAV
    performance_rate: Decimal = ZERO
    hurdle_rate: Decimal = ZERO
    hurdle: HurdleKind = HurdleKind.NONE
    high_water_mark: bool = True
    crystallisation: Frequency = Frequency.ANNUAL
    carry_rate: Decimal = ZERO
    preferred_return: Decimal = ZERO
    catch_up: Decimal = ZERO
    waterfall: Waterfall = Waterfall.EUROPEAN

    def __post_init__(self) -> None:
        what = "fee terms"
        _rate(what, self.management_rate, "management_rate", upper=Decimal("0.1"))
        _rate(what, self.performance_rate, "performance_rate", upper=Decimal("0.5"))
        _rate(what, self.hurdle_rate, "hurdle_rate")
        _rate(what, self.carry_rate, "carry_rate", upper=Decimal("0.5"))
        _rate(what, self.preferred_return, "preferred_return")
        _rate(what, self.catch_up, "catch_up")
        if self.hurdle is HurdleKind.NONE and self.hurdle_rate != ZERO:
            raise _fail(what, "a hurdle_rate needs hurdle: hard or soft", "hurdle")
        if self.hurdle is not HurdleKind.NONE and self.performance_rate == ZERO:
            raise _fail(what, "a hurdle needs a performance_rate", "hurdle")
        if self.performance_rate > 0 and self.crystallisation is Frequency.NONE:
            raise _fail(what, "a performance fee needs a crystallisation frequency",
                        "crystallisation")
        if self.catch_up > 0 and self.catch_up <= self.carry_rate:
            raise _fail(what, "catch_up must be 0 or above carry_rate (the GP could never "
                              "catch up)", "catch_up")


@dataclass(frozen=True, slots=True)
class LiquidityTerms:
    """How money comes back.

    lock_up_months: no redemption before inception + this. notice_days: redemption notice
    before a dealing date. redemption_frequency: dealing dates (NONE: closed-end, money
    comes back as distributions). gate: most of the investment redeemable on one dealing
    date (a fraction; None: no gate). term_years: life of a closed-end fund.
    """

    lock_up_months: int = 0
    notice_days: int = 0
    redemption_frequency: Frequency = Frequency.NONE
    gate: Decimal | None = None
    term_years: int | None = None

    def __post_init__(self) -> None:
        what = "liquidity terms"
        for name in ("lock_up_months", "notice_days"):
            if getattr(self, name) < 0:
                raise _fail(what, f"{name} must be >= 0", name)
        if self.gate is not None and not ZERO < self.gate <= ONE:
            raise _fail(what, f"gate must be above 0 and at most 100 %, got {self.gate}", "gate")
        if self.term_years is not None and self.term_years < 1:
            raise _fail(what, "term_years must be >= 1", "term_years")

    @property
    def closed_end(self) -> bool:
        return self.redemption_frequency is Frequency.NONE


@dataclass(frozen=True, slots=True)
class Guidelines:
    """Investment guidelines checked on each statement's exposures.

    max_leverage: gross exposure / NAV. max_single_asset_share: |net exposure| to one asset
    / NAV, with per-asset ``asset_share_overrides``. allowed_venues / allowed_custodians:
    empty allows any. no_go_assets: never held. ``severity`` of a breach (blocking or
    warning, as policy limits). Cash assets never count towards concentration.
    """

    max_leverage: Decimal | None = None
    max_single_asset_share: Decimal | None = None
    asset_share_overrides: tuple[tuple[str, Decimal], ...] = ()
    allowed_venues: tuple[str, ...] = ()
    allowed_custodians: tuple[str, ...] = ()
    no_go_assets: tuple[str, ...] = ()
    severity: Severity = Severity.BLOCKING

    def __post_init__(self) -> None:
        what = "guidelines"
        if self.max_leverage is not None and self.max_leverage <= 0:
            raise _fail(what, "max_leverage must be above 0", "max_leverage")
        if self.max_single_asset_share is not None:
            _rate(what, self.max_single_asset_share, "max_single_asset_share")
        for _asset, share in self.asset_share_overrides:
            _rate(what, share, "asset_share_overrides")
        keys = tuple(asset for asset, _ in self.asset_share_overrides)
        _unique_sorted(what, keys, "asset_share_overrides")
        object.__setattr__(self, "asset_share_overrides",
                           tuple(sorted(self.asset_share_overrides)))
        for name in ("allowed_venues", "allowed_custodians", "no_go_assets"):
            object.__setattr__(self, name, _unique_sorted(what, getattr(self, name), name))
        if self.severity not in (Severity.BLOCKING, Severity.WARNING):
            raise _fail(what, "severity must be blocking or warning", "severity")


@dataclass(frozen=True, slots=True)
class Mandate:
    """What the institution agreed with one manager.

    commitment: venture commitment (capital the fund may call). allocation: amount given to
    a hedge fund. statement_frequency / statement_lag_days: a statement for a period is due
    this many days after the period ends. benchmark: the series code PME, alpha and beta
    compare with (``BTC`` by default).
    """

    manager_code: str
    vehicle_code: str
    kind: ManagerKind
    strategy: str
    inception: date
    fees: FeeTerms
    liquidity: LiquidityTerms
    guidelines: Guidelines
    currency: str = BASE_CURRENCY
    commitment: Decimal | None = None
    allocation: Decimal | None = None
    statement_frequency: Frequency = Frequency.MONTHLY
    statement_lag_days: int = 30
    benchmark: str = "BTC"

    def __post_init__(self) -> None:
        check_code(self.manager_code, what="manager")
        check_code(self.vehicle_code, what="vehicle")
        what = f"mandate {self.manager_code}"
        if self.kind is ManagerKind.VENTURE_FUND and self.commitment is None:
            raise _fail(what, "a venture mandate needs a commitment", "commitment")
        for name in ("commitment", "allocation"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise _fail(what, f"{name} must be above 0", name)
        if self.statement_frequency is Frequency.NONE:
            raise _fail(what, "statements need a frequency", "statement_frequency")
        if self.statement_lag_days < 0:
            raise _fail(what, "statement_lag_days must be >= 0", "statement_lag_days")


@dataclass(frozen=True, slots=True)
class Flow:
    """One investor cash flow; ``amount`` is positive, its direction comes from ``kind``."""

    on_date: date
    kind: FlowKind
    amount: Decimal
    row: int = field(default=0, compare=False)

    @property
    def into_fund(self) -> Decimal:
        """Signed amount as the fund sees it: + for subscriptions and calls."""
        return self.amount if self.kind in INFLOW_KINDS else -self.amount


@dataclass(frozen=True, slots=True)
class FeeCharge:
    """A fee the manager charged in the period (positive: deducted from NAV)."""

    kind: FeeKind
    amount: Decimal
    row: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Exposure:
    """One position line. ``market_value`` is its signed contribution to NAV (what the
    exposures add up to). ``gross_exposure`` is its economic exposure when that differs from
    the market value (a future's or swap's notional), signed: negative for a short, since a
    short perpetual with a gain has a positive market value. Defaults to ``market_value``."""

    asset: str
    venue: str
    custodian: str
    market_value: Decimal
    gross_exposure: Decimal | None = None
    row: int = field(default=0, compare=False)

    @property
    def exposure(self) -> Decimal:
        """Signed economic exposure: the notional when given, else the market value."""
        return self.market_value if self.gross_exposure is None else self.gross_exposure

    @property
    def gross(self) -> Decimal:
        """Absolute economic exposure (what leverage adds up)."""
        return abs(self.exposure)


@dataclass(frozen=True, slots=True)
class StatementSource:
    """Where a statement was read: file, sheet (None for CSV), and the rows of its
    single-value lines (``opening_nav``, ``pnl``, ``closing_nav``, ``leverage``)."""

    file: str
    sheet: str | None = None
    rows: tuple[tuple[str, int], ...] = ()

    def row(self, line: str) -> int:
        return dict(self.rows).get(line, 0)


@dataclass(frozen=True, slots=True)
class Statement:
    """One period's statement from a manager, as reported.

    The period runs from ``period_start`` to ``period_end``, both included; opening_nav is
    the NAV at the start of ``period_start``, closing_nav at the end of ``period_end``.
    pnl: investment profit or loss of the period before fees; the roll-forward is
    ``opening_nav + flows + pnl - fees = closing_nav``. reported_leverage: the manager's own
    figure, when given. received_on: when the statement arrived (for lateness).
    """

    manager_code: str
    period_start: date
    period_end: date
    currency: str
    opening_nav: Decimal
    pnl: Decimal
    closing_nav: Decimal
    flows: tuple[Flow, ...] = ()
    fees: tuple[FeeCharge, ...] = ()
    exposures: tuple[Exposure, ...] = ()
    reported_leverage: Decimal | None = None
    received_on: date | None = None
    source: StatementSource | None = field(default=None, compare=False)

    def fees_of(self, kind: FeeKind) -> Decimal:
        return sum((f.amount for f in self.fees if f.kind is kind), ZERO)

    @property
    def total_fees(self) -> Decimal:
        return sum((f.amount for f in self.fees), ZERO)

    @property
    def net_flows(self) -> Decimal:
        """Net money into the fund over the period."""
        return sum((f.into_fund for f in self.flows), ZERO)

    @property
    def expected_closing_nav(self) -> Decimal:
        return self.opening_nav + self.net_flows + self.pnl - self.total_fees

    @property
    def exposure_total(self) -> Decimal:
        return sum((e.market_value for e in self.exposures), ZERO)

    @property
    def gross_exposure(self) -> Decimal:
        return sum((e.gross for e in self.exposures), ZERO)

    @property
    def days(self) -> int:
        """Calendar days of the period, both ends included (September: 30)."""
        return (self.period_end - self.period_start).days + 1
