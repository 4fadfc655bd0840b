"""Moving-average crossover: the trend-following baseline every other strategy is judged against."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

from engine.errors import InputError
from engine.strategies import register
from engine.strategies.base import Param, Strategy, mode_param, price_arrays
from engine.strategies.incremental import Bars, IncrementalStrategy
from engine.strategies.indicators import sma
from engine.strategies.plots import Plot
from engine.strategies.tail import Tail


@register
class SmaCross(Strategy):
    name = "sma_cross"
    description = "Long while the fast SMA is above the slow SMA (short below it in long_short mode)."
    params = (
        Param("fast", int, 10, "bars in the fast moving average", min=1),
        Param("slow", int, 30, "bars in the slow moving average", min=2),
        mode_param(),
    )

    def check(self) -> None:
        if self.fast >= self.slow:
            raise InputError(f"parameter 'fast' ({self.fast}) must be smaller than 'slow' ({self.slow})", "fast", "slow")

    @property
    def warmup(self) -> int:
        return self.slow - 1

    def incremental(self) -> IncrementalSmaCross:
        return IncrementalSmaCross(self)

    def plots(self, candles: pd.DataFrame) -> list[Plot]:
        (close,) = price_arrays(candles, "close")
        return [Plot(f"SMA {self.fast}", sma(close, self.fast)), Plot(f"SMA {self.slow}", sma(close, self.slow))]


class IncrementalSmaCross(IncrementalStrategy):
    columns = ("close",)

    def __init__(self, strategy: SmaCross) -> None:
        super().__init__(strategy)
        self.close = Tail(strategy.slow - 1)

    def _feed(self, bars: Bars) -> np.ndarray:
        close, start = self.close.extend(bars["close"])
        s = self.strategy
        fast, slow = sma(close, s.fast, start), sma(close, s.slow, start)
        # NaN compares False both ways, so the warm-up stays flat.
        up = fast > slow
        down = (fast < slow) if s.allows_short else np.zeros(len(up), dtype=bool)
        return up.astype(np.int8) - down.astype(np.int8)

    def retained(self) -> dict[str, int]:
        return {"close": len(self.close)}
