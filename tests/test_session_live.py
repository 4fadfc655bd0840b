"""A live session placing real orders through ccxt at the loopback Binance: the engine books
what the exchange filled, each fill keeps its client order id, a restart reconciles, and
an order the session never booked halts it (fail closed) instead of being invented."""

from __future__ import annotations

import pytest

from engine.actions import ActionKind, Amount, AmountUnit, ManualAction
from engine.config import BacktestConfig
from engine.policy import Sizing
from engine.session import store
from engine.session.config import SessionConfig
from engine.session.exchange_broker import ExchangeBroker
from engine.session.orders import OrderRecord, OrderStatus
from engine.session.exchange_client import exchange_client
from engine.session.exchange_feed import ExchangeFeed
from engine.session.order_store import SqlOrderStore
from engine.session.session import LiveSession, SessionHalted
from engine.store import open_db
from tests.fake_exchange import HOUR_MS, FakeClock, LoopbackBinance

START = 1_704_067_200_000 + 600 * HOUR_MS
CONFIG = SessionConfig("real", BacktestConfig(strategy="sma_cross", params={"fast": 3, "slow": 5},
                                              sizing=Sizing(fraction=0.2)), mode="live", feed="exchange")


@pytest.fixture
def server():
    with LoopbackBinance() as srv:
        srv.fee_in = "quote"
        yield srv


def _start(db, server, clock, now, resume=False):  # type: ignore[no-untyped-def]
    client = exchange_client("binance", api_url=server.url, credentials={"apiKey": "k", "secret": "s"}, timeout_ms=2000)
    client.enableRateLimit = False
    feed = ExchangeFeed(client, ["BTC/USDT"], "1h", warmup=100, clock=clock, now_ms=lambda: now[0], sleep=clock.sleep)
    factory = lambda sid: ExchangeBroker(client, SqlOrderStore(db, sid), sleep=clock.sleep)  # noqa: E731
    return LiveSession.start(db, CONFIG, feed, resume=resume, broker_factory=factory)


def _until_position(session, server, clock, now) -> None:  # type: ignore[no-untyped-def]
    book = session.books["BTC/USDT"]
    for _ in range(120):
        if book.engine.state.position is not None:
            return
        now[0] += HOUR_MS
        clock.now += 60
        server.set_price("BTC/USDT", book.last_price or 20000)
        session.poll_once()
    raise AssertionError("no entry in 120 hours")


def test_entries_and_manual_exits_are_real_orders_booked_as_filled(tmp_path, server) -> None:
    db = open_db(f"sqlite:///{tmp_path / 'live.sqlite'}")
    clock, now = FakeClock(), [START + 60_000]
    session = _start(db, server, clock, now)
    _until_position(session, server, clock, now)
    pos = session.open_positions()["BTC/USDT"]
    [entry] = server.order_posts()
    fills = store.session_fills(db, session.id)
    assert [f.client_order_id for f in fills] == [entry.client_order_id]
    server_order = server.find_orders(entry.client_order_id)[0]
    assert float(server_order.executed) == pytest.approx(pos.current_size)
    session.act("BTC/USDT", ManualAction(ActionKind.PARTIAL_EXIT, Amount(50, AmountUnit.PERCENT)))
    exit_post = server.order_posts()[1]
    assert len(server.order_posts()) == 2 and exit_post.params["side"] == "SELL"
    # The exchange sells whole lot steps: the book keeps exactly what was not sold.
    sold = float(server.find_orders(exit_post.client_order_id)[0].executed)
    assert sold <= pos.current_size / 2 and pos.current_size / 2 - sold < 1e-5
    left = session.open_positions()["BTC/USDT"].current_size
    assert left == pytest.approx(pos.current_size - sold, abs=1e-12)
    session.stop_now()
    # A restart asks the exchange before anything else: it agrees, so the session trades on.
    again = _start(db, server, clock, now, resume=True)
    assert again.open_positions()["BTC/USDT"].current_size == left
    assert len(server.order_posts()) == 2  # reconciling sends nothing


def test_a_fill_the_session_never_booked_halts_it(tmp_path, server) -> None:
    db = open_db(f"sqlite:///{tmp_path / 'live.sqlite'}")
    clock, now = FakeClock(), [START + 60_000]
    session = _start(db, server, clock, now)
    session.stop_now()
    # The process died after sending an order and before booking its fill.
    orders = SqlOrderStore(db, session.id)
    lost = OrderRecord("atb-lost0000000000000001", "BTC/USDT", "buy", "market", 0.01, status=OrderStatus.SENT)
    orders.save(lost)
    server.client(api_key="k", secret="s").create_order("BTC/USDT", "market", "buy", 0.01, None,
                                                         {"newClientOrderId": lost.client_order_id})
    with pytest.raises(SessionHalted, match="atb-lost"):
        _start(db, server, clock, now, resume=True)
    row = store.get_session(db, "real")
    assert row.status == "halted" and "atb-lost" in row.message
    assert not store.session_fills(db, session.id)  # nothing invented


def test_the_api_secret_is_written_nowhere(tmp_path, server) -> None:
    db_path = tmp_path / "live.sqlite"
    db = open_db(f"sqlite:///{db_path}")
    clock, now = FakeClock(), [START + 60_000]
    secret, key = "s3cr3t-9f8e7d6c5b4a", "k3y-0a1b2c3d4e5f"
    client = exchange_client("binance", api_url=server.url, credentials={"apiKey": key, "secret": secret})
    client.enableRateLimit = False
    feed = ExchangeFeed(client, ["BTC/USDT"], "1h", warmup=100, clock=clock, now_ms=lambda: now[0], sleep=clock.sleep)
    session = LiveSession.start(db, CONFIG, feed,
                                broker_factory=lambda sid: ExchangeBroker(client, SqlOrderStore(db, sid), sleep=clock.sleep))
    _until_position(session, server, clock, now)
    session.stop_now()
    assert server.order_posts()[0].api_key == key  # the keys were used...
    for path in tmp_path.iterdir():  # ...and are in no file the session wrote (the database, its WAL)
        data = path.read_bytes()
        assert secret.encode() not in data and key.encode() not in data, path.name


