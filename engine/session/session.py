"""A live or paper session: the third driver of the engine, fed by a market feed.

The session owns one :class:`Book` per symbol and a feed. Each closed candle steps its
book; whatever the step changed that a restart could not recompute (fills, trades,
notes, a manual action) is committed before listeners hear of it. Quiet bars are
committed in batches: a restart re-reads their candles and gets the same state.

Runs on a worker thread (the TUI) or the main thread (the CLI); manual actions come
from another thread, so every change to a book happens under one lock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Optional

from sqlalchemy.engine import Engine as Database

from engine.actions import ManualAction, Preview
from engine.enums import ExitReason
from engine.errors import InputError
from engine.models import utcnow
from engine.records import FillRecord, OpenPosition, TradeRecord
from engine.session import store
from engine.session.book import Book
from engine.session.config import SessionConfig
from engine.session.feed import Candle, Feed, FeedStatus, Price
from engine.strategies import create_strategy

CHECKPOINT_BARS = 256  # quiet bars between commits: what a crash can cost in re-reading candles


# ---------------------------------------------------------------------- what listeners hear
@dataclass(frozen=True)
class BookChanged:
    """A book stepped or was acted on, and the change is committed."""

    symbol: str
    position: Optional[OpenPosition]  # a copy
    balance: float
    equity: float
    last_price: Optional[float]
    fills: list[FillRecord]
    trades: list[TradeRecord]
    notes: list[str]


@dataclass(frozen=True)
class PriceMoved:
    symbol: str
    price: float
    unrealized: float


@dataclass(frozen=True)
class FeedChanged:
    status: FeedStatus


@dataclass(frozen=True)
class SessionStopped:
    status: str  # stopped | ended | halted
    message: str = ""


@dataclass(frozen=True)
class SessionNote:
    """Something the trader should know that stops nothing (a stop order the exchange refused)."""

    symbol: str
    text: str


@dataclass(frozen=True)
class Reconciled:
    """A live session's start: what the exchange and the database disagreed on, and how it was settled."""

    lines: list[str]


class SessionHalted(InputError):
    """The exchange did something the session cannot book: it stops trading until the trader decides."""


Listener = Callable[[Any], None]
BrokerFactory = Callable[[int], Any]  # session id -> engine.session.exchange_broker.ExchangeBroker


