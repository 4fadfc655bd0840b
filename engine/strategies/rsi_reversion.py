"""RSI mean reversion: buy oversold, sell overbought, step aside once RSI is back to neutral."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

from engine.errors import InputError
from engine.strategies import register
from engine.strategies.base import Param, Strategy, mode_param, price_arrays
from engine.strategies.hold import Hold
from engine.strategies.incremental import Bars, IncrementalStrategy
from engine.strategies.indicators import rsi
from engine.strategies.plots import LOWER, Plot
from engine.strategies.tail import Tail
from engine.strategies.wilder import Rsi


@register
class RsiReversion(Strategy):
    name = "rsi_reversion"
    description = "Long when RSI falls below 'lower', out when it recovers to 'exit'; short mirrored above 'upper'."
    params = (
        Param("period", int, 14, "RSI period in bars (Wilder smoothing)", min=2),
        Param("lower", float, 30.0, "oversold level: enter long below it", min=0, max=100),
        Param("upper", float, 70.0, "overbought level: enter short above it (long_short mode)", min=0, max=100),
        Param("exit", float, 50.0, "neutral level where a long (>=) or a short (<=) is closed", min=0, max=100),
        mode_param(),
    )

    def check(self) -> None:
        # The hold logic relies on an entry level never also being an exit level.
        if not self.lower < self.exit < self.upper:
            raise InputError(
                f"RSI levels must satisfy 'lower' < 'exit' < 'upper', "
                f"got lower={self.lower:g}, exit={self.exit:g}, upper={self.upper:g}", "lower", "exit", "upper",
            )

    @property
    def warmup(self) -> int:
        return self.period

    def incremental(self) -> IncrementalRsiReversion:
        return IncrementalRsiReversion(self)

    def plots(self, candles: pd.DataFrame) -> list[Plot]:
        (close,) = price_arrays(candles, "close")
        guides = (self.lower, self.exit, self.upper) if self.allows_short else (self.lower, self.exit)
        return [Plot(f"RSI {self.period}", rsi(close, self.period), LOWER, guides, (0.0, 100.0))]


class IncrementalRsiReversion(IncrementalStrategy):
    columns = ("close",)

    def __init__(self, strategy: RsiReversion) -> None:
        super().__init__(strategy)
        self.close = Tail(1)  # the previous close, for the next price change
        self.rsi = Rsi(strategy.period)
        self.hold = Hold()

    def _feed(self, bars: Bars) -> np.ndarray:
        close, start = self.close.extend(bars["close"])
        level, s = self.rsi.feed(close, start), self.strategy
        # NaN (warm-up) compares False everywhere: no events, flat.
        long_entry, long_exit = level < s.lower, level >= s.exit
        if not s.allows_short:
            return self.hold.feed(long_entry, long_exit)
        return self.hold.feed(long_entry, long_exit, level > s.upper, level <= s.exit)

    def retained(self) -> dict[str, int]:
        return {"close": len(self.close)}
