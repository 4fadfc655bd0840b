"""History, run detail, comparison, delete confirmation and the settings dialog, driven by Pilot.

The database is seeded with two real backtests on the embedded sample, so every
assertion is about what a user would see for real runs, and checked against the
database (state), not only against pixels.
"""

from __future__ import annotations

import tomllib
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import pytest
from sqlmodel import Session
from textual.widgets import Button, DataTable, Input

from atb_tui.app import create_app
from atb_tui.backends import Backends
from atb_tui.settings import Settings
from engine.config import BacktestConfig
from engine.metrics import format_metric
from engine.models import Run
from engine.runner import BacktestResult, run_backtest
from engine.store import list_runs, open_db, run_trades, save_backtest
from screens.compare import CompareScreen
from screens.confirm import ConfirmScreen
from screens.history import EMPTY_MESSAGE, HistoryScreen
from screens.run_detail import RunDetailScreen
from screens.settings import SettingsScreen
from screens.widgets.results_view import ResultsView
from screens.widgets.trades_table import TradesTable

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


async def open_history(pilot) -> HistoryScreen:
    await pilot.press("f4")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, HistoryScreen)
    return screen


async def test_history_lists_runs_newest_first(seeded) -> None:
    app, (sma_id, rsi_id) = seeded
    async with app.run_test(size=SIZE) as pilot:
        history = await open_history(pilot)
        assert history.sub_title == "History"
        assert history.order == [rsi_id, sma_id]  # rsi was saved an hour later
        table = history.query_one("#runs", DataTable)
        assert table.row_count == 2
        row = table.get_row(str(sma_id))
        assert row[2] == "2025-03-01 10:30"
        assert row[3] == "sma_cross" and row[4] == "BTC/USDT" and row[5] == "1h"
        metrics = sample_result("sma_cross").metrics
        assert str(row[7]) == format_metric(metrics["total_return_pct"], "pct")
        assert str(row[8]) == format_metric(metrics["max_drawdown_pct"], "pct")
        assert str(row[9]) == format_metric(metrics["trades"], "int")
        assert not history.query_one("#history-empty").display


async def test_empty_history_says_so(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        history = await open_history(pilot)
        empty = history.query_one("#history-empty")
        assert empty.display and EMPTY_MESSAGE in str(history.query_one("#history-empty-text").render())
        assert not history.query_one("#runs").display
        await pilot.press("d", "c")  # nothing to act on: no dialog, no crash
        assert pilot.app.screen is history


async def test_a_run_saved_elsewhere_appears_when_history_is_shown_again(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        history = await open_history(pilot)
        assert history.order == []
        await pilot.press("f1")
        save_backtest(app.services.database(), sample_result("sma_cross"))
        await pilot.press("f4")
        await pilot.pause()
        assert len(history.order) == 1 and history.query_one("#runs").display


async def test_enter_opens_the_run_with_its_trades(seeded) -> None:
    app, (sma_id, rsi_id) = seeded
    async with app.run_test(size=SIZE) as pilot:
        history = await open_history(pilot)
        await pilot.press("down", "enter")  # second row: the older sma_cross run
        await pilot.pause()
        detail = pilot.app.screen
        assert isinstance(detail, RunDetailScreen) and detail.run_id == sma_id
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
        await pilot.pause()
        compare = pilot.app.screen
        assert isinstance(compare, CompareScreen)
        assert compare.run_ids == (rsi_id, sma_id)  # marking order: A is the first marked
        a, b, diff = compare.values["total_return_pct"]
        rsi_ret = sample_result("rsi_reversion").metrics["total_return_pct"]
        sma_ret = sample_result("sma_cross").metrics["total_return_pct"]
        assert a == format_metric(rsi_ret, "pct") and b == format_metric(sma_ret, "pct")
        assert diff == f"{sma_ret - rsi_ret:+.2f} pp"
        table = compare.query_one(DataTable)
        assert str(table.get_row("total_return_pct")[1]) == a
        assert table.row_count == len(compare.values) + 6  # one heading row per metric group
        await pilot.press("escape")
        await pilot.pause()
        assert pilot.app.screen is history and history.marked == [rsi_id, sma_id]


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
        await pilot.pause()
        assert pilot.app.screen is history
        remaining = list_runs(app.services.database())
        assert [r.id for r in remaining] == [sma_id]
        assert run_trades(app.services.database(), rsi_id) == []
        assert history.order == [sma_id]
        assert history.query_one("#runs", DataTable).row_count == 1


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
        assert "between 0 and 10" in str(dialog.query_one("#err-fee_pct").render())
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
