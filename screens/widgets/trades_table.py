"""Trades table: sortable by any column (click a header, or `s` to cycle), Enter opens a trade."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from screens.run_view import TradeRow

COLUMNS: tuple[tuple[str, str, Callable[[TradeRow], Any]], ...] = (
    ("#", "trade_no", lambda t: t.trade_no),
    ("Side", "side", lambda t: t.side),
    ("Entry time", "entry_time", lambda t: t.entry_time),
    ("Entry", "entry_price", lambda t: t.entry_price),
    ("Exit time", "exit_time", lambda t: t.exit_time),
    ("Exit", "exit_price", lambda t: t.exit_price),
    ("Size", "size", lambda t: t.size),
    ("PnL", "pnl", lambda t: t.pnl),
    ("PnL %", "pnl_pct", lambda t: t.pnl_pct),
    ("Fees", "fees", lambda t: t.fees),
    ("Bars", "duration_bars", lambda t: t.duration_bars),
    ("Exit reason", "exit_reason", lambda t: t.exit_reason),
)


def _cells(t: TradeRow) -> list[Any]:
    pnl_style = "green" if t.pnl > 0 else "red" if t.pnl < 0 else ""
    return [
        t.trade_no, t.side, f"{t.entry_time:%Y-%m-%d %H:%M}", f"{t.entry_price:,.2f}",
        f"{t.exit_time:%Y-%m-%d %H:%M}", f"{t.exit_price:,.2f}", f"{t.size:.6g}",
        Text(f"{t.pnl:,.2f}", style=pnl_style, justify="right"),
        Text(f"{t.pnl_pct:.2f} %", style=pnl_style, justify="right"), f"{t.fees:,.2f}", t.duration_bars,
        t.exit_reason,
    ]


class TradesTable(DataTable):
    BINDINGS = [Binding("s", "cycle_sort", "Sort"), Binding("r", "reverse_sort", "Reverse")]

    @dataclass
    class TradeChosen(Message):
        trade: TradeRow

    def __init__(self, **kw: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kw)
        self.trades: dict[str, TradeRow] = {}
        self.sort_key: Optional[str] = None
        self.sort_reverse = False

    def on_mount(self) -> None:
        for label, key, _ in COLUMNS:
            self.add_column(label, key=key)

    def show(self, trades: list[TradeRow]) -> None:
        self.clear()
        self.trades = {str(t.trade_no): t for t in trades}
        for t in trades:
            self.add_row(*_cells(t), key=str(t.trade_no))
        self.sort_key, self.sort_reverse = None, False

    def sort_by(self, key: str, reverse: Optional[bool] = None) -> None:
        getter = next(g for _, k, g in COLUMNS if k == key)
        if reverse is None:
            reverse = not self.sort_reverse if key == self.sort_key else False
        self.sort_key, self.sort_reverse = key, reverse
        ordered = sorted(self.trades.values(), key=getter, reverse=reverse)
        self.clear()
        for t in ordered:
            self.add_row(*_cells(t), key=str(t.trade_no))

    def visible_order(self) -> list[int]:
        return [self.trades[str(self.coordinate_to_cell_key((r, 0)).row_key.value)].trade_no for r in range(self.row_count)]

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.sort_by(str(event.column_key.value))

    def action_cycle_sort(self) -> None:
        keys = [k for _, k, _ in COLUMNS]
        nxt = keys[(keys.index(self.sort_key) + 1) % len(keys)] if self.sort_key in keys else keys[0]
        self.sort_by(nxt, reverse=False)

    def action_reverse_sort(self) -> None:
        self.sort_by(self.sort_key or "trade_no", reverse=not self.sort_reverse)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        trade = self.trades.get(str(event.row_key.value))
        if trade is not None:
            self.post_message(self.TradeChosen(trade))
