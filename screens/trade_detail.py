"""A trade's detail: its fills, MFE/MAE and exit reason, in a dialog; n / p step to the next
or previous trade in the order the trades table shows them (sorted by PnL, say), so a
trader reads the best or worst trades one after another without closing the dialog."""

from __future__ import annotations

from typing import Callable, Optional

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Footer, Static

from screens.run_columns import FillRow, TradeRow

# Moves ``by`` trades along the table's order: the trade there and its fills, or None at an end.
Step = Callable[[int], Optional[tuple[TradeRow, list[FillRow]]]]


def summary_text(t: TradeRow) -> Text:
    style = "green" if t.pnl > 0 else "red" if t.pnl < 0 else ""
    return Text.assemble(
        (f"Trade #{t.trade_no}  {t.side.upper()}\n", "bold"),
        f"Entry   {t.entry_time:%Y-%m-%d %H:%M}  cost basis {t.entry_price:,.2f} (all entries)\n",
        f"Exit    {t.exit_time:%Y-%m-%d %H:%M}  avg {t.exit_price:,.2f}  ({t.exit_reason.replace('_', ' ')})\n",
        f"Size    {t.size:.6g}   held {t.duration_bars} bars\n",
        "PnL     ", (f"{t.pnl:,.2f}  ({t.pnl_pct:.2f} %)", style), "\n",
        f"Fees    {t.fees:,.2f}   slippage {t.slippage:,.2f}\n",
        f"MFE     {t.mfe_pct:.2f} %   MAE {t.mae_pct:.2f} %",
    )


class TradeDetailScreen(ModalScreen[None]):
    CSS_PATH = "trade_detail.tcss"
    BINDINGS = [
        Binding("escape", "dismiss_detail", "Close"),
        Binding("n", "step(1)", "Next trade"),
        Binding("p", "step(-1)", "Previous trade"),
    ]

    def __init__(self, trade: TradeRow, fills: list[FillRow], step: Optional[Step] = None) -> None:
        super().__init__()
        self.trade = trade
        self.fills = fills
        self.step = step

    def compose(self) -> ComposeResult:
        with Vertical(id="trade-detail"):
            yield Static(summary_text(self.trade), id="trade-summary")
            yield DataTable(id="fills", cursor_type="row")
            yield Button("Close", id="close", variant="primary")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#fills", DataTable)
        # The moving average entry is what targets are measured from; it differs from the
        # cost basis above once a scale-in follows a partial exit.
        table.add_columns("Kind", "Time", "Price", "Qty", "Avg entry after", "Fee", "Slippage", "PnL", "Reason")
        self._fill_table()

    def _fill_table(self) -> None:
        table = self.query_one("#fills", DataTable)
        table.clear()
        for f in self.fills:
            avg = "—" if f.avg_entry is None or f.kind == "exit" else f"{f.avg_entry:,.2f}"
            table.add_row(
                f.kind.replace("_", " "), f"{f.time:%Y-%m-%d %H:%M}", f"{f.price:,.2f}", f"{f.qty:.6g}", avg,
                f"{f.fee:,.2f}", f"{f.slippage:,.2f}", f"{f.pnl:,.2f}", f.reason.replace("_", " "),
            )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> Optional[bool]:
        if action == "step" and self.step is None:
            return False  # opened on its own: no order to step through
        return True

    def action_step(self, by: int) -> None:
        found = self.step(by) if self.step is not None else None
        if found is None:
            self.notify("No more trades that way.", timeout=2)
            return
        self.trade, self.fills = found
        self.query_one("#trade-summary", Static).update(summary_text(self.trade))
        self._fill_table()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)

    def action_dismiss_detail(self) -> None:
        self.dismiss(None)
