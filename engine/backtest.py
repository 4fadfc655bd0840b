"""The backtester: one per-bar step shared by stepping (replay) and the fast run.

Fills follow DESIGN.md: a decision on a bar's close becomes a market order at the next
bar's open (a reversal closes and opens at that same open); stops and targets are
checked intrabar with the levels known at the bar's start, stop first, gaps filled at
the open; the trailing peak moves after the stop check. At the end of the data an open
position is closed at the last close.

:meth:`Backtest.step` processes exactly one bar. :meth:`Backtest.run` reaches the end
fast by jumping over bars where nothing can happen (flat with no signal change, or
holding between triggers, see :mod:`engine.scan`) and calling the very same step for
every other bar.
"""

from __future__ import annotations

import gc
import math
import threading
from dataclasses import dataclass
from typing import Callable, NamedTuple, Optional

import numpy as np
import pandas as pd

from engine.config import BacktestSettings
from engine.errors import DataError, InputError
from engine.enums import ExitReason, Side
from engine.partials import PartialOperationsManager, PartialExitAction
from engine.records import FillRecord, OpenPosition, TradeRecord, mark_to_market
from engine.risk import position_size, stop_fill, time_exit_bar
from engine.scan import scan_quiet
from engine.strategies.base import Decision, Strategy
from engine.tracker import PositionTracker
from engine.trailing import NO_TRAIL, TrailingStopManager, TrailingUpdate

Progress = Callable[[int, int], None]


class BacktestCancelled(Exception):
    """Raised by :meth:`Backtest.run` when its cancel event is set."""


@dataclass
class BarReport:
    """What one :meth:`Backtest.step` did, for the replay and for tests."""

    bar: int
    balance: float
    equity: float
    position: Optional[OpenPosition]
    fills: list[FillRecord]
    trades: list[TradeRecord]


class _Pending(NamedTuple):
    """A market order waiting for the next open."""

    close_reason: Optional[ExitReason]
    decision: Decision


