"""A run's equity and drawdown thinned for drawing, with its figures taken from every bar.

A chart has a hundred-odd columns and a run up to millions of bars. The curve is cut
into buckets, each keeping its lowest and highest equity and its shallowest and deepest
drawdown, so a one-bar spike survives any thinning (picking every n-th point lost it).
The labels (start, end, low, peak, worst drawdown) never come from the thinned curve:
they are read from the whole one, or for a stored run (whose curve was thinned when it
was saved) from its metrics, which were computed from every bar.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence

import numpy as np

from engine.metrics import drawdown_pct

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

    @classmethod
    def from_equity(cls, equity: Sequence[float] | np.ndarray, initial_balance: float,
                    buckets: int = BUCKETS) -> "EquityCurve":
        """From the equity after every bar; the running peak starts at ``initial_balance``,
        as in the metrics."""
        eq = np.asarray(equity, dtype=np.float64)
        if not len(eq):
            return cls.empty()
        depth = -drawdown_pct(eq, initial=initial_balance)
        equity_lo, equity_hi = envelope(eq, eq, min(buckets, len(eq)))
        depth_lo, depth_hi = envelope(depth, depth, min(buckets, len(eq)))
        return cls(equity_lo, equity_hi, depth_lo, depth_hi, float(eq[0]), float(eq[-1]), float(eq.min()),
                   max(float(initial_balance), float(eq.max())), -float(depth.max()))

    @classmethod
    def from_stored(cls, curve: Sequence[float], initial_balance: float,
                    metrics: Mapping[str, Any]) -> "EquityCurve":
        """From a stored run: its thinned curve to draw, its metrics for the figures."""
        thinned = cls.from_equity(curve, initial_balance)

        def metric(key: str, fallback: Optional[float]) -> Optional[float]:
            value = metrics.get(key)
            return float(value) if isinstance(value, (int, float)) else fallback

        return cls(
            thinned.equity_lo, thinned.equity_hi, thinned.depth_lo, thinned.depth_hi, thinned.first,
            metric("final_equity", thinned.last), None, metric("peak_equity", thinned.peak),
            metric("max_drawdown_pct", thinned.worst_drawdown_pct),
        )

    @classmethod
    def empty(cls) -> "EquityCurve":
        none = np.empty(0)
        return cls(none, none, none, none, None, None, None, None, None)

    def __len__(self) -> int:
        return len(self.equity_lo)
