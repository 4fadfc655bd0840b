"""The held direction, switched by entry and exit events: the position a strategy wants.

An entry opens its side (a long entry wins a tie, and closes a short; a short entry
closes a long), an exit closes only its own side, and otherwise the direction is
held. That is a one-number state, so :class:`Hold` carries it between chunks and a
live session's bar gets exactly the direction the whole history would give it.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from engine.jit import njit


@njit
def hold(
    long_entry: np.ndarray, long_exit: np.ndarray, short_entry: np.ndarray, short_exit: np.ndarray, state: np.ndarray
) -> np.ndarray:
    """Direction after each bar's events, continuing from ``state[0]`` (updated in place)."""
    out = np.empty(len(long_entry), dtype=np.int8)
    d = state[0]
    for i in range(len(long_entry)):
        if long_entry[i]:
            d = 1
        elif short_entry[i]:
            d = -1
        elif (d == 1 and long_exit[i]) or (d == -1 and short_exit[i]):
            d = 0
        out[i] = d
    state[0] = d
    return out


class Hold:
    """The held direction between calls."""

    def __init__(self) -> None:
        self.state = np.zeros(1, dtype=np.int8)

    def feed(
        self,
        long_entry: np.ndarray,
        long_exit: np.ndarray,
        short_entry: Optional[np.ndarray] = None,
        short_exit: Optional[np.ndarray] = None,
    ) -> np.ndarray:
        """Directions for a chunk of events; without short events it only goes long or flat."""
        long_entry = np.asarray(long_entry, dtype=bool)
        never = np.zeros(len(long_entry), dtype=bool)
        short_entry = never if short_entry is None else np.asarray(short_entry, dtype=bool)
        short_exit = never if short_exit is None else np.asarray(short_exit, dtype=bool)
        return hold(long_entry, np.asarray(long_exit, dtype=bool), short_entry, short_exit, self.state)
