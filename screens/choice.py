"""A question with several ways forward, as a modal dialog: each answer a button and a key.

For the moments where yes/no is too little: a run whose candles changed can be re-run
on the current data, opened read-only, or left alone.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static


class Choice(NamedTuple):
    id: str
    label: str
    key: str  # a single key that answers with this choice


class ChoiceScreen(ModalScreen[Optional[str]]):
    """Dismisses with the chosen id, or None on Escape."""

    CSS_PATH = "confirm.tcss"
    BINDINGS = [Binding("escape", "choose('')", "Cancel")]

    def __init__(self, question: str, choices: list[Choice]) -> None:
        super().__init__()
        self.question = question
        self.choices = choices
        for choice in choices:
            self._bindings.bind(choice.key, f"choose({choice.id!r})", choice.label)

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog", classes="choice"):
            yield Static(self.question, id="confirm-question")
            with Horizontal(id="confirm-buttons"):
                for i, choice in enumerate(self.choices):
                    yield Button(f"{choice.label} ({choice.key})", id=f"choice-{choice.id}",
                                 variant="primary" if i == 0 else "default")
        yield Footer()

    def on_mount(self) -> None:
        self.query(Button).last().focus()  # the last choice is the harmless one

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(str(event.button.id).removeprefix("choice-"))

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice or None)
