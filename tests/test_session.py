"""The session driver: parity with the backtest, manual actions committed before they are
reported, and a stopped session resumed to the same end as an uninterrupted one."""

from __future__ import annotations

import dataclasses
import numpy as np
import pytest

from engine.actions import ActionKind, Amount, AmountUnit, ManualAction
from engine.config import BacktestConfig
from engine.errors import InputError
from engine.policy import ExitPolicy, Sizing
from engine.runner import run_backtest
from engine.session import store
from engine.session.config import SessionConfig
from engine.session.feed import ReplayFeed, sample_feed_candles
from engine.session.session import BookChanged, LiveSession
from engine.store import open_db
from engine.strategies import strategy_names

POLICY = ExitPolicy(stop_loss_pct=4, trailing_activation_pct=1.5, trailing_distance_pct=1.0, exit_targets=(2.0,),
                    exit_sizes=(0.3,), scale_in_thresholds=(-1.5,), scale_in_sizes=(0.3,))
BASE = BacktestConfig(strategy="sma_cross", policy=POLICY, sizing=Sizing(fraction=0.6, max_leverage=1.0))
BARS = 3000


def _candles(symbols):  # type: ignore[no-untyped-def]
    return {s: c.iloc[:BARS] for s, c in sample_feed_candles(list(symbols)).items()}


def _db(tmp_path):  # type: ignore[no-untyped-def]
    tmp_path.mkdir(parents=True, exist_ok=True)
    return open_db(f"sqlite:///{tmp_path / 'sessions.sqlite'}")


