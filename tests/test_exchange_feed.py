"""The exchange feed through the real ccxt client, pointed at the loopback Binance with
``--api-url``: closed candles only, prices, and network trouble that waits and recovers
without losing a candle."""

from __future__ import annotations

import pytest

from engine.config import BacktestConfig
from engine.session.config import SessionConfig
from engine.session.exchange_client import exchange_client
from engine.session.exchange_feed import ExchangeFeed
from engine.session.feed import Candle, Price
from engine.session.session import LiveSession
from engine.store import open_db
from tests.fake_exchange import HOUR_MS, FakeClock, LoopbackBinance

START = 1_704_067_200_000 + 600 * HOUR_MS  # "now" on the exchange: 600 hourly candles after its first


@pytest.fixture
def server():
    with LoopbackBinance() as srv:
        yield srv


def _feed(server, clock: FakeClock, now: list[int]) -> ExchangeFeed:  # type: ignore[no-untyped-def]
    client = exchange_client("binance", api_url=server.url, timeout_ms=300)
    client.enableRateLimit = False
    return ExchangeFeed(client, ["BTC/USDT"], "1h", warmup=100, clock=clock, now_ms=lambda: now[0],
                        sleep=clock.sleep)


def _candles(events) -> list[Candle]:  # type: ignore[no-untyped-def]
    return [e for e in events if isinstance(e, Candle)]


def test_history_then_each_closed_candle_once(server) -> None:
    clock, now = FakeClock(), [START + 30 * 60_000]  # half-way through the current hour
    feed = _feed(server, clock, now)
    history = feed.history("BTC/USDT", None)
    assert len(history) == 100
    # The candle still forming (opened at START) is not history: the last closed one opened an hour earlier.
    assert int(history.index[-1].value // 1_000_000) == START - HOUR_MS
    first = feed.poll()
    assert _candles(first) == [] and [type(e) for e in first] == [Price]
    assert feed.status.state == "connected"
    now[0] += 3 * HOUR_MS
    clock.now += 60
    candles = _candles(feed.poll())
    assert [c.time_ms for c in candles] == [START, START + HOUR_MS, START + 2 * HOUR_MS]
    clock.now += 60
    assert _candles(feed.poll()) == []  # nothing new: nothing twice


@pytest.mark.parametrize("fault", ["429", "503", "timeout"])
def test_trouble_waits_with_backoff_and_loses_no_candle(server, fault: str) -> None:
    clock, now = FakeClock(), [START + 60_000]
    feed = _feed(server, clock, now)
    feed.history("BTC/USDT", None)
    now[0] += 2 * HOUR_MS
    server.inject("/api/v3/klines", fault, fault)
    assert feed.poll() == []
    assert feed.status.state == "retrying" and feed.status.retry_in == 1.0
    clock.now += 1.0
    assert feed.poll() == [] and feed.status.retry_in == 2.0  # the second failure waits twice as long
    assert feed.status.describe().startswith("retrying in 2 s: ")
    clock.now += 2.0
    candles = _candles(feed.poll())
    assert feed.status.state == "connected"
    assert [c.time_ms for c in candles] == [START, START + HOUR_MS]


def test_a_paper_session_on_the_exchange_feed(tmp_path, server) -> None:
    clock, now = FakeClock(), [START + 60_000]
    config = SessionConfig("x", BacktestConfig(strategy="sma_cross", params={"fast": 3, "slow": 5}), feed="exchange")
    session = LiveSession.start(open_db(f"sqlite:///{tmp_path / 's.sqlite'}"), config, _feed(server, clock, now))
    book = session.books["BTC/USDT"]
    assert book.bars == 100 and book.engine.state.bar == 100  # warmed up on history, nothing traded
    for _ in range(100):
        now[0] += HOUR_MS
        clock.now += 60
        session.poll_once()
    assert book.bars == 200 and book.last_candle_ms == START + 99 * HOUR_MS
    # The fake's prices climb for 97 hours and drop back: the 3/5 averages cross in that time.
    assert [f.kind.value for f in book.engine.journal.fills][:1] == ["entry"]
