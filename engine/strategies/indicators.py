"""Technical indicators shared by the built-in strategies, as whole-array functions.

Each indicator is causal: element ``i`` depends on elements ``0..i`` only, and is
NaN while the indicator is still warming up. Each is a thin call of the same kernel
a strategy streams bar by bar (window statistics from :mod:`windows`,
smoothing from :mod:`smoothing`, RSI/ATR from :mod:`wilder`, the held direction
from :mod:`hold`), so the array form, a prefix of it and a live session's newest
bar all agree to the bit. The window functions take ``start``: the values before
it are history only, and the result covers ``values[start:]``.
"""

from __future__ import annotations

import numpy as np

from engine.strategies import windows
from engine.strategies.hold import Hold
from engine.strategies.smoothing import Smoothing, wilder_alpha
from engine.strategies.wilder import Atr, Rsi
from engine.strategies.wilder import true_range as _true_range


def _as_float(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)


def _rolling(values: np.ndarray, period: int, kind: int, start: int, lag: int = 0) -> np.ndarray:
    return windows.rolling(_as_float(values), period, kind, start, lag)


def sma(values: np.ndarray, period: int, start: int = 0) -> np.ndarray:
    """Simple moving average of the last ``period`` values."""
    return _rolling(values, period, windows.MEAN, start)


def rolling_std(values: np.ndarray, period: int, start: int = 0) -> np.ndarray:
    """Sample standard deviation of the last ``period`` values."""
    return _rolling(values, period, windows.STD, start)


def prior_highest(high: np.ndarray, period: int, start: int = 0) -> np.ndarray:
    """Highest high of the ``period`` bars BEFORE each bar (the bar itself excluded).

    A breakout compares the current close with a channel it did not help draw;
    including the current bar would make ``close > highest`` impossible.
    """
    return _rolling(high, period, windows.HIGHEST, start, lag=1)


def prior_lowest(low: np.ndarray, period: int, start: int = 0) -> np.ndarray:
    """Lowest low of the ``period`` bars BEFORE each bar (the bar itself excluded)."""
    return _rolling(low, period, windows.LOWEST, start, lag=1)


def ema(values: np.ndarray, period: int) -> np.ndarray:
    """Exponential moving average, alpha = 2 / (period + 1), seeded with the SMA."""
    return Smoothing(period, 2.0 / (period + 1)).feed(values)


def wilder(values: np.ndarray, period: int, first: int = 0) -> np.ndarray:
    """Wilder's smoothing (alpha = 1 / period), as used by RSI and ATR, seeded with the
    mean of its first ``period`` inputs from index ``first`` (e.g. 1 for price differences)."""
    return Smoothing(period, wilder_alpha(period), first).feed(values)


def rsi(close: np.ndarray, period: int = 14) -> np.ndarray:
    """Relative Strength Index (0..100) with Wilder smoothing; first value at index ``period``."""
    return Rsi(period).feed(_as_float(close), 0)


def true_range(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    """Bar range widened by any gap from the previous close; the first bar is high - low."""
    return _true_range(_as_float(high), _as_float(low), _as_float(close))


def atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int = 14) -> np.ndarray:
    """Average True Range (Wilder); first value at index ``period - 1``."""
    return Atr(period).feed(_as_float(high), _as_float(low), _as_float(close), 0)


def crossed_above(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """True at bars where ``a`` moves from <= ``b`` to > ``b`` (False while either is NaN)."""
    a, b = _as_float(a), _as_float(b)
    above = a > b
    at_or_below = a <= b
    out = np.zeros(len(a), dtype=bool)
    out[1:] = above[1:] & at_or_below[:-1]
    return out


def crossed_below(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """True at bars where ``a`` moves from >= ``b`` to < ``b`` (False while either is NaN)."""
    return crossed_above(-_as_float(a), -_as_float(b))


def latch(on: np.ndarray, off: np.ndarray) -> np.ndarray:
    """Boolean state switched on by ``on`` events and off by ``off`` events, held in between.

    A position held from its entry signal to its exit signal; an entry wins when
    both fire on one bar.
    """
    return Hold().feed(on, off) == 1


def hold_direction(
    long_entry: np.ndarray,
    long_exit: np.ndarray,
    short_entry: np.ndarray | None = None,
    short_exit: np.ndarray | None = None,
) -> np.ndarray:
    """Held direction (int8 -1/0/+1) from entry and exit events of each side.

    An entry on one side also closes the other, so the two sides never overlap and
    a reversal happens on the bar of the opposite entry.
    """
    return Hold().feed(long_entry, long_exit, short_entry, short_exit)


__all__ = [
    "sma",
    "ema",
    "wilder",
    "rsi",
    "true_range",
    "atr",
    "rolling_std",
    "prior_highest",
    "prior_lowest",
    "crossed_above",
    "crossed_below",
    "latch",
    "hold_direction",
]

