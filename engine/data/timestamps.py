"""Turn a column of timestamps, in whatever shape traders export them, into UTC nanoseconds.

Accepted: datetime columns (naive = UTC, aware converted), ISO 8601 text (naive =
UTC, offsets converted), epoch seconds / milliseconds / microseconds / nanoseconds
(the unit is detected from the magnitude: today is ~1.7e9 s, ~1.7e12 ms). Bad cells
do not raise here: they come back as NaT plus a :class:`RowProblem`, so the loader
can report whichever problem in the file comes first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.data.validate import NAT, RowProblem

# Epoch values before 1971 are almost always row numbers, not dates.
_EARLIEST_NS = pd.Timestamp("1971-01-01").value
_LATEST_NS = pd.Timestamp("2262-01-01").value  # the edge of datetime64[ns]
_NS_PER_UNIT = {"s": 1e9, "ms": 1e6, "us": 1e3, "ns": 1.0}
_EXPECTED = "expected ISO 8601 like 2024-01-31 13:00, or epoch seconds or milliseconds"


def _epoch_unit(numbers: np.ndarray) -> str:
    finite = numbers[np.isfinite(numbers)]
    magnitude = float(np.median(np.abs(finite))) if finite.size else 0.0
    for unit, upper in (("s", 1e11), ("ms", 1e14), ("us", 1e17)):
        if magnitude < upper:
            return unit
    return "ns"


def _datetimes_to_ns(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """int64 ns (NAT where missing) and a mask of dates outside the ns range."""
    stamps = pd.DatetimeIndex(values)
    stamps = stamps.tz_localize("UTC") if stamps.tz is None else stamps.tz_convert("UTC")
    unit_ns = _NS_PER_UNIT.get(stamps.unit, 1.0)
    raw = stamps.asi8
    missing = stamps.isna()
    approx = raw.astype(np.float64) * unit_ns
    out_of_range = ~missing & ((approx < -9.2e18) | (approx >= _LATEST_NS))
    ns = np.full(len(raw), NAT, dtype=np.int64)
    ok = ~missing & ~out_of_range
    ns[ok] = raw[ok] * int(unit_ns)
    return ns, out_of_range


def _epochs_to_ns(numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int64 ns (NAT where missing or implausible) and a mask of implausible values."""
    unit = _epoch_unit(numbers)
    finite = np.isfinite(numbers)
    approx = np.where(finite, numbers, 0.0) * _NS_PER_UNIT[unit]
    implausible = finite & ((approx < _EARLIEST_NS) | (approx >= _LATEST_NS))
    usable = np.where(finite & ~implausible, numbers, np.nan)
    stamps = pd.to_datetime(usable, unit=unit, utc=True)
    ns, _ = _datetimes_to_ns(pd.Series(stamps))
    return ns, implausible


def _mostly_numbers(text: pd.Series) -> bool:
    """Whether a text column holds epoch numbers, judged from a sample (parsing a
    million strings as numbers just to learn they are dates would double the load time)."""
    sample = text.iloc[:: max(1, len(text) // 1000)]
    numbers = pd.to_numeric(sample, errors="coerce")
    return bool(numbers.notna().sum() > len(sample) / 2)


def parse_timestamps(column: pd.Series) -> tuple[np.ndarray, list[RowProblem]]:
    """UTC int64 nanoseconds for each cell (NAT where bad) and the problems found."""
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        ns, out_of_range = _datetimes_to_ns(column)
        return ns, [RowProblem(column.isna().to_numpy(), lambda i: "timestamp is empty"),
                    RowProblem(out_of_range, lambda i: f"timestamp {column.iloc[i]} is out of range")]

    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
        numbers = column.to_numpy(dtype=np.float64, na_value=np.nan)
        empty = np.isnan(numbers)
        unparsed = np.isinf(numbers)
    else:
        text = column.astype("str").str.strip()
        empty = (column.isna() | (text == "")).to_numpy()
        if _mostly_numbers(text[~empty]):
            numbers = pd.to_numeric(text.where(~empty), errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            # Mostly text: parse as ISO 8601; the odd number among dates is just unparseable.
            parsed = pd.to_datetime(text.where(~empty), utc=True, format="ISO8601", errors="coerce")
            ns, out_of_range = _datetimes_to_ns(parsed)
            unparsed = ~empty & (ns == NAT) & ~out_of_range
            return ns, [
                RowProblem(empty, lambda i: "timestamp is empty"),
                RowProblem(unparsed, lambda i: f"cannot parse timestamp {str(column.iloc[i]).strip()!r} ({_EXPECTED})"),
                RowProblem(out_of_range, lambda i: f"timestamp {str(column.iloc[i]).strip()!r} is out of range"),
            ]
        unparsed = ~empty & ~np.isfinite(numbers)

    ns, implausible = _epochs_to_ns(numbers)
    return ns, [
        RowProblem(empty, lambda i: "timestamp is empty"),
        RowProblem(unparsed, lambda i: f"cannot parse timestamp {str(column.iloc[i]).strip()!r} ({_EXPECTED})"),
        RowProblem(implausible, lambda i: f"timestamp {column.iloc[i]} is not a plausible epoch time "
                                          f"(before 1971 or after 2262; is it a row number?)"),
    ]
