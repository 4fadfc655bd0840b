"""The stores on SQLite and on a real PostgreSQL server (tests/pg_server.py): runs, their trades
and fills, deletion, an older schema, the live session's books, fills and orders.

The server's TimeZone is America/New_York, so a UTC time written or read through the local
zone anywhere shows up as a five-hour (or four-hour) shift.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from engine.config import BacktestConfig
from engine.data import synthetic_bars
from engine.db_url import normalise_db_url
from engine.enums import ExitReason, FillKind, RunKind, Side
from engine.errors import InputError
from engine.policy import ExitPolicy, Sizing
from engine.records import FillRecord, TradeRecord
from engine.runner import BacktestResult, run_backtest
from engine.session import store as session_store
from engine.session.config import SessionConfig
from engine.session.feed import ReplayFeed, sample_feed_candles
from engine.session.models import TradingSession
from engine.session.order_store import SqlOrderStore
from engine.session.orders import OrderRecord, OrderStatus
from engine.session.session import LiveSession
from engine.store import delete_run, get_run, list_runs, open_db, run_fills, run_trades, save_backtest

T0 = datetime(2024, 7, 1, 12, 0, tzinfo=timezone.utc)  # summer: New York is UTC-4
T1 = datetime(2024, 1, 15, 23, 30, 0, 123456, tzinfo=timezone.utc)  # winter, UTC-5, across a date line
POLICY = ExitPolicy(stop_loss_pct=1.5, trailing_activation_pct=0.5, trailing_distance_pct=0.3,
                    exit_targets=(0.4, 0.8), exit_sizes=(0.3, 0.3), scale_in_thresholds=(0.2,), scale_in_sizes=(0.5,))


@pytest.fixture
def db(db_url: str) -> Iterator[Engine]:
    engine = open_db(normalise_db_url(db_url))
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def result() -> BacktestResult:
    """Longs and shorts, scale-ins, partial exits, trailing stops, fees and slippage."""
    config = BacktestConfig(
        strategy="sma_cross", params={"fast": 10, "slow": 30, "mode": "long_short"}, fee_pct=0.1,
        slippage_pct=0.05, policy=POLICY, sizing=Sizing(max_leverage=2.0),
    )
    return run_backtest(config, synthetic_bars(4_000, seed=11))


def _backend(db: Engine) -> str:
    return db.dialect.name


def _instant(when: datetime) -> datetime:
    """A stored time as the UTC instant it stands for (SQLite hands back naive UTC)."""
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)


def _epochs(db: Engine, sql: str, **params: Any) -> list[float]:
    """Seconds since the epoch as the database itself holds them, read past the driver."""
    with db.connect() as conn:
        return [float(v) for (v,) in conn.execute(text(sql), params)]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_the_server_runs_away_from_utc_and_the_stores_sessions_do_not(db: Engine) -> None:
    import psycopg

    plain = db.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain) as conn:  # a client that asks for nothing gets the server's zone
        assert conn.execute("SHOW TimeZone").fetchone()[0] == "America/New_York"
    with db.connect() as conn:
        assert conn.execute(text("SHOW TimeZone")).scalar() == "UTC"
        assert db.dialect.driver == "psycopg"


def test_a_run_reads_back_as_it_was_stored(db: Engine, result: BacktestResult) -> None:
    index = result.candles.index
    run_id = save_backtest(db, result, created_at=T1)
    run = get_run(db, run_id)
    assert run is not None
    assert (run.kind, run.strategy, run.symbol, run.timeframe) == (RunKind.BACKTEST, "sma_cross", result.symbol, result.timeframe)
    assert run.metrics == result.metrics and run.config["policy"] == result.config.to_dict()["policy"]
    assert _instant(run.created_at) == T1
    assert (_instant(run.period_start), _instant(run.period_end)) == (index[0], index[-1])

    trades = run_trades(db, run_id)
    assert len(trades) == len(result.trades) > 20
    for row, t in zip(trades, result.trades):
        assert (row.trade_no, row.side, row.exit_reason, row.duration_bars) == (t.trade_no, t.side, t.exit_reason, t.duration_bars)
        assert (_instant(row.entry_time), _instant(row.exit_time)) == (index[t.entry_bar], index[t.exit_bar])
        assert (row.entry_price, row.exit_price, row.size, row.pnl, row.pnl_pct, row.fees, row.slippage,
                row.mfe_pct, row.mae_pct) == (t.entry_price, t.exit_price, t.size, t.pnl, t.pnl_pct, t.fees,
                                              t.slippage, t.mfe_pct, t.mae_pct)  # floats bit for bit
    fills = run_fills(db, run_id)
    assert len(fills) == len(result.fills)
    assert {f.kind for f in fills} == set(FillKind)  # entries, scale-ins, partial exits, exits
    for row, f in zip(fills, result.fills):
        assert (row.trade_no, row.kind, row.side, row.reason) == (f.trade_no, f.kind, f.side, f.reason)
        assert _instant(row.time) == index[f.bar]
        assert (row.price, row.qty, row.fee, row.slippage, row.pnl, row.avg_entry_price) == \
            (f.price, f.qty, f.fee, f.slippage, f.pnl, f.avg_entry)
    second = result.trades[1].trade_no
    assert [f.trade_no for f in run_fills(db, run_id, second)] == [f.trade_no for f in result.fills if f.trade_no == second]

    # The instants the database holds, not just what the driver turns them back into.
    if _backend(db) == "postgresql":
        epoch = "extract(epoch from {})"
        assert _epochs(db, f'SELECT {epoch.format("time")} FROM "fill" WHERE run_id = :r ORDER BY id', r=run_id) == \
            [index[f.bar].timestamp() for f in result.fills]
        assert _epochs(db, f'SELECT {epoch.format("created_at")} FROM "run" WHERE id = :r', r=run_id) == [T1.timestamp()]
        assert _epochs(db, f'SELECT {epoch.format("entry_time")} FROM "trade" WHERE run_id = :r ORDER BY trade_no', r=run_id) == \
            [index[t.entry_bar].timestamp() for t in result.trades]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_every_time_column_holds_an_instant_on_postgresql(db: Engine) -> None:
    """timestamptz: what is stored is the instant, whatever zone the writer's session is in."""
    with db.connect() as conn:
        kinds = dict(conn.execute(text(
            "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type LIKE 'timestamp%'")).all())
    assert {"run.created_at", "fill.time", "trade.entry_time", "trade.exit_time", "position.entry_time",
            "trading_session.created_at", "session_fill.time", "session_order.updated_at"} <= set(kinds)
    assert set(kinds.values()) == {"timestamp with time zone"}


