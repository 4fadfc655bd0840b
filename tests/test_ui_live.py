"""The Live workspace driven by Pilot: start a paper session on a fast sample feed, take a
third off one position and scale into another, stop, and find it all again after a restart."""

from __future__ import annotations

from textual.widgets import DataTable, Input

from engine.session.feed import ReplayFeed, sample_feed_candles
from engine.session.session import LiveSession
from engine.session import store
from screens.live.start import StartSessionScreen
from screens.live.workspace import LiveScreen
from screens.replay.what_if import WhatIfScreen
from tests.test_ui_backtest import _until
from tests.ui_support import make_app

SIZE = (160, 50)


def fast_sample(config):  # type: ignore[no-untyped-def]
    """The sample feed at 400 candles a second: positions open within a second."""
    return ReplayFeed({s: c.iloc[:3000] for s, c in sample_feed_candles(list(config.symbols)).items()}, 400.0)


async def test_a_paper_session_from_start_to_restart(tmp_path) -> None:
    app = make_app(tmp_path)
    app.services.feed_factory = fast_sample
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f3")
        screen = app.screen
        assert isinstance(screen, LiveScreen)
        await pilot.press("n")
        await _until(pilot, lambda: isinstance(app.screen, StartSessionScreen))
        assert app.screen.config is not None and app.screen.config.symbols == ("BTC/USDT", "ETH/USDT")
        await pilot.press("ctrl+s")
        await _until(pilot, lambda: isinstance(app.screen, LiveScreen) and screen.session is not None)
        session: LiveSession = screen.session
        await _until(pilot, lambda: len(session.open_positions()) == 2)
        session.paused.set()  # hold the market still while the trader acts
        table = screen.query_one("#positions", DataTable)
        table.focus()
        table.move_cursor(row=0)
        before = session.open_positions()["BTC/USDT"]
        await pilot.press("x")
        await _until(pilot, lambda: isinstance(app.screen, WhatIfScreen))
        app.screen.query_one("#amount", Input).value = str(100 / 3)
        await pilot.pause()
        assert app.screen.problem == ""
        await pilot.press("ctrl+s")
        await _until(pilot, lambda: app.screen is screen)
        after = session.open_positions()["BTC/USDT"]
        assert after.current_size == before.current_size * 2 / 3 or abs(after.current_size / before.current_size - 2 / 3) < 1e-12
        table.move_cursor(row=1)
        eth = session.open_positions()["ETH/USDT"]
        await pilot.press("a")
        await _until(pilot, lambda: isinstance(app.screen, WhatIfScreen))
        app.screen.query_one("#amount", Input).value = "20"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await _until(pilot, lambda: app.screen is screen)
        assert session.open_positions()["ETH/USDT"].current_size > eth.current_size
        await pilot.pause(0.2)  # the table redraws prices on its timer
        assert f"{after.current_size:.6g}" in str(table.get_row("BTC/USDT")[2])
        kept = session.open_positions()
        await pilot.press("s")
        await _until(pilot, lambda: screen.session is None)
        await app.workers.wait_for_complete()
    rows = store.session_fills(session.db, session.id)
    assert [r.reason for r in rows if r.reason == "manual"] == ["manual", "manual"]

    # A new app on the same database shows the session as it was left.
    again = make_app(tmp_path)
    async with again.run_test(size=SIZE) as pilot:
        await pilot.press("f3")
        screen = again.screen
        await _until(pilot, lambda: set(screen.books) == {"BTC/USDT", "ETH/USDT"})
        for symbol, pos in kept.items():
            assert screen.books[symbol].position == pos
        assert "r resumes it" in screen.status_text
        assert screen.query_one("#live-fills", DataTable).row_count == len(rows)
