"""Live candles and last prices from an exchange through ccxt, by polling.

Only closed candles reach the engine (a candle is closed once its period has passed on
the exchange's clock). Network trouble (timeouts, rate limits, maintenance) never
raises: the feed waits with exponential backoff and says so in its status, which the
session shows; the candles missed meanwhile come with the next successful poll.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Optional

import pandas as pd

from engine.source_checks import timeframe_ms
from engine.errors import ExchangeError
from engine.session.feed import Candle, Event, FeedStatus, Price

HISTORY = 500  # candles fetched for a new book's warm-up


class ExchangeFeed:
    def __init__(self, client: Any, symbols: list[str], timeframe: str, *, warmup: int = HISTORY,
                 clock: Callable[[], float] = time.monotonic, now_ms: Callable[[], int] = lambda: int(time.time() * 1000),
                 sleep: Callable[[float], None] = time.sleep, price_every: float = 2.0,
                 max_backoff: float = 60.0) -> None:
        self.client, self.symbols, self.timeframe = client, symbols, timeframe
        self.step = timeframe_ms(timeframe)
        self.warmup = warmup
        self.clock, self.now_ms, self.sleep = clock, now_ms, sleep
        self.price_every, self.max_backoff = price_every, max_backoff
        self.status = FeedStatus("connecting", client.id)
        self._last: dict[str, Optional[int]] = {s: None for s in symbols}  # newest candle emitted, open time
        self._next_candles = 0.0
        self._next_price = 0.0
        self._failures = 0
        self._retry_at = 0.0

    @property
    def ended(self) -> bool:
        return False  # an exchange never runs out of candles

    def close(self) -> None:
        pass

    # ------------------------------------------------------------------ history
    def _closed(self, rows: list[list[Any]]) -> list[list[Any]]:
        now = self.now_ms()
        return [r for r in rows if r[0] + self.step <= now]

    def history(self, symbol: str, through_ms: Optional[int]) -> pd.DataFrame:
        """The last closed candles (to ``through_ms`` when resuming): a strategy's warm-up."""
        import ccxt

        # Asked from an explicit start: without one, some exchanges answer with their oldest candles.
        last = (self.now_ms() // self.step - 1) * self.step if through_ms is None else through_ms
        since = last - (self.warmup - 1) * self.step
        try:
            rows = self._closed(self.client.fetch_ohlcv(symbol, self.timeframe, since, self.warmup))
        except ccxt.BaseError as exc:
            raise ExchangeError(f"{self.client.id} {symbol} {self.timeframe}: cannot fetch candles: {exc}") from None
        if through_ms is not None:
            rows = [r for r in rows if r[0] <= through_ms]
        if rows:
            self._last[symbol] = max(self._last[symbol] or 0, int(rows[-1][0]))
        frame = pd.DataFrame([r[1:6] for r in rows], columns=["open", "high", "low", "close", "volume"],
                             index=pd.to_datetime([r[0] for r in rows], unit="ms", utc=True), dtype="float64")
        return frame.fillna({"volume": 0.0})

    def minimum_qty(self, symbol: str, price: float) -> float:
        """The market's smallest order in base units at ``price``: its minimum amount, or its
        minimum notional over the price, whichever is larger (0 before the markets are loaded)."""
        market = (self.client.markets or {}).get(symbol)
        if not market:
            return 0.0
        limits = market.get("limits") or {}
        amount = (limits.get("amount") or {}).get("min") or 0.0
        cost = (limits.get("cost") or {}).get("min") or 0.0
        return max(float(amount), float(cost) / price if price > 0 else 0.0)

    def resume_after(self, symbol: str, time_ms: int) -> None:
        self._last[symbol] = max(self._last[symbol] or 0, time_ms)

    # ------------------------------------------------------------------ polling
    def poll(self) -> list[Event]:
        now = self.clock()
        if now < self._retry_at:
            self.status.retry_in = self._retry_at - now
            self.sleep(min(0.2, self._retry_at - now))
            return []
        try:
            events: list[Event] = []
            if now >= self._next_candles:
                events += self._new_candles()
                self._next_candles = now + min(self.step / 1000 / 6, 10.0)
            if now >= self._next_price:
                events += self._prices()
                self._next_price = now + self.price_every
        except Exception as exc:  # noqa: BLE001 - sorted below: the feed must outlive the exchange's bad moments
            self._trouble(exc, now)
            return []
        if self._failures or self.status.state != "connected":
            self._failures = 0
            self.status = FeedStatus("connected", self.client.id, last_candle_ms=self.status.last_candle_ms)
        if not events:
            self.sleep(0.2)
        return events

    def _new_candles(self) -> list[Event]:
        out: list[Event] = []
        for symbol in self.symbols:
            last = self._last[symbol]
            since = None if last is None else last + 1
            for row in self._closed(self.client.fetch_ohlcv(symbol, self.timeframe, since, 1000)):
                t = int(row[0])
                if last is not None and t <= last:
                    continue
                o, h, l, c = (float(x) for x in row[1:5])
                v = float(row[5]) if row[5] is not None else 0.0
                out.append(Candle(symbol, t, o, h, l, c, v))
                self._last[symbol] = last = t
                self.status.last_candle_ms = t
        out.sort(key=lambda e: e.time_ms)
        return out

    def _prices(self) -> list[Event]:
        out: list[Event] = []
        for symbol in self.symbols:
            ticker = self.client.fetch_ticker(symbol)
            last = ticker.get("last") or ticker.get("close")
            if last:
                out.append(Price(symbol, float(last), int(ticker.get("timestamp") or self.now_ms())))
        return out

    def _trouble(self, exc: Exception, now: float) -> None:
        import ccxt

        self._failures += 1
        delay = min(self.max_backoff, 2.0 ** (self._failures - 1))
        self._retry_at = now + delay
        if isinstance(exc, (ccxt.NetworkError, ConnectionError, TimeoutError)):
            self.status = FeedStatus("retrying", f"{exc.__class__.__name__}: {_short(exc)}", delay,
                                     self.status.last_candle_ms)
        else:  # the exchange answered, but not with candles: say what it said, keep trying
            self.status = FeedStatus("error", f"{exc.__class__.__name__}: {_short(exc)}", delay,
                                     self.status.last_candle_ms)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
    return text[:160]
