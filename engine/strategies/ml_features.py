"""ml_basic's inputs: price features known at each bar's close, and next-bar labels.

Every feature looks back at most :data:`LOOKBACK` bars (plus the RSI's carried
smoothing state), so the bar-by-bar form computes a new bar's row from a short tail
of history with the very same code that computes a whole history's rows.
"""

from __future__ import annotations

import numpy as np

from engine.strategies.indicators import rolling_std, rsi, sma
from engine.strategies.windows import lagged

VOL_BARS = 20
TREND_BARS = 20
MOMENTUM_BARS = 5
RSI_BARS = 14
N_FEATURES = 8
# First bar at which every feature exists (the 20-bar volatility of returns, which
# themselves start at bar 1, is the last to arrive); also the history a row reads.
FEATURE_WARMUP = LOOKBACK = VOL_BARS


def feature_rows(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, rsi_level: np.ndarray, start: int = 0
) -> np.ndarray:
    """Feature rows of bars ``start:`` (NaN during warm-up); the bars before ``start``
    are history only: at least :data:`LOOKBACK` of them, or all since the first bar.
    ``rsi_level`` is the RSI of bars ``start:``."""
    log_close = np.log(close)
    ret = log_close - lagged(log_close, 1)
    trend = sma(close, TREND_BARS, start)
    high, low, close, log_close_now = high[start:], low[start:], close[start:], log_close[start:]
    bar_range = high - low
    with np.errstate(divide="ignore", invalid="ignore"):
        # Where the close sits in the bar's range: buyers or sellers in control at the close.
        close_location = np.where(bar_range > 0, (close - low) / bar_range - 0.5, 0.0)
    return np.column_stack(
        [
            ret[start:],
            lagged(ret, 1, start),
            lagged(ret, 2, start),
            log_close_now - lagged(log_close, MOMENTUM_BARS, start),
            (rsi_level - 50.0) / 50.0,
            rolling_std(ret, VOL_BARS, start),
            log_close_now - np.log(trend),
            close_location,
        ]
    )


def market_features(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    """One row per bar of features known at that bar's close (NaN during warm-up)."""
    return feature_rows(high, low, close, rsi(close, RSI_BARS))


def next_bar_up(close: np.ndarray) -> np.ndarray:
    """Label of bar j: 1.0 if close[j + 1] > close[j]. The last bar has no label yet (NaN)."""
    label = np.full(len(close), np.nan)
    label[:-1] = close[1:] > close[:-1]
    return label
