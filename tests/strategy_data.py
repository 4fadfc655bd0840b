"""Small hand-made candle frames for the strategy tests (no files, no network)."""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import pandas as pd


def candles(
    close: Sequence[float],
    high: Optional[Sequence[float]] = None,
    low: Optional[Sequence[float]] = None,
    open: Optional[Sequence[float]] = None,
    *,
    start: str = "2024-01-01",
    freq: str = "1h",
) -> pd.DataFrame:
    """A candle frame from closes; missing opens are the previous close, missing wicks hug the body."""
    close = np.asarray(close, dtype=np.float64)
    n = len(close)
    open_ = np.asarray(open, dtype=np.float64) if open is not None else np.concatenate((close[:1], close[:-1]))
    high_ = np.asarray(high, dtype=np.float64) if high is not None else np.maximum(open_, close)
    low_ = np.asarray(low, dtype=np.float64) if low is not None else np.minimum(open_, close)
    index = pd.date_range(start, periods=n, freq=freq, tz="UTC")
    return pd.DataFrame(
        {"open": open_, "high": high_, "low": low_, "close": close, "volume": np.full(n, 1.0)}, index=index
    )


def from_returns(log_returns: np.ndarray, seed: int = 0, start_price: float = 100.0) -> pd.DataFrame:
    """Candles whose closes follow ``log_returns``, with random wicks around each body."""
    rng = np.random.default_rng(seed)
    close = start_price * np.exp(np.cumsum(log_returns))
    open_ = np.concatenate(([start_price], close[:-1]))
    wick = np.abs(rng.normal(0.0, 0.003, (2, len(close))))
    return candles(close, np.maximum(open_, close) * (1 + wick[0]), np.minimum(open_, close) * (1 - wick[1]), open_)


def random_walk(n: int, seed: int = 0, vol: float = 0.01) -> pd.DataFrame:
    """A driftless geometric random walk: no strategy should have an edge on it."""
    return from_returns(np.random.default_rng(seed).normal(0.0, vol, n), seed=seed + 1)


def mean_reverting(n: int, seed: int = 0, phi: float = -0.5, vol: float = 0.01) -> pd.DataFrame:
    """Returns follow AR(1) with coefficient ``phi``: the next move is partly predictable from the last."""
    noise = np.random.default_rng(seed).normal(0.0, vol, n)
    returns = np.empty(n)
    prev = 0.0
    for i in range(n):  # AR recursion; test data only
        prev = phi * prev + noise[i]
        returns[i] = prev
    return from_returns(returns, seed=seed + 1)


def splice_future(frame: pd.DataFrame, k: int, seed: int) -> pd.DataFrame:
    """``frame`` with every bar from ``k`` on replaced by an unrelated path (same index)."""
    if k >= len(frame):
        return frame.copy()
    other = random_walk(len(frame) - k, seed=seed, vol=0.03)
    other = other * (frame["close"].iloc[k - 1] / 100.0 if k else 1.0) * 1.07
    out = frame.copy()
    out.iloc[k:] = other.to_numpy()
    return out
