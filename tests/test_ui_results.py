"""The results a trader reads, in the Backtest workspace and in History's run detail: every
report shows the engine's own figures, the tabs and keys reach each view, the trade detail
steps through the table's order, an 80x24 terminal cuts no figure, and the charts have
axes (dates, values) with the drawdown hanging down from zero.

Expected figures come from the run's ``report`` and ``metrics`` (the engine's), formatted
with ``format_metric``, never typed in.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from engine.config import BacktestConfig
from engine.data import sample_candles
from engine.metrics import METRIC_SPECS, format_metric
from engine.policy import ExitPolicy
from engine.runner import BacktestResult, run_backtest
from engine.store import open_db, save_backtest
from screens.backtest.messages import BacktestFinished
from screens.backtest.workspace import BacktestScreen
from screens.run_view import RunView
from screens.trade_detail import TradeDetailScreen
from screens.widgets.equity_chart import EquityChart
from screens.widgets.flow_text import FlowLabel
from screens.widgets.metrics_panel import MetricsPanel
from screens.widgets.price_chart import BUY, SELL, PriceChart
from screens.widgets.properties_view import PropertiesView
from screens.widgets.report_view import DRAWDOWN_ROWS, MONTHS, ReportView
from screens.widgets.results_view import ResultsView
from screens.widgets.series_chart import SeriesChart
from screens.widgets.trades_table import TradesTable
from tests.test_ui_backtest import _until
from tests.ui_support import make_app

SIZE = (160, 50)


@pytest.fixture(scope="module")
def run() -> BacktestResult:
    """Long and short, stop-loss, trailing stop and partial targets: several exit reasons."""
    policy = ExitPolicy(stop_loss_pct=4.0, trailing_activation_pct=2.0, trailing_distance_pct=1.5,
                        exit_targets=(3.0,), exit_sizes=(0.4,))
    config = BacktestConfig(params={"fast": 10, "slow": 30, "mode": "long_short"}, policy=policy)
    result = run_backtest(config, sample_candles())
    assert result.report["sides"]["long"]["trades"] and result.report["sides"]["short"]["trades"]
    assert len(result.report["exit_reasons"]) >= 3
    return result


async def posted(pilot, result: BacktestResult, run_id=None) -> ResultsView:
    """Post ``result`` to the workspace as its worker does, without a database; its results."""
    screen = pilot.app.screen
    assert isinstance(screen, BacktestScreen)
    screen.post_message(BacktestFinished(result, run_id, 1.0, RunView.from_result(result, run_id)))
    await _until(pilot, lambda: screen.result is result)
    return screen.query_one(ResultsView)


async def _shown(pilot, result: BacktestResult) -> ResultsView:
    """``result`` posted, the keys in its results."""
    results = await posted(pilot, result)
    results.focus_results()
    await pilot.pause()
    return results


def _lines(widget) -> list[str]:
    """The widget's lines as drawn, whole (a scrolled page renders all of its content)."""
    return [widget.render_line(y).text for y in range(widget.size.height)]


def _money(v) -> str:
    return format_metric(v, "money")


