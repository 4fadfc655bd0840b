"""A stored run opened from History, shown and exported as the Backtest workspace does a fresh one.

It reuses :class:`ResultsView` on a :class:`RunView` read from the database, so a run
looks the same straight after the backtest and when opened again later; and it offers
the workspace's actions on it (trades CSV, run JSON, open in replay) with the same keys,
writing the same files (:mod:`engine.stored_export`). The run is read and exported on
workers: the screen says "Loading…" and keeps answering keys meanwhile.
"""

from __future__ import annotations

from typing import Literal, Optional

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Static
from textual.worker import get_current_worker

from engine.errors import InputError
from screens.run_messages import ExportFailed, ExportWritten, RunDetailLoaded, RunsReadFailed, first_line
from screens.run_view import RunView
from screens.widgets.results_view import ResultsView
from screens.widgets.trades_table import TradesTable

ACTIONS = ("export_csv", "export_json", "open_replay", "open_backtest", "rerun")


class RunDetailScreen(Screen):
    CSS_PATH = "run_detail.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        # The Backtest workspace's keys for the same actions on a fresh run.
        Binding("ctrl+e", "export_csv", "Export CSV"),
        Binding("ctrl+j", "export_json", "Export JSON"),
        Binding("ctrl+o", "open_replay", "Open in replay"),
        Binding("ctrl+b", "open_backtest", "Open in backtest"),
        Binding("ctrl+r", "rerun", "Run again"),
    ]

    def __init__(self, run_id: int) -> None:
        super().__init__()
        self.run_id = run_id
        self.view: RunView | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield ResultsView(id="run-results")
        yield Static(f"Loading run #{self.run_id}…", id="run-missing")
        with Horizontal(id="run-buttons"):
            yield Button("Export CSV", id="export-csv", action="screen.export_csv", disabled=True)
            yield Button("Export JSON", id="export-json", action="screen.export_json", disabled=True)
            yield Button("Open in replay", id="open-replay", action="screen.open_replay", disabled=True)
            yield Button("Open in backtest", id="open-backtest", action="screen.open_backtest", disabled=True)
            yield Button("Run again", id="rerun", action="screen.rerun", disabled=True)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"History › run #{self.run_id}"
        self.query_one(ResultsView).display = False
        self._load()

    def on_unmount(self) -> None:
        self.workers.cancel_node(self)

    @work(thread=True, exclusive=True, group="run-detail", name="run-detail-load", exit_on_error=False)
    def _load(self) -> None:
        from sqlalchemy.exc import SQLAlchemyError

        try:
            view = RunView.from_store(self.app.services.database(), self.run_id)
        except (InputError, SQLAlchemyError) as exc:
            self.post_message(RunsReadFailed(first_line(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(RunDetailLoaded(self.run_id, view))

    def on_run_detail_loaded(self, event: RunDetailLoaded) -> None:
        self.view = event.view
        missing = self.query_one("#run-missing", Static)
        if event.view is None:
            # Deleted elsewhere (another window, the CLI) since History was drawn.
            missing.update(f"Run #{self.run_id} is no longer in the database. Press Escape to go back.")
            return
        missing.display = False
        results = self.query_one(ResultsView)
        results.display = True
        results.show(event.view)
        for button in self.query("#run-buttons Button").results(Button):
            button.disabled = False
        self.refresh_bindings()
        # Keys go to the trades, but the view stays at the top where the title and metrics are.
        self.query_one(TradesTable).focus(scroll_visible=False)

    def on_runs_read_failed(self, event: RunsReadFailed) -> None:
        self.query_one("#run-missing", Static).update(f"Cannot read run #{self.run_id}: {event.message}")

    # --- the Backtest workspace's actions ------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> Optional[bool]:
        if action in ACTIONS and self.view is None:
            return None  # dimmed until the run is there
        return True

    def action_export_csv(self) -> None:
        if self.view is not None:
            self._export("csv")

    def action_export_json(self) -> None:
        if self.view is not None:
            self._export("json")

    @work(thread=True, group="run-export", name="run-export", exit_on_error=False)
    def _export(self, kind: Literal["csv", "json"]) -> None:
        from sqlalchemy.exc import SQLAlchemyError

        from engine.export import write_new
        from engine.stored_export import stored_run_json, stored_trades_csv

        services = self.app.services
        # Named as the workspace names a fresh run's files; exported again, a new file
        # (-2, -3 ...), never one written over.
        name = f"atb-run-{self.run_id}"
        try:
            database = services.database()
            if kind == "csv":
                path = write_new(services.export_dir, f"{name}-trades.csv", stored_trades_csv(database, self.run_id))
            else:
                text = stored_run_json(database, self.run_id)
                if text is None:
                    self.post_message(ExportFailed(f"run #{self.run_id} is no longer in the database"))
                    return
                path = write_new(services.export_dir, f"{name}.json", text)
        except (OSError, InputError, SQLAlchemyError) as exc:
            self.post_message(ExportFailed(first_line(exc)))
            return
        self.post_message(ExportWritten(str(path)))

    def on_export_written(self, event: ExportWritten) -> None:
        self.notify(f"Wrote {event.path}", title="Exported")

    def on_export_failed(self, event: ExportFailed) -> None:
        self.notify(f"Could not export: {event.message}", severity="error")

    def action_open_backtest(self) -> None:
        """The run's configuration in the Backtest form, to change and run."""
        self._to_backtest(run_now=False)

    def action_rerun(self) -> None:
        """The run's configuration run again, as it is, in the Backtest workspace."""
        self._to_backtest(run_now=True)

    def _to_backtest(self, run_now: bool) -> None:
        opener = getattr(self.app, "open_in_backtest", None)
        if self.view is not None and opener is not None:
            opener(self.run_id, dict(self.view.config), run_now)

    def action_open_replay(self) -> None:
        opener = getattr(self.app, "open_in_replay", None)
        if self.view is None or opener is None:
            return
        if self.app.current_mode == "replay":
            # Opened read-only from the Replay workspace itself: go back to it to load the run.
            self.app.pop_screen()
        opener(self.run_id)

    def action_back(self) -> None:
        self.app.pop_screen()
