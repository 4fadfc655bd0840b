"""Tests of engine.metrics: hand-computed examples, edge cases, JSON safety, properties."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from pandas.tseries.holiday import (
    AbstractHolidayCalendar, GoodFriday, Holiday, USLaborDay, USMartinLutherKingJr, USMemorialDay,
    USPresidentsDay, USThanksgivingDay, nearest_workday,
)

from engine.metrics import METRIC_SPECS, MetricSpec, compute_metrics, drawdown_pct, format_metric
from engine.enums import ExitReason, Side
from engine.records import TradeRecord

DAY = np.timedelta64(86400, "s")
HOUR = np.timedelta64(3600, "s")
T0 = np.datetime64("2024-01-01T00:00:00", "ns")


def times(n: int, step: np.timedelta64 = DAY, start: np.datetime64 = T0) -> np.ndarray:
    return (start + np.arange(n) * step).astype("datetime64[ns]")


def trade(no, pnl, *, entry=0, exit=1, pnl_pct=0.0, fees=0.0, slippage=0.0, mfe=0.0, mae=0.0, side=Side.LONG):
    return TradeRecord(
        trade_no=no, side=side, entry_bar=entry, exit_bar=exit, entry_price=100.0, exit_price=100.0,
        size=1.0, pnl=pnl, pnl_pct=pnl_pct, fees=fees, slippage=slippage,
        exit_reason=ExitReason.SIGNAL, mfe_pct=mfe, mae_pct=mae,
    )


def metrics(trades, equity, ts=None, *, initial=1000.0, first=100.0, last=100.0, in_market=0):
    equity = np.asarray(equity, dtype=float)
    return compute_metrics(
        trades, equity, times(len(equity)) if ts is None else ts,
        initial_balance=initial, first_price=first, last_price=last, bars_in_market=in_market,
    )


# --- hand-computed example ------------------------------------------------------

# initial 1000; peak 1100 at bar 1, under water at bars 2 and 3, new peak at bar 4.
EQ5 = [1000.0, 1100.0, 990.0, 1045.0, 1210.0]
TRADES3 = [
    trade(1, 100.0, entry=0, exit=1, pnl_pct=10.0, fees=1.0, slippage=0.5, mfe=12.0, mae=-1.0),
    trade(2, 150.0, entry=1, exit=3, pnl_pct=14.0, fees=1.5, slippage=0.25, mfe=15.0, mae=-3.0),
    trade(3, -50.0, entry=3, exit=4, pnl_pct=-4.5, fees=1.0, slippage=0.5, mfe=2.0, mae=-6.0),
]


@pytest.fixture
def m5():
    return metrics(TRADES3, EQ5, times(5, HOUR), first=100.0, last=130.0, in_market=4)


def test_hand_example_returns_and_drawdown(m5):
    assert m5["total_return_pct"] == pytest.approx((1210 / 1000 - 1) * 100)  # 21 %
    assert m5["max_drawdown_pct"] == pytest.approx((990 - 1100) / 1100 * 100)  # -10 %
    assert m5["max_drawdown_duration_bars"] == 2
    assert m5["max_drawdown_duration_days"] == pytest.approx(3 / 24)  # peak 01:00 to recovery 04:00
    assert m5["periods_per_year"] == pytest.approx(365.25 * 24)  # under a week: around the clock
    years = 5 / (365.25 * 24)  # 4 hours first-to-last + one bar
    cagr = (1.21 ** (1 / years) - 1) * 100
    assert m5["cagr_pct"] == pytest.approx(cagr)
    assert m5["calmar"] == pytest.approx(cagr / 10.0)
    assert m5["buy_hold_return_pct"] == pytest.approx(30.0)
    assert m5["exposure_pct"] == pytest.approx(80.0)
    assert m5["final_equity"] == 1210.0
    assert m5["peak_equity"] == 1210.0
    assert m5["bars"] == 5
    assert m5["start"] == "2024-01-01T00:00:00+00:00"
    assert m5["end"] == "2024-01-01T04:00:00+00:00"


def test_hand_example_trades(m5):
    assert m5["trades"] == 3
    assert m5["win_rate_pct"] == pytest.approx(2 / 3 * 100)
    assert m5["profit_factor"] == pytest.approx((100 + 150) / 50)
    assert m5["expectancy"] == pytest.approx((100 + 150 - 50) / 3)
    assert m5["avg_win"] == pytest.approx((100 + 150) / 2)
    assert m5["avg_loss"] == pytest.approx(-50.0)
    assert m5["best_trade_pct"] == 14.0
    assert m5["worst_trade_pct"] == -4.5
    assert m5["avg_duration_bars"] == pytest.approx((1 + 2 + 1) / 3)
    assert m5["avg_duration_hours"] == pytest.approx((1 + 2 + 1) / 3)  # entry to exit timestamps
    assert m5["total_fees"] == pytest.approx(3.5)
    assert m5["total_slippage"] == pytest.approx(1.25)
    assert m5["avg_mfe_pct"] == pytest.approx((12 + 15 + 2) / 3)
    assert m5["avg_mae_pct"] == pytest.approx((-1 - 3 - 6) / 3)
    assert m5["longest_win_streak"] == 2
    assert m5["longest_loss_streak"] == 1
    mean = 200 / 3
    std = math.sqrt(((100 - mean) ** 2 + (150 - mean) ** 2 + (-50 - mean) ** 2) / 2)
    assert m5["sqn"] == pytest.approx(math.sqrt(3) * mean / std)


def test_hand_example_sharpe_sortino_on_hourly_bars(m5):
    r = np.array([1000 / 1000 - 1, 1100 / 1000 - 1, 990 / 1100 - 1, 1045 / 990 - 1, 1210 / 1045 - 1])
    ppy = 365.25 * 24
    std = math.sqrt(((r - r.mean()) ** 2).sum() / 4)
    assert m5["volatility_ann_pct"] == pytest.approx(std * math.sqrt(ppy) * 100)
    assert m5["sharpe"] == pytest.approx(r.mean() / std * math.sqrt(ppy))
    downside = math.sqrt((990 / 1100 - 1) ** 2 / 5)  # only bar 2 lost
    assert m5["sortino"] == pytest.approx(r.mean() / downside * math.sqrt(ppy))


def test_sharpe_and_sortino_by_hand_on_tiny_series():
    # returns +10 %, -10 %, +10 % (the first relative to the initial balance)
    m = metrics([], [110.0, 99.0, 108.9], times(3, DAY), initial=100.0)
    # mean 1/30; std(ddof=1) = sqrt(((1/15)^2 * 2 + (2/15)^2) / 2) = sqrt(3)/15
    # downside deviation = sqrt(0.1^2 / 3) = 0.1/sqrt(3)
    assert m["sharpe"] == pytest.approx((1 / 30) / (math.sqrt(3) / 15) * math.sqrt(365.25))
    assert m["sortino"] == pytest.approx((1 / 30) / (0.1 / math.sqrt(3)) * math.sqrt(365.25))
    assert m["volatility_ann_pct"] == pytest.approx(math.sqrt(3) / 15 * math.sqrt(365.25) * 100)
    assert m["max_drawdown_pct"] == pytest.approx(-10.0)
    assert m["max_drawdown_duration_bars"] == 2  # 99 and 108.9 both below 110
    assert m["max_drawdown_duration_days"] == pytest.approx(2.0)  # peak bar 0 to the last bar


def test_first_return_is_relative_to_initial_balance():
    # equity 100, 110 from an initial 50: returns are +100 % and +10 %
    m = metrics([], [100.0, 110.0], times(2, DAY), initial=50.0)
    r = np.array([1.0, 0.1])
    assert m["sharpe"] == pytest.approx(r.mean() / r.std(ddof=1) * math.sqrt(365.25))


def test_cagr_on_two_year_daily_series():
    # 731 daily bars: 730 days first-to-last + one bar = 731 days = 2.0014 years of 365.25 days
    eq = np.linspace(100.0, 121.0, 731)
    m = metrics([], eq, times(731, DAY), initial=100.0)
    assert m["periods_per_year"] == pytest.approx(365.25)
    assert m["cagr_pct"] == pytest.approx((1.21 ** (365.25 / 731) - 1) * 100)
    assert m["total_return_pct"] == pytest.approx(21.0)
    assert m["max_drawdown_pct"] == 0.0
    assert m["calmar"] is None


def test_cagr_on_one_year_of_six_hour_bars_with_a_loss():
    # 1461 six-hour bars: 1460 quarter days first-to-last + one bar = 365.25 days
    eq = np.linspace(100.0, 64.0, 1461)
    m = metrics([], eq, times(1461, np.timedelta64(6, "h")), initial=100.0)
    assert m["periods_per_year"] == pytest.approx(1461.0)
    assert m["cagr_pct"] == pytest.approx(-36.0)
    assert m["calmar"] == pytest.approx(-36.0 / 36.0)


def test_drawdown_duration_runs_to_the_end_when_never_recovered():
    m = metrics([], [1000.0, 1100.0, 1050.0, 1000.0, 1090.0])
    assert m["max_drawdown_duration_bars"] == 3
    assert m["max_drawdown_duration_days"] == pytest.approx(3.0)  # peak bar 1 to the last bar
    assert m["max_drawdown_pct"] == pytest.approx((1000 - 1100) / 1100 * 100)


def test_longest_drawdown_is_not_the_deepest():
    # a shallow 4-bar dip, then a deep 1-bar dip
    eq = [100.0, 99.0, 99.0, 99.0, 99.0, 101.0, 50.0, 102.0]
    m = metrics([], eq, initial=100.0)
    assert m["max_drawdown_duration_bars"] == 4
    assert m["max_drawdown_pct"] == pytest.approx((50 - 101) / 101 * 100)


def test_equity_opening_below_initial_balance_is_in_drawdown():
    m = metrics([], [950.0, 980.0, 1010.0], initial=1000.0)
    assert m["max_drawdown_pct"] == pytest.approx(-5.0)
    assert m["max_drawdown_duration_bars"] == 2
    assert m["peak_equity"] == 1010.0
    np.testing.assert_allclose(drawdown_pct(np.array([950.0, 980.0, 1010.0]), initial=1000.0), [-5.0, -2.0, 0.0])
    np.testing.assert_array_equal(drawdown_pct(np.array([950.0, 980.0, 1010.0])), [0.0, 0.0, 0.0])


def test_peak_equity_counts_the_initial_balance():
    m = metrics([], [900.0, 950.0], initial=1000.0)
    assert m["peak_equity"] == 1000.0
    assert m["final_equity"] == 950.0


# --- the data's own calendar ---------------------------------------------------


class _StockHolidays(AbstractHolidayCalendar):
    # Nine NYSE-style holidays: with weekends gone, about 252 sessions a year.
    rules = [
        Holiday("New Year", month=1, day=1, observance=nearest_workday),
        USMartinLutherKingJr, USPresidentsDay, GoodFriday, USMemorialDay,
        Holiday("Independence Day", month=7, day=4, observance=nearest_workday),
        USLaborDay, USThanksgivingDay,
        Holiday("Christmas", month=12, day=25, observance=nearest_workday),
    ]


def stock_days(start: str, end: str) -> pd.DatetimeIndex:
    return pd.bdate_range(start, end, freq="C", holidays=_StockHolidays().holidays(start, end), tz="UTC")


def random_walk(n: int, seed: int = 7) -> np.ndarray:
    return 1000.0 * np.cumprod(1.0 + np.random.default_rng(seed).normal(0.0005, 0.01, n))


def test_daily_stock_data_is_annualised_at_about_252_sessions():
    idx = stock_days("2019-01-01", "2023-12-31")
    eq = random_walk(len(idx))
    m = metrics([], eq, idx, initial=1000.0)
    span_years = (idx[-1] - idx[0]).total_seconds() / (365.25 * 86400)
    ppy = (len(idx) - 1) / span_years
    assert abs(ppy - 252) < 2
    assert m["periods_per_year"] == pytest.approx(ppy)
    r = np.diff(np.concatenate(([1000.0], eq))) / np.concatenate(([1000.0], eq[:-1]))
    assert m["sharpe"] == pytest.approx(r.mean() / r.std(ddof=1) * math.sqrt(ppy))
    assert m["volatility_ann_pct"] == pytest.approx(r.std(ddof=1) * math.sqrt(ppy) * 100)
    # CAGR over calendar time: the span plus one average bar, not bars / 365
    years = len(idx) / ppy
    assert m["cagr_pct"] == pytest.approx(((eq[-1] / 1000.0) ** (1 / years) - 1) * 100)


@pytest.mark.parametrize(
    "freq, periods, ppy",
    [("D", 800, 365.25), ("h", 24 * 40, 365.25 * 24), ("15min", 4 * 24 * 10, 365.25 * 96)],
)
def test_round_the_clock_data_is_annualised_at_its_bar_count(freq, periods, ppy):
    idx = pd.date_range("2023-01-01", periods=periods, freq=freq, tz="UTC")
    m = metrics([], random_walk(periods), idx)
    assert m["periods_per_year"] == pytest.approx(ppy)


def test_hourly_stock_sessions_are_annualised_at_their_own_count():
    days = stock_days("2022-01-01", "2023-12-31")
    idx = pd.DatetimeIndex([d + pd.Timedelta(hours=14, minutes=30) + pd.Timedelta(hours=h)
                            for d in days for h in range(7)])  # 7 bars a session
    m = metrics([], random_walk(len(idx)), idx)
    assert abs(m["periods_per_year"] - 7 * 252) < 7 * 2


def test_a_span_under_a_week_counts_as_round_the_clock_at_the_smallest_gap():
    # Friday, Monday, Tuesday: the weekend gap would halve a density estimate
    idx = pd.DatetimeIndex(["2024-01-05", "2024-01-08", "2024-01-09"], tz="UTC")
    m = metrics([], [1000.0, 1010.0, 1005.0], idx)
    assert m["periods_per_year"] == pytest.approx(365.25)
    assert m["cagr_pct"] == pytest.approx((1.005 ** (365.25 / 3) - 1) * 100)


def test_no_calendar_without_elapsed_time():
    ts = np.array(["2024-01-01"] * 3, dtype="datetime64[ns]")
    m = metrics([], [1000.0, 1010.0, 1005.0], ts)
    for key in ("periods_per_year", "cagr_pct", "sharpe", "sortino", "volatility_ann_pct", "calmar"):
        assert m[key] is None, key


def test_a_trade_over_a_weekend_lasts_its_calendar_time():
    idx = pd.DatetimeIndex(["2024-01-04", "2024-01-05", "2024-01-08", "2024-01-09"], tz="UTC")
    m = metrics([trade(1, 5.0, entry=1, exit=2)], [1000.0, 1000.0, 1005.0, 1005.0], idx)
    assert m["avg_duration_bars"] == 1.0
    assert m["avg_duration_hours"] == pytest.approx(72.0)  # Friday to Monday


def test_longest_drawdown_in_time_runs_from_peak_bar_to_recovery_bar():
    day = pd.Timedelta(days=1)
    t0 = pd.Timestamp("2024-01-01", tz="UTC")
    idx = pd.DatetimeIndex([t0 + k * day for k in (0, 1, 3, 10, 11, 40)])
    # peak 110 at day 1; under water on days 3 and 10; back above on day 11 (a 2-bar
    # drawdown of 10 days); then 108 < 111 on day 40 (a 1-bar drawdown of 29 days)
    m = metrics([], [100.0, 110.0, 105.0, 100.0, 111.0, 108.0], idx, initial=100.0)
    assert m["max_drawdown_duration_bars"] == 2
    assert m["max_drawdown_duration_days"] == pytest.approx(29.0)


def test_drawdown_opening_under_the_starting_balance_starts_at_the_first_bar():
    idx = pd.DatetimeIndex(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-09"], tz="UTC")
    m = metrics([], [950.0, 980.0, 990.0, 1010.0], idx, initial=1000.0)
    assert m["max_drawdown_duration_bars"] == 3
    assert m["max_drawdown_duration_days"] == pytest.approx(8.0)  # bar 0 to the recovery


def test_a_trade_outside_the_bars_is_rejected():
    with pytest.raises(ValueError, match="outside"):
        metrics([trade(1, 1.0, entry=0, exit=3)], [1000.0, 1000.0])


def test_streaks_follow_exit_order_and_break_even_breaks_streaks():
    # chronological by exit bar: + - - - + + 0 -
    signs = {1: 10.0, 2: -1.0, 3: -2.0, 4: -3.0, 5: 4.0, 6: 5.0, 7: 0.0, 8: -6.0}
    given_order = [2, 5, 3, 1, 6, 4, 8, 7]  # not chronological
    trades = [trade(b, signs[b], entry=b - 1, exit=b) for b in given_order]
    m = metrics(trades, [1000.0] * 10)
    assert m["longest_loss_streak"] == 3
    assert m["longest_win_streak"] == 2
    assert m["win_rate_pct"] == pytest.approx(3 / 8 * 100)  # break-even is not a win
    assert m["avg_loss"] == pytest.approx((-1 - 2 - 3 - 6) / 4)  # nor a loss

    m = metrics([trade(i, p, exit=i) for i, p in enumerate([1.0, 2.0, 0.0, 3.0])], [1000.0] * 5)
    assert m["longest_win_streak"] == 2
    assert m["longest_loss_streak"] == 0


def test_sqn_caps_the_trade_count_at_100():
    pnl = [0.0, 2.0] * 75  # 150 trades, mean 1
    m = metrics([trade(i, p, exit=i) for i, p in enumerate(pnl)], [1000.0] * 200)
    std = math.sqrt(sum((p - 1.0) ** 2 for p in pnl) / 149)
    assert m["sqn"] == pytest.approx(math.sqrt(100) * 1.0 / std)


# --- edge cases -----------------------------------------------------------------


def test_no_trades():
    m = metrics([], [1000.0, 1010.0, 1005.0])
    assert m["trades"] == 0
    for key in ("win_rate_pct", "profit_factor", "expectancy", "avg_win", "avg_loss", "best_trade_pct",
                "worst_trade_pct", "avg_duration_bars", "avg_duration_hours", "sqn", "avg_mfe_pct",
                "avg_mae_pct"):
        assert m[key] is None, key
    assert m["longest_win_streak"] == 0
    assert m["longest_loss_streak"] == 0
    assert m["total_fees"] == 0.0
    assert m["total_slippage"] == 0.0
    assert m["sharpe"] is not None  # the curve still moved


def test_flat_equity():
    m = metrics([], [1000.0] * 10)
    assert m["total_return_pct"] == 0.0
    assert m["cagr_pct"] == 0.0
    assert m["volatility_ann_pct"] == 0.0
    assert m["sharpe"] is None
    assert m["sortino"] is None
    assert m["calmar"] is None
    assert m["max_drawdown_pct"] == 0.0
    assert m["max_drawdown_duration_bars"] == 0
    assert m["max_drawdown_duration_days"] == 0.0


def test_only_gains_have_no_sortino():
    m = metrics([], [1010.0, 1020.0, 1040.0])
    assert m["sortino"] is None
    assert m["sharpe"] is not None and m["sharpe"] > 0


def test_all_winners():
    m = metrics([trade(1, 10.0, exit=1), trade(2, 20.0, exit=2)], [1000.0, 1010.0, 1030.0])
    assert m["profit_factor"] is None
    assert m["avg_loss"] is None
    assert m["win_rate_pct"] == 100.0
    assert m["longest_loss_streak"] == 0
    assert m["longest_win_streak"] == 2
    # mean 15, std sqrt(50): sqrt(2) * 15 / sqrt(50) = 3
    assert m["sqn"] == pytest.approx(3.0)


def test_all_losers():
    m = metrics([trade(1, -10.0, exit=1), trade(2, -20.0, exit=2)], [1000.0, 990.0, 970.0])
    assert m["profit_factor"] == 0.0
    assert m["avg_win"] is None
    assert m["win_rate_pct"] == 0.0
    assert m["longest_loss_streak"] == 2


def test_sqn_needs_two_trades_with_different_pnl():
    assert metrics([trade(1, 10.0)], [1000.0, 1010.0])["sqn"] is None
    assert metrics([trade(1, 10.0), trade(2, 10.0, exit=2)], [1000.0] * 3)["sqn"] is None


def test_identical_values_have_no_deviation():
    # numpy's two-pass std of [0.1] * 3 is 1.4e-17, which would be an SQN of 1e16
    assert metrics([trade(i, 0.1, exit=i) for i in (1, 2, 3)], [1000.0] * 4)["sqn"] is None


def test_single_bar():
    m = metrics([trade(1, 50.0, entry=0, exit=0)], [1050.0], times(1), in_market=1)
    assert m["bars"] == 1
    assert m["total_return_pct"] == pytest.approx(5.0)
    for key in ("cagr_pct", "volatility_ann_pct", "sharpe", "sortino", "calmar", "periods_per_year"):
        assert m[key] is None, key
    assert m["max_drawdown_pct"] == 0.0
    assert m["max_drawdown_duration_bars"] == 0
    assert m["max_drawdown_duration_days"] == 0.0
    assert m["avg_duration_bars"] == 0.0
    assert m["avg_duration_hours"] == 0.0
    assert m["exposure_pct"] == 100.0
    assert m["start"] == m["end"] == "2024-01-01T00:00:00+00:00"


def test_zero_first_price_has_no_buy_and_hold():
    assert metrics([], [1000.0, 1000.0], first=0.0, last=10.0)["buy_hold_return_pct"] is None


def test_bankrupt_curve_is_json_safe():
    m = metrics([], [500.0, 0.0, 0.0, -10.0], initial=1000.0)
    json.dumps(m, allow_nan=False)
    assert m["max_drawdown_pct"] == pytest.approx(-101.0)
    assert m["cagr_pct"] == -100.0
    assert m["total_return_pct"] == pytest.approx(-101.0)


def test_times_in_any_unit_or_timezone_give_the_same_result():
    eq = [1000.0, 1100.0, 990.0, 1045.0, 1210.0]
    base = metrics(TRADES3, eq, times(5, HOUR))
    idx = pd.date_range("2024-01-01 02:00", periods=5, freq="h", tz="Europe/Paris")  # = 01:00 UTC
    shifted = metrics(TRADES3, eq, idx)
    assert shifted["start"] == "2024-01-01T01:00:00+00:00"
    secs = metrics(TRADES3, eq, times(5, HOUR).astype("datetime64[s]"))
    for other in (shifted, secs):
        for key in ("cagr_pct", "sharpe", "max_drawdown_duration_days", "avg_duration_hours", "periods_per_year"):
            assert other[key] == pytest.approx(base[key]), key


@pytest.mark.parametrize(
    "equity, ts, initial, match",
    [
        ([], times(0), 1000.0, "non-empty"),
        ([1000.0, 1000.0], times(3), 1000.0, "length"),
        ([1000.0, float("nan")], times(2), 1000.0, "NaN"),
        ([1000.0, 1000.0], times(2), 0.0, "initial_balance"),
    ],
)
def test_bad_input_is_rejected(equity, ts, initial, match):
    with pytest.raises(ValueError, match=match):
        compute_metrics([], np.array(equity, dtype=float), ts, initial_balance=initial,
                        first_price=1.0, last_price=1.0, bars_in_market=0)


# --- JSON safety ----------------------------------------------------------------

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
trade_st = st.builds(
    lambda no, pnl, pct, fees, slip, mfe, mae, entry, length: trade(
        no, pnl, entry=entry, exit=entry + length, pnl_pct=pct, fees=fees, slippage=slip, mfe=mfe, mae=mae),
    st.integers(0, 1000), finite, finite, st.floats(0, 1e4), st.floats(0, 1e4),
    st.floats(0, 1e3), st.floats(-100, 0), st.integers(0, 100), st.integers(0, 100),
)


@settings(max_examples=300, deadline=None)
@given(
    equity=st.lists(st.floats(min_value=-1e6, max_value=1e12, allow_nan=False), min_size=1, max_size=40),
    steps=st.lists(st.integers(0, 10**6), min_size=40, max_size=40),
    trades=st.lists(trade_st, max_size=20),
    initial=st.floats(min_value=1e-3, max_value=1e9),
    first=st.floats(min_value=0, max_value=1e6),
    last=st.floats(min_value=0, max_value=1e6),
    in_market=st.integers(0, 40),
)
def test_result_is_json_safe_for_random_inputs(equity, steps, trades, initial, first, last, in_market):
    n = len(equity)
    ts = T0 + np.cumsum([0] + steps[: n - 1]).astype("timedelta64[s]")
    trades = [replace(t, entry_bar=min(t.entry_bar, n - 1), exit_bar=min(t.exit_bar, n - 1)) for t in trades]
    m = compute_metrics(trades, np.array(equity), ts, initial_balance=initial, first_price=first,
                        last_price=last, bars_in_market=min(in_market, n))
    json.dumps(m, allow_nan=False)
    assert set(m) == {spec.key for spec in METRIC_SPECS}
    for key, value in m.items():
        assert type(value) in (float, int, str, type(None)), (key, type(value))
    assert m["max_drawdown_pct"] <= 0
    assert 0 <= m["max_drawdown_duration_bars"] <= n
    assert m["trades"] == len(trades)
    assert m["bars"] == n


# --- drawdown_pct properties ----------------------------------------------------


def reference_drawdown(equity, initial=None):
    out, peak = [], initial if initial is not None else -math.inf
    for x in equity:
        peak = max(peak, x)
        out.append(0.0 if x >= peak else ((x - peak) / peak * 100 if peak > 0 else -100.0))
    return out


def reference_longest_underwater(equity, initial):
    best = run = 0
    peak = initial
    for x in equity:
        if x < peak:
            run += 1
            best = max(best, run)
        else:
            peak, run = x, 0
    return best


positive_curves = arrays(np.float64, st.integers(1, 200), elements=st.floats(1e-3, 1e9))


@given(positive_curves)
def test_drawdown_is_non_positive_and_zero_at_new_peaks(eq):
    dd = drawdown_pct(eq)
    assert dd.shape == eq.shape
    assert (dd <= 0).all()
    at_peak = eq >= np.maximum.accumulate(eq)
    assert (dd[at_peak] == 0).all()
    assert (dd[~at_peak] < 0).all()
    assert dd[0] == 0


@given(arrays(np.float64, st.integers(0, 100), elements=st.floats(-1e6, 1e9)),
       st.one_of(st.none(), st.floats(1e-3, 1e9)))
def test_drawdown_matches_a_bar_by_bar_reference(eq, initial):
    np.testing.assert_allclose(drawdown_pct(eq, initial=initial), reference_drawdown(eq, initial), rtol=1e-12)


@given(positive_curves, st.floats(1e-3, 1e9))
def test_max_drawdown_and_duration_match_the_reference(eq, initial):
    m = metrics([], eq, initial=initial)
    assert m["max_drawdown_pct"] == pytest.approx(min(reference_drawdown(eq, initial)), rel=1e-12)
    assert m["max_drawdown_duration_bars"] == reference_longest_underwater(eq, initial)


def test_drawdown_of_a_bankrupt_peak_is_minus_100():
    np.testing.assert_array_equal(drawdown_pct(np.array([0.0, -5.0, 0.0])), [0.0, -100.0, 0.0])


def test_drawdown_rejects_2d_input():
    with pytest.raises(ValueError):
        drawdown_pct(np.ones((2, 2)))


# --- specs and formatting -------------------------------------------------------


def test_specs_cover_exactly_the_computed_keys(m5):
    keys = [spec.key for spec in METRIC_SPECS]
    assert len(keys) == len(set(keys))
    assert set(keys) == set(m5)
    groups = [spec.group for spec in METRIC_SPECS]
    # each group is one contiguous block, in display order
    assert list(dict.fromkeys(groups)) == ["Returns", "Risk", "Trades", "Costs", "Excursion", "Equity"]
    assert sum(1 for a, b in zip(groups, groups[1:]) if a != b) == 5


def test_every_spec_formats_its_value(m5):
    for spec in METRIC_SPECS:
        text = format_metric(m5[spec.key], spec.fmt)
        assert text and text != "—", spec.key


def test_spec_is_frozen_and_validated():
    spec = METRIC_SPECS[0]
    with pytest.raises(AttributeError):
        spec.key = "x"  # type: ignore[misc]
    with pytest.raises(ValueError):
        MetricSpec("x", "X", "Nope", "pct")
    with pytest.raises(ValueError):
        MetricSpec("x", "X", "Risk", "nope")


@pytest.mark.parametrize(
    "value, fmt, text",
    [
        (None, "pct", "—"),
        (None, "text", "—"),
        (12.3456, "pct", "12.35 %"),
        (-0.5, "pct", "-0.50 %"),
        (1234567.891, "money", "1,234,567.89"),
        (-1234.5, "money", "-1,234.50"),
        (1.23456, "ratio", "1.23"),
        (12345, "int", "12,345"),
        (8766.0, "decimal", "8,766.0"),
        (252.44, "decimal", "252.4"),
        (12, "bars", "12 bars"),
        (4 / 3, "bars", "1.3 bars"),
        (2.5, "days", "2.50 d"),
        (32.0, "hours", "32.00 h"),
        ("2024-01-01T00:00:00+00:00", "text", "2024-01-01T00:00:00+00:00"),
        ("2024-03-05T14:07:00+00:00", "time", "2024-03-05 14:07"),
        (None, "time", "—"),
        (float("nan"), "ratio", "—"),
    ],
)
def test_format_metric(value, fmt, text):
    assert format_metric(value, fmt) == text


def test_format_metric_rejects_unknown_format():
    with pytest.raises(ValueError):
        format_metric(1.0, "furlongs")


# --- the figures traders read first (issue 10), on the same hand example --------------

def test_hand_example_profit_in_currency_and_trade_shape(m5):
    # Trades: +100, +150, -50 (fees already inside each PnL).
    assert m5["net_profit"] == pytest.approx(200.0)
    assert m5["gross_profit"] == pytest.approx(250.0)
    assert m5["gross_loss"] == pytest.approx(50.0)  # shown as an amount lost
    assert m5["largest_win"] == pytest.approx(150.0)
    assert m5["largest_loss"] == pytest.approx(-50.0)
    assert m5["avg_win"] == pytest.approx(125.0) and m5["avg_loss"] == pytest.approx(-50.0)
    assert m5["win_loss_ratio"] == pytest.approx(2.5)  # 125 / 50
    assert m5["trades_per_day"] == pytest.approx(3 / (4 / 24))  # 3 trades over 4 hours = 18 a day


def test_hand_example_drawdown_dates(m5):
    # Peak 1100 at 01:00, bottom 990 at 02:00, 1210 regains it at 04:00.
    assert m5["max_drawdown_start"] == "2024-01-01T01:00:00+00:00"
    assert m5["max_drawdown_bottom"] == "2024-01-01T02:00:00+00:00"
    assert m5["max_drawdown_recovery"] == "2024-01-01T04:00:00+00:00"


def test_the_deepest_drawdown_is_dated_not_the_longest_and_may_not_recover():
    # A long shallow dip (bars 1-4, -2 %), then a short deep one from the peak at bar 5
    # (bottom at bar 7, -20 %) that never recovers.
    eq = [1000, 990, 985, 980, 990, 1010, 900, 808, 850]
    m = metrics([], eq)
    assert m["max_drawdown_pct"] == pytest.approx((808 - 1010) / 1010 * 100)
    assert m["max_drawdown_start"] == "2024-01-06T00:00:00+00:00"
    assert m["max_drawdown_bottom"] == "2024-01-08T00:00:00+00:00"
    assert m["max_drawdown_recovery"] is None
    assert m["net_profit"] == 0.0 and m["largest_win"] is None and m["win_loss_ratio"] is None


def test_a_curve_that_opens_under_water_dates_its_drawdown_from_the_first_bar():
    m = metrics([], [950.0, 940.0, 1000.0, 1001.0])
    assert m["max_drawdown_start"] == "2024-01-01T00:00:00+00:00"
    assert m["max_drawdown_bottom"] == "2024-01-02T00:00:00+00:00"
    assert m["max_drawdown_recovery"] == "2024-01-03T00:00:00+00:00"  # back at the starting balance


def test_no_drawdown_and_no_trades_leave_the_new_figures_undefined():
    m = metrics([], [1000.0, 1001.0, 1002.0])
    assert m["max_drawdown_start"] is m["max_drawdown_bottom"] is m["max_drawdown_recovery"] is None
    assert m["trades_per_day"] == 0.0
    assert m["largest_loss"] is None and m["gross_loss"] == 0.0


def test_a_value_that_rounds_to_zero_never_reads_minus_zero() -> None:
    from engine.metrics import format_metric

    assert format_metric(-0.0004, "pct") == "0.00 %" and format_metric(-0.004, "money") == "0.00"
    assert format_metric(-0.001, "ratio") == "0.00" and format_metric(-0.006, "pct") == "-0.01 %"
