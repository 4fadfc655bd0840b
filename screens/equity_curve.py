"""A run's equity and drawdown thinned for drawing, with its figures taken from every bar.

A chart has a hundred-odd columns and a run up to millions of bars. The curve is cut
into buckets, each keeping its lowest and highest equity and its shallowest and deepest
drawdown, so a one-bar spike survives any thinning (picking every n-th point lost it).
The labels (start, end, low, peak, worst drawdown) never come from the thinned curve:
they are read from the whole one, or for a stored run (whose curve was thinned when it
was saved) from its metrics, which were computed from every bar.

Beside the equity it keeps the buy-and-hold equity (the starting balance in the asset
from the first close), thinned the same way, and when each bucket starts, for the date
axis. A stored run has neither closes nor times of its thinned points: its buckets are
dated evenly from its first to its last bar, and buy and hold is added once its candles
are loaded again (:meth:`EquityCurve.with_hold`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Optional, Sequence

import numpy as np

from engine.metrics import buy_hold_equity, drawdown_pct

BUCKETS = 1024  # more than any terminal is wide: the chart thins these again to its width


def envelope(lo: np.ndarray, hi: np.ndarray, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """The lowest of ``lo`` and the highest of ``hi`` over each of ``columns`` equal shares of
    the points; with fewer points than columns, points are repeated to fill the width."""
    n = len(lo)
    if n == 0 or columns <= 0:
        return np.empty(0), np.empty(0)
    starts = (np.arange(columns, dtype=np.int64) * n) // columns
    # reduceat gives lo[start] alone where a start repeats (fewer points than columns).
    return np.minimum.reduceat(lo, starts), np.maximum.reduceat(hi, starts)


@dataclass(frozen=True)
class EquityCurve:
    equity_lo: np.ndarray
    equity_hi: np.ndarray
    depth_lo: np.ndarray  # drawdown as % below the running peak (>= 0), shallowest in a bucket
    depth_hi: np.ndarray  # ... deepest in a bucket
    first: Optional[float]
    last: Optional[float]
    low: Optional[float]  # None: not known (a stored run keeps only a thinned curve)
    peak: Optional[float]
    worst_drawdown_pct: Optional[float]  # <= 0
    times: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))  # epoch ns a bucket starts
    hold_lo: np.ndarray = field(default_factory=lambda: np.empty(0))  # buy and hold; empty: not known
    hold_hi: np.ndarray = field(default_factory=lambda: np.empty(0))
    hold_last: Optional[float] = None  # buy and hold's final equity, from the last close

    @classmethod
    def from_equity(cls, equity: Sequence[float] | np.ndarray, initial_balance: float,
                    buckets: int = BUCKETS, times: Optional[np.ndarray] = None,
                    close: Optional[np.ndarray] = None) -> "EquityCurve":
        """From the equity after every bar; the running peak starts at ``initial_balance``,
        as in the metrics. ``times`` (epoch ns) and ``close`` are the bars' own, when known."""
        eq = np.asarray(equity, dtype=np.float64)
        if not len(eq):
            return cls.empty()
        depth = -drawdown_pct(eq, initial=initial_balance)
        count = min(buckets, len(eq))
        equity_lo, equity_hi = envelope(eq, eq, count)
        depth_lo, depth_hi = envelope(depth, depth, count)
        curve = cls(equity_lo, equity_hi, depth_lo, depth_hi, float(eq[0]), float(eq[-1]), float(eq.min()),
                    max(float(initial_balance), float(eq.max())), -float(depth.max()),
                    times=bucket_times(times, count))
        return curve if close is None else curve.with_hold(close, initial_balance)

    def with_hold(self, close: np.ndarray, initial_balance: float, buckets: int = BUCKETS) -> "EquityCurve":
        """This curve with buy and hold over ``close`` beside it (the same bars)."""
        hold = buy_hold_equity(close, initial_balance)
        if not len(hold):
            return self
        lo, hi = envelope(hold, hold, min(buckets, len(hold)))
        return replace(self, hold_lo=lo, hold_hi=hi, hold_last=float(hold[-1]))

    @classmethod
    def from_stored(cls, curve: Sequence[float], initial_balance: float, metrics: Mapping[str, Any],
                    seconds: Optional[Sequence[int]] = None) -> "EquityCurve":
        """From a stored run: its thinned curve to draw, with the time of each point in
        epoch ``seconds`` (runs stored before those were kept: spread evenly from the first
        bar to the last), its metrics for the figures."""
        if seconds is not None and len(seconds) == len(curve):
            thinned = cls.from_equity(curve, initial_balance, times=np.asarray(seconds, dtype=np.int64) * 1_000_000_000)
            times = thinned.times
        else:
            thinned = cls.from_equity(curve, initial_balance)
            start, end = _epoch_ns(metrics.get("start")), _epoch_ns(metrics.get("end"))
            times = (np.linspace(start, end, len(thinned)).astype(np.int64) if start is not None and end is not None
                     and len(thinned) else np.empty(0, dtype=np.int64))

        def metric(key: str, fallback: Optional[float]) -> Optional[float]:
            value = metrics.get(key)
            return float(value) if isinstance(value, (int, float)) else fallback

        return cls(
            thinned.equity_lo, thinned.equity_hi, thinned.depth_lo, thinned.depth_hi, thinned.first,
            metric("final_equity", thinned.last), None, metric("peak_equity", thinned.peak),
            metric("max_drawdown_pct", thinned.worst_drawdown_pct), times=times,
        )

    @classmethod
    def empty(cls) -> "EquityCurve":
        none = np.empty(0)
        return cls(none, none, none, none, None, None, None, None, None)

    def __len__(self) -> int:
        return len(self.equity_lo)


def bucket_times(times: Optional[np.ndarray], count: int) -> np.ndarray:
    """When each of ``count`` equal shares of the bars starts (as :func:`envelope` shares them)."""
    if times is None or not len(times) or count <= 0:
        return np.empty(0, dtype=np.int64)
    ns = np.asarray(times, dtype=np.int64)
    return ns[(np.arange(count, dtype=np.int64) * len(ns)) // count]


def _epoch_ns(text: Any) -> Optional[int]:
    """An ISO time as the metrics write it -> epoch ns (UTC), or None."""
    if not isinstance(text, str) or not text:
        return None
    from datetime import datetime, timezone

    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    when = when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)
    return int(when.timestamp()) * 1_000_000_000 + when.microsecond * 1000