class Backtest:
    def __init__(self, candles: pd.DataFrame, strategy: Strategy, settings: BacktestSettings | None = None) -> None:
        if len(candles) < 2:
            raise DataError(f"{candles.attrs.get('source', 'data')}: need at least 2 candles, got {len(candles)}")
        self.candles = candles
        self.strategy = strategy
        self.settings = settings or BacktestSettings()
        self.n = len(candles)
        self.open = np.ascontiguousarray(candles["open"].to_numpy(dtype=np.float64))
        self.high = np.ascontiguousarray(candles["high"].to_numpy(dtype=np.float64))
        self.low = np.ascontiguousarray(candles["low"].to_numpy(dtype=np.float64))
        self.close = np.ascontiguousarray(candles["close"].to_numpy(dtype=np.float64))
        signals = np.asarray(strategy.signals(candles))
        if signals.shape != (self.n,):
            raise InputError(f"strategy {strategy.name!r} returned {signals.shape} signals for {self.n} bars")
        if signals.dtype.kind == "f":
            signals = np.where(np.isnan(signals), 0.0, signals)
            if not (signals == np.round(signals)).all():
                raise InputError(f"strategy {strategy.name!r} returned directions other than -1, 0, +1")
        if signals.size and (signals.min() < -1 or signals.max() > 1):
            raise InputError(f"strategy {strategy.name!r} returned directions other than -1, 0, +1")
        self.signals = signals.astype(np.int8, copy=False)
        prev = np.concatenate(([0], self.signals[:-1]))
        self.changes = np.flatnonzero(self.signals != prev)
        self._is_change = np.zeros(self.n, dtype=bool)
        self._is_change[self.changes] = True
        self._changes: list[int] = self.changes.tolist()
        self._next_change = 0  # index into self._changes

        self.tracker = PositionTracker(self.settings.costs)
        self.trailing = TrailingStopManager()
        self.partials = PartialOperationsManager()
        self.bar = 0  # next bar to process
        self.balance = self.settings.balance
        self.position: Optional[OpenPosition] = None
        self.pending: Optional[_Pending] = None
        self.trades: list[TradeRecord] = []
        self.fills: list[FillRecord] = []
        self._trade_no = 0
        # Equity is rebuilt from state segments: (first bar, balance, signed qty, avg entry).
        self._seg_bar: list[int] = []
        self._seg_balance: list[float] = []
        self._seg_qty: list[float] = []
        self._seg_avg: list[float] = []
        self._final_equity: Optional[float] = None

    # ------------------------------------------------------------------ state
    @property
    def done(self) -> bool:
        return self.bar >= self.n

    def equity_at(self, bar: int) -> float:
        """Mark-to-market equity after ``bar`` closed (``bar`` < :attr:`bar`)."""
        if self._final_equity is not None and bar == self.n - 1:
            return self._final_equity
        k = int(np.searchsorted(self._seg_bar, bar, side="right")) - 1
        if k < 0:
            return self.settings.balance
        return self._seg_balance[k] + mark_to_market(self._seg_qty[k], self._seg_avg[k], float(self.close[bar]))

    def equity_curve(self) -> np.ndarray:
        """Equity after each processed bar's close."""
        done = self.bar
        eq = np.full(done, self.settings.balance, dtype=np.float64)
        if self._seg_bar and done:
            lengths = self._segment_lengths()
            first = self._seg_bar[0]
            # mark_to_market over every bar, in place, one bar-sized temporary at a time:
            # a million bars stay a few MB.
            tail = eq[first:]
            np.subtract(self.close[first:done], np.repeat(np.asarray(self._seg_avg), lengths), out=tail)
            tail *= np.repeat(np.asarray(self._seg_qty), lengths)
            tail += np.repeat(np.asarray(self._seg_balance), lengths)
        if self._final_equity is not None:
            eq[-1] = self._final_equity
        return eq

    def _segment_lengths(self) -> np.ndarray:
        return np.diff(np.append(np.asarray(self._seg_bar, dtype=np.int64), self.bar))

    def bars_in_market(self) -> int:
        if not self._seg_bar:
            return 0
        return int(self._segment_lengths()[np.asarray(self._seg_qty) != 0.0].sum())

    def _record_segment(self, bar: int) -> None:
        pos = self.position
        qty = pos.current_size * pos.sign if pos is not None else 0.0
        avg = pos.avg_entry_price if pos is not None else 0.0
        if self._seg_bar:
            if self._seg_balance[-1] == self.balance and self._seg_qty[-1] == qty and self._seg_avg[-1] == avg:
                return
            if self._seg_bar[-1] == bar:
                self._seg_balance[-1], self._seg_qty[-1], self._seg_avg[-1] = self.balance, qty, avg
                return
        self._seg_bar.append(bar)
        self._seg_balance.append(self.balance)
        self._seg_qty.append(qty)
        self._seg_avg.append(avg)

    # ------------------------------------------------------------------ fills
    def _book(self, fill: FillRecord) -> None:
        self.fills.append(fill)
        self.balance += fill.pnl

    def _close(self, bar: int, ref: float, reason: ExitReason, market: bool) -> None:
        pos = self.position
        assert pos is not None
        fill, trade = self.tracker.close(pos, bar, ref, reason, market)
        self._book(fill)
        self.trades.append(trade)
        self.position = None

    def _open(self, bar: int, ref: float, decision: Decision) -> None:
        policy = decision.policy or self.settings.policy
        side = Side.LONG if decision.direction > 0 else Side.SHORT
        qty = position_size(self.settings.sizing, self.balance, ref, policy.stop_loss_pct)
        if not qty > 0.0:
            return  # nothing left to trade with
        self._trade_no += 1
        pos, fill = self.tracker.open(self._trade_no, side, bar, ref, qty, policy)
        self.position = pos
        self._book(fill)

    # ------------------------------------------------------------------ the step
    def _at_open(self, j: int) -> None:
        """The pending market order fills at the open; a position held too long closes there."""
        pending = self.pending
        pos = self.position
        if pending is not None:
            self.pending = None
            o = self.open.item(j)
            if pos is not None and pending.close_reason is not None:
                self._close(j, o, pending.close_reason, True)
            if pending.decision.direction != 0 and self.position is None:
                self._open(j, o, pending.decision)
            self._record_segment(j)
        elif pos is not None and pos.policy.max_holding_bars is not None and j >= time_exit_bar(pos):  # type: ignore[operator]
            self._close(j, self.open.item(j), ExitReason.TIME_EXIT, True)
            self._record_segment(j)

    def _intrabar(self, j: int) -> None:
        """Stop first, then targets and scale-ins one action at a time, then the trailing peak."""
        pos = self.position
        assert pos is not None
        o = self.open.item(j)
        h = self.high.item(j)
        lo = self.low.item(j)
        hit = stop_fill(pos, o, h, lo)
        if hit is not None:
            self._close(j, hit[0], hit[1], True)
        else:
            avg0 = pos.avg_entry_price
            while self.position is not None:
                action = self.partials.next_action(pos, o, h, lo, avg0)
                if action is None:
                    break
                self._apply(j, pos, action)
            if self.position is not None:
                self.tracker.apply_trailing(pos, self.trailing.update(pos, h, lo))
        self._record_segment(j)

    def _at_close(self, j: int) -> None:
        """The strategy's decision becomes an order for the next open; the data's end closes all."""
        if self._is_change[j]:
            self._decide(j)
        if j == self.n - 1:
            if self.position is not None:
                self._close(j, self.close.item(j), ExitReason.END_OF_DATA, True)
                self._record_segment(j)
            self._final_equity = self.balance

    def _process_bar(self, j: int) -> None:
        self._at_open(j)
        if self.position is not None:
            self._intrabar(j)
        self._at_close(j)

    def _apply(self, j: int, pos: OpenPosition, action: object) -> None:
        if isinstance(action, PartialExitAction):
            qty = pos.original_size * action.fraction_of_original
            reason = ExitReason.TAKE_PROFIT if action.is_take_profit else ExitReason.PARTIAL_TARGET
            fill, trade = self.tracker.partial_exit(
                pos, j, action.ref_price, qty, reason, market=False, counts_as_target=not action.is_take_profit
            )
            self._book(fill)
            if trade is not None:
                self.trades.append(trade)
                self.position = None
        else:
            qty = pos.original_size * action.fraction_of_original  # type: ignore[attr-defined]
            self._book(self.tracker.scale_in(pos, j, action.ref_price, qty))  # type: ignore[attr-defined]

    def _decide(self, j: int) -> None:
        direction = int(self.signals[j])
        pos = self.position
        if pos is not None and direction == pos.sign:
            return
        if pos is None and direction == 0:
            return
        if j == self.n - 1:
            return  # no next open to fill at
        decision = self.strategy.decide(j, direction, self.settings.policy)
        close_reason = None
        if pos is not None:
            close_reason = ExitReason.REVERSAL if direction == -pos.sign else ExitReason.SIGNAL
        self.pending = _Pending(close_reason, decision)

    # ------------------------------------------------------------------ driving
    def step(self) -> BarReport:
        """Process exactly one bar and report what happened in it."""
        if self.done:
            raise IndexError("the backtest has reached the end of the data")
        nf, nt = len(self.fills), len(self.trades)
        j = self.bar
        self._process_bar(j)
        self.bar = j + 1
        return BarReport(j, self.balance, self.equity_at(j), self.position, self.fills[nf:], self.trades[nt:])

    def run(
        self, until: Optional[int] = None, progress: Optional[Progress] = None,
        cancel: Optional[threading.Event] = None,
    ) -> "Backtest":
        """Advance to bar ``until`` (default: the end), skipping bars where nothing can happen.

        Every bar's open and close phases run as in :meth:`step`; the intrabar phase of a
        bar the scanner proves quiet is replaced by the scanner's trailing update.
        """
        # The loop allocates ~a hundred thousand acyclic records; the cyclic collector
        # rescanning them costs a fifth of the run, and there are no cycles to find.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            return self._run(until, progress, cancel)
        finally:
            if gc_was_enabled:
                gc.enable()

    def _run(
        self, until: Optional[int], progress: Optional[Progress], cancel: Optional[threading.Event]
    ) -> "Backtest":
        stop_at = self.n if until is None else min(max(until, self.bar), self.n)
        last = self.n - 1
        high, low = self.high, self.low
        report_every = max(self.n // 200, 1)
        next_report = self.bar + report_every
        trig_key: object = None
        lo_t = hi_t = 0.0
        changes = self._changes
        n_changes = len(changes)
        scan = scan_quiet
        inf = math.inf
        while self.bar < stop_at:
            j = self.bar
            if j >= next_report:
                if cancel is not None and cancel.is_set():
                    raise BacktestCancelled()
                if progress is not None:
                    progress(j, self.n)
                next_report = j + report_every
            pos = self.position
            if self.pending is not None or (pos is not None and pos.policy.max_holding_bars is not None):
                self._at_open(j)
                pos = self.position
            if j < last:
                c = self._next_change
                while c < n_changes and changes[c] < j:
                    c += 1
                self._next_change = c
                nxt = changes[c] if c < n_changes else self.n
                if pos is None:
                    k = min(nxt, last, stop_at)
                    if k > j:  # flat with no decision due: nothing happens before bar k
                        self.bar = k
                        continue
                else:
                    end = min(nxt + 1, last, stop_at)
                    policy = pos.policy
                    if policy.max_holding_bars is not None:
                        end = min(end, time_exit_bar(pos))  # type: ignore[type-var]
                    key = (pos.trade_no, pos.partial_exits_done, pos.scale_ins_done, pos.stop_loss, pos.take_profit)
                    if key != trig_key:
                        trig_key = key
                        lo_t, hi_t = self._triggers(pos)
                    ts0 = pos.trailing_stop
                    if ts0 is None:
                        ts0 = -inf if pos.sign > 0 else inf
                    dist = policy.trailing_distance_pct
                    k, hw, lw, active, ts = scan(
                        high, low, j, end, pos.sign, lo_t, hi_t, pos.high_water, pos.low_water,
                        pos.avg_entry_price, policy.trailing_activation_pct or 0.0,
                        NO_TRAIL if dist is None else dist, pos.trailing_active, ts0,
                    )
                    if k > j:  # bars j..k-1 were quiet
                        self.tracker.apply_trailing(pos, TrailingUpdate(hw, lw, active, None if ts == inf or ts == -inf else ts))
                        if nxt < k:
                            self._at_close(nxt)
                            self.bar = nxt + 1
                        else:
                            self.bar = k
                        continue
            if self.position is not None:
                self._intrabar(j)
            self._at_close(j)
            self.bar = j + 1
        if progress is not None:
            progress(self.bar, self.n)
        return self

    def _triggers(self, pos: OpenPosition) -> tuple[float, float]:
        """Static low/high trigger prices for the scanner (the trailing stop moves inside it)."""
        fav = self.partials.favourable_trigger(pos, pos.avg_entry_price)
        adv = self.partials.adverse_trigger(pos)
        sl = pos.stop_loss
        if pos.sign > 0:
            lo = adv if sl is None else max(adv, sl)
            return lo, fav
        hi = adv if sl is None else min(adv, sl)
        return fav, hi
