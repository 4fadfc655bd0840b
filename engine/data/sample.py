"""Candles that need no file and no network: the embedded sample and a fast generator.

:func:`sample_candles` is what a first run, a demo and the UI tests trade on: two
years of hourly synthetic BTC/USDT-like candles shipped inside the package (see
``make_sample.py`` for how they were made) and clearly labelled as not real.
:func:`synthetic_bars` makes any number of realistic bars on the fly, for
benchmarks and tests that need volume rather than a fixed history.
"""

from __future__ import annotations

import functools
from importlib import resources

import numpy as np
import pandas as pd

from engine.data.frame import infer_timeframe, make_frame
from engine.data.make_sample import SAMPLE_FILE
from engine.data.validate import validate_candles
from engine.errors import InputError

SAMPLE_SOURCE = "synthetic sample BTC/USDT 1h (not real market data)"


@functools.lru_cache(maxsize=1)
def _load_sample() -> pd.DataFrame:
    import pyarrow.parquet as pq

    with resources.files("engine.data").joinpath(SAMPLE_FILE).open("rb") as fh:
        table = pq.read_table(fh)
    columns = {c: table.column(f"{c}_cents").to_numpy() / 100.0 for c in ("open", "high", "low", "close")}
    columns["volume"] = table.column("volume_e4").to_numpy() / 10_000.0
    index = pd.to_datetime(table.column("timestamp").to_numpy(), unit="ms", utc=True)
    frame = make_frame(index, columns, source=SAMPLE_SOURCE, symbol="BTC/USDT", timeframe="1h")
    return validate_candles(frame)


def sample_candles() -> pd.DataFrame:
    """Two years (2023-2024) of synthetic hourly BTC/USDT-like candles, deterministic.

    A fresh copy each call (the parsed frame is cached), so callers may modify it.
    """
    frame = _load_sample().copy()
    frame.attrs = dict(_load_sample().attrs)
    return frame


def _smoothed_noise(rng: np.random.Generator, n: int, window: int) -> np.ndarray:
    """Unit-variance noise with memory of about ``window`` bars, in O(n).

    A moving sum over a cumulative sum: a cheap stand-in for a recursive AR/GARCH
    filter, which would need a Python loop.
    """
    window = max(1, min(window, n))
    cumulative = np.concatenate([[0.0], np.cumsum(rng.standard_normal(n + window - 1))])
    return (cumulative[window:] - cumulative[:-window]) / np.sqrt(window)


def _trailing_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Mean of the last ``window`` values (fewer at the start), in O(n)."""
    cumulative = np.concatenate([[0.0], np.cumsum(values)])
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(0, ends - window)
    return (cumulative[ends] - cumulative[starts]) / (ends - starts)


def synthetic_bars(n: int, *, freq: str = "1min", seed: int = 0, start_price: float = 30000.0,
                   start: str = "2024-01-01") -> pd.DataFrame:
    """``n`` realistic synthetic bars (default one-minute), deterministic for a seed.

    Volatility clusters (slow and fast log-volatility factors), trends come and go
    (a slowly wandering drift), returns have fat tails, high/low come from a Brownian
    bridge between open and close, and volume follows volatility. A million bars
    take a fraction of a second.
    """
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise InputError(f"number of bars must be a whole number >= 0, got {n!r}")
    if not np.isfinite(start_price) or start_price <= 0:
        raise InputError(f"start price must be positive, got {start_price!r}")
    try:
        step = pd.Timedelta(pd.tseries.frequencies.to_offset(freq))
    except (ValueError, TypeError):
        raise InputError(f"bad bar frequency {freq!r} (use e.g. 1min, 5min, 1h, 1D)") from None
    if step <= pd.Timedelta(0):
        raise InputError(f"bad bar frequency {freq!r} (use e.g. 1min, 5min, 1h, 1D)")
    n = int(n)
    index = pd.date_range(pd.Timestamp(start, tz="UTC"), periods=n, freq=step, name="timestamp")
    label = f"synthetic {n} bars of {infer_timeframe(index) or freq} (seed {seed}, not real market data)"
    if n == 0:
        return make_frame(index, np.empty((0, 5)), source=label, timeframe="")

    rng = np.random.default_rng(seed)
    scale = np.sqrt(step / pd.Timedelta(minutes=1))
    # ~0.06% per minute, ~0.45% per hour: crypto-like.
    sigma = 0.0006 * scale * np.exp(0.35 * _smoothed_noise(rng, n, 240) + 0.25 * _smoothed_noise(rng, n, 5000) - 0.1)
    # Regimes: a drift lasting ~20,000 bars that moves the price by ~+-10% on its own.
    drift = 0.1 / 20_000 * scale ** 2 * _smoothed_noise(rng, n, 20_000)
    shocks = rng.standard_t(5.0, n) * np.sqrt(3.0 / 5.0)
    path = np.cumsum(drift + sigma * shocks)
    # Subtracting most of a slow trailing mean keeps short-term moves intact but stops
    # a million bars from wandering to absurd prices (the long run keeps ~30% of the walk).
    path -= 0.7 * _trailing_mean(path, 30_000)

    log_close = np.log(start_price) + path
    log_open = np.concatenate([[np.log(start_price)], log_close[:-1]])
    move = log_close - log_open
    spread_hi = np.sqrt(move ** 2 - 2 * sigma ** 2 * np.log(rng.random(n)))
    spread_lo = np.sqrt(move ** 2 - 2 * sigma ** 2 * np.log(rng.random(n)))
    volume = 25.0 * scale ** 2 * (sigma / sigma.mean()) ** 1.3 * (1 + 200 * np.abs(move) / scale) \
        * np.exp(rng.normal(0.0, 0.35, n))

    values = np.column_stack([
        np.exp(log_open),
        np.exp(log_open + (move + spread_hi) / 2),
        np.exp(log_open + (move - spread_lo) / 2),
        np.exp(log_close),
        volume,
    ])
    values[0, 0] = start_price  # exactly, not exp(log(start_price))
    # exp() of the bridge extremes can round a hair inside open/close; clamp so OHLC holds exactly.
    values[:, 1] = np.maximum(values[:, 1], np.maximum(values[:, 0], values[:, 3]))
    values[:, 2] = np.minimum(values[:, 2], np.minimum(values[:, 0], values[:, 3]))
    return make_frame(index, values, source=label, timeframe=infer_timeframe(index))
