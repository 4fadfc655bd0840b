"""Axes for the terminal charts: value ticks on round numbers, dates on calendar steps.

A chart of a run has a price axis on its right and a time axis under it, so a trader
reads levels and dates off it instead of guessing them from a shape. Ticks sit on
round values (1, 2, 2.5, 5 x 10^k) and on calendar boundaries (midnight, the first of
a month, of a quarter, of a year), as on any charting platform. Plain functions of
numbers: the widgets call them when they draw.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

NS = 1_000_000_000
_MINUTE, _HOUR, _DAY = 60 * NS, 3600 * NS, 86_400 * NS
# (unit, count, label format): fixed steps in ns, or calendar months / years.
DATE_STEPS: tuple[tuple[str, int, str], ...] = (
    ("ns", 5 * _MINUTE, "%m-%d %H:%M"), ("ns", 15 * _MINUTE, "%m-%d %H:%M"), ("ns", _HOUR, "%m-%d %H:%M"),
    ("ns", 3 * _HOUR, "%m-%d %H:%M"), ("ns", 6 * _HOUR, "%m-%d %H:%M"), ("ns", 12 * _HOUR, "%m-%d %H:%M"),
    ("ns", _DAY, "%Y-%m-%d"), ("ns", 2 * _DAY, "%Y-%m-%d"), ("ns", 7 * _DAY, "%Y-%m-%d"),
    ("M", 1, "%Y-%m"), ("M", 2, "%Y-%m"), ("M", 3, "%Y-%m"), ("M", 6, "%Y-%m"),
    ("Y", 1, "%Y"), ("Y", 2, "%Y"), ("Y", 5, "%Y"), ("Y", 10, "%Y"), ("Y", 25, "%Y"), ("Y", 100, "%Y"),
)
_MONDAY_OFFSET = 4 * _DAY  # 1970-01-01 was a Thursday: weekly ticks fall on Mondays
LABEL_GAP = 2  # blank cells at least between two date labels


def nice_step(span: float, count: int) -> float:
    """A round step (1, 2, 2.5 or 5 x 10^k) giving at most about ``count`` ticks over ``span``."""
    if not (span > 0 and math.isfinite(span)) or count < 1:
        return 0.0
    raw = span / count
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        if factor * power >= raw:
            return factor * power
    return 10.0 * power


def value_ticks(bottom: float, top: float, count: int) -> list[float]:
    """Round values inside [bottom, top], at most about ``count`` of them (0 is exact)."""
    step = nice_step(top - bottom, count)
    if step == 0.0:
        return [bottom] if math.isfinite(bottom) else []
    first = math.ceil(bottom / step - 1e-9)
    last = math.floor(top / step + 1e-9)
    return [round(k * step, 12) + 0.0 for k in range(first, last + 1)]


def tick_decimals(ticks: Sequence[float]) -> int:
    """Decimals that tell the ticks apart (none for steps of one or more)."""
    if len(ticks) < 2:
        value = abs(ticks[0]) if ticks else 0.0
        return 0 if value >= 100 or value == 0 else 2
    step = abs(ticks[1] - ticks[0])
    return max(0, min(8, -math.floor(math.log10(step) + 1e-9))) if step < 1 else 0


def tick_label(value: float, decimals: int, unit: str = "") -> str:
    text = f"{value:,.{decimals}f}"
    if text.startswith("-") and float(text.replace(",", "")) == 0.0:
        text = text[1:]  # "-0" at the top of a drawdown axis is 0
    return f"{text} {unit}" if unit else text


def value_rows(bottom: float, top: float, rows: int, unit: str = "") -> dict[int, str]:
    """Labels for a plot of ``rows`` rows spanning [bottom, top], by the row a tick falls in
    (row 0 at the top); at least one blank row between two labels."""
    if rows <= 0 or not (top > bottom):
        return {0: tick_label(top, tick_decimals([top]), unit)} if rows > 0 and math.isfinite(top) else {}
    ticks = value_ticks(bottom, top, max(1, (rows + 1) // 2))
    decimals = tick_decimals(ticks)
    out: dict[int, str] = {}
    taken: set[int] = set()
    for value in reversed(ticks):  # from the top: its label is the one kept
        row = min(rows - 1, max(0, int((top - value) / (top - bottom) * rows)))
        if row in taken or row - 1 in taken or row + 1 in taken:
            continue
        out[row] = tick_label(value, decimals, unit)
        taken.add(row)
    return out


def _calendar_ticks(unit: str, count: int, start_ns: int, end_ns: int) -> np.ndarray:
    if unit == "ns":
        origin = _MONDAY_OFFSET if count == 7 * _DAY else 0
        first = -(-(start_ns - origin) // count) * count + origin
        return np.arange(first, end_ns + 1, count, dtype=np.int64)
    start = np.datetime64(int(start_ns), "ns").astype(f"datetime64[{unit}]")
    end = np.datetime64(int(end_ns), "ns").astype(f"datetime64[{unit}]")
    # Months counted from year 0 (quarters start in January), years from year 0.
    base = start.astype(np.int64) + (1970 * (12 if unit == "M" else 1))
    first = start + int(-base % count)
    periods = np.arange(first, end + 1, count)
    ns = periods.astype("datetime64[ns]").astype(np.int64)
    return ns[ns >= start_ns]


def date_labels(times_ns: np.ndarray, columns: int) -> list[tuple[int, str]]:
    """(column, label) for a time axis of ``columns`` cells over points at ``times_ns``
    (sorted, spread over the columns as the charts spread their points). The step is the
    finest calendar step whose labels all fit; a label starts at its tick's column."""
    times = np.asarray(times_ns, dtype=np.int64)
    n = len(times)
    if n < 2 or columns <= 0 or times[-1] <= times[0]:
        return []
    start, end = int(times[0]), int(times[-1])
    starts = (np.arange(columns, dtype=np.int64) * n) // columns  # first point of each column
    for unit, count, fmt in DATE_STEPS:
        width = len(_fmt(start, fmt))
        approx = count if unit == "ns" else count * (28 * _DAY if unit == "M" else 365 * _DAY)
        if (end - start) / approx > columns / (width + LABEL_GAP) + 1:
            continue  # too many ticks by far: not worth making them
        ticks = _calendar_ticks(unit, count, start, end)
        points = np.searchsorted(times, ticks, side="left")
        cols = np.searchsorted(starts, points, side="right") - 1
        labels: list[tuple[int, str]] = []
        edge, crowded = -LABEL_GAP, False
        for col, tick in zip(cols.tolist(), ticks.tolist()):
            if col + width > columns:
                continue  # the last tick, too close to the right edge for its label
            if col < edge + LABEL_GAP:
                crowded = True
                break
            labels.append((col, _fmt(tick, fmt)))
            edge = col + width
        if labels and not crowded:
            return labels
    return []


def _fmt(ns: int, fmt: str) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(ns / NS, tz=timezone.utc).strftime(fmt)


def axis_line(labels: list[tuple[int, str]], width: int) -> str:
    """The labels placed in a line of ``width`` cells."""
    line = [" "] * width
    for col, text in labels:
        for i, ch in enumerate(text):
            if 0 <= col + i < width:
                line[col + i] = ch
    return "".join(line)
