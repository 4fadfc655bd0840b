"""History, run detail, comparison, delete confirmation and the settings dialog, driven by Pilot.

The database is seeded with two real backtests on the embedded sample, so every
assertion is about what a user would see for real runs, and checked against the
database (state), not only against pixels. Paging, filtering and loading on workers
are driven on a few hundred seeded runs (:mod:`tests.run_seed`), and with a database
whose reads are held back, as a slow server's would be.
"""

from __future__ import annotations

import asyncio
import threading
import tomllib
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from sqlalchemy import event
from sqlmodel import Session
from textual.widgets import Button, DataTable, Input, Static

from atb_tui.app import create_app
from atb_tui.backends import Backends
from atb_tui.settings import Settings
from engine.config import BacktestConfig
from engine.metrics import format_metric
from engine.models import Run
from engine.runner import BacktestResult, run_backtest
from engine.export import run_json, trades_csv
from engine.store import get_run, list_runs, open_db, run_trades, save_backtest
from screens.compare import GRID, CompareScreen, overlay
from screens.equity_curve import EquityCurve
from screens.confirm import ConfirmScreen
from screens.history import EMPTY_MESSAGE, LOADING, HistoryScreen
from screens.run_detail import RunDetailScreen
from screens.runs_table import RunsTable
from screens.settings import SettingsScreen
from screens.widgets.metrics_panel import metric_text
from screens.widgets.results_view import ResultsView
from screens.widgets.series_chart import Series, SeriesChart
from screens.widgets.trades_table import TradesTable
from tests.run_seed import run_spec, seed_runs
from tests.test_ui_backtest import _until as until

FIXED_NOW = datetime(2025, 3, 14, 9, 26, tzinfo=timezone.utc)
SIZE = (120, 40)


@lru_cache(maxsize=None)
def sample_result(strategy: str) -> BacktestResult:
    # Each backtest runs once per session; saving the same result into many databases is harmless.
    return run_backtest(BacktestConfig(strategy=strategy))


def seed(db_url: str, strategies: tuple[str, ...] = ("sma_cross", "rsi_reversion")) -> list[int]:
    """Save one sample backtest per strategy, with fixed, distinct creation times (1 hour apart)."""
    database = open_db(db_url)
    ids = [save_backtest(database, sample_result(s)) for s in strategies]
    with Session(database) as session:
        for n, run_id in enumerate(ids):
            run = session.get(Run, run_id)
            assert run is not None
            run.created_at = datetime(2025, 3, 1, 10 + n, 30, tzinfo=timezone.utc)
            session.add(run)
        session.commit()
    database.dispose()
    return ids


def make_app(tmp_path: Path, **settings: object):
    return create_app(Backends(
        settings=Settings(**settings), db_url=f"sqlite:///{tmp_path}/t.sqlite", export_dir=tmp_path,
        settings_path=tmp_path / "settings.toml", now=lambda: FIXED_NOW, clock=lambda: 0.0,
    ))


@pytest.fixture
def seeded(tmp_path: Path):
    ids = seed(f"sqlite:///{tmp_path}/t.sqlite")
    return make_app(tmp_path), ids


async def settled(pilot) -> None:
    """Every worker done and its answer shown. A page request overtaken by a newer one is
    cancelled (its answer would be dropped): a cancelled worker counts as done."""
    app = pilot.app
    for _ in range(100):
        await asyncio.gather(*(worker.wait() for worker in list(app.workers)), return_exceptions=True)
        await pilot.pause()
        if not any(worker.is_running for worker in app.workers):  # an answer may start another read
            break
    await pilot.pause()


async def open_history(pilot) -> HistoryScreen:
    await pilot.press("f4")
    screen = pilot.app.screen
    assert isinstance(screen, HistoryScreen)
    await settled(pilot)
    assert not screen.reading
    return screen


def status(screen) -> str:
    return str(screen.query_one("#history-status", Static).render())


