"""Candle validation: find the first row we cannot trade on and say why, in one line.

A backtest over bad candles produces confident nonsense, so every source (file,
exchange, cache) passes through here. The checks are vectorised masks, one per
problem; the reported problem is the earliest offending row (ties go to the check
listed first), so fixing a file top to bottom works. Messages read
``<source> <where>: <problem>``, e.g. ``prices.csv line 17: high 99.5 is below low 100.2``.

Masks are built lazily, one at a time, and dropped as soon as they are scanned: a
million-row file then needs about one boolean mask of scratch memory, not thirty.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NamedTuple

import numpy as np
import pandas as pd

from engine.data.frame import CANDLE_COLUMNS, PRICE_COLUMNS
from engine.errors import DataError

NAT = np.iinfo(np.int64).min


class RowProblem(NamedTuple):
    """Rows with one kind of problem, and how to describe it for one row position.

    ``mask`` is a boolean array, or a function returning one: it is then computed
    only when the problem is checked, so masks never all exist at once.
    """

    mask: np.ndarray | Callable[[], np.ndarray]
    describe: Callable[[int], str]


def no_rows(n: int) -> np.ndarray:
    """An all-False mask of ``n`` rows that takes no memory (read-only)."""
    return np.broadcast_to(np.False_, (n,))


def fmt_number(value: float) -> str:
    """Shortest faithful text for a price: 99.5, 100, 16543.21 (never 1.6543e+04)."""
    if not np.isfinite(value):
        return str(value)
    return np.format_float_positional(float(value), trim="-")


def fmt_time(ns: int) -> str:
    ts = pd.Timestamp(int(ns), unit="ns", tz="UTC")
    return ts.strftime("%Y-%m-%d %H:%M:%S" + (".%f" if ts.microsecond else "")) + " UTC"


def first_problem(problems: Iterable[RowProblem]) -> tuple[int, str] | None:
    """The earliest row with any problem, and its description."""
    best_pos: int | None = None
    best: RowProblem | None = None
    for problem in problems:
        mask = problem.mask() if callable(problem.mask) else problem.mask
        # Only rows before the best so far can win, which keeps the scan short once
        # an early problem is known.
        if best_pos is not None:
            mask = mask[:best_pos]
        if mask.size and mask.any():
            best_pos, best = int(mask.argmax()), problem
        del mask
    if best is None or best_pos is None:
        return None
    return best_pos, best.describe(best_pos)


def raise_first(problems: Iterable[RowProblem], source: str, locate: Callable[[int], str]) -> None:
    found = first_problem(problems)
    if found is not None:
        pos, text = found
        raise DataError(f"{source} {locate(pos)}: {text}")


def as_float(values: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """float64 values, and a mask of entries that are present but not numbers.

    Non-numbers become NaN, so later checks see them as missing; the mask lets the
    caller report them as what they are. float64 input comes back as a (read-only)
    view, not a copy.
    """
    series = values if isinstance(values, pd.Series) else pd.Series(values, copy=False)
    if pd.api.types.is_bool_dtype(series.dtype):
        return np.full(len(series), np.nan), np.ones(len(series), dtype=bool)
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series.to_numpy(dtype=np.float64, na_value=np.nan), no_rows(len(series))
    numbers = pd.to_numeric(series, errors="coerce")
    present = series.notna().to_numpy()
    if pd.api.types.is_string_dtype(series.dtype) or series.dtype == object:
        # An all-blank cell is "missing", not "not a number".
        text = series.astype("str").str.strip()
        present = present & (text != "").to_numpy()
    out = numbers.to_numpy(dtype=np.float64, na_value=np.nan)
    return out, present & np.isnan(out)


def _value_problems(name: str, raw: pd.Series | None, values: np.ndarray, not_number: np.ndarray) -> list[RowProblem]:
    problems = []
    if raw is not None and not_number.any():
        problems.append(RowProblem(not_number, lambda i: f"{name} {str(raw.iloc[i]).strip()!r} is not a number"))
    problems += [
        RowProblem(lambda: np.isnan(values), lambda i: f"{name} is missing (empty or NaN)"),
        RowProblem(lambda: np.isinf(values), lambda i: f"{name} {values[i]} is not a finite number"),
    ]
    if name in PRICE_COLUMNS:
        problems.append(RowProblem(lambda: values <= 0, lambda i: f"{name} {fmt_number(values[i])} is not positive"))
    else:
        problems.append(RowProblem(lambda: values < 0, lambda i: f"{name} {fmt_number(values[i])} is negative"))
    return problems


def row_problems(ts_ns: np.ndarray, values: dict[str, np.ndarray],
                 raw: dict[str, pd.Series] | None = None,
                 not_number: dict[str, np.ndarray] | None = None) -> list[RowProblem]:
    """Every per-row check, in reporting order, over int64 ns timestamps and float columns.

    ``NaT`` timestamps are reported as missing and skipped by the ordering checks;
    NaN prices compare False, so the OHLC relations never double-report a missing value.
    """
    raw = raw or {}
    not_number = not_number or {}
    problems: list[RowProblem] = [RowProblem(lambda: ts_ns == NAT, lambda i: "timestamp is missing")]
    for name in CANDLE_COLUMNS:
        v = values[name]
        problems += _value_problems(name, raw.get(name), v, not_number.get(name, no_rows(len(v))))
    op, hi, lo, cl = (values[k] for k in PRICE_COLUMNS)
    problems += [
        RowProblem(lambda: hi < lo, lambda i: f"high {fmt_number(hi[i])} is below low {fmt_number(lo[i])}"),
        RowProblem(lambda: hi < op, lambda i: f"high {fmt_number(hi[i])} is below open {fmt_number(op[i])}"),
        RowProblem(lambda: hi < cl, lambda i: f"high {fmt_number(hi[i])} is below close {fmt_number(cl[i])}"),
        RowProblem(lambda: lo > op, lambda i: f"low {fmt_number(lo[i])} is above open {fmt_number(op[i])}"),
        RowProblem(lambda: lo > cl, lambda i: f"low {fmt_number(lo[i])} is above close {fmt_number(cl[i])}"),
    ]
    if len(ts_ns) > 1:
        problems += [
            RowProblem(lambda: _step_mask(ts_ns, np.less),
                       lambda i: f"timestamp {fmt_time(ts_ns[i])} is earlier than the one before it "
                                 f"({fmt_time(ts_ns[i - 1])}); candles must be in time order"),
            RowProblem(lambda: _step_mask(ts_ns, np.equal),
                       lambda i: f"duplicate timestamp {fmt_time(ts_ns[i])} (same as the row before)"),
        ]
    return problems


def _step_mask(ts_ns: np.ndarray, compare: np.ufunc) -> np.ndarray:
    """Rows whose timestamp ``compare``s true against the row before (both present).

    Shifted by one so position i means "row i compared with row i-1".
    """
    mask = np.zeros(len(ts_ns), dtype=bool)
    prev, cur = ts_ns[:-1], ts_ns[1:]
    compare(cur, prev, out=mask[1:])
    if ts_ns.min() == NAT:  # NAT is the smallest int64, so this is "any timestamp missing"
        mask[1:] &= (prev != NAT) & (cur != NAT)
    return mask


def _default_locate(ts_ns: np.ndarray) -> Callable[[int], str]:
    def locate(i: int) -> str:
        if ts_ns[i] == NAT:
            return f"row {i + 1}"
        return f"row {i + 1} ({fmt_time(ts_ns[i])})"
    return locate


def validate_candles(df: pd.DataFrame, source: str | None = None, *,
                     locate: Callable[[int], str] | None = None) -> pd.DataFrame:
    """Check a candle frame; return it unchanged, or raise DataError on the first problem.

    Works on any frame with a DatetimeIndex and the five columns (extra columns and
    column order are not checked; non-numeric columns are reported cell by cell).
    ``source`` defaults to ``df.attrs["source"]``; ``locate`` turns a row position
    into text such as ``"line 17"`` (default: ``"row N (timestamp)"``).
    """
    if source is None:
        source = str(df.attrs.get("source") or "candles") if isinstance(df, pd.DataFrame) else "candles"
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"{source}: expected a table of candles, got {type(df).__name__}")
    missing = [c for c in CANDLE_COLUMNS if c not in df.columns]
    if missing:
        raise DataError(f"{source}: missing column(s) {', '.join(missing)} "
                        f"(found: {', '.join(map(str, df.columns)) or 'none'})")
    if not isinstance(df.index, pd.DatetimeIndex):
        raise DataError(f"{source}: candles need a timestamp index (a DatetimeIndex), "
                        f"got {type(df.index).__name__}")
    if len(df) == 0:
        raise DataError(f"{source}: no candles")
    ts_ns = df.index.as_unit("ns").asi8
    values, raw, bad = {}, {}, {}
    for name in CANDLE_COLUMNS:
        column = df[name]
        if isinstance(column, pd.DataFrame):
            raise DataError(f"{source}: column {name} appears more than once")
        values[name], bad[name] = as_float(column)
        if bad[name].any():
            raw[name] = column
    raise_first(row_problems(ts_ns, values, raw, bad), source, locate or _default_locate(ts_ns))
    return df

