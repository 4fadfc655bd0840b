"""The trailing-stop manager: from a position and a bar, the new trailing-stop level.

The rule (DESIGN.md): the peak follows the bar's high (long) / low (short) AFTER the
bar's stop check; the stop activates once the favourable excursion from the average
entry reaches ``activation_pct``, then sits ``distance_pct`` behind the peak and only
ratchets towards profit.

:func:`trail_update` is the single implementation. It is plain scalar arithmetic so the
backtest's quiet-bar scanner can compile and inline it, and it is monotone in the bar's
extremes: applying it once with the max high / min low of several quiet bars gives the
same state as applying it bar by bar. A missing stop is ``-inf`` (long) / ``+inf`` (short).
"""

from __future__ import annotations

import math
from typing import NamedTuple, Optional

from engine.jit import njit
from engine.fast import fast_new
from engine.records import OpenPosition
from engine.touch import pct_level_jit as pct_level, touches_jit as touches

NO_TRAIL = math.nan  # distance for "no trailing stop"


@njit
def trail_update(
    sign: int,
    high: float,
    low: float,
    high_water: float,
    low_water: float,
    avg_entry: float,
    activation_pct: float,
    distance_pct: float,
    active: bool,
    stop: float,
) -> tuple[float, float, bool, float]:
    if high > high_water:
        high_water = high
    if low < low_water:
        low_water = low
    if distance_pct != distance_pct:  # NaN: this position has no trailing stop
        return high_water, low_water, active, stop
    if sign > 0:
        if not active and touches(1, pct_level(avg_entry, activation_pct), high_water, high_water):
            active = True
        if active:
            candidate = pct_level(high_water, -distance_pct)
            if candidate > stop:
                stop = candidate
    else:
        if not active and touches(-1, pct_level(avg_entry, -activation_pct), low_water, low_water):
            active = True
        if active:
            candidate = pct_level(low_water, distance_pct)
            if candidate < stop:
                stop = candidate
    return high_water, low_water, active, stop


class TrailingUpdate(NamedTuple):
    high_water: float
    low_water: float
    active: bool
    stop: Optional[float]


new_update = fast_new(TrailingUpdate)


class TrailingStopManager:
    """Computes, never mutates: the tracker applies the returned update."""

    @staticmethod
    def stop_sentinel(pos: OpenPosition) -> float:
        """The trailing stop as the kernel takes it: -inf (long) / +inf (short) when there is none."""
        if pos.trailing_stop is not None:
            return pos.trailing_stop
        return -math.inf if pos.sign > 0 else math.inf

    @staticmethod
    def from_kernel(high_water: float, low_water: float, active: bool, stop: float) -> TrailingUpdate:
        """The kernel's state as an update (an infinite stop is no stop)."""
        return new_update((high_water, low_water, bool(active), None if math.isinf(stop) else float(stop)))

    def update(self, pos: OpenPosition, high: float, low: float) -> TrailingUpdate:
        policy = pos.policy
        distance = policy.trailing_distance_pct if policy.trailing_distance_pct is not None else NO_TRAIL
        activation = policy.trailing_activation_pct or 0.0
        hw, lw, active, stop = trail_update(
            pos.sign, high, low, pos.high_water, pos.low_water, pos.avg_entry_price,
            activation, distance, pos.trailing_active, self.stop_sentinel(pos),
        )
        return self.from_kernel(hw, lw, active, stop)