async def test_each_report_shows_the_engines_figures(tmp_path: Path, run: BacktestResult) -> None:
    report, metrics = run.report, run.metrics
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        results = await _shown(pilot, run)
        await pilot.press("3")
        await pilot.pause()
        view = results.query_one(ReportView)
        text = "\n".join(_lines(view))

        sides = view.table("Long vs short")
        for name in ("long", "short"):
            side = report["sides"][name]
            row = name.capitalize()
            assert sides.cell(row, "Trades") == format_metric(side["trades"], "int")
            assert sides.cell(row, "Win rate") == format_metric(side["win_rate_pct"], "pct")
            assert sides.cell(row, "Net profit") == _money(side["net_profit"])
            assert sides.cell(row, "Gross loss") == _money(side["gross_loss"])
            assert sides.cell(row, "Avg PnL") == _money(side["avg_pnl"])
            assert sides.cell(row, "Profit factor") == format_metric(side["profit_factor"], "ratio")
        # The "All" row is the summary's: the metrics themselves.
        assert sides.cell("All", "Net profit") == _money(metrics["net_profit"])
        assert sides.cell("All", "Trades") == format_metric(metrics["trades"], "int")
        assert sides.cell("All", "Avg PnL") == _money(metrics["expectancy"])
        long_line = next(line for line in text.splitlines() if line.split()[:1] == ["Long"] and "vs" not in line)
        assert _money(report["sides"]["long"]["net_profit"]) in long_line  # drawn, not only built

        exits = view.table("Exit reasons")
        assert [name for name, _ in exits.rows] == [r["reason"].replace("_", " ") for r in report["exit_reasons"]]
        for r in report["exit_reasons"]:
            name = r["reason"].replace("_", " ")
            assert exits.cell(name, "Trades") == format_metric(r["trades"], "int")
            assert exits.cell(name, "Net profit") == _money(r["net_profit"])
            assert exits.cell(name, "Avg PnL") == _money(r["avg_pnl"])
            assert exits.cell(name, "Win rate") == format_metric(r["win_rate_pct"], "pct")
            line = next(line for line in text.splitlines() if line.strip().startswith(name))
            assert _money(r["net_profit"]) in line

        months = view.table("Monthly returns (%)")
        for r in report["monthly_returns"]:
            year, month = r["period"].split("-")
            assert months.cell(year, MONTHS[int(month) - 1]) == f"{r['return_pct']:.2f}"
        for r in report["yearly_returns"]:
            assert months.cell(r["period"], "Year") == f"{r['return_pct']:.2f}"
            year_line = next(line for line in text.splitlines() if line.split()[:1] == [r["period"]])
            assert year_line.split()[-1] == f"{r['return_pct']:.2f}"

        # The deepest drawdown's dates and the trades a day, as the metrics say.
        for key in ("max_drawdown_start", "max_drawdown_bottom"):
            assert format_metric(metrics[key], "time") in text
        assert format_metric(metrics["trades_per_day"], "ratio") in text


def test_trades_per_day_has_two_decimals() -> None:
    """0.454 trades a day reads 0.45 in the metrics, the report, Compare and the CLI (one spec)."""
    spec = next(s for s in METRIC_SPECS if s.key == "trades_per_day")
    assert format_metric(0.454, spec.fmt) == "0.45"
    assert dict((k, f) for _, k, f in DRAWDOWN_ROWS)["trades_per_day"] == spec.fmt


async def test_an_old_run_without_a_report_says_so(tmp_path: Path, run: BacktestResult) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        results = pilot.app.screen.query_one(ResultsView)
        view = RunView.from_result(run, None)
        view.report, view.prices = None, None
        view.config = {k: v for k, v in view.config.items() if k != "data"}  # nor where its candles came from
        results.show(view)
        results.action_tab("reports")
        await pilot.pause()
        assert results.query_one(ReportView).missing
        assert "No report was stored" in "\n".join(_lines(results.query_one(ReportView)))
        results.action_tab("chart")
        await pilot.pause()
        assert "Price data not available" in "\n".join(_lines(results.query_one(PriceChart)))


async def test_tabs_and_keys_reach_each_view(tmp_path: Path, run: BacktestResult) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        results = await _shown(pilot, run)
        keys = pilot.app.screen.active_bindings
        for key, description in (("1", "Summary"), ("5", "Config"), ("t", "Trades"), ("m", "Metrics"), ("z", "Zoom")):
            assert keys[key].binding.description == description and keys[key].binding.show
        table = results.query_one(TradesTable)
        await pilot.press("t")
        assert results.active_tab == "trades" and table.has_focus
        await pilot.press("down", "down")
        assert table.cursor == 2  # the keys are the table's now
        await pilot.press("m")
        assert results.active_tab == "summary" and results.query_one("#summary-scroll").has_focus
        for key, tab in (("2", "trades"), ("3", "reports"), ("4", "chart"), ("5", "config"), ("1", "summary")):
            await pilot.press(key)
            assert results.active_tab == tab
            assert pilot.app.focused is not None and results in pilot.app.focused.ancestors_with_self
        # The form stepped aside for the results: they have the width already.
        assert results.size.width == SIZE[0]
        # z: the results alone, the status and the buttons gone too; escape: back.
        short = results.size.height
        await pilot.press("z")
        await pilot.pause()
        assert pilot.app.screen.maximized is results and results.size.height > short
        await pilot.press("escape")
        await pilot.pause()
        assert pilot.app.screen.maximized is None and results.size.height == short
        # Beside the form (ctrl+f), z still gives the results the whole screen.
        await pilot.press("ctrl+f")
        await pilot.pause()
        results.focus_results()  # ctrl+f put the keys in the form
        narrow = results.size.width
        assert narrow < SIZE[0]
        await pilot.press("z")
        await pilot.pause()
        assert pilot.app.screen.maximized is results and results.size.width == SIZE[0]
        await pilot.press("escape")
        await pilot.pause()
        assert pilot.app.screen.maximized is None and results.size.width == narrow


