"""The dialog that starts a session: strategy, symbols, timeframe, feed and speed (paper)."""

from __future__ import annotations

from typing import Optional

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Select, Static

from engine.config import BacktestConfig
from engine.errors import InputError
from engine.session.config import SessionConfig

FEEDS = [("Sample candles (offline)", "sample"), ("Exchange (ccxt)", "exchange")]
MODES = [("Paper: simulated fills", "paper"), ("Live: REAL orders", "live")]


class StartSessionScreen(ModalScreen[Optional[SessionConfig]]):
    CSS_PATH = "live.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "start", "Start")]

    def __init__(self, base: BacktestConfig, strategies: list[str], default_name: str, exchange: str = "binance") -> None:
        super().__init__()
        self.exchange = exchange
        self.base = base
        self.strategies = strategies
        self.default_name = default_name
        self.config: Optional[SessionConfig] = None
        self.problem = ""

    def compose(self) -> ComposeResult:
        with Vertical(id="start-session"):
            yield Static("Paper fills follow the backtest's rules and no order leaves the machine. Live places "
                         "real orders with the API keys in your OS keyring.", id="start-heading")
            for label, widget in (
                ("Name", Input(self.default_name, id="name")),
                ("Strategy", Select([(s, s) for s in self.strategies], value=self.base.strategy, allow_blank=False,
                                    id="strategy")),
                ("Symbols", Input("BTC/USDT, ETH/USDT", id="symbols", placeholder="BTC/USDT, ETH/USDT")),
                ("Timeframe", Input("1h", id="timeframe")),
                ("Feed", Select(FEEDS, value="sample", allow_blank=False, id="feed")),
                ("Speed", Input("5", id="speed", placeholder="candles a second (sample feed), or max")),
                ("Mode", Select(MODES, value="paper", allow_blank=False, id="mode")),
                ("Exchange", Input(self.exchange, id="exchange")),
                ("Confirm", Input("", id="confirm", placeholder="live only: type the session name")),
            ):
                with Horizontal(classes="row"):
                    yield Label(label)
                    yield widget
            yield Static("", id="start-problem")
            with Horizontal(id="start-buttons"):
                yield Button("Start", id="start", variant="primary")
                yield Button("Cancel", id="cancel")
        yield Footer()

    def on_mount(self) -> None:
        self._check()

    def build(self) -> SessionConfig:
        value = lambda wid: self.query_one(f"#{wid}", Input).value.strip()  # noqa: E731
        speed_text = value("speed")
        try:
            speed = None if speed_text == "max" else float(speed_text)
        except ValueError:
            raise InputError(f"speed: {speed_text!r} is not a number of candles a second or 'max'") from None
        symbols = tuple(s.strip().upper() for s in value("symbols").split(",") if s.strip())
        strategy = str(self.query_one("#strategy", Select).value)
        base = self.base if strategy == self.base.strategy else BacktestConfig(
            **{**self.base.__dict__, "strategy": strategy, "params": {}})
        mode = str(self.query_one("#mode", Select).value)
        config = SessionConfig(name=value("name"), base=base, symbols=symbols, timeframe=value("timeframe"),
                               feed=str(self.query_one("#feed", Select).value), speed=speed, mode=mode,
                               exchange=value("exchange"))
        if mode == "live" and value("confirm") != config.name:
            raise InputError("live places REAL orders: type the session name in Confirm to go on")
        return config

    @on(Input.Changed)
    @on(Select.Changed)
    def _check(self) -> None:
        try:
            self.config, self.problem = self.build(), ""
        except InputError as exc:
            self.config, self.problem = None, str(exc)
        self.query_one("#start-problem", Static).update(f"[red]✗ {self.problem}[/red]" if self.problem else "")
        self.query_one("#start", Button).disabled = self.config is None

    def action_start(self) -> None:
        if self.config is not None:
            self.dismiss(self.config)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#start")
    def _start(self) -> None:
        self.action_start()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.action_cancel()
