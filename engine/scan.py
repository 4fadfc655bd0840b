"""The quiet-bar scanner: how far a backtest can skip ahead while holding a position.

A bar is *quiet* when nothing can fill in it: its low stays above every stop and
adverse trigger and its high below every target and favourable trigger (mirrored for
shorts). The only state a quiet bar changes is the trailing peak / stop and the
MFE/MAE water marks, which the scanner advances with the trailing-stop manager's own
rule (:func:`engine.trailing.trail_update`). The first non-quiet bar is handed back to
the ordinary per-bar step, so the fast path and bar-by-bar stepping share every rule;
tests prove they produce identical trades.

The triggers are conservative (a gap through a level also touches it), so a bar the
scanner calls quiet can never hold a fill.
"""

from __future__ import annotations

import numpy as np

from engine.jit import njit
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
        if sign > 0:
            stop = lo_trigger if lo_trigger > trail_stop else trail_stop
            if lo <= stop or h >= hi_trigger:
                return j, high_water, low_water, active, trail_stop
        else:
            stop = hi_trigger if hi_trigger < trail_stop else trail_stop
            if h >= stop or lo <= lo_trigger:
                return j, high_water, low_water, active, trail_stop
        high_water, low_water, active, trail_stop = trail_update(
            sign, h, lo, high_water, low_water, avg_entry, activation_pct, distance_pct, active, trail_stop
        )
    return end, high_water, low_water, active, trail_stop
