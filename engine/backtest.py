"""The backtest: a driver that runs the engine's per-bar step over arrays of candles.

It validates the strategy's signals, owns the end of the data (an order decided on the
last bar has no next open and is dropped; a position still open is closed at the last
close with reason ``end_of_data``) and reaches the end fast: :meth:`Backtest.run` jumps
over bars where nothing can happen (flat with no signal change, or holding between
triggers, see :mod:`engine.scan`) and runs the engine's phases for every other bar.
:meth:`Backtest.step` runs :meth:`engine.core.Engine.step` for exactly one bar. Every
fill, size and exit rule lives in the engine, not here.
"""

from __future__ import annotations

from bisect import bisect_left
import threading
from typing import Callable, Optional

import numpy as np
import pandas as pd

from engine.config import BacktestSettings
from engine.core import BarReport, Engine
from engine.errors import DataError, InputError
from engine.enums import ExitReason
from engine.jit import compiled
from engine.levels import triggers
from engine.records import FillRecord, OpenPosition, TradeRecord
from engine.risk import time_exit_bar
from engine.scan import scan_quiet
from engine.state import PendingOrder
from engine.strategies.base import Strategy
from engine.trailing import NO_TRAIL

Progress = Callable[[int, int], None]

__all__ = ["Backtest", "BacktestCancelled", "BarReport"]


class BacktestCancelled(Exception):
    """Raised by :meth:`Backtest.run` when its cancel event is set."""


