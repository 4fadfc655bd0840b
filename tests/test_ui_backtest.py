"""Pilot flows of the Backtest workspace, asserting on state (database, tables, files)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from textual.widgets import Button, DataTable

from atb_tui.cli import main as cli_main
from engine.store import list_runs, open_db
from screens.backtest.form import BacktestForm
from screens.backtest.workspace import BacktestScreen
from screens.trade_detail import TradeDetailScreen
from screens.widgets.trades_table import TradesTable
from tests.ui_support import HeldDataSource, make_app

SIZE = (160, 50)


async def _until(pilot, condition, timeout: float = 30.0) -> None:
    """Let the app run until ``condition()`` holds."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not condition():
        if loop.time() > end:
            raise AssertionError("condition not reached")
        await pilot.pause(0.02)


def _fill(screen: BacktestScreen, **values: str) -> None:
    form = screen.query_one(BacktestForm)
    for key, value in values.items():
        form.set_value(key.replace("param_", "p-"), value)


async def test_configure_run_and_results_match_the_headless_cli(tmp_path: Path, capsys) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, BacktestScreen)
        _fill(screen, param_fast="12", param_slow="48", stop_loss="3", trailing_activation="2",
              trailing_distance="1.5", partial_targets="2,4", partial_sizes="0.3,0.3")
        await pilot.pause()
        assert not screen.query_one("#run", Button).disabled
        await pilot.click("#run")
        await app.workers.wait_for_complete()
        await _until(pilot, lambda: screen.result is not None)
        table = screen.query_one(TradesTable)
        ui_trades = {n: table.trade(n) for n in table.visible_order()}
        ui_metrics = screen.result.metrics
        run_id = screen.run_id
    code = cli_main([
        "backtest", "--strategy", "sma_cross", "--param", "fast=12", "--param", "slow=48", "--stop-loss", "3",
        "--trailing-activation", "2", "--trailing-distance", "1.5", "--partial-targets", "2,4",
        "--partial-sizes", "0.3,0.3", "--json", "--no-save",
    ])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    assert doc["metrics"] == ui_metrics
    assert len(doc["trades"]) == len(ui_trades) > 10
    for cli_trade in doc["trades"]:
        ui = ui_trades[cli_trade["trade_no"]]
        assert ui.entry_time.isoformat() == cli_trade["entry_time"] and ui.exit_price == cli_trade["exit_price"]
        assert ui.pnl == cli_trade["pnl"] and ui.exit_reason == cli_trade["exit_reason"]
    runs = list_runs(open_db(f"sqlite:///{tmp_path / 'runs.sqlite'}"))
    assert [r.id for r in runs] == [run_id]


async def test_cancel_mid_run_stores_nothing_and_the_form_stays_usable(tmp_path: Path) -> None:
    source = HeldDataSource()
    app = make_app(tmp_path, loader=source)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await pilot.click("#run")
        await _until(pilot, source.waiting.is_set)
        assert not screen.query_one("#cancel", Button).disabled
        assert screen.query_one("#run", Button).disabled
        await pilot.press("escape")
        await app.workers.wait_for_complete()
        await _until(pilot, lambda: not screen.running)
        assert "Cancelled" in str(screen.query_one("#status").render())
        assert not screen.query_one("#run", Button).disabled
        assert screen.result is None
        # The form still works: release the source and run again to completion.
        source.release.set()
        await pilot.click("#run")
        await app.workers.wait_for_complete()
        await _until(pilot, lambda: screen.result is not None)
    runs = list_runs(open_db(f"sqlite:///{tmp_path / 'runs.sqlite'}"))
    assert len(runs) == 1


