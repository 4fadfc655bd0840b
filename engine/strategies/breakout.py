"""Donchian channel breakout, the turtle-style trend entry, optionally with a volatility-sized stop."""

from __future__ import annotations

from typing import TYPE_CHECKING

import dataclasses

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

from engine.policy import ExitPolicy
from engine.strategies import register
from engine.strategies.base import Decision, Param, Strategy, mode_param, price_arrays
from engine.strategies.indicators import atr, hold_direction, prior_highest, prior_lowest


@register
class Breakout(Strategy):
    name = "breakout"
    description = "Donchian breakout: long above the prior 'entry'-bar high, out below the prior 'exit'-bar low."
    params = (
        Param("entry", int, 20, "bars in the entry channel (close beyond it opens a position)", min=1),
        Param("exit", int, 10, "bars in the exit channel (close beyond it closes the position)", min=1),
        mode_param(),
        Param("atr_stop", float, 0.0, "stop-loss distance in ATRs from the entry close; 0 = use the run's stop", min=0),
        Param("atr_period", int, 14, "bars in the ATR used by atr_stop", min=1),
    )

    def __init__(self, **values: object) -> None:
        super().__init__(**values)
        self._stop_pct: np.ndarray | None = None

    @property
    def warmup(self) -> int:
        if self.atr_stop > 0:
            return max(self.entry, self.atr_period - 1)
        return self.entry

    def signals(self, candles: pd.DataFrame) -> np.ndarray:
        high, low, close = price_arrays(candles, "high", "low", "close")
        long_entry = close > prior_highest(high, self.entry)
        long_exit = close < prior_lowest(low, self.exit)
        short_entry = close < prior_lowest(low, self.entry)
        short_exit = close > prior_highest(high, self.exit)
        if self.atr_stop > 0:
            with np.errstate(divide="ignore", invalid="ignore"):
                self._stop_pct = self.atr_stop * atr(high, low, close, self.atr_period) / close * 100.0
            # An entry before the ATR exists would go out without the stop the user asked for.
            ready = ~np.isnan(self._stop_pct)
            long_entry &= ready
            short_entry &= ready
        if not self.allows_short:
            return hold_direction(long_entry, long_exit)
        return hold_direction(long_entry, long_exit, short_entry, short_exit)

    def decide(self, i: int, direction: int, policy: ExitPolicy) -> Decision:
        if direction == 0 or self.atr_stop <= 0:
            return Decision(direction, policy)
        if self._stop_pct is None:
            raise RuntimeError("breakout.decide() called before signals()")
        stop_pct = float(self._stop_pct[i])
        if not np.isfinite(stop_pct) or stop_pct <= 0.0:
            # A dead-flat market has no volatility to size a stop from: keep the run's stop.
            return Decision(direction, policy)
        # ExitPolicy caps stops at 100 %; a wider one could never be hit by a long anyway.
        return Decision(direction, dataclasses.replace(policy, stop_loss_pct=min(stop_pct, 100.0)))
