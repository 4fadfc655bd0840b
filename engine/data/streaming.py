"""Column-wise candle readers: the low-memory path for the usual files.

A million bars are 48 MB of numbers; pandas' whole-table readers peak at several
times that. These readers take Parquet one column at a time and CSV in chunks of rows,
writing straight into the frame's final storage. They only handle the common shapes
and return None for anything else, so :mod:`engine.data.loader` can hand the file to
the whole-table path that words every problem.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from engine.data.frame import CANDLE_COLUMNS, PRICE_COLUMNS, frame_from_block, index_from_ns
from engine.data.timestamps import iso_to_ns, parse_timestamps, scaled_to_ns
from engine.data.validate import first_problem, raise_first, row_problems

_UNNAMED = re.compile(r"^(unnamed: ?0|index|)$")


def _sniff_separator(path: Path) -> str:
    """Comma unless the header clearly uses semicolons or tabs (spreadsheet exports)."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
        header = fh.readline()
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] > counts[","] else ","


# Each reader returns the finished frame, raises DataError for a problem it can word
# exactly as the whole-table path would (prices, order, duplicates: messages built
# from the same numbers), or returns None to hand the file to the whole-table path.

_CHUNK_ROWS = 1 << 15  # rows per CSV chunk or Parquet batch (larger ones cost memory, not speed)
_NUMERIC_KINDS = "iuf"
_NS_PER_UNIT = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}


def _timestamp_label(by_key: dict[str, object], labels: list) -> object | None:
    """The timestamp column's label as :func:`_timestamp_column` would choose it, or
    None (also for split date and time columns, which only the whole-table path joins)."""
    for key in ("timestamp", "datetime"):
        if key in by_key:
            return by_key[key]
    if "date" in by_key:
        return None if "time" in by_key else by_key["date"]
    if "time" in by_key:
        return by_key["time"]
    first = str(labels[0]).strip().lower() if labels else None
    if first is not None and _UNNAMED.match(first) and first not in CANDLE_COLUMNS:
        return labels[0]
    return None


def _column_labels(labels: list) -> tuple[object, dict[str, object]] | None:
    """The timestamp label and each candle column's label, or None when a column is
    missing or the timestamp needs the whole-table path."""
    by_key: dict[str, object] = {}
    for label in labels:
        by_key.setdefault(str(label).strip().lower(), label)
    found = {c: by_key[c] for c in CANDLE_COLUMNS if c in by_key}
    timestamp = _timestamp_label(by_key, labels)
    if timestamp is None or any(c not in found for c in PRICE_COLUMNS):
        return None
    return timestamp, found


def _finish(ts_ns: np.ndarray, block: np.ndarray, name: str, source: str,
            locate: Callable[[int], str]) -> pd.DataFrame:
    raise_first(row_problems(ts_ns, dict(zip(CANDLE_COLUMNS, block))), name, locate)
    return frame_from_block(index_from_ns(ts_ns), block, source=source)


def _epochs(numbers: np.ndarray) -> np.ndarray | None:
    """ns for a numeric timestamp column, or None if any cell is a problem (the whole-
    table path words those from the column as it reads it)."""
    ns, problems = parse_timestamps(pd.Series(numbers, copy=False))
    return None if first_problem(problems) is not None else ns


def _parquet_labels(schema) -> list[tuple[object, str]] | None:
    """(label, Parquet field) for each column of the table ``pd.read_parquet`` plus
    :func:`_read_parquet` would give, in order; None for layouts left to them."""
    names = list(schema.names)
    if len(set(names)) != len(names):
        return None
    meta = schema.pandas_metadata
    if not meta:
        return [(field, field) for field in names]
    levels = meta.get("column_indexes") or []
    if len(levels) > 1 or any(level.get("pandas_type") not in ("unicode", "string", "empty") for level in levels):
        return None
    entries = {entry.get("field_name"): entry for entry in meta.get("columns") or []}
    index: list[tuple[object, str]] = []
    for item in meta.get("index_columns") or []:
        if isinstance(item, dict):  # a RangeIndex, stored as metadata only
            if item.get("name") is not None:
                return None
            continue
        entry = entries.get(item)
        if item not in names or entry is None or not isinstance(entry.get("name"), (str, type(None))):
            return None
        index.append((entry["name"] if entry["name"] is not None else "", item))
    if len(index) > 1:
        return None
    data = [(field, field) for field in names if all(field != f for _, f in index)]
    if any(field in entries and entries[field].get("name") != field for field, _ in data) or \
            any(label in {f for f, _ in data} for label, _ in index):
        return None
    return index + data


