"""Performance metrics: the one place that turns trades and an equity curve into numbers.

The backtest results screen, the replay, a live session's summary and the run history
all report the same metrics; computing them anywhere else would let two screens show
two Sharpe ratios for one run (DESIGN.md: one implementation of every financial rule).

Conventions (percentages are in %, 2.0 means 2 %):

* ``equity[i]`` is the mark-to-market equity after bar ``i``'s close. The account
  starts at ``initial_balance`` just before bar 0, so the first bar's return is
  relative to it and it seeds the running peak used for drawdowns.
* Returns are simple bar-to-bar returns. Annualisation uses the bar spacing (median
  time delta) and a 365-day year, since crypto trades 24/7:
  ``periods_per_year = 365 * 86400 / bar_seconds``. Risk-free rate is 0.
* Sharpe = mean / std(ddof=1) * sqrt(ppy); Sortino = mean / sqrt(mean(min(r, 0)^2))
  * sqrt(ppy); CAGR over first bar to last bar plus one bar; Calmar = CAGR / |max DD|.
* A win is ``pnl > 0``, a loss ``pnl < 0``; a break-even trade is neither (it ends both
  streaks). Durations in days/hours are bar counts times the bar spacing.
* Anything undefined (no trades, zero deviation, no losses for the profit factor, no
  drawdown for Calmar, fewer than two bars for anything annualised) is ``None``,
  never NaN or inf: results are dumped to JSON. Values are plain Python scalars.

Everything is vectorised with numpy; a 1,000,000-bar curve takes a few tens of ms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional, Sequence, Union

import numpy as np

from engine.records import TradeRecord

__all__ = [
    "METRIC_SPECS",
    "MetricSpec",
    "MetricValue",
    "compute_metrics",
    "drawdown_pct",
    "format_metric",
]

MetricValue = Union[float, int, str, None]

YEAR_SECONDS = 365 * 86400


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


def _f(x: Any) -> Optional[float]:
    """A plain float, or None when undefined or not finite."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


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


def _iso_utc(t: np.datetime64) -> str:
    import pandas as pd

    return pd.Timestamp(t).tz_localize("UTC").isoformat()


