"""Read candle files (CSV, gzipped CSV, Parquet) in the shapes traders actually have.

Exports from exchanges, brokers, pandas and spreadsheets disagree on everything but
the numbers: the timestamp column's name (or no name at all), text vs epoch times,
letter case, separators, extra columns. This module finds the five columns and the
timestamp in any of those shapes, then hands the rows to the shared validation so a
bad file fails with one line naming the file, the line (CSV) or row (Parquet) and
the problem. Loading never writes anything.

Memory: a million bars are 48 MB of numbers, and loading should not cost much more.
The usual files (numeric price columns; a datetime, epoch or fixed-layout ISO 8601
timestamp column) take a column-wise path: Parquet is read one column at a time,
CSV in chunks of rows, each written straight into the frame's final storage, so the
peak is the frame plus a few MB of scratch. Anything else (text in a number column,
bad or missing timestamps, split date and time columns, blank timestamp cells, an
unreadable file ...) goes through pandas' whole-table readers below, which produce
the same frame or name the first bad row: the column-wise path never decides what
an unusual file means, it only hands it over.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from engine.data import parsed_cache
from engine.data.frame import CANDLE_COLUMNS, PRICE_COLUMNS, frame_from_block, index_from_ns
from engine.data.timestamps import parse_timestamps
from engine.data.validate import as_float, raise_first, row_problems
from engine.data.streaming import _UNNAMED, _load_csv, _load_parquet, _sniff_separator
from engine import source_checks
from engine.errors import DataError

SUPPORTED = source_checks.SUPPORTED

_TIME_OF_DAY = re.compile(r"^\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] or type(exc).__name__




def _read_csv(path: Path) -> tuple[pd.DataFrame, np.ndarray]:
    """The raw table and, for each of its rows, the file line it came from."""
    name = path.name
    try:
        sep = _sniff_separator(path)
        raw = pd.read_csv(path, sep=sep, skip_blank_lines=False, skipinitialspace=True,
                          low_memory=False, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise DataError(f"{name}: file is empty") from None
    except pd.errors.ParserError as exc:
        raise DataError(f"{name}: not a readable CSV file ({_one_line(exc)})") from None
    except UnicodeDecodeError:
        raise DataError(f"{name}: not a text CSV file (it is not UTF-8 text)") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{name}: cannot read the file ({_one_line(exc)})") from None
    # Blank lines are kept by the reader so row positions map to file lines; they are
    # dropped here, after the mapping is taken. The header is line 1.
    lines = np.arange(2, len(raw) + 2)
    if len(raw):
        blank = raw.isna().all(axis=1).to_numpy()
        if blank.any():
            raw = raw.loc[~blank].reset_index(drop=True)
            lines = lines[~blank]
    return raw, lines


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow as pa

    try:
        raw = pd.read_parquet(path)
    except (OSError, ValueError, NotImplementedError, pa.ArrowException) as exc:
        raise DataError(f"{path.name}: not a readable Parquet file ({_one_line(exc)})") from None
    # A datetime (or any meaningful) index becomes a column like any other, so one
    # column search serves both layouts; an unnamed one counts as "the first column".
    if not isinstance(raw.index, pd.RangeIndex) or raw.index.name is not None:
        raw = raw.reset_index(names=[n if n is not None else "" for n in raw.index.names])
    return raw


def _find_columns(raw: pd.DataFrame, name: str, where: str) -> tuple[pd.Series, dict[str, object]]:
    """The timestamp series and the label of each candle column in ``raw``."""
    labels = list(raw.columns)
    by_key: dict[str, object] = {}
    for label in labels:
        by_key.setdefault(str(label).strip().lower(), label)

    found = {c: by_key[c] for c in CANDLE_COLUMNS if c in by_key}
    missing = [c for c in PRICE_COLUMNS if c not in found]
    timestamp = _timestamp_column(raw, by_key, labels)
    if timestamp is None:
        missing.insert(0, "timestamp")
    if missing:
        shown = ", ".join(str(label) for label in labels) or "none"
        hint = " (a timestamp column is named timestamp, date, datetime or time, or is the unnamed first column)" \
            if timestamp is None else ""
        raise DataError(f"{name}{where}: missing column(s) {', '.join(missing)}; found: {shown}{hint}")
    return timestamp, found


def _timestamp_column(raw: pd.DataFrame, by_key: dict[str, object], labels: list) -> pd.Series | None:
    for key in ("timestamp", "datetime"):
        if key in by_key:
            return raw[by_key[key]]
    if "date" in by_key:
        date = raw[by_key["date"]]
        if "time" in by_key:
            time = raw[by_key["time"]]
            sample = time.dropna().head(1).astype("str").str.strip()
            # Split Date + Time columns (MetaTrader-style exports) are joined back up.
            if len(sample) and _TIME_OF_DAY.match(sample.iloc[0]):
                return date.astype("str").str.strip() + " " + time.astype("str").str.strip()
        return date
    if "time" in by_key:
        return raw[by_key["time"]]
    if labels and _UNNAMED.match(str(labels[0]).strip().lower()) and \
            str(labels[0]).strip().lower() not in CANDLE_COLUMNS:
        return raw[labels[0]]
    return None


def _to_frame(raw: pd.DataFrame, name: str, source: str, locate: Callable[[int], str], where: str,
              empty_hint: str) -> pd.DataFrame:
    if len(raw) == 0:
        raise DataError(f"{name}: no candles ({empty_hint})")
    timestamp, labels = _find_columns(raw, name, where)
    ts_ns, problems = parse_timestamps(timestamp)
    del timestamp
    block = np.empty((len(CANDLE_COLUMNS), len(raw)), dtype=np.float64)
    raws: dict[str, pd.Series] = {}
    not_number: dict[str, np.ndarray] = {}
    for column, row in zip(CANDLE_COLUMNS, block):
        if column not in labels:  # only volume can be absent: price columns were checked
            row[:] = 0.0
            continue
        series = raw[labels[column]]
        row[:], not_number[column] = as_float(series)
        raws[column] = series
    problems = problems + row_problems(ts_ns, dict(zip(CANDLE_COLUMNS, block)), raws, not_number)
    raise_first(problems, name, locate)
    return frame_from_block(index_from_ns(ts_ns), block, source=source)


# -- the column-wise path -------------------------------------------------------------
#
def load_candles(path: str | Path) -> pd.DataFrame:
    """Read a CSV (.csv, .csv.gz) or Parquet (.parquet, .pq) candle file into a canonical frame.

    Raises DataError with one line naming the file, the line (CSV, header = line 1)
    or row (Parquet, 1-based) and the first problem found.
    """
    p, kind = source_checks.check_candle_file(path)  # the form asks the same as the path is typed
    name = p.name or str(p)

    if kind == "csv":
        frame = parsed_cache.cached_frame(p, str(p))
        if frame is None:
            frame = _load_csv(p, name, str(p))
            if frame is None:
                raw, lines = _read_csv(p)
                frame = _to_frame(raw, name, str(p), lambda i: f"line {lines[i]}", " line 1",
                                  "the file has a header but no rows")
            parsed_cache.remember(p, frame)
        return frame
    frame = _load_parquet(p, name, str(p))
    if frame is not None:
        return frame
    raw = _read_parquet(p)
    return _to_frame(raw, name, str(p), lambda i: f"row {i + 1}", "", "the file has no rows")


__all__ = ["load_candles", "SUPPORTED"]
