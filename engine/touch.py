"""The one touch rule: whether a price path reaches a level.

A level is *touched* by a bar when the price, moving in ``direction`` (+1 rising, -1
falling), reaches it: the high at or above a level it rises to, the low at or below a
level it falls to. Equality counts: a stop at 95.00 is hit by a low of 95.00.

The stop check, the target and scale-in checks, the intrabar path of the simulated
broker and the backtest's quiet-bar scanner all ask this function, so a bar the
scanner calls quiet can never be one in which the step fills something.
"""

from __future__ import annotations

from engine.jit import njit


def touches(direction: int, level: float, high: float, low: float) -> bool:
    """Does a bar (or a single price, with ``high == low``) reach ``level`` moving in ``direction``?"""
    if direction > 0:
        return high >= level
    return low <= level


def pct_level(price: float, pct: float) -> float:
    """``price`` moved by ``pct`` percent, as ``price * (100 + pct) / 100``.

    One multiplication of exact values and one correctly rounded division: for prices
    on a tick grid and percentages like 2 or 0.5 the product is exact, so the level is
    the nearest double to its decimal value (100 +10 % is 110.0, not 110.00000000000001
    as ``100 * 1.1`` gives) and a bar that trades exactly at it touches it.
    """
    return price * (100.0 + pct) / 100.0


# The compiled twins for the kernels (scanner, trailing rule); Python callers use the
# plain functions above, which are cheaper to call from Python than a compiled dispatcher.
touches_jit = njit(touches)
pct_level_jit = njit(pct_level)