def _parquet_column(pf, field: str, out: np.ndarray) -> bool:
    """Read one column into ``out`` batch by batch (nulls become NaN); False if it is
    not a plain number column."""
    position = 0
    for batch in pf.iter_batches(batch_size=_CHUNK_ROWS, columns=[field], use_threads=False):
        if batch.num_columns != 1:
            return False
        values = batch.column(0).to_numpy(zero_copy_only=False)
        if values.dtype.kind not in _NUMERIC_KINDS or values.dtype == np.float16:
            return False
        out[position:position + len(values)] = values
        position += len(values)
    return position == len(out)


def _parquet_timestamps(pf, field: str, n: int) -> np.ndarray | None:
    import pyarrow as pa

    kind = pf.schema_arrow.field(field).type
    if pa.types.is_timestamp(kind):
        raw = np.empty(n, dtype=np.int64)
        position = 0
        for batch in pf.iter_batches(batch_size=_CHUNK_ROWS, columns=[field], use_threads=False):
            column = batch.column(0)
            if batch.num_columns != 1 or column.null_count:
                return None
            raw[position:position + len(column)] = column.to_numpy().view(np.int64)
            position += len(column)
        if position != n:
            return None
        ns, out_of_range = scaled_to_ns(raw, _NS_PER_UNIT[kind.unit])
        return None if out_of_range.any() else ns
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return iso_to_ns(pf.read(columns=[field], use_threads=False).column(0))
    numbers = np.empty(n, dtype=np.float64)
    return _epochs(numbers) if _parquet_column(pf, field, numbers) else None


def _load_parquet(path: Path, name: str, source: str) -> pd.DataFrame | None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        # Streamed reads (a 1 MB buffer, no pre-buffering), no threads, one column and
        # one batch at a time: Arrow holds a batch of one column, never the table
        # (pd.read_parquet holds the whole table and the frame built from it at once).
        pf = pq.ParquetFile(path, buffer_size=1 << 20, pre_buffer=False)
    except (OSError, ValueError, NotImplementedError, pa.ArrowException):
        return None
    with pf:
        try:
            labels = _parquet_labels(pf.schema_arrow)
            n = pf.metadata.num_rows
            chosen = _column_labels([label for label, _ in labels]) if labels and n else None
            if chosen is None:
                return None
            fields = dict(labels)
            timestamp, found = chosen
            block = np.empty((len(CANDLE_COLUMNS), n), dtype=np.float64)
            for column, row in zip(CANDLE_COLUMNS, block):
                if column not in found:
                    row[:] = 0.0
                elif not _parquet_column(pf, fields[found[column]], row):
                    return None
            ts_ns = _parquet_timestamps(pf, fields[timestamp], n)
        except (OSError, ValueError, TypeError, KeyError, NotImplementedError, pa.ArrowException):
            return None
    if ts_ns is None:
        return None
    return _finish(ts_ns, block, name, source, lambda i: f"row {i + 1}")