def test_runs_are_listed_newest_first(db: Engine, result: BacktestResult) -> None:
    ids = [save_backtest(db, result, created_at=T1 + timedelta(minutes=m)) for m in (5, 0, 10)]
    runs = list_runs(db)
    assert [r.id for r in runs] == [ids[2], ids[0], ids[1]]
    assert [_instant(r.created_at) for r in runs] == [T1 + timedelta(minutes=m) for m in (10, 5, 0)]


def test_deleting_a_run_keeps_its_replay_branches_unlinked(db: Engine, result: BacktestResult) -> None:
    parent = save_backtest(db, result, created_at=T0)
    branch_result = dataclasses.replace(result, parent_run_id=parent, actions=[{"bar": 100, "kind": "close"}])
    branch = save_backtest(db, branch_result, kind=RunKind.REPLAY, created_at=T0 + timedelta(minutes=1))
    other = save_backtest(db, result, created_at=T0 + timedelta(minutes=2))
    branch_row = get_run(db, branch)
    assert branch_row is not None and branch_row.parent_run_id == parent
    assert branch_row.config["actions"] == [{"bar": 100, "kind": "close"}]

    assert delete_run(db, parent) is True
    assert get_run(db, parent) is None
    assert run_trades(db, parent) == [] and run_fills(db, parent) == []
    kept = get_run(db, branch)
    assert kept is not None and kept.parent_run_id is None
    assert len(run_trades(db, branch)) == len(result.trades) and len(run_fills(db, other)) == len(result.fills)
    assert delete_run(db, parent) is False
    with Session(db) as s:
        counts = [s.execute(text(f'SELECT COUNT(*) FROM "{t}"')).scalar() for t in ("run", "trade", "fill")]
    assert counts == [2, 2 * len(result.trades), 2 * len(result.fills)]


