"""Performance metrics: the one place that turns trades and an equity curve into numbers.

The backtest results screen, the replay, a live session's summary and the run history
all report the same metrics; computing them anywhere else would let two screens show
two Sharpe ratios for one run (DESIGN.md: one implementation of every financial rule).
The formulas live in :mod:`engine.metric_stats`, shared with the live session's
:class:`engine.performance.PerformanceTracker`; this module scans a finished run.

Conventions (percentages are in %, 2.0 means 2 %):

* ``equity[i]`` is the mark-to-market equity after bar ``i``'s close. The account
  starts at ``initial_balance`` just before bar 0, so the first bar's return is
  relative to it and it seeds the running peak used for drawdowns.
* Returns are simple bar-to-bar returns; the risk-free rate is 0. Annualisation uses
  the data's own calendar (:mod:`engine.annualise`): ``periods_per_year`` (ppy) =
  (bars - 1) / years from the first to the last timestamp, a year being 365.25 days
  (daily stocks ~252, daily crypto 365.25, hourly crypto 8,766); a series spanning
  less than a week counts as trading around the clock at its smallest bar spacing.
  The figure is reported as ``periods_per_year``.
* Sharpe = mean / std(ddof=1) * sqrt(ppy); Sortino = mean / sqrt(mean(min(r, 0)^2))
  * sqrt(ppy); volatility = std * sqrt(ppy). CAGR compounds over bars / ppy years
  (the calendar span plus one average bar, as the first return starts before bar 0);
  Calmar = CAGR / |max DD|. Identical values have zero deviation.
* A win is ``pnl > 0``, a loss ``pnl < 0``; a break-even trade is neither (it ends both
  streaks).
* Durations in time come from the timestamps, not from bar counts: a trade lasts
  from its entry bar's timestamp to its exit bar's; a drawdown from its peak bar (the
  last bar at the running peak before it went under, bar 0 if it opened under the
  starting balance) to the bar that regained the peak, or the last bar if none did.
  Its length in bars counts the bars under water. The longest in time and the
  longest in bars may be different drawdowns.
* Anything undefined (no trades, zero deviation, no losses for the profit factor, no
  drawdown for Calmar, fewer than two bars for anything annualised) is ``None``,
  never NaN or inf: results are dumped to JSON. Values are plain Python scalars.

Everything is vectorised with numpy; a 1,000,000-bar curve takes a few tens of ms.
"""

from __future__ import annotations

import math
from itertools import chain
from operator import attrgetter
from dataclasses import dataclass
from typing import Any, Optional, Sequence

import numpy as np

from engine.metric_stats import CurveStats, MetricValue, TradeStats, metrics_from_stats
from engine.records import TradeRecord

__all__ = [
    "METRIC_SPECS",
    "MetricSpec",
    "MetricValue",
    "buy_hold_equity",
    "compute_metrics",
    "drawdown_pct",
    "format_metric",
]


def drawdown_pct(equity: np.ndarray, *, initial: Optional[float] = None) -> np.ndarray:
    """Percent below the running peak for every bar: ``<= 0``, and 0 at a new peak.

    ``initial`` (the starting balance) seeds the running peak, so a curve that opens
    below its starting balance is already in drawdown; :func:`compute_metrics` passes
    ``initial_balance``. Pass the same to draw the curve the metrics describe.
    If the peak is not positive (a degenerate, bankrupt curve) a bar below it counts
    as -100 %.
    """
    eq = np.asarray(equity, dtype=np.float64)
    if eq.ndim != 1:
        raise ValueError(f"equity must be one-dimensional, got shape {eq.shape}")
    if eq.size == 0:
        return np.empty(0, dtype=np.float64)
    # In place, so a million-bar curve costs two bar-sized arrays, not a dozen.
    peak = np.maximum.accumulate(eq)
    if initial is not None:
        np.maximum(peak, float(initial), out=peak)
    dd = np.subtract(eq, peak)
    positive = peak > 0
    with np.errstate(all="ignore"):
        np.divide(dd, peak, out=dd, where=positive)
    dd *= 100.0
    if not positive.all():
        bust = ~positive
        dd[bust] = np.where(eq[bust] < peak[bust], -100.0, 0.0)
    return dd


