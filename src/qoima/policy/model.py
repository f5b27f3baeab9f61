"""Investment policy as data: one frozen dataclass per limit kind, versioned and hashed.

A policy is what the committee approved, so every limit validates itself on construction
(a min above its max or a share above 100 % never exists in memory), and the policy is
hashed in a canonical form that ignores the comments and layout of the file it came from.
Shares are fractions (0.05 = 5 %); money is exact ``Decimal`` USD.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from qoima.domain.canonical import content_hash
from qoima.domain.enums import InstrumentKind, Severity, Venue
from qoima.domain.errors import InvalidInput
from qoima.domain.reference import check_code
from qoima.policy.allocation import DEFAULT_GATE, AllocationRules, StabilityGate

ZERO = Decimal(0)
ONE = Decimal(1)
#: Limit ids become rule ids ("policy.<id>"); no dots, so they never collide with suffixes.
_LIMIT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
LIMIT_SEVERITIES = (Severity.BLOCKING, Severity.WARNING)


class LimitKind(StrEnum):
    SIZE_RANGE = "size_range"
    SHARE_OF_RESERVES = "share_of_reserves"
    ELIGIBILITY = "eligibility"
    INSTRUMENT_LIST = "instrument_list"
    CONCENTRATION = "concentration"
    LIQUIDITY = "liquidity"
    RISK_CVAR = "risk_cvar"
    STRESS_LOSS = "stress_loss"
    DRAWDOWN_TRIGGER = "drawdown_trigger"
    CUSTODY = "custody"


class TriggerAction(StrEnum):
    """What a drawdown trigger asks for; it never blocks by itself."""

    REVIEW = "review"
    FREEZE_BUYING = "freeze_buying"
    DE_RISK = "de_risk"


#: Stronger actions rank higher: weakening a trigger's action loosens the policy.
ACTION_STRENGTH = {TriggerAction.REVIEW: 1, TriggerAction.FREEZE_BUYING: 2,
                   TriggerAction.DE_RISK: 3}


class ConcentrationBasis(StrEnum):
    INSTRUMENT = "instrument"
    ISSUER = "issuer"  # issuer or ETF sponsor
    CUSTODIAN = "custodian"
    MANAGER = "manager"
    UNDERLYING = "underlying"  # look-through asset: BTC, ETH, ...
    VENUE = "venue"  # listing or trading venue, lower case: nasdaq, coinbase-prime, ...


def _fail(limit_id: str, message: str, field: str) -> InvalidInput:
    return InvalidInput(f"limit {limit_id}: {message}", field=field)


def _check_common(limit: Any) -> None:
    if not isinstance(limit.id, str) or not _LIMIT_ID.fullmatch(limit.id):
        raise InvalidInput(f"limit id {limit.id!r} must be 1-64 letters, digits, dashes or "
                           "underscores", field="id")
    severity = getattr(limit, "severity", Severity.BLOCKING)
    if severity not in LIMIT_SEVERITIES:
        raise _fail(limit.id, f"severity must be blocking or warning, got {severity}",
                    "severity")


def _non_negative(limit_id: str, value: Decimal | None, field: str) -> None:
    if value is not None and value < 0:
        raise _fail(limit_id, f"{field} must be >= 0, got {value}", field)


def _share(limit_id: str, value: Decimal | None, field: str) -> None:
    if value is not None and not ZERO <= value <= ONE:
        raise _fail(limit_id, f"{field} must be a share between 0 and 100 %, got "
                              f"{value * 100:f} %", field)


def _sorted_unique(limit: Any, field: str, what: str) -> None:
    """Store a list field sorted, refusing duplicates (a twice-listed code is a typo)."""
    values = tuple(getattr(limit, field))
    if len(set(values)) != len(values):
        raise _fail(limit.id, f"{what} listed twice in {field}", field)
    object.__setattr__(limit, field, tuple(sorted(values)))


def _sorted_pairs(limit: Any, field: str) -> None:
    pairs = tuple(getattr(limit, field))
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise _fail(limit.id, f"a key appears twice in {field}", field)
    object.__setattr__(limit, field, tuple(sorted(pairs)))


@dataclass(frozen=True, slots=True)
class SizeRange:
    """The vehicle's market value in USD within [min, max]. Below the minimum is a
    deviation to review (a sleeve is funded in steps), above the maximum blocks."""

    id: str
    min_usd: Decimal | None = None
    max_usd: Decimal | None = None
    severity: Severity = Severity.BLOCKING
    below_min_severity: Severity = Severity.WARNING
    kind: ClassVar[LimitKind] = LimitKind.SIZE_RANGE

    def __post_init__(self) -> None:
        _check_common(self)
        if self.below_min_severity not in LIMIT_SEVERITIES:
            raise _fail(self.id, "below_min_severity must be blocking or warning",
                        "below_min_severity")
        if self.min_usd is None and self.max_usd is None:
            raise _fail(self.id, "give min_usd, max_usd or both", "max_usd")
        _non_negative(self.id, self.min_usd, "min_usd")
        _non_negative(self.id, self.max_usd, "max_usd")
        if self.min_usd is not None and self.max_usd is not None and self.min_usd > self.max_usd:
            raise _fail(self.id, f"min_usd {self.min_usd} is above max_usd {self.max_usd}",
                        "min_usd")


@dataclass(frozen=True, slots=True)
class ShareOfReserves:
    """The vehicle's value as a maximum share of total reserves."""

    id: str
    max_share: Decimal
    severity: Severity = Severity.BLOCKING
    kind: ClassVar[LimitKind] = LimitKind.SHARE_OF_RESERVES

    def __post_init__(self) -> None:
        _check_common(self)
        _share(self.id, self.max_share, "max_share")