class _Rows:
    """The candle block and the timestamps of a CSV read in chunks. Room is reserved
    for an estimate of the row count (untouched rows cost address space, not memory)
    and grown if the estimate falls short."""

    def __init__(self, capacity: int) -> None:
        self.block = np.empty((len(CANDLE_COLUMNS), capacity), dtype=np.float64)
        self.stamps: np.ndarray | None = None
        self.size = 0

    def make_room(self, rows: int, stamp_dtype: np.dtype) -> None:
        capacity = self.block.shape[1]
        if self.stamps is None:
            self.stamps = np.empty(capacity, dtype=stamp_dtype)
        if self.size + rows > capacity:
            capacity = max(self.size + rows, capacity * 3 // 2)
            block = np.empty((len(CANDLE_COLUMNS), capacity), dtype=np.float64)
            block[:, :self.size] = self.block[:, :self.size]
            stamps = np.empty(capacity, dtype=self.stamps.dtype)
            stamps[:self.size] = self.stamps[:self.size]
            self.block, self.stamps = block, stamps


def _csv_capacity(path: Path) -> int:
    """Rows to reserve: the (uncompressed) size over the mean line length of the first
    MB, plus a margin."""
    gz = path.name.lower().endswith(".gz")
    with (gzip.open if gz else open)(path, "rb") as fh:
        head = fh.read(1 << 20)
    size = path.stat().st_size
    if gz:
        with open(path, "rb") as fh:  # the gzip trailer: uncompressed size modulo 4 GiB
            fh.seek(-4, 2)
            size = max(int.from_bytes(fh.read(4), "little"), len(head))
    return int(size / max(1, len(head)) * (head.count(b"\n") + 1) * 1.05) + _CHUNK_ROWS


def _csv_numbers(series: pd.Series) -> np.ndarray | None:
    """A chunk of a price column as parsed numbers, or None if it holds anything else
    (or integers too large for float64 to hold exactly, which the whole-table path may
    parse differently)."""
    values = series.to_numpy()
    if values.dtype == np.float64:
        return values
    if values.dtype == np.int64 and (not len(values) or (values.min() > -2 ** 53 and values.max() < 2 ** 53)):
        return values
    return None


def _load_csv(path: Path, name: str, source: str) -> pd.DataFrame | None:
    try:
        sep = _sniff_separator(path)
        capacity = _csv_capacity(path)
        reader = pd.read_csv(path, sep=sep, skip_blank_lines=False, skipinitialspace=True,
                             encoding="utf-8-sig", chunksize=_CHUNK_ROWS)
    except Exception:  # any trouble: the whole-table path reads the file again and words the error
        return None
    rows = _Rows(capacity)
    blank: list[np.ndarray] = []  # positions of blank lines among the rows after the header
    chosen = None
    kind = ""
    epoch_kinds: set[str] = set()
    inexact = False
    seen = 0
    with reader:
        while True:
            try:
                chunk = next(reader)
            except StopIteration:
                break
            except Exception:  # as above
                return None
            if chosen is None:
                chosen = _column_labels(list(chunk.columns))
                if chosen is None:
                    return None
                timestamp, found = chosen
                extra = len(chunk.columns) > len({timestamp, *found.values()})
            first, seen = seen, seen + len(chunk)
            stamps = chunk[timestamp]
            if stamps.hasnans:
                # Blank lines are rows of NaN: dropped, their positions kept for line numbers.
                # Whether a line is blank depends on every column as pandas reads the whole
                # file, and an extra column read whole can differ from its chunks (integers
                # past int64 turn its empty cells into "" text), so with extra columns blank
                # lines are left to the whole-table path.
                empty = chunk.isna().all(axis=1).to_numpy()
                if empty.any() and extra:
                    return None
                if empty.any():
                    blank.append(first + np.flatnonzero(empty))
                    chunk = chunk.loc[~empty]
                    stamps = chunk[timestamp]
                if stamps.hasnans:
                    return None
            if not len(chunk):
                continue
            if isinstance(stamps.dtype, pd.StringDtype):
                chunk_kind, values = "text", iso_to_ns(stamps)
            elif stamps.dtype.kind in "if":
                chunk_kind, values = "epoch", stamps.to_numpy()
                epoch_kinds.add(values.dtype.kind)
                inexact = inexact or _csv_numbers(stamps) is None
                if inexact and len(epoch_kinds) > 1:
                    # Integers past 2**53 in some chunks and decimals in others: read as one
                    # float column they may round differently than chunk by chunk.
                    return None
            else:
                return None
            if values is None or kind not in ("", chunk_kind):
                return None
            kind = chunk_kind
            rows.make_room(len(chunk), np.dtype(np.float64) if kind == "epoch" else values.dtype)
            at, end = rows.size, rows.size + len(chunk)
            rows.stamps[at:end] = values
            for column, row in zip(CANDLE_COLUMNS, rows.block):
                if column not in found:
                    row[at:end] = 0.0
                    continue
                numbers = _csv_numbers(chunk[found[column]])
                if numbers is None:
                    return None
                row[at:end] = numbers
            rows.size = end
    n = rows.size
    if not n:
        return None
    block, stamps = rows.block[:, :n], rows.stamps[:n]
    del rows
    ts_ns = _epochs(stamps) if kind == "epoch" else stamps
    if ts_ns is None:
        return None
    if blank:
        # Data row i sits after the blank lines b with b - (blank lines before b) <= i.
        skipped = np.concatenate(blank)
        skipped -= np.arange(len(skipped))
        return _finish(ts_ns, block, name, source,
                       lambda i: f"line {i + int(np.searchsorted(skipped, i, side='right')) + 2}")
    return _finish(ts_ns, block, name, source, lambda i: f"line {i + 2}")
