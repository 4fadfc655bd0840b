"""A candlestick chart drawn with Textual's line API: one column per bar, no plotting library.

Each frame is computed from a :class:`ChartView` (plain numbers, prepared by the
workspace from the engine's state); the widget only turns rows into strips. From top
to bottom: a legend with the cursor bar's values, the candles with the strategy's
price indicators, levels (stop, take-profit, trailing stop, next target) as
horizontal lines and fills as markers, then volume, then the strategy's sub-panel
(RSI, say) if it has one. The cursor bar is highlighted in every pane.
"""

from __future__ import annotations

import math
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
VOLUME_UP = Style(color="green", dim=True)
VOLUME_DOWN = Style(color="red", dim=True)
AXIS_STYLE = Style(color="grey50")
GUIDE = Style(color="grey42")
CURSOR_BG = "grey23"
LEVEL_STYLES = {
    "stop": Style(color="red", bold=True),
    "target": Style(color="green"),
    "trail": Style(color="yellow"),
    "trail_idle": Style(color="yellow", dim=True),
    "next": Style(color="cyan"),
}
# Indicator lines, in the order a strategy lists them.
LINE_STYLES = (Style(color="dodger_blue1"), Style(color="orange1"), Style(color="orchid"))
LINE = "•"
EIGHTHS = " ▁▂▃▄▅▆▇█"
_on_cursor: dict[Style, Style] = {}


def on_cursor(style: Style) -> Style:
    """``style`` over the cursor's background (made once per style: frames are drawn often)."""
    found = _on_cursor.get(style)
    if found is None:
        found = _on_cursor[style] = style + Style(bgcolor=CURSOR_BG)
    return found


BUY, SELL = Style(color="bright_cyan", bold=True), Style(color="magenta", bold=True)
# A fill's marker says which way it traded (▲ buy, ▼ sell) and whether it opened or closed a
# position (solid) or changed its size (hollow).
MARKS = {
    ("entry", True): ("▲", BUY), ("entry", False): ("▼", SELL),
    ("exit", True): ("▲", BUY), ("exit", False): ("▼", SELL),
    ("scale_in", True): ("△", BUY), ("scale_in", False): ("▽", SELL),
    ("partial_exit", True): ("△", BUY), ("partial_exit", False): ("▽", SELL),
}


@dataclass
class Pane:
    """A sub-panel under the candles: one series on its own scale, with reference levels."""

    label: str
    values: list[float]
    guides: tuple[float, ...] = ()
    bounds: Optional[tuple[float, float]] = None


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
    marks: dict[int, list[tuple[str, bool, float]]] = field(default_factory=dict)  # bar -> (fill kind, buy?, price)
    volumes: list[float] = field(default_factory=list)
    lines: list[tuple[str, list[float]]] = field(default_factory=list)  # indicators on the price scale
    pane: Optional[Pane] = None


