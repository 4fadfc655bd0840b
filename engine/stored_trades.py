"""A stored run's trades as columns, in the shape :mod:`engine.run_tables` gives a fresh run.

Reading tens of thousands of Trade rows as ORM objects costs seconds; the screens want
arrays anyway (a run opened from History is shown by the same code as a run that just
finished). One Core select whose times and enums come back as the database's text
(converted per value, they were most of the time), turned into columns in one go.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sqlalchemy import String, cast, select

from engine.enums import ExitReason, Side
from engine.models import Trade

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

_FIELDS = ("trade_no", "side", "entry_time", "entry_price", "exit_time", "exit_price", "size", "pnl", "pnl_pct",
           "fees", "slippage", "exit_reason", "mfe_pct", "mae_pct", "duration_bars")
_ENUMS = {"side": Side, "exit_reason": ExitReason}  # stored by member name
_TIMES = ("entry_time", "exit_time")
_INTS = ("trade_no", "duration_bars")


def _column(name: str):  # type: ignore[no-untyped-def]
    column = getattr(Trade, name)
    return cast(column, String).label(name) if name in _ENUMS or name in _TIMES else column


def stored_trades(engine: "Engine", run_id: int) -> pd.DataFrame:
    """The run's trades by trade number: ``engine.run_tables.TRADE_COLUMNS``, side and exit
    reason as their enum values, times tz-aware UTC. Empty (same columns) for no trades."""
    query = select(*map(_column, _FIELDS)).where(Trade.run_id == run_id).order_by(Trade.trade_no)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    columns = list(zip(*rows)) if rows else [()] * len(_FIELDS)
    data: dict[str, object] = {}
    for name, values in zip(_FIELDS, columns):
        if name in _ENUMS:
            value_of = {member.name: member.value for member in _ENUMS[name]}
            data[name] = [value_of[v] for v in values]
        elif name in _TIMES:
            # Naive text is UTC (SQLite); PostgreSQL's carries its offset.
            data[name] = pd.to_datetime(pd.Series(values, dtype=object), utc=True, format="ISO8601")
        else:
            data[name] = np.asarray(values, dtype=np.int64 if name in _INTS else np.float64)
    return pd.DataFrame(data)
