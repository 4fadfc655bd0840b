"""Serialisations of a finished run for other programs: trades CSV and run JSON.

Shared by the headless CLI and the TUI's export buttons so both write the same files.
Both are built from the run's columns (:mod:`engine.run_tables`), not trade by trade:
a million-bar run has tens of thousands of trades. Files are written atomically: a
crash leaves the old file or the new one, never half.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Optional

from engine.errors import InputError
from engine.run_tables import TRADE_COLUMNS, RunTables, iso_times
from engine.runner import BacktestResult

__all__ = ["TRADE_COLUMNS", "run_document", "run_json", "trades_csv", "trade_dicts", "check_writable", "write_atomic"]

# JSON names of the fill columns (the store calls the last one avg_entry_price).
_FILL_KEYS = ("time", "kind", "price", "qty", "fee", "slippage", "pnl", "reason", "avg_entry")


def trade_dicts(tables: RunTables) -> list[dict[str, Any]]:
    """Trades as JSON-ready dicts, each with its fills, times in ISO 8601 UTC."""
    fills = tables.fills
    columns = {key: iso_times(fills[key]) if key == "time" else fills[key].tolist() for key in _FILL_KEYS}
    fills_of: dict[int, list[dict[str, Any]]] = {}
    for trade_no, values in zip(fills["trade_no"].tolist(), zip(*(columns[k] for k in _FILL_KEYS))):
        fills_of.setdefault(trade_no, []).append(dict(zip(_FILL_KEYS, values)))
    trades = tables.trades
    columns = {key: iso_times(trades[key]) if key.endswith("_time") else trades[key].tolist() for key in TRADE_COLUMNS}
    rows = [dict(zip(TRADE_COLUMNS, values)) for values in zip(*(columns[k] for k in TRADE_COLUMNS))]
    for row in rows:
        row["fills"] = fills_of.get(row["trade_no"], [])
    return rows


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
        "trades": trade_dicts(result.tables),
    }


def run_json(result: BacktestResult, run_id: Optional[int]) -> str:
    import orjson

    return orjson.dumps(run_document(result, run_id)).decode()


def trades_csv(result: BacktestResult) -> str:
    frame = result.tables.trades.loc[:, list(TRADE_COLUMNS)].copy()
    for column in ("entry_time", "exit_time"):
        frame[column] = iso_times(frame[column])
    return frame.to_csv(index=False, lineterminator="\n")


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
