"""A run with thousands of trades in the Backtest workspace: the trades table scrolls, sorts
and opens the right trade, and the chart's labels are the run's own figures.

The run is posted to the workspace as its worker would post it (no database), so each
test starts from results on screen.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.config import BacktestConfig
from engine.data import synthetic_bars
from engine.metrics import compute_metrics, format_metric
from engine.runner import BacktestResult, run_backtest
from screens.backtest.workspace import BacktestScreen
from screens.run_view import RunView
from screens.trade_detail import TradeDetailScreen
from screens.widgets.equity_chart import EquityChart
from screens.widgets.flow_text import FlowLabel
from screens.widgets.results_view import ResultsView
from screens.widgets.trades_table import TradesTable
from tests.test_ui_backtest import _until
from tests.test_ui_results import posted
from tests.ui_support import make_app

SIZE = (160, 50)


@pytest.fixture(scope="module")
def big_run() -> BacktestResult:
    """About 5,000 trades: sma_cross 10/30 long/short on 130,000 one-minute bars."""
    config = BacktestConfig(strategy="sma_cross", params={"fast": 10, "slow": 30, "mode": "long_short"},
                            fee_pct=0.0, slippage_pct=0.0)
    result = run_backtest(config, synthetic_bars(130_000, seed=7))
    assert 4_500 < len(result.trades) < 5_500
    return result


async def _shown(pilot, result: BacktestResult) -> TradesTable:
    """Post ``result`` to the workspace as its worker does; the trades table, focused (its tab in front)."""
    table = (await posted(pilot, result)).query_one(TradesTable)
    table.focus()
    await pilot.wait_for_scheduled_animations()  # the results scroll the table into view
    await pilot.pause()
    return table


def _shown_numbers(table: TradesTable) -> list[int]:
    """The trade numbers on the table's lines as drawn (the first cell of every row line)."""
    rows = table.scrollable_content_region.height - 1
    return [int(table.render_line(y).text.split()[0]) for y in range(1, rows + 1)]


async def test_scrolling_shows_the_rows_under_the_cursor(tmp_path: Path, big_run: BacktestResult) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        table = await _shown(pilot, big_run)
        n = len(big_run.trades)
        assert table.row_count == n
        rows = table.scrollable_content_region.height - 1
        assert rows >= 5 and _shown_numbers(table) == list(range(1, rows + 1))
        await pilot.press("down", "down", "down")
        assert table.cursor == 3 and _shown_numbers(table)[0] == 1  # moved within the page
        await pilot.press("pagedown", "pagedown")
        assert table.cursor == 3 + 2 * rows
        shown = _shown_numbers(table)
        assert table.cursor + 1 in shown and shown == list(range(shown[0], shown[0] + rows))
        assert shown[-1] == table.cursor + 1  # the cursor's row is the last one on screen
        await pilot.press("end")
        assert table.cursor == n - 1 and _shown_numbers(table) == list(range(n - rows + 1, n + 1))
        await pilot.press("pageup")
        assert _shown_numbers(table)[0] == table.cursor + 1  # scrolling up puts the cursor on top
        await pilot.press("home")
        assert table.cursor == 0 and _shown_numbers(table) == list(range(1, rows + 1))


async def test_sorting_is_right_both_ways_and_stable(tmp_path: Path, big_run: BacktestResult) -> None:
    app = make_app(tmp_path)
    trades = {t.trade_no: t for t in big_run.trades}
    async with app.run_test(size=SIZE) as pilot:
        table = await _shown(pilot, big_run)
        table.sort_by("pnl")
        order = table.visible_order()
        assert sorted(order) == list(trades)
        assert order == sorted(trades, key=lambda k: trades[k].pnl)
        table.sort_by("pnl")  # the same column again: descending
        assert table.visible_order() == sorted(trades, key=lambda k: trades[k].pnl, reverse=True)
        # Ties keep trade-number order, ascending and descending alike (as sorted() does).
        for reverse in (False, True):
            table.sort_by("side", reverse=reverse)
            expected = sorted(trades, key=lambda k: trades[k].side.value, reverse=reverse)
            assert table.visible_order() == expected
            sides = [trades[k].side.value for k in expected]
            assert sides[0] == ("short" if reverse else "long") and len(set(sides)) == 2
        # Keys: `s` sorts by the next column ascending, `r` reverses; the header shows which.
        table.sort_by("trade_no")
        await pilot.press("s")
        assert table.sort_key == "side" and not table.sort_reverse
        await pilot.press("r")
        assert table.sort_reverse and table.visible_order()[0] == min(k for k in trades if trades[k].side.value == "short")
        assert "Side ▼" in table.render_line(0).text
        assert _shown_numbers(table) == table.visible_order()[: len(_shown_numbers(table))]