class LiveSession:
    def __init__(self, db: Database, session_id: int, config: SessionConfig, feed: Feed, *,
                 now: Callable[[], datetime] = utcnow, listener: Optional[Listener] = None,
                 broker: Any = None) -> None:
        self.db, self.id, self.config, self.feed = db, session_id, config, feed
        self.now = now
        self.listener = listener or (lambda event: None)
        strategy = create_strategy(config.base.strategy, config.base.params)
        self.books = {s: Book(s, create_strategy(strategy.name, dict(strategy.values)), config.book_settings)
                      for s in config.symbols}
        self.lock = threading.RLock()
        self.paused = threading.Event()
        self._quiet = {s: 0 for s in config.symbols}  # bars since the book's last commit
        self._equity: dict[str, list[dict[str, Any]]] = {s: [] for s in config.symbols}
        self._feed_state = ""
        self.broker = broker  # live mode: real orders through it, one LiveExecutions per book
        if broker is not None:
            from engine.session.live_broker import LiveExecutions

            # The broker's retries ("retrying in 2 s: 429 …") reach the trader like the feed's.
            broker.on_status = lambda text: self.listener(SessionNote("orders", text))

            for symbol, book in self.books.items():
                book.engine.broker = LiveExecutions(broker, symbol)

    # ------------------------------------------------------------------ opening
    @classmethod
    def start(cls, db: Database, config: SessionConfig, feed: Feed, *, resume: bool = False,
              now: Callable[[], datetime] = utcnow, listener: Optional[Listener] = None,
              broker_factory: Optional[BrokerFactory] = None) -> "LiveSession":
        """A new session named ``config.name``, or (``resume``) the stored one of that name,
        its books rebuilt from the database and its strategies from the feed's candles.
        A live session (real orders) needs ``broker_factory`` and is reconciled with the
        exchange before it may trade: what cannot be explained halts it (SessionHalted)."""
        if config.mode == "live" and broker_factory is None:
            raise InputError("live trading needs an exchange broker (API keys in the keyring): run with --paper")
        row = store.get_session(db, config.name)
        if resume:
            if row is None:
                raise InputError(f"there is no session named {config.name!r} to resume")
            assert row.id is not None
            stored = SessionConfig.from_dict(row.config)
            config = SessionConfig(**{**stored.__dict__, "speed": config.speed})
            session_id = row.id
        elif row is not None:
            raise InputError(f"a session named {config.name!r} already exists: resume it (--resume) or choose another name")
        else:
            session_id = store.create_session(db, config, now())
        broker = broker_factory(session_id) if config.mode == "live" and broker_factory is not None else None
        session = cls(db, session_id, config, feed, now=now, listener=listener, broker=broker)
        if resume:
            session._restore()
        else:
            for book in session.books.values():
                book.warm_up(feed.history(book.symbol, None))
                session._commit(book)
        if broker is not None:
            session._reconcile()
            session._adopt_stops()
        return session

    def _adopt_stops(self) -> None:
        """A resumed live session takes back the stop orders still resting for its books."""
        from engine.session.orders import OrderStatus

        for order in self.broker.store.orders():
            book = self.books.get(order.symbol)
            if book is not None and order.kind == "stop_loss" and order.status == OrderStatus.OPEN:
                book.engine.broker.stop = order
        for book in self.books.values():
            self._protect(book)

    def _protect(self, book: Book) -> None:
        """Live: the exchange's stop-loss follows the book. A stop it cannot place is said, not fatal:
        the candle check still takes the stop."""
        protect = getattr(book.engine.broker, "protect", None)
        if protect is None:
            return
        try:
            protect(book.engine.state.position)
        except InputError as exc:
            if "before the book saw it" in str(exc):
                self._halt(f"{book.symbol}: {exc}")
            self.listener(SessionNote(book.symbol, f"no stop-loss order on the exchange: {exc}"))

    def _reconcile(self) -> None:
        from engine.session.reconcile import reconcile

        sizes = {}
        for symbol, book in self.books.items():
            pos = book.engine.state.position
            sizes[symbol] = 0.0 if pos is None else pos.current_size * pos.sign
        known = {f.client_order_id for f in store.session_fills(self.db, self.id) if f.client_order_id}
        quote = self.config.symbols[0].split("/")[1]
        found = reconcile(self.broker, self.broker.store, sizes, quote, fills_known=known)
        if not found.ok:
            store.set_status(self.db, self.id, "halted", found.report(), now=self.now())
            raise SessionHalted(found.report())
        if found.resolved:
            self.listener(Reconciled(list(found.resolved)))

    def _restore(self) -> None:
        saved = store.load_books(self.db, self.id)
        for symbol, book in self.books.items():
            row = saved.get(symbol)
            if row is None:  # killed before its first commit: it starts afresh
                book.warm_up(self.feed.history(symbol, None))
                continue
            state = {"bars": row.bars, "last_candle_ms": row.last_candle_ms, "last_price": row.last_price,
                     "engine": row.state}
            book.restore(state, self.feed.history(symbol, row.last_candle_ms))
            if row.last_candle_ms is not None:
                self.feed.resume_after(symbol, row.last_candle_ms)

    # ------------------------------------------------------------------ running
    def run(self, stop: Optional[threading.Event] = None) -> str:
        """Trade until the feed ends or ``stop`` is set; returns how it ended."""
        stop = stop or threading.Event()
        store.set_status(self.db, self.id, "running", now=self.now())
        try:
            while not stop.is_set():
                if self.paused.is_set():
                    stop.wait(0.05)
                    continue
                if not self.poll_once():
                    if self.feed.ended:
                        break
        except SessionHalted:
            return "halted"  # nothing more is written: the next start reconciles first
        self.flush()
        status = "ended" if self.feed.ended and not stop.is_set() else "stopped"
        store.set_status(self.db, self.id, status, now=self.now())
        self.listener(SessionStopped(status))
        return status

    def poll_once(self) -> int:
        """Take what the feed has now; the number of events handled."""
        events = self.feed.poll()
        status = self.feed.status
        if status.describe() != self._feed_state:
            self._feed_state = status.describe()
            self.listener(FeedChanged(FeedStatus(status.state, status.message, status.retry_in, status.last_candle_ms)))
        for event in events:
            if isinstance(event, Candle):
                self.on_candle(event)
            elif isinstance(event, Price):
                self.on_price(event)
        return len(events)

    def on_candle(self, candle: Candle) -> None:
        book = self.books.get(candle.symbol)
        if book is None:
            return
        with self.lock:
            try:
                report = book.on_candle(candle)
            except InputError as exc:  # an order refused or lost: the book no longer matches the exchange
                self._halt(f"{candle.symbol}: {exc}")
            self._equity[book.symbol].append({
                "session_id": self.id, "symbol": book.symbol, "bar": report.bar, "time_ms": candle.time_ms,
                "close": candle.close, "equity": report.equity,
            })
            self._quiet[book.symbol] += 1
            quiet = not (report.fills or report.trades or report.notes)
            if not quiet or self._quiet[book.symbol] >= CHECKPOINT_BARS:
                self._commit(book, report.fills, report.trades, candle.time_ms)
            self._protect(book)  # a trailing stop moves on quiet bars too
            if quiet:
                return  # nothing a listener needs before the next price
        self._tell(book, report.fills, report.trades, [n.text for n in report.notes])

    def on_price(self, price: Price) -> None:
        book = self.books.get(price.symbol)
        if book is None:
            return
        with self.lock:
            book.last_price = price.price
            pos = book.engine.state.position
            unrealized = 0.0 if pos is None else pos.unrealized_pnl(price.price)
        self.listener(PriceMoved(price.symbol, price.price, unrealized))

    # ------------------------------------------------------------------ manual actions
    def minimum_qty(self, symbol: str) -> float:
        """The smallest order the market takes at the last price (0 where the feed knows none)."""
        book = self._book(symbol)
        known = getattr(self.feed, "minimum_qty", None)
        if known is None or book.last_price is None:
            return 0.0
        return float(known(symbol, book.last_price))

    def _check_minimum(self, symbol: str, result: Preview) -> Preview:
        """Refuse what the exchange would: an order, or a remainder, under the market's minimum."""
        least = self.minimum_qty(symbol)
        if least <= 0.0 or result.qty <= 0.0:
            return result
        if result.qty < least:
            raise InputError(f"{result.qty:.8g} {symbol.split('/')[0]} is under {symbol}'s minimum order of {least:.8g}")
        if 0.0 < result.size_after < least:
            raise InputError(f"it would leave {result.size_after:.8g}, under {symbol}'s minimum order of {least:.8g}, "
                             "which could not be sold later: close it all instead")
        return result

    def preview(self, symbol: str, action: ManualAction) -> Preview:
        with self.lock:
            return self._check_minimum(symbol, self._book(symbol).preview(action))

    def act(self, symbol: str, action: ManualAction) -> Preview:
        """Take ``action`` on ``symbol`` at its last price, committed before it is reported."""
        with self.lock:
            book = self._book(symbol)
            self._check_minimum(symbol, book.preview(action))  # before anything changes
            mark = book.engine.journal.mark()
            result = book.act(action)
            fills = book.engine.journal.fills[mark.fills:]
            trades = book.engine.journal.trades[mark.trades:]
            self._commit(book, fills, trades, None)
            self._protect(book)
        self._tell(book, fills, trades, [])
        return result

    def flatten_all(self) -> list[TradeRecord]:
        """Close every open position at its last price."""
        closed = []
        for symbol, book in self.books.items():
            with self.lock:
                if book.engine.state.position is None or book.last_price is None:
                    continue
                mark = book.engine.journal.mark()
                trade = book.engine.flatten(book.bars, book.last_price, ExitReason.MANUAL)
                fills = book.engine.journal.fills[mark.fills:]
                trades = [trade] if trade is not None else []
                self._commit(book, fills, trades, None)
                self._protect(book)
            self._tell(book, fills, trades, [])
            closed += trades
        return closed

    def _book(self, symbol: str) -> Book:
        try:
            return self.books[symbol]
        except KeyError:
            raise InputError(f"this session does not trade {symbol!r} (it trades {', '.join(self.books)})") from None

    # ------------------------------------------------------------------ persistence
    def _commit(self, book: Book, fills: list[FillRecord] = (), trades: list[TradeRecord] = (),  # type: ignore[assignment]
                candle_ms: Optional[int] = None) -> None:
        when = store.ms_to_datetime(candle_ms) if candle_ms is not None else self.now()
        rows = [store.fill_row(self.id, book.symbol, f, when) for f in fills]
        placed = getattr(book.engine.broker, "placed", None)
        if placed is not None:  # live: each fill is one order, in the same order
            for row, order in zip(rows, placed[-len(rows):] if rows else []):
                row["client_order_id"] = order.client_order_id
            placed.clear()
        store.commit_step(
            self.db, self.id, book.symbol, book.saved(), fills=rows, trades=trades,
            equity=self._equity[book.symbol],
        )
        self._equity[book.symbol] = []
        self._quiet[book.symbol] = 0

    def _halt(self, why: str) -> None:
        """Stop trading, fail closed: nothing of the failed step is committed, and the next
        start reconciles with the exchange before anything else happens."""
        message = f"halted: {why}. Check the exchange; the next start reconciles the session with it."
        store.set_status(self.db, self.id, "halted", message, now=self.now())
        self.listener(SessionStopped("halted", message))
        raise SessionHalted(message)

    def stop_now(self) -> None:
        """Interrupted (Ctrl+C): keep what is done, mark the session stopped."""
        self.flush()
        store.set_status(self.db, self.id, "stopped", now=self.now())

    def flush(self) -> None:
        """Commit the quiet bars not yet written (on stop)."""
        with self.lock:
            for symbol, book in self.books.items():
                if self._quiet[symbol]:
                    self._commit(book)

    def _tell(self, book: Book, fills: list[FillRecord], trades: list[TradeRecord], notes: list[str]) -> None:
        st = book.engine.state
        pos = st.position
        self.listener(BookChanged(book.symbol, None if pos is None else pos.copy(), st.balance, book.equity(),
                                  book.last_price, list(fills), list(trades), notes))

    # ------------------------------------------------------------------ reading
    def open_positions(self) -> dict[str, OpenPosition]:
        with self.lock:
            return {s: b.engine.state.position.copy() for s, b in self.books.items()  # type: ignore[union-attr]
                    if b.engine.state.position is not None}