def pane_heights(height: int, has_volume: bool, has_pane: bool) -> tuple[int, int, int]:
    """Rows for (candles, volume, sub-panel) under the legend: the candles keep most of a
    small chart, and the extras appear only when there is room for them to be read."""
    rest = height - 1
    volume = min(5, max(2, height // 8)) if has_volume and height >= 12 else 0
    pane = min(10, max(4, height // 5)) if has_pane and height >= 16 else 0
    return rest - volume - pane, volume, pane


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
        has_volume = any(v > 0 for v in view.volumes[:n])
        price_rows, volume_rows, pane_rows = pane_heights(height, has_volume, view.pane is not None)
        rows = self._candles(view, n, plot, price_rows)
        if volume_rows:
            rows += self._volume(view, n, plot, volume_rows)
        if pane_rows and view.pane is not None:
            rows += self._pane(view.pane, view, n, plot, pane_rows)
        legend = Strip(_merge(self._legend(view, n))).adjust_cell_length(width)
        return [legend] + [Strip(_merge(cells), width) for cells in rows]

    # ------------------------------------------------------------------ panes
    def _legend(self, view: ChartView, n: int) -> list[tuple[str, Style]]:
        """The cursor bar's indicator values (the last bar drawn is the cursor's)."""
        last = n - 1
        cells: list[tuple[str, Style]] = []
        for k, (label, values) in enumerate(view.lines):
            cells.append((f" {LINE} {label} {_value(values[last])} ", LINE_STYLES[k % len(LINE_STYLES)]))
        if view.pane is not None:
            cells.append((f" {view.pane.label} {_value(view.pane.values[last])} ", LINE_STYLES[0]))
        if view.volumes:
            cells.append((f" vol {_compact(view.volumes[last])} ", AXIS_STYLE))
        return cells or [(" ", NONE)]

    def _candles(self, view: ChartView, n: int, plot: int, height: int) -> list[list[tuple[str, Style]]]:
        finite_lines = [v for _, values in view.lines for v in values[:n] if math.isfinite(v)]
        prices = view.highs[:n] + view.lows[:n] + [p for _, p in view.levels] + finite_lines
        top, bottom = max(prices), min(prices)
        pad = (top - bottom) * 0.02 or abs(top) * 0.001 or 1e-9  # lines at the extremes stay on screen
        top, bottom = top + pad, bottom - pad
        step = (top - bottom) / height
        # Per bar, once: the rows its body, its wick and its indicator values cover, its colour, its fills.
        columns = []
        for i in range(n):
            o, h, l, c = view.opens[i], view.highs[i], view.lows[i], view.closes[i]
            bar = view.first + i
            on_lines = {}
            for k, (_, values) in enumerate(view.lines):
                v = values[i]
                if math.isfinite(v):
                    on_lines.setdefault(int((top - v) / step), LINE_STYLES[k % len(LINE_STYLES)])
            columns.append((
                int((top - max(o, c)) / step), int((top - min(o, c)) / step),
                int((top - h) / step), int((top - l) / step),
                UP if c >= o else DOWN, view.marks.get(bar, ()), bar == view.cursor, on_lines,
            ))
        rows = []
        for y in range(height):
            hi = top - y * step
            lo = hi - step
            level = next(((k, p) for k, p in view.levels if lo < p <= hi), None)
            blank = (" ", NONE) if level is None else ("─", LEVEL_STYLES.get(level[0], NONE))
            cells: list[tuple[str, Style]] = []
            for body_top, body_bottom, wick_top, wick_bottom, colour, marks, is_cursor, on_lines in columns:
                if body_top <= y <= body_bottom:
                    cell = ("█", colour)
                elif y in on_lines:  # an indicator reads through a wick or a level line, not a body
                    cell = (LINE, on_lines[y])
                elif wick_top <= y <= wick_bottom:
                    cell = ("│", colour)
                else:
                    cell = blank
                for kind, buy, price in marks:
                    if lo < price <= hi:
                        cell = MARKS.get((kind, buy), ("•", NONE))
                if is_cursor:
                    cell = (cell[0], on_cursor(cell[1]))
                cells.append(cell)
            # The levels run on to the axis, through the room left for the bars to come.
            cells.append((blank[0] * (plot - n), blank[1]))
            label = f"{(hi + lo) / 2:>{AXIS - 1},.2f}" if y % 3 == 0 else ""
            cells.append((" " + label.rjust(AXIS - 1)[: AXIS - 1], AXIS_STYLE))
            rows.append(cells)
        return rows

    def _volume(self, view: ChartView, n: int, plot: int, height: int) -> list[list[tuple[str, Style]]]:
        top = max(view.volumes[:n])
        eighths = [int(v / top * height * 8) if top > 0 and v > 0 else 0 for v in view.volumes[:n]]
        rows = []
        for y in range(height):
            floor = (height - 1 - y) * 8  # eighths below this row
            cells: list[tuple[str, Style]] = []
            for i in range(n):
                style = VOLUME_UP if view.closes[i] >= view.opens[i] else VOLUME_DOWN
                cell = (EIGHTHS[max(0, min(8, eighths[i] - floor))], style)
                if view.first + i == view.cursor:
                    cell = (cell[0], on_cursor(style))
                cells.append(cell)
            cells.append((" " * (plot - n), NONE))
            label = f"vol {_compact(top)}" if y == 0 else ""
            cells.append((" " + label.rjust(AXIS - 1)[: AXIS - 1], AXIS_STYLE))
            rows.append(cells)
        return rows

    def _pane(self, pane: Pane, view: ChartView, n: int, plot: int, height: int) -> list[list[tuple[str, Style]]]:
        values = pane.values[:n]
        finite = [v for v in values if math.isfinite(v)]
        if pane.bounds is not None:
            bottom, top = pane.bounds
        elif finite:
            bottom, top = min(finite + list(pane.guides)), max(finite + list(pane.guides))
        else:
            bottom, top = 0.0, 1.0
        if top <= bottom:
            top = bottom + 1.0
        body = height - 1  # the first row is the pane's title rule
        step = (top - bottom) / body

        def row_of(v: float) -> int:
            return min(body - 1, max(0, int((top - v) / step)))

        guide_rows = {row_of(g): g for g in pane.guides}
        line_rows = [row_of(v) if math.isfinite(v) else -1 for v in values]
        title = f"─ {pane.label} "
        rows: list[list[tuple[str, Style]]] = [[(title + "─" * max(0, plot + AXIS - len(title)), GUIDE)]]
        for y in range(body):
            guide = y in guide_rows
            blank = ("┄", GUIDE) if guide else (" ", NONE)
            cells = []
            for i in range(n):
                cell = (LINE, LINE_STYLES[0]) if line_rows[i] == y else blank
                if view.first + i == view.cursor:
                    cell = (cell[0], on_cursor(cell[1]))
                cells.append(cell)
            cells.append((blank[0] * (plot - n), blank[1]))
            label = f"{guide_rows[y]:g}" if guide else ""
            cells.append((" " + label.rjust(AXIS - 1)[: AXIS - 1], AXIS_STYLE))
            rows.append(cells)
        return rows


def _value(v: float) -> str:
    if not math.isfinite(v):
        return "—"
    return f"{v:,.2f}" if abs(v) >= 10 else f"{v:.3f}"


def _compact(v: float) -> str:
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= size:
            return f"{v / size:.1f}{suffix}"
    return f"{v:.4g}"


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
