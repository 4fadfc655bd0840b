"""The run as the screens show it: the same columns fresh from the engine and from the
database, sort orders, and a thinned curve that keeps its spikes and its figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.config import BacktestConfig
from engine.data import sample_candles
from engine.metrics import drawdown_pct
from engine.policy import ExitPolicy
from engine.runner import BacktestResult, run_backtest
from engine.store import open_db, save_backtest
from screens.equity_curve import EquityCurve, envelope
from screens.run_columns import TradeColumns
from screens.run_view import RunView
from screens.widgets.trade_cells import cells


@pytest.fixture(scope="module")
def result() -> BacktestResult:
    policy = ExitPolicy(trailing_activation_pct=2.0, trailing_distance_pct=1.0, exit_targets=(2.0,), exit_sizes=(0.5,))
    config = BacktestConfig(params={"fast": 10, "slow": 30, "mode": "long_short"}, policy=policy)
    out = run_backtest(config, sample_candles())
    assert len(out.trades) > 20 and any(f.kind.value == "partial_exit" for f in out.fills)
    return out


def test_a_stored_run_has_the_same_columns_as_the_fresh_one(tmp_path: Path, result: BacktestResult) -> None:
    database = open_db(f"sqlite:///{tmp_path / 'runs.sqlite'}")
    run_id = save_backtest(database, result)
    fresh, stored = RunView.from_result(result, run_id), RunView.from_store(database, run_id)
    assert stored is not None and len(stored.trades) == len(fresh.trades) == len(result.trades)
    for name in ("trade_no", "side", "entry_time", "exit_time", "exit_reason", "duration_bars"):
        assert getattr(stored.trades, name).tolist() == getattr(fresh.trades, name).tolist(), name
    for name in ("entry_price", "exit_price", "size", "pnl", "pnl_pct", "fees", "slippage", "mfe_pct", "mae_pct"):
        assert np.allclose(getattr(stored.trades, name), getattr(fresh.trades, name), rtol=1e-12), name
    assert stored.trade_widths == fresh.trade_widths
    assert [cells(stored.trades, i) for i in range(5)] == [cells(fresh.trades, i) for i in range(5)]
    for n in (1, len(result.trades) // 2, len(result.trades)):
        assert stored.trades.row(n - 1) == fresh.trades.row(n - 1)
        a, b = stored.fills_of(n), fresh.fills_of(n)
        assert [(f.kind, f.time, f.price, f.qty, f.reason) for f in a] == [(f.kind, f.time, f.price, f.qty, f.reason) for f in b]
    # The stored curve is thinned; its figures still are the whole run's.
    assert stored.curve.worst_drawdown_pct == fresh.curve.worst_drawdown_pct == result.metrics["max_drawdown_pct"]
    assert stored.curve.peak == fresh.curve.peak == result.metrics["peak_equity"]
    assert stored.curve.last == fresh.curve.last == result.metrics["final_equity"]


def test_a_trade_and_its_fills_carry_the_candles_times(result: BacktestResult) -> None:
    view = RunView.from_result(result, None)
    index = result.candles.index
    for t in (result.trades[0], result.trades[-1]):
        row = view.trades.row(view.trades.position(t.trade_no))
        assert row.entry_time == index[t.entry_bar].to_pydatetime() and row.exit_time == index[t.exit_bar].to_pydatetime()
        assert (row.pnl, row.exit_reason, row.duration_bars) == (t.pnl, t.exit_reason.value, t.duration_bars)
        fills = [f for f in result.fills if f.trade_no == t.trade_no]
        assert [(f.kind, f.time) for f in view.fills_of(t.trade_no)] == [
            (f.kind.value, index[f.bar].to_pydatetime()) for f in fills]
    assert view.fills_of(10_000) == [] and view.trades.position(10_000) is None


def test_sort_orders_are_stable_both_ways() -> None:
    import pandas as pd

    frame = pd.DataFrame({
        "trade_no": [1, 2, 3, 4, 5], "side": ["long", "short", "long", "short", "long"],
        "entry_time": pd.date_range("2024-01-01", periods=5, freq="h", tz="UTC"),
        "exit_time": pd.date_range("2024-01-02", periods=5, freq="h", tz="UTC"),
        "entry_price": 1.0, "exit_price": 1.0, "size": 1.0, "pnl": [2.0, -1.0, 2.0, 0.0, -1.0], "pnl_pct": 0.0,
        "fees": 0.0, "slippage": 0.0, "exit_reason": "signal", "mfe_pct": 0.0, "mae_pct": 0.0, "duration_bars": 3,
    })
    trades = TradeColumns.from_frame(frame)
    numbers = lambda order: trades.trade_no[order].tolist()  # noqa: E731
    assert numbers(trades.order("pnl")) == [2, 5, 4, 1, 3]
    assert numbers(trades.order("pnl", descending=True)) == [1, 3, 4, 2, 5]
    assert numbers(trades.order("side")) == [1, 3, 5, 2, 4]
    assert numbers(trades.order("side", descending=True)) == [2, 4, 1, 3, 5]
    assert trades.order("pnl") is trades.order("pnl")  # made once


def test_thinning_keeps_every_spike_and_the_figures_come_from_every_bar() -> None:
    rng = np.random.default_rng(3)
    equity = 10_000.0 + np.cumsum(rng.normal(0.0, 1.0, 1_000_003))
    equity[123_457] += 3_000.0  # one bar up
    equity[876_543] -= 4_000.0  # one bar down
    curve = EquityCurve.from_equity(equity, 10_000.0)
    assert len(curve) == 1024
    assert curve.equity_hi.max() == equity.max() and curve.equity_lo.min() == equity.min()
    dd = drawdown_pct(equity, initial=10_000.0)
    assert curve.worst_drawdown_pct == dd.min() and curve.depth_hi.max() == -dd.min()
    assert (curve.first, curve.last, curve.low, curve.peak) == (equity[0], equity[-1], equity.min(), equity.max())
    for width in (17, 80, 157):
        lo, hi = envelope(curve.equity_lo, curve.equity_hi, width)
        assert len(lo) == len(hi) == width
        assert hi.max() == equity.max() and lo.min() == equity.min()
        assert (lo <= hi).all()


def test_a_short_curve_is_stretched_to_the_width() -> None:
    lo, hi = envelope(np.array([1.0, 2.0, 3.0]), np.array([1.5, 2.5, 3.5]), 7)
    assert lo.tolist() == [1.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0] and hi.tolist() == [1.5, 1.5, 1.5, 2.5, 2.5, 3.5, 3.5]
