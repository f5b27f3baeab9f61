"""Disposition models on hand-computed paths, invariants, bad input and real BTC history."""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qoima.custody.disposition import (
    DEFAULT_MODELS,
    DispositionBatch,
    DispositionModel,
    DispositionParams,
    PriceHistory,
    VolumeUnit,
    compare_dispositions,
    compare_over_history,
    volatility,
    worst_drawdown,
)
from qoima.domain.errors import InsufficientHistory, InvalidInput
from qoima.risk.performance import max_drawdown

BTC_FILE = Path(__file__).resolve().parents[3] / "shared" / "data" / "market" / "BTC-USD.csv"
D0 = date(2024, 1, 1)
A, S, H, M, Q = (DispositionModel.AUCTION_ON_FORFEITURE, DispositionModel.STAGED_LIQUIDATION,
                 DispositionModel.HOLD_IN_RESERVE, DispositionModel.EXTERNAL_MANAGER,
                 DispositionModel.CHINA_QUIET_DISPOSAL)


def _days(n: int, start: date = D0) -> tuple[date, ...]:
    return tuple(start + timedelta(days=i) for i in range(n))


def _history(closes: list[float], **kwargs: object) -> PriceHistory:
    return PriceHistory(_days(len(closes)), np.array(closes, dtype=float), **kwargs)  # type: ignore[arg-type]


def _batch(quantity: str = "3", day: date = D0) -> DispositionBatch:
    return DispositionBatch("BTC", Decimal(quantity), day)


TINY = _history([100, 80, 120, 90])
THREE_DAILY = DispositionParams(slices=3, spacing_days=1)


def test_model_values_are_stable() -> None:
    assert [m.value for m in DispositionModel] == [
        "auction_on_forfeiture", "staged_liquidation", "hold_in_reserve", "external_manager",
        "china_quiet_disposal"]
    assert Q not in DEFAULT_MODELS


def test_hand_computed_paths_on_a_tiny_series() -> None:
    result = compare_dispositions(_batch(), TINY, 3, THREE_DAILY)
    assert result.start == D0 and result.horizon_days == 3
    staged = result.paths[S]
    # day 0: sold 1 @100, hold 2 @100; day 1: +1 @80, hold 1 @80; day 2: +1 @120
    assert staged.value_usd.tolist() == [300, 260, 300, 300]
    assert staged.proceeds_usd_at_horizon == 100 + 80 + 120
    assert staged.days_to_cash == 2 and staged.quantity_unsold == 0
    assert staged.worst_drawdown == pytest.approx(260 / 300 - 1)
    hold = result.paths[H]
    assert hold.value_usd.tolist() == [300, 240, 360, 270]
    assert hold.proceeds_usd_at_horizon == 3 * 90
    assert hold.days_to_cash is None and hold.quantity_unsold == 3
    assert hold.worst_drawdown == pytest.approx(-0.25)
    returns = [-0.2, 0.5, -0.25]
    mean = sum(returns) / 3
    hand_vol = math.sqrt(sum((r - mean) ** 2 for r in returns) / 2 * 365)
    assert hold.volatility == pytest.approx(hand_vol)
    auction = result.paths[A]
    assert auction.value_usd.tolist() == [300] * 4 and auction.days_to_cash == 0
    assert auction.volatility == 0 and auction.worst_drawdown == 0
    # no fees: the manager's path is the token's
    assert result.paths[M].value_usd.tolist() == hold.value_usd.tolist()
    assert result.best_by_proceeds is A  # tie with staged at 300: first in model order
    assert result.paths[M].dates == _days(4)
    assert result.paths[S].parameters["slices"] == 3
    assert result.provenance.method == "custody.disposition"
    assert result.provenance.parameters["quantity"] == "3"
    assert result.provenance.warnings == ()


def test_worst_drawdown_matches_a_hand_path_and_risk_performance() -> None:
    path = np.array([100.0, 120.0, 90.0, 130.0, 65.0, 70.0])
    assert float(worst_drawdown(path[:, None])[0]) == pytest.approx(-0.5)  # 130 -> 65
    assert float(worst_drawdown(path[:, None])[0]) == pytest.approx(
        max_drawdown(path[1:] / path[:-1] - 1))
    assert float(worst_drawdown(np.array([[1.0], [2.0], [3.0]]))[0]) == 0.0
    assert float(volatility(np.full((5, 1), 7.0), 365)[0]) == 0.0