@dataclass(frozen=True, slots=True)
class Eligibility:
    """Allowed instrument kinds, venues (empty: any) and custodians (empty: any).

    Cash is always eligible: a vehicle must be able to hold the money it invests.
    """

    id: str
    kinds: tuple[InstrumentKind, ...]
    venues: tuple[Venue, ...] = ()
    custodians: tuple[str, ...] = ()
    severity: Severity = Severity.BLOCKING
    kind: ClassVar[LimitKind] = LimitKind.ELIGIBILITY

    def __post_init__(self) -> None:
        _check_common(self)
        if not self.kinds:
            raise _fail(self.id, "kinds must name at least one instrument kind", "kinds")
        _sorted_unique(self, "kinds", "a kind")
        _sorted_unique(self, "venues", "a venue")
        _sorted_unique(self, "custodians", "a custodian")


@dataclass(frozen=True, slots=True)
class InstrumentList:
    """An explicit allow list (empty: no list) and deny list of instrument codes."""

    id: str
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    severity: Severity = Severity.BLOCKING
    kind: ClassVar[LimitKind] = LimitKind.INSTRUMENT_LIST

    def __post_init__(self) -> None:
        _check_common(self)
        if not self.allow and not self.deny:
            raise _fail(self.id, "give an allow list, a deny list or both", "allow")
        for code in (*self.allow, *self.deny):
            check_code(code, what="instrument")
        both = set(self.allow) & set(self.deny)
        if both:
            raise _fail(self.id, f"{', '.join(sorted(both))} both allowed and denied", "deny")
        _sorted_unique(self, "allow", "an instrument")
        _sorted_unique(self, "deny", "an instrument")


@dataclass(frozen=True, slots=True)
class Concentration:
    """Value per key of ``basis`` as a share of the vehicle's value (and optionally USD).

    ``overrides`` gives some keys their own share (``(("BTC", 0.9),)``).
    """

    id: str
    basis: ConcentrationBasis
    max_share: Decimal
    overrides: tuple[tuple[str, Decimal], ...] = ()
    max_usd: Decimal | None = None
    severity: Severity = Severity.BLOCKING
    kind: ClassVar[LimitKind] = LimitKind.CONCENTRATION

    def __post_init__(self) -> None:
        _check_common(self)
        _share(self.id, self.max_share, "max_share")
        _non_negative(self.id, self.max_usd, "max_usd")
        for _key, share in self.overrides:
            _share(self.id, share, "overrides")
        _sorted_pairs(self, "overrides")

    def share_limit(self, key: str) -> Decimal:
        return dict(self.overrides).get(key, self.max_share)


