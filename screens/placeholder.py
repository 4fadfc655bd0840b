"""Honest empty states for the workspaces that later releases build (Live)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Center, Middle
from textual.screen import Screen
from textual.widgets import Footer, Header, Static


class EmptyWorkspace(Screen):
    WORKSPACE = ""
    MESSAGE = ""

    def compose(self) -> ComposeResult:
        yield Header()
        with Middle():
            with Center():
                yield Static(self.message(), classes="empty-state", id="empty-state")
        yield Footer()

    def message(self) -> str:
        return self.MESSAGE

    def on_mount(self) -> None:
        self.sub_title = self.WORKSPACE


class LiveScreen(EmptyWorkspace):
    WORKSPACE = "Live"
    MESSAGE = (
        "[b]Live and paper sessions are not built yet.[/b]\n\n"
        "They will run strategies on exchange or paper feeds through ccxt,\n"
        "with manual partial exits and scale-ins on open positions."
    )
