"""Stress tests: hand-computed scenario P&L, replay sources, reverse stress, real windows."""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from qoima.adapters.scenario_files import read_stress_scenarios
from qoima.domain.enums import InstrumentKind
from qoima.domain.errors import InvalidInput, UnknownScenario
from qoima.market.series import Series
from qoima.risk.positions import FactorLoading, RiskBook, RiskPosition
from qoima.risk.scenarios import (
    BUILTIN_SCENARIOS,
    HISTORICAL,
    HYPOTHETICAL,
    HistoricalScenario,
    HypotheticalScenario,
    ScenarioExtras,
    get_scenario,
    resolve_moves,
)
from qoima.risk.stress import (
    REVERSE_FLOOR,
    reverse_stress,
    run_stress,
    run_stress_grid,
)

K = InstrumentKind
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def pos(key: str, kind: InstrumentKind, value: float, loadings: dict[str, float], *,
        vehicle: str = "sleeve", crypto: bool = False, residual: str | None = None,
        local: str = "USD", code: str | None = None) -> RiskPosition:
    return RiskPosition(key, code or key, kind, vehicle, value,
                        tuple(FactorLoading(f, b) for f, b in loadings.items()),
                        residual=residual, crypto=crypto, local_currency=local)


def book(*positions: RiskPosition, usd_kzt: float | None = None) -> RiskBook:
    return RiskBook(date(2026, 10, 30), positions, usd_kzt)


def sample_book() -> RiskBook:
    return book(
        pos("btc", K.TOKEN, 100.0, {"BTC": 1.0}, vehicle="fund", crypto=True),
        pos("ibit", K.ETF, 200.0, {"BTC": 1.0}, crypto=True, residual="IBIT:resid"),
        pos("coin", K.EQUITY, 50.0, {"BTC": 1.5, "SPX": 1.0}, crypto=True,
            residual="COIN:resid"),
        pos("ust", K.BOND, 1000.0, {"DGS10": -0.05}, vehicle="fx"),
        pos("gold", K.GOLD, 300.0, {"XAU": 1.0}, vehicle="fx"),
    )


def by_key(result: Any) -> dict[str, Any]:
    return {p.key: p for p in result.positions}


# --- hypothetical shocks, by hand -------------------------------------------------------

def test_btc_minus_50_by_hand() -> None:
    result = run_stress(sample_book(), get_scenario("btc-minus-50"))
    rows = by_key(result)
    assert rows["btc"].pnl_usd == pytest.approx(-50.0)
    assert rows["ibit"].pnl_usd == pytest.approx(-100.0)  # the ETF through its loading
    assert rows["coin"].pnl_usd == pytest.approx(-37.5)  # 50 * 1.5 * -0.5, SPX unchanged
    assert rows["ust"].pnl_usd == 0.0 and rows["gold"].pnl_usd == 0.0
    assert result.total_pnl_usd == pytest.approx(-187.5)
    assert result.crypto_pnl_usd == pytest.approx(-187.5)
    assert result.vehicle_pnl_usd == pytest.approx({"fund": -50.0, "fx": 0.0,
                                                    "sleeve": -137.5})
    assert result.share_of_reserves == pytest.approx(-187.5 / 1650.0)
    assert result.move_sources["BTC"] == "scenario"
    assert result.move_sources["SPX"] == "unchanged"
    assert result.move_sources["IBIT:resid"] == "residual"
    assert result.total_pnl_kzt is None  # the book has no tenge rate
    assert result.window is None and result.kind == "hypothetical"
    assert result.provenance.method == "stress-hypothetical"


def test_shares_use_the_given_total_reserves() -> None:
    result = run_stress(sample_book(), get_scenario("btc-minus-50"), total_reserves_usd=10_000)
    assert result.share_of_reserves == pytest.approx(-0.01875)
    assert result.crypto_share_of_reserves == pytest.approx(-0.01875)
    assert result.vehicles_pnl_usd({"fund", "fx"}) == pytest.approx(-50.0)


