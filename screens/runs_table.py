"""History's list of runs: one page of rows at a time, with keys that turn the page.

The table never holds more than a page (the screen loads pages on a worker); arrowing
past its last row, paging down from its bottom or pressing End asks the screen for the
next or the last page, so the list reads as one long list of thousands of runs.

Each row is ONE cell holding the whole line, its columns laid out here at fixed widths
(the header likewise). A DataTable draws every cell through Rich separately, and with
eleven columns that was most of the time a new page took to reach the screen; one cell
a row keeps the cursor, zebra stripes, mouse and horizontal scrolling of a DataTable at
a tenth of the cost. Fixed widths also keep the columns still when a page is turned;
only Params, which tells the runs of a sweep apart, takes what a wider table leaves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Mapping, Optional

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist

from engine.metrics import format_metric
from engine.run_filter import RunSummary
from screens.run_text import params_of, params_text, period_text, utc_minute

MARKS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
GAP = 2  # spaces between columns
# (label, key, width, right-aligned); the last column takes what its text needs. What
# tells runs of a sweep apart (parameters, results) comes before what they mostly share
# (market, period), so a narrow terminal shows it without scrolling.
COLUMNS: tuple[tuple[str, str, int, bool], ...] = (
    ("", "mark", 1, False), ("Id", "id", 6, True), ("When (UTC)", "when", 16, False),
    ("Strategy", "strategy", 13, False), ("Params", "params", 18, False), ("Return", "return", 9, True),
    ("Max DD", "max_dd", 9, True), ("Trades", "trades", 6, True), ("Symbol", "symbol", 9, False),
    ("TF", "timeframe", 3, False), ("Period", "period", 0, False),
)
KEYS = tuple(key for _, key, _, _ in COLUMNS)
Widths = Mapping[str, int]
WIDTHS: Widths = {key: width for _, key, width, _ in COLUMNS}
PERIOD_ROOM = len("2023-01-01..2024-12-31")
SCROLLBAR = 2


def widths_for(table_width: int) -> Widths:
    """The columns' widths in a table ``table_width`` wide: Params gets what the others
    and the period leave, never less than its usual width."""
    rest = sum(w for k, w in WIDTHS.items() if k != "params") + GAP * (len(COLUMNS) - 1) + PERIOD_ROOM + SCROLLBAR
    return {**WIDTHS, "params": max(WIDTHS["params"], table_width - rest)}
ROW_COLUMN = "run"  # the table's one column

Turn = Literal["next", "prev", "first", "last"]


def _fit(text: str, width: int, right: bool) -> str:
    if not width:
        return text
    if len(text) > width:
        return text[: width - 1] + "…"
    return text.rjust(width) if right else text.ljust(width)


def _sign_style(value: Any) -> str:
    if isinstance(value, (int, float)):
        return "green" if value > 0 else "red" if value < 0 else ""
    return ""


def run_cells(run: RunSummary, mark: str = "") -> dict[str, tuple[str, str]]:
    """The text (and style) of each column of ``run``'s row, by column key."""
    return {
        "mark": (mark, "bold reverse" if mark else ""),
        "id": (str(run.id), ""),
        "when": (utc_minute(run.created_at), ""),
        "strategy": (run.strategy, ""),
        "symbol": (run.symbol or "—", ""),
        "timeframe": (run.timeframe or "—", ""),
        "period": (period_text(run), ""),
        "return": (format_metric(run.total_return_pct, "pct"), _sign_style(run.total_return_pct)),
        "max_dd": (format_metric(run.max_drawdown_pct, "pct"), _sign_style(run.max_drawdown_pct)),
        "trades": (format_metric(run.trades, "int"), ""),
        "params": (params_text(params_of(run), "—"), ""),
    }


def _line(cells: dict[str, tuple[str, str]], widths: Widths) -> Text:
    line = Text(no_wrap=True, overflow="ellipsis")
    for i, (_, key, _, right) in enumerate(COLUMNS):
        if i:
            line.append(" " * GAP)
        text, style = cells[key]
        line.append(_fit(text, widths[key], right), style=style or None)
    return line


def run_line(run: RunSummary, mark: str = "", widths: Widths = WIDTHS) -> Text:
    return _line(run_cells(run, mark), widths)


def header_line(widths: Widths = WIDTHS) -> Text:
    return _line({key: (label, "") for label, key, _, _ in COLUMNS}, widths)


def column_text(line: Text | str, key: str, widths: Widths = WIDTHS) -> str:
    """One column's text (stripped) out of a row's line: what a user reads in that column."""
    plain = line.plain if isinstance(line, Text) else line
    start = 0
    for _, k, _, _ in COLUMNS:
        width = widths[k]
        if k == key:
            return (plain[start:start + width] if width else plain[start:]).strip()
        start += width + GAP
    raise KeyError(key)


class RunsTable(DataTable):
    """The rows of one page; ``more_before``/``more_after`` are set by the screen."""

    BINDINGS = [
        Binding("enter", "select_cursor", "Open"),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("home,ctrl+home", "first_run", "Newest", show=False),
        Binding("end,ctrl+end", "last_run", "Oldest", show=False),
    ]

    @dataclass
    class PageTurn(Message):
        """The cursor asked to leave the page; ``land`` is the row it wants on the new one."""

        to: Turn
        land: Literal["first", "last"]

    @dataclass
    class Relaid(Message):
        """The table's width gave Params another width: the rows want drawing again."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kw)
        self.more_before = False
        self.more_after = False
        self.widths: Widths = WIDTHS

    def on_mount(self) -> None:
        self.add_column(header_line(), key=ROW_COLUMN)

    def on_resize(self) -> None:
        widths = widths_for(self.size.width)
        if widths != self.widths:
            self.widths = widths
            column = self.columns[ROW_COLUMN]
            column.label = header_line(widths)
            column.content_width = 0  # measured again from the rows drawn anew (narrower, too)
            self.post_message(self.Relaid())

    def line(self, run: RunSummary, mark: str = "") -> Text:
        """``run``'s row at the table's widths."""
        return run_line(run, mark, self.widths)

    def text_of(self, line: Text | str, key: str) -> str:
        """One column's text out of a row (or the header) of this table."""
        return column_text(line, key, self.widths)

    def line_of(self, run_id: int) -> Optional[Text]:
        try:
            return self.get_cell(str(run_id), ROW_COLUMN)
        except CellDoesNotExist:  # not on this page
            return None

    def _turn(self, to: Turn, land: Literal["first", "last"]) -> None:
        self.post_message(self.PageTurn(to, land))

    def action_cursor_down(self) -> None:
        if self.more_after and self.cursor_row >= self.row_count - 1:
            self._turn("next", "first")
        else:
            super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.more_before and self.cursor_row <= 0:
            self._turn("prev", "last")
        else:
            super().action_cursor_up()

    def action_page_down(self) -> None:
        # Once the page's last row is on screen, the next page is the next screenful.
        if self.more_after and (self.cursor_row >= self.row_count - 1 or self.scroll_y >= self.max_scroll_y):
            self._turn("next", "first")
        else:
            super().action_page_down()

    def action_page_up(self) -> None:
        if self.more_before and (self.cursor_row <= 0 or self.scroll_y <= 0):
            self._turn("prev", "last")
        else:
            super().action_page_up()

    def action_first_run(self) -> None:
        if self.more_before:
            self._turn("first", "first")
        else:
            self.move_cursor(row=0)

    def action_last_run(self) -> None:
        if self.more_after:
            self._turn("last", "last")
        else:
            self.move_cursor(row=self.row_count - 1)
