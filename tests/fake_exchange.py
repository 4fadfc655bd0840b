"""Stand-ins for exchanges, so download tests never touch the internet.

* :class:`LoopbackBinance`: a tiny HTTP server on 127.0.0.1 speaking enough of
  Binance's spot REST dialect (``/api/v3/exchangeInfo``, ``/api/v3/klines``) for the
  real ``ccxt.binance`` client to load markets and page through candles. It counts
  requests and can be told to answer with a 5xx or to stall past the client timeout.
* :class:`FakeClient`: a duck-typed ccxt client with scripted failures, for rate
  limit, backoff, cancel and error-message tests without any sockets.
* :class:`FakeClock`: ``sleep`` and ``clock`` that advance virtual time and record
  every sleep, so no test ever really waits.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterable
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


class LoopbackBinance:
    """A Binance-flavoured candle server on a random loopback port (use as a context manager)."""

    MARKETS = {"BTCUSDT": ("BTC", "USDT"), "ETHUSDT": ("ETH", "USDT")}

    def __init__(self, first_ms: int, last_ms: int, *, max_limit: int = 1000):
        self.first_ms, self.last_ms, self.max_limit = first_ms, last_ms, max_limit
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.plan: list[str] = []  # per request: "500", "503", "timeout"; empty = answer normally
        self.stall = threading.Event()
        self._lock = threading.Lock()
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

    def client(self, *, timeout_ms: int = 3000) -> Any:
        """A real ccxt.binance whose REST calls land on this server."""
        import ccxt

        client = ccxt.binance({"enableRateLimit": False, "timeout": timeout_ms,
                               "options": {"fetchMarkets": {"types": ["spot"]}}})
        client.urls["api"] = {key: f"{self.url}/api/v3" for key in client.urls["api"]}
        client.session.trust_env = False  # never route loopback through a proxy from the environment
        return client

    # -- serving -------------------------------------------------------------

    def _answer(self, path: str, query: dict[str, str]) -> tuple[int, Any]:
        if path == "/api/v3/exchangeInfo":
            return 200, {"timezone": "UTC", "serverTime": self.last_ms, "rateLimits": [], "exchangeFilters": [],
                         "symbols": [self._market(m, b, q) for m, (b, q) in self.MARKETS.items()]}
        if path == "/api/v3/klines":
            if query.get("symbol") not in self.MARKETS:
                return 400, {"code": -1121, "msg": "Invalid symbol."}
            if query.get("interval") != "1h":
                return 400, {"code": -1120, "msg": "Invalid interval."}
            start = int(query.get("startTime", self.first_ms))
            start = max(self.first_ms, -(-start // HOUR_MS) * HOUR_MS)
            stop = min(self.last_ms, int(query.get("endTime", self.last_ms)))
            limit = min(int(query.get("limit", 500)), self.max_limit)
            rows = []
            for ts in range(start, stop + 1, HOUR_MS):
                if len(rows) == limit:
                    break
                _, *ohlcv = candle_at(ts)
                rows.append([ts, *(f"{x:.4f}" for x in ohlcv), ts + HOUR_MS - 1, "0", 10, "0", "0", "0"])
            return 200, rows
        return 404, {"code": -1, "msg": "not found"}

    @staticmethod
    def _market(market_id: str, base: str, quote: str) -> dict[str, Any]:
        return {"symbol": market_id, "status": "TRADING", "baseAsset": base, "baseAssetPrecision": 8,
                "quoteAsset": quote, "quotePrecision": 8, "quoteAssetPrecision": 8,
                "orderTypes": ["LIMIT", "MARKET"], "icebergAllowed": True, "ocoAllowed": True,
                "isSpotTradingAllowed": True, "isMarginTradingAllowed": False, "permissions": ["SPOT"],
                "filters": [{"filterType": "PRICE_FILTER", "minPrice": "0.01", "maxPrice": "1000000.00",
                             "tickSize": "0.01"},
                            {"filterType": "LOT_SIZE", "minQty": "0.00001", "maxQty": "9000.0",
                             "stepSize": "0.00001"}]}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                parsed = urlparse(self.path)
                query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
                with server._lock:
                    server.requests.append((parsed.path, query))
                    action = server.plan.pop(0) if server.plan else ""
                if action == "timeout":
                    server.stall.wait(5.0)
                    return self._send(200, [])
                if action.isdigit():
                    return self._send(int(action), "Service Unavailable", content_type="text/plain")
                status, body = server._answer(parsed.path, query)
                self._send(status, body)

            def _send(self, status: int, body: Any, content_type: str = "application/json") -> None:
                data = (body if isinstance(body, str) else json.dumps(body)).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
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
