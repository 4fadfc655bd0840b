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
from engine.strategies.hold import Hold
from engine.strategies.incremental import Bars, IncrementalStrategy
from engine.strategies.indicators import prior_highest, prior_lowest
from engine.strategies.plots import Plot
from engine.strategies.tail import History
from engine.strategies.wilder import Atr


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
        self._history: IncrementalBreakout | None = None  # the run signals() made, for decide()

    @property
    def warmup(self) -> int:
        if self.atr_stop > 0:
            return max(self.entry, self.atr_period - 1)
        return self.entry

    def signals(self, candles: pd.DataFrame) -> np.ndarray:
        self._history = self.incremental()
        return self._history.feed_frame(candles)

    def incremental(self) -> IncrementalBreakout:
        return IncrementalBreakout(self)

    def plots(self, candles: pd.DataFrame) -> list[Plot]:
        """The entry channel's high and the exit channel's low: a long opens on a close above
        the first and closes below the second (mirrored for shorts)."""
        high, low = price_arrays(candles, "high", "low")
        return [Plot(f"{self.entry}-bar high", prior_highest(high, self.entry)),
                Plot(f"{self.exit}-bar low", prior_lowest(low, self.exit))]

    def decide(self, i: int, direction: int, policy: ExitPolicy) -> Decision:
        if self._history is None and direction != 0 and self.atr_stop > 0:
            raise RuntimeError("breakout.decide() called before signals()")
        return with_atr_stop(direction, policy, None if self._history is None else self._history.stop_pct, i)


def with_atr_stop(direction: int, policy: ExitPolicy, stop_pct: np.ndarray | None, i: int) -> Decision:
    """The decision at bar ``i``: an entry gets the ATR-sized stop (in % of the close) if there is one."""
    if direction == 0 or stop_pct is None:
        return Decision(direction, policy)
    pct = float(stop_pct[i])
    if not np.isfinite(pct) or pct <= 0.0:
        # A dead-flat market has no volatility to size a stop from: keep the run's stop.
        return Decision(direction, policy)
    # ExitPolicy caps stops at 100 %; a wider one could never be hit by a long anyway.
    return Decision(direction, dataclasses.replace(policy, stop_loss_pct=min(pct, 100.0)))


class IncrementalBreakout(IncrementalStrategy):
    columns = ("high", "low", "close")

    def __init__(self, strategy: Breakout) -> None:
        super().__init__(strategy)
        # The channels read the bars before the current one.
        self.history = History(self.columns, max(strategy.entry, strategy.exit))
        self.atr = Atr(strategy.atr_period) if strategy.atr_stop > 0 else None
        self.stop_pct: np.ndarray | None = None  # of the latest chunk, with atr_stop only
        self.hold = Hold()

    def _feed(self, bars: Bars) -> np.ndarray:
        (high, low, close), start = self.history.extend(bars)
        s, now = self.strategy, close[start:]
        long_entry = now > prior_highest(high, s.entry, start)
        long_exit = now < prior_lowest(low, s.exit, start)
        short_entry = now < prior_lowest(low, s.entry, start) if s.allows_short else None
        if self.atr is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                self.stop_pct = s.atr_stop * self.atr.feed(high, low, close, start) / now * 100.0
            # An entry before the ATR exists would go out without the stop the user asked for.
            ready = ~np.isnan(self.stop_pct)
            long_entry &= ready
            if short_entry is not None:
                short_entry &= ready
        if short_entry is None:
            return self.hold.feed(long_entry, long_exit)
        return self.hold.feed(long_entry, long_exit, short_entry, now > prior_highest(high, s.exit, start))

    def decide(self, direction: int, policy: ExitPolicy) -> Decision:
        return with_atr_stop(direction, policy, self.stop_pct, -1)

    def retained(self) -> dict[str, int]:
        return self.history.sizes()
