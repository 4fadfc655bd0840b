"""A column chart of a long series' range: each column filled up to the highest value in
its share of the points, the part above the lowest one in a lighter shade.

Given lows and highs already thinned to a few hundred buckets, it thins them again to
its width (lowest of the lows, highest of the highs), so a spike shows however narrow
it was; a sparkline of picked points could miss it. Drawn once per size and data with
the line API, eighth blocks giving eight levels a row.
"""

from __future__ import annotations

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from screens.equity_curve import envelope

BARS = "▁▂▃▄▅▆▇█"  # one to eight eighths of a cell, from the bottom


def levels(lo: np.ndarray, hi: np.ndarray, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Each column's low and high as a number of eighth-cells from the bottom, 1 to 8 x rows
    (the lowest value keeps one eighth, so a flat series still shows a line)."""
    top = 8 * rows
    low, high = float(lo.min()), float(hi.max())
    extent = (high - low) or 1.0
    to_level = lambda v: 1 + ((v - low) / extent * (top - 1)).astype(np.int64)  # noqa: E731
    return to_level(lo), to_level(hi)


class RangeChart(Widget):
    DEFAULT_CSS = """
    RangeChart { height: 5; }
    RangeChart > .range-chart--fill { color: $success; }
    RangeChart > .range-chart--band { color: $success-muted; }
    """
    COMPONENT_CLASSES = {"range-chart--fill", "range-chart--band"}

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.lo = self.hi = np.empty(0)
        self._lines: list[Strip] = []
        self._drawn_for: tuple = ()

    def show(self, lo: np.ndarray, hi: np.ndarray) -> None:
        self.lo, self.hi = np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
        self._drawn_for = ()
        self.refresh()

    def columns(self) -> tuple[np.ndarray, np.ndarray]:
        """The lows and highs drawn, one per column at the current width."""
        return envelope(self.lo, self.hi, self.size.width)

    def render_line(self, y: int) -> Strip:
        width, height = self.size
        fill = self.get_component_rich_style("range-chart--fill", partial=True)
        band = self.get_component_rich_style("range-chart--band", partial=True)
        key = (width, height, fill, band)
        if key != self._drawn_for:
            self._lines = self._draw(width, height, fill, band)
            self._drawn_for = key
        return self._lines[y] if y < len(self._lines) else Strip.blank(width)

    def _draw(self, width: int, height: int, fill: Style, band: Style) -> list[Strip]:
        if not len(self.lo) or width <= 0 or height <= 0:
            return [Strip.blank(width) for _ in range(height)]
        lo, hi = self.columns()
        low, high = levels(lo, hi, height)
        split = Style(color=fill.color, bgcolor=band.color)  # solid below, band above, in one cell
        lines = []
        for row in reversed(range(height)):
            base = 8 * row
            solid = np.clip(low - base, 0, 8)
            filled = np.clip(high - base, 0, 8)
            segments = []
            for a, b in zip(solid.tolist(), filled.tolist()):
                if b == 0:
                    segments.append(Segment(" "))
                elif a == 8 or (a > 0 and b < 8):
                    # Wholly below the low, or low and high in one cell: the high, solid.
                    segments.append(Segment(BARS[b - 1], fill))
                elif a == 0:
                    segments.append(Segment(BARS[b - 1], band))
                else:
                    segments.append(Segment(BARS[a - 1], split))
            lines.append(Strip(segments).simplify())
        return lines
