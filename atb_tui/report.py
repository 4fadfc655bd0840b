"""Plain-text and JSON renderings of a finished backtest for the headless CLI."""

from __future__ import annotations

import csv
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Optional

from engine.metrics import METRIC_SPECS, format_metric
from engine.runner import BacktestResult

TRADE_COLUMNS = (
    "trade_no", "side", "entry_time", "entry_price", "exit_time", "exit_price", "size",
    "pnl", "pnl_pct", "fees", "slippage", "exit_reason", "mfe_pct", "mae_pct", "duration_bars",
)


def as_json(result: BacktestResult, run_id: Optional[int]) -> str:
    idx = result.candles.index
    doc: dict[str, Any] = {
        "run_id": run_id,
        "strategy": result.config.strategy,
        "params": result.config.params,
        "data": {
            "source": result.source,
            "symbol": result.symbol,
            "timeframe": result.timeframe,
            "start": idx[0].isoformat(),
            "end": idx[-1].isoformat(),
            "bars": len(idx),
        },
        "config": result.config.to_dict(),
        "metrics": result.metrics,
        "trades": result.trade_dicts(),
    }
    return json.dumps(doc, allow_nan=False)


def as_table(result: BacktestResult, run_id: Optional[int], strategy_label: str) -> str:
    idx = result.candles.index
    cfg = result.config
    lines = [
        f"Backtest {'#' + str(run_id) if run_id is not None else '(not saved)'}: {strategy_label}",
        f"Data:  {result.source} | {len(idx):,} bars | "
        f"{idx[0]:%Y-%m-%d %H:%M} -> {idx[-1]:%Y-%m-%d %H:%M} UTC",
        f"Costs: fee {cfg.fee_pct:g} % | slippage {cfg.slippage_pct:g} % | balance {cfg.balance:,.2f}",
    ]
    width = max(len(s.label) for s in METRIC_SPECS) + 2
    group = None
    for spec in METRIC_SPECS:
        if spec.group != group:
            group = spec.group
            lines += ["", group]
        lines.append(f"  {spec.label:<{width}}{format_metric(result.metrics.get(spec.key), spec.fmt):>18}")
    return "\n".join(lines)


def check_writable(path: str) -> None:
    """Fail before the run, not after it, when the CSV cannot be written."""
    from engine.errors import InputError

    p = Path(path).expanduser()
    if p.is_dir():
        raise InputError(f"--trades-csv: {path} is a directory")
    if not p.parent.is_dir():
        raise InputError(f"--trades-csv: directory {str(p.parent)!r} does not exist")
    if not os.access(p.parent, os.W_OK):
        raise InputError(f"--trades-csv: cannot write to {str(p.parent)!r}")


def write_trades_csv(result: BacktestResult, path: str) -> None:
    """Write atomically: a crash leaves the old file or the new one, never half of one."""
    p = Path(path).expanduser()
    fd, tmp = tempfile.mkstemp(prefix=".trades-", suffix=".csv", dir=p.parent)
    try:
        with os.fdopen(fd, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=TRADE_COLUMNS)
            writer.writeheader()
            for row in result.trade_dicts():
                writer.writerow({k: row[k] for k in TRADE_COLUMNS})
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