def test_etf_discount_and_haircut_on_stressed_value() -> None:
    result = run_stress(sample_book(), get_scenario("etf-discount-outflows"))
    ibit = by_key(result)["ibit"]
    assert ibit.market_pnl_usd == pytest.approx(-40.0)
    assert ibit.extra_pnl_usd == pytest.approx(-0.07 * 160.0)  # (5 % + 2 %) of 160
    assert by_key(result)["coin"].extra_pnl_usd == 0.0  # equities are not ETFs
    assert by_key(result)["btc"].extra_pnl_usd == 0.0


def test_beta_amplification_hits_crypto_equities_only() -> None:
    result = run_stress(sample_book(), get_scenario("crypto-equity-contagion"))
    rows = by_key(result)
    assert rows["coin"].pnl_usd == pytest.approx(50 * (1.5 * 1.5 * -0.30 + 1.0 * -0.10))
    assert rows["btc"].pnl_usd == pytest.approx(-30.0)
    assert rows["ibit"].pnl_usd == pytest.approx(-60.0)


def test_kzt_view_by_hand() -> None:
    tenge = book(pos("kzt", K.CASH, 100.0, {"USD/KZT": -1.0}, vehicle="fx", local="KZT"),
                 pos("btc", K.TOKEN, 100.0, {"BTC": 1.0}, crypto=True), usd_kzt=500.0)
    result = run_stress(tenge, get_scenario("dollar-spike"))
    rows = by_key(result)
    assert rows["kzt"].pnl_usd == pytest.approx(-15.0)  # tenge 15 % weaker in USD
    assert rows["btc"].pnl_usd == pytest.approx(-20.0)
    # in tenge: the tenge cash is unchanged, BTC is 100 * 500 * (0.8 * 1.15 - 1)
    assert result.total_pnl_kzt == pytest.approx(100 * 500 * (0.8 * 1.15 - 1))
    assert result.vehicle_pnl_kzt == pytest.approx({"fx": 0.0,
                                                    "sleeve": 100 * 500 * (0.8 * 1.15 - 1)})


def test_kzt_view_includes_the_etf_extra_at_the_stressed_rate() -> None:
    scenario = HypotheticalScenario("x", "", {"BTC": -0.5, "USD/KZT": 0.1},
                                    ScenarioExtras(etf_discount=0.1))
    etf = book(pos("ibit", K.ETF, 100.0, {"BTC": 1.0}, crypto=True), usd_kzt=400.0)
    result = run_stress(etf, scenario)
    # market: 100*400*(0.5*1.1 - 1) = -18,000; extra: -0.1*50 USD at 440 KZT = -2,200
    assert result.total_pnl_kzt == pytest.approx(-18_000 - 2_200)


def test_hypothetical_without_tenge_move_keeps_the_rate() -> None:
    tenge = book(pos("btc", K.TOKEN, 100.0, {"BTC": 1.0}, crypto=True), usd_kzt=500.0)
    result = run_stress(tenge, get_scenario("btc-minus-50"))
    assert result.move_sources["USD/KZT"] == "unchanged"
    assert result.total_pnl_kzt == pytest.approx(-50.0 * 500)


# --- historical replay ------------------------------------------------------------------

def daily(start: date, closes: Sequence[float], step: int = 1
          ) -> tuple[list[date], list[float]]:
    return [start + timedelta(days=step * k) for k in range(len(closes))], list(closes)


WINDOW = HistoricalScenario("w", date(2024, 3, 4), date(2024, 3, 10), "test window",
                            {"BTC": -0.5, "SPX": -0.2, "ETH": -0.6})


