"""A time-series chart with a value axis and a date axis: several named series as lines,
or one series as an area hanging down from zero (a drawdown).

Series come already thinned to lows and highs per stretch (:mod:`screens.equity_curve`);
the chart thins them again to its width, so a one-bar spike still shows. Lines are drawn
in braille dots (two columns and four rows of dots a cell) from each column's low to its
high, joined to the column before, so the line is unbroken and its spikes are whole.
The area is filled in eighths of a cell from the top, zero at the top edge. Labels sit
on round values and calendar dates (:mod:`screens.widgets.chart_axes`). One widget for
every curve a run has: equity with buy and hold, drawdown, and several runs overlaid
(Compare). A series may hold NaN where it has no value (a run that began later than
another on a shared time axis): those columns are left blank, not joined across.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from screens.equity_curve import envelope
from screens.widgets.chart_axes import axis_line, date_labels, value_rows

# Braille dot bits by (row within the cell, column within the cell).
_DOTS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]], dtype=np.int64)
_LOWER = "▁▂▃▄▅▆▇"  # one to seven eighths from the bottom (drawn reversed for the area)
ROLES = ("s0", "s1", "s2", "s3")


@dataclass(frozen=True)
class Series:
    """One curve: ``lo`` and ``hi`` of each stretch of points, spread over the full width;
    ``label`` is its legend text (its own figures, from every point)."""

    label: str
    lo: np.ndarray
    hi: np.ndarray
    role: str = "s0"  # colour: series-chart--s0 .. s3

    def __len__(self) -> int:
        return len(self.lo)


def cells_strip(cells: list[tuple[str, Style]]) -> Strip:
    """One line of cells, runs of one style joined (fewer segments to draw)."""
    return Strip([Segment(char, style) for char, style in cells]).simplify()


class SeriesChart(Widget):
    DEFAULT_CSS = """
    SeriesChart { height: 10; }
    SeriesChart > .series-chart--axis { color: $text-muted; }
    SeriesChart > .series-chart--s0 { color: $accent; }
    SeriesChart > .series-chart--s1 { color: $foreground 50%; }
    SeriesChart > .series-chart--s2 { color: $primary-lighten-2; }
    SeriesChart > .series-chart--s3 { color: $success; }
    SeriesChart > .series-chart--area { color: $error; }
    """
    COMPONENT_CLASSES = {"series-chart--axis", "series-chart--area", *(f"series-chart--{r}" for r in ROLES)}

    def __init__(self, *, empty: str = "No data yet.", axis_width: int = 0, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.empty = empty  # said instead of a chart while there is nothing to draw
        # The value axis's least width: charts stacked on one time axis give the same, so
        # their columns are the same stretches of time.
        self.axis_width = axis_width
        self.series: tuple[Series, ...] = ()
        self.times = np.empty(0, dtype=np.int64)
        self.area = False
        self.unit = ""
        self.legend = True
        # What the last frame showed, for tests and for anyone reading the chart in code.
        self.y_labels: dict[int, str] = {}  # plot row -> value label
        self.x_labels: list[tuple[int, str]] = []  # plot column -> date label
        self._lines: list[Strip] = []
        self._drawn_for: tuple = ()

    def show(self, series: Sequence[Series], times: Optional[np.ndarray] = None, *, area: bool = False,
             unit: str = "", legend: bool = True) -> None:
        """Draw ``series`` (the first on top) over ``times`` (epoch ns of points spread like
        the series' over the width; none: no date axis). ``area``: the first series as an
        area from zero down; ``unit`` follows the value labels ("%")."""
        self.series = tuple(s for s in series if len(s) and not np.isnan(s.lo).all())
        self.times = np.empty(0, dtype=np.int64) if times is None else np.asarray(times, dtype=np.int64)
        self.area, self.unit, self.legend = area, unit, legend
        self._drawn_for = ()
        self.refresh()

    # ------------------------------------------------------------------ geometry
    def value_range(self) -> tuple[float, float]:
        """(bottom, top) of the plot: the series' extremes with a little room (0 on top for an area)."""
        low = min(float(np.nanmin(s.lo)) for s in self.series)
        high = max(float(np.nanmax(s.hi)) for s in self.series)
        if self.area:
            return (min(low, 0.0) or -1.0), 0.0
        pad = (high - low) * 0.04 or abs(high) * 0.01 or 1.0
        return low - pad, high + pad

    def layout_rows(self) -> tuple[int, int, int]:
        """(legend rows, plot rows, axis rows) at the current height."""
        height = self.size.height
        legend = 1 if self.legend and height >= 4 else 0
        axis = 1 if len(self.times) >= 2 and height >= 4 else 0
        return legend, max(0, height - legend - axis), axis

    # ------------------------------------------------------------------ drawing
    def render_line(self, y: int) -> Strip:
        width, height = self.size
        styles = tuple(self.get_component_rich_style(f"series-chart--{r}") for r in (*ROLES, "axis", "area"))
        key = (width, height, styles, self.background_colors[1])
        if key != self._drawn_for:
            self._lines = self._draw(width, height)
            self._drawn_for = key
        return self._lines[y] if y < len(self._lines) else Strip.blank(width, self.rich_style)

    def _style(self, role: str) -> Style:
        return self.get_component_rich_style(f"series-chart--{role}")

    def _draw(self, width: int, height: int) -> list[Strip]:
        base = self.rich_style
        if width <= 0 or height <= 0:
            return []
        if not self.series:
            self.y_labels, self.x_labels = {}, []
            lines = [Strip.blank(width, base) for _ in range(height)]
            lines[height // 2] = Strip([Segment(self.empty.center(width)[:width], self._style("axis"))])
            return lines
        legend_rows, rows, axis_rows = self.layout_rows()
        bottom, top = self.value_range()
        labels = value_rows(bottom, top, rows, self.unit)
        plot = max(1, width - self._axis(labels))
        self.y_labels = labels
        self.x_labels = date_labels(self.times, plot) if axis_rows else []
        grid = self._area(plot, rows, bottom) if self.area else self._braille(plot, rows, bottom, top)
        axis_style = self._style("axis")
        lines: list[Strip] = []
        if legend_rows:
            lines.append(cells_strip(self._legend()).crop_extend(0, width, base))
        for y, cells in enumerate(grid):
            label = labels.get(y)
            cells.append(("┤ " + label if label is not None else "│", axis_style))
            lines.append(cells_strip(cells).crop_extend(0, width, base))
        if axis_rows:
            lines.append(Strip([Segment(axis_line(self.x_labels, plot), axis_style)]).crop_extend(0, width, base))
        return lines

    def _axis(self, labels: dict[int, str]) -> int:
        return max(self.axis_width, max((len(t) for t in labels.values()), default=0) + 2)

    def _legend(self) -> list[tuple[str, Style]]:
        cells: list[tuple[str, Style]] = []
        for s in self.series:
            marker = "█ " if self.area else "━ "
            cells.extend((ch, self._style("area" if self.area else s.role)) for ch in marker)
            cells.extend((ch, self._style("axis")) for ch in s.label + "   ")
        return cells

    def _braille(self, plot: int, rows: int, bottom: float, top: float) -> list[list[tuple[str, Style]]]:
        dots_y = 4 * rows
        scale = dots_y / (top - bottom)
        bits = np.zeros((len(self.series), rows, plot), dtype=np.int64)
        ys = np.arange(dots_y)[:, None]
        for k, s in enumerate(self.series):
            # NaN (no value) as +inf low / -inf high: a column with any value keeps it, one without none.
            lo, hi = envelope(np.where(np.isnan(s.lo), np.inf, s.lo), np.where(np.isnan(s.hi), -np.inf, s.hi), 2 * plot)
            known = np.isfinite(lo) & np.isfinite(hi)
            lo, hi = np.where(known, lo, bottom), np.where(known, hi, bottom)
            upper = np.clip(((top - hi) * scale).astype(np.int64), 0, dots_y - 1)  # dot rows, 0 on top
            lower = np.clip(((top - lo) * scale).astype(np.int64), 0, dots_y - 1)
            # Joined to the point before: a jump is drawn as a vertical stroke, not a gap.
            joined = known[1:] & known[:-1]
            upper[1:] = np.where(joined, np.minimum(upper[1:], lower[:-1]), upper[1:])
            lower[1:] = np.where(joined, np.maximum(lower[1:], upper[:-1]), lower[1:])
            on = (ys >= upper[None, :]) & (ys <= lower[None, :]) & known[None, :]  # (dots_y, 2 * plot)
            cells = on.reshape(rows, 4, plot, 2) * _DOTS[None, :, None, :]
            bits[k] = cells.sum(axis=(1, 3))
        combined = np.bitwise_or.reduce(bits, axis=0)
        owner = np.argmax(bits > 0, axis=0)  # the first series drawn in a cell gives its colour
        styles = [self._style(s.role) for s in self.series]
        base = self.rich_style
        grid = []
        for y in range(rows):
            row = combined[y].tolist()
            who = owner[y].tolist()
            grid.append([(chr(0x2800 + b), styles[w]) if b else (" ", base) for b, w in zip(row, who)])
        return grid

    def _area(self, plot: int, rows: int, bottom: float) -> list[list[tuple[str, Style]]]:
        s = self.series[0]
        deepest, _ = envelope(s.lo, s.hi, plot)
        eighths = 8 * rows
        level = np.ceil(np.clip(deepest / bottom, 0.0, 1.0) * eighths).astype(np.int64)  # from the top
        fill = self._style("area")
        base = self.rich_style
        # A cell filled from the top: the lower part drawn in the background colour over the fill.
        background = self.background_colors[1].rich_color
        partial = Style(color=background, bgcolor=fill.color)
        grid = []
        for y in range(rows):
            filled = np.clip(level - 8 * y, 0, 8).tolist()
            grid.append([("█", fill) if f == 8 else (" ", base) if f == 0 else (_LOWER[7 - f], partial) for f in filled])
        return grid

    def column_depths(self) -> np.ndarray:
        """Eighths of a cell each column of an area chart is filled down from its top edge."""
        if not self.series:
            return np.empty(0, dtype=np.int64)
        _, rows, _ = self.layout_rows()
        bottom, _ = self.value_range()
        plot = max(1, self.size.width - self._axis(self.y_labels))
        deepest, _ = envelope(self.series[0].lo, self.series[0].hi, plot)
        return np.ceil(np.clip(deepest / bottom, 0.0, 1.0) * 8 * rows).astype(np.int64)
