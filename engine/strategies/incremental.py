"""A strategy fed one bar at a time: the newest decision without recomputing history.

A live session appends one bar at a time and needs the direction after that bar's
close. Every built-in strategy is written as a computation carried from one chunk of
bars to the next (:meth:`IncrementalStrategy.feed`): its vectorised
:meth:`Strategy.signals` is that computation fed the whole history as ONE chunk, and
:meth:`IncrementalStrategy.push` feeds it a chunk of one bar. One code path, so the
two agree bit for bit (proven by ``tests/test_strategy_incremental.py``). What is
carried between chunks is O(1) state for recursive indicators and a bounded tail of
recent bars for windows, so a push costs O(window) however long the session runs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar, Mapping

import numpy as np

from engine.strategies.base import Decision, Strategy, price_arrays

if TYPE_CHECKING:
    import pandas as pd

    from engine.policy import ExitPolicy

Bars = Mapping[str, np.ndarray]  # candle column -> float64 values of a chunk of bars


class IncrementalStrategy(ABC):
    """One strategy's running state; ``push`` a bar, read its direction, ``decide`` on it."""

    columns: ClassVar[tuple[str, ...]]  # the candle columns it reads

    def __init__(self, strategy: Strategy) -> None:
        self.strategy = strategy  # its parameters
        self.bars = 0  # bars fed so far
        self.direction = 0  # after the newest bar

    @abstractmethod
    def _feed(self, bars: Bars) -> np.ndarray:
        """Directions (int8) for a chunk of new bars, continuing the carried state."""

    @abstractmethod
    def retained(self) -> dict[str, int]:
        """How many entries each buffer carried between bars holds now (bounded by the parameters)."""

    def feed(self, bars: Bars) -> np.ndarray:
        """Directions for a chunk of new bars (any length, including a whole history)."""
        out = self._feed(bars)
        self.bars += len(out)
        if len(out):
            self.direction = int(out[-1])
        return out

    def feed_frame(self, candles: "pd.DataFrame") -> np.ndarray:
        """:meth:`feed` with the columns of a candle frame."""
        return self.feed(dict(zip(self.columns, price_arrays(candles, *self.columns))))

    def push(self, open: float, high: float, low: float, close: float, volume: float) -> int:
        """Feed one bar; the direction to hold after its close (what ``signals()`` gives at that index)."""
        bar = {"open": open, "high": high, "low": low, "close": close, "volume": volume}
        self.feed({c: np.array([bar[c]], dtype=np.float64) for c in self.columns})
        return self.direction

    def decide(self, direction: int, policy: "ExitPolicy") -> Decision:
        """The decision at the newest bar, as :meth:`Strategy.decide` gives it at that index."""
        return Decision(direction, policy)
