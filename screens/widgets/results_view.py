"""A run's results: metrics, equity with drawdown, trades; Enter on a trade opens its detail."""

from __future__ import annotations

from typing import Optional

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Label

from screens.run_view import RunView
from screens.trade_detail import TradeDetailScreen
from screens.widgets.equity_chart import EquityChart
from screens.widgets.metrics_panel import MetricsPanel
from screens.widgets.trades_table import TradesTable


class ResultsView(VerticalScroll):
    DEFAULT_CSS = """
    ResultsView { height: 1fr; }
    ResultsView #results-title { text-style: bold; margin: 0 1; }
    ResultsView TradesTable { height: 16; max-height: 100%; margin: 0 1; }
    """

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.view: Optional[RunView] = None

    def compose(self) -> ComposeResult:
        yield Label("", id="results-title")
        yield MetricsPanel(id="metrics")
        yield EquityChart(id="equity-chart")
        yield TradesTable(id="trades")

    def show(self, view: RunView) -> None:
        self.view = view
        run = f"Run #{view.run_id}" if view.run_id is not None else "Run (not saved)"
        self.query_one("#results-title", Label).update(f"{run}: {view.title}  |  {view.source}")
        self.query_one(MetricsPanel).show(view.metrics)
        self.query_one(EquityChart).show(view.curve)
        self.query_one(TradesTable).show(view.trades, view.trade_widths)

    def on_trades_table_trade_chosen(self, event: TradesTable.TradeChosen) -> None:
        if self.view is not None:
            self.app.push_screen(TradeDetailScreen(event.trade, self.view.fills_of(event.trade.trade_no)))
