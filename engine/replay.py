"""The replay: a driver that walks a run bar by bar, steps back exactly, and takes manual actions.

It drives the same engine as the backtest (through :class:`engine.backtest.Backtest`,
which owns the arrays and the end of the data) and re-implements no rule. Stepping back
restores a saved engine state and replays forward from it: a state is saved every
``checkpoint_every`` bars (O(open position) each), so a step back on a million-bar run
replays at most that many bars, with the quiet-bar skipping of the fast run.

Manual actions are market orders at the close of the cursor bar (DESIGN.md). The first
one turns the replay into a branch; stepping back past an action removes it.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from functools import cached_property
from typing import Optional

import numpy as np
import pandas as pd

from engine.actions import ManualAction, Preview
from engine.backtest import Backtest
from engine.config import BacktestSettings
from engine.core import BarReport
from engine.errors import InputError
from engine.state import Journal, Snapshot
from engine.strategies.base import Strategy
from engine.strategies.plots import Plot


@dataclass(frozen=True)
class AppliedAction:
    """A manual action taken at the close of ``bar``, and what it did."""

    bar: int
    action: ManualAction
    result: Preview


PEAK_BLOCK = 4096


class Replay:
    def __init__(
        self, candles: pd.DataFrame, strategy: Strategy, settings: BacktestSettings, checkpoint_every: int = 256,
    ) -> None:
        if checkpoint_every < 1:
            raise ValueError("checkpoint_every must be >= 1")
        self.backtest = Backtest(candles, strategy, settings)
        self.engine = self.backtest.engine
        self.every = checkpoint_every
        self.actions: list[AppliedAction] = []
        # Engine states saved before bar k is processed, keyed by k (ascending).
        self._saved_at: list[int] = [0]
        self._saved: list[Snapshot] = [self.engine.snapshot()]
        # The history of the furthest point reached on this branch, while it is still valid.
        self._ahead: Optional[Journal] = None
        self._ahead_bar = 0
        # Peak equity through the end of each block of PEAK_BLOCK bars, for the drawdown shown
        # at every step without reading the whole curve.
        self._block_peaks: list[float] = []

    # ------------------------------------------------------------------ where we are
    @property
    def n(self) -> int:
        return self.backtest.n

    @property
    def cursor(self) -> int:
        """The last bar processed (-1 before the first)."""
        return self.engine.state.bar - 1

    @property
    def done(self) -> bool:
        return self.backtest.done

    @property
    def is_branch(self) -> bool:
        return bool(self.actions)

    @cached_property
    def plots(self) -> list[Plot]:
        """The strategy's indicators over the whole run, computed once (a chart reads windows)."""
        return self.backtest.strategy.plots(self.backtest.candles)

    @cached_property
    def volume(self) -> np.ndarray:
        candles = self.backtest.candles
        if "volume" not in candles.columns:
            return np.zeros(self.n)
        return candles["volume"].to_numpy(dtype=np.float64)

    # ------------------------------------------------------------------ moving
    # Saved states are kept sorted by the bar they precede. Every one of them describes the
    # current branch: taking an action forgets the states after its bar, and so does
    # removing one. There are never actions after the cursor, so a state saved ahead of
    # it is where the branch goes from here, and a jump forward can start from it.
    def _save(self) -> None:
        k = self.engine.state.bar
        if k % self.every == 0:
            i = bisect.bisect_left(self._saved_at, k)
            if i == len(self._saved_at) or self._saved_at[i] != k:
                self._saved_at.insert(i, k)
                self._saved.insert(i, self.engine.snapshot())

    def _forget_after(self, bar: int) -> None:
        """Drop the states saved after bar ``bar``, and the history kept for them: they lack an
        action taken at it or hold one since removed."""
        i = max(bisect.bisect_right(self._saved_at, bar), 1)  # the start is never stale
        del self._saved_at[i:], self._saved[i:]
        self._ahead = None
        del self._block_peaks[bar // PEAK_BLOCK:]  # the equity at bar itself may change too

    def _restore(self, i: int) -> None:
        """Back (or ahead) to saved state ``i``. Going back keeps the history given up, so that
        going ahead again can take it back instead of recomputing it."""
        snap = self._saved[i]
        journal = self.engine.journal
        now = journal.mark()
        if self._saved_at[i] <= self.engine.state.bar:  # back
            if self._ahead is None or self.engine.state.bar > self._ahead_bar:
                self._ahead, self._ahead_bar = journal.copy(), self.engine.state.bar
            self.engine.restore(snap)
            return
        assert self._ahead is not None  # ahead only along a history kept when coming back
        journal.extend(self._ahead, now, snap.mark)
        self.engine.state = snap.state.copy()

    def step(self) -> BarReport:
        """Process the next bar."""
        self._save()
        return self.backtest.step()

    def _forward_to(self, cursor: int) -> None:
        """Run forward (fast, saving states on the way) until ``cursor`` is the last bar processed,
        taking the branch's actions again at their bars."""
        target = cursor + 1
        i = bisect.bisect_right(self._saved_at, target) - 1
        if self._ahead is not None and self.engine.state.bar < self._saved_at[i] <= self._ahead_bar:
            self._restore(i)  # been there before: start from the nearest saved state
        while self.engine.state.bar < target:
            k = self.engine.state.bar
            stop = min(target, (k // self.every + 1) * self.every)
            due = [a for a in self.actions if k <= a.bar < stop]
            if due:
                stop = due[0].bar + 1
            self.backtest.run(until=stop)
            for applied in self.actions:
                if applied.bar == stop - 1:
                    self.engine.apply(applied.action, applied.bar, float(self.backtest.close[applied.bar]))
            self._save()

    def goto(self, cursor: int) -> None:
        """Make ``cursor`` the last processed bar (-1: before the first), forward or back.

        Going back past a manual action removes it from the branch."""
        cursor = max(-1, min(cursor, self.n - 1))
        if cursor >= self.cursor:
            self._forward_to(cursor)
            return
        removed = [a.bar for a in self.actions if a.bar > cursor]
        if removed:
            self.actions = [a for a in self.actions if a.bar <= cursor]
            self._forget_after(min(removed))
        self._restore(bisect.bisect_right(self._saved_at, cursor + 1) - 1)
        if removed:  # the history just given up holds the removed actions: never go ahead along it
            self._ahead = None
        self._forward_to(cursor)

    def back(self) -> None:
        """One bar back, to exactly the state after the previous bar."""
        if self.cursor >= 0:
            self.goto(self.cursor - 1)

    def play_to_end(self) -> None:
        self._forward_to(self.n - 1)

    def peak_equity(self) -> float:
        """The highest equity (starting balance included) up to the cursor's close."""
        bt = self.backtest
        peak = bt.settings.balance
        bars = self.cursor + 1
        if bars <= 0:
            return peak
        journal = self.engine.journal
        blocks = bars // PEAK_BLOCK  # whole blocks before the cursor (more may be known, ahead)
        while len(self._block_peaks) < blocks:
            b = len(self._block_peaks)
            before = self._block_peaks[-1] if self._block_peaks else peak
            block = journal.equity_curve(bt.close, (b + 1) * PEAK_BLOCK, peak, b * PEAK_BLOCK)
            self._block_peaks.append(max(before, float(block.max())))
        done = blocks * PEAK_BLOCK
        if blocks:
            peak = self._block_peaks[blocks - 1]
        if bars > done:
            peak = max(peak, float(journal.equity_curve(bt.close, bars, bt.settings.balance, done).max()))
        return peak

    # ------------------------------------------------------------------ acting
    def _price(self) -> float:
        if self.cursor < 0:
            raise InputError("step to a bar first: actions happen at a bar's close")
        return float(self.backtest.close[self.cursor])

    def preview(self, action: ManualAction) -> Preview:
        return self.engine.preview(action, self.cursor, self._price())

    def act(self, action: ManualAction) -> Preview:
        """Take ``action`` at the cursor bar's close; InputError (nothing changes) for a bad one."""
        if self.done:
            raise InputError("the data has ended (open positions were closed at the last close): step back to act")
        result = self.engine.apply(action, self.cursor, self._price())
        self.actions.append(AppliedAction(self.cursor, action, result))
        self._forget_after(self.cursor)
        return result

    def prepare(self) -> None:
        """Play the run once and come back to the start: every later jump starts from a saved
        state at most ``checkpoint_every`` bars before its target. The chart's series are
        computed here too, so a front-end's first frame does not wait for them."""
        self.play_to_end()
        self.goto(-1)
        self.plots, self.volume  # noqa: B018
