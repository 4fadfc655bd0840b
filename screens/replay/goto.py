"""The go-to dialog: a bar number or a date, answered with the text typed."""

from __future__ import annotations

from typing import Optional

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Static


class GoToScreen(ModalScreen[Optional[str]]):
    DEFAULT_CSS = """
    GoToScreen { align: center middle; }
    #goto { width: 60; max-width: 100%; height: auto; border: thick $primary; background: $surface; padding: 0 1; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, last_bar: int) -> None:
        super().__init__()
        self.last_bar = last_bar

    def compose(self) -> ComposeResult:
        with Vertical(id="goto"):
            yield Static(f"Go to a bar (0 to {self.last_bar:,}) or a date (YYYY-MM-DD HH:MM, UTC)")
            yield Input(placeholder="e.g. 1200 or 2024-03-05 14:00", id="goto-input")
        yield Footer()  # its own keys, not those of the screen behind it

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
