"""The real ccxt.binance client trading against LoopbackBinance.

These pin what a live session can rely on: which requests ccxt sends, what the fake
answers, and which ccxt exception each failure becomes — including ccxt's own quirks
(a 429 is DDoSProtection, a too-small order by notional is BadRequest, a cancel renames
the client order id), so a ccxt upgrade that changes them fails here first.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from decimal import Decimal

import ccxt
import pytest

try:
    from tests.fake_exchange import LoopbackBinance
except ImportError:  # pragma: no cover - running from inside tests/
    from fake_exchange import LoopbackBinance

BTC = "BTC/USDT"


@pytest.fixture
def server():
    with LoopbackBinance() as srv:
        yield srv


@pytest.fixture
def client(server):
    c = server.client(api_key="k", secret="s", timeout_ms=2000)
    c.load_markets()
    return c


@pytest.fixture
def impatient(server):
    """A client that gives up after 300 ms, for the stall tests."""
    c = server.client(api_key="k", secret="s", timeout_ms=300)
    c.load_markets()
    return c


def _raw(server, method: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(server.url + path, method=method, headers=headers or {})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=2) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


# -- wiring ------------------------------------------------------------------------


def test_config_sends_every_rest_root_to_the_loopback(server):
    config = server.ccxt_config(api_key="k", secret="s", timeout_ms=300)
    c = ccxt.binance(config)
    assert c.urls["api"] and all(url.startswith(server.url + "/") for url in c.urls["api"].values())
    assert c.urls["api"]["private"] == server.url + "/api/v3"
    assert c.urls["api"]["sapi"] == server.url + "/sapi/v1"
    assert (c.timeout, c.enableRateLimit, c.apiKey) == (300, False, "k")


def test_load_markets_with_keys_reads_filters_and_signed_sapi_lists(server, client):
    market = client.market(BTC)
    assert market["limits"]["amount"]["min"] == 0.00001
    assert market["limits"]["cost"]["min"] == 5
    assert market["precision"]["price"] == 0.01
    assert {"BTC", "USDT", "ETH"} <= set(client.currencies)
    paths = {r.path for r in server.received}
    assert {"/api/v3/exchangeInfo", "/sapi/v1/capital/config/getall", "/sapi/v1/margin/allPairs"} <= paths


def test_signed_requests_carry_the_key_header_and_a_signature(server, client):
    client.fetch_balance()
    last = server.received[-1]
    assert (last.method, last.path, last.api_key) == ("GET", "/api/v3/account", "k")
    assert len(last.params["signature"]) == 64 and last.params["timestamp"].isdigit()


def test_signed_endpoint_refuses_a_request_without_key_or_signature(server):
    status, body = _raw(server, "GET", "/api/v3/account?timestamp=1&signature=ab")
    assert (status, body["code"]) == (401, -2014)
    status, body = _raw(server, "GET", "/api/v3/account?timestamp=1", headers={"X-MBX-APIKEY": "k"})
    assert (status, body["code"]) == (400, -1102) and "signature" in body["msg"]
    assert _raw(server, "GET", "/api/v3/account?timestamp=1&signature=ab", headers={"X-MBX-APIKEY": "k"})[0] == 200


def test_time_and_ticker_price_endpoints(server, client):
    server.set_price(BTC, "21000.5")
    assert client.publicGetTickerPrice({"symbol": "BTCUSDT"}) == {"symbol": "BTCUSDT", "price": "21000.50000000"}
    assert abs(client.fetch_time() - time.time() * 1000) < 60_000


# -- market data and balances ---------------------------------------------------------


def test_fetch_ticker_uses_24hr_and_follows_the_set_price(server, client):
    server.set_price(BTC, 20123.45)
    ticker = client.fetch_ticker(BTC)
    assert server.received[-1].path == "/api/v3/ticker/24hr"
    assert (ticker["last"], ticker["bid"], ticker["ask"]) == (20123.45, 20123.45, 20123.45)
    server.set_price("ETHUSDT", 900)
    assert client.fetch_ticker("ETH/USDT")["last"] == 900


def test_fetch_balance_shows_free_and_locked(server, client):
    server.set_balance("USDT", 1234.5, locked=10)
    server.set_balance("BTC", "0.25")
    balance = client.fetch_balance()
    assert balance["USDT"] == {"free": 1234.5, "used": 10.0, "total": 1244.5}
    assert balance["BTC"]["free"] == 0.25


def test_fills_move_balances_and_charge_commission_in_the_asset_received(server, client):
    server.set_balance("USDT", 1000)
    buy = client.create_order(BTC, "market", "buy", 0.01)
    assert buy["fee"] == {"currency": "BTC", "cost": 0.00001}  # Binance: a buyer pays in base
    assert server.balance("USDT") == (Decimal("800"), 0)
    assert server.balance("BTC") == (Decimal("0.00999"), 0)
    server.set_price(BTC, 21000)
    sell = client.create_order(BTC, "market", "sell", 0.00999)
    assert sell["fee"]["currency"] == "USDT" and sell["fee"]["cost"] == pytest.approx(0.20979)
    assert server.balance("USDT")[0] == Decimal("800") + Decimal("209.79") - Decimal("0.20979")
    assert client.fetch_balance()["BTC"]["total"] == 0


def test_commission_can_be_charged_in_quote_at_any_rate(server, client):
    server.fee_in, server.commission = "quote", Decimal("0.002")
    server.set_balance("USDT", 1000)
    order = client.create_order(BTC, "market", "buy", 0.01)
    assert order["fee"] == {"currency": "USDT", "cost": 0.4}
    assert server.balance("USDT")[0] == Decimal("799.6") and server.balance("BTC")[0] == Decimal("0.01")
    assert client.fetch_balance()["USDT"]["free"] == pytest.approx(799.6)


# -- orders ----------------------------------------------------------------------------


def test_market_buy_and_sell_with_client_order_ids(server, client):
    buy = client.create_order(BTC, "market", "buy", 0.01, params={"clientOrderId": "live-1-buy"})
    sell = client.create_order(BTC, "market", "sell", 0.005, params={"newClientOrderId": "live-1-sell"})
    assert [r.client_order_id for r in server.order_posts()] == ["live-1-buy", "live-1-sell"]
    assert server.order_posts()[0].params["type"] == "MARKET"
    assert (buy["clientOrderId"], buy["status"], buy["filled"], buy["remaining"]) == ("live-1-buy", "closed", 0.01, 0)
    assert (buy["average"], buy["cost"]) == (20000, 200)
    assert (sell["side"], sell["clientOrderId"], sell["filled"]) == ("sell", "live-1-sell", 0.005)


def test_market_buy_with_a_price_is_sent_as_quote_quantity(server, client):
    order = client.create_order(BTC, "market", "buy", 0.01, 20000)  # ccxt: amount * price -> quoteOrderQty
    assert server.order_posts()[-1].params["quoteOrderQty"] == "200"
    assert "quantity" not in server.order_posts()[-1].params
    assert order["filled"] == 0.01


def test_fetch_order_by_id_and_by_client_order_id(server, client):
    placed = client.create_order(BTC, "market", "buy", 0.01, params={"clientOrderId": "find-me"})
    by_id = client.fetch_order(placed["id"], BTC)
    assert server.received[-1].params.get("orderId") == placed["id"]
    by_cid = client.fetch_order(None, BTC, {"clientOrderId": "find-me"})
    assert server.received[-1].params.get("origClientOrderId") == "find-me"
    assert "orderId" not in server.received[-1].params
    assert by_id["id"] == by_cid["id"] == placed["id"]
    assert by_cid["status"] == "closed" and by_cid["filled"] == 0.01
    with pytest.raises(ccxt.OrderNotFound):
        client.fetch_order(None, BTC, {"clientOrderId": "never-placed"})
    with pytest.raises(ccxt.OrderNotFound):  # both sent: the id wins, and the client id must match it
        client.fetch_order(placed["id"], BTC, {"origClientOrderId": "someone-else", "orderId": placed["id"]})


def test_limit_order_rests_locks_funds_and_cancels(server, client):
    server.set_balance("USDT", 1000)
    order = client.create_order(BTC, "limit", "buy", 0.01, 19000, {"clientOrderId": "rest-1"})
    assert order["status"] == "open" and order["filled"] == 0
    assert server.balance("USDT") == (Decimal("810"), Decimal("190"))
    assert [o["id"] for o in client.fetch_open_orders(BTC)] == [order["id"]]
    canceled = client.cancel_order(order["id"], BTC)
    assert canceled["status"] == "canceled"
    assert server.balance("USDT") == (Decimal("1000"), 0)
    assert client.fetch_open_orders(BTC) == []
    with pytest.raises(ccxt.OrderNotFound):
        client.cancel_order(order["id"], BTC)


def test_a_cancel_renames_the_order_so_ask_by_order_id_afterwards(server, client):
    order = client.create_order(BTC, "limit", "buy", 0.01, 19000, {"clientOrderId": "rename-me"})
    canceled = client.cancel_order(order["id"], BTC)
    assert canceled["clientOrderId"] != "rename-me"  # ccxt reports the cancel's id ...
    assert canceled["info"]["origClientOrderId"] == "rename-me"  # ... the original is only in info
    with pytest.raises(ccxt.OrderNotFound):
        client.fetch_order(None, BTC, {"clientOrderId": "rename-me"})
    assert client.fetch_order(order["id"], BTC)["status"] == "canceled"
    assert [o.order_id for o in server.find_orders("rename-me")] == [int(order["id"])]


def test_resting_limit_order_fills_at_its_price_when_the_price_crosses(server, client):
    order = client.create_order(BTC, "limit", "buy", 0.01, 19000)
    server.set_price(BTC, 19100)
    assert client.fetch_order(order["id"], BTC)["status"] == "open"
    server.set_price(BTC, 18500)
    filled = client.fetch_order(order["id"], BTC)
    assert (filled["status"], filled["filled"], filled["average"]) == ("closed", 0.01, 19000)
    (trade,) = client.fetch_my_trades(BTC)
    assert (trade["order"], trade["price"], trade["takerOrMaker"]) == (order["id"], 19000, "maker")


def test_stop_loss_orders_map_to_binance_types_and_trigger(server, client):
    server.set_balance("BTC", "0.02")
    stop = client.create_order(BTC, "market", "sell", 0.01, params={"stopLossPrice": 19500})
    assert server.order_posts()[-1].params["type"] == "STOP_LOSS"
    stop_limit = client.create_order(BTC, "limit", "sell", 0.01, 19400, {"stopPrice": 19500})
    assert server.order_posts()[-1].params["type"] == "STOP_LOSS_LIMIT"
    assert server.order_posts()[-1].params["stopPrice"] == "19500"
    assert stop["triggerPrice"] == 19500 and stop["status"] == stop_limit["status"] == "open"
    assert server.balance("BTC") == (0, Decimal("0.02"))
    server.set_price(BTC, 19450)
    assert client.fetch_order(stop["id"], BTC)["average"] == 19450
    assert client.fetch_order(stop_limit["id"], BTC)["status"] == "closed"
    assert client.fetch_open_orders(BTC) == []
    with pytest.raises(ccxt.OrderImmediatelyFillable):
        client.create_order(BTC, "market", "sell", 0.01, params={"stopLossPrice": 19500})


def test_fetch_my_trades_lists_every_fill_with_its_fee(server, client):
    first = client.create_order(BTC, "market", "buy", 0.01)
    server.set_price(BTC, 20500)
    second = client.create_order(BTC, "market", "sell", 0.005)
    trades = client.fetch_my_trades(BTC)
    assert [(t["order"], t["side"], t["price"], t["amount"]) for t in trades] == [
        (first["id"], "buy", 20000, 0.01), (second["id"], "sell", 20500, 0.005)]
    assert trades[1]["fee"] == {"currency": "USDT", "cost": pytest.approx(0.1025)}
    assert [t["order"] for t in client.fetch_my_trades(BTC, params={"orderId": second["id"]})] == [second["id"]]


def test_every_order_request_is_recorded(server, client):
    client.create_order(BTC, "market", "buy", 0.01, params={"clientOrderId": "rec-1"})
    with pytest.raises(ccxt.InsufficientFunds):
        client.create_order(BTC, "market", "buy", 1, params={"clientOrderId": "rec-2"})
    posts = server.order_posts()
    assert [(p.path, p.client_order_id, p.params["quantity"]) for p in posts] == [
        ("/api/v3/order", "rec-1", "0.01"), ("/api/v3/order", "rec-2", "1")]
    assert [o.client_order_id for o in server.orders.values()] == ["rec-1"]  # the rejected one was not placed


# -- rejections --------------------------------------------------------------------------


def test_insufficient_balance_raises_insufficient_funds_and_places_nothing(server, client):
    server.set_balance("USDT", 100)
    with pytest.raises(ccxt.InsufficientFunds, match="insufficient balance"):
        client.create_order(BTC, "market", "buy", 0.01)
    with pytest.raises(ccxt.InsufficientFunds):
        client.create_order(BTC, "market", "sell", 0.01)  # no BTC at all
    assert server.orders == {} and server.balance("USDT") == (Decimal("100"), 0)


def test_amount_below_the_lot_step_is_refused_by_ccxt_before_sending(server, client):
    with pytest.raises(ccxt.InvalidOrder, match="minimum amount precision"):
        client.create_order(BTC, "market", "buy", 0.000004)
    assert server.order_posts() == []


def test_lot_size_rejection_by_the_exchange_is_invalid_order(server, client):
    server.set_filters(BTC, min_qty="0.001")  # the exchange tightened it after ccxt loaded the markets
    with pytest.raises(ccxt.InvalidOrder, match="LOT_SIZE"):
        client.create_order(BTC, "market", "buy", 0.0005)
    assert len(server.order_posts()) == 1 and server.orders == {}


def test_min_notional_rejection_is_bad_request_not_invalid_order(server, client):
    # ccxt maps Binance's {"code":-1013,"msg":"Filter failure: NOTIONAL"} to BadRequest: a session
    # that only catches InvalidOrder misses it.
    with pytest.raises(ccxt.BadRequest, match="NOTIONAL") as caught:
        client.create_order(BTC, "market", "buy", 0.0002)  # 4 USDT < 5
    assert not isinstance(caught.value, ccxt.InvalidOrder)
    assert server.orders == {}


def test_duplicate_client_order_id_of_an_open_order_is_rejected(server, client):
    first = client.create_order(BTC, "limit", "buy", 0.01, 19000, {"clientOrderId": "dup-1"})
    with pytest.raises(ccxt.InvalidOrder, match="Duplicate order sent") as caught:
        client.create_order(BTC, "limit", "buy", 0.01, 19000, {"clientOrderId": "dup-1"})
    assert not isinstance(caught.value, ccxt.DuplicateOrderId)  # ccxt gives the generic class
    assert [o.order_id for o in server.find_orders("dup-1")] == [int(first["id"])]
    assert len(server.order_posts()) == 2


def test_a_filled_orders_client_id_does_not_stop_a_second_order(server, client):
    # Binance: "Orders with the same newClientOrderID can be accepted only when the previous one is
    # filled". A blind retry of a filled market order therefore trades twice: look it up first.
    client.create_order(BTC, "market", "buy", 0.01, params={"clientOrderId": "once"})
    client.create_order(BTC, "market", "buy", 0.01, params={"clientOrderId": "once"})
    assert [o.status for o in server.find_orders("once")] == ["FILLED", "FILLED"]
    assert server.balance("BTC")[0] == Decimal("0.01998")


# -- injected faults -----------------------------------------------------------------------


@pytest.mark.parametrize(("fault", "error"), [("429", ccxt.DDoSProtection), ("418", ccxt.DDoSProtection),
                                              ("503", ccxt.ExchangeNotAvailable),
                                              ("500", ccxt.ExchangeNotAvailable)])
def test_http_faults_become_ccxt_errors_once(server, client, fault, error):
    server.inject("/api/v3/ticker/24hr", fault)
    with pytest.raises(error) as caught:
        client.fetch_ticker(BTC)
    assert not isinstance(caught.value, ccxt.RateLimitExceeded)  # binance raises DDoSProtection for 429
    assert client.fetch_ticker(BTC)["last"] == 20000  # the fault was used up
    assert [r.path for r in server.received[-2:]] == ["/api/v3/ticker/24hr"] * 2


def test_429_carries_retry_after_in_the_response_headers(server, client):
    server.retry_after_s = 12
    server.inject("/api/v3/account", "429")
    with pytest.raises(ccxt.DDoSProtection, match="-1003"):
        client.fetch_balance()
    assert client.last_response_headers["Retry-After"] == "12"  # ccxt does not read it: a caller must


def test_faults_hit_only_their_path_and_method(server, client):
    server.inject("/api/v3/order", "503", method="POST")
    placed = None
    with pytest.raises(ccxt.ExchangeNotAvailable):
        placed = client.create_order(BTC, "market", "buy", 0.01)
    assert placed is None and server.orders == {}  # a plain 503 never reached the matching engine
    client.fetch_balance()
    placed = client.create_order(BTC, "market", "buy", 0.01)
    assert client.fetch_order(placed["id"], BTC)["status"] == "closed"


def test_a_stall_past_the_client_timeout_raises_request_timeout(server, impatient):
    server.inject("/api/v3/ticker/24hr", "timeout")
    started = time.monotonic()
    with pytest.raises(ccxt.RequestTimeout):
        impatient.fetch_ticker(BTC)
    assert time.monotonic() - started < server.stall_s  # the client gave up, it did not wait the stall out
    assert impatient.fetch_ticker(BTC)["last"] == 20000


def test_accepted_order_whose_answer_times_out_exists_once_and_is_found_by_client_id(server, impatient):
    server.set_balance("USDT", 1000)
    server.inject("/api/v3/order", "accept_timeout", method="POST")
    with pytest.raises(ccxt.RequestTimeout):
        impatient.create_order(BTC, "market", "buy", 0.01, params={"clientOrderId": "lost-answer"})
    assert server.wait_orders(1)
    found = impatient.fetch_order(None, BTC, {"clientOrderId": "lost-answer"})
    assert (found["status"], found["filled"], found["clientOrderId"]) == ("closed", 0.01, "lost-answer")
    assert len(server.order_posts()) == 1 and len(server.orders) == 1
    assert server.balance("USDT")[0] == Decimal("800")  # paid exactly once


def test_accepted_order_answered_503_is_request_timeout_and_was_placed(server, client):
    # Binance's 503 -1007 means "execution status unknown": ccxt raises RequestTimeout for it.
    server.inject("/api/v3/order", "accept_503", method="POST")
    with pytest.raises(ccxt.RequestTimeout, match="-1007"):
        client.create_order(BTC, "market", "buy", 0.01, params={"clientOrderId": "unknown-fate"})
    assert [o.status for o in server.find_orders("unknown-fate")] == ["FILLED"]


def test_the_candle_plan_still_fails_any_path(server, client):
    server.plan = ["503"]
    with pytest.raises(ccxt.ExchangeNotAvailable):
        client.fetch_balance()
    assert client.fetch_balance()["USDT"]["free"] == 10000


# -- partial fills -------------------------------------------------------------------------


def test_partially_filled_limit_order_reports_filled_and_remaining(server, client):
    server.set_balance("USDT", 1000)
    server.partial_next("0.4")
    placed = client.create_order(BTC, "limit", "buy", 0.01, 20000, {"clientOrderId": "part-1"})
    assert (placed["status"], placed["filled"], placed["remaining"]) == ("open", 0.004, 0.006)
    assert placed["info"]["status"] == "PARTIALLY_FILLED"
    server.set_price(BTC, 19000)  # a partial waits for fill_rest, whatever the price does
    assert client.fetch_order(placed["id"], BTC)["filled"] == 0.004
    assert server.balance("USDT") == (Decimal("800"), Decimal("120"))  # 80 spent, 120 still held
    assert [o["id"] for o in client.fetch_open_orders(BTC)] == [placed["id"]]
    server.fill_rest(int(placed["id"]))
    done = client.fetch_order(None, BTC, {"clientOrderId": "part-1"})
    assert (done["status"], done["filled"], done["remaining"], done["cost"]) == ("closed", 0.01, 0, 200)
    assert [t["amount"] for t in client.fetch_my_trades(BTC)] == [0.004, 0.006]
    assert server.balance("USDT") == (Decimal("800"), 0)


def test_partially_filled_market_order_expires_with_the_rest_unfilled(server, client):
    server.partial_next(0.5)
    placed = client.create_order(BTC, "market", "buy", 0.01)
    assert (placed["status"], placed["filled"], placed["remaining"]) == ("expired", 0.005, 0.005)
    assert server.balance("USDT")[0] == Decimal("9900")
    with pytest.raises(ValueError, match="EXPIRED"):
        server.fill_rest(int(placed["id"]))
    assert client.fetch_open_orders(BTC) == []
