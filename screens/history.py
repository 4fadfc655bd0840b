"""The History workspace: stored runs, newest first, a page at a time; filter, open, compare, delete.

Thousands of runs are normal (parameter sweeps), so the list never reads them all: a
worker reads one page of summaries and the count (:mod:`engine.run_index`), and the
screen shows "Loading…" until it arrives, answering keys all along. Deletes run on a
worker too; the deleted row leaves the table at once, so the cursor is already on its
neighbour when the next key comes. While History is on screen a cheap check every few
seconds notices runs saved or deleted anywhere (the Backtest workspace, a replay branch,
the CLI in another terminal) and reloads the page; coming back to History reloads it too.
"""

from __future__ import annotations

from typing import Literal, Optional

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Middle
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, Input, Static
from textual.worker import get_current_worker

from engine.errors import InputError
from engine.run_filter import RunFilter, RunPage, RunSummary
from screens.compare import CompareScreen
from screens.confirm import ConfirmScreen
from screens.run_detail import RunDetailScreen
from screens.run_messages import RunDeleted, RunsPageLoaded, RunsReadFailed, RunsStamp, first_line
from screens.run_text import run_heading
from screens.runs_table import MARKS, ROW_COLUMN, RunsTable

EMPTY_MESSAGE = "No runs yet — run a backtest (F1)"
LOADING = "Loading…"
FILTER_HINT = "/ to filter: words, strategy:sma, symbol:btc, kind:replay, fast=10"

# Where the cursor goes when a page arrives: on the same run (else the same row), or
# the page's first or last row.
Aim = Literal["keep", "first", "last"]


