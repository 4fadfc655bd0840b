"""Reconciliation against the real ccxt.binance client and the loopback Binance.

What these pin: an order left unsettled is asked about and its fate is a resolved line;
a fill the session did not record is reported, never added; a base balance that covers
the book (allowing for fees taken in the base asset and one lot step) is ok, one short of
it is unexplained; and nothing is ever sent. No test sleeps: every sleep is a virtual clock's.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from sqlmodel import Session

from engine.session.exchange_broker import ExchangeBroker
from engine.session.orders import OrderRecord, OrderStatus
from engine.session.models import TradingSession
from engine.session.order_store import SqlOrderStore
from engine.session.reconcile import Reconciliation, reconcile
from engine.store import open_db

try:
    from tests.fake_exchange import FakeClock, LoopbackBinance
except ImportError:  # pragma: no cover - running from inside tests/
    from fake_exchange import FakeClock, LoopbackBinance

BTC, ETH = "BTC/USDT", "ETH/USDT"
S = OrderStatus


@dataclass
class Rig:
    server: LoopbackBinance
    broker: ExchangeBroker
    store: SqlOrderStore
    clock: FakeClock

    def reconcile(self, books: dict[str, float], fills_known: Any = frozenset(), **kw: Any) -> Reconciliation:
        return reconcile(self.broker, self.store, books, "USDT", fills_known=fills_known, **kw)

    def sends(self) -> int:
        return len(self.server.order_posts())


@pytest.fixture
def server():
    with LoopbackBinance() as srv:
        yield srv


@pytest.fixture
def rig(server, tmp_path):
    db = open_db(f"sqlite:///{tmp_path / 'session.sqlite'}")
    with Session(db) as s:
        row = TradingSession(name="live", mode="live")
        s.add(row)
        s.commit()
        s.refresh(row)
        session_id = row.id
    store = SqlOrderStore(db, session_id)
    client = server.client(api_key="k", secret="s")
    client.load_markets()
    clock = FakeClock()
    yield Rig(server, ExchangeBroker(client, store, clock=clock, sleep=clock.sleep), store, clock)
    db.dispose()


def _sent(cid: str) -> OrderRecord:
    return OrderRecord(cid, BTC, "buy", "market", 0.01, status=S.SENT)


# -- orders ------------------------------------------------------------------------------------------


def test_a_sent_order_the_exchange_filled_is_resolved_and_its_fill_reported_missed(rig):
    rig.store.save(_sent("atb-crashed"))  # committed as sent; the session died before the answer
    rig.broker.client.create_order(BTC, "market", "buy", 0.01, None, {"newClientOrderId": "atb-crashed"})
    result = rig.reconcile({BTC: 0.0})
    assert result.resolved == ["market buy 0.01 BTC/USDT (atb-crashed) was sent: filled 0.01 at 20000 (fee 0.2)"]
    (missed,) = result.unexplained
    assert "atb-crashed" in missed and "filled 0.01 at 20000" in missed and "no fill for it" in missed
    assert not result.ok and "! market buy 0.01 BTC/USDT (atb-crashed)" in result.report()
    assert rig.store.get("atb-crashed").status is S.FILLED  # its fate recorded ...
    assert rig.sends() == 1 and len(rig.server.orders) == 1  # ... and nothing sent to settle it


def test_the_same_fill_recorded_by_the_session_is_ok(rig):
    rig.store.save(_sent("atb-crashed"))
    rig.broker.client.create_order(BTC, "market", "buy", 0.01, None, {"newClientOrderId": "atb-crashed"})
    result = rig.reconcile({BTC: 0.01}, {"atb-crashed"})
    assert result.ok and result.unexplained == []
    assert result.resolved[0].endswith("was sent: filled 0.01 at 20000 (fee 0.2)")


def test_a_sent_order_that_never_arrived_is_resolved_as_never_placed(rig):
    rig.store.save(_sent("atb-lost"))
    result = rig.reconcile({BTC: 0.0})
    assert result.ok
    assert result.resolved == ["market buy 0.01 BTC/USDT (atb-lost) was sent: never placed: not found on the exchange"]


def test_orders_that_cannot_be_asked_about_fail_closed(rig):
    rig.store.save(_sent("atb-unasked"))
    rig.server.inject("/api/v3/order", *["503"] * 5, method="GET")
    result = rig.reconcile({BTC: 0.0})
    assert not result.ok
    assert result.unexplained[0].startswith("could not ask binance what became of the session's unsettled orders")
    assert "(atb-unasked) is still sent: whether binance placed it is not known" in result.unexplained[1]
    assert rig.clock.sleeps == [0.5, 1.0, 2.0, 4.0]


def test_more_filled_than_the_session_recorded_is_unexplained(rig):
    order = rig.broker.market(BTC, "buy", 0.01)
    assert rig.reconcile({BTC: 0.01}, {order.client_order_id: 0.01}).ok
    result = rig.reconcile({BTC: 0.004}, {order.client_order_id: 0.004})
    assert result.unexplained == [f"{order.describe()} filled 0.01 on binance, but the session recorded 0.004: "
                                  f"0.006 BTC/USDT filled unseen"]


def test_a_recorded_fill_of_an_order_that_never_filled_is_unexplained(rig):
    rig.store.save(_sent("atb-lost"))
    result = rig.reconcile({BTC: 0.0}, {"atb-lost", "atb-stranger"})
    assert result.unexplained == [
        "the session recorded a fill of market buy 0.01 BTC/USDT (atb-lost), but binance says: never placed: "
        "not found on the exchange",
        "the session recorded fills for order atb-stranger, which is not among its orders"]


# -- balances ----------------------------------------------------------------------------------------


def test_balances_matching_the_books_are_ok(rig):
    rig.server.set_balance("BTC", "0.01")
    rig.server.set_balance("ETH", "0.2", "0.3")  # a resting sell holds part of it: still the account's
    result = rig.reconcile({BTC: 0.01, ETH: 0.5})
    assert (result.ok, result.resolved, result.unexplained) == (True, [], [])
    assert result.balances == {"BTC": (0.01, 0.0), "ETH": (0.2, 0.3), "USDT": (10000.0, 0.0)}


def test_a_base_balance_short_of_the_book_is_unexplained(rig):
    rig.server.set_balance("BTC", "0.004", "0.001")
    result = rig.reconcile({BTC: 0.01, ETH: 0.0})
    (line,) = result.unexplained
    assert line.startswith("BTC/USDT: the book holds 0.01 BTC but binance has 0.005 BTC (free 0.004, locked 0.001)")
    assert "0.005 BTC short" in line and not result.ok


def test_fees_taken_in_the_base_asset_explain_a_small_shortfall_and_no_more(rig):
    order = rig.broker.market(BTC, "buy", 0.1)  # Binance keeps 0.1% of the BTC bought: ten lot steps
    assert order.base_fee == pytest.approx(0.0001)
    result = rig.reconcile({BTC: 0.1}, {order.client_order_id})
    assert result.ok
    assert result.resolved == ["BTC/USDT: the book holds 0.1 BTC but binance has 0.0999 BTC (free 0.0999, "
                               "locked 0): the 0.0001 BTC difference is within the fees taken in BTC (0.0001) "
                               "plus one lot step (0.00001)"]
    over = rig.reconcile({BTC: 0.1002}, {order.client_order_id})
    assert not over.ok and "0.0003 BTC short" in over.unexplained[0]


def test_a_short_book_on_a_spot_account_is_unexplained(rig):
    result = rig.reconcile({BTC: -0.01})
    assert result.unexplained == ["BTC/USDT: the book is short 0.01 BTC, which a spot account cannot be"]


def test_an_unknown_market_is_unexplained(rig):
    result = rig.reconcile({"DOGE/USDT": 5.0})
    assert result.unexplained == ["DOGE/USDT: cannot check the position: binance has no market 'DOGE/USDT'"]


# -- retries -----------------------------------------------------------------------------------------


def test_balances_are_read_through_the_brokers_retry(rig):
    rig.server.set_balance("BTC", "0.01")
    rig.server.inject("/api/v3/account", "503", "429")
    result = rig.reconcile({BTC: 0.01})
    assert result.ok and rig.clock.sleeps == [0.5, 7.0]  # backoff, then the 429's Retry-After


def test_balances_that_cannot_be_read_fail_closed(rig):
    rig.server.inject("/api/v3/account", *["503"] * 5)
    result = rig.reconcile({BTC: 0.0})
    (line,) = result.unexplained
    assert line.startswith("could not read the account's balances, so the positions are unchecked: binance did "
                           "not answer while reading the balances on binance after 5 attempts")
    assert not result.ok and rig.clock.sleeps == [0.5, 1.0, 2.0, 4.0]


def test_without_a_broker_retry_its_own_loop_waits_with_the_given_sleep(rig):
    bare = SimpleNamespace(client=rig.broker.client, resolve_unresolved=lambda: [])
    rig.server.set_balance("BTC", "0.01")
    rig.server.inject("/api/v3/account", "503", "503")
    sleeps: list[float] = []
    result = reconcile(bare, rig.store, {BTC: 0.01}, "USDT", fills_known=set(), sleep=sleeps.append)
    assert result.ok and sleeps == [0.5, 1.0]
    rig.server.inject("/api/v3/account", "503", "503")
    failed = reconcile(bare, rig.store, {BTC: 0.01}, "USDT", fills_known=set(), sleep=sleeps.append, retries=2)
    (line,) = failed.unexplained
    assert "no answer while reading the balances on binance after 2 attempts" in line and "503" in line
    assert "signature" not in line and sleeps == [0.5, 1.0, 0.5]  # no signed query string for the trader
