"""The live positions table, drawn with the line API.

Prices tick many times a second on every row; a DataTable re-measured and re-rendered
all its cells on each tick, which kept key presses waiting (50-60 ms at p95 with twenty
positions). Here a tick replaces a row's text and repaints that row. Columns are as wide
as their widest cell; on a narrow screen the least needed columns are left out rather
than scrolled out of sight.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.events import Click
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

# (label, right-aligned, priority: higher stays longer on a narrow screen)
COLUMNS = (
    ("Symbol", False, 9), ("Side", False, 8), ("Size", True, 7), ("of", True, 2), ("Avg entry", True, 5),
    ("Last", True, 9), ("uPnL", True, 8), ("uPnL %", True, 6), ("SL", True, 4), ("TP", True, 3),
    ("Trailing", True, 3), ("Targets", True, 1), ("Adds", True, 1),
)
GAP = 2


class PositionsTable(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    PositionsTable { height: 1fr; }
    PositionsTable > .positions--header { text-style: bold; color: $text-accent; }
    PositionsTable > .positions--cursor { background: $primary 30%; }
    PositionsTable:focus > .positions--cursor { background: $primary; }
    """
    COMPONENT_CLASSES = {"positions--header", "positions--cursor"}
    BINDINGS = [Binding("up", "move(-1)", "Up", show=False), Binding("down", "move(1)", "Down", show=False),
                Binding("home", "first", show=False), Binding("end", "last", show=False)]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: dict[str, list[str]] = {}  # symbol -> cells, in the order first shown
        self.cursor = 0

    # ------------------------------------------------------------------ content
    def set_row(self, symbol: str, cells: list[str]) -> None:
        old = self.rows.get(symbol)
        if old == cells:
            return
        self.rows[symbol] = cells
        widths_changed = old is None or any(cell_len(a) != cell_len(b) for a, b in zip(old, cells))
        if old is None:
            self.virtual_size = Size(self.size.width, len(self.rows) + 1)
        if widths_changed:
            self.refresh()
        else:
            y = 1 + list(self.rows).index(symbol) - self.scroll_offset.y
            self.refresh(Region(0, y, self.size.width, 1))

    def clear(self) -> None:
        self.rows, self.cursor = {}, 0
        self.refresh()

    def get_row(self, symbol: str) -> list[str]:
        return self.rows[symbol]

    @property
    def selected(self) -> str | None:
        symbols = list(self.rows)
        return symbols[self.cursor] if symbols else None

    # ------------------------------------------------------------------ drawing
    def _layout(self) -> list[tuple[int, int, bool]]:
        """(column index, width, right-aligned) of the columns that fit, in table order."""
        widths = [max([cell_len(label)] + [cell_len(r[i]) for r in self.rows.values()])
                  for i, (label, _, _) in enumerate(COLUMNS)]
        keep = set(range(len(COLUMNS)))
        by_priority = sorted(keep, key=lambda i: COLUMNS[i][2])
        while keep and sum(widths[i] + GAP for i in keep) > self.size.width:
            keep.discard(by_priority.pop(0))
        return [(i, widths[i], COLUMNS[i][1]) for i in sorted(keep)]

    def _line(self, cells: list[str], layout: list[tuple[int, int, bool]], style: Style) -> Strip:
        text = "".join((cells[i].rjust(w) if right else cells[i].ljust(w)) + " " * GAP for i, w, right in layout)
        return Strip([Segment(" " + text, style)]).adjust_cell_length(self.size.width, style)

    def render_line(self, y: int) -> Strip:
        layout = self._layout()
        if y == 0:
            return self._line([c[0] for c in COLUMNS], layout, self.get_component_rich_style("positions--header"))
        index = y - 1 + self.scroll_offset.y
        symbols = list(self.rows)
        if index >= len(symbols):
            return Strip.blank(self.size.width)
        style = self.get_component_rich_style("positions--cursor") if index == self.cursor else Style()
        return self._line(self.rows[symbols[index]], layout, style)

    # ------------------------------------------------------------------ moving
    def action_move(self, by: int) -> None:
        if self.rows:
            self._go(max(0, min(self.cursor + by, len(self.rows) - 1)))

    def action_first(self) -> None:
        self._go(0)

    def action_last(self) -> None:
        self._go(max(len(self.rows) - 1, 0))

    def move_cursor(self, row: int) -> None:
        self._go(row)

    def _go(self, row: int) -> None:
        self.cursor = row
        self.scroll_to_region(Region(0, row + 1, 1, 1), animate=False, immediate=True)
        self.refresh()

    def on_click(self, event: Click) -> None:
        index = event.y - 1 + self.scroll_offset.y
        if 0 <= index < len(self.rows):
            self._go(index)
