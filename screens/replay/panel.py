"""A fixed-size text panel that redraws without a new layout.

``Static.update`` asks the whole screen to lay itself out again, which costs more than
the frame itself when the replay plays 30 bars a second; these panels have fixed sizes
(from the stylesheet), so a repaint is all a change needs.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget


class TextPanel(Widget):
    DEFAULT_CSS = """
    TextPanel { height: 1; }
    """

    def __init__(self, text: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.markup = text

    def show(self, markup: str) -> None:
        if markup != self.markup:
            self.markup = markup
            self.refresh()

    def render(self) -> Text:
        return Text.from_markup(self.markup)
