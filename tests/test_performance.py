"""The live session's incremental PerformanceTracker equals compute_metrics on the same run."""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from engine.backtest import Backtest
from engine.config import BacktestConfig
from engine.data import sample_candles
from engine.enums import ExitReason, Side
from engine.metrics import compute_metrics
from engine.performance import PerformanceTracker
from engine.policy import ExitPolicy
from engine.records import TradeRecord
from engine.strategies import create_strategy

T0 = np.datetime64("2024-01-01T00:00:00", "ns")


def assert_same_metrics(got: dict, want: dict) -> None:
    """Ints and text exactly, None where compute_metrics gives None, floats to 1e-9."""
    assert got.keys() == want.keys()
    for key, expected in want.items():
        value = got[key]
        assert type(value) is type(expected), (key, value, expected)
        if isinstance(expected, float):
            assert value == pytest.approx(expected, rel=1e-9, abs=0.0), key
        else:
            assert value == expected, key


def well_conditioned(values: list[float]) -> bool:
    """Whether two summation orders agree to ~1e-9 on the mean and the deviation.

    Numpy sums pairwise and computes the variance in two passes, the tracker sums as it
    goes (Welford); on a sum that cancels to almost nothing, or a deviation at rounding
    level, both are noise and differ by more than 1e-9 relative.
    """
    x = np.asarray(values, dtype=np.float64)
    with np.errstate(all="ignore"):
        return _well_conditioned(x)


def _well_conditioned(x: np.ndarray) -> bool:
    if x.size < 2 or not np.isfinite(x).all() or (x == x[0]).all():
        return True
    return bool(abs(math.fsum(x)) >= 1e-4 * np.abs(x).sum() and x.std() >= 1e-4 * np.abs(x).max())


def bar_returns(equity: list[float], initial: float) -> list[float]:
    prev = np.concatenate(([initial], equity[:-1]))
    with np.errstate(all="ignore"):
        return list((np.asarray(equity) - prev) / prev)


# Money, not the float line's far end: amounts around 1e-160 square to subnormals, where
# two correct ways of taking a standard deviation part company (hypothesis found 7e-162).
money = st.one_of(st.just(0.0), st.floats(1e-9, 1e4), st.floats(-1e4, -1e-9))


@st.composite
def runs(draw):
    n = draw(st.integers(1, 60))
    # Gaps from none at all to three days, so spans fall either side of a week.
    steps = draw(st.lists(st.integers(0, 3 * 86400), min_size=n - 1, max_size=n - 1))
    ts = T0 + np.cumsum([0] + steps).astype("timedelta64[s]")
    equity = draw(st.lists(
        st.one_of(st.floats(1e-2, 1e6), st.just(0.0), st.floats(-1e3, 0.0)), min_size=n, max_size=n,
    ))
    closes = draw(st.lists(st.floats(1e-3, 1e5), min_size=n, max_size=n))
    in_market = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    trades = []
    for no in range(draw(st.integers(0, 25))):
        entry = draw(st.integers(0, n - 1))
        trades.append(TradeRecord(
            trade_no=no + 1, side=draw(st.sampled_from(Side)), entry_bar=entry,
            exit_bar=draw(st.integers(entry, n - 1)), entry_price=100.0, exit_price=100.0, size=1.0,
            pnl=draw(st.one_of(money, st.just(0.0))), pnl_pct=draw(st.floats(-100, 1000)),
            fees=draw(st.floats(0, 100)), slippage=draw(st.floats(0, 100)), exit_reason=ExitReason.SIGNAL,
            mfe_pct=draw(st.floats(0, 500)), mae_pct=draw(st.floats(-100, 0)),
        ))
    trades.sort(key=lambda t: t.exit_bar)  # closing order, as a session sees them
    return ts, equity, closes, in_market, trades


@settings(max_examples=400, deadline=None)
@given(runs(), st.floats(1e-2, 1e6), st.floats(0.0, 1e4))
def test_tracker_equals_compute_metrics_on_random_runs(run, initial, first_price):
    ts, equity, closes, in_market, trades = run
    assume(well_conditioned(bar_returns(equity, initial)))
    assume(well_conditioned([t.pnl for t in trades]))

    tracker = PerformanceTracker(initial, first_price)
    by_exit: dict[int, list[TradeRecord]] = {}
    for t in trades:
        by_exit.setdefault(t.exit_bar, []).append(t)
    for i, t in enumerate(ts):
        tracker.on_bar(t, closes[i], equity[i], in_market[i])
        for trade in by_exit.get(i, []):
            tracker.on_trade(trade, ts[trade.entry_bar], ts[trade.exit_bar])

    want = compute_metrics(
        trades, np.array(equity), ts, initial_balance=initial, first_price=first_price,
        last_price=closes[-1], bars_in_market=sum(in_market),
    )
    assert_same_metrics(tracker.metrics(), want)


