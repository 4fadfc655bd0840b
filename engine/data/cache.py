"""Local Parquet cache of downloaded candles, one file per exchange / symbol / timeframe.

Downloading years of one-minute candles takes minutes and eats rate limit, so every
download lands here and the next run asks the exchange only for what is missing.
Each file records which time ranges it has fully covered (not just which candles it
holds: an exchange outage or a pre-listing period has no candles but is still
"known"). Writes go to a temporary file that replaces the old one in a single
``os.replace``, so a crash leaves either the old cache or the new one, never half
of one; a cache that cannot be read is ignored and rebuilt.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from engine.data.frame import CANDLE_COLUMNS, make_frame
from engine.data.validate import validate_candles
from engine.errors import DataError

ENV_VAR = "ATB_TUI_CACHE_DIR"
_COVERAGE_KEY = b"atb_tui.coverage"
_FORMAT_KEY = b"atb_tui.format"
_FORMAT = b"candles-v1"

Interval = tuple[int, int]  # [start, end) in epoch milliseconds


class CachedCandles(NamedTuple):
    frame: pd.DataFrame
    coverage: list[Interval]


def default_cache_dir() -> Path:
    """``$ATB_TUI_CACHE_DIR`` if set, else the user cache dir's ``candles`` folder."""
    override = os.environ.get(ENV_VAR, "").strip()
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("atb-tui")) / "candles"


def _safe(part: str) -> str:
    # File names must survive Windows and case-insensitive file systems: "1M" (month)
    # and "1m" (minute) would otherwise be the same file on macOS.
    part = part.replace("M", "mo") if re.fullmatch(r"\d+M", part) else part
    return re.sub(r"[^A-Za-z0-9._-]+", "_", part.replace("/", "-")).strip("._") or "_"


def cache_path(cache_dir: str | Path, exchange_id: str, symbol: str, timeframe: str) -> Path:
    return Path(cache_dir) / _safe(exchange_id.lower()) / f"{_safe(symbol)}__{_safe(timeframe)}.parquet"


def merge_intervals(intervals: list[Interval]) -> list[Interval]:
    """Sorted, non-overlapping intervals; touching ones are joined."""
    merged: list[list[int]] = []
    for start, end in sorted((int(s), int(e)) for s, e in intervals if e > s):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def missing_intervals(coverage: list[Interval], start: int, end: int) -> list[Interval]:
    """The parts of [start, end) that ``coverage`` does not hold."""
    gaps: list[Interval] = []
    cursor = start
    for s, e in merge_intervals(coverage):
        if e <= cursor:
            continue
        if s >= end:
            break
        if s > cursor:
            gaps.append((cursor, s))
        cursor = max(cursor, e)
    if cursor < end:
        gaps.append((cursor, end))
    return gaps


def read_cache(path: Path, *, source: str = "", symbol: str = "", timeframe: str = "") -> CachedCandles | None:
    """The cached candles and their coverage, or None when absent or unusable."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not path.is_file():
        return None
    try:
        table = pq.read_table(path)
        meta = table.schema.metadata or {}
        if meta.get(_FORMAT_KEY) != _FORMAT:
            return None
        coverage = merge_intervals([tuple(x) for x in json.loads(meta[_COVERAGE_KEY])])
        ms = table.column("timestamp").to_numpy().astype(np.int64)
        columns = {c: table.column(c).to_numpy().astype(np.float64) for c in CANDLE_COLUMNS}
    except (OSError, ValueError, KeyError, TypeError, pa.ArrowException):
        return None
    frame = make_frame(pd.to_datetime(ms, unit="ms", utc=True), columns, source=source,
                       symbol=symbol, timeframe=timeframe)
    try:
        validate_candles(frame, f"cache file {path.name}")
    except DataError:
        return None  # a damaged cache costs a re-download, never a wrong backtest
    return CachedCandles(frame, coverage)


def write_cache(path: Path, frame: pd.DataFrame, coverage: list[Interval]) -> None:
    """Atomically replace ``path`` with ``frame`` and its coverage."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    ms = frame.index.as_unit("ms").asi8
    table = pa.table({"timestamp": pa.array(ms, type=pa.int64()),
                      **{c: pa.array(frame[c].to_numpy(dtype=np.float64)) for c in CANDLE_COLUMNS}})
    table = table.replace_schema_metadata({
        _FORMAT_KEY: _FORMAT,
        _COVERAGE_KEY: json.dumps([list(i) for i in merge_intervals(coverage)]).encode(),
    })
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            pq.write_table(table, fh, compression="zstd")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except OSError:
            pass
        raise
