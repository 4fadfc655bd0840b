"""RSI mean reversion: buy oversold, sell overbought, step aside once RSI is back to neutral."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

from engine.errors import InputError
from engine.strategies import register
from engine.strategies.base import Param, Strategy, mode_param, price_arrays
from engine.strategies.indicators import hold_direction, rsi


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
                f"got lower={self.lower:g}, exit={self.exit:g}, upper={self.upper:g}"
            )

    @property
    def warmup(self) -> int:
        return self.period

    def signals(self, candles: pd.DataFrame) -> np.ndarray:
        (close,) = price_arrays(candles, "close")
        level = rsi(close, self.period)
        # NaN (warm-up) compares False everywhere: no events, flat.
        long_entry, long_exit = level < self.lower, level >= self.exit
        if not self.allows_short:
            return hold_direction(long_entry, long_exit)
        return hold_direction(long_entry, long_exit, level > self.upper, level <= self.exit)
