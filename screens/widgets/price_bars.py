"""A run's candles thinned for a chart: each stretch of bars as one candle (its first open,
highest high, lowest low, last close), and where its trades went in and out.

A million bars become a thousand candles on the worker that builds the run's view; the
chart merges them again to its width. The highs and lows are every bar's, so no wick
is lost; the markers are placed by time, so a trade lands in the column of its bar.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

import numpy as np

from screens.equity_curve import BUCKETS, bucket_times

if TYPE_CHECKING:
    import pandas as pd

    from screens.run_columns import TradeColumns


def _starts(n: int, count: int) -> np.ndarray:
    return (np.arange(count, dtype=np.int64) * n) // count


def merge_ohlc(o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray, count: int
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``count`` candles from equal shares of the given ones (repeated when fewer)."""
    n = len(o)
    starts = _starts(n, count)
    ends = np.append(starts[1:], n)
    last = np.maximum(ends, starts + 1) - 1  # a repeated candle is its own last
    return o[starts], np.maximum.reduceat(h, starts), np.minimum.reduceat(lo, starts), c[last]


@dataclass(frozen=True)
class PriceBars:
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    times: np.ndarray  # epoch ns each candle starts
    bars: int  # of the run, before thinning
    first_close: float
    last_close: float

    @classmethod
    def from_candles(cls, candles: "pd.DataFrame", buckets: int = BUCKETS) -> Optional["PriceBars"]:
        import pandas as pd

        n = len(candles)
        if not n:
            return None
        cols = [candles[k].to_numpy(dtype=np.float64) for k in ("open", "high", "low", "close")]
        count = min(buckets, n)
        o, h, lo, c = merge_ohlc(*cols, count)
        index = pd.DatetimeIndex(candles.index)
        if index.tz is not None:
            index = index.tz_convert("UTC").tz_localize(None)
        ns = index.as_unit("ns").asi8
        return cls(o, h, lo, c, bucket_times(ns, count), n, float(cols[3][0]), float(cols[3][-1]))

    def __len__(self) -> int:
        return len(self.open)

    def columns(self, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(open, high, low, close, start time) of ``count`` columns."""
        o, h, lo, c = merge_ohlc(self.open, self.high, self.low, self.close, count)
        return o, h, lo, c, self.times[_starts(len(self), count)]


@dataclass(frozen=True)
class Markers:
    """Where trades bought and sold: time (epoch ns), price, and True for a buy."""

    time: np.ndarray
    price: np.ndarray
    buy: np.ndarray

    @classmethod
    def of_trades(cls, trades: "TradeColumns") -> "Markers":
        """Entries and exits: a long buys in and sells out, a short the other way round."""
        long = trades.side == "long"
        return cls(
            np.concatenate([trades.entry_time, trades.exit_time]),
            np.concatenate([trades.entry_price, trades.exit_price]),
            np.concatenate([long, ~long]).astype(bool),
        )

    def __len__(self) -> int:
        return len(self.time)

    def columns(self, column_starts: np.ndarray) -> np.ndarray:
        """The column each marker falls in, given when each column starts."""
        return np.clip(np.searchsorted(column_starts, self.time, side="right") - 1, 0, max(0, len(column_starts) - 1))
