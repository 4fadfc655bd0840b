"""The atb-tui App: workspaces as modes, global bindings, command palette, back-ends.

:func:`create_app` is the factory: it takes the back-ends (settings, database URL,
candle loader, clock, broker/feed factories, keyring) so tests pass fakes.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from atb_tui.backends import Backends
from engine.errors import InputError
from screens.api_keys import ApiKeysScreen
from screens.backtest.workspace import BacktestScreen
from screens.history import HistoryScreen
from screens.live.workspace import LiveScreen
from screens.replay.workspace import ReplayScreen
from screens.services import db_label
from screens.settings import SettingsScreen

WORKSPACES = {"backtest": "Backtest", "replay": "Replay", "live": "Live", "history": "History"}


class AtbApp(App[None]):
    TITLE = "atb-tui"
    CSS_PATH = "app.tcss"
    MODES = {"backtest": BacktestScreen, "replay": ReplayScreen, "live": LiveScreen, "history": HistoryScreen}
    DEFAULT_MODE = "backtest"
    BINDINGS = [
        Binding("f1", "switch_mode('backtest')", "Backtest"),
        Binding("f2", "switch_mode('replay')", "Replay"),
        Binding("f3", "switch_mode('live')", "Live"),
        Binding("f4", "switch_mode('history')", "History"),
        Binding("f8", "settings", "Settings"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(self, services: Backends) -> None:
        super().__init__()
        self.services = services

    def on_mount(self) -> None:
        self.theme = self.services.settings.theme
        self.sub_title = f"db {self.db_label}"
        self.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, theme: object) -> None:
        """A theme picked anywhere (the command palette's picker, Settings) is the saved one."""
        import dataclasses

        name = getattr(theme, "name", None)
        settings = self.services.settings
        if not isinstance(name, str) or name == settings.theme:
            return
        try:
            self.services.save_settings(dataclasses.replace(settings, theme=name))
        except (InputError, OSError) as exc:
            self.notify(f"Theme not saved: {exc}", severity="warning")

    @property
    def db_label(self) -> str:
        return db_label(self.services.db_url)

    def action_settings(self) -> None:
        if isinstance(self.screen, SettingsScreen):
            return

        def saved(result: Optional[object]) -> None:
            if result is not None:
                self.theme = self.services.settings.theme
                self.notify("Settings saved.")

        self.push_screen(SettingsScreen(self.services.settings), saved)

    def action_api_keys(self) -> None:
        if not isinstance(self.screen, ApiKeysScreen):
            self.push_screen(ApiKeysScreen(self.services.settings.default_exchange))

    def open_in_replay(self, run_id: int) -> None:
        self.switch_mode("replay")
        screen = self.screen
        if isinstance(screen, ReplayScreen):
            screen.show_run(run_id)

    def open_in_backtest(self, run_id: int, config: dict[str, Any], run_now: bool = False) -> None:
        """A stored run's configuration in the Backtest form; ``run_now`` runs it again."""
        self.switch_mode("backtest")
        screen = self.screen
        if isinstance(screen, BacktestScreen):
            self.call_later(screen.load_configuration, config, run_id, run_now)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for mode, label in WORKSPACES.items():
            yield SystemCommand(f"{label} workspace", f"Switch to the {label} workspace", lambda m=mode: self.switch_mode(m))
        yield SystemCommand("Settings", "Edit exchange, fees, slippage, balance, database and theme", self.action_settings)
        yield SystemCommand("Exchange API keys…", "Store or delete an exchange's API keys in the OS keyring", self.action_api_keys)


def create_app(services: Optional[Backends] = None) -> AtbApp:
    if services is None:
        from atb_tui.backends import default_backends

        services = default_backends()
    return AtbApp(services)


def run_app() -> int:
    create_app().run()
    return 0
