"""Pictures of the Live workspace: two open positions, the partial-exit dialog with its
preview and quick choices, the dialog refusing an amount, and the feed retrying.

Deterministic: a feed of a fixed number of sample candles that then stands still, the
app's fixed clock, a fixed terminal size, no blinking cursors."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Input

from engine.session.feed import FeedStatus
from screens.live.positions import PositionsTable
from screens.live.start import StartSessionScreen
from screens.live.workspace import LiveScreen
from screens.replay.what_if import WhatIfScreen
from tests.live_support import HeldFeed
from tests.test_snapshots_backtest import _until
from tests.ui_support import make_app

SIZE = (160, 50)
CANDLES = 45  # both sample symbols hold a long by then (entries at bars 30 and 34)
RETRYING = FeedStatus("retrying", "RequestTimeout: binance GET /api/v3/klines timed out", 4.0, 1672686000000)


def _app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, status_after=None, minimum: float = 0.0):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    app = make_app(tmp_path, db_url="sqlite:///live.sqlite")
    app.services.feed_factory = lambda config: HeldFeed(config.symbols, CANDLES, status_after, minimum)
    return app


async def _two_positions(pilot) -> LiveScreen:  # type: ignore[no-untyped-def]
    app = pilot.app
    await pilot.press("f3")
    screen = app.screen
    await pilot.press("n")
    await _until(pilot, lambda: isinstance(app.screen, StartSessionScreen))
    await pilot.press("ctrl+s")
    await _until(pilot, lambda: app.screen is screen and screen.session is not None)
    session = screen.session
    # Every candle processed, and the table showing each symbol's final price (drawn by a timer).
    await _until(pilot, lambda: sum(b.bars for b in session.books.values()) == 2 * CANDLES
                 and len(screen.query_one("#live-fills", DataTable).rows) == 2
                 and all(v.position is not None and v.last == session.books[s].last_price
                         and f"{v.last:,.2f}" == screen.query_one("#positions", PositionsTable).get_row(s)[5]
                         for s, v in screen.books.items()))
    screen.query_one("#positions", PositionsTable).focus()
    await _tables_settled(pilot)
    return screen


async def _tables_settled(pilot) -> None:  # type: ignore[no-untyped-def]
    """DataTables size their columns when idle, after rows change: wait until none has any
    sizing left to do, then for one more frame."""
    tables = list(pilot.app.screen.query(DataTable))
    await _until(pilot, lambda: not any(t._require_update_dimensions or t._new_rows or t._updated_cells
                                        for t in tables))
    await pilot.pause()


async def _still(pilot) -> None:  # type: ignore[no-untyped-def]
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    pilot.app.clear_notifications()
    await pilot.pause()
    if isinstance(pilot.app.screen, LiveScreen):
        await _tables_settled(pilot)


def test_live_workspace_with_two_open_positions(snap_compare, tmp_path, monkeypatch) -> None:
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _two_positions(pilot)
        await _still(pilot)

    assert snap_compare(_app(tmp_path, monkeypatch), terminal_size=SIZE, run_before=run_before)


def test_partial_exit_dialog_with_preview_and_quick_choices(snap_compare, tmp_path, monkeypatch) -> None:
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        screen = await _two_positions(pilot)
        screen.session.paused.set()
        await pilot.press("x")
        await _until(pilot, lambda: isinstance(pilot.app.screen, WhatIfScreen))
        await _still(pilot)

    # A minimum of 0.05 BTC on 0.1508 open: 25 % (0.038) is too small an order, 75 % would leave too little.
    assert snap_compare(_app(tmp_path, monkeypatch, minimum=0.05), terminal_size=SIZE, run_before=run_before)


def test_partial_exit_dialog_rejecting_an_amount(snap_compare, tmp_path, monkeypatch) -> None:
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        screen = await _two_positions(pilot)
        screen.session.paused.set()
        await pilot.press("x")
        await _until(pilot, lambda: isinstance(pilot.app.screen, WhatIfScreen))
        pilot.app.screen.query_one("#amount", Input).value = "150"
        await _still(pilot)

    assert snap_compare(_app(tmp_path, monkeypatch), terminal_size=SIZE, run_before=run_before)


def test_feed_retrying(snap_compare, tmp_path, monkeypatch) -> None:
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        screen = await _two_positions(pilot)
        await _until(pilot, lambda: "retrying" in screen.query_one("#live-feed").markup)
        await _still(pilot)

    assert snap_compare(_app(tmp_path, monkeypatch, status_after=RETRYING), terminal_size=SIZE, run_before=run_before)