def test_auction_earns_a_constant_cash_rate_with_daily_compounding() -> None:
    params = DispositionParams(cash_rate=0.0365, periods_per_year=365, models=(A,))
    path = compare_dispositions(_batch(), TINY, 3, params).paths[A]
    assert path.value_usd.tolist() == pytest.approx([300 * 1.0001 ** j for j in range(4)])


def test_a_rates_array_overrides_the_constant() -> None:
    history = _history([100, 80, 120, 90], cash_rates=[0.365, 0.0, 0.73, 0.0])
    params = DispositionParams(cash_rate=0.5, slices=3, spacing_days=1, models=(A, S))
    paths = compare_dispositions(_batch(), history, 3, params).paths
    assert paths[A].value_usd.tolist() == pytest.approx(
        [300, 300 * 1.001, 300 * 1.001, 300 * 1.001 * 1.002])
    # staged: 100 sold on day 0 grows 0.1 % to day 1; 80 sold day 1; 120 day 2; day 2->3 +0.2 %
    day2 = 100 * 1.001 + 80 + 120
    assert paths[S].value_usd.tolist() == pytest.approx(
        [300, 100 * 1.001 + 80 + 80, day2, day2 * 1.002])


def test_quiet_disposal_is_the_auction_at_a_discount() -> None:
    params = DispositionParams(disposal_discount=0.2, models=(A, Q))
    paths = compare_dispositions(_batch(), TINY, 3, params).paths
    assert paths[Q].value_usd.tolist() == pytest.approx([240] * 4)
    assert paths[Q].days_to_cash == 0
    assert paths[Q].parameters == {"cash_rate": 0.0, "disposal_discount": 0.2}


def test_external_manager_fees_with_a_high_water_mark() -> None:
    # a "year" of 2 rows: fees at day 2 (anniversary, f = 1) and day 3 (horizon, f = 1/2)
    history = _history([100, 110, 130, 120])
    params = DispositionParams(management_fee=0.02, performance_fee=0.2, periods_per_year=2,
                               models=(M,))
    path = compare_dispositions(_batch("1"), history, 3, params).paths[M]
    nav2 = 130 - 0.02 * 130  # 127.4 after the management fee
    nav2 -= 0.2 * (nav2 - 100)  # 20 % of 27.4 over the HWM of 100 -> 121.92
    units = nav2 / 130
    nav3 = units * 120 * (1 - 0.02 * 0.5)  # 111.42 < HWM 121.92: no performance fee
    assert path.value_usd.tolist() == pytest.approx([100, 110, nav2, nav3])
    assert nav2 == pytest.approx(121.92)
    assert path.proceeds_usd_at_horizon == pytest.approx(nav3)


def test_external_manager_hurdle_raises_the_threshold() -> None:
    history = _history([100, 105, 115])
    params = DispositionParams(performance_fee=0.5, hurdle=0.21, periods_per_year=4,
                               models=(M,))
    path = compare_dispositions(_batch("1"), history, 2, params).paths[M]
    threshold = 100 * 1.21 ** 0.5  # 110 over half a year
    assert path.value_usd.tolist() == pytest.approx([100, 105, 115 - 0.5 * (115 - threshold)])


def test_volume_cap_splits_a_slice_over_further_days() -> None:
    history = _history([100, 80, 120, 90], volumes=[1, 1, 1, 1])
    params = DispositionParams(slices=1, adv_share=1.0, adv_window_days=1, models=(S,))
    path = compare_dispositions(_batch(), history, 3, params).paths[S]
    assert path.value_usd.tolist() == [300, 260, 300, 300]
    assert path.days_to_cash == 2


