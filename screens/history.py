"""The History workspace: every stored run, newest first; open one, compare two, delete.

Runs are read from the database each time the screen comes back into view, so a run
just finished in the Backtest workspace is listed without a manual reload.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Optional

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Middle
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from engine.errors import InputError
from engine.metrics import format_metric
from screens.compare import CompareScreen, run_heading
from screens.confirm import ConfirmScreen
from screens.run_detail import RunDetailScreen

if TYPE_CHECKING:
    from engine.models import Run

EMPTY_MESSAGE = "No runs yet — run a backtest (F1)"
MARKS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
COLUMNS = (
    ("", "mark"), ("Id", "id"), ("When (UTC)", "when"), ("Strategy", "strategy"), ("Symbol", "symbol"),
    ("TF", "timeframe"), ("Period", "period"), ("Return", "return"), ("Max DD", "max_dd"), ("Trades", "trades"),
)


def utc_minute(when: Optional[datetime]) -> str:
    """UTC text to the minute; naive times are already UTC (that is how the store writes them)."""
    if when is None:
        return "—"
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc)
    return f"{when:%Y-%m-%d %H:%M}"


def period_text(run: Run) -> str:
    if run.period_start is None or run.period_end is None:
        return "—"
    return f"{run.period_start:%Y-%m-%d}..{run.period_end:%Y-%m-%d}"


def _signed(value: Any, fmt: str) -> Text:
    style = ""
    if isinstance(value, (int, float)):
        style = "green" if value > 0 else "red" if value < 0 else ""
    return Text(format_metric(value, fmt), style=style, justify="right")


def _newest_first(runs: list[Run]) -> list[Run]:
    # The id breaks ties, so runs saved within one clock tick keep a stable order.
    return sorted(runs, key=lambda r: (r.created_at, r.id or 0), reverse=True)


class RunsTable(DataTable):
    """The runs list; only here so Enter shows up in the Footer as "Open"."""

    BINDINGS = [Binding("enter", "select_cursor", "Open")]


class HistoryScreen(Screen):
    CSS_PATH = "history.tcss"
    BINDINGS = [
        Binding("space", "toggle_mark", "Mark"),
        Binding("c", "compare", "Compare"),
        Binding("o", "open_replay", "Open in replay"),
        Binding("d", "delete_run", "Delete"),
        Binding("delete", "delete_run", "Delete", show=False),
        Binding("r", "reload", "Reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.runs: dict[int, Run] = {}
        self.order: list[int] = []
        self.marked: list[int] = []  # in marking order: the first is A in the comparison

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="history-status")
        yield RunsTable(id="runs", cursor_type="row", zebra_stripes=True)
        with Middle(id="history-empty"):
            with Center():
                # .empty-state is the app-wide look of an empty workspace.
                yield Static(EMPTY_MESSAGE, id="history-empty-text", classes="empty-state")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "History"
        table = self.query_one(RunsTable)
        for label, key in COLUMNS:
            # The mark column starts empty, and an auto-sized column would stay zero wide.
            table.add_column(label, key=key, width=1 if key == "mark" else None)
        self.reload()

    def on_screen_resume(self) -> None:
        self.reload()

    # --- loading ----------------------------------------------------------------

    def reload(self) -> None:
        # The ORM loads on first use, after the first frame: startup stays fast.
        from sqlalchemy.exc import SQLAlchemyError

        from engine.store import list_runs

        keep = self.highlighted_id()
        try:
            runs = _newest_first(list_runs(self.app.services.database()))
        except (InputError, SQLAlchemyError) as exc:
            # An unreachable server must not take the whole app down; the last list stays.
            self.notify(f"Cannot read runs: {exc}", title="History", severity="error")
            return
        self.runs = {r.id: r for r in runs if r.id is not None}
        self.order = list(self.runs)
        self.marked = [i for i in self.marked if i in self.runs]
        table = self.query_one(RunsTable)
        table.clear()
        for run_id in self.order:
            table.add_row(*self._cells(self.runs[run_id]), key=str(run_id))
        if keep in self.runs:
            table.move_cursor(row=self.order.index(keep), animate=False)
        empty = not self.order
        table.display = not empty
        table.disabled = empty  # else the screen's auto-focus picks the hidden table and "Open" shows
        self.query_one("#history-empty").display = empty
        self._show_status()
        self.refresh_bindings()
        if not empty:
            table.focus()

    def _cells(self, run: Run) -> list[Any]:
        m = run.metrics or {}
        return [
            self._mark_of(run.id), Text(str(run.id), justify="right"), utc_minute(run.created_at), run.strategy,
            run.symbol or "—", run.timeframe or "—", period_text(run),
            _signed(m.get("total_return_pct"), "pct"), _signed(m.get("max_drawdown_pct"), "pct"),
            Text(format_metric(m.get("trades"), "int"), justify="right"),
        ]

    def _mark_of(self, run_id: Optional[int]) -> Text:
        if run_id not in self.marked:
            return Text("")
        i = self.marked.index(run_id)
        return Text(MARKS[i] if i < len(MARKS) else "*", style="bold reverse")

    def _show_status(self) -> None:
        if not self.order:
            text = ""
        else:
            marked = ", ".join(f"{MARKS[i]} = #{r}" for i, r in enumerate(self.marked[: len(MARKS)]))
            text = f"{len(self.order)} run{'s' if len(self.order) != 1 else ''}"
            text += f"   marked: {marked}" if marked else "   space marks runs, c compares two"
        self.query_one("#history-status", Static).update(text)

    def highlighted_id(self) -> Optional[int]:
        if not self.order:
            return None
        table = self.query_one(RunsTable)
        row = table.cursor_row
        return self.order[row] if 0 <= row < len(self.order) else None

    # --- actions ------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> Optional[bool]:
        # Dimmed in the Footer while there is nothing to act on.
        if action in ("toggle_mark", "compare", "delete_run", "open_replay") and not self.order:
            return None
        return True

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.app.push_screen(RunDetailScreen(int(event.row_key.value)))

    def action_reload(self) -> None:
        self.reload()

    def action_toggle_mark(self) -> None:
        run_id = self.highlighted_id()
        if run_id is None:
            return
        if run_id in self.marked:
            self.marked.remove(run_id)
        else:
            self.marked.append(run_id)
        # A new mark can shift the letters of the others, so every mark cell is redrawn.
        table = self.query_one(RunsTable)
        for rid in self.order:
            table.update_cell(str(rid), "mark", self._mark_of(rid))
        self._show_status()

    def action_open_replay(self) -> None:
        run_id = self.highlighted_id()
        opener = getattr(self.app, "open_in_replay", None)
        if run_id is not None and opener is not None:
            opener(run_id)

    def action_compare(self) -> None:
        if len(self.marked) != 2:
            have = len(self.marked)
            self.notify(
                f"Mark exactly two runs with space to compare them ({have} marked).",
                title="Compare", severity="warning",
            )
            return
        self.app.push_screen(CompareScreen(self.marked[0], self.marked[1]))

    def action_delete_run(self) -> None:
        run_id = self.highlighted_id()
        if run_id is None:
            return
        run = self.runs[run_id]

        def answered(yes: Optional[bool]) -> None:
            from engine.store import delete_run

            if not yes:
                return
            if delete_run(self.app.services.database(), run_id):
                self.notify(f"Deleted run #{run_id}.")
            self.reload()

        question = f"Delete {run_heading(run)}?\n\nIts trades and fills are deleted too. This cannot be undone."
        self.app.push_screen(ConfirmScreen(question, yes_label="Delete", no_label="Keep"), answered)
