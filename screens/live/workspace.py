"""The Live workspace (F3): paper and live sessions on a feed, and the trader's hand on their positions.

The session runs on a thread worker and tells the screen what happened through
messages; prices, which can move many times a second, are kept in a dict by the worker
and drawn by a timer ten times a second, in one batch. A session whose app was closed
or killed is shown from the database as it was left, and resumed with ``r``.
"""

from __future__ import annotations

import threading
from typing import Any, Optional

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Log, TabbedContent, TabPane

from engine.actions import ActionKind, ManualAction
from engine.errors import InputError
from screens.live.positions import PositionsTable
from screens.live.messages import (BookUpdated, FeedUpdated, SessionEnded, SessionFailed, SessionNoted,
                                  SessionOpened)
from screens.live.view import BookView, fill_cells, num, order_cells, position_cells
from screens.replay.panel import TextPanel

PRICE_REFRESH = 0.1  # seconds between redraws of moving prices


class LiveScreen(Screen):
    CSS_PATH = "live.tcss"
    BINDINGS = [
        Binding("n", "new_session", "New session"),
        Binding("r", "resume", "Resume"),
        Binding("space", "pause", "Pause/continue"),
        Binding("s", "stop", "Stop"),
        Binding("x", "partial_exit", "Partial exit"),
        Binding("a", "scale_in", "Scale in"),
        Binding("c", "close_position", "Close"),
        Binding("t", "move_stops", "Move SL/TP"),
        Binding("f", "flatten_all", "Flatten all"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.session: Any = None  # engine.session.session.LiveSession while one runs
        self.session_name: Optional[str] = None
        self.books: dict[str, BookView] = {}
        self._stop = threading.Event()
        self._prices: dict[str, float] = {}  # written by the worker, drawn by the timer
        self._prices_lock = threading.Lock()
        self.status_text = ""
        self.feed_status: Any = None  # engine.session.feed.FeedStatus, as last reported

    def compose(self) -> ComposeResult:
        yield Header()
        yield TextPanel("No session. n starts a paper session on the sample feed.", id="live-status")
        yield TextPanel("", id="live-feed")
        with Horizontal(id="live-body"):
            yield PositionsTable(id="positions")
            with Vertical(id="live-side"):
                yield TextPanel(id="live-account")
                with TabbedContent(id="live-tabs"):
                    with TabPane("Fills", id="tab-fills"):
                        yield DataTable(id="live-fills", cursor_type="none")  # to read, nothing to select
                    with TabPane("Orders", id="tab-orders"):
                        yield DataTable(id="live-orders", cursor_type="none")
                    with TabPane("Log", id="tab-log"):
                        yield Log(id="live-log", max_lines=1000)
        yield DataTable(id="live-sessions", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Live"
        # Fixed widths: these tables are rebuilt as sessions come and go, and columns that kept
        # re-measuring themselves made the screen jump.
        fills = self.query_one("#live-fills", DataTable)
        for label, width in (("Time", 8), ("Symbol", 10), ("Fill", 34), ("PnL", 9)):
            fills.add_column(label, key=label, width=width)
        orders = self.query_one("#live-orders", DataTable)
        for label, width in (("Symbol", 10), ("Side", 4), ("Kind", 9), ("Qty", 10), ("Status", 16), ("Avg", 10)):
            orders.add_column(label, key=label, width=width)
        sessions = self.query_one("#live-sessions", DataTable)
        for label, width in (("Session", 24), ("Mode", 6), ("Feed", 10), ("Status", 12), ("Symbols", 40),
                             ("Updated", 16)):
            sessions.add_column(label, key=label, width=width)
        self.set_interval(PRICE_REFRESH, self._draw_prices, name="live-prices")
        self._load_stored()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> Optional[bool]:
        running = self.session is not None and not self._stop.is_set()
        if action in ("pause", "stop", "partial_exit", "scale_in", "close_position", "move_stops", "flatten_all"):
            return running
        if action in ("new_session", "resume"):
            return not running
        return True

    # ------------------------------------------------------------------ stored sessions
    def _load_stored(self) -> None:
        """The sessions in the database, and the newest one's books as they were left."""
        from engine.session import store
        from engine.session.codec import position_from_dict

        db = self.app.services.database()
        sessions = store.list_sessions(db)
        table = self.query_one("#live-sessions", DataTable)
        table.clear()
        running = self.session.config.name if self.session is not None else None
        for row in sessions:
            # The running session's row says so, whether or not its worker has written it yet.
            status = "running" if row.name == running else row.status
            table.add_row(row.name, row.mode, row.config.get("feed", ""), status,
                          ", ".join(row.config.get("symbols", [])), f"{row.updated_at:%Y-%m-%d %H:%M}", key=row.name)
        if self.session is None and sessions:
            newest = sessions[0]
            assert newest.id is not None
            self.session_name = newest.name
            self._reset_books()
            for symbol, book in store.load_books(db, newest.id).items():
                state = book.state or {}
                pos = state.get("position")
                self.books[symbol] = BookView(None if pos is None else position_from_dict(pos), book.last_price,
                                              float(state.get("balance", 0.0)))
            # A session still marked running was cut off (the app closed or was killed).
            state = "interrupted" if newest.status == "running" else newest.status
            self._set_status(f"session {newest.name!r} · {newest.mode} · {state}"
                             + (" · r resumes it" if newest.status != "ended" else ""))
            self._draw_books()
            self._load_fills(newest.id)

    # ------------------------------------------------------------------ starting and stopping
    def action_new_session(self) -> None:
        from engine.config import BacktestConfig
        from engine.policy import Sizing
        from engine.strategies import strategy_names
        from screens.live.start import StartSessionScreen

        taken = {str(key.value) for key in self.query_one("#live-sessions", DataTable).rows}
        name = next(f"paper-{i}" for i in range(1, 10_000) if f"paper-{i}" not in taken)
        # The trader's own balance and costs; half of each symbol's share per position leaves room
        # to scale in by hand under the 1x leverage cap.
        settings = self.app.services.settings
        base = BacktestConfig(balance=settings.balance, fee_pct=settings.fee_pct, slippage_pct=settings.slippage_pct,
                              sizing=Sizing(fraction=0.5))
        self.app.push_screen(StartSessionScreen(base, strategy_names(), name, settings.default_exchange),
                             self._started)

    def _started(self, config: Any) -> None:
        if config is not None:
            self._open(config, resume=False)

    def action_resume(self) -> None:
        from engine.session.config import SessionConfig
        from engine.session import store

        table = self.query_one("#live-sessions", DataTable)
        name = self.session_name
        if table.row_count and table.has_focus:
            name = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        if name is None:
            self.notify("No session to resume: n starts one.", severity="warning")
            return
        row = store.get_session(self.app.services.database(), name)
        if row is None:
            return
        self._open(SessionConfig.from_dict(row.config), resume=True)

    def _open(self, config: Any, resume: bool) -> None:
        self._stop = threading.Event()
        self.session_name = config.name
        self._set_status(f"{'Resuming' if resume else 'Starting'} session {config.name!r}…")
        self._run(config, resume, self._stop)

    @work(thread=True, exclusive=True, group="live-session", name="live-session")
    def _run(self, config: Any, resume: bool, stop: threading.Event) -> None:
        from engine.session.feeds import open_feed
        from engine.session.session import LiveSession

        services = self.app.services
        try:
            broker_factory = client = None
            if config.mode == "live":
                from engine.session.live_setup import live_exchange

                client, broker_factory = live_exchange(config, services.database(), services.keyring)
            feed = services.feed_factory(config) if services.feed_factory else open_feed(config, client=client)
            session = LiveSession.start(services.database(), config, feed, resume=resume, now=services.now,
                                        listener=self._hear, broker_factory=broker_factory)
        except InputError as exc:
            self.post_message(SessionFailed(str(exc)))
            return
        except Exception as exc:  # a broken database or exchange: say so, keep the app
            self.post_message(SessionFailed(f"cannot start the session: {exc.__class__.__name__}: {exc}"))
            return
        self.post_message(SessionOpened(session))
        try:
            session.run(stop)
        except Exception as exc:  # what the session could not handle stops it, visibly
            self.post_message(SessionFailed(f"the session stopped: {exc.__class__.__name__}: {exc}"))

    def _hear(self, event: Any) -> None:
        """The session's listener, on the worker's thread: messages, never widgets."""
        from engine.session.session import (BookChanged, FeedChanged, PriceMoved, Reconciled, SessionNote,
                                            SessionStopped)

        if isinstance(event, PriceMoved):
            with self._prices_lock:
                self._prices[event.symbol] = event.price
        elif isinstance(event, BookChanged):
            self.post_message(BookUpdated(event))
        elif isinstance(event, FeedChanged):
            self.post_message(FeedUpdated(event.status))
        elif isinstance(event, SessionStopped):
            self.post_message(SessionEnded(event.status, event.message))
        elif isinstance(event, Reconciled):
            self.post_message(SessionNoted("Reconciled with the exchange", "\n".join(event.lines)))
        elif isinstance(event, SessionNote):
            self.post_message(SessionNoted(event.symbol, event.text))

    def on_session_opened(self, event: SessionOpened) -> None:
        session = self.session = event.session
        self._reset_books()
        for symbol, book in session.books.items():
            st = book.engine.state
            pos = st.position
            self.books[symbol] = BookView(None if pos is None else pos.copy(), book.last_price, st.balance)
        self._set_status(f"session {session.config.name!r} · {session.config.mode} · running")
        self._draw_books()
        self._load_fills()
        self._load_orders()
        self._load_stored()
        self.refresh_bindings()

    def on_session_noted(self, event: SessionNoted) -> None:
        self.notify(event.text, title=event.title, severity="warning", timeout=20)
        for line in event.text.splitlines():
            self._log(f"{event.title}: {line}")

    def on_session_failed(self, event: SessionFailed) -> None:
        self.session = None
        self._set_status(f"[red]{event.message}[/red]")
        self.notify(event.message, title="Session", severity="error", timeout=10)
        self.refresh_bindings()

    def on_session_ended(self, event: SessionEnded) -> None:
        what = {"ended": "the feed has no more candles; positions stay open",
                "stopped": "stopped; r resumes it"}.get(event.status, event.message or event.status)
        self._set_status(f"session {self.session_name!r} · {what}")
        if event.status == "halted":
            self.notify(event.message, title="Session halted", severity="error", timeout=30)
        self.session = None
        self._load_stored()
        self.refresh_bindings()

    def action_pause(self) -> None:
        if self.session is None:
            return
        paused = self.session.paused
        if paused.is_set():
            paused.clear()
            self._set_status(f"session {self.session_name!r} · running")
        else:
            paused.set()
            self._set_status(f"session {self.session_name!r} · paused (space continues)")

    def action_stop(self) -> None:
        self._stop.set()
        self.refresh_bindings()

    def on_unmount(self) -> None:
        self._stop.set()

    # ------------------------------------------------------------------ the trader's hand
    def _selected(self) -> Optional[str]:
        symbol = self.query_one("#positions", PositionsTable).selected
        if symbol is None:
            self.notify("No position selected.", severity="warning")
        return symbol

    def _dialog(self, kind: ActionKind) -> None:
        from screens.replay.what_if import WhatIfScreen

        symbol, session = self._selected(), self.session
        if symbol is None or session is None:
            return
        view = self.books[symbol]
        heading = f"{symbol}: a market order at the last price ({num(view.last)})"
        size = None if view.position is None else view.position.current_size
        dialog = WhatIfScreen(lambda a: session.preview(symbol, a), heading, kind, open_size=size,
                              minimum=session.minimum_qty(symbol))
        self.app.push_screen(dialog, lambda action: self._take(symbol, action))

    def _take(self, symbol: str, action: Optional[ManualAction]) -> None:
        if action is None or self.session is None:
            return
        try:
            result = self.session.act(symbol, action)
        except InputError as exc:  # the market moved under the dialog: nothing was done
            self.notify(str(exc), title="Not taken", severity="error")
            return
        self.notify(f"{symbol}: {action.describe()}, realised {result.realized_pnl:+,.2f}", title="Done")

    def action_partial_exit(self) -> None:
        self._dialog(ActionKind.PARTIAL_EXIT)

    def action_scale_in(self) -> None:
        self._dialog(ActionKind.SCALE_IN)

    def action_move_stops(self) -> None:
        self._dialog(ActionKind.MOVE_STOPS)

    def action_close_position(self) -> None:
        self._dialog(ActionKind.CLOSE)

    def action_flatten_all(self) -> None:
        from screens.confirm import ConfirmScreen

        open_count = sum(1 for b in self.books.values() if b.position is not None)
        if not open_count or self.session is None:
            self.notify("Nothing is open.", severity="warning")
            return

        def answered(yes: Optional[bool]) -> None:
            if yes and self.session is not None:
                closed = self.session.flatten_all()
                self.notify(f"Closed {len(closed)} position(s) at market.", title="Flatten all")

        self.app.push_screen(ConfirmScreen(f"Close all {open_count} open position(s) at market now?",
                                           yes_label="Flatten all"), answered)

    # ------------------------------------------------------------------ drawing
    def on_book_updated(self, event: BookUpdated) -> None:
        change = event.change
        # The price in the message is as old as the message; the timer may have drawn a newer one.
        last = self.session.books[change.symbol].last_price if self.session is not None else change.last_price
        self.books[change.symbol] = BookView(change.position, last, change.balance)
        with self.app.batch_update():
            self._draw_books()
            if change.fills:
                # From the database, where they already are: whatever order the messages came in,
                # each fill is listed once.
                self._load_fills()
                self._load_orders()
        for note in change.notes:
            self.notify(f"{change.symbol}: {note}", title="Engine")

    def on_feed_updated(self, event: FeedUpdated) -> None:
        self.feed_status = event.status
        self._draw_feed()
        self._log(f"feed {event.status.describe()}")

    def _draw_feed(self) -> None:
        from engine.session.store import ms_to_datetime

        status = self.feed_status
        if status is None:
            return
        # The newest candle is read from the running feed: it moves with every candle, its state rarely.
        newest = self.session.feed.status.last_candle_ms if self.session is not None else status.last_candle_ms
        last = "" if newest is None else f" · last candle {ms_to_datetime(newest):%Y-%m-%d %H:%M} UTC"
        colour = {"retrying": "yellow", "error": "red"}.get(status.state)
        text = f"feed: {status.describe()}{last}"
        self.query_one("#live-feed", TextPanel).show(f"[{colour}]{text}[/{colour}]" if colour else text)

    def _draw_prices(self) -> None:
        with self._prices_lock:
            moved, self._prices = self._prices, {}
        if not moved:
            return
        self._draw_feed()
        for symbol, price in moved.items():
            if symbol in self.books:
                self.books[symbol].last = price
        with self.app.batch_update():
            self._draw_books(only=set(moved))

    def _reset_books(self) -> None:
        self.books = {}
        self.query_one("#positions", PositionsTable).clear()

    def _draw_books(self, only: Optional[set[str]] = None) -> None:
        table = self.query_one("#positions", PositionsTable)
        for symbol, view in self.books.items():
            if only is None or symbol in only:
                table.set_row(symbol, position_cells(symbol, view))
        balance = sum(v.balance for v in self.books.values())
        equity = sum(v.equity for v in self.books.values())
        opened = sum(1 for v in self.books.values() if v.position is not None)
        self.query_one("#live-account", TextPanel).show(
            f"balance {balance:,.2f}   equity {equity:,.2f}\nopen positions {opened} of {len(self.books)} symbols")

    def _load_fills(self, session_id: Optional[int] = None) -> None:
        from engine.session import store

        if session_id is None:
            if self.session is None:
                return
            session_id = self.session.id
        table = self.query_one("#live-fills", DataTable)
        table.clear()
        for row in store.session_fills(self.app.services.database(), session_id)[-200:]:
            table.add_row(*fill_cells(row.symbol, store.as_fill_record(row)))
        table.scroll_end(animate=False)

    def _set_status(self, text: str) -> None:
        self.status_text = text
        self.query_one("#live-status", TextPanel).show(text)
        self._log(Text.from_markup(text).plain)

    def _log(self, line: str) -> None:
        """The session's story, newest last: starts, stops, reconciliation, feed trouble, notes."""
        self.query_one("#live-log", Log).write_line(f"{self.app.services.now():%H:%M:%S} {line}")

    def _load_orders(self) -> None:
        """A live session's orders, as committed (paper sessions place none)."""
        from engine.session.order_store import SqlOrderStore

        if self.session is None or self.session.broker is None:
            return
        table = self.query_one("#live-orders", DataTable)
        table.clear()
        for order in SqlOrderStore(self.session.db, self.session.id).orders()[-200:]:
            table.add_row(*order_cells(order))