def test_the_stop_rests_on_the_exchange_and_its_fill_is_the_exit(tmp_path, server) -> None:
    import dataclasses

    from engine.policy import ExitPolicy

    db = open_db(f"sqlite:///{tmp_path / 'live.sqlite'}")
    clock, now = FakeClock(), [1_704_067_200_000 + 150 * HOUR_MS + 60_000]  # room for a few price cycles
    config = dataclasses.replace(CONFIG, base=dataclasses.replace(CONFIG.base, policy=ExitPolicy(stop_loss_pct=3.0)))
    client = exchange_client("binance", api_url=server.url, credentials={"apiKey": "k", "secret": "s"}, timeout_ms=2000)
    client.enableRateLimit = False
    feed = ExchangeFeed(client, ["BTC/USDT"], "1h", warmup=100, clock=clock, now_ms=lambda: now[0], sleep=clock.sleep)
    session = LiveSession.start(db, config, feed, broker_factory=lambda sid: ExchangeBroker(
        client, SqlOrderStore(db, sid), sleep=clock.sleep))
    _until_position(session, server, clock, now)
    pos = session.open_positions()["BTC/USDT"]
    [stop] = [o for o in server.orders.values() if o.type == "STOP_LOSS"]
    assert float(stop.quantity) == pytest.approx(pos.current_size) and stop.status == "NEW"
    assert float(stop.stop_price) == pytest.approx(pos.stop_loss, abs=0.01)
    # A partial exit first takes the stop off (its coins are locked), then puts it back smaller.
    session.act("BTC/USDT", ManualAction(ActionKind.PARTIAL_EXIT, Amount(50, AmountUnit.PERCENT)))
    stops = [o for o in server.orders.values() if o.type == "STOP_LOSS"]
    assert [o.status for o in stops] == ["CANCELED", "NEW"]
    left = session.open_positions()["BTC/USDT"].current_size
    assert float(stops[1].quantity) == pytest.approx(left)
    # The market falls through the stop while the session waits for its candle: the exchange sells.
    server.set_price("BTC/USDT", pos.stop_loss * 0.95)
    assert stops[1].status == "FILLED"
    sells_before = [p for p in server.order_posts() if p.params.get("type") == "MARKET" and p.params["side"] == "SELL"]
    book = session.books["BTC/USDT"]
    for _ in range(120):  # until the engine exits: it books the exchange's fill as that exit
        if book.engine.state.position is None:
            break
        now[0] += HOUR_MS
        clock.now += 60
        session.poll_once()
    assert book.engine.state.position is None
    sells_after = [p for p in server.order_posts() if p.params.get("type") == "MARKET" and p.params["side"] == "SELL"]
    assert sells_after == sells_before  # no second sale
    exit_fill = store.session_fills(db, session.id)[-1]
    # Whichever exit the engine took next (here the strategy's own), it is the stop's sale.
    assert exit_fill.kind == "exit" and exit_fill.client_order_id == stops[1].client_order_id
    assert exit_fill.qty == pytest.approx(left)


def test_an_order_whose_answer_is_lost_is_placed_once_and_booked(tmp_path, server) -> None:
    db = open_db(f"sqlite:///{tmp_path / 'live.sqlite'}")
    clock, now = FakeClock(), [START + 60_000]
    session = _start(db, server, clock, now)
    _until_position(session, server, clock, now)
    size = session.open_positions()["BTC/USDT"].current_size
    heard: list[object] = []
    session.listener = heard.append
    # The exchange takes the sell, fills it, and its answer never arrives (the client times out).
    server.inject("/api/v3/order", "accept_timeout", method="POST")
    session.act("BTC/USDT", ManualAction(ActionKind.PARTIAL_EXIT, Amount(50, AmountUnit.PERCENT)))
    sells = [p for p in server.order_posts() if p.params["side"] == "SELL"]
    assert len(sells) == 1  # asked about by its client order id, never sent again
    sold = float(server.find_orders(sells[0].client_order_id)[0].executed)
    assert session.open_positions()["BTC/USDT"].current_size == pytest.approx(size - sold, abs=1e-12)
    assert store.session_fills(db, session.id)[-1].client_order_id == sells[0].client_order_id
    from engine.session.session import SessionNote

    assert any(isinstance(e, SessionNote) and "retrying in" in e.text for e in heard)  # the trader is told


def test_a_refused_manual_order_changes_nothing(tmp_path, server) -> None:
    from engine.errors import InputError

    db = open_db(f"sqlite:///{tmp_path / 'live.sqlite'}")
    clock, now = FakeClock(), [START + 60_000]
    session = _start(db, server, clock, now)
    _until_position(session, server, clock, now)
    before = session.books["BTC/USDT"].engine.state.copy()
    fills = len(store.session_fills(db, session.id))
    server.set_balance("USDT", 1)  # nothing left to buy with
    with pytest.raises(InputError, match="insufficient balance"):
        session.act("BTC/USDT", ManualAction(ActionKind.SCALE_IN, Amount(50, AmountUnit.PERCENT)))
    assert session.books["BTC/USDT"].engine.state == before and len(store.session_fills(db, session.id)) == fills