@dataclass(frozen=True, slots=True)
class Liquidity:
    """At least ``min_share`` of the vehicle turns into cash within ``within_days`` trading
    days, selling at most ``adv_participation`` of average daily volume a day."""

    id: str
    within_days: int
    min_share: Decimal
    adv_participation: Decimal = Decimal("0.2")
    severity: Severity = Severity.BLOCKING
    kind: ClassVar[LimitKind] = LimitKind.LIQUIDITY

    def __post_init__(self) -> None:
        _check_common(self)
        if self.within_days < 1:
            raise _fail(self.id, f"within_days must be >= 1, got {self.within_days}",
                        "within_days")
        _share(self.id, self.min_share, "min_share")
        if not ZERO < self.adv_participation <= ONE:
            raise _fail(self.id, "adv_participation must be above 0 and at most 100 %",
                        "adv_participation")


def _need_one_cap(limit: Any) -> None:
    if limit.max_usd is None and limit.max_share is None:
        raise _fail(limit.id, "give max_usd, max_share or both", "max_usd")
    _non_negative(limit.id, limit.max_usd, "max_usd")
    _share(limit.id, limit.max_share, "max_share")


@dataclass(frozen=True, slots=True)
class RiskCvar:
    """Maximum 1-day 99 % CVaR, in USD and/or as a share of total reserves."""

    id: str
    max_usd: Decimal | None = None
    max_share: Decimal | None = None
    severity: Severity = Severity.BLOCKING
    kind: ClassVar[LimitKind] = LimitKind.RISK_CVAR

    def __post_init__(self) -> None:
        _check_common(self)
        _need_one_cap(self)


@dataclass(frozen=True, slots=True)
class StressLoss:
    """Maximum loss in each named stress scenario (empty ``scenarios``: every one given)."""

    id: str
    scenarios: tuple[str, ...] = ()
    max_usd: Decimal | None = None
    max_share: Decimal | None = None
    severity: Severity = Severity.BLOCKING
    kind: ClassVar[LimitKind] = LimitKind.STRESS_LOSS

    def __post_init__(self) -> None:
        _check_common(self)
        _need_one_cap(self)
        _sorted_unique(self, "scenarios", "a scenario")


@dataclass(frozen=True, slots=True)
class DrawdownTrigger:
    """A drawdown from peak (a fraction) at which ``action`` is required; it warns, never
    blocks, because the answer to a fall is a decision, not a refused trade."""

    id: str
    drawdown: Decimal
    action: TriggerAction
    kind: ClassVar[LimitKind] = LimitKind.DRAWDOWN_TRIGGER

    def __post_init__(self) -> None:
        _check_common(self)
        if not ZERO < self.drawdown <= ONE:
            raise _fail(self.id, f"drawdown must be above 0 and at most 100 %, got "
                                 f"{self.drawdown}", "drawdown")
        try:
            object.__setattr__(self, "action", TriggerAction(self.action))
        except ValueError:
            raise _fail(self.id, f"action must be one of {', '.join(TriggerAction)}",
                        "action") from None

    @property
    def severity(self) -> Severity:
        return Severity.WARNING