async def test_trade_detail_steps_through_the_tables_order(tmp_path: Path, run: BacktestResult) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        results = await _shown(pilot, run)
        await pilot.press("t")
        table = results.query_one(TradesTable)
        table.sort_by("pnl", reverse=True)
        order = table.visible_order()
        await pilot.press("enter")
        await _until(pilot, lambda: isinstance(app.screen, TradeDetailScreen))
        detail = app.screen
        assert detail.trade.trade_no == order[0]
        assert detail.query_one("Footer") is not None and "n" in detail.active_bindings
        await pilot.press("n", "n")
        assert detail.trade.trade_no == order[2]
        trade = {t.trade_no: t for t in run.trades}[order[2]]
        assert detail.trade.pnl == trade.pnl
        assert [f.price for f in detail.fills] == [f.price for f in run.fills if f.trade_no == order[2]]
        assert f"Trade #{order[2]}" in str(detail.query_one("#trade-summary").render())
        await pilot.press("p")
        assert detail.trade.trade_no == order[1]
        await pilot.press("p", "p")  # past the first: stays on it
        assert detail.trade.trade_no == order[0]
        await pilot.press("n")
        await pilot.press("escape")
        await _until(pilot, lambda: isinstance(app.screen, BacktestScreen))
        assert table.visible_order()[table.cursor] == order[1]  # the table followed


async def test_80x24_cuts_no_figure(tmp_path: Path, run: BacktestResult) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        results = await _shown(pilot, run)
        panel = results.query_one(MetricsPanel)
        assert panel.columns == 2  # the form stepped aside: two columns of figures fit in 80
        lines = _lines(panel)
        assert all(len(line.rstrip()) <= panel.content_region.width for line in lines)
        for spec in METRIC_SPECS:  # every label with its whole value on its line
            value = format_metric(run.metrics.get(spec.key), spec.fmt)
            if spec.key == "max_drawdown_recovery" and run.metrics.get(spec.key) is None:
                value = "not recovered"
            cell = re.compile(r"(^|\s)" + re.escape(spec.label) + r" +" + re.escape(value) + r"(\s|$)")
            assert any(cell.search(line) for line in lines), (spec.key, value)
        title = results.query_one("#results-title", FlowLabel)
        assert len(_lines(title)) <= 2 and title.plain.startswith("Run (not saved): sma_cross fast=10")
        await pilot.press("3")
        await pilot.pause()
        report = results.query_one(ReportView)
        text = "\n".join(_lines(report))
        for r in run.report["exit_reasons"]:
            assert _money(r["net_profit"]) in text
        for r in run.report["monthly_returns"]:
            assert f"{r['return_pct']:.2f}" in text