class HeldDatabase:
    """Holds every SQL statement of an engine until released: a slow or stuck server."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.release = threading.Event()
        self.waiting = threading.Event()
        event.listen(engine, "before_cursor_execute", self._hold)

    def _hold(self, *_: Any) -> None:
        self.waiting.set()
        self.release.wait(30)

    def stop(self) -> None:
        self.release.set()
        event.remove(self.engine, "before_cursor_execute", self._hold)


async def test_history_lists_runs_newest_first(seeded) -> None:
    app, (sma_id, rsi_id) = seeded
    async with app.run_test(size=SIZE) as pilot:
        history = await open_history(pilot)
        assert history.sub_title == "History"
        assert history.order == [rsi_id, sma_id]  # rsi was saved an hour later
        table = history.query_one("#runs", DataTable)
        assert table.row_count == 2
        line = table.get_row(str(sma_id))[0]

        def cell(key: str) -> str:
            return table.text_of(line, key)

        assert cell("id") == str(sma_id) and cell("when") == "2025-03-01 10:30"
        assert cell("strategy") == "sma_cross" and cell("symbol") == "BTC/USDT" and cell("timeframe") == "1h"
        assert cell("period") == "2023-01-01..2024-12-31"
        metrics = sample_result("sma_cross").metrics
        assert cell("return") == format_metric(metrics["total_return_pct"], "pct")
        assert cell("max_dd") == format_metric(metrics["max_drawdown_pct"], "pct")
        assert cell("trades") == format_metric(metrics["trades"], "int")
        assert cell("params") == "—"  # the sample runs have the strategies' default parameters
        header = table.columns[table.ordered_columns[0].key].label.plain
        assert table.text_of(header, "return") == "Return" and table.text_of(header, "params") == "Params"
        assert not history.query_one("#history-empty").display
        assert status(history).startswith("1–2 of 2 runs")


async def test_empty_history_says_so(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        history = await open_history(pilot)
        empty = history.query_one("#history-empty")
        assert empty.display and EMPTY_MESSAGE in str(history.query_one("#history-empty-text").render())
        assert not history.query_one("#runs").display
        assert not history.query_one("#history-filter").display  # nothing to filter
        await pilot.press("d", "c", "slash")  # nothing to act on: no dialog, no crash
        assert pilot.app.screen is history


async def test_a_run_saved_elsewhere_appears_when_history_is_shown_again(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        history = await open_history(pilot)
        assert history.order == []
        await pilot.press("f1")
        save_backtest(app.services.database(), sample_result("sma_cross"))
        await pilot.press("f4")
        await settled(pilot)
        assert len(history.order) == 1 and history.query_one("#runs").display


async def test_a_run_saved_while_history_is_shown_appears_without_a_key(tmp_path: Path, monkeypatch) -> None:
    """A backtest finishing in the background (or the CLI in another terminal) saves a run
    while History is on screen: the watcher notices and the new run comes in on top,
    the cursor staying on the run it was on."""
    monkeypatch.setattr(HistoryScreen, "WATCH_SECONDS", 0.05)
    seed(f"sqlite:///{tmp_path}/t.sqlite")
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        history = await open_history(pilot)
        await pilot.press("down")
        before = history.highlighted_id()
        new_id = await asyncio.to_thread(save_backtest, app.services.database(), sample_result("sma_cross"))
        await until(pilot, lambda: new_id in history.order)
        assert history.order[0] == new_id and history.highlighted_id() == before
        assert status(history).startswith("1–3 of 3 runs")


async def test_enter_opens_the_run_with_its_trades(seeded) -> None:
    app, (sma_id, rsi_id) = seeded
    async with app.run_test(size=SIZE) as pilot:
        history = await open_history(pilot)
        await pilot.press("down", "enter")  # second row: the older sma_cross run
        detail = pilot.app.screen
        assert isinstance(detail, RunDetailScreen) and detail.run_id == sma_id
        await settled(pilot)
        expected = len(run_trades(app.services.database(), sma_id))
        assert expected == len(sample_result("sma_cross").trades) > 0
        assert detail.view is not None and len(detail.view.trades) == expected
        assert detail.query_one(TradesTable).row_count == expected
        assert detail.query_one(ResultsView).view is detail.view
        await pilot.press("escape")
        await pilot.pause()
        assert pilot.app.screen is history


async def test_compare_two_marked_runs(seeded) -> None:
    app, (sma_id, rsi_id) = seeded
    async with app.run_test(size=SIZE) as pilot:
        history = await open_history(pilot)
        await pilot.press("space")
        await pilot.press("c")  # one marked: tells the user, stays
        await pilot.pause()
        assert pilot.app.screen is history
        assert any("1 marked" in n.message for n in pilot.app._notifications)
        await pilot.press("down", "space", "c")
        compare = pilot.app.screen
        assert isinstance(compare, CompareScreen)
        await settled(pilot)
        assert compare.loaded and compare.changed_trades  # different strategies: every trade differs
        assert compare.run_ids == (rsi_id, sma_id)  # marking order: A is the first marked
        a, b, diff = compare.values["total_return_pct"]
        rsi_ret = sample_result("rsi_reversion").metrics["total_return_pct"]
        sma_ret = sample_result("sma_cross").metrics["total_return_pct"]
        assert a == format_metric(rsi_ret, "pct") and b == format_metric(sma_ret, "pct")
        assert diff == f"{sma_ret - rsi_ret:+.2f} pp"
        # Worded as the results panel words them: a drawdown never regained is "not recovered".
        for cell, strategy in zip(compare.values["max_drawdown_recovery"], ("rsi_reversion", "sma_cross")):
            assert cell == metric_text("max_drawdown_recovery", sample_result(strategy).metrics, "time").plain
        assert "not recovered" in compare.values["max_drawdown_recovery"]
        table = compare.query_one(DataTable)
        assert str(table.get_row("total_return_pct")[1]) == a
        assert table.row_count == len(compare.values) + 6  # one heading row per metric group
        # Different strategies on the same costs: the strategy differs, the fee does not.
        await pilot.press("4")
        await pilot.pause()
        assert compare.config_differences[0] == "strategy"
        assert "fee_pct" not in compare.config_differences
        config = compare.query_one("#compare-config", DataTable)
        assert str(config.get_row_at(0)[0]) == compare.config_differences[0]
        # Both equity curves in one chart, each in its colour, the legend naming the runs
        # with the final equity the Metrics tab gives.
        await pilot.press("2")
        await pilot.pause()
        equity, drawdown = compare.query_one("#equity-chart", SeriesChart), compare.query_one("#drawdown-chart", SeriesChart)
        assert [s.role for s in equity.series] == ["s0", "s2"] and len(drawdown.series) == 2
        names = [s.label for s in equity.series]
        assert names[0].startswith(f"A #{rsi_id} rsi_reversion") and names[1].startswith(f"B #{sma_id} sma_cross")
        assert names[0].endswith(compare.values["final_equity"][0]) and names[1].endswith(compare.values["final_equity"][1])
        assert [s.label.split("worst ")[1] for s in drawdown.series] == list(compare.values["max_drawdown_pct"][:2])
        legend = equity.render_line(0).text
        assert names[0] in legend and names[1] in legend
        assert equity.x_labels and equity.y_labels  # dated, valued
        await pilot.press("escape")
        await pilot.pause()
        assert pilot.app.screen is history and history.marked == [rsi_id, sma_id]


def test_runs_over_different_periods_share_one_time_axis() -> None:
    """A's year and B's later half year on one axis: B blank before it begins, each curve's
    own figures kept."""
    hour = 3_600 * 1_000_000_000
    a_times = np.arange(0, 8760) * hour
    b_times = np.arange(4380, 8760) * hour
    a = EquityCurve.from_equity(np.linspace(100.0, 200.0, len(a_times)), 100.0, times=a_times)
    b = EquityCurve.from_equity(np.linspace(100.0, 50.0, len(b_times)), 100.0, times=b_times)
    equity, drawdown, times = overlay([a, b], [("A", "A dd"), ("B", "B dd")])
    assert times[0] == 0 and len(times) == GRID and a.times[-1] <= times[-1] < a_times[-1]
    assert not np.isnan(equity[0].lo).any()  # A covers the whole axis
    half = np.isnan(equity[1].lo)
    assert half[: GRID // 2 - 2].all() and not half[GRID // 2 + 2:].any()  # B only from its start
    assert np.nanmax(equity[1].hi) == pytest.approx(100.0) and np.nanmin(equity[1].lo) == pytest.approx(50.0, abs=0.1)
    assert np.nanmin(drawdown[1].lo) == pytest.approx(-50.0, abs=0.1)
    # Over the same period the curves are drawn as they are.
    same, _, same_times = overlay([a, a], [("A", "A dd"), ("B", "B dd")])
    assert same[1].lo is a.equity_lo and np.array_equal(same_times, a.times)


async def test_a_chart_leaves_a_series_blank_where_it_has_no_value(tmp_path: Path) -> None:
    from textual.app import App, ComposeResult

    class One(App):
        def compose(self) -> ComposeResult:
            yield SeriesChart(id="c")

    app = One()
    async with app.run_test(size=(40, 12)) as pilot:
        chart = app.query_one(SeriesChart)
        values = np.concatenate([np.full(50, np.nan), np.linspace(1.0, 2.0, 50)])
        chart.styles.height = 12
        chart.show([Series("late", values, values)])
        await pilot.pause()
        plot = [chart.render_line(y).text for y in range(1, 12)]  # under the legend; the values on the right
        dots = [[0x2800 < ord(ch) <= 0x28FF for ch in line] for line in plot]
        assert not any(any(row[:12]) for row in dots)  # the first half of the width: nothing drawn
        assert any(any(row[16:24]) for row in dots)  # the second half: the line


async def test_delete_asks_first_and_no_keeps_the_run(seeded) -> None:
    app, (sma_id, rsi_id) = seeded
    async with app.run_test(size=SIZE) as pilot:
        history = await open_history(pilot)
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(pilot.app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert pilot.app.screen is history
        assert len(list_runs(app.services.database())) == 2
        await pilot.press("delete")
        await pilot.pause()
        await pilot.press("enter")  # focus starts on the safe button
        await pilot.pause()
        assert len(list_runs(app.services.database())) == 2


async def test_delete_after_confirmation(seeded) -> None:
    app, (sma_id, rsi_id) = seeded
    async with app.run_test(size=SIZE) as pilot:
        history = await open_history(pilot)
        await pilot.press("d")
        await pilot.pause()
        dialog = pilot.app.screen
        assert isinstance(dialog, ConfirmScreen) and f"#{rsi_id}" in dialog.question
        await pilot.press("y")
        await settled(pilot)
        assert pilot.app.screen is history
        remaining = list_runs(app.services.database())
        assert [r.id for r in remaining] == [sma_id]
        assert run_trades(app.services.database(), rsi_id) == []
        assert history.order == [sma_id]
        assert history.query_one("#runs", DataTable).row_count == 1
        assert history.highlighted_id() == sma_id


# --- many runs: pages, filter, loading on workers -----------------------------------


def many(tmp_path: Path, count: int) -> tuple[Any, list[int]]:
    """An app on a database of ``count`` seeded runs; their ids oldest first."""
    database = open_db(f"sqlite:///{tmp_path}/t.sqlite")
    ids = seed_runs(database, count, points=10)
    database.dispose()
    return make_app(tmp_path), ids


def matching(count: int, test: Callable[[dict[str, Any]], bool]) -> list[int]:
    """Ids (newest first) of the seeded runs for which ``test(run_spec)`` holds."""
    return [i + 1 for i in reversed(range(count)) if test(run_spec(i))]


async def test_pages_of_many_runs(tmp_path: Path) -> None:
    app, ids = many(tmp_path, 230)
    newest_first = ids[::-1]
    async with app.run_test(size=SIZE) as pilot:
        history = await open_history(pilot)
        table = history.query_one("#runs", DataTable)
        assert history.order == newest_first[:50] and table.row_count == 50
        assert status(history).startswith("1–50 of 230 runs")

        await pilot.press("end")  # the oldest run, on the last page
        await settled(pilot)
        assert history.order == newest_first[200:] and history.highlighted_id() == ids[0]
        assert status(history).startswith("201–230 of 230 runs")
        await pilot.press("home")
        await settled(pilot)
        assert history.page_start == 0 and history.highlighted_id() == newest_first[0]

        table.move_cursor(row=49)
        await pilot.press("down")  # past the page's last row: the next page, at its top
        await settled(pilot)
        assert history.page_start == 50 and history.highlighted_id() == newest_first[50]
        await pilot.press("up")  # and back: the previous page, at its bottom
        await settled(pilot)
        assert history.page_start == 0 and history.highlighted_id() == newest_first[49]

        table.move_cursor(row=0)
        for _ in range(3):  # a screenful, then the rest of the page, then the next page
            await pilot.press("pagedown")
            await settled(pilot)
            if history.page_start:
                break
        assert history.page_start == 50 and history.highlighted_id() == newest_first[50]
        for _ in range(12):
            await pilot.press("pagedown")
            await settled(pilot)
        assert history.page_start == 200 and history.highlighted_id() == ids[0]  # no further than the last page


async def test_typing_a_filter_narrows_the_list(tmp_path: Path) -> None:
    count = 230
    app, _ = many(tmp_path, count)
    async with app.run_test(size=SIZE) as pilot:
        history = await open_history(pilot)
        await pilot.press("slash", *"strategy:sma_cross")  # c and o are bindings too: here they are text
        await settled(pilot)
        box = history.query_one("#history-filter", Input)
        assert pilot.app.screen is history and box.value == "strategy:sma_cross" and box.has_focus
        expected = matching(count, lambda r: r["strategy"] == "sma_cross")
        assert history.order == expected[:50] and history.total == len(expected)
        assert status(history).startswith(f"1–50 of {len(expected)} runs matching the filter")

        box.value = "fast=9"  # a parameter's exact value
        await settled(pilot)
        expected = matching(count, lambda r: r["params"].get("fast") == 9)
        assert 0 < history.total == len(expected) and history.order == expected[: len(history.order)]
        assert all(history.runs[i].params["fast"] == 9 for i in history.order)

        box.value = "eth replay"  # free words: each in the strategy, symbol, kind or parameters
        await settled(pilot)
        expected = matching(count, lambda r: r["symbol"] == "ETH/USDT" and r["kind"] == "REPLAY")
        assert history.order == expected and expected

        box.value = "no-such-thing"
        await settled(pilot)
        assert history.order == [] and "No run matches" in status(history)

        await pilot.press("enter")  # to the list; Escape there clears the filter
        assert history.query_one("#runs").has_focus
        await pilot.press("escape")
        await settled(pilot)
        assert box.value == "" and history.total == count


async def test_a_slow_database_shows_loading_and_keys_still_work(tmp_path: Path) -> None:
    app, ids = many(tmp_path, 60)
    held = HeldDatabase(app.services.database())
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f4")
            history = pilot.app.screen
            assert isinstance(history, HistoryScreen)
            await until(pilot, held.waiting.is_set)
            await pilot.pause()
            assert status(history).startswith(LOADING)
            assert LOADING in str(history.query_one("#history-empty-text").render())
            await pilot.press("f1")  # the app answers while the read is stuck
            assert pilot.app.screen.__class__.__name__ == "BacktestScreen"
            await pilot.press("f4")
            assert pilot.app.screen is history
            held.release.set()
            await until(pilot, lambda: len(history.order) == 50)
            assert not history.reading

            held.release.clear()
            held.waiting.clear()
            await pilot.press("slash", "s", "o", "l")
            await until(pilot, held.waiting.is_set)
            await pilot.pause()
            assert status(history).startswith(LOADING) and len(history.order) == 50  # the old rows stay
            await pilot.press("escape", "down", "down")  # back on the list, which still moves
            assert history.query_one("#runs", DataTable).cursor_row == 2
            assert history.query_one("#history-filter", Input).value == "sol"
            held.release.set()
            await settled(pilot)
            expected = matching(60, lambda r: r["symbol"] == "SOL/USDT")
            assert history.order == expected and not status(history).startswith(LOADING)

            held.release.clear()
            await pilot.press("enter")  # a run detail, read on a worker too
            detail = pilot.app.screen
            assert isinstance(detail, RunDetailScreen)
            await pilot.pause()
            assert "Loading run" in str(detail.query_one("#run-missing", Static).render())
            await pilot.press("escape")
            assert pilot.app.screen is history
            await pilot.press("space", "down", "space", "c")
            compare = pilot.app.screen
            assert isinstance(compare, CompareScreen)
            await pilot.pause()
            assert str(compare.query_one("#compare-a", Static).render()) == LOADING
            held.release.set()
            await settled(pilot)
            a_return = run_spec(expected[0] - 1)["return"]
            assert compare.loaded and compare.values["total_return_pct"][0] == format_metric(a_return, "pct")
    finally:
        held.stop()


async def test_after_a_delete_the_cursor_stays_with_the_neighbours(tmp_path: Path) -> None:
    app, ids = many(tmp_path, 120)
    newest_first = ids[::-1]
    database = app.services.database()
    async with app.run_test(size=SIZE) as pilot:
        history = await open_history(pilot)
        await pilot.press("down", "down", "down", "d", "y")
        await settled(pilot)
        assert get_run(database, newest_first[3]) is None
        assert history.highlighted_id() == newest_first[4]  # the next older run, in the same place
        assert history.query_one("#runs", DataTable).cursor_row == 3
        assert len(history.order) == 50 and status(history).startswith("1–50 of 119 runs")

        # Two quick deletes while the database is slow: the second acts on the neighbour the
        # cursor moved to, not on a row a late reload put back.
        held = HeldDatabase(database)
        try:
            await pilot.press("d", "y")
            await until(pilot, held.waiting.is_set)
            assert history.highlighted_id() == newest_first[5]
            await pilot.press("d")
            dialog = pilot.app.screen
            assert isinstance(dialog, ConfirmScreen) and f"#{newest_first[5]} " in dialog.question
            await pilot.press("y")
            held.release.set()
            await settled(pilot)
        finally:
            held.stop()
        gone = [i for i in newest_first[:8] if get_run(database, i) is None]
        assert gone == newest_first[3:6]
        assert history.highlighted_id() == newest_first[6] and history.order[:4] == newest_first[:3] + [newest_first[6]]
        assert len(history.order) == 50 and status(history).startswith("1–50 of 117 runs")


async def test_deleting_the_only_run_of_the_last_page_lands_on_the_page_before(tmp_path: Path) -> None:
    app, ids = many(tmp_path, 101)
    async with app.run_test(size=SIZE) as pilot:
        history = await open_history(pilot)
        await pilot.press("end")
        await settled(pilot)
        assert history.order == [ids[0]]
        await pilot.press("d", "y")
        await settled(pilot)
        assert history.page_start == 50 and history.highlighted_id() == ids[1]


async def test_a_stored_run_exports_as_a_fresh_run_does_and_opens_in_replay(seeded, tmp_path: Path) -> None:
    import json

    from screens.replay.workspace import ReplayScreen

    app, (sma_id, rsi_id) = seeded
    async with app.run_test(size=SIZE) as pilot:
        await open_history(pilot)
        await pilot.press("enter")  # the newest: rsi_reversion
        detail = pilot.app.screen
        assert isinstance(detail, RunDetailScreen)
        await settled(pilot)
        assert not detail.query_one("#export-csv", Button).disabled
        await pilot.press("ctrl+e", "ctrl+j")
        await settled(pilot)
        fresh = sample_result("rsi_reversion")
        assert (tmp_path / f"atb-run-{rsi_id}-trades.csv").read_text() == trades_csv(fresh)
        assert json.loads((tmp_path / f"atb-run-{rsi_id}.json").read_text()) == json.loads(run_json(fresh, rsi_id))
        await pilot.press("ctrl+e")  # again: a second file, the first one kept
        await settled(pilot)
        assert (tmp_path / f"atb-run-{rsi_id}-trades-2.csv").read_text() == trades_csv(fresh)
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(pilot.app.screen, ReplayScreen) and pilot.app.screen.replay is not None)
        assert pilot.app.screen.run_id == rsi_id


async def test_an_export_that_cannot_be_written_says_why(seeded, tmp_path: Path) -> None:
    app, _ = seeded
    app.services.export_dir = tmp_path / "t.sqlite" / "no"  # under a file: no folder can be made
    async with app.run_test(size=SIZE) as pilot:
        await open_history(pilot)
        await pilot.press("enter")
        await settled(pilot)
        await pilot.press("ctrl+j")
        await settled(pilot)
        assert any(n.message.startswith("Could not export") for n in pilot.app._notifications)
        assert isinstance(pilot.app.screen, RunDetailScreen)


async def test_settings_reject_a_bad_fee_and_save_a_good_one(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    path = tmp_path / "settings.toml"
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f8")
        await pilot.pause()
        dialog = pilot.app.screen
        assert isinstance(dialog, SettingsScreen)
        save = dialog.query_one("#save", Button)
        fee = dialog.query_one("#set-fee_pct", Input)
        assert not save.disabled

        fee.value = "25"
        await pilot.pause()
        assert save.disabled
        assert "at least 0 % and below 10 %" in str(dialog.query_one("#err-fee_pct").render())
        assert fee.has_class("-invalid")

        fee.value = "abc"
        await pilot.pause()
        assert save.disabled and "not a number" in str(dialog.query_one("#err-fee_pct").render())
        await pilot.click("#save")  # disabled: nothing is written
        assert not path.exists()

        fee.value = "0.075"
        dialog.query_one("#set-balance", Input).value = "2500"
        await pilot.pause()
        assert not save.disabled and not dialog.query_one("#err-fee_pct").display
        await pilot.click("#save")
        await pilot.pause()
        assert not isinstance(pilot.app.screen, SettingsScreen)

    saved = tomllib.loads(path.read_text(encoding="utf-8"))
    assert saved["fee_pct"] == 0.075 and saved["balance"] == 2500.0
    assert app.services.settings.fee_pct == 0.075


async def test_settings_cancel_writes_nothing_and_hides_a_db_password(tmp_path: Path) -> None:
    url = "postgresql://trader:s3cret@db.example/atb"
    app = make_app(tmp_path, db_url=url)
    app.services.db_url = f"sqlite:///{tmp_path}/t.sqlite"  # the app itself stays on the temp database
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f8")
        await pilot.pause()
        dialog = pilot.app.screen
        assert isinstance(dialog, SettingsScreen)
        shown = dialog.query_one("#set-db_url", Input).value
        assert "s3cret" not in shown and shown == "postgresql://trader:***@db.example/atb"
        new, problems = dialog.candidate()
        assert problems == {} and new is not None and new.db_url == url  # masked text keeps the real URL
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(pilot.app.screen, SettingsScreen)
    assert not (tmp_path / "settings.toml").exists()


async def test_params_take_the_width_a_wider_table_leaves(tmp_path: Path) -> None:
    """The runs of a sweep differ in their parameters: cut at 18 columns, "mode" and what
    followed were hidden even at 220 wide. Params takes the room; narrowed, it gives it back."""
    from tests.run_seed import seed_runs

    db = open_db(f"sqlite:///{tmp_path}/t.sqlite")  # the app's database (make_app)
    seed_runs(db, 1)
    with Session(db) as session:  # a run with many parameters
        run = session.get(Run, 1)
        run.config = {**run.config, "params": {"fast": 12, "slow": 48, "mode": "long_short"}}
        session.add(run)
        session.commit()
    full = "fast=12, slow=48, mode=long_short"
    app = make_app(tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        history = await open_history(pilot)
        await settled(pilot)
        table = history.query_one(RunsTable)
        assert table.text_of(table.get_row("1")[0], "params") == full
        assert table.text_of(table.get_row("1")[0], "period") == "2023-01-01..2024-12-31"
        await pilot.resize_terminal(100, 30)
        await settled(pilot)
        cut = table.text_of(table.get_row("1")[0], "params")
        assert cut.endswith("…") and full.startswith(cut[:-1]) and len(cut) == 18
        assert table.text_of(table.get_row("1")[0], "period") == "2023-01-01..2024-12-31"


async def test_a_stored_run_opens_in_the_backtest_form_and_runs_again(tmp_path: Path) -> None:
    """From History's run detail: ctrl+b puts the run's whole configuration in the Backtest
    form; ctrl+r runs it again as it is, to the same trades and metrics."""
    import dataclasses

    from engine.policy import ExitPolicy, Sizing
    from screens.backtest.form import BacktestForm
    from screens.backtest.workspace import BacktestScreen

    config = BacktestConfig(strategy="sma_cross", params={"fast": 12, "slow": 40, "mode": "long_short"},
                            fee_pct=0.2, slippage_pct=0.0, balance=25_000.0, sizing=Sizing(fraction=0.5),
                            policy=ExitPolicy(stop_loss_pct=3.0, exit_targets=(2.0, 4.0), exit_sizes=(0.3, 0.3)))
    database = open_db(f"sqlite:///{tmp_path}/t.sqlite")
    first = run_backtest(config)
    run_id = save_backtest(database, first)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_history(pilot)
        await pilot.press("enter")
        await settled(pilot)
        assert isinstance(pilot.app.screen, RunDetailScreen)
        await pilot.press("ctrl+b")
        def loaded() -> bool:
            forms = pilot.app.screen.query(BacktestForm) if isinstance(pilot.app.screen, BacktestScreen) else []
            return bool(forms) and forms[0].memory()["params"].get("fast") == "12"

        await until(pilot, loaded)
        form = pilot.app.screen.query_one(BacktestForm)
        await pilot.pause()
        params_as_typed = {k: str(v) for k, v in config.params.items()}  # the form's (and the CLI's) text
        assert form.build() == dataclasses.replace(config, params=params_as_typed)
        assert not pilot.app.screen.form_hidden
        await pilot.press("f4")  # back to History, where the run's detail still is
        await settled(pilot)
        assert isinstance(pilot.app.screen, RunDetailScreen)
        await pilot.press("ctrl+r")
        await until(pilot, lambda: isinstance(pilot.app.screen, BacktestScreen) and len(list_runs(database)) == 2)
    again = max(list_runs(database), key=lambda r: r.id)
    stored = get_run(database, run_id).config
    assert again.id != run_id and again.config == {**stored, "params": {k: str(v) for k, v in stored["params"].items()}}
    assert again.metrics == first.metrics
    assert [t.pnl for t in run_trades(database, again.id)] == [t.pnl for t in first.trades]