def test_replay_uses_history_then_recorded_moves() -> None:
    # BTC: close on/before 4 Mar is 100 (4 Mar), on/before 10 Mar is 70 -> -30 %
    history = {"BTC": daily(date(2024, 3, 1), [90, 95, 98, 100, 60, 80, 85, 90, 75, 70])}
    result = run_stress(sample_book(), WINDOW, history=history)
    assert result.factor_moves["BTC"] == pytest.approx(-0.30)
    assert result.move_sources["BTC"] == "history"
    assert result.factor_moves["SPX"] == pytest.approx(-0.2)
    assert result.move_sources["SPX"] == "recorded"
    assert by_key(result)["coin"].pnl_usd == pytest.approx(50 * (1.5 * -0.3 + -0.2))
    assert set(result.proxied_factors) >= {"SPX"}
    assert result.window == (date(2024, 3, 4), date(2024, 3, 10))


def test_replay_takes_the_last_close_before_a_weekend_start() -> None:
    # weekly closes on Fridays: 1 Mar (100) covers a Monday 4 Mar start, 8 Mar (80) the end
    history = {"BTC": daily(date(2024, 2, 23), [110, 100, 80], step=7)}
    moves = resolve_moves(WINDOW, ["BTC"], history=history)
    assert moves.moves["BTC"] == pytest.approx(-0.2)
    assert moves.sources["BTC"] == "history"


def test_stale_or_late_history_falls_back_on_recorded_moves() -> None:
    late = {"BTC": daily(date(2024, 3, 5), [100, 90, 80, 70, 60, 50])}  # starts after start
    stale = {"BTC": daily(date(2024, 2, 20), [100, 90])}  # ends long before the end
    for history in (late, stale):
        moves = resolve_moves(WINDOW, ["BTC"], history=history)
        assert moves.sources["BTC"] == "recorded" and moves.moves["BTC"] == -0.5


def test_rates_replay_in_percentage_points() -> None:
    history = {"DGS10": daily(date(2024, 3, 4), [4.20, 4.10, 3.95, 3.90, 3.90, 3.90, 3.70])}
    moves = resolve_moves(WINDOW, ["DGS10"], history=history)
    assert moves.moves["DGS10"] == pytest.approx(-0.50)
    result = run_stress(sample_book(), WINDOW, history=history)
    assert by_key(result)["ust"].pnl_usd == pytest.approx(1000 * -0.05 * -0.50)


def test_missing_factor_is_zero_with_a_warning_and_proxies_fill_etfs() -> None:
    etf_self = pos("fbtc", K.ETF, 100.0, {"FBTC": 1.0}, crypto=True)  # mapped to itself
    gold = pos("gold", K.GOLD, 100.0, {"XAU": 1.0})
    result = run_stress(book(etf_self, gold), WINDOW)
    assert result.move_sources["FBTC"] == "proxy"
    assert result.factor_moves["FBTC"] == pytest.approx(-0.5)  # moved with BTC
    assert result.move_sources["XAU"] == "missing"
    rules = [w.rule for w in result.provenance.warnings]
    assert rules == ["risk.stress_missing_factor"]  # XAU only: USD/KZT is optional here
    assert result.total_pnl_usd == pytest.approx(-50.0)


def test_path_mode_finds_the_worst_day() -> None:
    history = {"BTC": daily(date(2024, 3, 4), [100, 60, 80, 85, 90, 75, 70])}
    btc = book(pos("btc", K.TOKEN, 1000.0, {"BTC": 1.0}, crypto=True))
    result = run_stress(btc, WINDOW, history=history, path=True)
    assert result.worst_date == date(2024, 3, 5)
    assert result.worst_pnl_usd == pytest.approx(-400.0)
    assert result.total_pnl_usd == pytest.approx(-300.0)
    assert run_stress(btc, WINDOW, history=history).worst_date is None
    assert run_stress(btc, WINDOW, path=True).worst_date is None  # no path without history


def test_path_mode_proxies_follow_their_base_day_by_day() -> None:
    history = {"BTC": daily(date(2024, 3, 4), [100, 60, 80, 85, 90, 75, 70])}
    etf = book(pos("ibit", K.ETF, 1000.0, {"IBIT": 1.0}, crypto=True))
    result = run_stress(etf, WINDOW, history=history, path=True)
    assert result.move_sources["IBIT"] == "proxy"
    assert result.worst_pnl_usd == pytest.approx(-400.0)


