"""The investment policy's limits as optimizer constraints, each named by its limit id.

* **Eligibility / instrument lists** drop candidates before optimizing; every dropped
  code keeps the limit and the reason.
* **Concentration** by instrument becomes an upper bound per instrument (its override or
  ``max_share``, and ``max_usd / size``, whichever is lower); by issuer, underlying or
  custodian a group cap per key. Manager concentration needs look-through data a candidate
  does not carry and is left to the post-trade check.
* **Liquidity** (``min_share`` sellable within ``within_days`` at ``adv_participation`` of
  ADV a day): with ``c_i = within_days · adv_participation · adv_usd_i / size_usd`` (0 when
  the ADV is unknown) the limit is ``Σ min(w_i, c_i) >= min_share``, that is (the weights
  sum to 1) ``Σ max(w_i - c_i, 0) <= 1 - min_share``. A sum of convex pieces below a
  constant is exactly the set of linear cuts ``Σ_{i in S} w_i <= 1 - min_share + Σ_{i in S}
  c_i`` over every subset S, and only subsets of instruments with ``c_i < 1`` can bind, so
  up to :data:`MAX_EXACT_LIQUIDITY` such instruments the translation is exact (group caps,
  no extra variables); beyond that each is capped at ``c_i``, which is sufficient but
  stricter, and a note says so.
* **Warning-severity limits** are not constraints: they warn after trading rather than
  forbid, so the optimizer leaves them to the post-trade check and a note says so.
* CVaR and stress budgets depend on the size and the whole reserve; sizing enforces them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import combinations

from qoima.allocation.problem import Constraints, GroupCap
from qoima.domain.enums import CURRENCY_KINDS, InstrumentKind, Severity, Venue
from qoima.domain.errors import InvalidInput
from qoima.policy.model import (
    Concentration,
    ConcentrationBasis,
    Eligibility,
    InstrumentList,
    InvestmentPolicy,
    Liquidity,
)

#: Instruments that can be illiquid (``c_i < 1``) up to which the liquidity limit is exact.
MAX_EXACT_LIQUIDITY = 10


@dataclass(frozen=True, slots=True)
class Candidate:
    """An instrument the sleeve could buy, with what the policy and the order need."""

    code: str
    kind: InstrumentKind
    venue: Venue | None = None
    custodian: str | None = None
    issuer: str | None = None
    underlying: str | None = None
    price_usd: float = 1.0
    lot_size: Decimal = Decimal(1)
    adv_usd: float | None = None  # average daily traded value; None: unknown


@dataclass(frozen=True, slots=True)
class Exclusion:
    code: str
    limit_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class PolicyConstraints:
    """Eligible candidates (in input order), their constraints, the dropped ones, notes."""

    candidates: tuple[Candidate, ...]
    constraints: Constraints
    excluded: tuple[Exclusion, ...]
    notes: tuple[str, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.candidates)


def _excluded_by(candidate: Candidate, limit: Eligibility | InstrumentList) -> str | None:
    if isinstance(limit, InstrumentList):
        if candidate.code in limit.deny:
            return "on the deny list"
        if limit.allow and candidate.code not in limit.allow:
            return "not on the allow list"
        return None
    if candidate.kind in CURRENCY_KINDS:
        return None  # cash is always eligible (policy.model.Eligibility)
    if candidate.kind not in limit.kinds:
        return f"kind {candidate.kind} is not eligible"
    if limit.venues and candidate.venue not in limit.venues:
        return f"venue {candidate.venue or 'unknown'} is not eligible"
    if limit.custodians and candidate.custodian not in limit.custodians:
        return f"custodian {candidate.custodian or 'unknown'} is not eligible"
    return None


def _share(limit: Concentration, key: str, size: float) -> float:
    share = float(limit.share_limit(key))
    if limit.max_usd is not None:
        share = min(share, float(limit.max_usd) / size)
    return share


_KEYS = {ConcentrationBasis.ISSUER: "issuer", ConcentrationBasis.UNDERLYING: "underlying",
         ConcentrationBasis.CUSTODIAN: "custodian"}


def constraints_from_policy(policy: InvestmentPolicy, candidates: Sequence[Candidate],
                            size_usd: Decimal) -> PolicyConstraints:
    """Translate ``policy``'s limits for a sleeve of ``size_usd`` (module doc).

    Raises
    ------
    InvalidInput
        when no candidate is eligible (the message lists why each was dropped), or on a
        non-positive size or a duplicated code.
    """
    if not size_usd > 0:
        raise InvalidInput(f"size_usd must be positive, got {size_usd}", field="size_usd")
    codes = [c.code for c in candidates]
    if len(set(codes)) != len(codes):
        raise InvalidInput("a candidate code appears twice", field="candidates")
    size = float(size_usd)
    screens = [lim for lim in policy.limits if isinstance(lim, Eligibility | InstrumentList)]
    kept: list[Candidate] = []
    excluded: list[Exclusion] = []
    for candidate in candidates:
        reasons = [(lim.id, why) for lim in screens
                   if (why := _excluded_by(candidate, lim)) is not None]
        if reasons:
            excluded.extend(Exclusion(candidate.code, lim_id, why) for lim_id, why in reasons)
        else:
            kept.append(candidate)
    if not kept:
        detail = "; ".join(f"{e.code}: {e.reason} ({e.limit_id})" for e in excluded)
        raise InvalidInput(f"no eligible instrument among the candidates: {detail or 'none given'}",
                           field="candidates")
    upper = [1.0] * len(kept)
    upper_names = [f"upper bound of {c.code}" for c in kept]
    groups: list[GroupCap] = []
    notes: list[str] = []

    def cap(i: int, share: float, name: str) -> None:
        if share < upper[i]:
            upper[i], upper_names[i] = share, name

    for limit in policy.limits:
        if isinstance(limit, Concentration | Liquidity) and limit.severity is Severity.WARNING:
            notes.append(f"{limit.id}: a warning limit; checked after trading, not a "
                         "constraint of the optimizer")
            continue
        if isinstance(limit, Concentration):
            if limit.basis is ConcentrationBasis.INSTRUMENT:
                for i, c in enumerate(kept):
                    share = _share(limit, c.code, size)
                    cap(i, share, f"{limit.id}: {c.code} at most {share:.6g} of the sleeve")
            elif limit.basis in _KEYS:
                members: dict[str, list[int]] = {}
                for i, c in enumerate(kept):
                    key = getattr(c, _KEYS[limit.basis])
                    if key is not None:
                        members.setdefault(key, []).append(i)
                for key, idx in sorted(members.items()):
                    share = _share(limit, key, size)
                    groups.append(GroupCap(f"{limit.id}: {limit.basis} {key} at most "
                                           f"{share:.6g} of the sleeve", tuple(idx), share))
            else:
                notes.append(f"{limit.id}: {limit.basis} concentration needs look-through "
                             "data; checked after trading, not in the optimizer")
        elif isinstance(limit, Liquidity):
            _liquidity(limit, kept, size, cap, groups, notes)
    constraints = Constraints(lower=0.0, upper=tuple(upper), groups=tuple(groups),
                              upper_names=tuple(upper_names))
    return PolicyConstraints(tuple(kept), constraints, tuple(excluded), tuple(notes))


def _liquidity(limit: Liquidity, kept: Sequence[Candidate], size: float,
               cap: Callable[[int, float, str], None],
               groups: list[GroupCap], notes: list[str]) -> None:
    per_day = float(limit.adv_participation)
    slack = 1.0 - float(limit.min_share)
    sellable: dict[int, float] = {}
    for i, c in enumerate(kept):
        if c.kind in CURRENCY_KINDS:
            continue
        share = 0.0 if c.adv_usd is None else \
            limit.within_days * per_day * max(c.adv_usd, 0.0) / size
        if share < 1.0:
            sellable[i] = share
    unknown = [kept[i].code for i in sellable if kept[i].adv_usd is None]
    if unknown:
        notes.append(f"{limit.id}: no ADV for {', '.join(unknown)}; counted as not "
                     "sellable in time")
    if len(sellable) > MAX_EXACT_LIQUIDITY:
        for i, share in sellable.items():
            cap(i, share, f"{limit.id}: {kept[i].code} at most {share:.6g} of the sleeve "
                          f"(sellable within {limit.within_days} days at {per_day:g} of ADV)")
        notes.append(f"{limit.id}: {len(sellable)} instruments are not fully sellable in "
                     "time; each is capped at its sellable share (stricter than the limit)")
        return
    for count in range(1, len(sellable) + 1):
        for subset in combinations(sorted(sellable), count):
            bound = slack + sum(sellable[i] for i in subset)
            if bound >= 1.0:
                continue
            names = ", ".join(kept[i].code for i in subset)
            groups.append(GroupCap(
                f"{limit.id}: {names} at most {bound:.6g} of the sleeve together (at least "
                f"{float(limit.min_share):g} sellable within {limit.within_days} days at "
                f"{per_day:g} of ADV)", subset, bound))
