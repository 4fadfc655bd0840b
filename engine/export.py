"""Serialisations of a finished run for other programs: trades CSV and run JSON.

Shared by the headless CLI and the TUI's export buttons so both write the same files.
Files are written atomically: a crash leaves the old file or the new one, never half.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Optional

from engine.errors import InputError
from engine.runner import BacktestResult

TRADE_COLUMNS = (
    "trade_no", "side", "entry_time", "entry_price", "exit_time", "exit_price", "size",
    "pnl", "pnl_pct", "fees", "slippage", "exit_reason", "mfe_pct", "mae_pct", "duration_bars",
)


def run_document(result: BacktestResult, run_id: Optional[int]) -> dict[str, Any]:
    idx = result.candles.index
    return {
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
        "parent_run_id": result.parent_run_id,
        "actions": result.actions,
        "metrics": result.metrics,
        "trades": result.trade_dicts(),
    }


def run_json(result: BacktestResult, run_id: Optional[int]) -> str:
    return json.dumps(run_document(result, run_id), allow_nan=False)


def trades_csv(result: BacktestResult) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=TRADE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in result.trade_dicts():
        writer.writerow({k: row[k] for k in TRADE_COLUMNS})
    return buf.getvalue()


def check_writable(path: str | Path, what: str = "--trades-csv") -> Path:
    """Fail before a run, not after it, when ``path`` cannot be written."""
    p = Path(path).expanduser()
    if p.is_dir():
        raise InputError(f"{what}: {path} is a directory")
    if not p.parent.is_dir():
        raise InputError(f"{what}: directory {str(p.parent)!r} does not exist")
    if not os.access(p.parent, os.W_OK):
        raise InputError(f"{what}: cannot write to {str(p.parent)!r}")
    return p


def write_atomic(path: str | Path, text: str) -> Path:
    p = Path(path).expanduser()
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}-", dir=p.parent)
    try:
        with os.fdopen(fd, "w", newline="") as fh:
            fh.write(text)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p
