"""The CLI's readable table of a finished backtest."""

from __future__ import annotations

from typing import Optional

from engine.metrics import METRIC_SPECS, format_metric
from engine.runner import BacktestResult


def as_table(result: BacktestResult, run_id: Optional[int], strategy_label: str) -> str:
    idx = result.candles.index
    cfg = result.config
    kind = "Backtest" if result.parent_run_id is None else "Replay branch" if result.actions else "Replay"
    lines = [
        f"{kind} {'#' + str(run_id) if run_id is not None else '(not saved)'}: {strategy_label}",
        f"Data:  {result.source} | {len(idx):,} bars | "
        f"{idx[0]:%Y-%m-%d %H:%M} -> {idx[-1]:%Y-%m-%d %H:%M} UTC",
        f"Costs: fee {cfg.fee_pct:g} % | slippage {cfg.slippage_pct:g} % | balance {cfg.balance:,.2f}",
    ]
    for action in result.actions:
        what = " ".join(f"{k}={v}" for k, v in action.items() if k not in ("at", "bar", "do"))
        lines.append(f"Action: {action['at']} (bar {action['bar']}) {action['do']} {what}".rstrip())
    width = max(len(s.label) for s in METRIC_SPECS) + 2
    group = None
    for spec in METRIC_SPECS:
        if spec.group != group:
            group = spec.group
            lines += ["", group]
        lines.append(f"  {spec.label:<{width}}{format_metric(result.metrics.get(spec.key), spec.fmt):>18}")
    return "\n".join(lines)