def test_bad_history_and_bad_inputs_are_clear_errors() -> None:
    btc = book(pos("btc", K.TOKEN, 100.0, {"BTC": 1.0}))
    unsorted = {"BTC": ([date(2024, 3, 5), date(2024, 3, 4)], [1.0, 2.0])}
    with pytest.raises(InvalidInput, match="increasing"):
        run_stress(btc, WINDOW, history=unsorted)
    with pytest.raises(InvalidInput, match="NaN"):
        run_stress(btc, WINDOW, history={"BTC": daily(date(2024, 3, 4), [1.0, np.nan])})
    with pytest.raises(InvalidInput, match="undefined"):
        run_stress(btc, WINDOW, history={"BTC": daily(date(2024, 3, 4), [0.0, 1.0])})
    # a negative close outside the window (WTI in April 2020) is no obstacle
    ok = {"BTC": daily(date(2024, 2, 1), [-5.0] + [1.0] * 32 + [2.0] * 7)}
    assert run_stress(btc, WINDOW, history=ok).factor_moves["BTC"] == pytest.approx(1.0)
    with pytest.raises(InvalidInput, match="dates but"):
        run_stress(btc, WINDOW, history={"BTC": ([date(2024, 3, 4)], [1.0, 2.0])})
    with pytest.raises(InvalidInput, match="positive"):
        run_stress(btc, WINDOW, total_reserves_usd=0.0)
    with pytest.raises(InvalidInput, match="100 %"):
        HypotheticalScenario("x", "", {"BTC": -1.0})
    with pytest.raises(InvalidInput, match="finite"):
        HypotheticalScenario("x", "", {"BTC": float("nan")})
    with pytest.raises(InvalidInput, match="not after"):
        HistoricalScenario("x", date(2024, 1, 2), date(2024, 1, 2), "")
    with pytest.raises(InvalidInput, match="below 1"):
        ScenarioExtras(etf_discount=0.6, etf_liquidity_haircut=0.5)
    assert HypotheticalScenario("r", "", {"DGS10": -1.5}).moves["DGS10"] == -1.5  # pp


def test_unknown_scenario_lists_the_available_names() -> None:
    with pytest.raises(UnknownScenario) as caught:
        get_scenario("tulip-mania")
    assert "covid-2020" in str(caught.value) and "oil-crash-tenge" in str(caught.value)
    assert caught.value.details["available"] == tuple(s.name for s in BUILTIN_SCENARIOS)


def test_library_has_the_issue_windows_and_shocks() -> None:
    assert [s.name for s in HISTORICAL] == ["covid-2020", "china-mining-ban-2021", "luna-2022",
                                          "ftx-2022", "btc-fall-nov-2025"]
    assert len(HYPOTHETICAL) == 5
    assert get_scenario("btc-minus-50").moves["BTC"] == -0.5  # type: ignore[union-attr]


def test_example_file_repeats_the_builtin_shocks() -> None:
    from_file = {s.name: s for s in read_stress_scenarios(EXAMPLES / "stress-scenarios.yaml")}
    for scenario in HYPOTHETICAL:
        assert from_file[scenario.name].moves == pytest.approx(scenario.moves)  # type: ignore[union-attr]
        assert from_file[scenario.name].extra == scenario.extra  # type: ignore[union-attr]


# --- grids ------------------------------------------------------------------------------

