"""The engine's state as one value, and the journal of what it has done.

:class:`EngineState` is everything the next bar depends on: balance, open position,
pending order, the strategy's last direction, counters. Copying it costs O(open
position), so a replay can step back by restoring a copy. The :class:`Journal` is the
append-only history (fills, trades, notes, equity segments); a :class:`Snapshot` pairs a
state with the journal's length at that moment, so restoring truncates the history
instead of copying it.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import NamedTuple, Optional

import numpy as np

from engine.enums import ExitReason
from engine.records import FillRecord, OpenPosition, TradeRecord
from engine.strategies.base import Decision


class PendingOrder(NamedTuple):
    """A market order waiting for the next open: close the position (with this reason) and/or open."""

    close_reason: Optional[ExitReason]
    decision: Decision


class Note(NamedTuple):
    """Something the engine decided not to do, or did differently, and why (for the event log)."""

    bar: int
    kind: str
    text: str


@dataclass(slots=True)
class EngineState:
    balance: float
    bar: int = 0  # the next bar to process
    position: Optional[OpenPosition] = None
    pending: Optional[PendingOrder] = None
    direction: int = 0  # the strategy's direction after the last processed bar
    trade_no: int = 0
    bars_in_market: int = 0  # bars in which a position was open at any moment
    last_market_bar: int = -1

    def copy(self) -> "EngineState":
        return EngineState(
            self.balance, self.bar, None if self.position is None else self.position.copy(), self.pending,
            self.direction, self.trade_no, self.bars_in_market, self.last_market_bar,
        )

    def equity(self, price: float) -> float:
        pos = self.position
        return self.balance if pos is None else self.balance + pos.unrealized_pnl(price)


class JournalMark(NamedTuple):
    fills: int
    trades: int
    notes: int
    segments: int


@dataclass(slots=True)
class Journal:
    fills: list[FillRecord] = field(default_factory=list)
    trades: list[TradeRecord] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    # Equity is rebuilt from state segments: (first bar, balance, signed qty, avg entry);
    # a later segment of the same bar replaces the earlier one.
    # Typed arrays, not lists: as cheap to append to, and numpy reads them without a copy.
    seg_bar: array = field(default_factory=lambda: array("q"))
    seg_balance: array = field(default_factory=lambda: array("d"))
    seg_qty: array = field(default_factory=lambda: array("d"))
    seg_avg: array = field(default_factory=lambda: array("d"))

    def mark(self) -> JournalMark:
        return JournalMark(len(self.fills), len(self.trades), len(self.notes), len(self.seg_bar))

    def truncate(self, mark: JournalMark) -> None:
        del self.fills[mark.fills:], self.trades[mark.trades:], self.notes[mark.notes:]
        for seg in (self.seg_bar, self.seg_balance, self.seg_qty, self.seg_avg):
            del seg[mark.segments:]

    def extend(self, other: "Journal", start: Optional[JournalMark] = None, end: Optional[JournalMark] = None) -> None:
        """Append ``other``'s entries (those between marks ``start`` and ``end``, default all)."""
        a = start or JournalMark(0, 0, 0, 0)
        b = end or other.mark()
        self.fills += other.fills[a.fills:b.fills]
        self.trades += other.trades[a.trades:b.trades]
        self.notes += other.notes[a.notes:b.notes]
        for mine, theirs in zip(
            (self.seg_bar, self.seg_balance, self.seg_qty, self.seg_avg),
            (other.seg_bar, other.seg_balance, other.seg_qty, other.seg_avg),
        ):
            mine += theirs[a.segments:b.segments]

    def copy(self) -> "Journal":
        twin = Journal()
        twin.extend(self)
        return twin

    def record(self, bar: int, balance: float, position: Optional[OpenPosition]) -> None:
        """The state from ``bar``'s close on, for the equity curve (skipped when unchanged)."""
        qty = 0.0 if position is None else position.current_size * position.sign
        avg = 0.0 if position is None else position.avg_entry_price
        if self.seg_bar and self.seg_balance[-1] == balance and self.seg_qty[-1] == qty and self.seg_avg[-1] == avg:
            return
        self.seg_bar.append(bar)
        self.seg_balance.append(balance)
        self.seg_qty.append(qty)
        self.seg_avg.append(avg)

    def equity_curve(self, close: np.ndarray, bars: int, initial: float, start: int = 0) -> np.ndarray:
        """Mark-to-market equity after the close of each bar from ``start`` to ``bars - 1``."""
        eq = np.full(max(bars - start, 0), initial, dtype=np.float64)
        # Segments from the first ``kept`` bars only (the journal may run ahead of ``bars``),
        # beginning with the one in force at ``start``.
        kept = bisect_right(self.seg_bar, bars - 1)
        since = max(bisect_right(self.seg_bar, start) - 1, 0)
        if kept <= since and not (kept and self.seg_bar[since] <= start):
            return eq

        def column(values: array, dtype: type) -> np.ndarray:
            # A copy: a view would pin the buffer and make the journal's next append fail.
            return np.frombuffer(values, dtype=dtype)[since:kept].copy()

        starts = column(self.seg_bar, np.int64)
        np.maximum(starts, start, out=starts)
        lengths = np.diff(np.append(starts, bars))
        first = int(starts[0])
        # mark_to_market over every bar, in place, one bar-sized temporary at a time:
        # a million bars stay a few MB.
        tail = eq[first - start:]
        np.subtract(close[first:bars], np.repeat(column(self.seg_avg, np.float64), lengths), out=tail)
        tail *= np.repeat(column(self.seg_qty, np.float64), lengths)
        tail += np.repeat(column(self.seg_balance, np.float64), lengths)
        return eq


class Snapshot(NamedTuple):
    """A state and the journal length that goes with it: what a replay steps back to."""

    state: EngineState
    mark: JournalMark
