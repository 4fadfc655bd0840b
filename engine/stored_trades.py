"""A stored run's trades and fills as columns, in the shape :mod:`engine.run_tables` gives a fresh run.

Reading tens of thousands of Trade rows as ORM objects costs seconds; the screens want
arrays anyway (a run opened from History is shown by the same code as a run that just
finished). One Core select whose times and enums come back as the database's text
(converted per value, they were most of the time), turned into columns in one go.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy import String, cast, select

from engine.enums import ExitReason, FillKind, Side
from engine.models import Fill, Trade

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

_TRADE_FIELDS = ("trade_no", "side", "entry_time", "entry_price", "exit_time", "exit_price", "size", "pnl",
                 "pnl_pct", "fees", "slippage", "exit_reason", "mfe_pct", "mae_pct", "duration_bars")
_FILL_FIELDS = ("trade_no", "kind", "time", "price", "qty", "fee", "slippage", "pnl", "reason", "avg_entry_price")
_ENUMS = {"side": Side, "exit_reason": ExitReason, "kind": FillKind}  # stored by member name
_TIMES = ("entry_time", "exit_time", "time")
_INTS = ("trade_no", "duration_bars")
_TEXTS = ("reason",)


def _column(table: Any, name: str):  # type: ignore[no-untyped-def]
    column = getattr(table, name)
    return cast(column, String).label(name) if name in _ENUMS or name in _TIMES else column


def _frame(engine: "Engine", table: Any, fields: tuple[str, ...], run_id: int, order: Any) -> pd.DataFrame:
    query = select(*(_column(table, name) for name in fields)).where(table.run_id == run_id).order_by(order)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    columns = list(zip(*rows)) if rows else [()] * len(fields)
    data: dict[str, object] = {}
    for name, values in zip(fields, columns):
        if name in _ENUMS:
            value_of = {member.name: member.value for member in _ENUMS[name]}
            data[name] = [value_of[v] for v in values]
        elif name in _TIMES:
            # Naive text is UTC (SQLite); PostgreSQL's carries its offset.
            data[name] = pd.to_datetime(pd.Series(values, dtype=object), utc=True, format="ISO8601")
        elif name in _TEXTS:
            data[name] = list(values)
        else:  # a missing average entry (older rows) reads as NaN
            data[name] = np.asarray([np.nan if v is None else v for v in values] if name == "avg_entry_price" else values,
                                    dtype=np.int64 if name in _INTS else np.float64)
    return pd.DataFrame(data)


def stored_trades(engine: "Engine", run_id: int) -> pd.DataFrame:
    """The run's trades by trade number: ``engine.run_tables.TRADE_COLUMNS``, side and exit
    reason as their enum values, times tz-aware UTC. Empty (same columns) for no trades."""
    return _frame(engine, Trade, _TRADE_FIELDS, run_id, Trade.trade_no)


def stored_fills(engine: "Engine", run_id: int) -> pd.DataFrame:
    """The run's fills in the order they happened, in ``engine.run_tables``' fill columns
    (``avg_entry`` NaN where an older row has none); kind as its enum value."""
    frame = _frame(engine, Fill, _FILL_FIELDS, run_id, Fill.id)  # type: ignore[arg-type]
    return frame.rename(columns={"avg_entry_price": "avg_entry"})