def test_adv_is_a_trailing_mean_of_the_window() -> None:
    # volumes 4, 0, 2, 0 with a 2-row window: ADV 4, 2, 1, 1; half of it: caps 2, 1, .5, .5
    history = _history([100, 80, 120, 90], volumes=[4, 0, 2, 0])
    params = DispositionParams(slices=2, spacing_days=1, adv_share=0.5, adv_window_days=2,
                               models=(S,))
    path = compare_dispositions(_batch("4"), history, 3, params).paths[S]
    # day 0: 2 due, sell 2; day 1: 2 due, sell 1; day 2: sell .5; day 3: sell the last .5
    cash = [200, 280, 340, 385]
    held = [2, 1, 0.5, 0]
    assert path.value_usd.tolist() == pytest.approx(
        [c + h * p for c, h, p in zip(cash, held, [100, 80, 120, 90], strict=True)])
    assert path.days_to_cash == 3 and path.quantity_unsold == 0


def test_what_the_cap_leaves_is_held_at_the_horizon() -> None:
    # caps 2, 1, 0, 0: one token is left and marked at the last close
    history = _history([100, 80, 120, 90], volumes=[4, 0, 0, 0])
    params = DispositionParams(slices=2, spacing_days=1, adv_share=0.5, adv_window_days=2,
                               models=(S,))
    result = compare_dispositions(_batch("4"), history, 3, params)
    path = result.paths[S]
    assert path.value_usd.tolist() == pytest.approx([400, 360, 400, 370])
    assert path.days_to_cash is None and path.quantity_unsold == pytest.approx(1)
    assert [w.rule for w in result.provenance.warnings] == ["disposition.unsold_at_horizon"]


def test_slices_due_after_the_horizon_stay_held() -> None:
    params = DispositionParams(slices=3, spacing_days=2, models=(S,))
    result = compare_dispositions(_batch(), TINY, 3, params)
    path = result.paths[S]  # sold 1 @100 on day 0 and 1 @120 on day 2; the day-4 slice is not
    assert path.value_usd.tolist() == [300, 100 + 2 * 80, 220 + 120, 220 + 90]
    assert path.days_to_cash is None and path.quantity_unsold == 1
    assert [w.rule for w in result.provenance.warnings] == ["disposition.unsold_at_horizon"]
    capped = compare_dispositions(_batch(), _history([100, 80, 120, 90], volumes=[1e3] * 4), 3,
                                  params).paths[S]
    assert capped.value_usd.tolist() == path.value_usd.tolist()
    assert capped.days_to_cash is None and capped.quantity_unsold == 1


def test_usd_volumes_are_converted_to_quantity() -> None:
    history = _history([100, 80, 120, 90], volumes=[100, 80, 120, 90],
                       volume_unit=VolumeUnit.USD)
    assert history.volume_quantity() is not None
    assert history.volume_quantity().tolist() == [1, 1, 1, 1]  # type: ignore[union-attr]
    params = DispositionParams(slices=1, adv_share=1.0, adv_window_days=1, models=(S,))
    assert compare_dispositions(_batch(), history, 3, params).paths[S].days_to_cash == 2


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(1.0, 1e5), min_size=12, max_size=40), st.integers(1, 5),
       st.integers(1, 2), st.decimals("0.001", "1000", places=3))
def test_invariants(closes: list[float], slices: int, spacing: int, quantity: Decimal) -> None:
    history = _history(closes)
    horizon = len(closes) - 1
    params = DispositionParams(slices=slices, spacing_days=spacing, management_fee=0.02,
                               performance_fee=0.2, periods_per_year=5)
    paths = compare_dispositions(_batch(str(quantity)), history, horizon, params).paths
    q = float(quantity)
    assert np.all(paths[A].value_usd == paths[A].value_usd[0])  # constant without a cash rate
    assert paths[H].proceeds_usd_at_horizon == pytest.approx(q * closes[-1])
    sale_days = [i * spacing for i in range(slices)]
    assert paths[S].proceeds_usd_at_horizon == pytest.approx(
        sum(q / slices * closes[d] for d in sale_days))
    assert paths[S].days_to_cash == sale_days[-1]
    for path in paths.values():
        assert (path.value_usd > 0).all() and path.worst_drawdown <= 0
        assert path.value_usd.shape == (horizon + 1,)
    assert paths[M].proceeds_usd_at_horizon <= paths[H].proceeds_usd_at_horizon * (1 + 1e-12)
    # an ample volume cap changes nothing: the sequential path equals the index arithmetic
    ample = _history(closes, volumes=[1e12] * len(closes))
    capped = compare_dispositions(_batch(str(quantity)), ample, horizon, params).paths[S]
    assert capped.value_usd == pytest.approx(paths[S].value_usd)
    assert capped.days_to_cash == paths[S].days_to_cash


