"""The Replay workspace driven by Pilot: open a stored run, step, step back, jump, go to, act, save."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Button, DataTable, Input, Static

from engine.config import BacktestConfig
from engine.models import RunKind
from engine.policy import ExitPolicy
from engine.runner import run_backtest
from engine.store import get_run, list_runs, open_db, save_backtest
from screens.compare import CompareScreen
from screens.confirm import ConfirmScreen
from screens.run_detail import RunDetailScreen
from screens.history import HistoryScreen
from screens.replay.goto import GoToScreen
from screens.replay.what_if import WhatIfScreen
from screens.replay.workspace import ReplayScreen
from tests.test_ui_backtest import _until
from tests.ui_support import make_app

SIZE = (160, 50)
CONFIG = BacktestConfig(
    strategy="sma_cross", policy=ExitPolicy(stop_loss_pct=3, trailing_activation_pct=1, trailing_distance_pct=1.5),
)


def seeded(tmp_path: Path) -> tuple[object, int]:
    url = f"sqlite:///{tmp_path / 'runs.sqlite'}"
    run_id = save_backtest(open_db(url), run_backtest(CONFIG))
    return make_app(tmp_path), run_id


async def opened(pilot, run_id: int) -> ReplayScreen:
    pilot.app.open_in_replay(run_id)
    await _until(pilot, lambda: isinstance(pilot.app.screen, ReplayScreen) and pilot.app.screen.replay is not None)
    return pilot.app.screen


async def test_step_back_jump_and_go_to(tmp_path) -> None:
    app, run_id = seeded(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot, run_id)
        replay = screen.replay
        assert replay.cursor == -1
        for _ in range(40):
            await pilot.press("right")
        assert replay.cursor == 39
        state = replay.engine.state.copy()
        await pilot.press("right", "right", "left", "left")
        assert replay.cursor == 39 and replay.engine.state == state
        await pilot.press("n")  # to the next bar with a fill
        bar = replay.cursor
        assert bar > 39 and replay.engine.journal.fills[-1].bar == bar
        assert str(bar) in screen.query_one("#replay-status").markup
        table = screen.query_one("#events", DataTable)
        assert table.row_count >= 1 and str(table.get_row_at(0)[0]).startswith(f"{bar} ")
        await pilot.press("p")
        assert replay.cursor < bar
        await pilot.press("g")
        await _until(pilot, lambda: isinstance(app.screen, GoToScreen))
        app.screen.query_one(Input).value = "2023-03-01 12:30"
        await pilot.press("enter")
        await _until(pilot, lambda: app.screen is screen)
        index = replay.backtest.candles.index
        assert f"{index[replay.cursor]:%Y-%m-%d %H:%M}" == "2023-03-01 12:00"
        await pilot.press("end")
        assert replay.done and replay.backtest.trades == run_backtest(CONFIG).trades
        await pilot.press("home")
        assert replay.cursor == -1 and not replay.backtest.fills


async def test_a_what_if_partial_exit_becomes_a_saved_branch_beside_its_parent(tmp_path) -> None:
    app, run_id = seeded(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot, run_id)
        replay = screen.replay
        while replay.engine.state.position is None:
            await pilot.press("n")
        size = replay.engine.state.position.current_size
        await pilot.press("x")
        await _until(pilot, lambda: isinstance(app.screen, WhatIfScreen))
        dialog = app.screen
        dialog.query_one("#amount", Input).value = "150"
        await pilot.pause()
        assert "at most 100 %" in dialog.problem and dialog.query_one("#confirm", Button).disabled
        dialog.query_one("#amount", Input).value = "50"
        await pilot.pause()
        assert dialog.problem == "" and "size after" in str(dialog.query_one("#preview", Static).render())
        await pilot.click("#confirm")
        await _until(pilot, lambda: app.screen is screen)
        assert replay.is_branch and replay.engine.state.position.current_size == pytest.approx(size / 2)
        assert replay.engine.journal.fills[-1].reason == "manual"
        touched = replay.engine.journal.fills[-1].trade_no
        await pilot.press("ctrl+s")
        await _until(pilot, lambda: isinstance(app.screen, CompareScreen))
        await app.workers.wait_for_complete()
        await pilot.pause()
        card = str(app.screen.query_one("#compare-b", Static).render())
        assert f"branch of run #{run_id}: partial exit at bar" in card
        assert touched in app.screen.changed_trades  # the trade cut in half, at least, differs
    database = open_db(f"sqlite:///{tmp_path / 'runs.sqlite'}")
    branch = next(r for r in list_runs(database) if r.id != run_id)
    assert branch.kind is RunKind.REPLAY and branch.parent_run_id == run_id
    assert [a["do"] for a in branch.config["actions"]] == ["partial_exit"]
    assert get_run(database, run_id).metrics != branch.metrics


async def test_history_opens_a_run_in_replay(tmp_path) -> None:
    app, run_id = seeded(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4")
        await _until(pilot, lambda: isinstance(app.screen, HistoryScreen) and app.screen.order)
        await pilot.press("o")
        await _until(pilot, lambda: isinstance(app.screen, ReplayScreen) and app.screen.replay is not None)
        assert app.screen.run_id == run_id


async def test_a_run_whose_data_is_gone_says_so(tmp_path) -> None:
    app, run_id = seeded(tmp_path)
    database = open_db(f"sqlite:///{tmp_path / 'runs.sqlite'}")
    from sqlmodel import Session

    with Session(database) as session:
        run = session.get(type(get_run(database, run_id)), run_id)
        run.data_fingerprint = "0" * 32
        session.add(run)
        session.commit()
    async with app.run_test(size=SIZE) as pilot:
        app.open_in_replay(run_id)
        # The load fails fast: the offer may already be up by the time we look.
        await _until(pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.screen.is_mounted)
        await pilot.pause()  # the dialog takes its keys once it is up
        replay_screen = app.screen_stack[-2]
        assert isinstance(replay_screen, ReplayScreen) and replay_screen.replay is None
        status = replay_screen.query_one("#replay-status")
        assert "changed since the run was stored" in status.markup and "read-only" in app.screen.question
        await pilot.press("y")
        await _until(pilot, lambda: isinstance(app.screen, RunDetailScreen))
        assert app.screen.run_id == run_id