async def test_charts_have_axes_and_the_drawdown_hangs_from_zero(tmp_path: Path, run: BacktestResult) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        results = await _shown(pilot, run)
        chart = results.query_one(EquityChart)
        equity, drawdown = chart.query_one("#equity", SeriesChart), chart.query_one("#drawdown", SeriesChart)
        await pilot.pause()
        _lines(equity), _lines(drawdown)  # drawn
        # Value labels on round numbers inside the curves' range, dates inside the run's.
        low = min(run.equity.min(), chart.curve.hold_lo.min())
        high = max(run.equity.max(), chart.curve.hold_hi.max())
        bottom, top = equity.value_range()
        assert bottom < low and high < top and (top - bottom) < (high - low) * 1.2
        values = [float(t.replace(",", "")) for t in equity.y_labels.values()]
        assert len(values) >= 2 and all(bottom <= v <= top for v in values)
        assert [s.label for s in equity.series] == ["Strategy", "Buy & hold"]
        first, last = run.candles.index[0], run.candles.index[-1]
        dates = [pd.Timestamp(text, tz="UTC") for _, text in equity.x_labels]
        assert len(dates) >= 3 and dates == sorted(dates) and first <= dates[0] and dates[-1] <= last
        assert any(text in _lines(equity)[-1] for _, text in equity.x_labels)
        # Drawdown: zero at the top edge, down to the worst at the bottom, the start at zero.
        assert drawdown.y_labels[0] == "0 %" and drawdown.value_range()[1] == 0.0
        depths = drawdown.column_depths()
        rows = drawdown.layout_rows()[1]
        assert chart.curve.depth_lo[0] == 0.0 and (depths >= 0).all()  # from zero, never above it
        assert depths.max() == 8 * rows  # the worst reaches the bottom edge
        assert int(depths.argmax()) > 0 and depths[0] < depths.max()
        assert drawdown.value_range()[0] == pytest.approx(run.metrics["max_drawdown_pct"])
        # Buy and hold ends where the metric says it does.
        hold = run.config.balance * (1 + run.metrics["buy_hold_return_pct"] / 100)
        assert chart.curve.hold_last == pytest.approx(hold)
        assert _money(hold) in chart.query_one("#equity-label", FlowLabel).plain
        # The price chart: candles with the trades' buys and sells marked, dated.
        await pilot.press("4")
        await pilot.pause()
        price = results.query_one(PriceChart)
        text = "\n".join(_lines(price))
        assert price.marks_drawn[BUY] > 0 and price.marks_drawn[SELL] > 0 and BUY in text and SELL in text
        assert price.x_labels and price.y_labels


async def test_a_stored_run_reads_its_candles_again(tmp_path: Path, run: BacktestResult) -> None:
    database = open_db(f"sqlite:///{tmp_path / 'runs.sqlite'}")
    run_id = save_backtest(database, run)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        results = pilot.app.screen.query_one(ResultsView)
        view = RunView.from_store(database, run_id)
        assert view is not None and view.prices is None and view.report == run.report
        results.show(view)
        await _until(pilot, lambda: view.prices is not None)
        assert view.curve.hold_last == pytest.approx(run.config.balance * (1 + run.metrics["buy_hold_return_pct"] / 100))
        assert view.prices.bars == len(run.candles)
        props = results.query_one(PropertiesView)
        assert props.value("Run", "Id") == str(run_id)
        assert props.value("Exits and scaling", "Stop-loss") == "4 %"
        assert props.value("Exits and scaling", "Partial exit sizes") == "0.4 x original"
        assert props.value("Exits and scaling", "Max holding") == "off"


async def test_changed_candles_are_not_drawn_as_the_runs(tmp_path: Path, run: BacktestResult) -> None:
    database = open_db(f"sqlite:///{tmp_path / 'runs.sqlite'}")
    run_id = save_backtest(database, run)

    def changed(spec, progress=None, cancel=None):  # type: ignore[no-untyped-def]
        candles = sample_candles().copy()
        candles.iloc[100, candles.columns.get_loc("close")] *= 1.01
        return candles

    app = make_app(tmp_path, loader=changed)
    async with app.run_test(size=SIZE) as pilot:
        results = pilot.app.screen.query_one(ResultsView)
        view = RunView.from_store(database, run_id)
        results.show(view)
        await _until(pilot, lambda: bool(results.price_problem))
        assert "changed since the run was stored" in results.price_problem
        assert view.prices is None and not len(view.curve.hold_lo)
        results.action_tab("chart")
        await pilot.pause()
        assert "Price data not available" in "\n".join(_lines(results.query_one(PriceChart)))