def test_an_older_schema_gains_the_new_column_and_index(db_url: str, result: BacktestResult) -> None:
    url = normalise_db_url(db_url)
    db = open_db(url)
    run_id = save_backtest(db, result)
    with db.begin() as conn:  # as an earlier version left it: no avg_entry_price, two single-column indexes
        conn.execute(text('ALTER TABLE "fill" DROP COLUMN "avg_entry_price"'))
        conn.execute(text('DROP INDEX "ix_fill_run_trade"'))
        conn.execute(text('CREATE INDEX "ix_fill_run_id" ON "fill" ("run_id")'))
        conn.execute(text('CREATE INDEX "ix_fill_trade_no" ON "fill" ("trade_no")'))
    db.dispose()

    db = open_db(url)
    try:
        assert "avg_entry_price" in {c["name"] for c in inspect(db).get_columns("fill")}
        assert {ix["name"] for ix in inspect(db).get_indexes("fill")} & {"ix_fill_run_trade", "ix_fill_run_id",
                                                                       "ix_fill_trade_no"} == {"ix_fill_run_trade"}
        old = run_fills(db, run_id)
        assert len(old) == len(result.fills) and all(f.avg_entry_price is None for f in old)  # not recorded then
        new = save_backtest(db, dataclasses.replace(result))
        assert [f.avg_entry_price for f in run_fills(db, new)] == [f.avg_entry for f in result.fills]
    finally:
        db.dispose()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_an_older_schema_with_naive_time_columns_still_stores_utc(db_url: str, result: BacktestResult) -> None:
    url = normalise_db_url(db_url)
    db = open_db(url)
    with db.begin() as conn:  # as SQLModel < 0.0.45 made them: naive, holding UTC
        for table, column in (("run", "created_at"), ("run", "period_start"), ("run", "period_end"), ("fill", "time")):
            conn.execute(text(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE timestamp without time zone '
                              f'USING "{column}" AT TIME ZONE \'UTC\''))
    db.dispose()
    db = open_db(url)
    try:
        run_id = save_backtest(db, result, created_at=T1)
        run = get_run(db, run_id)
        assert run is not None
        assert _instant(run.period_start) == result.candles.index[0]
        assert _instant(run.created_at) == T1
    finally:
        db.dispose()


# --------------------------------------------------------------------------- live sessions

BASE = BacktestConfig(strategy="sma_cross", policy=ExitPolicy(stop_loss_pct=4, trailing_activation_pct=1.5,
                      trailing_distance_pct=1.0, exit_targets=(2.0,), exit_sizes=(0.3,)),
                      sizing=Sizing(fraction=0.6, max_leverage=1.0))


def test_a_sessions_steps_read_back_as_committed(db: Engine) -> None:
    config = SessionConfig("pg-steps", BASE, ("BTC/USDT",))
    sid = session_store.create_session(db, config, now=T0)
    with pytest.raises(InputError, match="already exists"):
        session_store.create_session(db, config, now=T0)
    fill = FillRecord(3, FillKind.ENTRY, Side.SHORT, 41, 29_876.5, 0.125, 3.73, 1.86, -3.73, "signal", 29_876.5)
    trade = TradeRecord(2, Side.LONG, 10, 40, 30_000.25, 30_500.5, 0.25, 120.75, 1.61, 15.1, 7.5,
                        ExitReason.TAKE_PROFIT, 2.5, -0.75)
    equity = {"session_id": sid, "symbol": "BTC/USDT", "bar": 41, "time_ms": int(T1.timestamp() * 1000),
              "close": 29_880.0, "equity": 10_120.75}
    book = {"bars": 42, "last_candle_ms": int(T1.timestamp() * 1000), "last_price": 29_880.0,
            "engine": {"balance": 10_120.75, "position": {"side": "short", "size": 0.125}, "counters": [1, 2, 3]}}
    session_store.commit_step(db, sid, "BTC/USDT", book, fills=[session_store.fill_row(sid, "BTC/USDT", fill, T1)],
                              trades=[trade], equity=[equity])

    (row,) = session_store.session_fills(db, sid, "BTC/USDT")
    assert session_store.as_fill_record(row) == fill
    assert _instant(row.time) == T1
    assert session_store.session_trades(db, sid, "BTC/USDT") == [trade]
    assert [(e.bar, e.time_ms, e.close, e.equity) for e in session_store.session_equity(db, sid, "BTC/USDT")] == \
        [(41, equity["time_ms"], 29_880.0, 10_120.75)]
    stored = session_store.load_books(db, sid)["BTC/USDT"]
    assert (stored.bars, stored.last_candle_ms, stored.last_price, stored.state) == (42, book["last_candle_ms"], 29_880.0, book["engine"])

    session_store.set_status(db, sid, "halted", "cannot explain 0.1 BTC", now=T1)
    other = session_store.create_session(db, SessionConfig("pg-other", BASE), now=T0 + timedelta(hours=1))
    row_s = session_store.get_session(db, "pg-steps")
    assert row_s is not None and (row_s.status, row_s.message) == ("halted", "cannot explain 0.1 BTC")
    assert (_instant(row_s.created_at), _instant(row_s.updated_at)) == (T0, T1)
    assert [s.id for s in session_store.list_sessions(db)] == [other, sid]  # by last update, newest first
    if _backend(db) == "postgresql":
        assert _epochs(db, 'SELECT extract(epoch from "time") FROM session_fill') == [T1.timestamp()]

    session_store.delete_session(db, sid)
    assert session_store.get_session(db, "pg-steps") is None
    assert session_store.session_fills(db, sid) == [] and session_store.load_books(db, sid) == {}


