"""The feed a session's configuration asks for: the exchange, the sample, or a file."""

from __future__ import annotations

from typing import Any, Callable, Optional

from engine.errors import InputError
from engine.session.config import SessionConfig
from engine.session.feed import Feed, ReplayFeed, sample_feed_candles


def open_feed(config: SessionConfig, *, client: Optional[Any] = None,
              replay_clock: Optional[Callable[[], float]] = None, sleep: Optional[Callable[[float], None]] = None) -> Feed:
    kw: dict[str, Any] = {}
    if replay_clock is not None:
        kw["clock"] = replay_clock
    if sleep is not None:
        kw["sleep"] = sleep
    if config.feed == "sample":
        return ReplayFeed(sample_feed_candles(list(config.symbols)), config.speed, **kw)
    if config.feed.startswith("replay:"):
        from engine.config import DataSpec
        from engine.runner import load_data

        if len(config.symbols) != 1:
            raise InputError("--feed replay:PATH holds one market: give exactly one --symbol")
        candles = load_data(DataSpec(kind="file", path=config.feed[len("replay:"):]))
        return ReplayFeed({config.symbols[0]: candles}, config.speed, **kw)
    from engine.session.exchange_client import exchange_client
    from engine.session.exchange_feed import ExchangeFeed

    if client is None:
        client = exchange_client(config.exchange, sandbox=config.sandbox, api_url=config.api_url)
    return ExchangeFeed(client, list(config.symbols), config.timeframe, **({"sleep": sleep} if sleep else {}))
