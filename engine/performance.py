"""Metrics of a live session, kept up to date bar by bar without rescanning its history.

A live or paper session wants its Sharpe ratio, drawdown and win rate after every bar;
recomputing :func:`engine.metrics.compute_metrics` over the whole history each time
costs O(bars) per bar. :class:`PerformanceTracker` keeps the running statistics that
every metric is a formula of (sums, Welford mean and variance, the running peak and
drawdown runs, streak counters) in O(1) per update, and hands them to the same
formulas (:mod:`engine.metric_stats`), so its ``metrics()`` equals ``compute_metrics``
on the same run up to floating-point summation order.
"""

from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np
import pandas as pd

from engine.metric_stats import CurveStats, MetricValue, TradeStats, metrics_from_stats
from engine.records import TradeRecord

__all__ = ["PerformanceTracker"]


def _utc_ns(time: Any) -> int:
    """UTC epoch nanoseconds of a timestamp; naive times count as UTC, as in compute_metrics."""
    if isinstance(time, pd.Timestamp):
        return int(time.value)
    if isinstance(time, np.datetime64):
        return int(time.astype("datetime64[ns]").view(np.int64))
    return int(pd.Timestamp(time).value)


def _divide(a: float, b: float) -> float:
    """``a / b`` as numpy computes it: inf or NaN, not an exception, when ``b`` is zero."""
    if b != 0.0:
        return a / b
    if a == 0.0 or a != a:
        return math.nan
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


class _Moments:
    """Running count, sum, Welford mean/variance and range of a stream of numbers."""

    __slots__ = ("n", "total", "_mean", "_m2", "lo", "hi")

    def __init__(self) -> None:
        self.n = 0
        self.total = 0.0
        self._mean = 0.0
        self._m2 = 0.0
        self.lo = math.inf
        self.hi = -math.inf

    def add(self, x: float) -> None:
        self.n += 1
        self.total += x
        delta = x - self._mean
        self._mean += delta / self.n
        self._m2 += delta * (x - self._mean)
        # min()/max() would skip a NaN; numpy's reductions propagate it.
        if x < self.lo or x != x:
            self.lo = x
        if x > self.hi or x != x:
            self.hi = x

    def std(self) -> float:
        """Sample standard deviation (ddof=1); NaN for fewer than two values."""
        return math.sqrt(self._m2 / (self.n - 1)) if self.n >= 2 else math.nan


class _Curve:
    """Running statistics of the equity curve, one :meth:`add` per bar."""

    __slots__ = (
        "initial", "returns", "downside_sq_sum", "n", "final", "peak", "start_ns", "last_ns",
        "min_step_ns", "max_dd_pct", "under_run", "dd_bars", "dd_from_ns", "dd_ns", "in_market",
        "deepest", "deepest_open",
    )

    def __init__(self, initial: float) -> None:
        self.initial = initial
        self.returns = _Moments()
        self.downside_sq_sum = 0.0
        self.n = 0
        self.final = initial
        self.peak = initial
        self.start_ns = self.last_ns = 0
        self.min_step_ns: Optional[int] = None
        self.max_dd_pct = 0.0
        self.under_run = 0  # bars under water so far in the current drawdown
        self.dd_bars = 0
        self.dd_from_ns = 0  # timestamp of the current drawdown's peak bar
        self.dd_ns = 0
        self.in_market = 0
        self.deepest: list[Optional[int]] = [None, None, None]  # peak, bottom, recovery (ns)
        self.deepest_open = False  # the deepest drawdown is the one under way

    def add(self, t: int, equity: float, in_market: bool) -> None:
        if self.n == 0:
            self.start_ns = self.dd_from_ns = t
        else:
            step = t - self.last_ns
            if step > 0 and (self.min_step_ns is None or step < self.min_step_ns):
                self.min_step_ns = step
        r = _divide(equity - self.final, self.final)
        self.returns.add(r)
        down = min(r, 0.0)  # min(), not a comparison, so a NaN return stays NaN
        self.downside_sq_sum += down * down
        self.n += 1
        self.final = equity
        self.last_ns = t
        self.in_market += bool(in_market)
        self._drawdown(t, equity)

    def _drawdown(self, t: int, equity: float) -> None:
        # The same arithmetic as engine.metrics.drawdown_pct, one bar at a time.
        if equity > self.peak:
            self.peak = equity
        peak = self.peak
        if peak > 0:
            dd = (equity - peak) / peak * 100.0
        else:
            dd = -100.0 if equity < peak else 0.0
        if dd < self.max_dd_pct:
            self.max_dd_pct = dd
            self.deepest = [self.dd_from_ns, t, None]
            self.deepest_open = True
        if dd < 0:
            self.under_run += 1
            self.dd_bars = max(self.dd_bars, self.under_run)
            self.dd_ns = max(self.dd_ns, t - self.dd_from_ns)
        else:
            if self.under_run:  # recovered: the drawdown ends at this bar
                self.dd_ns = max(self.dd_ns, t - self.dd_from_ns)
                self.under_run = 0
                if self.deepest_open:
                    self.deepest[2] = t
                    self.deepest_open = False
            self.dd_from_ns = t

    def stats(self) -> CurveStats:
        r = self.returns
        return CurveStats(
            n_bars=self.n, initial=self.initial, final=self.final, peak=self.peak,
            start_ns=self.start_ns, end_ns=self.last_ns, min_step_ns=self.min_step_ns,
            ret_sum=r.total, ret_std=r.std(), ret_min=r.lo, ret_max=r.hi,
            downside_sq_sum=self.downside_sq_sum, max_dd_pct=self.max_dd_pct,
            dd_bars=self.dd_bars, dd_ns=self.dd_ns, bars_in_market=self.in_market,
            dd_peak_ns=self.deepest[0], dd_bottom_ns=self.deepest[1], dd_recovery_ns=self.deepest[2],
        )


