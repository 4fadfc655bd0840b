"""Every metric as a formula of a few sufficient statistics, written once.

:func:`engine.metrics.compute_metrics` gets the statistics by scanning a finished run's
arrays; :class:`engine.performance.PerformanceTracker` keeps them as running figures
while a session is live. Both hand them to :func:`metrics_from_stats`, so the two can
differ only in floating-point summation order, never in a definition. The conventions
are in :mod:`engine.metrics`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional, Union

from engine.annualise import periods_per_year, years_covered

MetricValue = Union[float, int, str, None]

NS_PER_HOUR = 3600 * 10**9
NS_PER_DAY = 86400 * 10**9


@dataclass(frozen=True, slots=True)
class CurveStats:
    """What the equity curve contributes. Returns are simple bar returns, the first from ``initial``."""

    n_bars: int
    initial: float
    final: float
    peak: float  # the highest of the starting balance and every equity
    start_ns: int  # first and last timestamp, UTC epoch nanoseconds
    end_ns: int
    min_step_ns: Optional[int]  # smallest positive gap between consecutive bars
    ret_sum: float
    ret_std: float  # sample standard deviation (ddof=1); NaN for one bar
    ret_min: float
    ret_max: float
    downside_sq_sum: float  # sum of min(r, 0)^2
    max_dd_pct: float
    dd_bars: int  # longest run of bars under water
    dd_ns: int  # longest drawdown in time, from its peak bar to its recovery (or last) bar
    bars_in_market: int
    # The deepest drawdown's peak bar, its bottom and the bar that regained the peak (None:
    # not yet), as UTC epoch nanoseconds; all None when equity never went under water.
    dd_peak_ns: Optional[int] = None
    dd_bottom_ns: Optional[int] = None
    dd_recovery_ns: Optional[int] = None


@dataclass(frozen=True, slots=True)
class TradeStats:
    """What the closed trades contribute, in exit order for the streaks."""

    count: int = 0
    wins: int = 0
    losses: int = 0
    gross_profit: float = 0.0
    gross_loss: float = 0.0  # positive
    pnl_sum: float = 0.0
    pnl_std: float = math.nan  # ddof=1
    pnl_min: float = math.nan
    pnl_max: float = math.nan
    best_pct: float = math.nan
    worst_pct: float = math.nan
    fees: float = 0.0
    slippage: float = 0.0
    mfe_sum: float = 0.0
    mae_sum: float = 0.0
    bars_sum: int = 0
    duration_ns_sum: int = 0
    win_streak: int = 0
    loss_streak: int = 0


def _f(x: Any) -> Optional[float]:
    """A plain float, or None when undefined or not finite."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _deviation(std: float, lo: float, hi: float) -> float:
    # Identical values deviate by nothing; a two-pass std of [0.1] * 3 says 1e-17,
    # which would turn into a Sharpe ratio or an SQN of 1e16.
    return 0.0 if lo == hi and math.isfinite(lo) else std


def iso_utc(ns: int) -> str:
    import pandas as pd  # lazily: the TUI imports the metric specs long before any run

    return pd.Timestamp(ns, unit="ns", tz="UTC").isoformat()


def _cagr(ratio: float, years: Optional[float]) -> Optional[float]:
    if years is None or not years > 0:
        return None
    if ratio <= 0:
        return -100.0
    try:
        return _f((math.exp(math.log(ratio) / years) - 1.0) * 100.0)
    except OverflowError:
        return None