def _longest_run(mask: np.ndarray) -> int:
    """Length of the longest run of True in a boolean array."""
    if not mask.any():
        return 0
    padded = np.concatenate(([False], mask, [False])).view(np.int8)
    edges = np.flatnonzero(np.diff(padded))  # alternating run starts / ends
    return int((edges[1::2] - edges[::2]).max())


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
    ``trades`` are closed trades (ordered by exit bar for the streaks; ties keep the
    given order). Keys are those of :data:`METRIC_SPECS`.
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
    n_bars = int(eq.size)

    with np.errstate(all="ignore"):
        # --- time base ---------------------------------------------------------
        bar_seconds: Optional[float] = None
        if n_bars >= 2:
            med = float(np.median(np.diff(ts).view(np.int64), overwrite_input=True)) / 1e9
            if med > 0:
                bar_seconds = med
        ppy = YEAR_SECONDS / bar_seconds if bar_seconds else None

        # --- returns -----------------------------------------------------------
        final = float(eq[-1])
        ratio = final / initial
        total_return = (ratio - 1.0) * 100.0

        cagr: Optional[float] = None
        if bar_seconds is not None:
            elapsed = (ts[-1] - ts[0]).astype(np.int64) / 1e9 + bar_seconds
            years = elapsed / YEAR_SECONDS
            if years > 0:
                if ratio <= 0:
                    cagr = -100.0
                else:
                    try:
                        cagr = _f((math.exp(math.log(ratio) / years) - 1.0) * 100.0)
                    except OverflowError:
                        cagr = None

        # (eq - prev) / prev, computed in place; inf/NaN where prev == 0 is caught by _f below.
        rets = np.empty_like(eq)
        rets[0] = (eq[0] - initial) / initial
        np.subtract(eq[1:], eq[:-1], out=rets[1:])
        np.divide(rets[1:], eq[:-1], out=rets[1:])

        vol = sharpe = sortino = None
        if ppy is not None and n_bars >= 2:
            mean_r = float(rets.mean())
            std_r = float(rets.std(ddof=1))
            vol = _f(std_r * math.sqrt(ppy) * 100.0)
            if std_r > 0:
                sharpe = _f(mean_r / std_r * math.sqrt(ppy))
            losses = np.minimum(rets, 0.0)
            losses *= losses
            downside = float(np.sqrt(np.mean(losses)))
            del losses
            if downside > 0:
                sortino = _f(mean_r / downside * math.sqrt(ppy))

        # --- drawdown ----------------------------------------------------------
        dd = drawdown_pct(eq, initial=initial)
        max_dd = float(dd.min())
        max_dd = 0.0 if max_dd == 0 else max_dd  # no "-0.0"
        dd_bars = _longest_run(dd < 0)
        dd_days = dd_bars * bar_seconds / 86400.0 if bar_seconds is not None else None
        calmar = _f(cagr / abs(max_dd)) if cagr is not None and max_dd < 0 else None

        # --- trades ------------------------------------------------------------
        n = len(trades)
        if n:
            order = np.argsort(np.fromiter((t.exit_bar for t in trades), np.int64, n), kind="stable")
            cols = np.array(
                [(t.pnl, t.pnl_pct, t.fees, t.slippage, t.mfe_pct, t.mae_pct, t.duration_bars)
                 for t in trades],
                dtype=np.float64,
            )[order]
            pnl, pnl_pct, fees, slip, mfe, mae, dur = cols.T
        else:
            pnl = pnl_pct = fees = slip = mfe = mae = dur = np.empty(0)
        wins, losses = pnl > 0, pnl < 0
        gross_profit = float(pnl[wins].sum())
        gross_loss = float(-pnl[losses].sum())

        def mean_or_none(a: np.ndarray) -> Optional[float]:
            return _f(a.mean()) if a.size else None

        sqn = None
        if n >= 2:
            std_pnl = float(pnl.std(ddof=1))
            if std_pnl > 0:
                sqn = _f(math.sqrt(min(n, 100)) * float(pnl.mean()) / std_pnl)
        avg_dur = mean_or_none(dur)
        avg_dur_hours = avg_dur * bar_seconds / 3600.0 if avg_dur is not None and bar_seconds else None

        first_price, last_price = float(first_price), float(last_price)
        buy_hold = (last_price / first_price - 1.0) * 100.0 if first_price > 0 else None

        result: dict[str, MetricValue] = {
            "total_return_pct": _f(total_return),
            "cagr_pct": cagr,
            "volatility_ann_pct": vol,
            "sharpe": sharpe,
            "sortino": sortino,
            "calmar": calmar,
            "max_drawdown_pct": _f(max_dd),
            "max_drawdown_duration_bars": dd_bars,
            "max_drawdown_duration_days": _f(dd_days),
            "trades": n,
            "win_rate_pct": _f(wins.mean() * 100.0) if n else None,
            "profit_factor": _f(gross_profit / gross_loss) if gross_loss > 0 else None,
            "expectancy": mean_or_none(pnl),
            "avg_win": mean_or_none(pnl[wins]),
            "avg_loss": mean_or_none(pnl[losses]),
            "best_trade_pct": _f(pnl_pct.max()) if n else None,
            "worst_trade_pct": _f(pnl_pct.min()) if n else None,
            "avg_duration_bars": avg_dur,
            "avg_duration_hours": _f(avg_dur_hours),
            "exposure_pct": _f(int(bars_in_market) / n_bars * 100.0),
            "total_fees": _f(fees.sum()),
            "total_slippage": _f(slip.sum()),
            "buy_hold_return_pct": _f(buy_hold),
            "sqn": sqn,
            "longest_win_streak": _longest_run(wins),
            "longest_loss_streak": _longest_run(losses),
            "avg_mfe_pct": mean_or_none(mfe),
            "avg_mae_pct": mean_or_none(mae),
            "final_equity": _f(final),
            "peak_equity": _f(max(initial, float(eq.max()))),
            "start": _iso_utc(ts[0]),
            "end": _iso_utc(ts[-1]),
            "bars": n_bars,
        }
    return result


# --- display ---------------------------------------------------------------------

GROUPS = ("Returns", "Risk", "Trades", "Costs", "Excursion", "Equity")
FORMATS = ("pct", "money", "ratio", "int", "bars", "days", "hours", "text")


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
    _S("trades", "Trades", "Trades", "int"),
    _S("win_rate_pct", "Win rate", "Trades", "pct"),
    _S("profit_factor", "Profit factor", "Trades", "ratio"),
    _S("expectancy", "Expectancy", "Trades", "money"),
    _S("avg_win", "Avg win", "Trades", "money"),
    _S("avg_loss", "Avg loss", "Trades", "money"),
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
    _S("start", "Start", "Equity", "text"),
    _S("end", "End", "Equity", "text"),
    _S("bars", "Bars", "Equity", "int"),
)
del _S


def format_metric(value: MetricValue, fmt: str) -> str:
    """Table text for one metric: ``None`` -> "—", pct "12.34 %", money "1,234.50"."""
    if value is None:
        return "—"
    if fmt == "text":
        return str(value)
    if fmt not in FORMATS:
        raise ValueError(f"unknown metric format {fmt!r}")
    v = float(value)
    if not math.isfinite(v):
        return "—"
    if fmt == "pct":
        return f"{v:.2f} %"
    if fmt == "money":
        return f"{v:,.2f}"
    if fmt == "ratio":
        return f"{v:.2f}"
    if fmt == "int":
        return f"{round(v):,d}"
    if fmt == "bars":
        return f"{round(v):,d} bars" if v == round(v) else f"{v:,.1f} bars"
    if fmt == "days":
        return f"{v:,.2f} d"
    return f"{v:,.2f} h"  # hours
