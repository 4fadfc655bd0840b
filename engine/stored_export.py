"""Exports of a run read back from the database, in the format of a fresh run's export.

A run opened from History has no BacktestResult in memory, only its rows. Its trades
(:mod:`engine.stored_trades`) and fills are read as the columns of
:class:`engine.run_tables.RunTables`, so the trades CSV and the trades of the run JSON
come out of :mod:`engine.export` itself (``TRADE_COLUMNS``, ``trade_dicts``,
``iso_times``); the document around them is read from the Run row. Tests hold these files equal to what the Backtest workspace writes
for the same run straight after it finished.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

import pandas as pd
from sqlalchemy import String, cast, select

from engine.enums import FillKind, Side
from engine.export import document_head, trade_dicts, trades_csv_text
from engine.models import Fill, Run
from engine.run_tables import RunTables, iso_times
from engine.stored_trades import stored_trades

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = ["stored_fills", "stored_tables", "stored_document", "stored_run_json", "stored_trades_csv"]

# Fill columns of RunTables.fills as the store names them (it calls avg_entry avg_entry_price).
_FILL_COLUMNS = {"trade_no": Fill.trade_no, "kind": Fill.kind, "side": Fill.side, "time": Fill.time,
                 "price": Fill.price, "qty": Fill.qty, "fee": Fill.fee, "slippage": Fill.slippage,
                 "pnl": Fill.pnl, "reason": Fill.reason, "avg_entry": Fill.avg_entry_price}
# The store keeps enum names (LONG); the exports write their values (long).
_VALUES = {"kind": {m.name: m.value for m in FillKind}, "side": {m.name: m.value for m in Side}}


def stored_fills(engine: "Engine", run_id: int) -> pd.DataFrame:
    """The run's fills in the order they happened, as the columns of ``RunTables.fills``
    (without bar numbers: the store does not keep them, and no export needs them)."""
    # Enums as their stored names, converted a column at a time below: per-row conversion
    # by SQLAlchemy is what makes reading 100,000 rows slow.
    selected = [cast(c, String).label(k) if k in _VALUES else c.label(k) for k, c in _FILL_COLUMNS.items()]
    with engine.connect() as conn:
        rows = conn.execute(select(*selected).where(Fill.run_id == run_id).order_by(Fill.id)).all()
    fills = pd.DataFrame.from_records(rows, columns=list(_FILL_COLUMNS))
    for name, values in _VALUES.items():
        fills[name] = fills[name].map(values)
    fills["time"] = pd.to_datetime(fills["time"], utc=True)
    fills["avg_entry"] = fills["avg_entry"].astype("float64")  # None (not recorded) -> NaN, as a column
    return fills


def stored_tables(engine: "Engine", run_id: int) -> RunTables:
    """A stored run's trades and fills as the columns a fresh run has."""
    return RunTables(stored_trades(engine, run_id), stored_fills(engine, run_id))


def _iso(value: Any) -> Optional[str]:
    return None if value is None else iso_times(pd.DatetimeIndex([pd.Timestamp(value)]))[0]


def stored_document(run: Run, tables: Optional[RunTables] = None) -> dict[str, Any]:
    """The run JSON document (:func:`engine.export.run_document`) of a stored run; with its
    trades when ``tables`` are given."""
    config = dict(run.config or {})
    actions = config.pop("actions", [])  # the store keeps a branch's actions in its config
    metrics = dict(run.metrics or {})
    document = document_head(
        run_id=run.id, strategy=run.strategy, config=config, source=run.data_source, symbol=run.symbol,
        timeframe=run.timeframe, start=_iso(run.period_start), end=_iso(run.period_end), bars=metrics.get("bars"),
        parent_run_id=run.parent_run_id, actions=actions, metrics=metrics,
        report=run.report,  # None for a run stored before there were reports
    )
    if tables is not None:
        document["trades"] = trade_dicts(tables)
    return document


def stored_run_json(engine: "Engine", run_id: int) -> Optional[str]:
    """The run JSON of a stored run, or None if there is no such run."""
    import orjson

    from engine.store import get_run

    run = get_run(engine, run_id)
    if run is None:
        return None
    return orjson.dumps(stored_document(run, stored_tables(engine, run_id))).decode()


def stored_trades_csv(engine: "Engine", run_id: int) -> str:
    """The trades CSV of a stored run (the header alone if it has no trades)."""
    return trades_csv_text(stored_trades(engine, run_id))