class HistoryScreen(Screen):
    CSS_PATH = "history.tcss"
    AUTO_FOCUS = "#runs"  # the list, not the filter box above it: keys act on runs from the start
    PAGE_SIZE = 50
    WATCH_SECONDS = 2.0  # how often a shown History asks whether runs were saved or deleted
    BINDINGS = [
        Binding("space", "toggle_mark", "Mark"),
        Binding("c", "compare", "Compare"),
        Binding("o", "open_replay", "Open in replay"),
        Binding("d", "delete_run", "Delete"),
        Binding("delete", "delete_run", "Delete", show=False),
        Binding("slash", "filter", "Filter"),
        Binding("r", "reload", "Reload"),
        Binding("escape", "leave_filter", "List", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.runs: dict[int, RunSummary] = {}  # the page on screen, by id
        self.order: list[int] = []  # the page's ids, top to bottom
        self.marked: list[int] = []  # in marking order: the first is A in the comparison
        self.filter = RunFilter()
        self.page_start = 0  # where the page on screen starts in the filtered list
        self.total = 0  # runs matching the filter
        self.stamp: Optional[tuple[int, int]] = None  # (count, newest id) when the page was read
        self.reading = False
        self._generation = 0  # numbers page requests: only the latest one's answer is shown
        self._want_offset = 0  # the page asked for last: two quick page turns go two pages
        self._aim: Aim = "keep"
        self._keep: tuple[Optional[int], int] = (None, 0)  # run id and row the cursor was on
        self._deleting: set[int] = set()  # confirmed, not yet gone: hidden from every page
        self._watch: Optional[Timer] = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder=FILTER_HINT, id="history-filter")
        yield Static("", id="history-status")
        yield RunsTable(id="runs")
        with Middle(id="history-empty"):
            with Center():
                # .empty-state is the app-wide look of an empty workspace.
                yield Static(LOADING, id="history-empty-text", classes="empty-state")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "History"
        self.query_one(RunsTable).display = False
        self.query_one("#history-filter").display = False
        self._watch = self.set_interval(self.WATCH_SECONDS, self._check_for_changes, name="history-watch", pause=True)

    def on_screen_resume(self) -> None:
        if not self.reading:  # Textual resumes a mode's screen twice when it first shows it
            self.reload()
        if self._watch is not None:
            self._watch.resume()

    def on_screen_suspend(self) -> None:
        if self._watch is not None:
            self._watch.pause()

    def on_unmount(self) -> None:
        self.workers.cancel_node(self)

    # --- loading ------------------------------------------------------------------

    def reload(self, offset: Optional[int] = None, aim: Aim = "keep") -> None:
        """Ask a worker for the page at ``offset`` (default: the one on screen)."""
        self._generation += 1
        self._want_offset = self.page_start if offset is None else max(0, offset)
        self._aim = aim
        self._keep = (self.highlighted_id(), self.query_one(RunsTable).cursor_row)
        self.reading = True
        self._show_status()
        self._load_page(self._generation, self._want_offset, self.filter)

    @work(thread=True, exclusive=True, group="history-load", name="history-page", exit_on_error=False)
    def _load_page(self, generation: int, offset: int, flt: RunFilter) -> None:
        from sqlalchemy.exc import SQLAlchemyError

        from engine.run_index import run_page, runs_stamp

        try:
            database = self.app.services.database()
            page = run_page(database, offset, self.PAGE_SIZE, flt)
            stamp = runs_stamp(database)
        except (InputError, SQLAlchemyError) as exc:
            self.post_message(RunsReadFailed(first_line(exc), generation=generation))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(RunsPageLoaded(generation, page, stamp))

    def on_runs_page_loaded(self, event: RunsPageLoaded) -> None:
        if event.generation != self._generation:
            return  # overtaken by a later request (a new filter, another page turn)
        self.reading = False
        self.stamp = event.stamp
        self._fill(event.page)

    def on_runs_read_failed(self, event: RunsReadFailed) -> None:
        if event.run_id is not None:
            self._deleting.discard(event.run_id)
            self.notify(f"Could not delete run #{event.run_id}: {event.message}", title="History", severity="error")
            self.reload()  # it is still there: show it again
            return
        if event.generation != self._generation:
            return
        # An unreachable server must not take the whole app down; the last list stays.
        self.reading = False
        self._show_status()
        self.notify(f"Cannot read runs: {event.message}", title="History", severity="error")

    def _fill(self, page: RunPage) -> None:
        box = self.query_one("#history-filter", Input)
        had = (bool(self.order), box.display)  # what the Footer's keys depend on
        rows = [r for r in page.rows if r.id not in self._deleting]
        self.page_start, self.total = page.offset, max(0, page.total - len(self._deleting))
        self.runs = {r.id: r for r in rows}
        self.order = [r.id for r in rows]
        table = self.query_one(RunsTable)
        with self.app.batch_update():
            table.clear()
            for run in rows:
                table.add_row(table.line(run, self._mark_of(run.id)), key=str(run.id))
            table.more_before = page.offset > 0
            table.more_after = page.offset + len(page.rows) < page.total
            self._place_cursor(table)
            any_runs = bool(self.stamp and self.stamp[0])
            empty = not any_runs
            table.display = not empty
            table.disabled = empty  # else the screen's auto-focus picks the hidden table and "Open" shows
            box.display = any_runs
            self.query_one("#history-empty").display = empty
            self.query_one("#history-empty-text", Static).update(EMPTY_MESSAGE)
            self._show_status()
        if had != (bool(self.order), box.display):
            self.refresh_bindings()  # the Footer redraws all its keys: only when some change
        if not empty and not box.has_focus:
            table.focus()

    def _place_cursor(self, table: RunsTable) -> None:
        if not self.order:
            return
        if self._aim == "first":
            row = 0
        elif self._aim == "last":
            row = len(self.order) - 1
        else:
            keep_id, keep_row = self._keep
            row = self.order.index(keep_id) if keep_id in self.runs else min(keep_row, len(self.order) - 1)
        table.move_cursor(row=row, animate=False)
        self._aim = "keep"

    def _mark_of(self, run_id: int) -> str:
        if run_id not in self.marked:
            return ""
        i = self.marked.index(run_id)
        return MARKS[i] if i < len(MARKS) else "*"

    def _redraw_marks(self) -> None:
        # A new or removed mark can shift the letters of the others: every row whose letter
        # changed is redrawn.
        table = self.query_one(RunsTable)
        for run_id in self.order:
            mark = self._mark_of(run_id)
            line = table.line_of(run_id)
            if line is not None and table.text_of(line, "mark") != mark:
                table.update_cell(str(run_id), ROW_COLUMN, table.line(self.runs[run_id], mark))

    def on_runs_table_relaid(self, event: RunsTable.Relaid) -> None:
        table = self.query_one(RunsTable)
        with self.app.batch_update():
            for run_id in self.order:
                if table.line_of(run_id) is not None:
                    table.update_cell(str(run_id), ROW_COLUMN, table.line(self.runs[run_id], self._mark_of(run_id)),
                                      update_width=True)
            table.refresh()

    def _show_status(self) -> None:
        parts = []
        if self.reading:
            parts.append(LOADING)
        if self.order:
            first, last = self.page_start + 1, self.page_start + len(self.order)
            matching = " matching the filter" if self.filter else ""
            parts.append(f"{first:,}–{last:,} of {self.total:,} run{'s' if self.total != 1 else ''}{matching}")
        elif self.filter and not self.reading:
            parts.append("No run matches the filter (Escape clears it)")
        if self.marked:
            parts.append("marked: " + ", ".join(f"{MARKS[i]} = #{r}" for i, r in enumerate(self.marked[: len(MARKS)])))
        elif self.order:
            parts.append("space marks runs, c compares two")
        self.query_one("#history-status", Static).update("   ".join(parts))

    def highlighted_id(self) -> Optional[int]:
        if not self.order:
            return None
        row = self.query_one(RunsTable).cursor_row
        return self.order[row] if 0 <= row < len(self.order) else None

    # --- watching for runs saved or deleted elsewhere -----------------------------

    def _check_for_changes(self) -> None:
        if not self.reading and not self._deleting:
            self._read_stamp()

    @work(thread=True, exclusive=True, group="history-watch", name="history-stamp", exit_on_error=False)
    def _read_stamp(self) -> None:
        from sqlalchemy.exc import SQLAlchemyError

        from engine.run_index import runs_stamp

        try:
            stamp = runs_stamp(self.app.services.database())
        except (InputError, SQLAlchemyError):
            return  # the next page load says what is wrong; a watcher should not nag
        self.post_message(RunsStamp(stamp))

    def on_runs_stamp(self, event: RunsStamp) -> None:
        if event.stamp != self.stamp and not self.reading and not self._deleting:
            self.reload()

    # --- filter and pages ---------------------------------------------------------

    @on(Input.Changed, "#history-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        flt = RunFilter.parse(event.value)
        if flt != self.filter:
            self.filter = flt
            self.reload(offset=0, aim="first")

    @on(Input.Submitted, "#history-filter")
    def _filter_submitted(self) -> None:
        self.query_one(RunsTable).focus()

    def action_filter(self) -> None:
        self.query_one("#history-filter", Input).focus()

    def action_leave_filter(self) -> None:
        box = self.query_one("#history-filter", Input)
        if box.has_focus:
            self.query_one(RunsTable).focus()
        elif box.value:
            box.value = ""  # Escape on the list clears the filter

    def on_runs_table_page_turn(self, event: RunsTable.PageTurn) -> None:
        size = self.PAGE_SIZE
        # From the page last asked for, so that a key held down runs through the pages.
        base = self._want_offset
        offset = {"next": base + size, "prev": base - size, "first": 0,
                  "last": max(0, (self.total - 1) // size * size)}[event.to]
        self.reload(offset=offset, aim=event.land)

    def action_reload(self) -> None:
        self.reload()

    # --- actions ------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> Optional[bool]:
        # Dimmed in the Footer while there is nothing to act on.
        if action in ("toggle_mark", "delete_run", "open_replay") and not self.order:
            return None
        if action == "compare" and not (self.order or self.marked):
            return None
        if action == "filter" and not self.query_one("#history-filter").display:
            return None
        return True

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.app.push_screen(RunDetailScreen(int(event.row_key.value)))

    def action_toggle_mark(self) -> None:
        run_id = self.highlighted_id()
        if run_id is None:
            return
        if run_id in self.marked:
            self.marked.remove(run_id)
        else:
            self.marked.append(run_id)
        self._redraw_marks()
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
            if yes and run_id in self.runs:
                self._forget(run_id)
                self._delete(run_id)

        question = f"Delete {run_heading(run)}?\n\nIts trades and fills are deleted too. This cannot be undone."
        self.app.push_screen(ConfirmScreen(question, yes_label="Delete", no_label="Keep"), answered)

    def _forget(self, run_id: int) -> None:
        """Take a confirmed run off the list now, before the database has deleted it: the
        cursor lands on its neighbour, and a second quick Delete acts on that neighbour."""
        self._deleting.add(run_id)
        # A page requested before this delete must not bring the row back.
        self._generation += 1
        self.reading = False
        self.query_one(RunsTable).remove_row(str(run_id))
        self.order.remove(run_id)
        del self.runs[run_id]
        if run_id in self.marked:
            self.marked.remove(run_id)
            self._redraw_marks()
        self.total = max(0, self.total - 1)
        self._show_status()
        if not self.order:
            self.refresh_bindings()

    @work(thread=True, group="history-delete", name="history-delete", exit_on_error=False)
    def _delete(self, run_id: int) -> None:
        from sqlalchemy.exc import SQLAlchemyError

        from engine.store import delete_run

        try:
            existed = delete_run(self.app.services.database(), run_id)
        except (InputError, SQLAlchemyError) as exc:
            self.post_message(RunsReadFailed(first_line(exc), run_id=run_id))
            return
        self.post_message(RunDeleted(run_id, existed))

    def on_run_deleted(self, event: RunDeleted) -> None:
        self._deleting.discard(event.run_id)
        if event.existed:
            self.notify(f"Deleted run #{event.run_id}.")
        if not self.order and self.page_start > 0:
            # It was the last run of the last page: its neighbour ends the page before.
            self.reload(offset=self.page_start - self.PAGE_SIZE, aim="last")
        else:
            # The next page's first run moves up into this page; the cursor stays on its run.
            self.reload()