def _order(cid: str, status: OrderStatus = OrderStatus.NEW, minutes: int = 0, **kw: Any) -> OrderRecord:
    at = T1 + timedelta(minutes=minutes)
    return OrderRecord(cid, "BTC/USDT", "buy", "market", 0.01, status=status, created_at=at, updated_at=at, **kw)


def _new_session(db: Engine, name: str) -> int:
    with Session(db) as s:
        row = TradingSession(name=name, mode="live", created_at=T0, updated_at=T0)
        s.add(row)
        s.commit()
        s.refresh(row)
        assert row.id is not None
        return row.id


def test_the_order_store_upserts_and_keeps_its_orders_apart(db: Engine) -> None:
    orders = SqlOrderStore(db, _new_session(db, "live-1"))
    order = _order("atb-1", ref_price=20_010.0)
    orders.save(order)
    order.status, order.exchange_order_id, order.filled_qty, order.avg_price = OrderStatus.FILLED, "77", 0.01, 20_000.0
    order.fee, order.base_fee, order.message, order.updated_at = 0.2, 0.00001, "done", T1 + timedelta(seconds=3)
    orders.save(order)
    back = orders.get("atb-1")
    assert back == order and back is not order
    assert back.created_at == T1 and back.updated_at == T1 + timedelta(seconds=3)
    for i, status in enumerate((OrderStatus.SENT, OrderStatus.CANCELLED, OrderStatus.UNKNOWN), start=1):
        orders.save(_order(f"atb-{status.lower()}", status, minutes=i))
    other = SqlOrderStore(db, _new_session(db, "live-2"))
    other.save(_order("atb-other", OrderStatus.OPEN))
    assert [o.client_order_id for o in orders.unresolved()] == ["atb-sent", "atb-unknown"]
    assert [o.client_order_id for o in orders.orders()] == ["atb-1", "atb-sent", "atb-cancelled", "atb-unknown"]
    assert orders.get("atb-other") is None
    with pytest.raises(ValueError, match=f"belongs to session {orders.session_id}"):
        other.save(_order("atb-1", OrderStatus.SENT))
    if _backend(db) == "postgresql":
        assert _epochs(db, "SELECT extract(epoch from created_at) FROM session_order WHERE client_order_id = 'atb-1'") == \
            [T1.timestamp()]

    session_store.delete_session(db, orders.session_id)  # its orders go with it (ON DELETE CASCADE)
    with Session(db) as s:
        left = s.execute(text("SELECT client_order_id FROM session_order ORDER BY id")).scalars().all()
    assert left == ["atb-other"]


def test_a_paper_session_stopped_and_resumed_ends_as_the_backtest(db: Engine) -> None:
    bars = 1500
    candles = {s: c.iloc[:bars] for s, c in sample_feed_candles(["BTC/USDT"]).items()}
    config = SessionConfig("resumed", BASE, ("BTC/USDT",))
    session = LiveSession.start(db, config, ReplayFeed(candles))
    while session.books["BTC/USDT"].bars < 700:
        session.poll_once()
    session.stop_now()
    session = LiveSession.start(db, config, ReplayFeed(candles), resume=True)
    assert session.run() == "ended"

    expected = run_backtest(dataclasses.replace(BASE, balance=config.book_settings.balance), candles["BTC/USDT"])
    closed = [t for t in expected.trades if t.exit_reason is not ExitReason.END_OF_DATA]
    stored = session_store.session_trades(db, session.id, "BTC/USDT")
    assert len(stored) == len(closed) > 3
    for got, want in zip(stored, closed):
        assert (got.trade_no, got.side, got.entry_bar, got.exit_bar, got.exit_reason) == \
            (want.trade_no, want.side, want.entry_bar, want.exit_bar, want.exit_reason)
        assert got.pnl == pytest.approx(want.pnl, rel=1e-9, abs=1e-9)
    fills = session_store.session_fills(db, session.id, "BTC/USDT")
    index = candles["BTC/USDT"].index
    assert [_instant(f.time) for f in fills] == [index[f.bar] for f in fills]
