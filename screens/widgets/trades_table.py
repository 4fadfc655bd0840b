"""Trades table: sortable by any column (click a header, or `s` to cycle), Enter opens a trade.

Drawn with the line API over the run's trade arrays: a million-bar run has tens of
thousands of trades, and a DataTable added (and measured) every one of them on the UI
thread, seconds before the results appeared and again on every sort. Here only the
rows on screen are formatted, each time they are drawn; the stable argsort of every
column, both ways, is made on a worker as the table opens, so a sort key only swaps the
order the table reads rows in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.events import Click
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from screens.run_columns import TradeColumns, TradeRow
from screens.widgets.trade_cells import COLUMNS, KEYS, SIGNED, cells, widths

GAP = 1  # blank cells before every column (and after the last): one between two columns
ROW_CACHE = 512  # drawn rows kept (a few screenfuls)


class TradesTable(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    TradesTable { height: 1fr; background: $surface; }
    TradesTable > .trades-table--header { text-style: bold; background: $panel; color: $foreground; }
    TradesTable > .trades-table--even { background: $surface-lighten-1 50%; }
    TradesTable > .trades-table--cursor {
        background: $block-cursor-blurred-background; color: $block-cursor-blurred-foreground;
    }
    TradesTable:focus > .trades-table--cursor {
        background: $block-cursor-background; color: $block-cursor-foreground; text-style: $block-cursor-text-style;
    }
    TradesTable > .trades-table--gain { color: $text-success; }
    TradesTable > .trades-table--loss { color: $text-error; }
    """
    COMPONENT_CLASSES = {"trades-table--header", "trades-table--even", "trades-table--cursor",
                         "trades-table--gain", "trades-table--loss"}
    BINDINGS = [
        Binding("enter", "select", "Open trade"),
        Binding("s", "cycle_sort", "Sort"),
        Binding("r", "reverse_sort", "Reverse"),
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,ctrl+home", "first", "First trade", show=False),
        Binding("end,ctrl+end", "last", "Last trade", show=False),
    ]

    @dataclass
    class TradeChosen(Message):
        trade: TradeRow

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.trades = TradeColumns.empty()
        self.order = np.arange(0)  # positions in self.trades, in the order shown
        self.cursor = 0  # a row of the order
        self.sort_key: Optional[str] = None
        self.sort_reverse = False
        self._widths: tuple[int, ...] = widths(self.trades)
        self._styles: tuple[Style, ...] = (Style(),) * 6  # header, plain, even, cursor, gain, loss
        self._rows: dict[tuple[int, bool], Strip] = {}

    # ------------------------------------------------------------------ content
    def show(self, trades: TradeColumns, column_widths: Optional[tuple[int, ...]] = None) -> None:
        """Show ``trades`` in trade-number order; ``column_widths`` as measured with them."""
        self.trades = trades
        self._widths = column_widths or widths(trades)
        self.order = np.arange(len(trades))
        self.sort_key, self.sort_reverse = None, False
        self.cursor = 0
        self._rows = {}
        self.virtual_size = Size(self._line_width(), len(trades) + 1)
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()
        if len(trades) > 1:
            self.run_worker(lambda: self._sort_ahead(trades), name="trades-sort-ahead", group="trades-sort",
                            thread=True, exclusive=True, exit_on_error=False)

    def on_unmount(self) -> None:
        self.workers.cancel_node(self)

    @staticmethod
    def _sort_ahead(trades: TradeColumns) -> None:
        from textual.worker import get_current_worker

        worker = get_current_worker()
        trades.sort_ahead(KEYS, lambda: worker.is_cancelled)

    @property
    def row_count(self) -> int:
        return len(self.order)

    def trade_at(self, row: int) -> TradeRow:
        return self.trades.row(int(self.order[row]))

    def trade(self, trade_no: int) -> Optional[TradeRow]:
        i = self.trades.position(trade_no)
        return None if i is None else self.trades.row(i)

    def cells_at(self, row: int) -> list[str]:
        return cells(self.trades, int(self.order[row]))

    def visible_order(self) -> list[int]:
        """Trade numbers in the order shown."""
        return self.trades.trade_no[self.order].tolist()

    # ------------------------------------------------------------------ sorting
    def sort_by(self, key: str, reverse: Optional[bool] = None) -> None:
        """Sort by column ``key`` (ascending; the same column again reverses it). Ties keep
        trade-number order both ways. The cursor goes back to the top."""
        if reverse is None:
            reverse = not self.sort_reverse if key == self.sort_key else False
        self.sort_key, self.sort_reverse = key, reverse
        # Every order was made on a worker as the table opened (show): here it is looked up.
        # Only a sort pressed in that moment's first few milliseconds makes its own.
        self.order = self.trades.order(key, descending=reverse)
        self.cursor = 0
        self._rows = {}
        self.scroll_to(y=0, animate=False, immediate=True)
        self.refresh()

    def action_cycle_sort(self) -> None:
        nxt = KEYS[(KEYS.index(self.sort_key) + 1) % len(KEYS)] if self.sort_key in KEYS else KEYS[0]
        self.sort_by(nxt, reverse=False)

    def action_reverse_sort(self) -> None:
        self.sort_by(self.sort_key or "trade_no", reverse=not self.sort_reverse)

    # ------------------------------------------------------------------ drawing
    def _line_width(self) -> int:
        return sum(w + GAP for w in self._widths) + GAP

    def _visible_rows(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)  # less the header

    def _line(self, texts: list[str], base: Style, signed: Optional[Style] = None) -> Strip:
        gap = " " * GAP
        segments = []
        for column, width, text in zip(COLUMNS, self._widths, texts):
            text = text.rjust(width) if column.right else text.ljust(width)
            style = signed if signed is not None and column.key in SIGNED else base
            segments.append(Segment(gap + text, style))
        segments.append(Segment(gap, base))
        return Strip(segments)

    def _header(self) -> list[str]:
        mark = " ▼" if self.sort_reverse else " ▲"
        return [c.label + (mark if c.key == self.sort_key else "") for c in COLUMNS]

    def render_lines(self, crop: Region) -> list[Strip]:
        # Looked up once a frame, not once a line: a widget's own style walks its ancestors.
        get = self.get_component_rich_style
        plain, even, cursor = self.rich_style, get("trades-table--even"), get("trades-table--cursor")
        gain, loss = get("trades-table--gain", partial=True), get("trades-table--loss", partial=True)
        styles = (get("trades-table--header"), plain, even, cursor, gain, loss)
        if styles != self._styles:
            self._styles, self._rows = styles, {}
        return super().render_lines(crop)

    def _row(self, row: int) -> Strip:
        """Row ``row`` of the order, whole (uncropped); kept while the order and styles last,
        so a scroll by a line formats one new row, not a screenful."""
        cursor = row == self.cursor
        key = (row, cursor)
        strip = self._rows.get(key)
        if strip is None:
            _, plain, even, cursor_style, gain, loss = self._styles
            base = cursor_style if cursor else even if row % 2 else plain
            i = int(self.order[row])
            pnl = float(self.trades.pnl[i])
            signed = base + gain if pnl > 0 else base + loss if pnl < 0 else base
            strip = self._line(cells(self.trades, i), base, signed)
            if len(self._rows) > ROW_CACHE:
                self._rows.clear()
            self._rows[key] = strip
        return strip

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        scroll_x, scroll_y = self.scroll_offset
        header, plain = self._styles[0], self._styles[1]
        if y == 0:
            return self._line(self._header(), header).crop_extend(scroll_x, scroll_x + width, header)
        row = y - 1 + scroll_y
        if row >= len(self.order):
            return Strip.blank(width, plain)
        return self._row(row).crop_extend(scroll_x, scroll_x + width, plain)

    # ------------------------------------------------------------------ moving
    def move_cursor(self, row: int) -> None:
        """Put the cursor on ``row`` (of the order shown), scrolling it into view."""
        if not len(self.order):
            return
        old, self.cursor = self.cursor, max(0, min(row, len(self.order) - 1))
        if not self.screen.can_view_entire(self):
            self.scroll_visible(animate=False, immediate=True)  # keys on a table out of sight
        top, visible = int(self.scroll_offset.y), self._visible_rows()
        if self.cursor < top:
            top = self.cursor
        elif self.cursor >= top + visible:
            top = self.cursor - visible + 1
        if top != int(self.scroll_offset.y):
            self.scroll_to(y=top, animate=False, immediate=True)  # repaints every line
        else:
            for row_ in (old, self.cursor):
                self.refresh(Region(0, 1 + row_ - top, self.size.width, 1))

    def action_move(self, by: int) -> None:
        self.move_cursor(self.cursor + by)

    def action_page(self, by: int) -> None:
        self.move_cursor(self.cursor + by * self._visible_rows())

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(len(self.order) - 1)

    def action_select(self) -> None:
        if len(self.order):
            self.post_message(self.TradeChosen(self.trade_at(self.cursor)))

    def on_click(self, event: Click) -> None:
        x = event.x + int(self.scroll_offset.x)
        if event.y == 0:
            edge = 0
            for column, width in zip(COLUMNS, self._widths):
                edge += GAP + width
                if x < edge:
                    self.sort_by(column.key)
                    break
            return
        row = event.y - 1 + int(self.scroll_offset.y)
        if 0 <= row < len(self.order):
            # A click on the row already chosen (or a double click) opens it, as Enter does.
            again = row == self.cursor or event.chain == 2
            self.move_cursor(row)
            if again:
                self.action_select()