class PicklingEngine:
    """Stands in for a distributed engine: everything crosses a pickle boundary."""

    def map(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterable[Any]:
        remote = pickle.loads(pickle.dumps(fn))
        return [pickle.loads(pickle.dumps(remote(pickle.loads(pickle.dumps(t)))))
                for t in tasks]


def test_grid_in_process_and_through_an_engine_agree() -> None:
    local = run_stress_grid(sample_book(), BUILTIN_SCENARIOS, total_reserves_usd=5000.0)
    remote = run_stress_grid(sample_book(), BUILTIN_SCENARIOS, engine=PicklingEngine(),
                             total_reserves_usd=5000.0)
    assert [r.scenario for r in local.results] == [s.name for s in BUILTIN_SCENARIOS]
    assert [r.total_pnl_usd for r in local.results] == [r.total_pnl_usd for r in remote.results]
    assert local.worst.scenario == "btc-minus-50"
    assert local.result("ftx-2022").total_reserves_usd == 5000.0
    assert remote.provenance.parameters["engine"] == "PicklingEngine"
    with pytest.raises(UnknownScenario):
        local.result("nope")
    with pytest.raises(InvalidInput, match="unique"):
        run_stress_grid(sample_book(), [HYPOTHETICAL[0], HYPOTHETICAL[0]])
    with pytest.raises(InvalidInput, match="no scenarios"):
        run_stress_grid(sample_book(), [])


# --- reverse stress ---------------------------------------------------------------------

def linear_book() -> RiskBook:
    return book(pos("btc", K.TOKEN, 1000.0, {"BTC": 1.0}, crypto=True),
                pos("eth", K.TOKEN, 500.0, {"ETH": 1.0}, vehicle="tokens", crypto=True),
                pos("ust", K.BOND, 10_000.0, {"DGS10": -0.05}, vehicle="fx"))


def test_reverse_stress_on_a_linear_book_is_limit_over_exposure() -> None:
    result = reverse_stress(linear_book(), 400.0)
    exposure = 1000.0 + 1.2 * 500.0  # USD lost per unit BTC fall (ETH moves 1.2x)
    assert result.reachable and result.btc_move is not None
    assert result.btc_move == pytest.approx(-400.0 / exposure, abs=1e-10)
    assert result.loss_usd == pytest.approx(400.0)
    assert result.factor_moves["ETH"] == pytest.approx(1.2 * result.btc_move)
    assert result.loss_at_floor_usd == pytest.approx(0.99 * exposure)
    assert result.provenance.method == "reverse-stress"


def test_reverse_stress_not_reachable_and_sub_books() -> None:
    too_far = reverse_stress(linear_book(), 2000.0)  # would need BTC -125 %
    assert not too_far.reachable and too_far.btc_move is None
    assert too_far.loss_usd == pytest.approx(0.99 * 1600.0)
    assert too_far.factor_moves["BTC"] == REVERSE_FLOOR
    only_eth = reverse_stress(linear_book(), 300.0, vehicle="tokens")
    assert only_eth.btc_move == pytest.approx(-300.0 / 600.0)
    assert only_eth.scope == "vehicle tokens"
    no_co = reverse_stress(linear_book(), 300.0, co_moves={})
    assert no_co.btc_move == pytest.approx(-0.3)
    bonds = reverse_stress(linear_book(), 1.0, crypto=False)
    assert not bonds.reachable and bonds.loss_at_floor_usd == 0.0


def test_reverse_stress_moves_etfs_through_proxies_and_refuses_bad_limits() -> None:
    etf = book(pos("ibit", K.ETF, 1000.0, {"IBIT": 1.0}, crypto=True))
    assert reverse_stress(etf, 250.0).btc_move == pytest.approx(-0.25)
    short = book(pos("short", K.TOKEN, -1000.0, {"BTC": 1.0}, crypto=True))
    assert not reverse_stress(short, 10.0).reachable  # a falling BTC makes money
    for bad in (0.0, -5.0, float("inf")):
        with pytest.raises(InvalidInput, match="loss limit"):
            reverse_stress(linear_book(), bad)


# --- real history -----------------------------------------------------------------------

FILES = {"BTC": "BTC-USD", "ETH": "ETH-USD", "BNB": "BNB-USD", "SOL": "SOL-USD", "SPX": "SPX",
         "XAU": "GOLD", "DXY": "DXY", "WTI": "WTI", "USD/KZT": "USDKZT", "DGS10": "DGS10",
         "DGS2": "DGS2", "COIN": "COIN", "MSTR": "MSTR", "IBIT": "IBIT", "FBTC": "FBTC",
         "ETHA": "ETHA"}


def as_history(series: Series) -> tuple[list[date], list[float]]:
    return [b.day for b in series.bars], [float(b.close) for b in series.bars]


def on_or_before(history: tuple[list[date], list[float]], day: date) -> tuple[date, float]:
    days, closes = history
    k = max(i for i, d in enumerate(days) if d <= day)
    return days[k], closes[k]


@pytest.mark.realdata
def test_recorded_moves_match_the_real_files(real_series: Callable[[str], Series]) -> None:
    histories = {f: as_history(real_series(stem)) for f, stem in FILES.items()}
    file_scenarios = read_stress_scenarios(EXAMPLES / "stress-scenarios.yaml")
    windows = [*HISTORICAL, *(s for s in file_scenarios if isinstance(s, HistoricalScenario))]
    for scenario in windows:
        assert scenario.recorded_moves, scenario.name
        for factor, recorded in scenario.recorded_moves.items():
            d0, x0 = on_or_before(histories[factor], scenario.start_date)
            d1, x1 = on_or_before(histories[factor], scenario.end_date)
            assert (scenario.start_date - d0).days <= 5 and (scenario.end_date - d1).days <= 5
            measured = x1 - x0 if factor in ("DGS10", "DGS2") else x1 / x0 - 1
            assert recorded == pytest.approx(measured, abs=1e-4), (scenario.name, factor)
        # the replay from the same files reproduces them, factor by factor
        replay = resolve_moves(scenario, list(scenario.recorded_moves), history=histories)
        assert set(replay.sources.values()) == {"history"}
        for factor, recorded in scenario.recorded_moves.items():
            assert replay.moves[factor] == pytest.approx(recorded, abs=1e-4)


@pytest.mark.realdata
def test_nov_2025_btc_etf_loss_equals_its_underlying_within_tracking(
        real_series: Callable[[str], Series]) -> None:
    btc, ibit = as_history(real_series("BTC-USD")), as_history(real_series("IBIT"))
    scenario = get_scenario("btc-fall-nov-2025")
    etf = book(pos("ibit", K.ETF, 1_000_000.0, {"BTC": 1.0}, crypto=True,
                   residual="IBIT:resid"))
    result = run_stress(etf, scenario, history={"BTC": btc, "IBIT": ibit})
    assert result.move_sources["BTC"] == "history"
    own = resolve_moves(scenario, ["IBIT"], history={"IBIT": ibit}).moves["IBIT"]
    assert result.total_pnl_usd / 1_000_000.0 == pytest.approx(own, abs=0.01)
    assert result.total_pnl_usd == pytest.approx(-230_920.0, abs=50.0)  # 110,640 -> 85,091


@pytest.mark.realdata
def test_covid_replay_from_real_history_has_a_worst_day(
        real_series: Callable[[str], Series]) -> None:
    history = {"BTC": as_history(real_series("BTC-USD")), "SPX": as_history(real_series("SPX"))}
    token = book(pos("btc", K.TOKEN, 1000.0, {"BTC": 1.0}, crypto=True))
    result = run_stress(token, get_scenario("covid-2020"), history=history, path=True)
    assert result.worst_date == date(2020, 3, 12)  # BTC's -37 % day: 9,633 -> 4,971
    assert result.worst_pnl_usd == pytest.approx(1000.0 * (4970.788 / 9633.387 - 1))
    assert result.provenance.warnings == ()
    # with equities the trough moves to 16 Mar, when the S&P 500 had fallen further
    equity = book(pos("coin", K.EQUITY, 1000.0, {"BTC": 1.0, "SPX": 1.0}, crypto=True))
    both = run_stress(equity, get_scenario("covid-2020"), history=history, path=True)
    assert both.worst_date == date(2020, 3, 16)
    assert both.worst_pnl_usd == pytest.approx(both.total_pnl_usd)
