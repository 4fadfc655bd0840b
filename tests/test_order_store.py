"""The live session's order store in SQLite: on disk before it is sent, one row per order.

Durability is checked from outside the store: a plain sqlite3 connection on the same
file, which sees only what was committed.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from engine.errors import ExchangeError
from engine.session.exchange_broker import ExchangeBroker
from engine.session.orders import OrderRecord, OrderStatus
from engine.session.models import SessionOrder, TradingSession
from engine.session.order_store import SqlOrderStore
from engine.session.store import delete_session
from engine.store import open_db

try:
    from tests.fake_exchange import FakeClock, LoopbackBinance
except ImportError:  # pragma: no cover - running from inside tests/
    from fake_exchange import FakeClock, LoopbackBinance

BTC = "BTC/USDT"
S = OrderStatus
T0 = datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc)


def _new_session(db: Any, name: str) -> int:
    with Session(db) as s:
        row = TradingSession(name=name, mode="live")
        s.add(row)
        s.commit()
        s.refresh(row)
        assert row.id is not None
        return row.id


@pytest.fixture
def path(tmp_path):
    return tmp_path / "session.sqlite"


@pytest.fixture
def db(path):
    engine = open_db(f"sqlite:///{path}")
    yield engine
    engine.dispose()


@pytest.fixture
def store(db):
    return SqlOrderStore(db, _new_session(db, "live-1"))


def _on_disk(path: Any, cid: str) -> list[tuple[Any, ...]]:
    """The committed row for ``cid``, read by a connection that shares nothing with the store."""
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT session_id, status, filled_qty, exchange_order_id FROM session_order "
                            "WHERE client_order_id = ?", (cid,)).fetchall()


def _order(cid: str, status: OrderStatus = S.NEW, minutes: int = 0, **kw: Any) -> OrderRecord:
    at = T0 + timedelta(minutes=minutes)
    return OrderRecord(cid, BTC, "buy", "market", 0.01, status=status, created_at=at, updated_at=at, **kw)


def test_a_saved_order_is_committed_when_save_returns(store, path):
    store.save(_order("atb-1"))
    assert _on_disk(path, "atb-1") == [(store.session_id, "NEW", 0.0, None)]


def test_the_order_is_on_disk_as_sent_when_the_exchange_receives_it(store, path):
    seen: dict[str, list[tuple[Any, ...]]] = {}

    class Watching(LoopbackBinance):
        def _place(self, p: dict[str, str]) -> dict[str, Any]:
            cid = p["newClientOrderId"]
            seen[cid] = _on_disk(path, cid)  # on the server's thread, through its own connection
            return super()._place(p)

    with Watching() as server:
        client = server.client(api_key="k", secret="s")
        clock = FakeClock()
        order = ExchangeBroker(client, store, clock=clock, sleep=clock.sleep).market(BTC, "buy", 0.01)
    assert seen == {order.client_order_id: [(store.session_id, "SENT", 0.0, None)]}
    assert _on_disk(path, order.client_order_id) == [(store.session_id, "FILLED", 0.01, order.exchange_order_id)]


def test_save_upserts_by_client_order_id_and_reads_back_the_same_record(store, path):
    order = _order("atb-1", ref_price=20010.0)
    store.save(order)
    order.status, order.exchange_order_id, order.filled_qty, order.avg_price = S.FILLED, "77", 0.01, 20000.0
    order.fee, order.base_fee, order.message = 0.2, 0.00001, "done"
    order.updated_at = T0 + timedelta(seconds=3)
    store.save(order)
    assert len(_on_disk(path, "atb-1")) == 1
    back = store.get("atb-1")
    assert back == order and back is not order
    assert back.status is S.FILLED and back.created_at.tzinfo is not None
    assert store.get("atb-missing") is None


def test_unresolved_holds_only_this_sessions_unsettled_orders_oldest_first(db, store):
    statuses = list(OrderStatus)
    for i, status in enumerate(reversed(statuses)):  # saved newest status first, so id order is checked
        store.save(_order(f"atb-{status.lower()}", status, minutes=i))
    other = SqlOrderStore(db, _new_session(db, "live-2"))
    other.save(_order("atb-other", S.SENT))
    assert [o.status for o in store.unresolved()] == [S.PARTIALLY_FILLED, S.OPEN, S.UNKNOWN, S.SENT, S.NEW]
    assert [o.client_order_id for o in store.orders()] == [f"atb-{s.lower()}" for s in reversed(statuses)]
    assert [o.client_order_id for o in other.unresolved()] == ["atb-other"]
    assert store.get("atb-other") is None


def test_a_client_order_id_is_unique_across_sessions(db, store, path):
    store.save(_order("atb-1", S.FILLED))
    other = SqlOrderStore(db, _new_session(db, "live-2"))
    with pytest.raises(ValueError, match=f"belongs to session {store.session_id}"):
        other.save(_order("atb-1", S.SENT))
    assert _on_disk(path, "atb-1") == [(store.session_id, "FILLED", 0.0, None)]
    with Session(db) as s, pytest.raises(IntegrityError):  # the table itself refuses a second row
        s.add(SessionOrder(session_id=other.session_id, symbol=BTC, client_order_id="atb-1", side="buy",
                           kind="market", qty=0.01, status="NEW"))
        s.commit()


def test_a_restarted_session_finds_the_order_a_lost_answer_left_unknown(db, store, path):
    with LoopbackBinance() as server:
        client = server.client(api_key="k", secret="s")
        clock = FakeClock()
        server.inject("/api/v3/order", "accept_503", method="POST")
        server.inject("/api/v3/order", *["503"] * 5, method="GET")
        with pytest.raises(ExchangeError, match="looking up"):
            ExchangeBroker(client, store, clock=clock, sleep=clock.sleep).market(BTC, "buy", 0.01)
        again = open_db(f"sqlite:///{path}")  # the restart: a new engine on the same file
        restarted = SqlOrderStore(again, store.session_id)
        (lost,) = restarted.unresolved()
        assert (lost.status, lost.filled_qty) == (S.UNKNOWN, 0)
        broker = ExchangeBroker(server.client(api_key="k", secret="s"), restarted, clock=clock, sleep=clock.sleep)
        assert broker.resolve_unresolved() == [f"{lost.describe()} was unknown: filled 0.01 at 20000 (fee 0.2)"]
        again.dispose()
    assert store.unresolved() == [] and store.get(lost.client_order_id).status is S.FILLED
    assert len(server.orders) == 1


def test_deleting_a_session_deletes_its_orders(db, store, path):
    store.save(_order("atb-1", S.FILLED))
    delete_session(db, store.session_id)
    assert _on_disk(path, "atb-1") == []
