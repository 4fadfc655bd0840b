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


def test_a_stored_run_reads_everything_once_and_dates_its_curve(tmp_path: Path, result: BacktestResult) -> None:
    """Opening a trade of a stored run reads no database (that would be on the UI
    thread), and the curve's dates are the stored points' own."""
    db_file = tmp_path / "runs.sqlite"
    database = open_db(f"sqlite:///{db_file}")
    run_id = save_backtest(database, result)
    stored, fresh = RunView.from_store(database, run_id), RunView.from_result(result, run_id)
    database.dispose()
    db_file.unlink()
    last = len(result.trades)
    assert [f.time for f in stored.fills_of(last)] == [f.time for f in fresh.fills_of(last)] != []
    assert stored.curve.times[0] == fresh.curve.times[0] and np.all(np.diff(stored.curve.times) > 0)


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


def test_value_labels_sit_on_round_numbers_inside_the_range() -> None:
    from screens.widgets.chart_axes import value_rows, value_ticks

    assert value_ticks(6_871.0, 14_322.0, 5) == [8_000.0, 10_000.0, 12_000.0, 14_000.0]
    assert value_ticks(-52.02, 0.0, 3) == [-40.0, -20.0, 0.0]
    rows = value_rows(-52.02, 0.0, 6, "%")
    assert rows[0] == "0 %" and "-40 %" in rows.values()  # zero on the top row
    assert all(b - a >= 2 for a, b in zip(sorted(rows), sorted(rows)[1:]))  # a blank row between labels
    assert value_rows(0.5, 0.51, 8) == {7: "0.500", 4: "0.505", 0: "0.510"}


def test_date_labels_fall_on_calendar_steps_that_fit() -> None:
    import pandas as pd

    from screens.widgets.chart_axes import axis_line, date_labels

    hours = pd.date_range("2023-01-01", periods=17_544, freq="h", tz="UTC").as_unit("ns").asi8
    for width, texts in ((40, ["2023-01", "2023-07", "2024-01", "2024-07"]),
                         (100, ["2023-01", "2023-04", "2023-07", "2023-10", "2024-01", "2024-04", "2024-07", "2024-10"])):
        labels = date_labels(hours, width)
        assert [t for _, t in labels] == texts
        line = axis_line(labels, width)
        assert len(line) == width and all(line[c:c + len(t)] == t for c, t in labels)
    # The column of a label is where its date is among the points.
    col, text = date_labels(hours, 100)[4]
    assert text == "2024-01" and col == int(np.searchsorted(hours, pd.Timestamp("2024-01-01", tz="UTC").value) * 100 // len(hours))
    minutes = pd.date_range("2024-01-01", periods=300, freq="min", tz="UTC").as_unit("ns").asi8
    assert [t for _, t in date_labels(minutes, 80)][:2] == ["01-01 00:00", "01-01 01:00"]
    assert date_labels(minutes[:1], 80) == []


def test_a_table_of_figures_takes_the_first_layout_that_fits() -> None:
    from rich.console import Console
    from rich.text import Text

    from screens.widgets.figure_table import FigureTable, layout, render

    table = FigureTable("Exit reasons", "Exit reason", ["Trades", "Win rate", "Avg PnL", "Net profit"], [
        ("signal", [Text("331"), Text("30.82 %"), Text("-7.52"), Text("-2,487.65")]),
        ("stop loss", [Text("12"), Text("0.00 %"), Text("-70.43"), Text("-845.10")]),
    ])  # 50 cells wide, 33 on its side
    assert [layout(table, w) for w in (50, 49, 33, 32)] == ["wide", "side", "side", "blocks"]
    for width in (50, 33, 24):
        console = Console(width=width, record=True)
        console.print(render(table, width))
        text = console.export_text()
        assert "-2,487.65" in text and "-845.10" in text and max(map(len, text.splitlines())) <= width
    assert table.cell("stop loss", "Net profit") == "-845.10"


def test_labelled_figures_break_between_parts() -> None:
    from screens.widgets.flow_text import flow

    parts = ["Equity 10,000.00 -> 7,456.16", "low 6,871.23", "peak 14,322.13"]
    assert flow(parts, 200).plain == "Equity 10,000.00 -> 7,456.16 · low 6,871.23 · peak 14,322.13"
    assert flow(parts, 45).plain.splitlines() == ["Equity 10,000.00 -> 7,456.16 · low 6,871.23", "peak 14,322.13"]
    assert flow(parts, 30, max_lines=1).plain == "Equity 10,000.00 -> 7,456.16 …"


def test_price_bars_keep_every_high_and_low(result: BacktestResult) -> None:
    from screens.widgets.price_bars import Markers, PriceBars

    candles = result.candles
    bars = PriceBars.from_candles(candles, buckets=700)
    assert bars is not None and len(bars) == 700 and bars.bars == len(candles)
    for width in (37, 150):
        o, h, lo, c, starts = bars.columns(width)
        assert h.max() == candles["high"].max() and lo.min() == candles["low"].min()
        assert o[0] == candles["open"].iloc[0] and c[-1] == candles["close"].iloc[-1]
        assert (lo <= np.minimum(o, c)).all() and (h >= np.maximum(o, c)).all()
    view = RunView.from_result(result, None)
    markers = Markers.of_trades(view.trades)
    assert len(markers) == 2 * len(result.trades)
    first = result.trades[0]
    buy = first.side.value == "long"
    assert (markers.buy[0], markers.buy[len(result.trades)]) == (buy, not buy)  # in, then out the other way
    cols = markers.columns(bars.columns(150)[4])
    assert cols.min() >= 0 and cols.max() <= 149 and (np.diff(cols[: len(result.trades)]) >= 0).all()


def test_the_title_and_properties_name_every_setting(result: BacktestResult) -> None:
    from screens.widgets.config_text import POLICY_FIELDS, properties, title_parts

    config = result.config.to_dict()
    parts = title_parts(config, "BTC/USDT 1h", "synthetic sample BTC/USDT 1h (not real market data)", 7,
                        period="2023-01-01..2024-12-31")
    assert parts[0] == "Run #7: sma_cross fast=10 slow=30 mode=long_short"
    assert parts[1] == "BTC/USDT 1h 2023-01-01..2024-12-31" and parts[2] == "synthetic sample"
    assert "trail 1 % after +2 %" in parts[3] and "partials 0.5@2 %" in parts[3]
    assert parts[4] == "fee 0.1 %, slip 0.05 %" and parts[5] == "size 1x equity"
    sections = dict(properties(config, {"Id": 7}))
    assert [label for label, _ in sections["Exits and scaling"]] == [label for _, label, _ in POLICY_FIELDS]
    assert dict(sections["Exits and scaling"])["Stop-loss"] == "off"
    assert dict(sections["Exits and scaling"])["Partial exit targets"] == "2 %"
    assert dict(sections["Account and costs"])["Starting balance"] == "10,000.00"