def buy_hold_equity(close: np.ndarray, initial: float) -> np.ndarray:
    """The equity of buying at the first close and holding: ``initial * close / close[0]``.

    What a chart draws beside the strategy's equity; its last value is the starting
    balance grown by ``buy_hold_return_pct``, which uses the same first and last closes.
    """
    px = np.asarray(close, dtype=np.float64)
    if px.size == 0 or not px[0] > 0:
        return np.empty(0, dtype=np.float64)
    return px * (float(initial) / px[0])


def _as_utc_ns(times: Any) -> np.ndarray:
    """Timestamps as naive ``datetime64[ns]`` in UTC (accepts numpy or pandas, any unit/tz)."""
    if isinstance(times, np.ndarray) and times.dtype.kind == "M":
        return times.astype("datetime64[ns]")
    import pandas as pd  # lazily: the TUI draws drawdowns before anything needs pandas

    idx = pd.DatetimeIndex(times)
    if idx.unit != "ns":
        idx = idx.as_unit("ns")
    # asi8 is UTC epoch nanoseconds for naive and aware indexes alike: a view, not a copy.
    return idx.asi8.view("datetime64[ns]")


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and (exclusive) ends of the runs of True in a boolean array."""
    padded = np.concatenate(([False], mask, [False])).view(np.int8)
    edges = np.flatnonzero(np.diff(padded))  # alternating run starts / ends
    return edges[::2], edges[1::2]


def _longest_run(mask: np.ndarray) -> int:
    """Length of the longest run of True in a boolean array."""
    starts, ends = _runs(mask)
    return int((ends - starts).max()) if starts.size else 0


_NO_GAP = np.iinfo(np.int64).max


def _curve_stats(eq: np.ndarray, ns: np.ndarray, initial: float, bars_in_market: int) -> CurveStats:
    n = int(eq.size)
    # (eq - prev) / prev, computed in place; inf/NaN where prev == 0 is caught by _f later.
    rets = np.empty_like(eq)
    rets[0] = (eq[0] - initial) / initial
    np.subtract(eq[1:], eq[:-1], out=rets[1:])
    np.divide(rets[1:], eq[:-1], out=rets[1:])
    ret_sum = float(rets.sum())
    ret_std = float(rets.std(ddof=1)) if n >= 2 else math.nan
    ret_min, ret_max = float(rets.min()), float(rets.max())
    np.minimum(rets, 0.0, out=rets)
    rets *= rets
    downside_sq_sum = float(rets.sum())
    del rets

    steps = np.diff(ns)
    # where= finds the smallest positive gap without copying the positive ones out.
    min_step = int(steps.min(where=steps > 0, initial=_NO_GAP))
    del steps

    dd = drawdown_pct(eq, initial=initial)
    under = dd < 0
    starts, ends = _runs(under)
    dd_bars = dd_ns = 0
    deepest: tuple[Optional[int], Optional[int], Optional[int]] = (None, None, None)
    if starts.size:
        dd_bars = int((ends - starts).max())
        # A drawdown runs from its peak bar (the bar before it went under; bar 0 if it
        # opened under the starting balance) to the bar that recovered, or the last bar.
        peak_bar = np.maximum(starts - 1, 0)
        end_bar = np.minimum(ends, n - 1)
        dd_ns = int((ns[end_bar] - ns[peak_bar]).max())
        bottom = int(dd.argmin())  # the first bar at the deepest point
        episode = int(np.searchsorted(starts, bottom, side="right")) - 1
        recovered = int(ends[episode]) < n
        deepest = (int(ns[peak_bar[episode]]), int(ns[bottom]), int(ns[ends[episode]]) if recovered else None)
    return CurveStats(
        n_bars=n, initial=initial, final=float(eq[-1]), peak=max(initial, float(eq.max())),
        start_ns=int(ns[0]), end_ns=int(ns[-1]),
        min_step_ns=None if min_step == _NO_GAP else min_step,
        ret_sum=ret_sum, ret_std=ret_std, ret_min=ret_min, ret_max=ret_max,
        downside_sq_sum=downside_sq_sum, max_dd_pct=float(dd.min()), dd_bars=dd_bars, dd_ns=dd_ns,
        bars_in_market=int(bars_in_market), dd_peak_ns=deepest[0], dd_bottom_ns=deepest[1],
        dd_recovery_ns=deepest[2],
    )


def _columns(trades: Sequence[TradeRecord], names: tuple[str, ...], dtype: type) -> np.ndarray:
    """One row per trade, one column per attribute: read in one flat pass (a list of tuples
    through ``np.array`` costs several times as much for tens of thousands of trades)."""
    flat = np.fromiter(chain.from_iterable(map(attrgetter(*names), trades)), dtype=dtype, count=len(trades) * len(names))
    return flat.reshape(len(trades), len(names))


def _trade_stats(trades: Sequence[TradeRecord], ns: np.ndarray) -> TradeStats:
    n = len(trades)
    if not n:
        return TradeStats()
    bars = _columns(trades, ("entry_bar", "exit_bar"), np.int64)
    if bars.min() < 0 or bars.max() >= ns.size:
        raise ValueError(f"a trade refers to a bar outside the {ns.size} bars given")
    order = np.argsort(bars[:, 1], kind="stable")
    cols = _columns(trades, ("pnl", "pnl_pct", "fees", "slippage", "mfe_pct", "mae_pct"), np.float64)[order]
    pnl, pnl_pct, fees, slip, mfe, mae = cols.T
    wins, losses = pnl > 0, pnl < 0
    entry, exit_ = bars.T
    return TradeStats(
        count=n, wins=int(wins.sum()), losses=int(losses.sum()),
        gross_profit=float(pnl[wins].sum()), gross_loss=float(-pnl[losses].sum()),
        pnl_sum=float(pnl.sum()), pnl_std=float(pnl.std(ddof=1)) if n >= 2 else math.nan,
        pnl_min=float(pnl.min()), pnl_max=float(pnl.max()),
        best_pct=float(pnl_pct.max()), worst_pct=float(pnl_pct.min()),
        fees=float(fees.sum()), slippage=float(slip.sum()),
        mfe_sum=float(mfe.sum()), mae_sum=float(mae.sum()),
        bars_sum=int((exit_ - entry).sum()),
        # Calendar time from the entry bar to the exit bar: a weekend inside a trade counts.
        duration_ns_sum=int((ns[exit_] - ns[entry]).sum()),
        win_streak=_longest_run(wins), loss_streak=_longest_run(losses),
    )


def compute_metrics(
    trades: Sequence[TradeRecord],
    equity: np.ndarray,
    times: np.ndarray,
    *,
    initial_balance: float,
    first_price: float,
    last_price: float,
    bars_in_market: int,
) -> dict[str, MetricValue]:
    """Metrics of one run. See the module docstring for the conventions.

    ``equity`` and ``times`` (UTC, one per bar) must have the same, non-zero length;
    ``trades`` are closed trades whose bars index ``times`` (ordered by exit bar for
    the streaks; ties keep the given order). Keys are those of :data:`METRIC_SPECS`.
    """
    eq = np.asarray(equity, dtype=np.float64)
    ts = _as_utc_ns(times)
    if eq.ndim != 1 or eq.size == 0:
        raise ValueError(f"equity must be a non-empty 1-D array, got shape {eq.shape}")
    if ts.shape != eq.shape:
        raise ValueError(f"times ({ts.shape}) and equity ({eq.shape}) differ in length")
    if not np.isfinite(eq).all():
        raise ValueError("equity contains NaN or inf")
    initial = float(initial_balance)
    if not (math.isfinite(initial) and initial > 0):
        raise ValueError(f"initial_balance must be positive, got {initial_balance!r}")
    ns = ts.view(np.int64)
    with np.errstate(all="ignore"):
        curve = _curve_stats(eq, ns, initial, bars_in_market)
        trade_stats = _trade_stats(trades, ns)
    return metrics_from_stats(curve, trade_stats, first_price=first_price, last_price=last_price)


# --- display ---------------------------------------------------------------------

GROUPS = ("Returns", "Risk", "Trades", "Costs", "Excursion", "Equity")
FORMATS = ("pct", "money", "ratio", "int", "decimal", "bars", "days", "hours", "time", "text")


@dataclass(frozen=True, slots=True)
class MetricSpec:
    key: str
    label: str
    group: str
    fmt: str

    def __post_init__(self) -> None:
        if self.group not in GROUPS:
            raise ValueError(f"unknown metric group {self.group!r}")
        if self.fmt not in FORMATS:
            raise ValueError(f"unknown metric format {self.fmt!r}")


_S = MetricSpec
METRIC_SPECS: tuple[MetricSpec, ...] = (
    _S("total_return_pct", "Total return", "Returns", "pct"),
    _S("net_profit", "Net profit", "Returns", "money"),
    _S("gross_profit", "Gross profit", "Returns", "money"),
    _S("gross_loss", "Gross loss", "Returns", "money"),
    _S("cagr_pct", "CAGR", "Returns", "pct"),
    _S("buy_hold_return_pct", "Buy & hold return", "Returns", "pct"),
    _S("exposure_pct", "Exposure", "Returns", "pct"),
    _S("volatility_ann_pct", "Volatility (ann.)", "Risk", "pct"),
    _S("sharpe", "Sharpe ratio", "Risk", "ratio"),
    _S("sortino", "Sortino ratio", "Risk", "ratio"),
    _S("calmar", "Calmar ratio", "Risk", "ratio"),
    _S("max_drawdown_pct", "Max drawdown", "Risk", "pct"),
    _S("max_drawdown_duration_bars", "Longest drawdown", "Risk", "bars"),
    _S("max_drawdown_duration_days", "Longest drawdown (time)", "Risk", "days"),
    _S("max_drawdown_start", "Max drawdown from", "Risk", "time"),
    _S("max_drawdown_bottom", "Max drawdown bottom", "Risk", "time"),
    _S("max_drawdown_recovery", "Max drawdown recovered", "Risk", "time"),
    _S("trades", "Trades", "Trades", "int"),
    _S("trades_per_day", "Trades per day", "Trades", "ratio"),  # 0.45, not 0.5
    _S("win_rate_pct", "Win rate", "Trades", "pct"),
    _S("profit_factor", "Profit factor", "Trades", "ratio"),
    _S("expectancy", "Expectancy", "Trades", "money"),
    _S("avg_win", "Avg win", "Trades", "money"),
    _S("avg_loss", "Avg loss", "Trades", "money"),
    _S("win_loss_ratio", "Avg win / avg loss", "Trades", "ratio"),
    _S("largest_win", "Largest win", "Trades", "money"),
    _S("largest_loss", "Largest loss", "Trades", "money"),
    _S("best_trade_pct", "Best trade", "Trades", "pct"),
    _S("worst_trade_pct", "Worst trade", "Trades", "pct"),
    _S("avg_duration_bars", "Avg holding", "Trades", "bars"),
    _S("avg_duration_hours", "Avg holding (time)", "Trades", "hours"),
    _S("sqn", "SQN", "Trades", "ratio"),
    _S("longest_win_streak", "Longest win streak", "Trades", "int"),
    _S("longest_loss_streak", "Longest loss streak", "Trades", "int"),
    _S("total_fees", "Fees", "Costs", "money"),
    _S("total_slippage", "Slippage", "Costs", "money"),
    _S("avg_mfe_pct", "Avg MFE", "Excursion", "pct"),
    _S("avg_mae_pct", "Avg MAE", "Excursion", "pct"),
    _S("final_equity", "Final equity", "Equity", "money"),
    _S("peak_equity", "Peak equity", "Equity", "money"),
    _S("start", "Start", "Equity", "time"),
    _S("end", "End", "Equity", "time"),
    _S("bars", "Bars", "Equity", "int"),
    _S("periods_per_year", "Bars / year", "Equity", "decimal"),
)
del _S


def format_metric(value: MetricValue, fmt: str) -> str:
    """Table text for one metric: ``None`` -> "—", pct "12.34 %", money "1,234.50", decimal "8,766.0",
    time "2024-03-05 14:00" (UTC)."""
    if value is None:
        return "—"
    if fmt == "text":
        return str(value)
    if fmt == "time":  # ISO 8601 UTC text -> "2024-03-05 14:00", the form every screen shows
        text = str(value)
        return text[:10] + " " + text[11:16] if len(text) >= 16 and text[10] == "T" else text
    if fmt not in FORMATS:
        raise ValueError(f"unknown metric format {fmt!r}")
    v = float(value)
    if not math.isfinite(v):
        return "—"
    # "z": a value that rounds to zero reads 0.00, never -0.00.
    if fmt == "pct":
        return f"{v:z.2f} %"
    if fmt == "money":
        return f"{v:z,.2f}"
    if fmt == "ratio":
        return f"{v:z.2f}"
    if fmt == "int":
        return f"{round(v):,d}"
    if fmt == "decimal":
        return f"{v:z,.1f}"
    if fmt == "bars":
        return f"{round(v):,d} bars" if v == round(v) else f"{v:z,.1f} bars"
    if fmt == "days":
        return f"{v:z,.2f} d"
    return f"{v:z,.2f} h"  # hours