def test_over_history_matches_single_runs() -> None:
    rng = np.random.default_rng(7)
    closes = 100 * np.exp(np.cumsum(rng.normal(0, 0.03, 60)))
    history = PriceHistory(_days(60), closes, volumes=np.full(60, 0.1))
    params = DispositionParams(slices=3, spacing_days=2, adv_share=1.0, adv_window_days=3,
                               management_fee=0.02, performance_fee=0.1, cash_rate=0.05,
                               periods_per_year=7, models=(*DEFAULT_MODELS, Q))
    result = compare_over_history(Decimal(2), "BTC", history, 10, first_start=D0 + timedelta(5),
                                  last_start=D0 + timedelta(40), params=params)
    assert result.start_dates == _days(36, D0 + timedelta(5))
    auction = result.distributions[A]
    assert auction.relative_proceeds.tolist() == pytest.approx([1.0] * 36)
    for i, start in enumerate(result.start_dates):
        single = compare_dispositions(DispositionBatch("BTC", Decimal(2), start), history, 10,
                                      params)
        for model, distribution in result.distributions.items():
            path = single.paths[model]
            assert distribution.proceeds_usd[i] == pytest.approx(path.proceeds_usd_at_horizon)
            assert distribution.worst_drawdowns[i] == pytest.approx(path.worst_drawdown)
    hold = result.distributions[H]
    s = np.arange(5, 41)
    assert hold.relative_proceeds == pytest.approx(
        closes[s + 10] / closes[s] / (1 + 0.05 / 7) ** 10)
    assert hold.median_relative == pytest.approx(float(np.median(hold.relative_proceeds)))
    assert hold.p5_relative <= hold.median_relative <= hold.p95_relative
    assert hold.worst_drawdown == hold.worst_drawdowns.min()
    assert result.distributions[S].share_unsold == 1  # 0.1 a day cannot sell 2 in 11 days


def test_over_history_defaults_to_every_possible_start() -> None:
    result = compare_over_history(Decimal(1), "BTC", TINY, 2)
    assert result.start_dates == _days(2)
    assert result.distributions[H].relative_proceeds.tolist() == [120 / 100, 90 / 80]


def test_calendar_gap_is_a_warning() -> None:
    history = PriceHistory((D0, D0 + timedelta(1), D0 + timedelta(3)), np.array([1.0, 2, 3]))
    result = compare_dispositions(_batch(), history, 2, DispositionParams(models=(H,)))
    assert [w.rule for w in result.provenance.warnings] == ["disposition.calendar_gap"]


def test_forfeiture_between_prices_starts_on_the_next_price() -> None:
    history = PriceHistory((D0, D0 + timedelta(2), D0 + timedelta(3), D0 + timedelta(4)),
                           np.array([1.0, 2, 3, 4]))
    result = compare_dispositions(_batch("1", D0 + timedelta(1)), history, 2,
                                  DispositionParams(models=(H,)))
    assert result.start == D0 + timedelta(2)
    assert result.paths[H].proceeds_usd_at_horizon == 4


