"""The canonical candle frame: its columns, its index and its timeframe label.

Every candle source (file, embedded sample, synthetic generator, exchange, cache)
ends in :func:`make_frame`, so the backtest, the replay and the live session can
all rely on one shape: a ``datetime64[ns, UTC]`` index named ``timestamp`` and
float64 columns ``open, high, low, close, volume`` in that order.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

CANDLE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "volume")
PRICE_COLUMNS: tuple[str, ...] = CANDLE_COLUMNS[:4]


def _label(seconds: int) -> str:
    day = 86_400
    if seconds % (7 * day) == 0:
        return f"{seconds // (7 * day)}w"
    if seconds % day == 0:
        return f"{seconds // day}d"
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"


def infer_timeframe(data: pd.DataFrame | pd.DatetimeIndex) -> str:
    """The timeframe label ("1m", "1h", "1d", ...) from the median bar spacing.

    The median, not the minimum, so a few missing or irregular bars (exchange
    outages, weekends in daily stock data) do not change the answer. "" when
    there are fewer than two bars or the spacing is not a whole number of seconds.
    """
    index = data.index if isinstance(data, pd.DataFrame) else data
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 2:
        return ""
    ns = (index if index.unit == "ns" else index.as_unit("ns")).asi8
    if index.hasnans:
        ns = ns[ns != np.iinfo(np.int64).min]
    diffs = np.diff(ns)  # a fresh array: filtered and sorted in place below
    if not (diffs > 0).all():
        diffs = diffs[diffs > 0]
    if diffs.size == 0:
        return ""
    median_ns = int(np.median(diffs, overwrite_input=True))
    if median_ns % 1_000_000_000:
        return ""
    seconds = median_ns // 1_000_000_000
    if 28 * 86_400 <= seconds <= 31 * 86_400:
        # Calendar months vary in length, so their median is never a whole number of weeks.
        return "1M"
    return _label(seconds)


def utc_index(values) -> pd.DatetimeIndex:
    """A ``datetime64[ns, UTC]`` index named ``timestamp``; naive input is taken as UTC."""
    index = pd.DatetimeIndex(values)
    index = index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")
    if index.unit != "ns":  # as_unit copies even when the unit is already right
        index = index.as_unit("ns")
    return index.rename("timestamp")


def index_from_ns(ns: np.ndarray) -> pd.DatetimeIndex:
    """The canonical index over int64 UTC nanoseconds, using ``ns`` as its storage
    (no copy: the caller hands the array over and must not change it afterwards)."""
    naive = pd.DatetimeIndex(np.asarray(ns, dtype=np.int64).view("datetime64[ns]"), copy=False)
    return naive.view("datetime64[ns, UTC]").rename("timestamp")


def make_frame(index, columns: Mapping[str, np.ndarray] | np.ndarray, *, source: str,
               symbol: str = "", timeframe: str | None = None) -> pd.DataFrame:
    """Build a canonical candle frame from an index and the five columns' values.

    ``columns`` is either a mapping with the five names or an ``(n, 5)`` array in
    CANDLE_COLUMNS order. ``timeframe=None`` infers it from the index. No checks:
    callers validate with :func:`engine.data.validate.validate_candles`.
    """
    n = len(index)
    # Written straight into pandas' own (columns, rows) layout: no stacking, no second copy.
    block = np.empty((len(CANDLE_COLUMNS), n), dtype=np.float64)
    if isinstance(columns, Mapping):
        for row, name in zip(block, CANDLE_COLUMNS) if n else ():
            values = np.asarray(columns[name], dtype=np.float64)
            if values.shape != (n,):
                raise ValueError(f"column {name} has shape {values.shape}, the index has {n} rows")
            row[:] = values
    else:
        values = np.asarray(columns, dtype=np.float64).reshape(-1, len(CANDLE_COLUMNS))
        if len(values) != n:
            raise ValueError(f"{len(values)} rows of values for an index of {n} rows")
        block.T[:] = values
    return frame_from_block(index, block, source=source, symbol=symbol, timeframe=timeframe)


def frame_from_block(index, block: np.ndarray, *, source: str, symbol: str = "",
                     timeframe: str | None = None) -> pd.DataFrame:
    """A canonical candle frame that uses ``block`` as its storage, without a copy.

    ``block`` is a float64 ``(5, n)`` array whose rows are the five columns in
    CANDLE_COLUMNS order (pandas' own layout for a frame of one dtype), so each
    column is a contiguous row and ``frame[name].to_numpy()`` is free. The frame
    owns ``block`` from here on: callers must not keep writing to it.
    """
    frame = pd.DataFrame(block.T, index=utc_index(index), columns=list(CANDLE_COLUMNS), copy=False)
    frame.columns.name = None
    frame.attrs.update(source=source, symbol=symbol,
                       timeframe=infer_timeframe(frame) if timeframe is None else timeframe)
    return frame


def empty_frame(*, source: str = "", symbol: str = "", timeframe: str = "") -> pd.DataFrame:
    """A canonical frame with no rows (the shape callers can still concatenate onto)."""
    return make_frame(pd.DatetimeIndex([], tz="UTC"), np.empty((0, 5)), source=source,
                      symbol=symbol, timeframe=timeframe)