def _same_trades(a, b) -> None:  # type: ignore[no-untyped-def]
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert (x.trade_no, x.side, x.entry_bar, x.exit_bar, x.exit_reason) == (y.trade_no, y.side, y.entry_bar, y.exit_bar, y.exit_reason)
        np.testing.assert_allclose([x.entry_price, x.exit_price, x.size, x.pnl, x.fees], [y.entry_price, y.exit_price, y.size, y.pnl, y.fees], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("strategy", strategy_names())
def test_replay_feed_through_the_paper_broker_gives_the_backtest_trades(tmp_path, strategy: str) -> None:
    params = {"train": 300, "retrain": 100} if strategy == "ml_basic" else {}
    base = dataclasses.replace(BASE, strategy=strategy, params={**params, "mode": "long_short"})
    symbols = ("BTC/USDT", "ETH/USDT")
    candles = _candles(symbols)
    config = SessionConfig("parity", base, symbols)
    session = LiveSession.start(_db(tmp_path), config, ReplayFeed(candles))
    assert session.run() == "ended"
    for symbol in symbols:
        book = config.book_settings
        expected = run_backtest(dataclasses.replace(base, balance=book.balance), candles[symbol])
        # The backtest alone closes at the end of its data; the session keeps the position.
        closed = [t for t in expected.trades if t.exit_reason.value != "end_of_data"]
        stored = store.session_trades(session.db, session.id, symbol)
        assert stored, f"{strategy} {symbol}: no trade to compare"
        _same_trades(stored, closed)
        fills = [store.as_fill_record(f) for f in store.session_fills(session.db, session.id, symbol)]
        expected_fills = [f for f in expected.fills if f.reason != "end_of_data"]
        assert [(f.kind, f.bar) for f in fills] == [(f.kind, f.bar) for f in expected_fills]
        np.testing.assert_allclose([f.price for f in fills], [f.price for f in expected_fills], rtol=1e-12)
        open_trade = [t for t in expected.trades if t.exit_reason.value == "end_of_data"]
        assert (symbol in session.open_positions()) == bool(open_trade)


def test_manual_actions_are_committed_before_they_are_reported(tmp_path) -> None:
    db = _db(tmp_path)
    seen: list[tuple[int, int]] = []  # (fills reported, fill rows in the database at that moment)

    def listener(event) -> None:  # type: ignore[no-untyped-def]
        if isinstance(event, BookChanged) and event.fills:
            seen.append((len(event.fills), len(store.session_fills(db, session.id))))

    feed = ReplayFeed(_candles(["BTC/USDT", "ETH/USDT"]))
    session = LiveSession.start(db, SessionConfig("manual", BASE, ("BTC/USDT", "ETH/USDT")), feed, listener=listener)
    while len(session.open_positions()) < 2:
        session.poll_once()
    btc = session.open_positions()["BTC/USDT"]
    third = session.act("BTC/USDT", ManualAction(ActionKind.PARTIAL_EXIT, Amount(100 / 3, AmountUnit.PERCENT)))
    assert session.open_positions()["BTC/USDT"].current_size == pytest.approx(btc.current_size * 2 / 3)
    price = session.books["BTC/USDT"].last_price
    assert third.fill_price == pytest.approx(price * (1 - BASE.slippage_pct / 100))  # market sell at the last price
    eth = session.open_positions()["ETH/USDT"]
    session.act("ETH/USDT", ManualAction(ActionKind.SCALE_IN, Amount(0.2, AmountUnit.FRACTION)))
    assert session.open_positions()["ETH/USDT"].current_size == pytest.approx(eth.current_size + 0.2 * eth.original_size)
    assert seen and all(rows >= count for count, rows in seen)
    rows = store.session_fills(db, session.id)
    assert [r.reason for r in rows[-2:]] == ["manual", "manual"]
    with pytest.raises(InputError, match="only .* is open"):
        session.act("BTC/USDT", ManualAction(ActionKind.PARTIAL_EXIT, Amount(10.0, AmountUnit.BASE)))
    assert len(store.session_fills(db, session.id)) == len(rows)  # a refused action stores nothing


def test_a_stopped_session_resumes_to_the_same_end(tmp_path) -> None:
    symbols = ("BTC/USDT", "ETH/USDT")
    whole = LiveSession.start(_db(tmp_path / "a"), SessionConfig("s", BASE, symbols), ReplayFeed(_candles(symbols)))
    whole.run()
    db = _db(tmp_path / "b")
    for stop_after in (700, 1900):  # stop twice, resume twice
        resume = store.get_session(db, "s") is not None
        session = LiveSession.start(db, SessionConfig("s", BASE, symbols), ReplayFeed(_candles(symbols)), resume=resume)
        while sum(b.bars for b in session.books.values()) < stop_after:
            session.poll_once()
        session.stop_now()
    session = LiveSession.start(db, SessionConfig("s", BASE, symbols), ReplayFeed(_candles(symbols)), resume=True)
    assert session.run() == "ended"
    for symbol in symbols:
        _same_trades(store.session_trades(db, session.id, symbol), store.session_trades(whole.db, whole.id, symbol))
        assert len(store.session_fills(db, session.id, symbol)) == len(store.session_fills(whole.db, whole.id, symbol))
        assert session.books[symbol].engine.state == whole.books[symbol].engine.state


def test_names_are_unique_and_resume_needs_a_session(tmp_path) -> None:
    db = _db(tmp_path)
    LiveSession.start(db, SessionConfig("one", BASE), ReplayFeed(_candles(["BTC/USDT"])))
    with pytest.raises(InputError, match="already exists"):
        LiveSession.start(db, SessionConfig("one", BASE), ReplayFeed(_candles(["BTC/USDT"])))
    with pytest.raises(InputError, match="no session named 'two'"):
        LiveSession.start(db, SessionConfig("two", BASE), ReplayFeed(_candles(["BTC/USDT"])), resume=True)


def test_live_mode_needs_an_exchange_broker(tmp_path) -> None:
    config = SessionConfig("real", BASE, mode="live", feed="exchange")
    with pytest.raises(InputError, match="exchange broker"):
        LiveSession.start(_db(tmp_path), config, ReplayFeed(_candles(["BTC/USDT"])))
    assert store.get_session(_db(tmp_path), "real") is None
