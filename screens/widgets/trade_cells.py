"""How a trade is written in the trades table: its columns, each cell's text, their widths.

Cells are formatted when a row is drawn (a screenful at a time), never for every trade.
Widths do need every trade; they are measured once, on the worker that builds the view,
and without formatting every cell where the widest text is known to belong to the
largest or the smallest value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from screens.run_columns import TradeColumns, utc_datetime

TIME_FORMAT = "%Y-%m-%d %H:%M"
TIME_WIDTH = 16  # "2024-01-01 00:00"
SORT_MARK = 2  # room in every header for " ▲" / " ▼"


@dataclass(frozen=True)
class Column:
    label: str
    key: str  # the TradeColumns field it shows and sorts by
    right: bool  # right-aligned (numbers)


COLUMNS: tuple[Column, ...] = (
    Column("#", "trade_no", True),
    Column("Side", "side", False),
    Column("Entry time", "entry_time", False),
    Column("Entry", "entry_price", True),
    Column("Exit time", "exit_time", False),
    Column("Exit", "exit_price", True),
    Column("Size", "size", True),
    Column("PnL", "pnl", True),
    Column("PnL %", "pnl_pct", True),
    Column("Fees", "fees", True),
    Column("Bars", "duration_bars", True),
    Column("Exit reason", "exit_reason", False),
)
KEYS = tuple(c.key for c in COLUMNS)
SIGNED = {"pnl", "pnl_pct"}  # coloured by sign


def cells(trades: TradeColumns, i: int) -> list[str]:
    """The texts of trade ``i`` (its position in trade-number order), in COLUMNS order."""
    return [
        str(trades.trade_no[i]), str(trades.side[i]), utc_datetime(trades.entry_time[i]).strftime(TIME_FORMAT),
        f"{trades.entry_price[i]:,.2f}", utc_datetime(trades.exit_time[i]).strftime(TIME_FORMAT),
        f"{trades.exit_price[i]:,.2f}", f"{trades.size[i]:.6g}", f"{trades.pnl[i]:z,.2f}",
        f"{trades.pnl_pct[i]:z.2f} %", f"{trades.fees[i]:,.2f}", str(trades.duration_bars[i]),
        str(trades.exit_reason[i]).replace("_", " "),
    ]


def _extremes(values: np.ndarray, fmt: str) -> int:
    """Widest text of ``values`` where it grows with the magnitude (",.2f", ints): the
    largest or the most negative value has it."""
    if not len(values):
        return 0
    return max(len(format(values.max(), fmt)), len(format(values.min(), fmt)))


def widths(trades: TradeColumns) -> tuple[int, ...]:
    """Each column's width: its widest cell, or its label with room for the sort mark."""
    measured = {
        "trade_no": _extremes(trades.trade_no, "d"),
        "side": max(map(len, set(trades.side)), default=0),
        "entry_time": TIME_WIDTH if len(trades) else 0,
        "entry_price": _extremes(trades.entry_price, ",.2f"),
        "exit_time": TIME_WIDTH if len(trades) else 0,
        "exit_price": _extremes(trades.exit_price, ",.2f"),
        # ".6g" switches to exponents: measured, once per distinct size.
        "size": max((len(f"{x:.6g}") for x in np.unique(trades.size)), default=0),
        "pnl": _extremes(trades.pnl, ",.2f"),
        "pnl_pct": _extremes(trades.pnl_pct, ".2f") + 2 if len(trades) else 0,
        "fees": _extremes(trades.fees, ",.2f"),
        "duration_bars": _extremes(trades.duration_bars, "d"),
        "exit_reason": max(map(len, set(trades.exit_reason)), default=0),
    }
    return tuple(max(len(c.label) + SORT_MARK, measured[c.key]) for c in COLUMNS)
