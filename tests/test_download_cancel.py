"""A cancelled download stops while it waits to retry, not after every retry.

Found walking the Backtest workspace with no network: Escape said "Cancelling ..." and
the download went on retrying (backoffs of up to a minute), then reported "cannot reach
kraken" as a failure.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import ccxt
import pytest

from engine.data import DownloadCancelled, download_candles
from tests.fake_exchange import FakeClient, FakeClock


def test_a_cancel_during_a_backoff_ends_the_download(tmp_path: Path) -> None:
    clock = FakeClock()
    cancel = threading.Event()
    client = FakeClient(clock=clock, failures=[ccxt.NetworkError("down")] * 9)

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        cancel.set()  # the trader presses Escape while the first backoff waits

    with pytest.raises(DownloadCancelled):
        download_candles("fakex", "BTC/USDT", "1h", "2024-01-01", "2024-01-05", cache_dir=tmp_path, client=client,
                         sleep=sleep, clock=clock, cancel=cancel)
    assert len(client.calls) == 1 and clock.sleeps == [1.0]


def test_the_real_backoff_wait_wakes_on_cancel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the default sleep, a backoff is a wait on the cancel event itself."""
    client = FakeClient(failures=[ccxt.NetworkError("down")] * 9)
    monkeypatch.setattr(ccxt, "kraken", lambda config: client)
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(DownloadCancelled):
        download_candles("kraken", "BTC/USDT", "1h", "2024-01-01", "2024-01-05", cache_dir=tmp_path, cancel=cancel)
    assert time.monotonic() - started < 1.0  # the first backoff alone is a second; all of them, 15