def test_tracker_metrics_are_available_after_every_bar():
    idx = pd.date_range("2024-01-05", periods=6, freq="D", tz="UTC")
    equity = [1000.0, 1020.0, 990.0, 1005.0, 1030.0, 1010.0]
    tracker = PerformanceTracker(1000.0, 50.0)
    for i, t in enumerate(idx):
        tracker.on_bar(t, 50.0 + i, equity[i], i % 2 == 0)
        want = compute_metrics([], np.array(equity[: i + 1]), idx[: i + 1], initial_balance=1000.0,
                               first_price=50.0, last_price=50.0 + i, bars_in_market=i // 2 + 1)
        assert_same_metrics(tracker.metrics(), want)
    assert tracker.bars == 6


def test_tracker_state_is_a_value_a_replay_can_copy_and_restore():
    tracker = PerformanceTracker(1000.0, 10.0)
    tracker.on_bar(pd.Timestamp("2024-01-01", tz="UTC"), 10.0, 1000.0, False)
    saved = copy.deepcopy(tracker)
    tracker.on_bar(pd.Timestamp("2024-01-02", tz="UTC"), 11.0, 900.0, True)
    assert saved.metrics()["bars"] == 1
    assert tracker.metrics()["max_drawdown_pct"] == pytest.approx(-10.0)


def test_tracker_accepts_any_timestamp_type():
    naive = pd.Timestamp("2024-01-01 01:00")
    forms = [naive, naive.tz_localize("UTC"), pd.Timestamp("2024-01-01 02:00", tz="Europe/Paris"),
             np.datetime64("2024-01-01T01:00"), naive.to_pydatetime(), "2024-01-01T01:00:00Z"]
    starts = set()
    for t in forms:
        tracker = PerformanceTracker(1000.0, 1.0)
        tracker.on_bar(t, 1.0, 1000.0, False)
        starts.add(tracker.metrics()["start"])
    assert starts == {"2024-01-01T01:00:00+00:00"}


def test_tracker_rejects_what_compute_metrics_rejects():
    with pytest.raises(ValueError, match="initial_balance"):
        PerformanceTracker(0.0, 1.0)
    tracker = PerformanceTracker(1000.0, 1.0)
    with pytest.raises(ValueError, match="no bars"):
        tracker.metrics()
    with pytest.raises(ValueError, match="finite"):
        tracker.on_bar(T0, 1.0, math.nan, False)


# --- a real run, stepped bar by bar -----------------------------------------------


@pytest.mark.parametrize("policy", [
    ExitPolicy(),
    ExitPolicy(stop_loss_pct=1.5, take_profit_pct=3.0, trailing_activation_pct=1.0, trailing_distance_pct=0.8,
               exit_targets=(1.0,), exit_sizes=(0.5,)),
], ids=["signals only", "stops, targets and trailing"])
def test_tracker_fed_by_a_stepped_backtest_equals_compute_metrics(policy):
    candles = sample_candles()
    config = BacktestConfig(params={"fast": 10, "slow": 30, "mode": "long_short"}, balance=10_000.0,
                            fee_pct=0.1, slippage_pct=0.05, policy=policy)
    bt = Backtest(candles, create_strategy("sma_cross", config.params), config.settings)
    close, index = candles["close"].to_numpy(), candles.index
    tracker = PerformanceTracker(config.balance, float(close[0]))
    while not bt.done:
        report = bt.step()
        tracker.on_bar(index[report.bar], float(close[report.bar]), report.equity, report.in_market)
        for trade in report.trades:
            tracker.on_trade(trade, index[trade.entry_bar], index[trade.exit_bar])

    want = compute_metrics(
        bt.trades, bt.equity_curve(), index, initial_balance=config.balance,
        first_price=float(close[0]), last_price=float(close[-1]), bars_in_market=bt.bars_in_market(),
    )
    assert want["trades"] > 20
    got = tracker.metrics()
    assert_same_metrics(got, want)
    assert got["periods_per_year"] == pytest.approx(365.25 * 24)  # hourly, around the clock
