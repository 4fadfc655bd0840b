"""A finished run's trades and fills as columns, built once per run.

A million-bar run has tens of thousands of trades and fills. Turning each one into an
ORM row or a dict, or looking its time up in the candle index one by one, is where a
run's time used to go after the engine had finished. The store, the exports and the
screens read these frames instead: one pass over the records, times resolved for all
bars in one go.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from operator import attrgetter
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from engine.runner import BacktestResult

# The order of a trade's columns in the CSV export and the JSON (fills follow in JSON).
TRADE_COLUMNS = (
    "trade_no", "side", "entry_time", "entry_price", "exit_time", "exit_price", "size",
    "pnl", "pnl_pct", "fees", "slippage", "exit_reason", "mfe_pct", "mae_pct", "duration_bars",
)

_TRADE_FIELDS = ("trade_no", "entry_bar", "exit_bar", "entry_price", "exit_price", "size", "pnl", "pnl_pct",
                 "fees", "slippage", "mfe_pct", "mae_pct")
_FILL_FIELDS = ("trade_no", "bar", "price", "qty", "fee", "slippage", "pnl", "avg_entry")


@dataclass(frozen=True)
class RunTables:
    """``trades`` has TRADE_COLUMNS plus ``entry_bar``/``exit_bar``; ``fills`` has FILL_COLUMNS
    plus ``bar``. Times are tz-aware UTC; side, kind and exit reason are enum values."""

    trades: pd.DataFrame
    fills: pd.DataFrame


def _columns(records: list, fields: tuple[str, ...]) -> dict[str, np.ndarray]:
    # One flat pass in C (attrgetter + chain + fromiter): a list of tuples through
    # np.array costs several times as much for tens of thousands of records.
    flat = np.fromiter(chain.from_iterable(map(attrgetter(*fields), records)), dtype=np.float64,
                       count=len(records) * len(fields))
    table = flat.reshape(len(records), len(fields))
    return {name: table[:, i] for i, name in enumerate(fields)}


def _values(records: list, field: str) -> list[str]:
    """An enum field's values; mapped through a dict because ``member.value`` is slow."""
    members = list(map(attrgetter(field), records))
    value_of = {member: member.value for member in set(members)}
    return list(map(value_of.__getitem__, members))


def _times(index: pd.DatetimeIndex, bars: np.ndarray) -> pd.DatetimeIndex:
    return index[bars] if len(bars) else index[:0]


def run_tables(result: "BacktestResult") -> RunTables:
    index = result.candles.index
    t = _columns(result.trades, _TRADE_FIELDS)
    entry_bar = t["entry_bar"].astype(np.int64)
    exit_bar = t["exit_bar"].astype(np.int64)
    trades = pd.DataFrame({
        "trade_no": t["trade_no"].astype(np.int64),
        "side": _values(result.trades, "side"),
        "entry_time": _times(index, entry_bar),
        "entry_price": t["entry_price"],
        "exit_time": _times(index, exit_bar),
        "exit_price": t["exit_price"],
        "size": t["size"],
        "pnl": t["pnl"],
        "pnl_pct": t["pnl_pct"],
        "fees": t["fees"],
        "slippage": t["slippage"],
        "exit_reason": _values(result.trades, "exit_reason"),
        "mfe_pct": t["mfe_pct"],
        "mae_pct": t["mae_pct"],
        "duration_bars": exit_bar - entry_bar,
        "entry_bar": entry_bar,
        "exit_bar": exit_bar,
    })
    f = _columns(result.fills, _FILL_FIELDS)
    bar = f["bar"].astype(np.int64)
    fills = pd.DataFrame({
        "trade_no": f["trade_no"].astype(np.int64),
        "kind": _values(result.fills, "kind"),
        "side": _values(result.fills, "side"),
        "time": _times(index, bar),
        "price": f["price"],
        "qty": f["qty"],
        "fee": f["fee"],
        "slippage": f["slippage"],
        "pnl": f["pnl"],
        "reason": list(map(attrgetter("reason"), result.fills)),
        "avg_entry": f["avg_entry"],
        "bar": bar,
    })
    return RunTables(trades, fills)


def iso_times(times: pd.DatetimeIndex | pd.Series) -> list[str]:
    """ISO 8601 UTC strings, as ``Timestamp.isoformat`` writes them, for many times at once."""
    values = np.asarray(pd.DatetimeIndex(times).tz_convert("UTC").tz_localize(None), dtype="datetime64[ns]")
    if not len(values):
        return []
    ns = values.view(np.int64)
    whole = ns % 1_000_000_000 == 0
    if whole.all():
        return [s + "+00:00" for s in np.datetime_as_string(values, unit="s").tolist()]
    # Like isoformat, each time shows a fraction only when it has one.
    unit = "us" if not (ns % 1000).any() else "ns"
    text = np.where(whole, np.datetime_as_string(values, unit="s"), np.datetime_as_string(values, unit=unit))
    return [s + "+00:00" for s in text.tolist()]