async def test_an_invalid_csv_shows_an_error_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,open,high,low,close,volume\n2024-01-01,1,2,0.5,1.5,10\n2024-01-02,1,0.4,0.5,1.5,10\n")
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = app.screen
        screen.query_one("#source").value = "file"
        _fill(screen, path=str(bad))
        await pilot.pause()
        await pilot.click("#run")
        await app.workers.wait_for_complete()
        await _until(pilot, lambda: not screen.running)
        status = str(screen.query_one("#status").render())
        assert "bad.csv line 3" in status and "high" in status
        assert any("bad.csv line 3" in n.message for n in app._notifications)
        assert screen.result is None
    db = tmp_path / "runs.sqlite"
    assert not db.exists() or list_runs(open_db(f"sqlite:///{db}")) == []


async def test_validation_as_you_type_disables_run(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        run = screen.query_one("#run", Button)
        assert not run.disabled
        for key, value, needle in [
            ("fee", "abc", "not a number"),
            ("param_fast", "40", "fast"),
            ("partial_sizes", "0.5", "as many sizes"),
            ("trailing_activation", "1", "trailing"),
        ]:
            _fill(screen, **{key: value})
            await pilot.pause()
            assert run.disabled, key
            assert needle in str(screen.query_one("#problems").render())
            _fill(screen, **{key: ""} if key not in ("fee", "param_fast") else {key: {"fee": "0.1", "param_fast": "10"}[key]})
            await pilot.pause()
            assert not run.disabled, key


async def test_sort_trades_open_detail_and_export(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        _fill(screen, partial_targets="2", partial_sizes="0.5")
        await pilot.pause()
        await pilot.click("#run")
        await app.workers.wait_for_complete()
        await _until(pilot, lambda: screen.result is not None)
        table = screen.query_one(TradesTable)
        table.sort_by("pnl")
        order = table.visible_order()
        pnls = [table.trade(n).pnl for n in order]
        assert pnls == sorted(pnls)
        table.sort_by("pnl")  # same column again: descending
        assert [table.trade(n).pnl for n in table.visible_order()] == sorted(pnls, reverse=True)
        table.focus()
        table.move_cursor(row=0)
        await pilot.press("enter")
        await _until(pilot, lambda: isinstance(app.screen, TradeDetailScreen))
        detail = app.screen
        best = detail.trade
        assert best.pnl == max(pnls)
        kinds = [f.kind for f in detail.fills]
        assert kinds[0] == "entry" and kinds[-1] in ("exit",) and len(detail.query_one("#fills", DataTable).rows) == len(kinds)
        # Both entries, each labelled: the trade's cost basis and the moving average after each fill.
        fills_table = detail.query_one("#fills", DataTable)
        assert "Avg entry after" in [str(c.label) for c in fills_table.columns.values()]
        assert f"cost basis {best.entry_price:,.2f}" in str(detail.query_one("#trade-summary").render())
        assert fills_table.get_row_at(0)[4] == f"{detail.fills[0].avg_entry:,.2f}"
        await pilot.press("escape")
        await _until(pilot, lambda: isinstance(app.screen, BacktestScreen))
        await pilot.press("ctrl+e")
        await pilot.press("ctrl+j")
        await pilot.pause()
    csv_file = tmp_path / f"atb-run-{screen.run_id}-trades.csv"
    json_file = tmp_path / f"atb-run-{screen.run_id}.json"
    assert csv_file.read_text().count("\n") == len(pnls) + 1
    assert json.loads(json_file.read_text())["run_id"] == screen.run_id


async def test_open_in_replay_hands_the_run_over(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await pilot.click("#run")
        await app.workers.wait_for_complete()
        await _until(pilot, lambda: screen.result is not None)
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert app.current_mode == "replay"
        assert app.screen.run_id == screen.run_id


@pytest.mark.parametrize("key, mode", [("f4", "history"), ("f3", "live"), ("f2", "replay"), ("f1", "backtest")])
async def test_workspace_keys_switch_modes(tmp_path: Path, key: str, mode: str) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        if mode == "backtest":
            await pilot.press("f4")
        await pilot.press(key)
        await pilot.pause()
        assert app.current_mode == mode
