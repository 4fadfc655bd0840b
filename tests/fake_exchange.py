"""Stand-ins for exchanges, so exchange tests never touch the internet.

* :class:`LoopbackBinance`: a tiny HTTP server on 127.0.0.1 speaking enough of
  Binance's spot REST dialect for the real ``ccxt.binance`` client to load markets,
  page through candles and trade (ticker, balance, place / query / cancel orders, open
  orders, own trades), answering with Binance's own error codes so ccxt raises what it
  would raise live. It records every request and can be scripted to fail: 429, 5xx,
  a stall past the client timeout, an order placed whose answer never comes, partial fills.
* :class:`FakeClient`: a duck-typed ccxt client with scripted failures, for rate
  limit, backoff, cancel and error-message tests without any sockets.
* :class:`FakeClock`: ``sleep`` and ``clock`` that advance virtual time and record
  every sleep, so no test ever really waits.
"""

from __future__ import annotations

import itertools
import json
import secrets
import socket
import string
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

HOUR_MS = 3_600_000


def candle_at(ts_ms: int) -> list[float]:
    """A deterministic, OHLC-consistent candle for any open time."""
    step = (ts_ms // HOUR_MS) % 97
    open_ = 20_000.0 + 10.0 * step
    close = open_ + (5.0 if step % 2 else -5.0)
    return [float(ts_ms), open_, max(open_, close) + 3.0, min(open_, close) - 2.0, close, 1.0 + step]


class FakeClock:
    """Virtual time: ``sleep`` advances it and records the requested durations."""

    def __init__(self, start: float = 1000.0):
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class Request:
    """One HTTP request as the server received it (query and form body merged)."""

    method: str
    path: str
    params: dict[str, str]
    api_key: str | None

    @property
    def client_order_id(self) -> str | None:
        return self.params.get("newClientOrderId") or self.params.get("origClientOrderId")


@dataclass
class Order:
    """The server's record of one order; amounts are Decimals, as the matching engine sees them."""

    order_id: int
    client_order_id: str
    symbol: str
    side: str  # BUY / SELL
    type: str  # MARKET, LIMIT, LIMIT_MAKER, STOP_LOSS, STOP_LOSS_LIMIT, TAKE_PROFIT, TAKE_PROFIT_LIMIT
    time_in_force: str
    quantity: Decimal
    price: Decimal  # 0 for market-type orders
    stop_price: Decimal  # 0 unless a stop / take-profit order
    quote_order_qty: Decimal
    time: int
    status: str = "NEW"
    executed: Decimal = Decimal(0)
    quote: Decimal = Decimal(0)  # cummulativeQuoteQty
    update_time: int = 0
    working: bool = True  # False while a stop waits for its trigger
    locked: Decimal = Decimal(0)  # funds this order still holds
    partial: Decimal | None = None  # fill only this fraction on the first match, then wait for fill_rest
    placed_as: str = ""  # the client order id it was placed with (a cancel renames it)
    fills: list[dict[str, Any]] = field(default_factory=list)

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.executed

    @property
    def is_open(self) -> bool:
        return self.status in ("NEW", "PARTIALLY_FILLED")


def _d(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _s(value: Decimal) -> str:
    return f"{value:.8f}"


class _Reject(Exception):
    """A Binance error answer: HTTP status, code and message."""

    def __init__(self, status: int, code: int, msg: str):
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg


class LoopbackBinance:
    """A Binance-flavoured spot exchange on a random loopback port (use as a context manager).

    Public market data (``exchangeInfo``, ``klines``, ``ticker/24hr``, ``ticker/price``,
    ``time``) and the signed trading endpoints a live session uses (``account``,
    ``order`` POST/GET/DELETE, ``openOrders``, ``myTrades``, and the three ``sapi`` lists
    ccxt's ``load_markets`` fetches once keys are set) behave like Binance where
    a client can tell: same JSON shapes, error codes and messages, so the real ccxt
    client raises the exceptions it would raise against Binance. Balances move with
    fills and commission; resting limit and stop orders fill when :meth:`set_price`
    crosses them.

    Faults are scripted: :attr:`plan` fails the next requests whatever their path (the
    candle tests use it); :meth:`inject` fails the next requests to one path, including
    ``"accept_timeout"``, where the order is placed but its answer never arrives in time.
    """

    MARKETS = {"BTCUSDT": ("BTC", "USDT"), "ETHUSDT": ("ETH", "USDT")}
    ORDER_TYPES = ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT",
                   "TAKE_PROFIT_LIMIT"]
    SIGNED = {("GET", "/api/v3/account"), ("POST", "/api/v3/order"), ("GET", "/api/v3/order"),
              ("DELETE", "/api/v3/order"), ("GET", "/api/v3/openOrders"), ("GET", "/api/v3/myTrades"),
              ("GET", "/sapi/v1/capital/config/getall"), ("GET", "/sapi/v1/margin/allPairs"),
              ("GET", "/sapi/v1/margin/isolated/allPairs")}
    FAULTS = ("timeout", "accept_timeout", "accept_503")  # besides an HTTP status such as "429" or "503"

    def __init__(self, first_ms: int = 1_704_067_200_000, last_ms: int = 1_706_745_600_000, *,
                 max_limit: int = 1000):
        self.first_ms, self.last_ms, self.max_limit = first_ms, last_ms, max_limit
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.received: list[Request] = []
        self.plan: list[str] = []  # per request, any path: "500", "503", "timeout"; empty = answer normally
        self.stall = threading.Event()  # set on exit, releasing every stalled answer
        self.stall_s = 5.0  # how long a stalled answer waits: far past any test client's timeout
        self.retry_after_s = 7  # the Retry-After header of a 429 / 418
        self.commission = Decimal("0.001")  # per fill, maker and taker alike
        self.fee_in = "received"  # Binance: the asset the fill gives you; "quote": always the quote asset
        self.clock_ms: Callable[[], int] = lambda: int(time.time() * 1000)
        self.prices: dict[str, Decimal] = {"BTCUSDT": Decimal("20000"), "ETHUSDT": Decimal("1000")}
        self.balances: dict[str, list[Decimal]] = {"USDT": [Decimal("10000"), Decimal(0)],
                                                    "BTC": [Decimal(0), Decimal(0)], "ETH": [Decimal(0), Decimal(0)]}
        self.filters: dict[str, dict[str, Decimal]] = {m: self._default_filters() for m in self.MARKETS}
        self.orders: dict[int, Order] = {}
        self.trades: list[dict[str, Any]] = []
        self._faults: dict[tuple[str | None, str], list[str]] = {}
        self._partial: list[Decimal] = []
        self._order_ids = itertools.count(1)
        self._trade_ids = itertools.count(1)
        self._lock = threading.RLock()
        self._placed = threading.Condition(self._lock)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def klines_requests(self) -> list[dict[str, str]]:
        return [q for path, q in self.requests if path.endswith("/klines")]

    def __enter__(self) -> LoopbackBinance:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stall.set()  # release any handler stalling for a timeout test
        self._server.shutdown()
        self._server.server_close()

    # -- clients ---------------------------------------------------------------

    def ccxt_config(self, *, timeout_ms: int = 3000, api_key: str | None = None,
                    secret: str | None = None) -> dict[str, Any]:
        """``ccxt.binance(config)`` settings sending every REST root here (path kept, host swapped).

        Every root must be listed: ccxt deep-merges ``urls``, so a root left out keeps
        pointing at api.binance.com.
        """
        import ccxt

        roots = ccxt.binance().urls["api"]
        config: dict[str, Any] = {"enableRateLimit": False, "timeout": timeout_ms,
                                  "urls": {"api": {name: self.url + urlparse(root).path
                                                   for name, root in roots.items()}},
                                  "options": {"fetchMarkets": {"types": ["spot"]}}}
        if api_key is not None:
            config.update(apiKey=api_key, secret=secret if secret is not None else "")
        return config

    def client(self, *, timeout_ms: int = 3000, api_key: str | None = None, secret: str | None = None) -> Any:
        """A real ccxt.binance whose REST calls land on this server."""
        import ccxt

        client = ccxt.binance(self.ccxt_config(timeout_ms=timeout_ms, api_key=api_key, secret=secret))
        client.session.trust_env = False  # never route loopback through a proxy from the environment
        return client

    # -- scripting ---------------------------------------------------------------

    def set_price(self, symbol: str, price: Any) -> None:
        """Move the last price; resting limit and stop orders it crosses fill."""
        market = symbol.replace("/", "")
        with self._lock:
            self.prices[market] = _d(price)
            for order in sorted(self.orders.values(), key=lambda o: o.order_id):
                if order.symbol == market and order.is_open:
                    self._match(order, taker=False)

    def set_balance(self, asset: str, free: Any, locked: Any = 0) -> None:
        with self._lock:
            self.balances[asset] = [_d(free), _d(locked)]

    def balance(self, asset: str) -> tuple[Decimal, Decimal]:
        """(free, locked) of one asset."""
        with self._lock:
            free, locked = self.balances.get(asset, [Decimal(0), Decimal(0)])
            return free, locked

    def set_filters(self, symbol: str, **values: Any) -> None:
        """Change a market's filters: min_qty, max_qty, step_size, min_price, max_price, tick_size, min_notional."""
        with self._lock:
            filters = self.filters[symbol.replace("/", "")]
            for name, value in values.items():
                if name not in filters:
                    raise KeyError(name)
                filters[name] = _d(value)

    def inject(self, path: str, *faults: str, method: str | None = None) -> None:
        """Fail the next requests to ``path`` (any method unless given), one fault per request.

        A fault is an HTTP status ("429" and "418" carry Retry-After and Binance's -1003
        body, others a plain-text reason), "timeout" (the request is dropped and the
        answer stalls past any client timeout), "accept_timeout" (the request is carried
        out, e.g. the order is placed and filled, but its answer stalls) or "accept_503"
        (carried out, then Binance's 503 "execution status unknown").
        """
        for fault in faults:
            if not fault.isdigit() and fault not in self.FAULTS:
                raise ValueError(f"unknown fault {fault!r}")
        with self._lock:
            self._faults.setdefault((method, path), []).extend(faults)

    def partial_next(self, fraction: Any) -> None:
        """The next order placed fills only this fraction (of its quantity, to the lot step) when it first matches.

        A limit or stop-limit order then stays PARTIALLY_FILLED until :meth:`fill_rest`;
        a market order ends EXPIRED with the fraction filled, as Binance does when the
        book runs out.
        """
        with self._lock:
            self._partial.append(_d(fraction))

    def fill_rest(self, order_id: int, price: Any = None) -> dict[str, Any]:
        """Fill what an open order has left, at ``price`` or its own limit price (else the last price)."""
        with self._lock:
            order = self.orders[order_id]
            if not order.is_open:
                raise ValueError(f"order {order_id} is {order.status}, nothing to fill")
            if price is None:
                price = order.price if order.price else self.prices[order.symbol]
            order.working = True
            self._fill(order, order.remaining, _d(price), maker=True)
            return self._order_json(order)

    def order_posts(self) -> list[Request]:
        """Every POST /api/v3/order the server received, placed or not (faulted, rejected)."""
        with self._lock:
            return [r for r in self.received if r.method == "POST" and r.path == "/api/v3/order"]

    def find_orders(self, client_order_id: str) -> list[Order]:
        """The orders placed with this client order id, even if a cancel renamed them since (as Binance does)."""
        with self._lock:
            return [o for o in self.orders.values() if o.placed_as == client_order_id]

    def wait_orders(self, count: int, timeout: float = 5.0) -> bool:
        """Block until at least ``count`` orders were placed (an accepted order's handler may lag its client)."""
        with self._placed:
            return self._placed.wait_for(lambda: len(self.orders) >= count, timeout)

    # -- market data ---------------------------------------------------------------

    @staticmethod
    def _default_filters() -> dict[str, Decimal]:
        return {"min_price": Decimal("0.01"), "max_price": Decimal("1000000"), "tick_size": Decimal("0.01"),
                "min_qty": Decimal("0.00001"), "max_qty": Decimal("9000"), "step_size": Decimal("0.00001"),
                "min_notional": Decimal("5")}

    def _market(self, market_id: str, base: str, quote: str) -> dict[str, Any]:
        f = self.filters[market_id]
        return {"symbol": market_id, "status": "TRADING", "baseAsset": base, "baseAssetPrecision": 8,
                "quoteAsset": quote, "quotePrecision": 8, "quoteAssetPrecision": 8,
                "orderTypes": list(self.ORDER_TYPES), "icebergAllowed": True, "ocoAllowed": True,
                "quoteOrderQtyMarketAllowed": True, "isSpotTradingAllowed": True,
                "isMarginTradingAllowed": False, "permissions": ["SPOT"],
                "filters": [{"filterType": "PRICE_FILTER", "minPrice": _s(f["min_price"]),
                             "maxPrice": _s(f["max_price"]), "tickSize": _s(f["tick_size"])},
                            {"filterType": "LOT_SIZE", "minQty": _s(f["min_qty"]), "maxQty": _s(f["max_qty"]),
                             "stepSize": _s(f["step_size"])},
                            {"filterType": "NOTIONAL", "minNotional": _s(f["min_notional"]),
                             "applyMinToMarket": True, "maxNotional": "9000000.00000000",
                             "applyMaxToMarket": False, "avgPriceMins": 5}]}

    def _ticker(self, market_id: str) -> dict[str, Any]:
        last, now = _s(self.prices[market_id]), self.clock_ms()
        return {"symbol": market_id, "priceChange": "0.00000000", "priceChangePercent": "0.000",
                "weightedAvgPrice": last, "prevClosePrice": last, "lastPrice": last, "lastQty": "0.00100000",
                "bidPrice": last, "bidQty": "1.00000000", "askPrice": last, "askQty": "1.00000000",
                "openPrice": last, "highPrice": last, "lowPrice": last, "volume": "100.00000000",
                "quoteVolume": _s(self.prices[market_id] * 100), "openTime": now - 86_400_000, "closeTime": now,
                "firstId": 1, "lastId": 100, "count": 100}

    def _symbols_param(self, params: dict[str, str]) -> list[str] | None:
        if "symbol" in params:
            symbol = params["symbol"]
            if symbol not in self.MARKETS:
                raise _Reject(400, -1121, "Invalid symbol.")
            return [symbol]
        if "symbols" in params:
            symbols = json.loads(params["symbols"])
            if any(s not in self.MARKETS for s in symbols):
                raise _Reject(400, -1121, "Invalid symbol.")
            return symbols
        return None

    # -- serving -------------------------------------------------------------

    def _answer(self, path: str, query: dict[str, str], method: str = "GET",
                api_key: str | None = None) -> tuple[int, Any]:
        try:
            with self._lock:
                return 200, self._route(method, path, query, api_key)
        except _Reject as r:
            return r.status, {"code": r.code, "msg": r.msg}

    def _route(self, method: str, path: str, query: dict[str, str], api_key: str | None) -> Any:
        if (method, path) in self.SIGNED:
            if not api_key:
                raise _Reject(401, -2014, "API-key format invalid.")
            for name in ("signature", "timestamp"):
                if not query.get(name):
                    raise _Reject(400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, "
                                              "or malformed.")
        if method == "GET" and path == "/api/v3/exchangeInfo":
            return {"timezone": "UTC", "serverTime": self.last_ms, "rateLimits": [], "exchangeFilters": [],
                    "symbols": [self._market(m, b, q) for m, (b, q) in self.MARKETS.items()]}
        if method == "GET" and path == "/api/v3/klines":
            return self._klines(query)
        if method == "GET" and path == "/api/v3/ping":
            return {}
        if method == "GET" and path == "/api/v3/time":
            return {"serverTime": self.clock_ms()}
        if method == "GET" and path in ("/api/v3/ticker/24hr", "/api/v3/ticker/price"):
            symbols = self._symbols_param(query)
            rows = [self._ticker(m) if path.endswith("24hr") else {"symbol": m, "price": _s(self.prices[m])}
                    for m in (symbols or self.MARKETS)]
            return rows[0] if "symbol" in query else rows
        if method == "GET" and path == "/api/v3/account":
            return self._account()
        if method == "GET" and path == "/sapi/v1/capital/config/getall":
            return [self._coin(asset) for asset in self.balances]
        if method == "GET" and path in ("/sapi/v1/margin/allPairs", "/sapi/v1/margin/isolated/allPairs"):
            return []  # spot only: no market here trades on margin
        if path == "/api/v3/order":
            if method == "POST":
                return self._place(query)
            if method == "GET":
                return self._order_json(self._lookup(query, -2013, "Order does not exist."))
            if method == "DELETE":
                return self._cancel(query)
        if method == "GET" and path == "/api/v3/openOrders":
            symbols = self._symbols_param(query)
            return [self._order_json(o) for o in sorted(self.orders.values(), key=lambda o: o.order_id)
                    if o.is_open and (symbols is None or o.symbol in symbols)]
        if method == "GET" and path == "/api/v3/myTrades":
            return self._my_trades(query)
        raise _Reject(404, -1, "not found")

    def _klines(self, query: dict[str, str]) -> list[list[Any]]:
        if query.get("symbol") not in self.MARKETS:
            raise _Reject(400, -1121, "Invalid symbol.")
        if query.get("interval") != "1h":
            raise _Reject(400, -1120, "Invalid interval.")
        start = int(query.get("startTime", self.first_ms))
        start = max(self.first_ms, -(-start // HOUR_MS) * HOUR_MS)
        stop = min(self.last_ms, int(query.get("endTime", self.last_ms)))
        limit = min(int(query.get("limit", 500)), self.max_limit)
        rows: list[list[Any]] = []
        for ts in range(start, stop + 1, HOUR_MS):
            if len(rows) == limit:
                break
            _, *ohlcv = candle_at(ts)
            rows.append([ts, *(f"{x:.4f}" for x in ohlcv), ts + HOUR_MS - 1, "0", 10, "0", "0", "0"])
        return rows

    def _account(self) -> dict[str, Any]:
        rate = _s(self.commission)
        return {"makerCommission": int(self.commission * 10_000), "takerCommission": int(self.commission * 10_000),
                "buyerCommission": 0, "sellerCommission": 0,
                "commissionRates": {"maker": rate, "taker": rate, "buyer": "0.00000000", "seller": "0.00000000"},
                "canTrade": True, "canWithdraw": True, "canDeposit": True, "brokered": False,
                "requireSelfTradePrevention": False, "preventSor": False, "updateTime": self.clock_ms(),
                "accountType": "SPOT", "permissions": ["SPOT"], "uid": 1,
                "balances": [{"asset": a, "free": _s(free), "locked": _s(locked)}
                             for a, (free, locked) in self.balances.items()]}

    def _coin(self, asset: str) -> dict[str, Any]:
        free, locked = self.balances[asset]
        return {"coin": asset, "name": asset, "depositAllEnable": True, "withdrawAllEnable": True,
                "free": _s(free), "locked": _s(locked), "freeze": "0", "withdrawing": "0", "ipoing": "0",
                "ipoable": "0", "storage": "0", "isLegalMoney": False, "trading": True,
                "networkList": [{"network": asset, "coin": asset, "name": asset, "isDefault": True,
                                 "depositEnable": True, "withdrawEnable": True, "withdrawFee": "0",
                                 "withdrawMin": "0", "withdrawMax": "9999999", "withdrawIntegerMultiple": "0.00000001",
                                 "minConfirm": 1, "unLockConfirm": 1, "sameAddress": False, "busy": False}]}

    # -- the matching engine ---------------------------------------------------------

    @staticmethod
    def _required(params: dict[str, str], name: str) -> str:
        value = params.get(name)
        if not value:
            raise _Reject(400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")
        return value

    def _place(self, p: dict[str, str]) -> dict[str, Any]:
        market = self._required(p, "symbol")
        if market not in self.MARKETS:
            raise _Reject(400, -1121, "Invalid symbol.")
        side = self._required(p, "side")
        if side not in ("BUY", "SELL"):
            raise _Reject(400, -1117, "Invalid side.")
        kind = self._required(p, "type")
        if kind not in self.ORDER_TYPES:
            raise _Reject(400, -1116, "Invalid orderType.")
        f, last = self.filters[market], self.prices[market]
        is_market = kind in ("MARKET", "STOP_LOSS", "TAKE_PROFIT")
        price = Decimal(0) if is_market else _d(self._required(p, "price"))
        stop = _d(self._required(p, "stopPrice")) if kind.startswith(("STOP_LOSS", "TAKE_PROFIT")) else Decimal(0)
        tif = self._required(p, "timeInForce") if kind in ("LIMIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT") else "GTC"
        quote_qty = Decimal(0)
        if kind == "MARKET" and p.get("quoteOrderQty"):
            quote_qty = _d(p["quoteOrderQty"])
            qty = (quote_qty / last // f["step_size"]) * f["step_size"]
        else:
            qty = _d(self._required(p, "quantity"))
        for level in (price, stop):
            off_tick = (level - f["min_price"]) % f["tick_size"]
            if level and (level < f["min_price"] or level > f["max_price"] or off_tick):
                raise _Reject(400, -1013, "Filter failure: PRICE_FILTER")
        if qty < f["min_qty"] or qty > f["max_qty"] or (qty - f["min_qty"]) % f["step_size"]:
            raise _Reject(400, -1013, "Filter failure: LOT_SIZE")
        if qty * (price or stop or last) < f["min_notional"]:
            raise _Reject(400, -1013, "Filter failure: NOTIONAL")
        client_id = p.get("newClientOrderId") or self._generated_id()
        if any(o.client_order_id == client_id and o.is_open for o in self.orders.values()):
            raise _Reject(400, -2010, "Duplicate order sent.")
        if stop and self._triggered(kind, side, stop, last):
            raise _Reject(400, -2010, "Stop price would trigger immediately.")
        if kind == "LIMIT_MAKER" and self._marketable(side, price, last):
            raise _Reject(400, -2010, "Order would immediately match and take.")
        base, quote = self.MARKETS[market]
        if side == "BUY":
            asset, need = quote, qty * (price or stop or last)
            if self.fee_in == "quote" and is_market:
                need *= 1 + self.commission
        else:
            asset, need = base, qty
        if self.balances.setdefault(asset, [Decimal(0), Decimal(0)])[0] < need:
            raise _Reject(400, -2010, "Account has insufficient balance for requested action.")
        now = self.clock_ms()
        order = Order(next(self._order_ids), client_id, market, side, kind, tif, qty, price, stop, quote_qty, now,
                      update_time=now, working=not stop, partial=self._partial.pop(0) if self._partial else None,
                      placed_as=client_id)
        self.orders[order.order_id] = order
        self._placed.notify_all()
        if not is_market or stop:  # resting (or maybe resting) orders hold their funds
            order.locked = need
            self.balances[asset][0] -= need
            self.balances[asset][1] += need
        self._match(order, taker=True)
        if order.is_open and order.type == "MARKET":  # a market order never rests: the book ran out
            order.status = "EXPIRED"
        if order.is_open and order.working and order.time_in_force in ("IOC", "FOK"):
            order.status = "EXPIRED"
            self._release(order)
        return self._placement_json(order, p.get("newOrderRespType", "FULL"))

    @staticmethod
    def _triggered(kind: str, side: str, stop: Decimal, last: Decimal) -> bool:
        if kind.startswith("STOP_LOSS"):
            return last >= stop if side == "BUY" else last <= stop
        return last <= stop if side == "BUY" else last >= stop  # take profit

    @staticmethod
    def _marketable(side: str, price: Decimal, last: Decimal) -> bool:
        return last <= price if side == "BUY" else last >= price

    def _match(self, order: Order, *, taker: bool) -> None:
        last = self.prices[order.symbol]
        if not order.working:
            if not self._triggered(order.type, order.side, order.stop_price, last):
                return
            order.working, taker = True, True  # a triggered stop enters the book as a new order
        if order.status == "PARTIALLY_FILLED" and order.partial is not None:
            return  # waiting for fill_rest
        if order.price and not self._marketable(order.side, order.price, last):
            return
        if order.time_in_force == "FOK" and order.partial is not None:
            return  # not fully fillable: expires
        fill_price = last if taker or not order.price else order.price
        qty = order.remaining
        if order.partial is not None:
            step = self.filters[order.symbol]["step_size"]
            qty = min(qty, (order.quantity * order.partial // step) * step)
        if qty > 0:
            self._fill(order, qty, fill_price, maker=not taker)

    def _fill(self, order: Order, qty: Decimal, price: Decimal, *, maker: bool) -> None:
        base, quote = self.MARKETS[order.symbol]
        cost = qty * price
        if order.locked:  # give back what this part held; the fill then pays from free funds
            held = qty * (order.price or order.stop_price) if order.side == "BUY" else qty
            self._unlock(order, order.locked if qty == order.remaining else min(order.locked, held))
        received, paid = (base, quote) if order.side == "BUY" else (quote, base)
        got, spent = (qty, cost) if order.side == "BUY" else (cost, qty)
        fee_asset = received if self.fee_in == "received" else quote
        fee = ((got if fee_asset == received else cost) * self.commission).quantize(Decimal("1e-8"))
        self.balances.setdefault(received, [Decimal(0), Decimal(0)])[0] += got
        self.balances[paid][0] -= spent
        self.balances[fee_asset][0] -= fee
        now = self.clock_ms()
        trade_id = next(self._trade_ids)
        order.executed += qty
        order.quote += cost
        order.update_time = now
        order.status = "FILLED" if order.remaining == 0 else "PARTIALLY_FILLED"
        order.fills.append({"price": _s(price), "qty": _s(qty), "commission": _s(fee), "commissionAsset": fee_asset,
                            "tradeId": trade_id})
        self.trades.append({"symbol": order.symbol, "id": trade_id, "orderId": order.order_id, "orderListId": -1,
                            "price": _s(price), "qty": _s(qty), "quoteQty": _s(cost), "commission": _s(fee),
                            "commissionAsset": fee_asset, "time": now, "isBuyer": order.side == "BUY",
                            "isMaker": maker, "isBestMatch": True})

    def _unlock(self, order: Order, amount: Decimal) -> None:
        base, quote = self.MARKETS[order.symbol]
        asset = quote if order.side == "BUY" else base
        self.balances[asset][0] += amount
        self.balances[asset][1] -= amount
        order.locked -= amount

    def _release(self, order: Order) -> None:
        if order.locked:
            self._unlock(order, order.locked)

    def _lookup(self, p: dict[str, str], code: int, msg: str) -> Order:
        market = self._required(p, "symbol")
        if market not in self.MARKETS:
            raise _Reject(400, -1121, "Invalid symbol.")
        order_id, client_id = p.get("orderId"), p.get("origClientOrderId")
        if not order_id and not client_id:
            raise _Reject(400, -1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were "
                                      "empty/null!")
        if order_id:  # orderId first; a client id sent with it must then match that order
            order = self.orders.get(int(order_id))
            found = order is not None and (not client_id or order.client_order_id == client_id)
        else:  # the newest order carrying that client id
            matches = [o for o in self.orders.values() if o.client_order_id == client_id]
            order, found = (matches[-1] if matches else None), bool(matches)
        if not found or order is None or order.symbol != market:
            raise _Reject(400, code, msg)
        return order

    def _cancel(self, p: dict[str, str]) -> dict[str, Any]:
        order = self._lookup(p, -2011, "Unknown order sent.")
        if not order.is_open:
            raise _Reject(400, -2011, "Unknown order sent.")
        self._release(order)
        original = order.client_order_id
        order.client_order_id = p.get("newClientOrderId") or self._generated_id()  # frees the old id, as on Binance
        order.status, order.update_time = "CANCELED", self.clock_ms()
        answer = self._order_json(order, placement=True)
        answer["origClientOrderId"] = original
        return answer

    def _my_trades(self, p: dict[str, str]) -> list[dict[str, Any]]:
        market = self._required(p, "symbol")
        if market not in self.MARKETS:
            raise _Reject(400, -1121, "Invalid symbol.")
        rows = [t for t in self.trades if t["symbol"] == market]
        if p.get("orderId"):
            rows = [t for t in rows if t["orderId"] == int(p["orderId"])]
        limit = min(int(p.get("limit", 500)), 1000)
        if p.get("fromId"):
            return [t for t in rows if t["id"] >= int(p["fromId"])][:limit]
        if p.get("startTime") or p.get("endTime"):
            start, end = int(p.get("startTime", 0)), int(p.get("endTime", 2**62))
            return [t for t in rows if start <= t["time"] <= end][:limit]
        return rows[-limit:]

    @staticmethod
    def _generated_id() -> str:
        return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(22))

    def _order_json(self, order: Order, *, placement: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {
            "symbol": order.symbol, "orderId": order.order_id, "orderListId": -1,
            "clientOrderId": order.client_order_id, "price": _s(order.price), "origQty": _s(order.quantity),
            "executedQty": _s(order.executed), "origQuoteOrderQty": _s(order.quote_order_qty),
            "cummulativeQuoteQty": _s(order.quote), "status": order.status, "timeInForce": order.time_in_force,
            "type": order.type, "side": order.side, "selfTradePreventionMode": "EXPIRE_MAKER"}
        if placement:
            body["transactTime"] = order.update_time
            if order.stop_price:
                body["stopPrice"] = _s(order.stop_price)
        else:
            body.update(stopPrice=_s(order.stop_price), icebergQty="0.00000000", time=order.time,
                        updateTime=order.update_time, isWorking=order.working, workingTime=order.time)
        return body

    def _placement_json(self, order: Order, kind: str) -> dict[str, Any]:
        if kind == "ACK":
            return {"symbol": order.symbol, "orderId": order.order_id, "orderListId": -1,
                    "clientOrderId": order.client_order_id, "transactTime": order.time}
        body = self._order_json(order, placement=True)
        body["transactTime"], body["workingTime"] = order.time, order.time if order.working else -1
        if kind == "FULL":
            body["fills"] = list(order.fills)
        return body

    def _next_fault(self, method: str, path: str) -> str:
        for key in ((method, path), (None, path)):
            queue = self._faults.get(key)
            if queue:
                return queue.pop(0)
        return ""

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall

            def _serve(self, method: str) -> None:
                parsed = urlparse(self.path)
                params = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    params.update({k: v[-1] for k, v in parse_qs(self.rfile.read(length).decode()).items()})
                api_key = self.headers.get("X-MBX-APIKEY")
                with server._lock:
                    server.requests.append((parsed.path, params))
                    server.received.append(Request(method, parsed.path, params, api_key))
                    action = server.plan.pop(0) if server.plan else server._next_fault(method, parsed.path)
                if action == "timeout":
                    server.stall.wait(server.stall_s)
                    return self._send(200, [])
                if action in ("429", "418"):
                    return self._send(int(action), {"code": -1003, "msg": "Too many requests; current limit of IP "
                                                    "is 6000 requests per minute. Please use WebSocket Streams "
                                                    "for live updates to avoid polling the API."},
                                      headers={"Retry-After": str(server.retry_after_s)})
                if action.isdigit():
                    return self._send(int(action), "Service Unavailable", content_type="text/plain")
                status, body = server._answer(parsed.path, params, method, api_key)
                if action == "accept_timeout":
                    server.stall.wait(server.stall_s)
                elif action == "accept_503":
                    status, body = 503, {"code": -1007, "msg": "Timeout waiting for response from backend server. "
                                                               "Send status unknown; execution status unknown."}
                self._send(status, body)

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                self._serve("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._serve("POST")

            def do_DELETE(self) -> None:  # noqa: N802
                self._serve("DELETE")

            def _send(self, status: int, body: Any, content_type: str = "application/json",
                      headers: dict[str, str] | None = None) -> None:
                data = (body if isinstance(body, str) else json.dumps(body)).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (timeout test); nothing to tell it

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


def closed_port() -> int:
    """A loopback port nobody listens on (connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeClient:
    """A duck-typed ccxt client serving :func:`candle_at` candles, with scripted failures.

    ``failures`` is consumed one entry per request: an exception instance to raise,
    or None to answer normally. Every request is logged with the clock's time.
    """

    def __init__(self, *, clock: FakeClock | None = None, rate_limit_ms: float = 0.0, page: int = 100,
                 failures: Iterable[BaseException | None] = (), symbols: Iterable[str] = ("BTC/USDT", "ETH/USDT"),
                 timeframes: Iterable[str] = ("1m", "1h", "1d"), has_ohlcv: bool = True,
                 data_until_ms: int | None = None, mangle: Any = None):
        self.id = "fakex"
        self.rateLimit = rate_limit_ms
        self.enableRateLimit = False
        self.has = {"fetchOHLCV": has_ohlcv}
        self.timeframes = {tf: tf for tf in timeframes}
        self.markets: dict[str, dict[str, Any]] = {}
        self._symbols = list(symbols)
        self.page = page
        self.failures = list(failures)
        self.clock = clock
        self.calls: list[tuple[str, float, dict[str, Any]]] = []
        self.data_until_ms = data_until_ms
        self.mangle = mangle  # optional function(rows) -> rows, to serve bad data

    def _request(self, name: str, **info: Any) -> None:
        self.calls.append((name, self.clock() if self.clock else 0.0, info))
        failure = self.failures.pop(0) if self.failures else None
        if failure is not None:
            raise failure

    def load_markets(self, reload: bool = False) -> dict[str, dict[str, Any]]:
        self._request("load_markets")
        self.markets = {s: {"symbol": s, "id": s.replace("/", ""), "type": "spot"} for s in self._symbols}
        return self.markets

    def fetch_ohlcv(self, symbol: str, timeframe: str = "1h", since: int | None = None, limit: int | None = None,
                    params: dict | None = None) -> list[list[float]]:
        self._request("fetch_ohlcv", symbol=symbol, timeframe=timeframe, since=since, limit=limit)
        step = {"1m": 60_000, "1h": HOUR_MS, "1d": 24 * HOUR_MS}[timeframe]
        first = -(-int(since) // step) * step
        count = min(limit or self.page, self.page)
        rows = [candle_at(first + i * step) for i in range(count)]
        if self.data_until_ms is not None:
            rows = [r for r in rows if r[0] <= self.data_until_ms]
        return self.mangle(rows) if self.mangle else rows

    def fetch_count(self) -> int:
        return sum(1 for name, _, _ in self.calls if name == "fetch_ohlcv")
