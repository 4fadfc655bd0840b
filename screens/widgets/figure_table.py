"""A table of figures that fits its width: wide, turned on its side, or one block a row.

A report's tables (longs against shorts, exit reasons, months by year) are wider than a
narrow terminal. Rather than cut figures off at the edge, each table is laid out the
first of three ways that fits: rows as rows (names down the left, figures across), the
same turned on its side (figures down the left, one column a name), or one block per
row (its name, then its figures one a line). Every figure is shown whole in all three.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

GAP = 2  # cells between columns


@dataclass
class FigureTable:
    title: str
    corner: str  # heads the names' column ("Exit reason", "Year")
    columns: list[str]  # the figures' labels
    rows: list[tuple[str, list[Text]]] = field(default_factory=list)  # (name, one text per column)
    empty: str = "—"  # said when there are no rows

    def cell(self, name: str, column: str) -> str:
        """The text shown for ``name`` under ``column`` (for tests and copying)."""
        i = self.columns.index(column)
        return next(cells[i].plain for n, cells in self.rows if n == name)


def _width(columns: Sequence[Sequence[int]]) -> int:
    return sum(max(c, default=0) for c in columns) + GAP * max(0, len(columns) - 1)


def wide_width(t: FigureTable) -> int:
    names = [cell_len(t.corner)] + [cell_len(n) for n, _ in t.rows]
    cols = [[cell_len(label)] + [cells[i].cell_len for _, cells in t.rows] for i, label in enumerate(t.columns)]
    return _width([names, *cols])


def side_width(t: FigureTable) -> int:
    labels = [cell_len(t.corner)] + [cell_len(c) for c in t.columns]
    cols = [[cell_len(n)] + [c.cell_len for c in cells] for n, cells in t.rows]
    return _width([labels, *cols])


def _grid(count: int) -> Table:
    table = Table.grid(padding=(0, GAP))
    table.add_column(no_wrap=True)
    for _ in range(count):
        table.add_column(justify="right", no_wrap=True)
    return table


def layout(t: FigureTable, width: int) -> str:
    """Which way ``t`` is laid out at ``width``: "wide", "side" or "blocks"."""
    if wide_width(t) <= width:
        return "wide"
    if side_width(t) <= width:
        return "side"
    return "blocks"


def render(t: FigureTable, width: int) -> RenderableType:
    title = Text(t.title, style="bold")
    if not t.rows:
        return Group(title, Text(t.empty, style="dim"), Text(""))
    how = layout(t, width)
    head = "bold dim"
    if how == "wide":
        table = _grid(len(t.columns))
        table.add_row(Text(t.corner, style=head), *(Text(c, style=head) for c in t.columns))
        for name, cells in t.rows:
            table.add_row(Text(name), *cells)
        return Group(title, table, Text(""))
    if how == "side":
        table = _grid(len(t.rows))
        table.add_row(Text(t.corner, style=head), *(Text(n, style=head) for n, _ in t.rows))
        for i, label in enumerate(t.columns):
            table.add_row(Text(label, style="dim"), *(cells[i] for _, cells in t.rows))
        return Group(title, table, Text(""))
    parts: list[RenderableType] = [title]
    for name, cells in t.rows:
        parts.append(Text(f"{t.corner} {name}".strip(), style=head))
        table = _grid(1)
        for label, text in zip(t.columns, cells):
            table.add_row(Text("  " + label, style="dim"), text)
        parts.append(table)
    parts.append(Text(""))
    return Group(*parts)
