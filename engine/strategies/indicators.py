"""Technical indicators shared by the built-in strategies.

Each indicator is computed once over a whole price array and is causal: element
``i`` depends on elements ``0..i`` only, and is NaN while the indicator is still
warming up. The running computations go through pandas' sequential kernels, so a
prefix of the input gives a bit-identical prefix of the output; the no-look-ahead
tests of the strategies rely on that.
"""

from __future__ import annotations

import numpy as np


def _as_float(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)


def sma(values: np.ndarray, period: int) -> np.ndarray:
    """Simple moving average of the last ``period`` values."""
    return _series(_as_float(values)).rolling(period, min_periods=period).mean().to_numpy()


def _seeded_smoothing(values: np.ndarray, period: int, alpha: float, first: int = 0) -> np.ndarray:
    """Exponential smoothing seeded with the plain mean of its first ``period`` inputs.

    Seeding with the mean (rather than the first value) is the textbook EMA / Wilder
    definition, so the numbers match what traders see on a chart. ``first`` is the
    index of the first valid input (e.g. 1 for price differences).
    """
    values = _as_float(values)
    seed_at = first + period - 1
    seeded = np.full(len(values), np.nan)
    if len(values) > seed_at:
        seeded[seed_at] = values[first : seed_at + 1].mean()
        seeded[seed_at + 1 :] = values[seed_at + 1 :]
    # adjust=False is the recursive form y = (1 - alpha) * y_prev + alpha * x; it starts
    # at the first non-NaN value, which is the seed.
    return _series(seeded).ewm(alpha=alpha, adjust=False).mean().to_numpy()


def ema(values: np.ndarray, period: int) -> np.ndarray:
    """Exponential moving average, alpha = 2 / (period + 1), seeded with the SMA."""
    return _seeded_smoothing(values, period, 2.0 / (period + 1))


def wilder(values: np.ndarray, period: int, first: int = 0) -> np.ndarray:
    """Wilder's smoothing (alpha = 1 / period), as used by RSI and ATR."""
    return _seeded_smoothing(values, period, 1.0 / period, first)


def rsi(close: np.ndarray, period: int = 14) -> np.ndarray:
    """Relative Strength Index (0..100) with Wilder smoothing; first value at index ``period``."""
    close = _as_float(close)
    change = np.diff(close, prepend=np.nan)
    gain = wilder(np.where(change > 0, change, 0.0), period, first=1)
    loss = wilder(np.where(change < 0, -change, 0.0), period, first=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 100.0 - 100.0 / (1.0 + gain / loss)
    # No losses at all: all the way up (100), or a dead-flat market (neutral 50).
    out = np.where(loss == 0.0, np.where(gain > 0.0, 100.0, 50.0), out)
    out[np.isnan(gain) | np.isnan(loss)] = np.nan
    return out


def true_range(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    """Bar range widened by any gap from the previous close; the first bar is high - low."""
    high, low, close = _as_float(high), _as_float(low), _as_float(close)
    prev_close = np.concatenate(([np.nan], close[:-1]))
    return np.fmax(high - low, np.fmax(np.abs(high - prev_close), np.abs(low - prev_close)))


def atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int = 14) -> np.ndarray:
    """Average True Range (Wilder); first value at index ``period - 1``."""
    return wilder(true_range(high, low, close), period)


def rolling_std(values: np.ndarray, period: int) -> np.ndarray:
    """Sample standard deviation of the last ``period`` values."""
    return _series(_as_float(values)).rolling(period, min_periods=period).std().to_numpy()


def prior_highest(high: np.ndarray, period: int) -> np.ndarray:
    """Highest high of the ``period`` bars BEFORE each bar (the bar itself excluded).

    A breakout compares the current close with a channel it did not help draw;
    including the current bar would make ``close > highest`` impossible.
    """
    rolled = _series(_as_float(high)).rolling(period, min_periods=period).max().to_numpy()
    return np.concatenate(([np.nan], rolled[:-1])) if len(rolled) else rolled


def prior_lowest(low: np.ndarray, period: int) -> np.ndarray:
    """Lowest low of the ``period`` bars BEFORE each bar (the bar itself excluded)."""
    rolled = _series(_as_float(low)).rolling(period, min_periods=period).min().to_numpy()
    return np.concatenate(([np.nan], rolled[:-1])) if len(rolled) else rolled


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

    The vectorised form of a position held from its entry signal to its exit signal:
    each bar looks back to the most recent event (a running maximum of event
    indices) and copies its kind. An entry wins when both fire on one bar.
    """
    on = np.asarray(on, dtype=bool)
    off = np.asarray(off, dtype=bool)
    index = np.arange(len(on))
    last_event = np.maximum.accumulate(np.where(on | off, index, -1)) if len(on) else index
    return (last_event >= 0) & on[np.maximum(last_event, 0)]


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
    long_entry = np.asarray(long_entry, dtype=bool)
    if short_entry is None:
        return latch(long_entry, long_exit).astype(np.int8)
    short_entry = np.asarray(short_entry, dtype=bool)
    long_on = latch(long_entry, np.asarray(long_exit, dtype=bool) | short_entry)
    short_on = latch(short_entry & ~long_entry, np.asarray(short_exit, dtype=bool) | long_entry)
    return long_on.astype(np.int8) - short_on.astype(np.int8)


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


def _series(values: np.ndarray):  # type: ignore[no-untyped-def]
    """A pandas Series, imported on first use so listing strategies stays light."""
    import pandas as pd

    return pd.Series(values)
