"""The Replay workspace driven by Pilot: open a stored run, step, step back, jump, go to, act, save."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from textual.widgets import Button, Input, Static

from engine.actions import AmountUnit
from engine.config import BacktestConfig
from engine.enums import Side
from engine.models import RunKind
from engine.policy import ExitPolicy, Sizing
from engine.runner import run_backtest
from engine.store import get_run, list_runs, open_db, save_backtest
from screens.compare import CompareScreen
from screens.choice import ChoiceScreen
from screens.run_detail import RunDetailScreen
from screens.history import HistoryScreen
from screens.replay.event_log import EventLog
from screens.replay.goto import GoToScreen
from screens.replay.what_if import WhatIfScreen
from screens.replay.workspace import ReplayScreen
from tests.test_ui_backtest import _until
from tests.ui_support import make_app

SIZE = (160, 50)
CONFIG = BacktestConfig(
    strategy="sma_cross", policy=ExitPolicy(stop_loss_pct=3, trailing_activation_pct=1, trailing_distance_pct=1.5),
)


def seeded(tmp_path: Path, config: BacktestConfig = CONFIG) -> tuple[object, int]:
    url = f"sqlite:///{tmp_path / 'runs.sqlite'}"
    run_id = save_backtest(open_db(url), run_backtest(config))
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
        log = screen.query_one("#events", EventLog)
        assert log.rows[0][0] == bar and log.text()[0].startswith(f"{bar} ") and "@" in log.text()[1]
        # Enter on an older event goes back to its bar.
        log.focus()
        older = log.rows[2][0]
        await pilot.press("down", "down", "enter")
        assert replay.cursor == older < bar
        await pilot.press("end")
        await pilot.press("g")
        await _until(pilot, lambda: isinstance(app.screen, GoToScreen))
        app.screen.query_one(Input).value = str(bar)
        await pilot.press("enter")
        await _until(pilot, lambda: app.screen is screen)
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


def _fingerprint_changed(tmp_path: Path, run_id: int) -> None:
    from sqlmodel import Session

    database = open_db(f"sqlite:///{tmp_path / 'runs.sqlite'}")
    with Session(database) as session:
        run = session.get(type(get_run(database, run_id)), run_id)
        run.data_fingerprint = "0" * 32
        session.add(run)
        session.commit()


async def _offer(pilot) -> ChoiceScreen:
    # The load fails fast: the offer may already be up by the time we look.
    await _until(pilot, lambda: isinstance(pilot.app.screen, ChoiceScreen) and pilot.app.screen.is_mounted)
    await pilot.pause()  # the dialog takes its keys once it is up
    return pilot.app.screen


async def test_a_run_whose_data_changed_can_be_opened_read_only(tmp_path) -> None:
    app, run_id = seeded(tmp_path)
    _fingerprint_changed(tmp_path, run_id)
    async with app.run_test(size=SIZE) as pilot:
        app.open_in_replay(run_id)
        offer = await _offer(pilot)
        replay_screen = app.screen_stack[-2]
        assert isinstance(replay_screen, ReplayScreen) and replay_screen.replay is None
        status = replay_screen.query_one("#replay-status")
        assert "changed since the run was stored" in status.markup
        assert [c.id for c in offer.choices] == ["rerun", "read-only", "no"]
        await pilot.press("o")
        await _until(pilot, lambda: isinstance(app.screen, RunDetailScreen))
        assert app.screen.run_id == run_id


async def test_a_run_whose_data_changed_can_be_re_run_on_the_current_data(tmp_path) -> None:
    app, run_id = seeded(tmp_path)
    _fingerprint_changed(tmp_path, run_id)
    database = open_db(f"sqlite:///{tmp_path / 'runs.sqlite'}")
    before = get_run(database, run_id)
    async with app.run_test(size=SIZE) as pilot:
        app.open_in_replay(run_id)
        await _offer(pilot)
        await pilot.press("r")
        await _until(pilot, lambda: isinstance(app.screen, ReplayScreen) and app.screen.replay is not None)
        new_id = app.screen.run_id
        assert new_id != run_id and len(list_runs(database)) == 2
        rerun = get_run(database, new_id)
        assert rerun.config == before.config and rerun.data_fingerprint != before.data_fingerprint
        assert get_run(database, run_id).metrics == before.metrics  # the old run keeps its results


async def test_a_run_whose_data_is_gone_offers_only_the_stored_results(tmp_path) -> None:
    from engine.errors import DataError

    def gone(spec, progress=None, cancel=None):  # type: ignore[no-untyped-def]
        raise DataError("prices.csv: no such file")

    _, run_id = seeded(tmp_path)
    app = make_app(tmp_path, loader=gone)
    async with app.run_test(size=SIZE) as pilot:
        app.open_in_replay(run_id)
        offer = await _offer(pilot)
        assert "cannot be loaded again" in offer.question and "no such file" in offer.question
        assert [c.id for c in offer.choices] == ["read-only", "no"]
        await pilot.press("n")
        await _until(pilot, lambda: isinstance(app.screen, ReplayScreen))
        assert app.screen.replay is None


async def _in_a_position(pilot, screen: ReplayScreen) -> None:
    while screen.replay.engine.state.position is None:
        await pilot.press("n")


async def _flat(pilot, screen: ReplayScreen) -> None:
    await pilot.press("right")  # actions happen at a bar's close: one bar at least
    while screen.replay.engine.state.position is not None or screen.replay.engine.state.pending is not None:
        await pilot.press("right")


@pytest.mark.parametrize("kind", ["scale_in", "close", "move_stops", "open"])
async def test_each_what_if_action_through_the_dialog(tmp_path, kind: str) -> None:
    from engine.actions import ActionKind

    # Half of equity per trade leaves room to scale in under the 1x leverage cap.
    app, run_id = seeded(tmp_path, dataclasses.replace(CONFIG, sizing=Sizing(fraction=0.5)))
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot, run_id)
        replay = screen.replay
        await (_flat if kind == "open" else _in_a_position)(pilot, screen)
        before = replay.engine.state.copy()
        price = float(replay.backtest.close[replay.cursor])
        await pilot.press("x")
        await _until(pilot, lambda: isinstance(app.screen, WhatIfScreen))
        dialog = app.screen
        dialog.query_one("#kind").value = ActionKind(kind)
        if kind == "scale_in":
            dialog.query_one("#amount", Input).value = "25"
        elif kind == "move_stops":
            sl, tp = (round(price * 0.9, 2), round(price * 1.2, 2))
            if before.position.side.value == "short":
                sl, tp = tp, sl
            dialog.query_one("#stop-loss", Input).value = str(sl)
            dialog.query_one("#take-profit", Input).value = str(tp)
        elif kind == "open":
            dialog.query_one("#side").value = Side.SHORT
            dialog.query_one("#amount", Input).value = "0.05"
            dialog.query_one("#unit").value = AmountUnit.BASE
        await pilot.pause()
        assert dialog.problem == "" and dialog.action_ready is not None and dialog.action_ready.kind.value == kind
        await pilot.press("ctrl+s")
        await _until(pilot, lambda: app.screen is screen)
        assert replay.is_branch and replay.actions[-1].action.kind.value == kind
        after = replay.engine.state.position
        if kind == "scale_in":
            assert after.current_size == pytest.approx(before.position.current_size * 1.25)
        elif kind == "close":
            assert after is None and replay.engine.journal.fills[-1].kind.value == "exit"
        elif kind == "move_stops":
            assert (after.stop_loss, after.take_profit) == (sl, tp) and after.current_size == before.position.current_size
        else:
            assert after.side is Side.SHORT and after.current_size == pytest.approx(0.05)
        assert "branch: 1 action(s)" in screen.query_one("#replay-status").markup
        # Stepping back past the action takes it out of the branch: forward again is the run itself.
        await pilot.press("left", "right")
        assert not replay.is_branch and replay.engine.state == before


async def test_autoplay_plays_pauses_and_stops_at_the_end(tmp_path) -> None:
    app, run_id = seeded(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot, run_id)
        replay = screen.replay
        await pilot.press("space")
        assert "▶" in screen.query_one("#replay-status").markup
        await _until(pilot, lambda: replay.cursor >= 10)
        await pilot.press("space")
        paused_at = replay.cursor
        for _ in range(5):
            await pilot.pause(0.05)
        assert replay.cursor == paused_at and "❚❚" in screen.query_one("#replay-status").markup
        # Faster moves more bars per frame; at the end it stops by itself and says so.
        await pilot.press("plus", "plus", "plus", "plus")
        screen.go_to(replay.n - 40)
        await pilot.press("space")
        await _until(pilot, lambda: replay.done and screen._player is None)
        status = screen.query_one("#replay-status").markup
        assert f"bar {replay.n - 1:,} of {replay.n - 1:,}" in status and "❚❚" in status
        assert replay.engine.state.position is None  # the end of the data closed what was open


async def test_chart_shows_volume_and_the_strategy_sub_panel_at_80x24(tmp_path) -> None:
    config = dataclasses.replace(CONFIG, strategy="rsi_reversion")
    app, run_id = seeded(tmp_path, config)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(pilot, run_id)
        await pilot.press("n")  # to the first fill: the log has something to show
        await pilot.pause()
        chart = screen.query_one("#chart")
        lines = [chart.render_line(y).text for y in range(chart.size.height)]
        rsi = float(screen.replay.plots[0].values[screen.replay.cursor])
        assert lines[0].strip().startswith(f"RSI 14 {rsi:.2f}") and "vol " in lines[0]
        title = next(i for i, line in enumerate(lines) if "RSI 14 ─" in line)
        assert any(line.rstrip().endswith("50") for line in lines[title:])  # exit; long only: no 70
        assert any(line.rstrip().endswith("30") for line in lines[title:])
        assert any("vol " in line for line in lines[1:title])  # the volume pane, above the sub-panel
        # The log keeps whole events at this width: two lines each rather than cut.
        log = screen.query_one("#events", EventLog)
        assert log.rows and len(log.text()) == 2 * len(log.rows)
        assert all(len(line) <= log.size.width for line in log.text())
        assert "@" in log.text()[1] and "@" not in log.text()[0]  # the figures under what happened
