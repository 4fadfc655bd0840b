"""Snapshots of the Backtest workspace: fixed size, fixed clock, fake data sources."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from screens.backtest.form import BacktestForm
from screens.trade_detail import TradeDetailScreen
from screens.widgets.metrics_panel import MetricsPanel
from screens.widgets.results_view import ResultsView
from screens.widgets.trades_table import TradesTable
from tests.ui_support import HeldDataSource, make_app

SIZE = (160, 50)


@pytest.fixture
def app_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)

    def build(**kw):
        return make_app(tmp_path, db_url="sqlite:///runs.sqlite", **kw)

    return build


async def _until(pilot, condition, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not condition():
        assert loop.time() < end, "condition not reached"
        await pilot.pause(0.02)


async def _settled(pilot, state, frames: int = 3, timeout: float = 60.0) -> None:
    """Until ``state()`` has stayed the same over ``frames`` pauses in a row."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    last, same = state(), 0
    while same < frames:
        assert loop.time() < end, "the layout did not settle"
        await pilot.pause(0.02)
        now = state()
        same = same + 1 if now == last else 0
        last = now


async def _finished_run(pilot, tab: str = "summary") -> None:
    form = pilot.app.screen.query_one(BacktestForm)
    for key, value in {"trailing_activation": "2", "trailing_distance": "1", "partial_targets": "2,4",
                       "partial_sizes": "0.3,0.3"}.items():
        form.set_value(key, value)
    await pilot.pause()
    await pilot.click("#run")
    await pilot.app.workers.wait_for_complete()
    await _until(pilot, lambda: pilot.app.screen.result is not None and not pilot.app.screen.saving)
    # The results come in one message; the keys go to them, on the tab asked for.
    results = pilot.app.screen.query_one(ResultsView)
    results.action_tab(tab)
    await pilot.wait_for_scheduled_animations()
    if tab == "trades":  # wait until the table draws its first trade at full width
        table = results.query_one(TradesTable)
        await _until(pilot, lambda: table.row_count > 0 and table.cells_at(0)[2] in table.render_line(1).text)
    elif tab == "summary":  # the metrics laid out for their width (not the first guess made before it)
        panel = results.query_one(MetricsPanel)
        await _until(pilot, lambda: panel.columns > 0 and panel.size.width > 0 and panel._width == panel.size.width)
    else:
        pane = results.query_one(f"#tab-{tab}")
        await _until(pilot, lambda: pane.size.width > 0 and pane.size.height > 0)
    # The run's candles read again for its charts (a worker the results start): drawn before the
    # picture, and the layout settled after the metrics' last re-layout (four columns are two
    # rows shorter than the first guess of three): the same screen over a few frames.
    await pilot.app.workers.wait_for_complete()
    await _settled(pilot, lambda: re.sub(r"terminal-\d+-", "", pilot.app.export_screenshot()))


def test_empty_backtest_form(snap_compare, app_in) -> None:
    assert snap_compare(app_in(), terminal_size=SIZE)


def test_form_with_validation_errors(snap_compare, app_in) -> None:
    async def type_bad_values(pilot) -> None:
        form = pilot.app.screen.query_one(BacktestForm)
        form.set_value("fee", "0.1x")
        form.set_value("p-fast", "50")
        form.set_value("partial_targets", "2,4")
        form.set_value("partial_sizes", "0.8,0.8")
        await pilot.pause()

    assert snap_compare(app_in(), terminal_size=SIZE, run_before=type_bad_values)


def test_run_in_progress(snap_compare, app_in) -> None:
    source = HeldDataSource()

    async def start_download(pilot) -> None:
        pilot.app.screen.query_one("#source").value = "exchange"
        pilot.app.screen.query_one(BacktestForm).set_value("since", "2024-01-01")
        await pilot.pause()
        await pilot.click("#run")
        await _until(pilot, source.waiting.is_set)
        await _until(pilot, lambda: "500" in str(pilot.app.screen.query_one("#status").render()))
        await pilot.pause()

    try:
        assert snap_compare(app_in(loader=source), terminal_size=SIZE, run_before=start_download)
    finally:
        source.release.set()


def test_results_of_a_finished_run(snap_compare, app_in) -> None:
    """Summary: the title, the metrics in three columns, equity with buy and hold and the drawdown."""
    assert snap_compare(app_in(), terminal_size=SIZE, run_before=_finished_run)


def test_trade_detail(snap_compare, app_in) -> None:
    """The best trade's detail, then n: the second best, with the dialog's own keys below."""

    async def open_trade(pilot) -> None:
        await _finished_run(pilot, "trades")
        table = pilot.app.screen.query_one(TradesTable)
        table.sort_by("pnl", reverse=True)
        table.move_cursor(row=0)
        await pilot.press("enter")
        await _until(pilot, lambda: isinstance(pilot.app.screen, TradeDetailScreen))
        await pilot.press("n")
        await pilot.pause()

    assert snap_compare(app_in(), terminal_size=SIZE, run_before=open_trade)


def test_trades_sorted_and_paged(snap_compare, app_in) -> None:
    """PnL descending (the header says so), a page down: the cursor on the last row shown."""

    async def sort_and_page(pilot) -> None:
        await _finished_run(pilot, "trades")
        table = pilot.app.screen.query_one(TradesTable)
        table.sort_by("pnl", reverse=True)
        await pilot.press("pagedown")
        await pilot.pause()

    assert snap_compare(app_in(), terminal_size=SIZE, run_before=sort_and_page)


def test_trades_zoomed_show_every_column(snap_compare, app_in) -> None:
    """z: the results alone on a 160x50 screen, every trades column whole."""

    async def zoom(pilot) -> None:
        await _finished_run(pilot, "trades")
        await pilot.press("z")
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()

    assert snap_compare(app_in(), terminal_size=SIZE, run_before=zoom)


@pytest.mark.parametrize("tab", ["reports", "config", "chart"])
def test_results_tab(snap_compare, app_in, tab: str) -> None:
    """Reports: long vs short, exit reasons, the months by year, the deepest drawdown's dates.
    Config: every setting of the run. Chart: the whole run's candles, buys and sells marked."""

    async def to_tab(pilot) -> None:
        await _finished_run(pilot, tab)

    assert snap_compare(app_in(), terminal_size=SIZE, run_before=to_tab)


def test_results_at_80x24(snap_compare, app_in) -> None:
    """A narrow terminal: the form gives up width, the metrics stack in one column, whole."""
    assert snap_compare(app_in(), terminal_size=(80, 24), run_before=_finished_run)


def test_results_at_220x60(snap_compare, app_in) -> None:
    """A large terminal: the metrics and both charts on one page."""
    assert snap_compare(app_in(), terminal_size=(220, 60), run_before=_finished_run)
