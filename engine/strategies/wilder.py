"""RSI and ATR, Wilder's two smoothed indicators, as kernels that can pause and resume.

Each reads a chunk of new bars together with the bar before it (the previous close
a price change or a gap is measured from) and carries only its smoothing state, so
the same kernel computes a whole history at once or one live bar after another, in
one compiled call either way.
"""

from __future__ import annotations

import numpy as np

from engine.jit import njit
from engine.strategies.smoothing import new_state, smooth_next, wilder_alpha


@njit
def rsi_value(avg_gain: float, avg_loss: float) -> float:
    """RSI (0..100) from Wilder-smoothed gains and losses."""
    if avg_gain != avg_gain or avg_loss != avg_loss:
        return np.nan
    if avg_loss == 0.0:
        # No losses at all: all the way up (100), or a dead-flat market (neutral 50).
        return 100.0 if avg_gain > 0.0 else 50.0
    return 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)


@njit
def _fmax(a: float, b: float) -> float:
    """The larger of two values, ignoring a NaN (as ``np.fmax``)."""
    if a != a:
        return b
    return a if b != b or a >= b else b


@njit
def true_range_value(high: float, low: float, prev_close: float) -> float:
    """Bar range widened by any gap from the previous close (just the range without one)."""
    return _fmax(high - low, _fmax(abs(high - prev_close), abs(low - prev_close)))


@njit
def _previous(values: np.ndarray, i: int) -> float:
    return values[i - 1] if i > 0 else np.nan


@njit
def rsi_kernel(close: np.ndarray, start: int, period: int, gain: np.ndarray, loss: np.ndarray) -> np.ndarray:
    out = np.empty(max(len(close) - start, 0))
    alpha = wilder_alpha(period)
    for i in range(start, len(close)):
        change = close[i] - _previous(close, i)
        # first=1: bar 0 has no change. A NaN change (broken price) counts as no move.
        g = smooth_next(change if change > 0 else 0.0, period, alpha, 1, gain)
        lo = smooth_next(-change if change < 0 else 0.0, period, alpha, 1, loss)
        out[i - start] = rsi_value(g, lo)
    return out


@njit
def true_range(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    """True range of every bar; the first bar's is its high - low."""
    out = np.empty(len(close))
    for i in range(len(close)):
        out[i] = true_range_value(high[i], low[i], _previous(close, i))
    return out


@njit
def atr_kernel(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, start: int, period: int, state: np.ndarray
) -> np.ndarray:
    out = np.empty(max(len(close) - start, 0))
    alpha = wilder_alpha(period)
    for i in range(start, len(close)):
        tr = true_range_value(high[i], low[i], _previous(close, i))
        out[i - start] = smooth_next(tr, period, alpha, 0, state)
    return out


class Rsi:
    """Relative Strength Index; the first value is at bar ``period`` (bar 0 has no change)."""

    def __init__(self, period: int) -> None:
        self.period, self.gain, self.loss = period, new_state(), new_state()

    def feed(self, close: np.ndarray, start: int) -> np.ndarray:
        """RSI at ``close[start:]``; ``close[start - 1]``, if any, is the previous bar's close."""
        return rsi_kernel(close, start, self.period, self.gain, self.loss)


class Atr:
    """Average True Range (Wilder); the first value is at bar ``period - 1``."""

    def __init__(self, period: int) -> None:
        self.period, self.state = period, new_state()

    def feed(self, high: np.ndarray, low: np.ndarray, close: np.ndarray, start: int) -> np.ndarray:
        """ATR at bars ``start:`` of the aligned arrays (the bar before ``start`` gives the previous close)."""
        return atr_kernel(high, low, close, start, self.period, self.state)
