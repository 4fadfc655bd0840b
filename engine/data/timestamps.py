"""Turn a column of timestamps, in whatever shape traders export them, into UTC nanoseconds.

Accepted: datetime columns (naive = UTC, aware converted), ISO 8601 text (naive =
UTC, offsets converted), epoch seconds / milliseconds / microseconds / nanoseconds
(the unit is detected from the magnitude: today is ~1.7e9 s, ~1.7e12 ms). Bad cells
do not raise here: they come back as NaT plus a :class:`RowProblem`, so the loader
can report whichever problem in the file comes first.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from engine.data.validate import NAT, RowProblem, no_rows

# Epoch values before 1971 are almost always row numbers, not dates.
_EARLIEST_NS = pd.Timestamp("1971-01-01").value
_LATEST_NS = pd.Timestamp("2262-01-01").value  # the edge of datetime64[ns]
_NS_PER_UNIT = {"s": 1e9, "ms": 1e6, "us": 1e3, "ns": 1.0}
_EXPECTED = "expected ISO 8601 like 2024-01-31 13:00, or epoch seconds or milliseconds"


def _epoch_unit(numbers: np.ndarray) -> str:
    magnitudes = np.abs(numbers)  # a fresh array, so the median may sort it in place
    finite = np.isfinite(magnitudes)
    if not finite.all():
        magnitudes = magnitudes[finite]
    del finite
    magnitude = float(np.median(magnitudes, overwrite_input=True)) if magnitudes.size else 0.0
    del magnitudes
    for unit, upper in (("s", 1e11), ("ms", 1e14), ("us", 1e17)):
        if magnitude < upper:
            return unit
    return "ns"


def scaled_to_ns(raw: np.ndarray, per_unit: int) -> tuple[np.ndarray, np.ndarray]:
    """int64 counts of ``per_unit`` ns (NAT = missing) as int64 ns, and a mask of the
    values outside the ns range (those become NAT too).

    The common case (nothing missing, everything in range) is decided from the
    minimum and maximum and costs one multiplication, or nothing at all for ns.
    """
    n = len(raw)
    if n == 0:
        return raw.astype(np.int64), no_rows(0)
    lo, hi = int(raw.min()), int(raw.max())
    if lo != NAT and float(lo) * per_unit >= -9.2e18 and float(hi) * per_unit < _LATEST_NS:
        return (raw if per_unit == 1 else raw * np.int64(per_unit)), no_rows(n)
    missing = raw == NAT
    approx = raw.astype(np.float64)
    approx *= per_unit
    out_of_range = ~missing & ((approx < -9.2e18) | (approx >= _LATEST_NS))
    del approx
    with np.errstate(over="ignore"):
        ns = raw * np.int64(per_unit)
    ns[missing | out_of_range] = NAT
    return ns, out_of_range


def _datetimes_to_ns(values) -> tuple[np.ndarray, np.ndarray]:
    """int64 ns (NAT where missing) and a mask of dates outside the ns range."""
    stamps = pd.DatetimeIndex(values)
    stamps = stamps.tz_localize("UTC") if stamps.tz is None else stamps.tz_convert("UTC")
    return scaled_to_ns(stamps.asi8, int(_NS_PER_UNIT.get(stamps.unit, 1.0)))


def _integral_epochs_to_ns(numbers: np.ndarray, unit: str) -> np.ndarray | None:
    """Exact int64 ns for whole epoch numbers that are all finite and plausible (what
    ``pd.to_datetime(numbers, unit=unit)`` gives for them), else None."""
    if unit == "ns" or not numbers.size:
        return None
    lo, hi = float(numbers.min()), float(numbers.max())  # NaN propagates: the test below fails
    per_unit = _NS_PER_UNIT[unit]
    if not (lo * per_unit >= _EARLIEST_NS and hi * per_unit < _LATEST_NS and max(-lo, hi) < 2.0 ** 53):
        return None
    whole = numbers.astype(np.int64)
    if not np.array_equal(whole, numbers):  # a fraction somewhere: let pandas round it
        return None
    whole *= np.int64(per_unit)
    return whole


def _epochs_to_ns(numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int64 ns (NAT where missing or implausible) and a mask of implausible values."""
    unit = _epoch_unit(numbers)
    ns = _integral_epochs_to_ns(numbers, unit)
    if ns is not None:
        return ns, no_rows(len(numbers))
    finite = np.isfinite(numbers)
    approx = np.where(finite, numbers, 0.0) * _NS_PER_UNIT[unit]
    implausible = finite & ((approx < _EARLIEST_NS) | (approx >= _LATEST_NS))
    del approx
    usable = np.where(finite & ~implausible, numbers, np.nan)
    stamps = pd.to_datetime(usable, unit=unit, utc=True)
    del usable
    ns, _ = _datetimes_to_ns(stamps)
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
        return ns, [RowProblem(lambda: column.isna().to_numpy(), lambda i: "timestamp is empty"),
                    RowProblem(out_of_range, lambda i: f"timestamp {column.iloc[i]} is out of range")]

    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
        numbers = column.to_numpy(dtype=np.float64, na_value=np.nan)
        empty: np.ndarray | Callable[[], np.ndarray] = lambda: np.isnan(numbers)
        unparsed: np.ndarray | Callable[[], np.ndarray] = lambda: np.isinf(numbers)
    else:
        ns = iso_to_ns(column)
        if ns is not None:  # one clean ISO 8601 layout throughout: nothing to report
            return ns, []
        text = column.astype("str").str.strip()
        empty = (column.isna() | (text == "")).to_numpy()
        if _mostly_numbers(text[~empty]):
            numbers = pd.to_numeric(text.where(~empty), errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            # Mostly text: parse as ISO 8601; the odd number among dates is just unparseable.
            parsed = pd.to_datetime(text.where(~empty), utc=True, format="ISO8601", errors="coerce")
            del text
            ns, out_of_range = _datetimes_to_ns(parsed)
            del parsed
            unparsed = ~empty & (ns == NAT) & ~out_of_range
            return ns, [
                RowProblem(empty, lambda i: "timestamp is empty"),
                RowProblem(unparsed, lambda i: f"cannot parse timestamp {str(column.iloc[i]).strip()!r} ({_EXPECTED})"),
                RowProblem(out_of_range, lambda i: f"timestamp {str(column.iloc[i]).strip()!r} is out of range"),
            ]
        del text
        unparsed = ~empty & ~np.isfinite(numbers)

    ns, implausible = _epochs_to_ns(numbers)
    return ns, [
        RowProblem(empty, lambda i: "timestamp is empty"),
        RowProblem(unparsed, lambda i: f"cannot parse timestamp {str(column.iloc[i]).strip()!r} ({_EXPECTED})"),
        RowProblem(implausible, lambda i: f"timestamp {column.iloc[i]} is not a plausible epoch time "
                                          f"(before 1971 or after 2262; is it a row number?)"),
    ]


# -- the fast path for ISO 8601 text ------------------------------------------------

# One cell of the layouts the fast path reads: date, optional time (minutes, seconds,
# 1-9 fraction digits) and an optional Z or +hh:mm offset after a time.
_ISO_LAYOUT = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?", re.ASCII)
_ISO_PIECE = 1 << 16  # rows parsed at a time, so the scratch arrays stay small
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
_NS_PER_S = 1_000_000_000


def iso_to_ns(values) -> np.ndarray | None:
    """UTC int64 ns for text timestamps that all share one fixed-width ISO 8601 layout
    (``2024-01-31``, ``2024-01-31 13:00``, ``2024-01-31T13:00:00.250Z``,
    ``2024-01-31 13:00:00+01:00``, ...), read straight from the Arrow text buffers.

    None for anything else (blanks, spaces, other widths or shapes, impossible or
    out-of-range dates, text not held by Arrow): the caller then parses with pandas,
    which also names the bad cells. Where this returns values they equal pandas'
    ``to_datetime(..., format="ISO8601", utc=True)``, without a Python string per cell.
    """
    arrow = _arrow_text(values)
    if arrow is None:
        return None
    out = np.empty(len(arrow), dtype=np.int64)
    pos = 0
    for chunk in arrow.chunks:
        for start in range(0, len(chunk), _ISO_PIECE):
            piece = chunk.slice(start, _ISO_PIECE)
            ns = _iso_piece(piece)
            if ns is None:
                return None
            out[pos:pos + len(piece)] = ns
            pos += len(piece)
    return out


def _arrow_text(values):
    """``values`` as a pyarrow ChunkedArray of (large) strings, without copying, or None."""
    if isinstance(values, pd.Series):
        dtype = values.dtype
        if not (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"):
            return None
        values = values.array
    import pyarrow as pa

    try:
        arrow = values.__arrow_array__() if hasattr(values, "__arrow_array__") else values
        if isinstance(arrow, pa.Array):
            arrow = pa.chunked_array([arrow])
    except (TypeError, ValueError, pa.ArrowException):
        return None
    if not isinstance(arrow, pa.ChunkedArray) or not (pa.types.is_string(arrow.type) or
                                                       pa.types.is_large_string(arrow.type)):
        return None
    return arrow


def _iso_piece(arr) -> np.ndarray | None:
    import pyarrow as pa

    n = len(arr)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    if arr.null_count:
        return None
    offset_type = np.dtype(np.int64 if pa.types.is_large_string(arr.type) else np.int32)
    _, offset_buffer, data_buffer = arr.buffers()
    offsets = np.frombuffer(offset_buffer, dtype=offset_type, count=n + 1, offset=arr.offset * offset_type.itemsize)
    first = int(offsets[0])
    width = int(offsets[1]) - first
    if not 10 <= width <= 35 or int(offsets[-1]) - first != n * width or \
            (n > 1 and not (np.diff(offsets) == width).all()):
        return None
    text = np.frombuffer(data_buffer, dtype=np.uint8, count=n * width, offset=first).reshape(n, width)
    sample = text[0].tobytes().decode("latin-1")
    layout = _ISO_LAYOUT.fullmatch(sample)
    if layout is None:
        return None

    # Every row must have digits where the first row has them and the same punctuation
    # elsewhere (the date/time separator may be a space or a T, the offset sign + or -).
    sign_at = layout.start(2) if layout.group(2) and layout.group(2) != "Z" else -1
    digits = [i for i, ch in enumerate(sample) if ch in "0123456789"]
    fixed = [i for i, ch in enumerate(sample) if ch not in "0123456789" and i not in (10, sign_at)]
    if ((text[:, digits] - np.uint8(48)) > 9).any():
        return None
    if (text[:, fixed] != np.frombuffer(sample.encode("latin-1"), dtype=np.uint8)[fixed]).any():
        return None
    if width > 10 and not np.isin(text[:, 10], (ord(" "), ord("T"))).all():
        return None
    if sign_at >= 0 and not np.isin(text[:, sign_at], (ord("+"), ord("-"))).all():
        return None

    def number(start: int, stop: int) -> np.ndarray:
        value = text[:, start].astype(np.int64) - 48
        for i in range(start + 1, stop):
            value *= 10
            value += text[:, i]
            value -= 48
        return value

    year, month, day = number(0, 4), number(5, 7), number(8, 10)
    if year.min() < 1700 or month.min() < 1 or month.max() > 12 or day.min() < 1:
        return None
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    if (day > _DAYS_IN_MONTH[month] + (leap & (month == 2))).any():
        return None
    seconds = _days_from_civil(year, month, day) * 86_400
    if width > 10:
        hour, minute = number(11, 13), number(14, 16)
        if hour.max() > 23 or minute.max() > 59:
            return None
        seconds += hour * 3600 + minute * 60
    if width > 16 and sample[16] == ":":
        second = number(17, 19)
        if second.max() > 59:
            return None
        seconds += second
    if sign_at >= 0:
        hours, minutes = number(sign_at + 1, sign_at + 3), number(sign_at + 4, sign_at + 6)
        if hours.max() > 14 or minutes.max() > 59:
            return None
        shift = hours * 3600 + minutes * 60
        seconds -= np.where(text[:, sign_at] == ord("-"), -shift, shift)
    if seconds.max() >= _LATEST_NS // _NS_PER_S:  # past the ns range (a fraction cannot cross it)
        return None
    ns = seconds * _NS_PER_S
    if layout.group(1):
        places = len(layout.group(1))
        ns += number(20, 20 + places) * 10 ** (9 - places)
    return ns


def _days_from_civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates (H. Hinnant's algorithm)."""
    year = year - (month <= 2)
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146_097 + day_of_era - 719_468
