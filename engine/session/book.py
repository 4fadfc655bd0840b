"""One symbol of a session: its engine, its strategy fed bar by bar, and where it stands.

The engine steps exactly as in the backtest (open, intrabar, close; an order at the
next open), with the direction from the strategy's incremental form, so the same
candles give the same trades. Only the end differs: a book never closes at the end of
its feed, it waits for the next candle.
"""

from __future__ import annotations

from typing import Any, Optional

import pandas as pd

from engine.actions import ManualAction, Preview
from engine.config import BacktestSettings
from engine.core import BarReport, Engine
from engine.errors import InputError
from engine.session.codec import state_from_dict, state_to_dict
from engine.session.feed import Candle
from engine.strategies.base import Strategy


class Book:
    def __init__(self, symbol: str, strategy: Strategy, settings: BacktestSettings) -> None:
        self.symbol = symbol
        self.live = strategy.incremental()
        self.engine = Engine(settings, self._decide)
        self.bars = 0  # candles the engine has processed; the next one is bar ``bars``
        self.last_candle_ms: Optional[int] = None
        self.last_price: Optional[float] = None

    def _decide(self, _bar: int, direction: int, policy: Any) -> Any:
        return self.live.decide(direction, policy)

    # ------------------------------------------------------------------ starting
    def warm_up(self, history: pd.DataFrame) -> None:
        """A new book: the strategy reads ``history``; the engine starts after it, waiting for
        the strategy's next change of mind rather than acting on an old one."""
        if len(history):
            self.live.feed_frame(history)
            self.bars = len(history)
            self.engine.state.bar = self.bars
            self.engine.state.direction = self.live.direction
            self.last_candle_ms = int(history.index[-1].value // 1_000_000)
            self.last_price = float(history["close"].iloc[-1])

    def restore(self, saved: dict[str, Any], history: pd.DataFrame) -> None:
        """A stored book: its engine state as committed, its strategy re-fed the candles it had seen."""
        # A stored feed gives back every candle the book saw; an exchange only its recent ones,
        # which is what a strategy's windows read (recursive smoothings converge on them).
        last = saved["last_candle_ms"]
        if len(history) > saved["bars"] or (len(history) and last is not None
                                            and int(history.index[-1].value // 1_000_000) != last):
            raise InputError(
                f"{self.symbol}: the candles up to the session's last one are not those it processed "
                f"({len(history):,} found for {saved['bars']:,} processed): its data changed"
            )
        if len(history):
            self.live.feed_frame(history)
        self.engine.state = state_from_dict(saved["engine"])
        self.bars, self.last_candle_ms, self.last_price = saved["bars"], saved["last_candle_ms"], saved["last_price"]

    def saved(self) -> dict[str, Any]:
        return {"bars": self.bars, "last_candle_ms": self.last_candle_ms, "last_price": self.last_price,
                "engine": state_to_dict(self.engine.state)}

    # ------------------------------------------------------------------ trading
    def on_candle(self, candle: Candle) -> BarReport:
        direction = self.live.push(candle.open, candle.high, candle.low, candle.close, candle.volume)
        report = self.engine.step(self.bars, candle.open, candle.high, candle.low, candle.close, direction)
        self.bars += 1
        self.last_candle_ms, self.last_price = candle.time_ms, candle.close
        return report

    def _price(self) -> float:
        if self.last_price is None:
            raise InputError(f"{self.symbol}: no price yet; wait for the feed's first candle")
        return self.last_price

    def preview(self, action: ManualAction) -> Preview:
        return self.engine.preview(action, self.bars, self._price())

    def act(self, action: ManualAction) -> Preview:
        """A manual market order at the last price, in the bar that is forming."""
        return self.engine.apply(action, self.bars, self._price())

    def equity(self) -> float:
        price = self.last_price
        st = self.engine.state
        return st.balance if price is None else st.equity(price)