@pytest.mark.parametrize(("call", "error", "text"), [
    (lambda: _batch("0"), InvalidInput, "quantity must be positive"),
    (lambda: _batch("-1"), InvalidInput, "quantity must be positive"),
    (lambda: compare_dispositions(_batch(day=D0 - timedelta(1)), TINY, 3), InvalidInput,
     "forfeiture date 2023-12-31 is before the first price (2024-01-01)"),
    (lambda: compare_dispositions(_batch(day=D0 + timedelta(2)), TINY, 3, THREE_DAILY),
     InsufficientHistory, "needs prices to row 5; the history has 1 days after it"),
    (lambda: compare_dispositions(_batch(day=D0 + timedelta(9)), TINY, 3), InsufficientHistory,
     "no price on or after 2024-01-10"),
    (lambda: compare_dispositions(_batch(), TINY, 1), InvalidInput, "horizon_days must be"),
    (lambda: DispositionParams(management_fee=-0.01), InvalidInput,
     "management_fee is negative: -0.01"),
    (lambda: DispositionParams(performance_fee=-0.2), InvalidInput, "performance_fee is negative"),
    (lambda: DispositionParams(hurdle=-0.1), InvalidInput, "hurdle is negative"),
    (lambda: DispositionParams(management_fee=1.0), InvalidInput, "out of range"),
    (lambda: DispositionParams(adv_share=0.0), InvalidInput, "adv_share is out of range"),
    (lambda: DispositionParams(cash_rate=float("nan")), InvalidInput, "finite"),
    (lambda: DispositionParams(slices=0), InvalidInput, "slices must be a whole number"),
    (lambda: DispositionParams(spacing_days=True), InvalidInput, "spacing_days"),
    (lambda: DispositionParams(models=()), InvalidInput, "non-empty"),
    (lambda: DispositionParams(models=(A, A)), InvalidInput, "without repeats"),
    (lambda: DispositionParams(models=("sell",)), InvalidInput,  # type: ignore[arg-type]
     "models 'sell' is not one of: auction_on_forfeiture,"),
    (lambda: _history([1.0, 2.0], volume_unit="btc"), InvalidInput, "volume_unit 'btc'"),
    (lambda: _history([1.0]), InsufficientHistory, "at least 2 dates"),
    (lambda: _history([1.0, 0.0]), InvalidInput, "closes must be positive: 0.0 on 2024-01-02"),
    (lambda: _history([1.0, float("nan")]), InvalidInput, "closes must be finite"),
    (lambda: _history([1.0, 2.0], volumes=[1.0]), InvalidInput, "one value per date"),
    (lambda: _history([1.0, 2.0], volumes=[1.0, -1.0]), InvalidInput, "negative"),
    (lambda: _history([1.0, 2.0], cash_rates=[0.0, -1.0]), InvalidInput, "above -100 %"),
    (lambda: PriceHistory((D0, D0), np.array([1.0, 2.0])), InvalidInput,
     "strictly increasing: 2024-01-01 follows 2024-01-01"),
    (lambda: compare_over_history(Decimal(0), "BTC", TINY, 2), InvalidInput, "positive"),
    (lambda: compare_over_history(Decimal(1), "BTC", TINY, 2, first_start=D0 + timedelta(2)),
     InsufficientHistory, "the last such date is 2024-01-02"),
    (lambda: compare_over_history(Decimal(1), "BTC", TINY, 2, first_start=D0 + timedelta(1),
                                  last_start=D0), InvalidInput, "before first_start"),
])
def test_bad_input_names_the_cause(call: object, error: type[Exception], text: str) -> None:
    with pytest.raises(error, match=None) as caught:
        call()  # type: ignore[operator]
    assert text in str(caught.value)


@pytest.mark.realdata
@pytest.mark.skipif(not BTC_FILE.is_file(), reason="BTC-USD.csv is absent")
def test_real_btc_batch_forfeited_2022_11_21() -> None:
    import pandas as pd

    frame = pd.read_csv(BTC_FILE, parse_dates=["date"])
    frame = frame[frame["date"] >= "2022-01-01"]
    history = PriceHistory(tuple(d.date() for d in frame["date"]),
                           frame["close"].to_numpy(dtype=float),
                           volumes=frame["volume"].to_numpy(dtype=float),
                           volume_unit=VolumeUnit.USD)
    batch = DispositionBatch("BTC", Decimal(95), date(2022, 11, 21))
    result = compare_dispositions(batch, history, 365, DispositionParams(
        slices=12, spacing_days=30, management_fee=0.01, performance_fee=0.1))
    assert result.paths[H].dates[-1] == date(2023, 11, 21)
    assert result.paths[H].proceeds_usd_at_horizon == pytest.approx(95 * 35813.81, rel=1e-12)
    assert result.paths[A].proceeds_usd_at_horizon == pytest.approx(95 * 15787.28, rel=1e-12)
    assert result.best_by_proceeds is H  # BTC more than doubled over that year
    assert result.paths[S].days_to_cash == 330  # 95 BTC is far below 10 % of daily volume
    assert result.provenance.warnings == ()
    assert result.paths[H].worst_drawdown < -0.1 < result.paths[H].volatility
