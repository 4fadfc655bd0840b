"""Honest empty states for the workspaces that later releases build (Replay, Live)."""

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


class ReplayScreen(EmptyWorkspace):
    WORKSPACE = "Replay"
    MESSAGE = (
        "[b]Replay is not built yet.[/b]\n\n"
        "It will step through a backtest bar by bar, back and forth, and let you\n"
        "intervene (partial exits, scale-ins, moved stops) as a branch run.\n\n"
        "Runs you send here with [b]Open in replay[/b] are remembered below."
    )

    def __init__(self) -> None:
        super().__init__()
        self.run_id: int | None = None

    def message(self) -> str:
        return self.MESSAGE + (f"\n\nSelected: run #{self.run_id}" if self.run_id is not None else "")

    def show_run(self, run_id: int) -> None:
        self.run_id = run_id
        if self.is_mounted:
            self.query_one("#empty-state", Static).update(self.message())


class LiveScreen(EmptyWorkspace):
    WORKSPACE = "Live"
    MESSAGE = (
        "[b]Live and paper sessions are not built yet.[/b]\n\n"
        "They will run strategies on exchange or paper feeds through ccxt,\n"
        "with manual partial exits and scale-ins on open positions."
    )
