"""The run's market as candles, one per column, with its trades marked: ▲ buy, ▼ sell.

The whole run fits the width: each column is a stretch of bars merged into one candle
(:mod:`screens.widgets.price_bars`). A column with a buy in it gets ▲ under its candle,
one with a sell ▼ over it, as charting platforms mark trades: drawn at the fill prices,
a few hundred markers covered the candles they belong to (the prices are in the trades
table). The axes are those of the other charts: round prices on the right, calendar
dates below. Drawn once per size and data with the line API.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from screens.widgets.chart_axes import axis_line, date_labels, value_rows
from screens.widgets.price_bars import Markers, PriceBars
from screens.widgets.series_chart import cells_strip

BUY, SELL = "▲", "▼"


class PriceChart(Widget):
    DEFAULT_CSS = """
    PriceChart { height: 1fr; min-height: 8; }
    PriceChart > .price-chart--up { color: $success; }
    PriceChart > .price-chart--down { color: $error; }
    PriceChart > .price-chart--buy { color: $accent; text-style: bold; }
    PriceChart > .price-chart--sell { color: $secondary-lighten-3; text-style: bold; }
    PriceChart > .price-chart--axis { color: $text-muted; }
    """
    COMPONENT_CLASSES = {"price-chart--up", "price-chart--down", "price-chart--buy", "price-chart--sell",
                         "price-chart--axis"}

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.bars: Optional[PriceBars] = None
        self.markers: Optional[Markers] = None
        self.title = ""
        self.message = "Loading the run's candles…"  # shown while there are no bars
        self.y_labels: dict[int, str] = {}
        self.x_labels: list[tuple[int, str]] = []
        self.marks_drawn: dict[str, int] = {}  # cells showing a buy / a sell marker
        self._lines: list[Strip] = []
        self._drawn_for: tuple = ()

    def show(self, bars: Optional[PriceBars], markers: Optional[Markers], title: str = "",
             message: str = "") -> None:
        """Draw ``bars`` with ``markers``; without bars, say ``message`` instead."""
        self.bars, self.markers, self.title = bars, markers, title
        if message:
            self.message = message
        self._drawn_for = ()
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width, height = self.size
        styles = tuple(self.get_component_rich_style(f"price-chart--{k}") for k in ("up", "down", "buy", "sell", "axis"))
        key = (width, height, styles)
        if key != self._drawn_for:
            self._lines = self._draw(width, height, *styles)
            self._drawn_for = key
        return self._lines[y] if y < len(self._lines) else Strip.blank(width, self.rich_style)

    def _draw(self, width: int, height: int, up: Style, down: Style, buy: Style, sell: Style,
              axis: Style) -> list[Strip]:
        base = self.rich_style
        if width <= 0 or height <= 0:
            return []
        bars = self.bars
        if bars is None or not len(bars) or height < 4:
            lines = [Strip.blank(width, base) for _ in range(height)]
            lines[height // 2] = Strip([Segment(self.message.center(width)[:width], axis)])
            self.y_labels, self.x_labels, self.marks_drawn = {}, [], {}
            return lines
        rows = height - 2  # a legend above, dates below
        bottom, top = float(bars.low.min()), float(bars.high.max())
        # A row over the highest candle and under the lowest, for their markers.
        pad = (top - bottom) / max(1, rows - 2) * 1.01 or abs(top) * 0.01 or 1.0
        bottom, top = bottom - pad, top + pad
        labels = value_rows(bottom, top, rows)
        plot = max(1, width - (max((len(t) for t in labels.values()), default=0) + 2))
        o, h, lo, c, starts = bars.columns(plot)
        self.y_labels = labels
        self.x_labels = date_labels(bars.times, plot)

        def row(v: np.ndarray) -> np.ndarray:
            return np.clip(((top - v) / (top - bottom) * rows).astype(np.int64), 0, rows - 1)

        body_top, body_bottom = row(np.maximum(o, c)), row(np.minimum(o, c))
        wick_top, wick_bottom = row(h), row(lo)
        rising = (c >= o).tolist()
        cells = [[(" ", base)] * plot for _ in range(rows)]
        for x in range(plot):
            colour = up if rising[x] else down
            for y in range(int(wick_top[x]), int(wick_bottom[x]) + 1):
                cells[y][x] = ("█", colour) if body_top[x] <= y <= body_bottom[x] else ("│", colour)
        self.marks_drawn = {BUY: 0, SELL: 0}
        if self.markers is not None and len(self.markers):
            xs = self.markers.columns(starts)
            for marks, char, style, y_of in ((self.markers.buy, BUY, buy, wick_bottom + 1),
                                             (~self.markers.buy, SELL, sell, wick_top - 1)):
                for x in np.unique(xs[marks]).tolist():
                    y = int(y_of[x])
                    if 0 <= y < rows:
                        cells[y][x] = (char, style)
                        self.marks_drawn[char] += 1
        legend = [(ch, axis) for ch in f"{self.title}  "] + [(BUY, buy)] + [(ch, axis) for ch in " buy "]
        per = f"{bars.bars / plot:,.0f} bars/column" if bars.bars > plot else f"{bars.bars:,} bars"
        legend += [(SELL, sell)] + [(ch, axis) for ch in f" sell  {per}"]
        lines = [cells_strip(legend).crop_extend(0, width, base)]
        for y, line in enumerate(cells):
            label = labels.get(y)
            lines.append(cells_strip(line + [("┤ " + label if label is not None else "│", axis)]).crop_extend(0, width, base))
        lines.append(Strip([Segment(axis_line(self.x_labels, plot), axis)]).crop_extend(0, width, base))
        return lines
