"""Lines of labelled figures that break between figures, never inside one.

"Equity 10,000.00 -> 7,456.16 · low 6,871.23 · peak 14,322.13" wrapped by a terminal
at any space can leave "->" at the end of one line and the figure it points to on the
next; laid out here, a part ("low 6,871.23") moves to the next line whole. With a
limit on the lines, what does not fit ends in an ellipsis (the full text is elsewhere).
"""

from __future__ import annotations

from typing import Optional, Sequence

from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget

SEPARATOR = " · "


def flow(parts: Sequence[str | Text], width: int, max_lines: Optional[int] = None, separator: str = SEPARATOR) -> Text:
    """``parts`` joined by ``separator``, a new line wherever the next part would not fit in
    ``width`` cells; past ``max_lines`` the last line is cut with an ellipsis."""
    items = [p if isinstance(p, Text) else Text(p) for p in parts if (p.plain if isinstance(p, Text) else p)]
    lines: list[Text] = []
    line = Text()
    for item in items:
        if line.cell_len and width > 0 and line.cell_len + len(separator) + item.cell_len > width:
            lines.append(line)
            line = Text()
        if line.cell_len:
            line.append(separator, style="dim")
        line.append_text(item)
    if line.cell_len or not lines:
        lines.append(line)
    if max_lines is not None and len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        last.append(" …")
        if width > 0 and last.cell_len > width:
            last.truncate(width, overflow="ellipsis")
    for i, text in enumerate(lines):
        if width > 0 and text.cell_len > width:  # one part wider than the line: cut, visibly
            text.truncate(width, overflow="ellipsis")
            lines[i] = text
    return Text("\n").join(lines)


class FlowLabel(Widget):
    """A label of parts, laid out for the width it is given (its height follows)."""

    DEFAULT_CSS = """
    FlowLabel { height: auto; }
    """

    def __init__(self, parts: Sequence[str | Text] = (), *, max_lines: Optional[int] = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.parts = list(parts)
        self.max_lines = max_lines

    @property
    def plain(self) -> str:
        """Every part, on one line: what the label says, whatever its width."""
        return flow(self.parts, 0).plain

    def set_parts(self, parts: Sequence[str | Text]) -> None:
        self.parts = list(parts)
        self.refresh(layout=True)

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return flow(self.parts, 0).cell_len

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(flow(self.parts, width, self.max_lines).plain.splitlines()) if self.parts else 1

    def render(self) -> Text:
        return flow(self.parts, self.content_size.width, self.max_lines)