@dataclass(frozen=True, slots=True)
class Custody:
    """Transfer controls for vehicles holding tokens directly.

    ``destinations``: chain -> whitelisted addresses (a chain not named allows none);
    per-transfer caps in USD and in units per instrument; a rolling velocity cap
    (USD moved within ``velocity_window_days``); ``approval_quorum`` distinct approvers.
    """

    id: str
    destinations: tuple[tuple[str, tuple[str, ...]], ...] = ()
    max_transfer_usd: Decimal | None = None
    max_transfer_units: tuple[tuple[str, Decimal], ...] = ()
    velocity_window_days: int | None = None
    velocity_max_usd: Decimal | None = None
    approval_quorum: int = 2
    severity: Severity = Severity.BLOCKING
    kind: ClassVar[LimitKind] = LimitKind.CUSTODY

    def __post_init__(self) -> None:
        _check_common(self)
        _non_negative(self.id, self.max_transfer_usd, "max_transfer_usd")
        for _code, units in self.max_transfer_units:
            _non_negative(self.id, units, "max_transfer_units")
        if (self.velocity_window_days is None) != (self.velocity_max_usd is None):
            raise _fail(self.id, "velocity needs both velocity_window_days and "
                                 "velocity_max_usd", "velocity_window_days")
        if self.velocity_window_days is not None and self.velocity_window_days < 1:
            raise _fail(self.id, "velocity_window_days must be >= 1", "velocity_window_days")
        _non_negative(self.id, self.velocity_max_usd, "velocity_max_usd")
        if self.approval_quorum < 1:
            raise _fail(self.id, "approval_quorum must be >= 1", "approval_quorum")
        chains = []
        for chain, addresses in self.destinations:
            if len(set(addresses)) != len(addresses):
                raise _fail(self.id, f"an address is listed twice for {chain}", "destinations")
            chains.append((chain, tuple(sorted(addresses))))
        object.__setattr__(self, "destinations", tuple(chains))
        _sorted_pairs(self, "destinations")
        _sorted_pairs(self, "max_transfer_units")

    def allows(self, chain: str, address: str) -> bool:
        """0x-hex (EVM) addresses compare case-insensitively; others exactly."""
        wanted = _address_key(address)
        return any(_address_key(a) == wanted for a in dict(self.destinations).get(chain, ()))

    def max_units(self, instrument_code: str) -> Decimal | None:
        return dict(self.max_transfer_units).get(instrument_code)


def _address_key(address: str) -> str:
    return address.lower() if address.lower().startswith("0x") else address


Limit = (SizeRange | ShareOfReserves | Eligibility | InstrumentList | Concentration
         | Liquidity | RiskCvar | StressLoss | DrawdownTrigger | Custody)

LIMIT_TYPES: dict[LimitKind, type[Limit]] = {
    cls.kind: cls for cls in (SizeRange, ShareOfReserves, Eligibility, InstrumentList,
                              Concentration, Liquidity, RiskCvar, StressLoss,
                              DrawdownTrigger, Custody)
}


def limit_form(limit: Limit) -> dict[str, Any]:
    """The limit as plain data with its kind: what the hash and the change log compare."""
    return {"kind": limit.kind.value, **asdict(limit)}


@dataclass(frozen=True, slots=True)
class InvestmentPolicy:
    """One approved version of a vehicle's policy.

    ``change_delay_days``: a change that loosens any limit takes effect only this many days
    after approval (the committee may veto meanwhile). ``source_text`` is the file as
    written; the hash covers the meaning only.
    """

    vehicle_code: str
    version: int
    name: str
    effective_from: date
    limits: tuple[Limit, ...]
    change_delay_days: int
    source_text: str = ""
    allocation: AllocationRules | None = None

    def __post_init__(self) -> None:
        check_code(self.vehicle_code, what="vehicle")
        if self.version < 1:
            raise InvalidInput(f"version must be >= 1, got {self.version}", field="version")
        if not self.name.strip():
            raise InvalidInput("a policy needs a name", field="name")
        if self.change_delay_days < 0:
            raise InvalidInput("change_delay_days must be >= 0", field="change_delay_days")
        seen: set[str] = set()
        for limit in self.limits:
            if limit.id in seen:
                raise InvalidInput(f"limit id {limit.id!r} is used twice", field="id")
            seen.add(limit.id)

    def canonical_form(self) -> dict[str, Any]:
        return {
            "vehicle_code": self.vehicle_code,
            "version": self.version,
            "name": self.name,
            "effective_from": self.effective_from,
            "change_delay_days": self.change_delay_days,
            "limits": [limit_form(limit) for limit in self.limits],
            # Only when declared, so that versions written before allocation rules existed
            # keep their hashes.
            **({"allocation": asdict(self.allocation)} if self.allocation else {}),
        }

    @property
    def allocation_rules(self) -> AllocationRules:
        """The declared allocation rules, or the defaults."""
        return self.allocation or AllocationRules()

    @property
    def gate(self) -> StabilityGate:
        """The declared stability gate, or :data:`DEFAULT_GATE`."""
        return self.allocation_rules.gate or DEFAULT_GATE

    @property
    def content_hash(self) -> str:
        """SHA-256 of the canonical JSON: equal meaning, equal hash."""
        return content_hash(self.canonical_form())

    def find_limit(self, limit_id: str) -> Limit | None:
        return next((limit for limit in self.limits if limit.id == limit_id), None)
