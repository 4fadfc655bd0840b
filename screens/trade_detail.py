"""A trade's detail: its fills, MFE/MAE and exit reason, in a dialog."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Static

from screens.run_columns import FillRow, TradeRow


class TradeDetailScreen(ModalScreen[None]):
    CSS_PATH = "trade_detail.tcss"
    BINDINGS = [Binding("escape", "dismiss_detail", "Close")]

    def __init__(self, trade: TradeRow, fills: list[FillRow]) -> None:
        super().__init__()
        self.trade = trade
        self.fills = fills

    def compose(self) -> ComposeResult:
        t = self.trade
        style = "green" if t.pnl > 0 else "red" if t.pnl < 0 else ""
        summary = Text.assemble(
            (f"Trade #{t.trade_no}  {t.side.upper()}\n", "bold"),
            f"Entry   {t.entry_time:%Y-%m-%d %H:%M}  cost basis {t.entry_price:,.2f} (all entries)\n",
            f"Exit    {t.exit_time:%Y-%m-%d %H:%M}  avg {t.exit_price:,.2f}  ({t.exit_reason.replace('_', ' ')})\n",
            f"Size    {t.size:.6g}   held {t.duration_bars} bars\n",
            "PnL     ", (f"{t.pnl:,.2f}  ({t.pnl_pct:.2f} %)", style), "\n",
            f"Fees    {t.fees:,.2f}   slippage {t.slippage:,.2f}\n",
            f"MFE     {t.mfe_pct:.2f} %   MAE {t.mae_pct:.2f} %",
        )
        with Vertical(id="trade-detail"):
            yield Static(summary, id="trade-summary")
            yield DataTable(id="fills", cursor_type="row")
            yield Button("Close", id="close", variant="primary")

    def on_mount(self) -> None:
        table = self.query_one("#fills", DataTable)
        # The moving average entry is what targets are measured from; it differs from the
        # cost basis above once a scale-in follows a partial exit.
        table.add_columns("Kind", "Time", "Price", "Qty", "Avg entry after", "Fee", "Slippage", "PnL", "Reason")
        for f in self.fills:
            avg = "—" if f.avg_entry is None or f.kind == "exit" else f"{f.avg_entry:,.2f}"
            table.add_row(
                f.kind.replace("_", " "), f"{f.time:%Y-%m-%d %H:%M}", f"{f.price:,.2f}", f"{f.qty:.6g}", avg,
                f"{f.fee:,.2f}", f"{f.slippage:,.2f}", f"{f.pnl:,.2f}", f.reason.replace("_", " "),
            )

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)

    def action_dismiss_detail(self) -> None:
        self.dismiss(None)
