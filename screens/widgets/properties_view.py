"""The run's full configuration, section by section: what exactly was run.

Two runs that look alike in their titles differ somewhere in here; every field is
listed, the ones left at their defaults or off included (:mod:`screens.widgets.config_text`).
"""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from screens.widgets.config_text import Rows


class PropertiesView(Static):
    DEFAULT_CSS = """
    PropertiesView { height: auto; padding: 0 1; }
    """

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.rows: Rows = []

    def show(self, rows: Rows) -> None:
        self.rows = rows
        parts: list[Any] = []
        for section, items in rows:
            parts.append(Text(section, style="bold"))
            table = Table.grid(padding=(0, 2))
            table.add_column(style="dim", no_wrap=True)
            table.add_column(overflow="fold")  # a long file path folds rather than being cut
            for label, value in items:
                table.add_row(label, value)
            parts += [table, Text("")]
        self.update(Group(*parts))

    def value(self, section: str, label: str) -> str:
        """What the view says for ``label`` in ``section`` (for tests)."""
        items = dict(next(items for name, items in self.rows if name == section))
        return items[label]