async def test_every_sort_is_made_on_a_worker_before_a_key_asks_for_it(tmp_path: Path, big_run: BacktestResult,
                                                                         monkeypatch) -> None:
    """No sort on the UI thread: the table sorts every column both ways on a worker as it
    opens; a sort key then only looks its order up."""
    import threading

    from screens.widgets.trade_cells import KEYS

    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        table = await _shown(pilot, big_run)
        await pilot.app.workers.wait_for_complete()
        assert set(table.trades._orders) == {(k, d) for k in KEYS for d in (False, True)}
        sorted_on: list[str] = []
        argsort = np.argsort
        monkeypatch.setattr(np, "argsort", lambda *a, **kw: sorted_on.append(threading.current_thread().name)
                            or argsort(*a, **kw))
        for key in KEYS:
            table.sort_by(key, reverse=True)
            await pilot.press("r")
        assert sorted_on == []  # every key was a lookup
        assert table.sort_key == KEYS[-1] and table.sort_reverse is False


async def test_a_header_click_sorts_by_its_column(tmp_path: Path, big_run: BacktestResult) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        table = await _shown(pilot, big_run)
        header = table.render_line(0).text
        x = header.index("Size") + 1
        await pilot.click(TradesTable, offset=(x, 0))
        assert table.sort_key == "size" and not table.sort_reverse
        await pilot.click(TradesTable, offset=(x, 0))
        assert table.sort_key == "size" and table.sort_reverse


async def test_enter_on_a_sorted_row_opens_that_trade(tmp_path: Path, big_run: BacktestResult) -> None:
    app = make_app(tmp_path)
    by_number = {t.trade_no: t for t in big_run.trades}
    async with app.run_test(size=SIZE) as pilot:
        table = await _shown(pilot, big_run)
        table.sort_by("pnl", reverse=True)
        for _ in range(20):  # past the first screenful
            await pilot.press("down")
        wanted = table.visible_order()[20]
        await pilot.press("enter")
        await _until(pilot, lambda: isinstance(app.screen, TradeDetailScreen))
        detail = app.screen
        trade = by_number[wanted]
        assert detail.trade.trade_no == wanted and detail.trade.pnl == trade.pnl
        assert detail.trade.pnl == sorted((t.pnl for t in big_run.trades), reverse=True)[20]
        fills = [f for f in big_run.fills if f.trade_no == wanted]
        assert [(f.kind, f.price, f.qty) for f in detail.fills] == [(f.kind.value, f.price, f.qty) for f in fills]
        index = big_run.candles.index
        assert detail.fills[0].time == index[trade.entry_bar].to_pydatetime() == detail.trade.entry_time
        assert detail.fills[-1].time == index[trade.exit_bar].to_pydatetime() == detail.trade.exit_time
        await pilot.press("escape")
        await _until(pilot, lambda: isinstance(app.screen, BacktestScreen))
        assert table.visible_order()[table.cursor] == wanted  # back where it was


def _dip_result() -> BacktestResult:
    """Flat equity with one bar 52.02 % under the start: a picked-points thinning misses it."""
    n = 100_003
    index = pd.date_range("2024-01-01", periods=n, freq="1min", tz="UTC", name="timestamp")
    candles = pd.DataFrame({"open": 1.0, "high": 1.0, "low": 1.0, "close": 1.0, "volume": 1.0}, index=index)
    equity = np.full(n, 10_000.0)
    equity[n // 2 + 17] = 4_798.0
    metrics = compute_metrics([], equity, index, initial_balance=10_000.0, first_price=1.0, last_price=1.0,
                              bars_in_market=0)
    return BacktestResult(BacktestConfig(balance=10_000.0), candles, [], [], equity, metrics, 0)


async def test_chart_labels_are_the_whole_runs_figures(tmp_path: Path) -> None:
    result = _dip_result()
    assert format_metric(result.metrics["max_drawdown_pct"], "pct") == "-52.02 %"
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        pilot.app.screen.query_one(ResultsView).show(RunView.from_result(result, None))
        await pilot.pause()
        chart = pilot.app.screen.query_one(EquityChart)
        drawdown = chart.query_one("#drawdown-label", FlowLabel).plain
        equity = chart.query_one("#equity-label", FlowLabel).plain
    assert "worst -52.02 %" in drawdown
    assert "4,798.00" in equity and "10,000.00" in equity
