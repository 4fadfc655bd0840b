"""The engine's full metric list, grouped (Returns, Risk, Trades, Costs, ...).

The groups are laid out in as many columns (four, three, two or one) as the panel's
width holds without cutting a figure short, and laid out again when the width changes:
a wide terminal shows them in fewer rows, leaving the charts under them more.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from rich.cells import cell_len
from rich.table import Table
from rich.text import Text
from textual import events
from textual.geometry import Size
from textual.widgets import Static

from engine.metrics import METRIC_SPECS, format_metric

GAP = 3  # cells between columns of groups
# Which groups go in which column, for four, three, two and one column(s), by position.
SPLITS = {
    4: (slice(0, 1), slice(1, 2), slice(2, 3), slice(3, None)),
    3: (slice(0, 2), slice(2, 3), slice(3, None)),
    2: (slice(0, 2), slice(2, None)),
    1: (slice(None),),
}

Rows = dict[str, list[tuple[str, Text]]]  # group -> (label, value) in METRIC_SPECS order


# Figures whose sign says nothing good or bad (a cost, how much of the time, how volatile):
# never green or red. A gross loss is a positive amount of money lost: red.
NEUTRAL = {"total_fees", "total_slippage", "exposure_pct", "volatility_ann_pct", "trades_per_day", "periods_per_year"}
LOSSES = {"gross_loss"}


def signed_text(key: str, value: Any, fmt: str) -> Text:
    """``value`` formatted as ``fmt``, green for a gain and red for a loss where that means something."""
    if isinstance(value, float) and value == 0.0:
        value = 0.0  # a sum of nothing can be -0.0: shown as 0.00, not -0.00
    text = Text(format_metric(value, fmt))
    if fmt in ("pct", "money", "ratio") and isinstance(value, (int, float)) and key not in NEUTRAL:
        if key in LOSSES:
            text.stylize("red" if value > 0 else "")
        elif fmt != "ratio" or key == "return_pct":
            text.stylize("green" if value > 0 else "red" if value < 0 else "")
    return text


def metric_text(key: str, metrics: Mapping[str, Any], fmt: str) -> Text:
    """Metric ``key`` as the panel shows it (a drawdown never regained says so)."""
    value = metrics.get(key)
    if key == "max_drawdown_recovery" and value is None and metrics.get("max_drawdown_start"):
        return Text("not recovered", style="red")
    return signed_text(key, value, fmt)


def _rows(metrics: Mapping[str, Any]) -> Rows:
    rows: Rows = {}
    for spec in METRIC_SPECS:
        rows.setdefault(spec.group, []).append((spec.label, metric_text(spec.key, metrics, spec.fmt)))
    return rows


def _width(rows: Rows, groups: list[str]) -> int:
    """Cells the widest of ``groups`` needs: its longest label, a space, its longest value."""
    return max(max(cell_len(label) for label, _ in rows[g]) + 1 + max(t.cell_len for _, t in rows[g]) for g in groups)


def figure_grid(rows: list[tuple[str, Text]], gap: int = 1) -> Table:
    """Labels (dim) and their figures (right-aligned), one a line."""
    table = Table.grid(padding=(0, gap))
    table.add_column(style="dim", no_wrap=True)
    table.add_column(justify="right", no_wrap=True, overflow="ellipsis")
    for label, text in rows:
        table.add_row(label, text)
    return table


class MetricsPanel(Static):
    DEFAULT_CSS = """
    MetricsPanel { height: auto; padding: 0 1; }
    """

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.columns = 0  # of the groups as laid out (0: nothing shown yet)
        self._rows: Rows = {}
        self._width = 0  # the width they were laid out for

    def show(self, metrics: Mapping[str, Any]) -> None:
        self._rows = _rows(metrics)
        self._lay_out()

    def _fits(self, count: int, width: int) -> bool:
        groups = list(self._rows)
        return sum(_width(self._rows, groups[s]) for s in SPLITS[count] if groups[s]) + GAP * (count - 1) <= width

    def _lay_out(self, width: Optional[int] = None) -> None:
        width = self.size.width if width is None else width
        # Not laid out yet: three columns for now, measured again on the first resize.
        count = 3 if not width else next((c for c in (4, 3, 2) if self._fits(c, width)), 1)
        groups = list(self._rows)
        grid = Table.grid(padding=(0, GAP))
        cells = []
        for part in SPLITS[count]:
            grid.add_column(vertical="top")
            inner = Table.grid()
            for g in groups[part]:
                inner.add_row(Text(g, style="bold"))
                inner.add_row(figure_grid(self._rows[g]))
                inner.add_row("")
            cells.append(inner)
        grid.add_row(*cells)
        self.columns, self._width = count, width
        self.update(grid)

    def on_resize(self, event: events.Resize) -> None:
        if self.columns and self.size.width != self._width:
            self._lay_out()

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        # Measured as laid out for this very width: a height taken from the layout made for
        # another width (three columns are two rows taller than four) left blank rows, or
        # cut the last ones, until something else asked for a layout again.
        if self.columns and width and width != self._width:
            self._lay_out(width)
        return super().get_content_height(container, viewport, width)
