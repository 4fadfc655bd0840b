"""The exchange broker against the real ccxt.binance client and the loopback Binance.

What these pin: an order is on record before it is sent, a lost answer is asked for by
client order id before anything is sent again (so one decision is one order on the
exchange's books), refusals change nothing, and fills, fees and stops are recorded as
the exchange reports them. No test sleeps: the broker's sleep is a virtual clock's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from engine.broker import Execution
from engine.errors import ExchangeError, InputError
from engine.session.exchange_broker import ExchangeBroker
from engine.session.orders import MemoryOrderStore, OrderRecord, OrderRejected, OrderStatus, new_client_order_id

try:
    from tests.fake_exchange import FakeClock, LoopbackBinance
except ImportError:  # pragma: no cover - running from inside tests/
    from fake_exchange import FakeClock, LoopbackBinance

BTC = "BTC/USDT"
S = OrderStatus


@dataclass
class Rig:
    server: LoopbackBinance
    broker: ExchangeBroker
    store: MemoryOrderStore
    clock: FakeClock
    statuses: list[str] = field(default_factory=list)

    def cids(self) -> list[str]:
        return [r.client_order_id for r in self.server.order_posts()]


@pytest.fixture
def server():
    with LoopbackBinance() as srv:
        yield srv


def make_rig(server: LoopbackBinance, *, timeout_ms: int = 2000, store: Any = None, **kwargs: Any) -> Rig:
    client = server.client(api_key="k", secret="s", timeout_ms=timeout_ms)
    client.load_markets()
    clock, statuses = FakeClock(), []
    store = store if store is not None else MemoryOrderStore()
    broker = ExchangeBroker(client, store, clock=clock, sleep=clock.sleep, on_status=statuses.append, **kwargs)
    return Rig(server, broker, store, clock, statuses)


@pytest.fixture
def rig(server):
    return make_rig(server)


@pytest.fixture
def impatient(server):
    """A client that gives up after 300 ms, for answers that stall."""
    return make_rig(server, timeout_ms=300)


# -- filling -----------------------------------------------------------------------------


def test_market_buy_fills_and_records_the_base_fee_in_quote(rig):
    order = rig.broker.market(BTC, "buy", 0.01)
    assert (order.status, order.filled_qty, order.avg_price) == (S.FILLED, 0.01, 20000)
    assert order.fee == pytest.approx(0.2) and order.base_fee == pytest.approx(0.00001)  # 0.00001 BTC at 20000
    assert order.exchange_order_id == str(rig.server.find_orders(order.client_order_id)[0].order_id)
    assert rig.store.orders[order.client_order_id].status == S.FILLED
    assert rig.broker.execution(order) == Execution(20000, 0.01, pytest.approx(0.2), 0.0)
    assert rig.server.balance("BTC")[0] == Decimal("0.00999")


def test_market_sell_records_quote_fee_and_slippage_as_a_cost(rig):
    rig.server.set_balance("BTC", "0.02")
    rig.server.set_price(BTC, 21000)
    order = rig.broker.market(BTC, "SELL", 0.005, ref_price=21100)
    assert (order.side, order.status, order.avg_price, order.base_fee) == ("sell", S.FILLED, 21000, 0)
    assert order.fee == pytest.approx(0.105)
    price, qty, fee, slippage = rig.broker.execution(order)
    assert (price, qty, slippage) == (21000, 0.005, pytest.approx(0.5))  # sold 100 below the price decided on
    bought = rig.broker.market(BTC, "buy", 0.005, ref_price=21100)
    assert rig.broker.execution(bought).slippage == pytest.approx(-0.5)  # paid less than expected: a gain


def test_client_order_ids_are_short_unique_and_binance_safe():
    ids = {new_client_order_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(i.startswith("atb-") and len(i) <= 36 and i.replace("-", "").isalnum() for i in ids)


def test_the_order_is_committed_before_the_request_reaches_the_exchange(server):
    seen: list[tuple[OrderStatus, int]] = []

    class WatchingStore(MemoryOrderStore):
        def save(self, order: OrderRecord) -> None:
            seen.append((order.status, len(server.order_posts())))
            super().save(order)

    rig = make_rig(server, store=WatchingStore())
    order = rig.broker.market(BTC, "buy", 0.01, ref_price=20000)
    assert seen[:2] == [(S.NEW, 0), (S.SENT, 0)]
    assert seen[-1] == (S.FILLED, 1)
    assert rig.cids() == [order.client_order_id]


def test_an_order_that_cannot_be_committed_is_never_sent(server):
    class BrokenStore(MemoryOrderStore):
        def save(self, order: OrderRecord) -> None:
            raise OSError("disk full")

    rig = make_rig(server, store=BrokenStore())
    with pytest.raises(OSError, match="disk full"):
        rig.broker.market(BTC, "buy", 0.01, ref_price=20000)
    assert server.order_posts() == [] and server.orders == {}


# -- network faults ------------------------------------------------------------------------


def test_429_waits_as_told_then_places_exactly_one_order(rig):
    rig.server.inject("/api/v3/order", "429", method="POST")
    order = rig.broker.market(BTC, "buy", 0.01)
    assert order.status == S.FILLED
    assert rig.cids() == [order.client_order_id] * 2 and len(rig.server.orders) == 1
    assert rig.clock.sleeps == [7.0]  # the Retry-After header, not the 0.5 s backoff
    assert any(s.startswith("retrying in 7 s: rate limited") for s in rig.statuses)
    assert rig.store.statuses(order.client_order_id)[:4] == [S.NEW, S.SENT, S.UNKNOWN, S.SENT]


def test_503_is_retried_with_backoff(rig):
    rig.server.inject("/api/v3/order", "503", "503", method="POST")
    order = rig.broker.market(BTC, "buy", 0.01)
    assert order.status == S.FILLED and len(rig.server.orders) == 1
    assert rig.clock.sleeps == [0.5, 1.0]
    assert sum("exchange unavailable" in s for s in rig.statuses) == 2


def test_an_order_placed_whose_answer_times_out_is_found_not_resent(impatient):
    rig = impatient
    rig.server.inject("/api/v3/order", "accept_timeout", method="POST")
    order = rig.broker.market(BTC, "buy", 0.01)
    assert len(rig.server.order_posts()) == 1 and len(rig.server.orders) == 1
    (placed,) = rig.server.find_orders(order.client_order_id)
    assert (order.status, order.filled_qty, order.avg_price) == (S.FILLED, 0.01, 20000)
    assert order.exchange_order_id == str(placed.order_id)
    assert order.fee == pytest.approx(0.2)  # read from the order's trades: a looked-up order has no fees
    asked = [r for r in rig.server.received if r.method == "GET" and r.path == "/api/v3/order"]
    assert asked[0].params["origClientOrderId"] == order.client_order_id
    assert S.UNKNOWN in rig.store.statuses(order.client_order_id)
    assert rig.server.balance("USDT")[0] == Decimal("9800")  # paid once


def test_execution_status_unknown_503_is_found_by_client_id(rig):
    rig.server.inject("/api/v3/order", "accept_503", method="POST")
    order = rig.broker.market(BTC, "buy", 0.01)
    assert order.status == S.FILLED and order.filled_qty == 0.01
    assert len(rig.server.order_posts()) == 1 and len(rig.server.orders) == 1
    assert any("found by its client order id" in s for s in rig.statuses)


def test_a_request_lost_before_the_exchange_is_resent_with_the_same_client_id(impatient):
    rig = impatient
    rig.server.inject("/api/v3/order", "timeout", method="POST")
    order = rig.broker.market(BTC, "buy", 0.01)
    assert rig.cids() == [order.client_order_id] * 2
    assert [o.status for o in rig.server.orders.values()] == ["FILLED"]
    assert order.status == S.FILLED and rig.clock.sleeps == [0.5]


def test_retries_exhausted_sends_no_more_and_says_why(rig):
    rig.server.inject("/api/v3/order", *["503"] * 5, method="POST")
    with pytest.raises(ExchangeError, match="after 5 attempts: exchange unavailable"):
        rig.broker.market(BTC, "buy", 0.01)
    assert rig.server.orders == {} and len(rig.server.order_posts()) == 5
    assert rig.clock.sleeps == [0.5, 1.0, 2.0, 4.0, 8.0]
    (order,) = rig.store.orders.values()
    assert order.status == S.REJECTED and order.filled_qty == 0  # asked after every send: never placed


def test_an_order_that_cannot_be_asked_about_stays_unknown_until_it_can(rig):
    rig.server.inject("/api/v3/order", "accept_503", method="POST")
    rig.server.inject("/api/v3/order", *["503"] * 5, method="GET")
    with pytest.raises(ExchangeError, match="looking up"):
        rig.broker.market(BTC, "buy", 0.01)
    (order,) = rig.store.orders.values()
    assert (order.status, order.filled_qty) == (S.UNKNOWN, 0)  # no fill invented, none denied
    assert len(rig.server.order_posts()) == 1
    lines = rig.broker.resolve_unresolved()
    assert lines == [f"market buy 0.01 BTC/USDT ({order.client_order_id}) was unknown: filled 0.01 at 20000 "
                     f"(fee 0.2)"]
    assert rig.store.orders[order.client_order_id].status == S.FILLED


def test_a_ban_longer_than_the_backoff_stops_all_requests_until_it_ends(rig):
    rig.server.retry_after_s = 120
    rig.server.inject("/api/v3/order", "418", method="POST")
    with pytest.raises(ExchangeError, match="120 s"):
        rig.broker.market(BTC, "buy", 0.01, ref_price=20000)
    assert rig.clock.sleeps == []  # it did not wait inside the ban, and did not ask again either
    sent = len(rig.server.received)
    with pytest.raises(ExchangeError, match="stop sending"):
        rig.broker.market(BTC, "buy", 0.01, ref_price=20000)
    assert len(rig.server.received) == sent and len(rig.store.orders) == 1
    rig.clock.now += 121
    assert rig.broker.resolve_unresolved()[0].endswith("never placed: not found on the exchange")
    assert rig.broker.market(BTC, "buy", 0.01).status == S.FILLED


# -- refusals and sizes -------------------------------------------------------------------


def test_insufficient_funds_rejects_and_changes_nothing(rig):
    rig.server.set_balance("USDT", 100)
    with pytest.raises(OrderRejected, match="insufficient balance") as caught:
        rig.broker.market(BTC, "buy", 0.01)
    assert "binance refused market buy 0.01 BTC/USDT" in str(caught.value) and "{" not in str(caught.value)
    assert rig.server.orders == {} and rig.server.balance("USDT") == (Decimal("100"), 0)
    (order,) = rig.store.orders.values()
    assert order.status == S.REJECTED and len(rig.server.order_posts()) == 1 and rig.clock.sleeps == []


def test_under_the_minimum_notional_or_size_is_refused_before_any_request(rig):
    before = len(rig.server.received)
    with pytest.raises(InputError, match=r"4.00 USDT, under BTC/USDT's minimum order value of 5 USDT "
                                         r"\(at least 0.00025 BTC\)"):
        rig.broker.market(BTC, "buy", 0.0002, ref_price=20000)
    with pytest.raises(InputError, match="minimum order size of 0.00001 BTC"):
        rig.broker.market(BTC, "buy", 0.000004, ref_price=1_000_000)
    with pytest.raises(InputError, match="positive"):
        rig.broker.market(BTC, "buy", -1, ref_price=20000)
    assert len(rig.server.received) == before and rig.store.orders == {}


def test_sizes_round_down_to_the_lot_step_and_minimums_round_up(rig):
    assert rig.broker.check_amount(BTC, 0.019999, 20000) == 0.01999
    assert rig.broker.minimum_qty(BTC, 20000) == 0.00025
    assert rig.broker.minimum_qty(BTC, 30000) == 0.00017  # 5 / 30000 = 0.0001667, up to the step
    assert rig.broker.minimum_qty(BTC, 1_000_000) == 0.00001  # the size limit, not the value, binds
    rig.broker.check_amount(BTC, rig.broker.minimum_qty(BTC, 30000), 30000)  # the minimum itself passes
    order = rig.broker.market(BTC, "buy", 0.0123456)
    assert rig.server.order_posts()[-1].params["quantity"] == "0.01234"
    assert order.qty == order.filled_qty == 0.01234


def test_an_unknown_market_is_an_input_error(rig):
    with pytest.raises(InputError, match="no market 'DOGE/USDT'"):
        rig.broker.check_amount("DOGE/USDT", 1, 1)


# -- partial and expired fills ---------------------------------------------------------------


def test_a_market_order_that_expired_partly_filled_records_the_filled_part(rig):
    rig.server.partial_next(0.5)
    order = rig.broker.market(BTC, "buy", 0.01)
    assert (order.status, order.filled_qty, order.message) == (S.CANCELLED, 0.005, "expired")
    assert rig.broker.execution(order).qty == 0.005
    assert order.outcome() == "expired, 0.005 of 0.01 filled at 20000"


def test_a_partly_filled_stop_is_followed_to_filled(rig):
    rig.server.set_balance("BTC", "0.01")
    rig.server.partial_next("0.4")
    stop = rig.broker.place_stop(BTC, "sell", 0.01, 19500)
    assert stop is not None and stop.status == S.OPEN
    rig.server.set_price(BTC, 19400)
    rig.broker.refresh(stop)
    assert (stop.status, stop.filled_qty, stop.avg_price) == (S.PARTIALLY_FILLED, 0.004, 19400)
    assert stop.fee == pytest.approx(0.004 * 19400 * 0.001)
    rig.server.fill_rest(int(stop.exchange_order_id))
    rig.broker.refresh(stop)
    assert (stop.status, stop.filled_qty, stop.avg_price) == (S.FILLED, 0.01, 19400)
    assert stop.fee == pytest.approx(0.01 * 19400 * 0.001)  # both fills' fees, read from the trades
    assert rig.store.orders[stop.client_order_id].status == S.FILLED


# -- stops --------------------------------------------------------------------------------------


def test_place_stop_rests_a_stop_loss_on_the_exchange_and_cancel_removes_it(rig):
    rig.server.set_balance("BTC", "0.01")
    stop = rig.broker.place_stop(BTC, "sell", 0.01, 19500.004)
    post = rig.server.order_posts()[-1].params
    assert (post["type"], post["stopPrice"], post["newClientOrderId"]) == ("STOP_LOSS", "19500", stop.client_order_id)
    assert (stop.kind, stop.status, stop.stop_price) == ("stop_loss", S.OPEN, 19500)
    assert rig.server.balance("BTC") == (0, Decimal("0.01"))
    rig.broker.cancel(stop)
    assert stop.status == S.CANCELLED and stop.filled_qty == 0
    assert [o.status for o in rig.server.find_orders(stop.client_order_id)] == ["CANCELED"]
    assert rig.server.balance("BTC") == (Decimal("0.01"), 0)
    assert rig.broker.refresh(stop).status == S.CANCELLED  # looked up by id: the cancel renamed it


def test_a_stop_that_would_trigger_at_once_is_rejected(rig):
    rig.server.set_balance("BTC", "0.01")
    with pytest.raises(OrderRejected, match="trigger immediately"):
        rig.broker.place_stop(BTC, "sell", 0.01, 20500)
    assert rig.server.orders == {}


def test_a_market_without_stop_market_orders_gets_a_stop_limit(server):
    server.ORDER_TYPES = ["LIMIT", "MARKET", "STOP_LOSS_LIMIT"]
    rig = make_rig(server)
    server.set_balance("BTC", "0.01")
    stop = rig.broker.place_stop(BTC, "sell", 0.01, 19500)
    post = server.order_posts()[-1].params
    assert (post["type"], post["stopPrice"], post["price"]) == ("STOP_LOSS_LIMIT", "19500", "19402.5")
    assert stop.status == S.OPEN


def test_a_market_without_stop_orders_gets_none(server):
    server.ORDER_TYPES = ["LIMIT", "MARKET"]
    rig = make_rig(server)
    assert rig.broker.place_stop(BTC, "sell", 0.01, 19500) is None
    assert server.order_posts() == [] and rig.store.orders == {}


def test_cancelling_a_stop_that_already_filled_records_the_fill(rig):
    rig.server.set_balance("BTC", "0.01")
    stop = rig.broker.place_stop(BTC, "sell", 0.01, 19500)
    rig.server.set_price(BTC, 19000)
    rig.broker.cancel(stop)
    assert (stop.status, stop.filled_qty, stop.avg_price) == (S.FILLED, 0.01, 19000)


# -- reconciliation -------------------------------------------------------------------------------


def _sent(cid: str, side: str = "buy") -> OrderRecord:
    return OrderRecord(cid, BTC, side, "market", 0.01, status=S.SENT)


def test_resolve_unresolved_records_what_the_exchange_says_and_invents_nothing(rig):
    store = rig.store
    store.save(_sent("atb-was-placed"))
    store.save(_sent("atb-never-arrived"))
    store.save(OrderRecord("atb-done", BTC, "buy", "market", 0.01, status=S.FILLED, filled_qty=0.01))
    rig.broker.client.create_order(BTC, "market", "buy", 0.01, None, {"newClientOrderId": "atb-was-placed"})
    lines = rig.broker.resolve_unresolved()
    assert lines == ["market buy 0.01 BTC/USDT (atb-was-placed) was sent: filled 0.01 at 20000 (fee 0.2)",
                     "market buy 0.01 BTC/USDT (atb-never-arrived) was sent: never placed: not found on the exchange"]
    placed, lost = store.orders["atb-was-placed"], store.orders["atb-never-arrived"]
    assert (placed.status, placed.filled_qty, placed.fee) == (S.FILLED, 0.01, pytest.approx(0.2))
    assert (lost.status, lost.filled_qty, lost.fee) == (S.REJECTED, 0, 0)
    assert store.unresolved() == [] and len(rig.server.orders) == 1  # nothing was sent to settle them
    assert rig.broker.resolve_unresolved() == []


def test_resolve_finds_a_stop_cancelled_elsewhere_by_its_exchange_id(rig):
    rig.server.set_balance("BTC", "0.01")
    stop = rig.broker.place_stop(BTC, "sell", 0.01, 19500)
    rig.broker.client.cancel_order(stop.exchange_order_id, BTC)  # e.g. from the exchange's web page
    (line,) = rig.broker.resolve_unresolved()
    assert line.endswith("was open: cancelled, nothing filled")
    assert rig.store.orders[stop.client_order_id].status == S.CANCELLED


def test_execution_of_an_unfilled_order_is_refused(rig):
    with pytest.raises(ValueError, match="no fill"):
        rig.broker.execution(_sent("atb-nothing"))
