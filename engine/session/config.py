"""What a session is: a name, a strategy with its costs and exits (as for a backtest),
the symbols and timeframe it trades, paper or live, and where its candles come from."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Optional

from engine.config import BacktestConfig, BacktestSettings
from engine.source_checks import timeframe_ms
from engine.errors import InputError

MODES = ("paper", "live")


@dataclass(frozen=True)
class SessionConfig:
    name: str
    base: BacktestConfig = field(default_factory=BacktestConfig)  # strategy, balance, costs, sizing, exits
    symbols: tuple[str, ...] = ("BTC/USDT",)
    timeframe: str = "1h"
    mode: str = "paper"
    feed: str = "sample"  # sample | exchange | replay:PATH
    speed: Optional[float] = None  # replay and sample feeds: candles a second; None = as fast as possible
    exchange: str = "binance"
    sandbox: bool = False
    api_url: str = ""

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InputError("a session needs a name (--session NAME)")
        if self.mode not in MODES:
            raise InputError(f"mode must be paper or live, got {self.mode!r}")
        if not self.symbols:
            raise InputError("a session needs at least one symbol (--symbol SYM)")
        if len(set(self.symbols)) != len(self.symbols):
            raise InputError(f"a symbol is listed twice: {', '.join(self.symbols)}")
        for symbol in self.symbols:
            if "/" not in symbol:
                raise InputError(f"symbol {symbol!r} is not BASE/QUOTE, e.g. BTC/USDT")
        timeframe_ms(self.timeframe)  # InputError for a bad one
        if not (self.feed in ("sample", "exchange") or (self.feed.startswith("replay:") and len(self.feed) > 7)):
            raise InputError(f"feed must be exchange, sample or replay:PATH, got {self.feed!r}")
        if self.mode == "live" and self.feed != "exchange":
            raise InputError("live trading places real orders: it needs the exchange feed (--feed exchange)")

    @property
    def book_settings(self) -> BacktestSettings:
        """Each symbol trades its own equal share of the balance, as its own backtest would."""
        base = self.base
        return replace(base, balance=base.balance / len(self.symbols)).settings

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "base": self.base.to_dict(), "symbols": list(self.symbols),
                "timeframe": self.timeframe, "mode": self.mode, "feed": self.feed, "speed": self.speed,
                "exchange": self.exchange, "sandbox": self.sandbox, "api_url": self.api_url}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "SessionConfig":
        values = dict(d)
        values["base"] = BacktestConfig.from_dict(values["base"])
        values["symbols"] = tuple(values["symbols"])
        return cls(**values)