def metrics_from_stats(
    curve: CurveStats, trades: TradeStats, *, first_price: float, last_price: float
) -> dict[str, MetricValue]:
    """The metrics dict (keys of :data:`engine.metrics.METRIC_SPECS`) from the statistics."""
    c, t = curve, trades
    n = c.n_bars
    ppy = periods_per_year(n, c.end_ns - c.start_ns, c.min_step_ns)
    ratio = c.final / c.initial
    cagr = _cagr(ratio, years_covered(n, ppy))

    vol = sharpe = sortino = None
    if ppy is not None:
        mean_r = c.ret_sum / n
        std_r = _deviation(c.ret_std, c.ret_min, c.ret_max)
        root = math.sqrt(ppy)
        vol = _f(std_r * root * 100.0)
        if std_r > 0:
            sharpe = _f(mean_r / std_r * root)
        downside = math.sqrt(c.downside_sq_sum / n)
        if downside > 0:
            sortino = _f(mean_r / downside * root)

    max_dd = 0.0 if c.max_dd_pct == 0 else c.max_dd_pct  # no "-0.0"
    calmar = _f(cagr / abs(max_dd)) if cagr is not None and max_dd < 0 else None

    k = t.count
    sqn = None
    if k >= 2:
        std_pnl = _deviation(t.pnl_std, t.pnl_min, t.pnl_max)
        if std_pnl > 0:
            sqn = _f(math.sqrt(min(k, 100)) * (t.pnl_sum / k) / std_pnl)

    def per_trade(total: float) -> Optional[float]:
        return _f(total / k) if k else None

    days = (c.end_ns - c.start_ns) / NS_PER_DAY
    avg_win = _f(t.gross_profit / t.wins) if t.wins else None
    avg_loss = _f(-t.gross_loss / t.losses) if t.losses else None

    def when(ns: Optional[int]) -> Optional[str]:
        return iso_utc(ns) if ns is not None else None

    first_price, last_price = float(first_price), float(last_price)
    buy_hold = (last_price / first_price - 1.0) * 100.0 if first_price > 0 else None

    return {
        "total_return_pct": _f((ratio - 1.0) * 100.0),
        "cagr_pct": cagr,
        "volatility_ann_pct": vol,
        "sharpe": sharpe,
        "sortino": sortino,
        "calmar": calmar,
        "max_drawdown_pct": _f(max_dd),
        "max_drawdown_duration_bars": c.dd_bars,
        "max_drawdown_duration_days": c.dd_ns / NS_PER_DAY,
        "max_drawdown_start": when(c.dd_peak_ns),
        "max_drawdown_bottom": when(c.dd_bottom_ns),
        "max_drawdown_recovery": when(c.dd_recovery_ns),
        "trades": k,
        "win_rate_pct": _f(t.wins / k * 100.0) if k else None,
        "profit_factor": _f(t.gross_profit / t.gross_loss) if t.gross_loss > 0 else None,
        "expectancy": per_trade(t.pnl_sum),
        "net_profit": _f(t.pnl_sum),
        "gross_profit": _f(t.gross_profit),
        "gross_loss": _f(t.gross_loss),
        "largest_win": _f(t.pnl_max) if k and t.pnl_max > 0 else None,
        "largest_loss": _f(t.pnl_min) if k and t.pnl_min < 0 else None,
        "avg_win": avg_win,
        "avg_loss": avg_loss,
        "win_loss_ratio": _f(avg_win / -avg_loss) if avg_win is not None and avg_loss else None,
        "trades_per_day": _f(k / days) if days > 0 else None,
        "best_trade_pct": _f(t.best_pct) if k else None,
        "worst_trade_pct": _f(t.worst_pct) if k else None,
        "avg_duration_bars": per_trade(t.bars_sum),
        "avg_duration_hours": per_trade(t.duration_ns_sum / NS_PER_HOUR),
        "exposure_pct": _f(int(c.bars_in_market) / n * 100.0),
        "total_fees": _f(t.fees),
        "total_slippage": _f(t.slippage),
        "buy_hold_return_pct": _f(buy_hold),
        "sqn": sqn,
        "longest_win_streak": t.win_streak,
        "longest_loss_streak": t.loss_streak,
        "avg_mfe_pct": per_trade(t.mfe_sum),
        "avg_mae_pct": per_trade(t.mae_sum),
        "final_equity": _f(c.final),
        "peak_equity": _f(c.peak),
        "start": iso_utc(c.start_ns),
        "end": iso_utc(c.end_ns),
        "bars": n,
        "periods_per_year": _f(ppy),
    }
