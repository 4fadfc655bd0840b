"""Serialisations of a finished run for other programs: trades CSV and run JSON.

Shared by the headless CLI and the TUI's export buttons so both write the same files.
Both are built from the run's columns (:mod:`engine.run_tables`), not trade by trade:
a million-bar run has tens of thousands of trades. Files are written atomically: a
crash leaves the old file or the new one, never half.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Iterator, Optional

from engine.errors import InputError
from engine.run_tables import TRADE_COLUMNS, RunTables, iso_times
from engine.runner import BacktestResult

__all__ = ["TRADE_COLUMNS", "run_document", "run_json", "write_run_json", "spool_trades_json", "trades_json_chunks", "trades_csv", "trades_csv_text", "document_head", "trade_dicts", "check_writable", "write_atomic", "write_new"]

if TYPE_CHECKING:
    import pandas as pd

TRADES_PER_CHUNK = 20_000
# Bytes of spooled trade JSON kept in memory (a million-bar run's are about 30 MB).
SPOOL_IN_MEMORY = 64 << 20
# JSON names of the fill columns (the store calls the last one avg_entry_price).
_FILL_KEYS = ("time", "kind", "price", "qty", "fee", "slippage", "pnl", "reason", "avg_entry")


def trade_dicts(tables: RunTables, start: int = 0, stop: Optional[int] = None) -> list[dict[str, Any]]:
    """Trades ``start:stop`` as JSON-ready dicts, each with its fills, times in ISO 8601 UTC."""
    trades = tables.trades.iloc[start:stop]
    fills = tables.fills
    if start or stop is not None:
        fills = fills[fills["trade_no"].isin(trades["trade_no"])] if len(trades) else fills.iloc[:0]
    columns = {key: iso_times(fills[key]) if key == "time" else fills[key].tolist() for key in _FILL_KEYS}
    fills_of: dict[int, list[dict[str, Any]]] = {}
    for trade_no, values in zip(fills["trade_no"].tolist(), zip(*(columns[k] for k in _FILL_KEYS))):
        fills_of.setdefault(trade_no, []).append(dict(zip(_FILL_KEYS, values)))
    columns = {key: iso_times(trades[key]) if key.endswith("_time") else trades[key].tolist() for key in TRADE_COLUMNS}
    rows = [dict(zip(TRADE_COLUMNS, values)) for values in zip(*(columns[k] for k in TRADE_COLUMNS))]
    for row in rows:
        row["fills"] = fills_of.get(row["trade_no"], [])
    return rows


def document_head(
    *, run_id: Optional[int], strategy: str, config: dict[str, Any], source: str, symbol: str, timeframe: str,
    start: Optional[str], end: Optional[str], bars: Optional[int], parent_run_id: Optional[int],
    actions: list[dict[str, Any]], metrics: dict[str, Any], report: Optional[dict[str, Any]],
) -> dict[str, Any]:
    """Everything of the run JSON but its trades, in its order: one outline for a fresh
    run (:func:`run_document`) and a stored one (:mod:`engine.stored_export`)."""
    return {
        "run_id": run_id,
        "strategy": strategy,
        "params": config.get("params", {}),
        "data": {"source": source, "symbol": symbol, "timeframe": timeframe, "start": start, "end": end, "bars": bars},
        "config": config,
        "parent_run_id": parent_run_id,
        "actions": actions,
        "metrics": metrics,
        "report": report,
    }


def run_document(result: BacktestResult, run_id: Optional[int], with_trades: bool = True) -> dict[str, Any]:
    idx = result.candles.index
    document = document_head(
        run_id=run_id, strategy=result.config.strategy, config=result.config.to_dict(), source=result.source,
        symbol=result.symbol, timeframe=result.timeframe, start=idx[0].isoformat(), end=idx[-1].isoformat(),
        bars=len(idx), parent_run_id=result.parent_run_id, actions=result.actions, metrics=result.metrics,
        report=result.report,
    )
    if with_trades:
        document["trades"] = trade_dicts(result.tables)
    return document


def trades_json_chunks(result: BacktestResult, chunk: int = TRADES_PER_CHUNK) -> Iterator[memoryview]:
    """The run's trades as JSON, ``chunk`` trades at a time, each piece the objects alone
    (comma-separated, no brackets): a run of hundreds of thousands of trades is never
    held as dicts all at once."""
    import orjson

    for start in range(0, len(result.tables.trades), chunk):
        yield memoryview(orjson.dumps(trade_dicts(result.tables, start, start + chunk)))[1:-1]


def _write_trades(result: BacktestResult, out: BinaryIO, chunk: int = TRADES_PER_CHUNK) -> None:
    for i, piece in enumerate(trades_json_chunks(result, chunk)):
        if i:
            out.write(b", ")
        out.write(piece)


def spool_trades_json(result: BacktestResult, chunk: int = TRADES_PER_CHUNK) -> BinaryIO:
    """The run's trades as JSON objects, comma-separated, made now and kept for
    :func:`write_run_json`: in memory up to ``SPOOL_IN_MEMORY`` bytes, on disk beyond.
    The CLI makes them while the run is being stored, before its id is known."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
    _write_trades(result, spool, chunk)  # type: ignore[arg-type]
    spool.seek(0)
    return spool  # type: ignore[return-value]


