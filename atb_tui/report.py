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
    return "\n".join(lines + _breakdowns(result.report))


def _breakdowns(report: dict) -> list[str]:  # type: ignore[type-arg]
    def money(v: object) -> str:
        return format_metric(v, "money")  # type: ignore[arg-type]

    def pct(v: object) -> str:
        return format_metric(v, "pct")  # type: ignore[arg-type]

    lines = ["", "Long / short", f"  {'':<8}{'trades':>8}{'win rate':>11}{'net profit':>14}{'profit factor':>15}"]
    for side, row in report["sides"].items():
        lines.append(f"  {side:<8}{row['trades']:>8,}{pct(row['win_rate_pct']):>11}{money(row['net_profit']):>14}"
                     f"{format_metric(row['profit_factor'], 'ratio'):>15}")
    lines += ["", "Exit reasons", f"  {'':<16}{'trades':>8}{'win rate':>11}{'avg PnL':>12}{'net profit':>14}"]
    for row in report["exit_reasons"]:
        lines.append(f"  {row['reason'].replace('_', ' '):<16}{row['trades']:>8,}{pct(row['win_rate_pct']):>11}"
                     f"{money(row['avg_pnl']):>12}{money(row['net_profit']):>14}")
    lines += ["", "Yearly returns"]
    for row in report["yearly_returns"]:
        lines.append(f"  {row['period']:<8}{pct(row['return_pct']):>11}{money(row['pnl']):>14}")
    return lines
