"""What a session is fed: closed candles and last prices, and how the feed is doing.

Two feeds share this shape: :class:`ReplayFeed` plays stored candles on an accelerated
clock (a session runs offline, and its parity with the backtest can be proven), and
:class:`engine.session.exchange_feed.ExchangeFeed` polls an exchange through ccxt.
"""

from __future__ import annotations

import hashlib
import heapq
import time
from dataclasses import dataclass
from typing import Callable, NamedTuple, Optional, Protocol, Union

import numpy as np
import pandas as pd

from engine.errors import InputError


class Candle(NamedTuple):
    """A closed candle of one symbol; ``time_ms`` is its open time (UTC epoch ms)."""

    symbol: str
    time_ms: int
    open: float
    high: float
    low: float
    close: float
    volume: float


class Price(NamedTuple):
    """The last traded price of a symbol: unrealised PnL moves with it."""

    symbol: str
    price: float
    time_ms: int


Event = Union[Candle, Price]


@dataclass
class FeedStatus:
    state: str = "connecting"  # connecting | connected | retrying | error | ended
    message: str = ""
    retry_in: Optional[float] = None  # seconds, while retrying
    last_candle_ms: Optional[int] = None

    def describe(self) -> str:
        if self.state == "retrying" and self.retry_in is not None:
            return f"retrying in {self.retry_in:.0f} s: {self.message}"
        return f"{self.state}: {self.message}" if self.message else self.state


class Feed(Protocol):
    status: FeedStatus

    def history(self, symbol: str, through_ms: Optional[int]) -> pd.DataFrame:
        """Candles up to the one opened at ``through_ms`` (a resumed book's), or (None) those
        before the feed's first new one, for a new book's warm-up."""

    def resume_after(self, symbol: str, time_ms: int) -> None:
        """Emit no candle of ``symbol`` opened at or before ``time_ms`` (already processed)."""

    def poll(self) -> list[Event]:
        """What is due now, oldest first; may wait a little (never long) for it."""

    @property
    def ended(self) -> bool: ...

    def close(self) -> None: ...


def _ms(index: pd.DatetimeIndex) -> np.ndarray:
    return (index.asi8 // 1_000_000).astype(np.int64) if index.unit == "ns" else index.as_unit("ms").asi8


class ReplayFeed:
    """Stored candles played in time order across symbols, ``speed`` candles a second
    (None: as fast as the session takes them). Each candle is followed by its close as the
    last price. ``warmup`` leading candles of each symbol are history, not news."""

    def __init__(self, candles: dict[str, pd.DataFrame], speed: Optional[float] = None, *, warmup: int = 0,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        if speed is not None and not speed > 0:
            raise InputError(f"--speed must be a positive number of bars per second or 'max', got {speed!r}")
        self.frames = candles
        self.speed = speed
        self.clock, self.sleep = clock, sleep
        self.status = FeedStatus("connected", "replaying stored candles")
        self._arrays = {s: (_ms(f.index), f[["open", "high", "low", "close", "volume"]].to_numpy(np.float64))
                        for s, f in candles.items()}
        self._warmup = warmup
        self._next = {s: min(warmup, len(f)) for s, f in candles.items()}  # index of each symbol's next candle
        self._heap: list[tuple[int, str]] = []
        self._rebuild()
        self._owed = 0.0
        self._last_tick: Optional[float] = None

    def _rebuild(self) -> None:
        self._heap = [(int(self._arrays[s][0][i]), s) for s, i in self._next.items() if i < len(self._arrays[s][0])]
        heapq.heapify(self._heap)

    def history(self, symbol: str, through_ms: Optional[int]) -> pd.DataFrame:
        if through_ms is None:
            return self.frames[symbol].iloc[: self._warmup]
        end = int(np.searchsorted(self._arrays[symbol][0], through_ms, side="right"))
        return self.frames[symbol].iloc[:end]

    def resume_after(self, symbol: str, time_ms: int) -> None:
        times = self._arrays[symbol][0]
        self._next[symbol] = max(self._next[symbol], int(np.searchsorted(times, time_ms, side="right")))
        self._rebuild()

    @property
    def ended(self) -> bool:
        return not self._heap

    def _take(self) -> list[Event]:
        t, symbol = heapq.heappop(self._heap)
        times, values = self._arrays[symbol]
        i = self._next[symbol]
        self._next[symbol] = i + 1
        if i + 1 < len(times):
            heapq.heappush(self._heap, (int(times[i + 1]), symbol))
        o, h, l, c, v = values[i].tolist()
        self.status.last_candle_ms = t
        return [Candle(symbol, t, o, h, l, c, v), Price(symbol, c, t)]

    def poll(self) -> list[Event]:
        if self.ended:
            self.status = FeedStatus("ended", "no more stored candles", last_candle_ms=self.status.last_candle_ms)
            return []
        if self.speed is None:
            out: list[Event] = []
            while self._heap and len(out) < 512:
                out += self._take()
            return out
        now = self.clock()
        if self._last_tick is None:
            self._last_tick = now - 1.0 / self.speed  # the first candle is due at once
        # Candles due since the last poll; a long stall is not made up in one burst.
        self._owed = min(self._owed + (now - self._last_tick) * self.speed, max(self.speed, 1.0))
        self._last_tick = now
        due = int(self._owed)
        if due == 0:
            self.sleep(min((1.0 - self._owed) / self.speed, 0.05))
            return []
        self._owed -= due
        out = []
        for _ in range(due):
            if not self._heap:
                break
            out += self._take()
        return out

    def close(self) -> None:
        pass


def sample_feed_candles(symbols: list[str]) -> dict[str, pd.DataFrame]:
    """The embedded sample for BTC/USDT; any other symbol gets synthetic candles on the same
    hours, seeded by its name (the same every time), so a multi-symbol session runs offline."""
    from engine.data import sample_candles, synthetic_bars

    base = sample_candles()
    out = {}
    for symbol in symbols:
        if symbol == "BTC/USDT":
            out[symbol] = base
            continue
        seed = int.from_bytes(hashlib.sha256(symbol.encode()).digest()[:4], "little")
        frame = synthetic_bars(len(base), freq="1h", seed=seed, start_price=float(100 + seed % 1900),
                               start=f"{base.index[0]:%Y-%m-%d %H:%M}")
        frame.attrs["source"] = f"synthetic {symbol} 1h (sample feed)"
        out[symbol] = frame
    return out
