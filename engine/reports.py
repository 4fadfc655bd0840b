"""The breakdowns traders read beside the headline metrics: longs against shorts, each
exit reason, and the run's returns month by month and year by year.

The scalar figures (net profit, largest win, drawdown dates ...) are metrics
(:mod:`engine.metrics`); these are tables, computed once from a finished run's columns
(:mod:`engine.run_tables`) and its equity curve, stored with the run and printed in its
JSON. A win is ``pnl > 0``; anything undefined (no trades on a side, no losses for a
profit factor) is ``None``, so the result is plain JSON.
"""

from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np
import pandas as pd

Report = dict[str, Any]


def _num(x: Any) -> Optional[float]:
    x = float(x)
    return x if math.isfinite(x) else None


def _group_figures(pnl: np.ndarray) -> dict[str, Any]:
    wins, losses = pnl[pnl > 0], pnl[pnl < 0]
    count = int(pnl.size)
    gross_loss = float(-losses.sum())
    return {
        "trades": count,
        "win_rate_pct": _num(wins.size / count * 100.0) if count else None,
        "net_profit": _num(pnl.sum()),
        "gross_profit": _num(wins.sum()),
        "gross_loss": _num(gross_loss),
        "avg_pnl": _num(pnl.mean()) if count else None,
        "profit_factor": _num(wins.sum() / gross_loss) if gross_loss > 0 else None,
    }


def side_split(trades: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Long and short trades apart: count, win rate, net/gross profit and loss, average."""
    pnl, side = trades["pnl"].to_numpy(dtype=np.float64), trades["side"].to_numpy(dtype=object)
    return {name: _group_figures(pnl[side == name]) for name in ("long", "short")}


def exit_reasons(trades: pd.DataFrame) -> list[dict[str, Any]]:
    """One row per exit reason, most frequent first: count, win rate, average and total PnL."""
    pnl, reason = trades["pnl"].to_numpy(dtype=np.float64), trades["exit_reason"].to_numpy(dtype=object)
    rows = []
    for name in pd.unique(reason):
        figures = _group_figures(pnl[reason == name])
        rows.append({"reason": str(name), "trades": figures["trades"], "win_rate_pct": figures["win_rate_pct"],
                     "avg_pnl": figures["avg_pnl"], "net_profit": figures["net_profit"]})
    return sorted(rows, key=lambda row: (-row["trades"], row["reason"]))


def period_returns(equity: np.ndarray, index: pd.DatetimeIndex, initial: float, freq: str) -> list[dict[str, Any]]:
    """Each calendar period's return: its last equity against the previous period's last
    (the first against the starting balance). ``freq`` is "ME" (months) or "YE" (years);
    a period without bars is left out."""
    if not len(equity):
        return []
    closing = pd.Series(np.asarray(equity, dtype=np.float64), index=index).resample(freq).last().dropna()
    before = np.concatenate(([initial], closing.to_numpy()[:-1]))
    label = "%Y-%m" if freq == "ME" else "%Y"
    rows = []
    for when, end, start in zip(closing.index, closing.to_numpy(), before):
        rows.append({"period": when.strftime(label), "return_pct": _num((end / start - 1.0) * 100.0) if start > 0 else None,
                     "pnl": _num(end - start), "equity": _num(end)})
    return rows


def run_report(trades: pd.DataFrame, equity: np.ndarray, index: pd.DatetimeIndex, initial: float) -> Report:
    return {
        "sides": side_split(trades),
        "exit_reasons": exit_reasons(trades),
        "monthly_returns": period_returns(equity, index, initial, "ME"),
        "yearly_returns": period_returns(equity, index, initial, "YE"),
    }
