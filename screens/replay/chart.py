"""A candlestick chart drawn with Textual's line API: one column per bar, no plotting library.

Each frame is computed from a :class:`ChartView` (plain numbers, prepared by the
workspace from the engine's state); the widget only turns rows into strips. Levels
(stop, take-profit, trailing stop, next target) are horizontal lines, fills are
markers at their price, the cursor bar is highlighted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

AXIS = 11  # characters for the price axis on the right

NONE = Style()
UP = Style(color="green")
DOWN = Style(color="red")
AXIS_STYLE = Style(color="grey50")
CURSOR_BG = "grey23"
LEVEL_STYLES = {
    "stop": Style(color="red", bold=True),
    "target": Style(color="green"),
    "trail": Style(color="yellow"),
    "trail_idle": Style(color="yellow", dim=True),
    "next": Style(color="cyan"),
}
_on_cursor: dict[Style, Style] = {}


def on_cursor(style: Style) -> Style:
    """``style`` over the cursor's background (made once per style: frames are drawn often)."""
    found = _on_cursor.get(style)
    if found is None:
        found = _on_cursor[style] = style + Style(bgcolor=CURSOR_BG)
    return found


MARK = {"entry": ("▲", Style(color="bright_cyan", bold=True)), "scale_in": ("△", Style(color="bright_cyan")),
        "partial_exit": ("▽", Style(color="magenta")), "exit": ("▼", Style(color="magenta", bold=True))}


@dataclass
class ChartView:
    """What one frame shows: bars ``first..first+len-1`` and the cursor among them."""

    first: int
    opens: list[float]
    highs: list[float]
    lows: list[float]
    closes: list[float]
    cursor: int  # absolute bar index
    levels: list[tuple[str, float]] = field(default_factory=list)  # (kind, price)
    marks: dict[int, list[tuple[str, float]]] = field(default_factory=dict)  # bar -> (fill kind, price)


class CandleChart(Widget):
    DEFAULT_CSS = """
    CandleChart { height: 1fr; min-height: 8; }
    """

    def __init__(self, *, id: Optional[str] = None) -> None:
        super().__init__(id=id)
        self.view: Optional[ChartView] = None
        self._rows: list[Strip] = []

    def show(self, view: ChartView) -> None:
        self.view = view
        self._rows = []
        self.refresh()

    def bars_that_fit(self) -> int:
        return max(self.size.width - AXIS, 1)

    def render_line(self, y: int) -> Strip:
        if not self._rows or len(self._rows) != self.size.height:
            self._rows = self._draw()
        return self._rows[y] if y < len(self._rows) else Strip.blank(self.size.width)

    def _draw(self) -> list[Strip]:
        width, height = self.size.width, self.size.height
        view = self.view
        if view is None or not view.opens or height < 2 or width <= AXIS:
            return [Strip.blank(width) for _ in range(height)]
        plot = width - AXIS
        n = min(len(view.opens), plot)
        prices = view.highs[:n] + view.lows[:n] + [p for _, p in view.levels]
        top, bottom = max(prices), min(prices)
        pad = (top - bottom) * 0.02 or abs(top) * 0.001 or 1e-9  # lines at the extremes stay on screen
        top, bottom = top + pad, bottom - pad
        step = (top - bottom) / height
        # Per bar, once: the rows its body and its wick cover, its colour, its fills.
        columns = []
        for i in range(n):
            o, h, l, c = view.opens[i], view.highs[i], view.lows[i], view.closes[i]
            bar = view.first + i
            columns.append((
                int((top - max(o, c)) / step), int((top - min(o, c)) / step),
                int((top - h) / step), int((top - l) / step),
                UP if c >= o else DOWN, view.marks.get(bar, ()), bar == view.cursor,
            ))
        rows: list[Strip] = []
        for y in range(height):
            hi = top - y * step
            lo = hi - step
            level = next(((k, p) for k, p in view.levels if lo < p <= hi), None)
            blank = (" ", NONE) if level is None else ("─", LEVEL_STYLES.get(level[0], NONE))
            cells: list[tuple[str, Style]] = []
            for body_top, body_bottom, wick_top, wick_bottom, colour, marks, is_cursor in columns:
                if body_top <= y <= body_bottom:
                    cell = ("█", colour)
                elif wick_top <= y <= wick_bottom:
                    cell = ("│", colour)
                else:
                    cell = blank
                for kind, price in marks:
                    if lo < price <= hi:
                        cell = MARK.get(kind, ("•", NONE))
                if is_cursor:
                    cell = (cell[0], on_cursor(cell[1]))
                cells.append(cell)
            # The levels run on to the axis, through the room left for the bars to come.
            cells.append((blank[0] * (plot - n), blank[1]))
            label = f"{(hi + lo) / 2:>{AXIS - 1},.2f}" if y % 3 == 0 else ""
            cells.append((" " + label.rjust(AXIS - 1)[: AXIS - 1], AXIS_STYLE))
            rows.append(Strip(_merge(cells), width))
        return rows


def _merge(cells: list[tuple[str, Style]]) -> list[Segment]:
    """Adjacent cells of one style as one segment: fewer segments, faster frames."""
    out: list[Segment] = []
    text, style = "", None
    for char, st in cells:
        if st is style:  # the styles are shared constants: identity is enough, and cheap
            text += char
        else:
            if text:
                out.append(Segment(text, style))
            text, style = char, st
    if text:
        out.append(Segment(text, style))
    return out
