"""The bounded history a strategy carries from one chunk of bars to the next.

A window indicator (an SMA, a channel high) at a new bar reads that bar together
with the few bars just before it. :class:`Tail` keeps exactly those, ``keep`` of
them, and hands back the retained history and the new bars as ONE contiguous array,
so the same window kernel serves a whole history at once and a live session's single
new bar. Memory is a fixed ``2 * keep + 2`` entries however long a session runs.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np


class Tail:
    """The newest ``keep`` entries of a series (rows along the first axis)."""

    def __init__(self, keep: int, row_shape: tuple[int, ...] = ()) -> None:
        self.keep = keep
        # Twice what is kept, so single-bar appends copy the kept part back only once
        # every ``keep`` bars (amortised O(1) per bar).
        self._buf = np.empty((2 * keep + 2, *row_shape))
        self._lo = self._hi = 0

    def __len__(self) -> int:
        return self._hi - self._lo

    @property
    def capacity(self) -> int:
        return len(self._buf)

    def extend(self, new: np.ndarray) -> tuple[np.ndarray, int]:
        """``(view, start)``: the retained entries followed by ``new``, which begins at ``start``.

        The view may share memory with the buffer: read it before the next ``extend``.
        """
        kept, m = len(self), len(new)
        if self._hi + m > self.capacity and kept + m <= self.capacity:
            self._buf[:kept] = self._buf[self._lo : self._hi]
            self._lo, self._hi = 0, kept
        if self._hi + m <= self.capacity:
            self._buf[self._hi : self._hi + m] = new
            self._hi += m
            view = self._buf[self._lo : self._hi]
            self._lo = max(self._lo, self._hi - self.keep)
            return view, kept
        # A long chunk (a whole history): read it in place rather than copy it in.
        view = np.concatenate((self._buf[self._lo : self._hi], new)) if kept else np.asarray(new)
        last = min(self.keep, len(view))
        self._buf[:last] = view[len(view) - last :]
        self._lo, self._hi = 0, last
        return view, kept


class History:
    """Aligned tails of several candle columns (one ``keep`` for all)."""

    def __init__(self, columns: tuple[str, ...], keep: int) -> None:
        self.tails = {c: Tail(keep) for c in columns}

    def extend(self, bars: Mapping[str, np.ndarray]) -> tuple[list[np.ndarray], int]:
        """The columns' views (in construction order) and where the new bars begin."""
        views = [tail.extend(bars[c]) for c, tail in self.tails.items()]
        return [v for v, _ in views], views[0][1]

    def sizes(self) -> dict[str, int]:
        return {c: len(t) for c, t in self.tails.items()}