def write_run_json(result: BacktestResult, run_id: Optional[int], out: BinaryIO, trades: Optional[BinaryIO] = None) -> None:
    """The run's JSON document (as :func:`run_document`), streamed to ``out``; its trades
    from ``trades`` when :func:`spool_trades_json` made them already."""
    import orjson

    head = orjson.dumps(run_document(result, run_id, with_trades=False))
    out.write(head[:-1] + b', "trades": [')
    if trades is None:
        _write_trades(result, out)
    else:
        shutil.copyfileobj(trades, out, 1 << 20)
    out.write(b"]}")


def run_json(result: BacktestResult, run_id: Optional[int]) -> str:
    buffer = io.BytesIO()
    write_run_json(result, run_id, buffer)
    return buffer.getvalue().decode()


def trades_csv(result: BacktestResult) -> str:
    return trades_csv_text(result.tables.trades)


def trades_csv_text(trades: "pd.DataFrame") -> str:
    """The trades CSV of a trades frame (:class:`engine.run_tables.RunTables`' columns)."""
    frame = trades.loc[:, list(TRADE_COLUMNS)].copy()
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


def _readable_by_others(fd: int) -> None:
    # mkstemp makes 0600 files; an export is for other programs and people: the usual mode.
    umask = os.umask(0)
    os.umask(umask)
    os.fchmod(fd, 0o666 & ~umask)


def write_atomic(path: str | Path, text: str) -> Path:
    """Write ``path`` whole or not at all (replacing what is there), with the usual permissions."""
    p = Path(path).expanduser()
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}-", dir=p.parent)
    try:
        _readable_by_others(fd)
        with os.fdopen(fd, "w", newline="") as fh:
            fh.write(text)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p


def write_new(folder: str | Path, name: str, text: str) -> Path:
    """Write ``text`` to ``folder/name`` (the folder made if missing), never over an existing
    file: when the name is taken, ``stem-2.ext``, ``stem-3.ext`` ... Returns the path used."""
    target = Path(folder).expanduser()
    target.mkdir(parents=True, exist_ok=True)
    stem, dot, ext = name.partition(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{name}-", dir=target)
    try:
        _readable_by_others(fd)
        with os.fdopen(fd, "w", newline="") as fh:
            fh.write(text)
        for n in range(1, 10_000):
            candidate = target / (name if n == 1 else f"{stem}-{n}{dot}{ext}")
            try:
                os.link(tmp, candidate)  # fails if the name exists: no race with another writer
            except FileExistsError:
                continue
            return candidate
        raise InputError(f"{target}: too many files named like {name}")
    finally:
        Path(tmp).unlink(missing_ok=True)
