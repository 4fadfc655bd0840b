"""The quiet-bar scanner: how far a backtest can skip ahead while holding a position.

A bar is *quiet* when nothing can fill in it: the one touch rule
(:func:`engine.touch.touches`) says its range reaches neither the highest level due on
a fall (stop, averaging-down scale-in; the trailing stop moves inside the scan) nor the
lowest level due on a rise (targets, take-profit, scale-ins into strength), mirrored
for shorts. The only state a quiet bar changes is the trailing peak / stop, which the
scanner advances with the trailing-stop manager's own rule
(:func:`engine.trailing.trail_update`). The first non-quiet bar is handed back to the
engine's step, so the fast path and bar-by-bar stepping share every rule; tests prove
they produce identical trades.

A gap through a level also touches it (the open lies within the bar's range), so a bar
the scanner calls quiet can never hold a fill.
"""

from __future__ import annotations

import numpy as np

from engine.jit import njit
from engine.touch import touches_jit as touches
from engine.trailing import trail_update


@njit
def scan_quiet(
    high: np.ndarray,
    low: np.ndarray,
    start: int,
    end: int,
    sign: int,
    lo_trigger: float,
    hi_trigger: float,
    high_water: float,
    low_water: float,
    avg_entry: float,
    activation_pct: float,
    distance_pct: float,
    active: bool,
    trail_stop: float,
) -> tuple[int, float, float, bool, float]:
    """First bar in ``[start, end)`` that is not quiet (or ``end``), and the trailing state
    after the quiet bars before it."""
    for j in range(start, end):
        h = high[j]
        lo = low[j]
        falling = lo_trigger
        rising = hi_trigger
        if sign > 0:
            if trail_stop > falling:
                falling = trail_stop
        elif trail_stop < rising:
            rising = trail_stop
        if touches(-1, falling, h, lo) or touches(1, rising, h, lo):
            return j, high_water, low_water, active, trail_stop
        high_water, low_water, active, trail_stop = trail_update(
            sign, h, lo, high_water, low_water, avg_entry, activation_pct, distance_pct, active, trail_stop
        )
    return end, high_water, low_water, active, trail_stop
