"""Checks of a data source's typed fields that need no data: a timeframe's shape and
a candle file's existence and kind.

The loader and the downloader run them before any work, and the Backtest form runs
the same functions as the fields are typed, so a missing file or a timeframe like
"1 hour" is said at once, in the loader's words, not after Run. Kept free of pandas
(which :mod:`engine.data` imports) so the form can call them before its first frame.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

from engine.errors import DataError, InputError

CSV_SUFFIXES = (".csv", ".csv.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")
SUPPORTED = CSV_SUFFIXES + PARQUET_SUFFIXES

_UNIT_MS = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000,
            "M": 2_592_000_000, "y": 31_536_000_000}
_TIMEFRAME = re.compile(r"^\s*(\d+)\s*([smhdwMy])\s*$")


def timeframe_ms(timeframe: str) -> int:
    """Length of a ccxt-style timeframe ("1m", "4h", "1d", "1w", "1M") in milliseconds.

    Months and years are nominal (30 and 365 days): good enough for estimating how
    many candles a range holds, never used to place a candle.
    """
    m = _TIMEFRAME.match(timeframe or "")
    if not m or int(m.group(1)) <= 0:
        raise InputError(f"bad timeframe {timeframe!r} (use a number and a unit, like 1m, 15m, 1h, 4h, 1d, 1w)",
                         "timeframe")
    return int(m.group(1)) * _UNIT_MS[m.group(2)]


def file_kind(path: Path) -> str:
    """"csv" or "parquet", by the file's name; DataError for any other name."""
    name = path.name.lower()
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    suffix = "".join(path.suffixes[-2:])
    kind = f"file type {suffix!r}" if suffix else "file without an extension"
    raise DataError(f"{path.name}: unsupported {kind} (use .csv, .csv.gz, .parquet or .pq)", "path")


def check_candle_file(path: str | Path) -> tuple[Path, str]:
    """The file's path (``~`` expanded) and kind, once it is known to exist, to be a file
    of a supported type and not to be empty; DataError (field ``path``) otherwise."""
    p = Path(path).expanduser()
    name = p.name or str(p)
    if not str(path).strip():
        raise DataError("the path of a CSV or Parquet file is needed", "path")
    if not p.exists():
        raise DataError(f"{name}: file not found ({p.absolute()})", "path")
    if p.is_dir():
        raise DataError(f"{name}: is a folder, not a candle file ({p.absolute()})", "path")
    kind = file_kind(p)
    try:
        size = p.stat().st_size
    except OSError as exc:
        text = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise DataError(f"{name}: cannot read the file ({text})", "path") from None
    if size == 0:
        raise DataError(f"{name}: file is empty", "path")
    return p, kind


def candle_file_problem(path: str) -> Optional[str]:
    """What :func:`check_candle_file` would say, or None."""
    try:
        check_candle_file(path)
    except InputError as exc:
        return str(exc)
    return None
