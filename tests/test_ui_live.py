"""The Live workspace driven by Pilot: start a paper session on a fast sample feed, take a
third off one position and scale into another, stop, and find it all again after a restart."""

from __future__ import annotations

import dataclasses

from textual.widgets import DataTable, Input

from engine.session.session import LiveSession
from engine.session import store
from screens.live.positions import PositionsTable
from screens.live.start import StartSessionScreen
from screens.live.workspace import LiveScreen
from screens.replay.what_if import WhatIfScreen
from tests.test_ui_backtest import _until
from tests.ui_support import make_app

SIZE = (160, 50)


def held(config):  # type: ignore[no-untyped-def]
    """45 sample candles (both symbols long by then), then a market that stands still."""
    from tests.live_support import HeldFeed

    return HeldFeed(config.symbols, 45)


async def test_a_paper_session_from_start_to_restart(tmp_path) -> None:
    app = make_app(tmp_path)
    app.services.feed_factory = held
    app.services.settings = dataclasses.replace(app.services.settings, balance=20_000.0, fee_pct=0.075)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f3")
        screen = app.screen
        assert isinstance(screen, LiveScreen)
        await pilot.press("n")
        await _until(pilot, lambda: isinstance(app.screen, StartSessionScreen))
        config = app.screen.config
        assert config is not None and config.symbols == ("BTC/USDT", "ETH/USDT")
        assert (config.base.balance, config.base.fee_pct) == (20_000.0, 0.075)  # the trader's settings
        await pilot.press("ctrl+s")
        await _until(pilot, lambda: isinstance(app.screen, LiveScreen) and screen.session is not None)
        session: LiveSession = screen.session
        await _until(pilot, lambda: len(session.open_positions()) == 2 and sum(b.bars for b in session.books.values()) == 90)
        table = screen.query_one("#positions", PositionsTable)
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
        log = "\n".join(screen.query_one("#live-log").lines)
        assert "Starting session 'paper-1'" in log and "paper · running" in log and "feed connected" in log
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


async def test_quick_choices_and_amounts_under_the_market_minimum(tmp_path) -> None:
    from textual.widgets import Button

    from tests.live_support import HeldFeed

    app = make_app(tmp_path)
    app.services.feed_factory = lambda config: HeldFeed(config.symbols, 45, minimum=0.05)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f3")
        screen = app.screen
        await pilot.press("n")
        await _until(pilot, lambda: isinstance(app.screen, StartSessionScreen))
        await pilot.press("ctrl+s")
        await _until(pilot, lambda: screen.session is not None and len(screen.session.open_positions()) == 2)
        session = screen.session
        size = session.open_positions()["BTC/USDT"].current_size
        assert 0.15 < size < 0.2  # 25 % is under 0.05, and 75 % would leave under 0.05
        screen.query_one("#positions", PositionsTable).focus()
        await pilot.press("x")
        await _until(pilot, lambda: isinstance(app.screen, WhatIfScreen))
        dialog = app.screen
        enabled = {pct: not dialog.query_one(f"#quick-{pct}", Button).disabled for pct in (25, 50, 75, 100)}
        assert enabled == {25: False, 50: True, 75: False, 100: True}
        dialog.query_one("#amount", Input).value = "25"
        await pilot.pause()
        assert "under BTC/USDT's minimum order of 0.05" in dialog.problem
        await pilot.click("#quick-50")
        await pilot.pause()
        assert dialog.query_one("#amount", Input).value == "50" and dialog.problem == ""
        await pilot.press("ctrl+s")
        await _until(pilot, lambda: app.screen is screen)
        assert abs(session.open_positions()["BTC/USDT"].current_size - size / 2) < 1e-12
        fills = len(store.session_fills(session.db, session.id))
        from engine.actions import ActionKind, Amount, AmountUnit, ManualAction
        from engine.errors import InputError

        try:
            session.act("BTC/USDT", ManualAction(ActionKind.SCALE_IN, Amount(0.01, AmountUnit.BASE)))
        except InputError as exc:
            assert "under BTC/USDT's minimum order" in str(exc)
        else:
            raise AssertionError("an order under the minimum was taken")
        assert len(store.session_fills(session.db, session.id)) == fills
        await pilot.press("s")
        await _until(pilot, lambda: screen.session is None)
        await app.workers.wait_for_complete()


async def test_live_mode_asks_for_the_name_and_for_keys(tmp_path) -> None:
    from textual.widgets import Select

    from tests.fake_keyring import MemoryKeyring

    app = make_app(tmp_path)
    app.services.keyring = MemoryKeyring()  # no keys stored
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f3")
        screen = app.screen
        await pilot.press("n")
        await _until(pilot, lambda: isinstance(app.screen, StartSessionScreen))
        dialog = app.screen
        dialog.query_one("#mode", Select).value = "live"
        await pilot.pause()
        assert dialog.config is None and "needs the exchange feed" in dialog.problem
        dialog.query_one("#feed", Select).value = "exchange"
        await pilot.pause()
        assert dialog.config is None and "type the session name" in dialog.problem
        dialog.query_one("#confirm", Input).value = dialog.query_one("#name", Input).value
        await pilot.pause()
        assert dialog.config is not None and dialog.config.mode == "live"
        await pilot.press("ctrl+s")
        await _until(pilot, lambda: app.screen is screen and "no API keys for binance" in screen.status_text)
        assert screen.session is None
        assert store.list_sessions(app.services.database()) == []  # nothing was created
