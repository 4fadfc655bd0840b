"""Window statistics (mean, sample standard deviation, highest, lowest), one kernel each.

Each value is computed from its own window alone, never from a running sum carried
along the series: a window gives the same bits whether it is read out of a million
bars of history or out of the short tail a live session keeps (:mod:`tail`). That
is what lets the vectorised signals and the bar-by-bar decisions agree exactly, and
a prefix of a series give a bit-identical prefix of the output. A window holding a
NaN gives NaN.
"""

from __future__ import annotations

import math

import numpy as np

from engine.jit import njit

MEAN, STD, HIGHEST, LOWEST = 0, 1, 2, 3


def lagged(values: np.ndarray, bars: int, start: int = 0) -> np.ndarray:
    """``values[i - bars]`` for each ``i`` from ``start`` on (NaN where ``i < bars``):
    the one-value window ``bars`` back, e.g. the previous close."""
    n = len(values)
    if start >= bars:
        return values[start - bars : n - bars]
    out = np.full(max(n - start, 0), np.nan)
    if n > bars:  # a series shorter than the lag has no lagged values at all
        out[bars - start :] = values[: n - bars]
    return out


@njit
def window_mean(values: np.ndarray, lo: int, hi: int) -> float:
    """Mean of ``values[lo:hi]``."""
    # Summed as offsets from the newest value: a flat window gives that value exactly
    # (so flat prices give equal averages of every length), and the sum stays small.
    ref = values[hi - 1]
    total = 0.0
    for j in range(lo, hi - 1):
        total += values[j] - ref
    return ref + total / (hi - lo)


@njit
def window_std(values: np.ndarray, lo: int, hi: int) -> float:
    """Sample standard deviation (n - 1) of ``values[lo:hi]``, two-pass around the mean."""
    if hi - lo < 2:
        return np.nan
    mean = window_mean(values, lo, hi)
    total = 0.0
    for j in range(lo, hi):
        d = values[j] - mean
        total += d * d
    return math.sqrt(total / (hi - lo - 1))


@njit
def window_extreme(values: np.ndarray, lo: int, hi: int, sign: int) -> float:
    """Highest (``sign`` +1) or lowest (-1) of ``values[lo:hi]``."""
    best = values[lo]
    for j in range(lo, hi):
        v = values[j]
        if v != v:
            return np.nan
        if (v > best) if sign > 0 else (v < best):
            best = v
    return best


@njit
def rolling(values: np.ndarray, period: int, kind: int, start: int, lag: int) -> np.ndarray:
    """The ``kind`` statistic of the ``period`` values ending ``lag`` bars before each of
    ``values[start:]`` (NaN where the series is not that long yet)."""
    n = len(values)
    out = np.empty(max(n - start, 0))
    for i in range(start, n):
        hi = i + 1 - lag
        lo = hi - period
        if lo < 0:
            out[i - start] = np.nan
        elif kind == MEAN:
            out[i - start] = window_mean(values, lo, hi)
        elif kind == STD:
            out[i - start] = window_std(values, lo, hi)
        else:
            out[i - start] = window_extreme(values, lo, hi, 1 if kind == HIGHEST else -1)
    return out
