"""The engine's full metric list, grouped (Returns, Risk, Trades, Costs, ...).

The groups are laid out in as many columns (three, two or one) as the panel's width
holds without cutting a figure short, and laid out again when the width changes.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from rich.cells import cell_len
from rich.table import Table
from rich.text import Text
from textual import events
from textual.widgets import Static

from engine.metrics import METRIC_SPECS, format_metric

# An ISO time as the engine writes it ("2024-03-22T05:00:00+00:00"): shown to the minute.
_ISO_TIME = re.compile(r"^(\d{4}-\d\d-\d\d)T(\d\d:\d\d):\d\d(?:\.\d+)?(?:\+00:00|Z)?$")
GAP = 3  # cells between columns of groups
# Which groups go in which column, for three, two and one column(s), by position.
SPLITS = {3: (slice(0, 2), slice(2, 3), slice(3, None)), 2: (slice(0, 2), slice(2, None)), 1: (slice(None),)}

Rows = dict[str, list[tuple[str, Text]]]  # group -> (label, value) in METRIC_SPECS order


def _text(value: Any, fmt: str) -> str:
    text = format_metric(value, fmt)
    return _ISO_TIME.sub(r"\1 \2", text) if fmt == "text" else text


def _rows(metrics: Mapping[str, Any]) -> Rows:
    rows: Rows = {}
    for spec in METRIC_SPECS:
        value = metrics.get(spec.key)
        text = Text(_text(value, spec.fmt))
        if spec.fmt in ("pct", "money") and isinstance(value, (int, float)) and spec.key not in ("total_fees", "total_slippage"):
            text.stylize("green" if value > 0 else "red" if value < 0 else "")
        rows.setdefault(spec.group, []).append((spec.label, text))
    return rows


def _width(rows: Rows, groups: list[str]) -> int:
    """Cells the widest of ``groups`` needs: its longest label, a space, its longest value."""
    return max(max(cell_len(label) for label, _ in rows[g]) + 1 + max(t.cell_len for _, t in rows[g]) for g in groups)


def _group_table(group: str, rows: Rows) -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(style="dim", no_wrap=True)
    table.add_column(justify="right", no_wrap=True, overflow="ellipsis")
    for label, text in rows[group]:
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

    def _lay_out(self) -> None:
        width = self.size.width
        # Not laid out yet: three columns for now, measured again on the first resize.
        count = 3 if not width else next((c for c in (3, 2) if self._fits(c, width)), 1)
        groups = list(self._rows)
        grid = Table.grid(padding=(0, GAP))
        cells = []
        for part in SPLITS[count]:
            grid.add_column(vertical="top")
            inner = Table.grid()
            for g in groups[part]:
                inner.add_row(Text(g, style="bold"))
                inner.add_row(_group_table(g, self._rows))
                inner.add_row("")
            cells.append(inner)
        grid.add_row(*cells)
        self.columns, self._width = count, width
        self.update(grid)

    def on_resize(self, event: events.Resize) -> None:
        if self.columns and self.size.width != self._width:
            self._lay_out()