def checked_signals(strategy: Strategy, candles: pd.DataFrame) -> np.ndarray:
    """The strategy's directions as int8, or InputError if they are not -1/0/+1 per bar."""
    n = len(candles)
    signals = np.asarray(strategy.signals(candles))
    if signals.shape != (n,):
        raise InputError(f"strategy {strategy.name!r} returned {signals.shape} signals for {n} bars")
    if signals.dtype.kind == "f":
        signals = np.where(np.isnan(signals), 0.0, signals)
        if not (signals == np.round(signals)).all():
            raise InputError(f"strategy {strategy.name!r} returned directions other than -1, 0, +1")
    if signals.size and (signals.min() < -1 or signals.max() > 1):
        raise InputError(f"strategy {strategy.name!r} returned directions other than -1, 0, +1")
    return signals.astype(np.int8, copy=False)


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
        self.signals = checked_signals(strategy, candles)
        prev = np.concatenate(([0], self.signals[:-1]))
        self.changes = np.flatnonzero(self.signals != prev)
        self._changes: list[int] = self.changes.tolist()
        self._next_change = 0  # index into self._changes: the first change at or after the bar
        self.engine = Engine(self.settings, strategy.decide)

    # ------------------------------------------------------------------ views of the engine
    @property
    def bar(self) -> int:
        """The next bar to process."""
        return self.engine.state.bar

    @property
    def done(self) -> bool:
        return self.engine.state.bar >= self.n

    @property
    def balance(self) -> float:
        return self.engine.state.balance

    @property
    def position(self) -> Optional[OpenPosition]:
        return self.engine.state.position

    @property
    def pending(self) -> Optional[PendingOrder]:
        return self.engine.state.pending

    @property
    def fills(self) -> list[FillRecord]:
        return self.engine.journal.fills

    @property
    def trades(self) -> list[TradeRecord]:
        return self.engine.journal.trades

    def bars_in_market(self) -> int:
        return self.engine.state.bars_in_market

    def equity_curve(self) -> np.ndarray:
        """Equity after each processed bar's close."""
        return self.engine.journal.equity_curve(self.close, self.bar, self.settings.balance)

    # ------------------------------------------------------------------ driving
    def _end_of_data(self) -> None:
        """No next open after the last bar: drop its order and close what is open at the close."""
        last = self.n - 1
        self.engine.cancel_pending()
        self.engine.flatten(last, self.close.item(last), ExitReason.END_OF_DATA)

    def step(self) -> BarReport:
        """Process exactly one bar and report what happened in it."""
        if self.done:
            raise IndexError("the backtest has reached the end of the data")
        j = self.bar
        mark = self.engine.journal.mark()
        self.engine.step(j, self.open.item(j), self.high.item(j), self.low.item(j), self.close.item(j), int(self.signals[j]))
        if j == self.n - 1:
            self._end_of_data()
        return self.engine.report(j, self.close.item(j), mark)

    def run(
        self, until: Optional[int] = None, progress: Optional[Progress] = None,
        cancel: Optional[threading.Event] = None,
    ) -> "Backtest":
        """Advance to bar ``until`` (default: the end), skipping bars where nothing can happen.

        Every bar's open and close phases run as in :meth:`step`; the intrabar phase of a
        bar the scanner proves quiet is replaced by the scanner's trailing update.
        """
        eng = self.engine
        st = eng.state
        stop_at = self.n if until is None else min(max(until, st.bar), self.n)
        last = self.n - 1
        opens, high, low, signals = self.open, self.high, self.low, self.signals
        report_every = max(self.n // 200, 1)
        next_report = st.bar + report_every
        trig_key: object = None
        lo_t = hi_t = 0.0
        changes = self._changes
        n_changes = len(changes)
        # The engine may have been restored to an earlier bar since the last run.
        self._next_change = bisect_left(changes, st.bar)
        scan = compiled(scan_quiet)
        stop_sentinel = eng.trailing.stop_sentinel
        from_kernel = eng.trailing.from_kernel
        while st.bar < stop_at:
            j = st.bar
            if j >= next_report:
                if cancel is not None and cancel.is_set():
                    raise BacktestCancelled()
                if progress is not None:
                    progress(j, self.n)
                next_report = j + report_every
            pos = st.position
            if st.pending is not None or (pos is not None and pos.policy.max_holding_bars is not None):
                eng.open_phase(j, opens.item(j))
                pos = st.position
            if j < last:
                c = self._next_change
                while c < n_changes and changes[c] < j:
                    c += 1
                self._next_change = c
                nxt = changes[c] if c < n_changes else self.n
                if pos is None:
                    k = min(nxt, last, stop_at)
                    if k > j:  # flat with no decision due: nothing happens before bar k
                        st.bar = k
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
                    dist = policy.trailing_distance_pct
                    k, hw, lw, active, ts = scan(
                        high, low, j, end, pos.sign, lo_t, hi_t, pos.high_water, pos.low_water,
                        pos.avg_entry_price, policy.trailing_activation_pct or 0.0,
                        NO_TRAIL if dist is None else dist, pos.trailing_active, stop_sentinel(pos),
                    )
                    if k > j:  # bars j..k-1 were quiet
                        update = from_kernel(hw, lw, active, ts)
                        if nxt < k:
                            eng.hold_quiet(j, nxt + 1, update)
                            eng.close_phase(nxt, int(signals[nxt]))
                            st.bar = nxt + 1
                            continue
                        eng.hold_quiet(j, k, update)
                        if k == end:
                            st.bar = k
                            continue
                        # Bar k can fill something. It has no open phase to run: no order is
                        # pending (no signal change before it) and no time exit is due (k < end).
                        j = k
            if st.position is not None:
                eng.intrabar(j, opens.item(j), high.item(j), low.item(j))
            eng.close_phase(j, int(signals[j]))
            st.bar = j + 1
            if j == last:
                self._end_of_data()
        if progress is not None:
            progress(st.bar, self.n)
        return self

    def _triggers(self, pos: OpenPosition) -> tuple[float, float]:
        """Static low/high trigger prices for the scanner (the trailing stop moves inside it)."""
        lo, hi = triggers(self.engine.policy_levels(pos, pos.avg_entry_price))
        sl = pos.stop_loss
        if sl is not None:  # the stop-loss is reached by a fall (long) or a rise (short)
            if pos.sign > 0:
                lo = max(lo, sl)
            else:
                hi = min(hi, sl)
        return lo, hi
