"""Seeded exponential smoothing (EMA, Wilder's RMA) as a kernel that can pause and resume.

A smoothed value depends on the whole history, but only through O(1) state: the
number of inputs seen, the running seed sum during warm-up and the current value.
:class:`Smoothing` keeps that state between calls, so smoothing a whole series at
once and smoothing it one bar at a time run the same kernel over the same inputs in
the same order and give the same bits.
"""

from __future__ import annotations

import numpy as np

from engine.jit import njit

# The state array's slots.
_SEEN, _REF, _ACC, _VALUE = 0, 1, 2, 3


def new_state() -> np.ndarray:
    """The state of a smoothing that has seen nothing yet."""
    return np.array([0.0, 0.0, 0.0, np.nan])


@njit
def wilder_alpha(period: int) -> float:
    """Wilder's smoothing (RSI, ATR) is an EMA with alpha = 1 / period."""
    return 1.0 / period


@njit
def smooth_step(prev: float, x: float, alpha: float) -> float:
    """One recursive step ``prev + alpha * (x - prev)``; an equal input leaves it exactly unchanged."""
    if x != x:
        return prev  # a missing input carries the average forward
    if prev != prev:
        return x  # no average yet (a broken seed): start from the first real input
    return prev + alpha * (x - prev)


@njit
def smooth_next(x: float, period: int, alpha: float, first: int, state: np.ndarray) -> float:
    """The smoothed value after input ``x``, advancing ``state`` in place.

    The first ``first`` inputs of the whole series are not inputs at all (e.g. the
    price change of bar 0); the next ``period`` seed the average with their plain
    mean, the textbook EMA / Wilder definition; NaN until then.
    """
    k = state[_SEEN] - first
    state[_SEEN] += 1
    if k >= period:
        state[_VALUE] = smooth_step(state[_VALUE], x, alpha)
    elif k >= 0:
        # The seed is summed as offsets from its first input, so a flat start seeds
        # exactly that price.
        if k == 0:
            state[_REF] = x
        state[_ACC] += x - state[_REF]
        if k == period - 1:
            state[_VALUE] = state[_REF] + state[_ACC] / period
    return state[_VALUE]


@njit
def smooth(values: np.ndarray, period: int, alpha: float, first: int, state: np.ndarray) -> np.ndarray:
    """Smoothed ``values``, continuing from ``state`` (updated in place)."""
    out = np.empty(len(values))
    for i in range(len(values)):
        out[i] = smooth_next(values[i], period, alpha, first, state)
    return out


class Smoothing:
    """A smoothing kernel's state between calls: O(1) whatever the period or history."""

    def __init__(self, period: int, alpha: float, first: int = 0) -> None:
        self.period, self.alpha, self.first = period, alpha, first
        self.state = new_state()

    def feed(self, values: np.ndarray) -> np.ndarray:
        return smooth(np.asarray(values, dtype=np.float64), self.period, self.alpha, self.first, self.state)
