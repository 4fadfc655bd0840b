"""A stored run opened from History, shown exactly as the Backtest workspace shows results.

It reuses :class:`ResultsView` on a :class:`RunView` read from the database, so a run
looks the same straight after the backtest and when opened again later.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from screens.run_view import RunView
from screens.widgets.results_view import ResultsView
from screens.widgets.trades_table import TradesTable


class RunDetailScreen(Screen):
    CSS_PATH = "run_detail.tcss"
    BINDINGS = [Binding("escape", "back", "Back")]

    def __init__(self, run_id: int) -> None:
        super().__init__()
        self.run_id = run_id
        self.view: RunView | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield ResultsView(id="run-results")
        yield Static("", id="run-missing")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"History › run #{self.run_id}"
        self.view = RunView.from_store(self.app.services.database(), self.run_id)
        missing = self.query_one("#run-missing", Static)
        results = self.query_one(ResultsView)
        if self.view is None:
            # Deleted elsewhere (another window, the CLI) since History was drawn.
            results.display = False
            missing.update(f"Run #{self.run_id} is no longer in the database. Press Escape to go back.")
            return
        missing.display = False
        results.show(self.view)
        # Keys go to the trades, but the view stays at the top where the title and metrics are.
        self.query_one(TradesTable).focus(scroll_visible=False)

    def action_back(self) -> None:
        self.app.pop_screen()
