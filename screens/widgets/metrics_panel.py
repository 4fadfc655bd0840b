"""The engine's full metric list, grouped (Returns, Risk, Trades, Costs, ...)."""

from __future__ import annotations

from typing import Any, Mapping

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from engine.metrics import METRIC_SPECS, format_metric


def _group_table(group: str, metrics: Mapping[str, Any]) -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(style="dim")
    table.add_column(justify="right")
    for spec in METRIC_SPECS:
        if spec.group != group:
            continue
        value = metrics.get(spec.key)
        text = Text(format_metric(value, spec.fmt))
        if spec.fmt in ("pct", "money") and isinstance(value, (int, float)) and spec.key not in ("total_fees", "total_slippage"):
            text.stylize("green" if value > 0 else "red" if value < 0 else "")
        table.add_row(spec.label, text)
    return table


class MetricsPanel(Static):
    DEFAULT_CSS = """
    MetricsPanel { height: auto; padding: 0 1; }
    """

    def show(self, metrics: Mapping[str, Any]) -> None:
        groups: list[str] = []
        for spec in METRIC_SPECS:
            if spec.group not in groups:
                groups.append(spec.group)
        grid = Table.grid(padding=(0, 3))
        columns = [groups[0:2], groups[2:3], groups[3:]]
        for _ in columns:
            grid.add_column(vertical="top")
        cells = []
        for col in columns:
            inner = Table.grid()
            for g in col:
                inner.add_row(Text(g, style="bold"))
                inner.add_row(_group_table(g, metrics))
                inner.add_row("")
            cells.append(inner)
        grid.add_row(*cells)
        self.update(grid)
