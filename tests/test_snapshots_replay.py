"""Snapshots of the Replay workspace: a stored run, fixed size, moves made by key."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from engine.store import open_db, save_backtest
from screens.replay.what_if import WhatIfScreen
from screens.replay.workspace import ReplayScreen
from tests.test_snapshots_backtest import _until
from tests.test_ui_replay import CONFIG
from tests.ui_support import make_app

SIZE = (160, 50)


@pytest.fixture
def replay_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from engine.runner import run_backtest

    monkeypatch.chdir(tmp_path)
    run_id = save_backtest(open_db("sqlite:///runs.sqlite"), run_backtest(CONFIG))
    return make_app(tmp_path, db_url="sqlite:///runs.sqlite"), run_id


async def _at_an_active_trailing_stop(pilot, run_id: int) -> None:
    app = pilot.app
    app.open_in_replay(run_id)
    await _until(pilot, lambda: isinstance(app.screen, ReplayScreen) and app.screen.replay is not None)
    replay = app.screen.replay
    while not (replay.engine.state.position is not None and replay.engine.state.position.trailing_active):
        await pilot.press("right")
    await pilot.press("right")
    await _log_drawn(pilot)


async def _log_drawn(pilot) -> None:
    log = pilot.app.screen.query_one("#events")
    await _until(pilot, lambda: bool(log.rows))
    await pilot.pause()


def test_replay_with_an_open_position_and_an_active_trailing_stop(snap_compare, replay_app) -> None:
    app, run_id = replay_app
    assert snap_compare(app, terminal_size=SIZE, run_before=lambda pilot: _at_an_active_trailing_stop(pilot, run_id))


def test_what_if_dialog_with_its_preview(snap_compare, replay_app) -> None:
    app, run_id = replay_app

    async def open_dialog(pilot) -> None:
        await _at_an_active_trailing_stop(pilot, run_id)
        await pilot.press("x")
        await _until(pilot, lambda: isinstance(pilot.app.screen, WhatIfScreen))
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=open_dialog)


def test_what_if_dialog_rejecting_an_amount(snap_compare, replay_app) -> None:
    app, run_id = replay_app

    async def bad_amount(pilot) -> None:
        await _at_an_active_trailing_stop(pilot, run_id)
        await pilot.press("x")
        await _until(pilot, lambda: isinstance(pilot.app.screen, WhatIfScreen))
        pilot.app.screen.query_one("#amount", Input).value = "120"
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=bad_amount)


def test_event_log_after_a_what_if_partial_exit(snap_compare, replay_app) -> None:
    app, run_id = replay_app

    async def half_off(pilot) -> None:
        await _at_an_active_trailing_stop(pilot, run_id)
        screen = pilot.app.screen
        await pilot.press("x")
        await _until(pilot, lambda: isinstance(pilot.app.screen, WhatIfScreen))
        await pilot.press("ctrl+s")  # take it: 50 % of the open size, the dialog's default
        await _until(pilot, lambda: pilot.app.screen is screen and screen.replay.is_branch)
        pilot.app.clear_notifications()  # the toast would time out at a machine-dependent moment
        await _log_drawn(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=half_off)


def test_branch_beside_its_parent(snap_compare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison a saved branch opens on, at its changed-trades tab (both runs created at
    the app's fixed clock, so the cards are stable)."""
    from engine.runner import run_backtest
    from screens.compare import CompareScreen
    from tests.ui_support import FIXED_NOW

    monkeypatch.chdir(tmp_path)
    run_id = save_backtest(open_db("sqlite:///runs.sqlite"), run_backtest(CONFIG), created_at=FIXED_NOW)
    app = make_app(tmp_path, db_url="sqlite:///runs.sqlite")

    async def saved(pilot) -> None:
        await _at_an_active_trailing_stop(pilot, run_id)
        screen = pilot.app.screen
        await pilot.press("x")
        await _until(pilot, lambda: isinstance(pilot.app.screen, WhatIfScreen))
        await pilot.press("ctrl+s")
        await _until(pilot, lambda: pilot.app.screen is screen and screen.replay.is_branch)
        await pilot.press("ctrl+s")  # save the branch
        await _until(pilot, lambda: isinstance(pilot.app.screen, CompareScreen))
        await pilot.app.workers.wait_for_complete()
        await pilot.press("3")
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=saved)