class _Trades:
    """Running statistics of closed trades, one :meth:`add` per trade in closing order."""

    __slots__ = (
        "pnl", "wins", "losses", "gross_profit", "gross_loss", "best_pct", "worst_pct", "fees",
        "slippage", "mfe_sum", "mae_sum", "bars_sum", "duration_ns_sum", "win_run", "loss_run",
        "win_streak", "loss_streak",
    )

    def __init__(self) -> None:
        self.pnl = _Moments()
        self.wins = self.losses = self.win_run = self.loss_run = self.win_streak = self.loss_streak = 0
        self.gross_profit = self.gross_loss = 0.0
        self.best_pct, self.worst_pct = -math.inf, math.inf
        self.fees = self.slippage = self.mfe_sum = self.mae_sum = 0.0
        self.bars_sum = self.duration_ns_sum = 0

    def add(self, trade: TradeRecord, duration_ns: int) -> None:
        pnl = trade.pnl
        self.pnl.add(pnl)
        # A break-even trade is neither a win nor a loss, and ends both streaks.
        self.win_run = self.win_run + 1 if pnl > 0 else 0
        self.loss_run = self.loss_run + 1 if pnl < 0 else 0
        self.win_streak = max(self.win_streak, self.win_run)
        self.loss_streak = max(self.loss_streak, self.loss_run)
        if pnl > 0:
            self.wins += 1
            self.gross_profit += pnl
        elif pnl < 0:
            self.losses += 1
            self.gross_loss -= pnl
        self.best_pct = max(self.best_pct, trade.pnl_pct)
        self.worst_pct = min(self.worst_pct, trade.pnl_pct)
        self.fees += trade.fees
        self.slippage += trade.slippage
        self.mfe_sum += trade.mfe_pct
        self.mae_sum += trade.mae_pct
        self.bars_sum += trade.duration_bars
        self.duration_ns_sum += duration_ns

    def stats(self) -> TradeStats:
        p = self.pnl
        if not p.n:
            return TradeStats()
        return TradeStats(
            count=p.n, wins=self.wins, losses=self.losses, gross_profit=self.gross_profit,
            gross_loss=self.gross_loss, pnl_sum=p.total, pnl_std=p.std(), pnl_min=p.lo, pnl_max=p.hi,
            best_pct=self.best_pct, worst_pct=self.worst_pct, fees=self.fees, slippage=self.slippage,
            mfe_sum=self.mfe_sum, mae_sum=self.mae_sum, bars_sum=self.bars_sum,
            duration_ns_sum=self.duration_ns_sum, win_streak=self.win_streak, loss_streak=self.loss_streak,
        )


class PerformanceTracker:
    """The metrics of a session so far, updated in O(1) per bar and per closed trade.

    Call :meth:`on_bar` once per bar, after its close, with the mark-to-market equity
    and whether a position was open at any moment of that bar; call :meth:`on_trade`
    for every trade when it closes, in closing order. :meth:`metrics` returns what
    :func:`engine.metrics.compute_metrics` returns for the same bars and trades.
    """

    __slots__ = ("_first_price", "_last_price", "_curve", "_trades")

    def __init__(self, initial_balance: float, first_price: float) -> None:
        initial = float(initial_balance)
        if not (math.isfinite(initial) and initial > 0):
            raise ValueError(f"initial_balance must be positive, got {initial_balance!r}")
        self._first_price = float(first_price)
        self._last_price = self._first_price
        self._curve = _Curve(initial)
        self._trades = _Trades()

    @property
    def bars(self) -> int:
        return self._curve.n

    def on_bar(self, time: Any, close: float, equity: float, in_market: bool) -> None:
        equity = float(equity)
        if not math.isfinite(equity):
            raise ValueError(f"equity must be finite, got {equity!r}")
        self._curve.add(_utc_ns(time), equity, in_market)
        self._last_price = float(close)

    def on_trade(self, trade: TradeRecord, entry_time: Any, exit_time: Any) -> None:
        self._trades.add(trade, _utc_ns(exit_time) - _utc_ns(entry_time))

    def metrics(self) -> dict[str, MetricValue]:
        if not self._curve.n:
            raise ValueError("no bars yet: metrics need at least one")
        return metrics_from_stats(
            self._curve.stats(), self._trades.stats(),
            first_price=self._first_price, last_price=self._last_price,
        )
