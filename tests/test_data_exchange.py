"""Exchange downloads: paging, cache, rate limit, retries, cancel and error messages.

Nothing here touches the internet: the real ccxt Binance client talks to a loopback
server, and everything else uses a duck-typed client with a virtual clock.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
from pathlib import Path

import ccxt
import numpy as np
import pandas as pd
import pytest

import engine.data.exchange as exchange_module
from engine.data import CANDLE_COLUMNS, DownloadCancelled, download_candles
from engine.data.cache import cache_path, merge_intervals, missing_intervals, read_cache
from engine.errors import DataError, ExchangeError, InputError

try:
    from tests.fake_exchange import HOUR_MS, FakeClient, FakeClock, LoopbackBinance, candle_at, closed_port
except ImportError:  # tests/ is not a package: pytest put it on sys.path instead
    from fake_exchange import HOUR_MS, FakeClient, FakeClock, LoopbackBinance, candle_at, closed_port


def ms(text: str) -> int:
    return int(pd.Timestamp(text, tz="UTC").value // 1_000_000)


def expected(since: str, until: str) -> np.ndarray:
    return np.array([candle_at(t) for t in range(ms(since), ms(until), HOUR_MS)])


def assert_candles(df: pd.DataFrame, since: str, until: str) -> None:
    assert list(df.columns) == list(CANDLE_COLUMNS)
    assert str(df.index.tz) == "UTC" and df.index.name == "timestamp"
    want = expected(since, until)
    np.testing.assert_array_equal(df.index.as_unit("ms").asi8, want[:, 0].astype(np.int64))
    np.testing.assert_allclose(df.to_numpy(), want[:, 1:])


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server():
    with LoopbackBinance(ms("2023-12-01"), ms("2024-06-01")) as srv:
        yield srv


# -- the real ccxt client against a loopback Binance --------------------------------


def test_real_ccxt_client_pages_and_second_run_uses_only_the_cache(server, tmp_path, clock):
    progress: list[tuple[int, int | None]] = []
    df = download_candles("binance", "BTC/USDT", "1h", "2024-01-01", "2024-04-01", cache_dir=tmp_path,
                          client=server.client(), sleep=clock.sleep, clock=clock,
                          progress=lambda done, total: progress.append((done, total)))
    assert_candles(df, "2024-01-01", "2024-04-01")
    assert df.attrs == {"source": "binance BTC/USDT 1h", "symbol": "BTC/USDT", "timeframe": "1h"}

    pages = server.klines_requests()
    assert len(pages) == 3  # 2184 candles, 1000 per page
    assert [int(q["startTime"]) for q in pages] == [ms("2024-01-01"), ms("2024-01-01") + 1000 * HOUR_MS - HOUR_MS + 1,
                                                    ms("2024-01-01") + 2000 * HOUR_MS - HOUR_MS + 1]
    assert all(q["symbol"] == "BTCUSDT" and q["limit"] == "1000" for q in pages)
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)
    assert progress[-1] == (2184, 2184) and progress[1] == (1000, 2184)
    assert cache_path(tmp_path, "binance", "BTC/USDT", "1h").is_file()

    seen = len(server.requests)
    again = download_candles("binance", "BTC/USDT", "1h", "2024-01-01", "2024-04-01", cache_dir=tmp_path,
                             client=server.client())
    assert len(server.requests) == seen  # zero HTTP requests
    pd.testing.assert_frame_equal(again, df)

    inside = download_candles("binance", "BTC/USDT", "1h", "2024-02-01", "2024-02-02 05:30", cache_dir=tmp_path,
                              client=server.client())
    assert len(server.requests) == seen
    assert_candles(inside, "2024-02-01", "2024-02-02 06:00")


def test_extending_the_range_fetches_only_what_is_missing(server, tmp_path, clock):
    kw = dict(cache_dir=tmp_path, sleep=clock.sleep, clock=clock)
    download_candles("binance", "BTC/USDT", "1h", "2024-01-01", "2024-02-01", client=server.client(), **kw)
    before = len(server.klines_requests())

    df = download_candles("binance", "BTC/USDT", "1h", "2023-12-15", "2024-03-01", client=server.client(), **kw)
    assert_candles(df, "2023-12-15", "2024-03-01")
    new = server.klines_requests()[before:]
    starts = sorted(int(q["startTime"]) for q in new)
    assert starts[0] == ms("2023-12-15")
    assert all(not (ms("2024-01-01") <= s < ms("2024-02-01")) for s in starts)  # the cached month is skipped
    assert ms("2024-02-01") in starts
    assert len(new) == 2  # Dec 15 - Jan 1 (408 candles) and February (696): one page each
    cached = read_cache(cache_path(tmp_path, "binance", "BTC/USDT", "1h"))
    assert cached.coverage == [(ms("2023-12-15"), ms("2024-03-01"))]


def test_server_errors_and_timeouts_are_retried_with_backoff(server, tmp_path, clock):
    server.plan = ["500", "timeout", "503"]
    df = download_candles("binance", "ETH/USDT", "1h", "2024-01-01", "2024-01-03", cache_dir=tmp_path,
                          client=server.client(timeout_ms=300), sleep=clock.sleep, clock=clock)
    assert_candles(df, "2024-01-01", "2024-01-03")
    assert [path for path, _ in server.requests].count("/api/v3/exchangeInfo") == 4
    backoffs = [s for s in clock.sleeps if s >= 1.0]
    assert backoffs == [1.0, 2.0, 4.0]


def test_gives_up_after_max_retries_with_a_plain_message(server, tmp_path, clock):
    server.plan = ["503"] * 10
    with pytest.raises(ExchangeError) as info:
        download_candles("binance", "BTC/USDT", "1h", "2024-01-01", "2024-01-03", cache_dir=tmp_path,
                         client=server.client(), sleep=clock.sleep, clock=clock, max_retries=3)
    message = str(info.value)
    assert message.startswith("cannot reach binance (network error after 3 attempts")
    assert "\n" not in message
    assert len(server.requests) == 3
    assert [s for s in clock.sleeps if s >= 1.0] == [1.0, 2.0]
    assert not any(tmp_path.rglob("*.parquet"))


def test_unknown_market_and_rejected_market(server, tmp_path):
    with pytest.raises(InputError, match=r"binance has no market 'BTC/EUR' \(did you mean BTC/USDT"):
        download_candles("binance", "BTC/EUR", "1h", "2024-01-01", "2024-01-02", cache_dir=tmp_path,
                         client=server.client())
    assert server.klines_requests() == []
    with pytest.raises(InputError, match="binance rejected the market"):
        download_candles("binance", "BTC/USDT", "1h", "2024-01-01", "2024-01-02", cache_dir=tmp_path,
                         client=_client_with_extra_market(server))


def _client_with_extra_market(server: LoopbackBinance):
    """Markets list BTC/USDT under an id the server's klines endpoint does not know."""
    client = server.client()
    client.load_markets()
    client.markets["BTC/USDT"]["id"] = "BTCUSDT_OLD"
    return client


def test_no_network_means_cannot_reach(tmp_path, clock):
    client = ccxt.binance({"enableRateLimit": False, "timeout": 2000, "options": {"fetchMarkets": {"types": ["spot"]}}})
    client.urls["api"] = {key: f"http://127.0.0.1:{closed_port()}/api/v3" for key in client.urls["api"]}
    client.session.trust_env = False
    with pytest.raises(ExchangeError, match=r"^cannot reach binance \(network error after 5 attempts"):
        download_candles("binance", "BTC/USDT", "1h", "2024-01-01", "2024-01-02", cache_dir=tmp_path,
                         client=client, sleep=clock.sleep, clock=clock)
    assert [s for s in clock.sleeps if s >= 1.0] == [1.0, 2.0, 4.0, 8.0]


# -- a duck-typed client: rate limit, backoff, cancel, errors -----------------------


def fake_download(client: FakeClient, tmp_path: Path, clock: FakeClock, since="2024-01-01", until="2024-01-05",
                  **kw):
    return download_candles("fakex", kw.pop("symbol", "BTC/USDT"), kw.pop("timeframe", "1h"), since, until,
                            cache_dir=tmp_path, client=client, sleep=clock.sleep, clock=clock, **kw)


def test_custom_client_calls_are_spaced_by_its_rate_limit(tmp_path, clock):
    client = FakeClient(clock=clock, rate_limit_ms=1500, page=24)
    df = fake_download(client, tmp_path, clock)
    assert_candles(df, "2024-01-01", "2024-01-05")
    times = [t for _, t, _ in client.calls]
    assert len(times) == 1 + 4  # load_markets + four daily pages
    assert min(np.diff(times)) >= 1.5
    assert clock.sleeps == [1.5] * 4


def test_client_we_build_relies_on_ccxt_throttle(tmp_path, clock, monkeypatch):
    configs = []

    def factory(config):
        configs.append(config)
        return FakeClient(clock=clock, rate_limit_ms=1500, page=1000)

    monkeypatch.setattr(ccxt, "kraken", factory)
    df = download_candles("kraken", "BTC/USDT", "1h", "2024-01-01", "2024-01-02", cache_dir=tmp_path,
                          sleep=clock.sleep, clock=clock)
    assert len(df) == 24
    assert configs == [{"enableRateLimit": True}]
    assert clock.sleeps == []  # no second throttle on top of ccxt's own


@pytest.mark.parametrize("error", [ccxt.NetworkError, ccxt.RequestTimeout, ccxt.ExchangeNotAvailable,
                                   ccxt.DDoSProtection, ccxt.RateLimitExceeded])
def test_network_errors_back_off_exponentially(tmp_path, clock, error):
    client = FakeClient(clock=clock, page=1000, failures=[None] + [error("flaky")] * 4)
    df = fake_download(client, tmp_path, clock)
    assert len(df) == 96
    assert clock.sleeps == [1.0, 2.0, 4.0, 8.0]


def test_network_errors_exhaust_attempts(tmp_path, clock):
    client = FakeClient(clock=clock, failures=[ccxt.RequestTimeout("binance GET https://x timed out")] * 9)
    with pytest.raises(ExchangeError) as info:
        fake_download(client, tmp_path, clock)
    assert str(info.value) == ("cannot reach fakex (network error after 5 attempts while loading its markets): "
                               "RequestTimeout: binance GET https://x timed out")
    assert len(client.calls) == 5
    assert clock.sleeps == [1.0, 2.0, 4.0, 8.0]


def test_backoff_is_capped(tmp_path, clock):
    client = FakeClient(clock=clock, failures=[ccxt.NetworkError("down")] * 20)
    with pytest.raises(ExchangeError, match="after 9 attempts"):
        fake_download(client, tmp_path, clock, max_retries=9)
    assert clock.sleeps == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]


def test_cancel_between_pages_keeps_what_was_fetched(tmp_path, clock):
    cancel = threading.Event()
    client = FakeClient(clock=clock, page=24)

    def progress(done, total):
        if done >= 48:
            cancel.set()

    with pytest.raises(DownloadCancelled):
        fake_download(client, tmp_path, clock, progress=progress, cancel=cancel)
    assert client.fetch_count() == 2
    cached = read_cache(cache_path(tmp_path, "fakex", "BTC/USDT", "1h"))
    assert len(cached.frame) == 48

    resumed = FakeClient(clock=clock, page=24)
    df = fake_download(resumed, tmp_path, clock)
    assert_candles(df, "2024-01-01", "2024-01-05")
    first_since = [info["since"] for name, _, info in resumed.calls if name == "fetch_ohlcv"][0]
    assert first_since == ms("2024-01-03") - HOUR_MS + 1  # resumes after the last cached candle


def test_cancel_before_start_makes_no_request(tmp_path, clock):
    cancel = threading.Event()
    cancel.set()
    client = FakeClient(clock=clock)
    with pytest.raises(DownloadCancelled):
        fake_download(client, tmp_path, clock, cancel=cancel)
    assert client.calls == []


def test_unknown_symbol(tmp_path, clock):
    client = FakeClient(clock=clock)
    with pytest.raises(InputError, match=r"^fakex has no market 'BTC/USTD' \(did you mean BTC/USDT"):
        fake_download(client, tmp_path, clock, symbol="BTC/USTD")
    assert client.fetch_count() == 0


def test_symbol_case_is_forgiven(tmp_path, clock):
    client = FakeClient(clock=clock, page=1000)
    fake_download(client, tmp_path, clock, symbol="btc/usdt")
    assert {info["symbol"] for name, _, info in client.calls if name == "fetch_ohlcv"} == {"BTC/USDT"}


def test_unknown_timeframe(tmp_path, clock):
    client = FakeClient(clock=clock)
    with pytest.raises(InputError, match=r"fakex has no 3h candles \(it offers: 1m, 1h, 1d\)"):
        fake_download(client, tmp_path, clock, timeframe="3h")
    with pytest.raises(InputError, match="bad timeframe '1x'"):
        fake_download(client, tmp_path, clock, timeframe="1x")
    assert client.calls == []


def test_unknown_exchange_needs_no_network(tmp_path):
    with pytest.raises(InputError, match=r"unknown exchange 'binanse' \(did you mean binance"):
        download_candles("binanse", "BTC/USDT", "1h", "2024-01-01", cache_dir=tmp_path)


def test_exchange_without_candles(tmp_path, clock):
    with pytest.raises(InputError, match="fakex does not provide candle history"):
        fake_download(FakeClient(clock=clock, has_ohlcv=False), tmp_path, clock)


@pytest.mark.parametrize("error, kind, fragment", [
    (ccxt.BadSymbol("fakex unknown symbol"), InputError, "fakex rejected the market"),
    (ccxt.ExchangeError("fakex says no"), ExchangeError, "fakex refused downloading 1h candles: ExchangeError"),
    (ccxt.AuthenticationError("key needed"), ExchangeError, "API keys"),
    (ccxt.BadRequest("bad limit"), ExchangeError, "fakex refused"),
])
def test_exchange_refusals_become_clear_errors(tmp_path, clock, error, kind, fragment):
    client = FakeClient(clock=clock, failures=[None, error])
    with pytest.raises(kind) as info:
        fake_download(client, tmp_path, clock)
    assert fragment in str(info.value)
    assert len(client.calls) == 2  # refusals are not retried


def test_dates_accept_datetimes_and_reject_bad_text(tmp_path, clock):
    client = FakeClient(clock=clock, page=1000)
    naive = fake_download(client, tmp_path, clock, since=dt.datetime(2024, 1, 1), until=dt.date(2024, 1, 2))
    aware = fake_download(client, tmp_path, clock,
                          since=dt.datetime(2023, 12, 31, 19, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
                          until="2024-01-02T00:00:00Z")
    pd.testing.assert_frame_equal(naive, aware)
    assert len(naive) == 24
    with pytest.raises(InputError, match=r"^since: cannot read 'yesterday-ish' as a date"):
        fake_download(client, tmp_path, clock, since="yesterday-ish")
    with pytest.raises(InputError, match="^until: cannot read '2024-02-30'"):
        fake_download(client, tmp_path, clock, until="2024-02-30")
    with pytest.raises(InputError, match="must be after since"):
        fake_download(client, tmp_path, clock, since="2024-01-05", until="2024-01-01")


def test_result_is_exactly_the_requested_range(tmp_path, clock):
    client = FakeClient(clock=clock, page=1000)
    df = fake_download(client, tmp_path, clock, since="2024-01-01 10:30", until="2024-01-02 03:00")
    assert df.index[0] == pd.Timestamp("2024-01-01 11:00", tz="UTC")
    assert df.index[-1] == pd.Timestamp("2024-01-02 02:00", tz="UTC")


def test_candle_still_forming_is_left_out(tmp_path, clock, monkeypatch):
    monkeypatch.setattr(exchange_module, "_now_ms", lambda: ms("2024-01-02 10:30"))
    df = fake_download(FakeClient(clock=clock, page=1000), tmp_path, clock, until=None)
    assert df.index[-1] == pd.Timestamp("2024-01-02 09:00", tz="UTC")  # 10:00 closes at 11:00
    cached = read_cache(cache_path(tmp_path, "fakex", "BTC/USDT", "1h"))
    assert cached.frame.index[-1] == pd.Timestamp("2024-01-02 09:00", tz="UTC")


def test_bad_candles_from_the_exchange_are_rejected_and_not_cached(tmp_path, clock):
    def break_one(rows):
        rows = [list(r) for r in rows]
        rows[5][2] = rows[5][3] - 1  # high below low at 05:00
        return rows

    client = FakeClient(clock=clock, page=1000, mangle=break_one)
    with pytest.raises(DataError, match=r"^fakex BTC/USDT 1h candle at 2024-01-01 05:00:00 UTC: high .* is below low"):
        fake_download(client, tmp_path, clock)
    assert not any(tmp_path.rglob("*.parquet"))


def test_missing_volume_is_zero(tmp_path, clock):
    client = FakeClient(clock=clock, page=1000, mangle=lambda rows: [r[:5] + [None] for r in rows])
    df = fake_download(client, tmp_path, clock)
    assert (df["volume"] == 0.0).all()


def test_exchange_with_no_candles_in_range(tmp_path, clock):
    client = FakeClient(clock=clock, data_until_ms=ms("2023-06-01"))
    with pytest.raises(DataError, match="the exchange has no candles between 2024-01-01"):
        fake_download(client, tmp_path, clock)


def test_cache_dir_from_environment(tmp_path, clock, monkeypatch):
    monkeypatch.setenv("ATB_TUI_CACHE_DIR", str(tmp_path / "envcache"))
    download_candles("fakex", "ETH/USDT", "1h", "2024-01-01", "2024-01-02",
                     client=FakeClient(clock=clock, page=1000), sleep=clock.sleep, clock=clock)
    assert (tmp_path / "envcache" / "fakex" / "ETH-USDT__1h.parquet").is_file()


def test_cache_hit_does_not_touch_the_client(tmp_path, clock):
    fake_download(FakeClient(clock=clock, page=1000), tmp_path, clock)

    class Untouchable:
        def __getattr__(self, name):
            raise AssertionError(f"client.{name} used on a cache hit")

    df = download_candles("fakex", "BTC/USDT", "1h", "2024-01-02", "2024-01-03", cache_dir=tmp_path,
                          client=Untouchable())
    assert_candles(df, "2024-01-02", "2024-01-03")


def test_corrupt_cache_is_ignored_and_rebuilt(tmp_path, clock):
    path = cache_path(tmp_path, "fakex", "BTC/USDT", "1h")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not parquet at all")
    client = FakeClient(clock=clock, page=1000)
    assert_candles(fake_download(client, tmp_path, clock), "2024-01-01", "2024-01-05")
    assert client.fetch_count() == 1
    assert len(read_cache(path).frame) == 96


def test_a_crash_while_writing_leaves_the_old_cache_intact(tmp_path, clock, monkeypatch):
    fake_download(FakeClient(clock=clock, page=1000), tmp_path, clock, until="2024-01-02")
    path = cache_path(tmp_path, "fakex", "BTC/USDT", "1h")
    good = path.read_bytes()

    import pyarrow.parquet as pq

    real_write = pq.write_table

    def crash_midway(table, where, **kw):
        real_write(table.slice(0, 3), where, **kw)  # some bytes reach the disk...
        raise KeyboardInterrupt  # ...then the process dies

    monkeypatch.setattr(pq, "write_table", crash_midway)
    with pytest.raises(KeyboardInterrupt):
        fake_download(FakeClient(clock=clock, page=1000), tmp_path, clock, until="2024-01-04")
    assert path.read_bytes() == good
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temp file left behind


def test_unwritable_cache_still_returns_the_candles(tmp_path, clock, monkeypatch):
    import pyarrow.parquet as pq

    def disk_full(*args, **kw):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pq, "write_table", disk_full)
    df = fake_download(FakeClient(clock=clock, page=1000), tmp_path, clock)
    assert len(df) == 96
    assert not any(tmp_path.rglob("*.parquet")) and not any(tmp_path.rglob("*.tmp"))


def test_bad_arguments(tmp_path, clock):
    with pytest.raises(InputError, match="no symbol"):
        fake_download(FakeClient(clock=clock), tmp_path, clock, symbol=" ")
    with pytest.raises(InputError, match="max_retries"):
        fake_download(FakeClient(clock=clock), tmp_path, clock, max_retries=0)
    with pytest.raises(InputError, match="no closed 1d candle"):
        fake_download(FakeClient(clock=clock), tmp_path, clock, timeframe="1d",
                      since=pd.Timestamp.now(tz="UTC").floor("1D"), until=None)


# -- cache interval arithmetic -------------------------------------------------------


def test_interval_helpers():
    assert merge_intervals([(5, 7), (1, 3), (3, 4), (10, 10)]) == [(1, 4), (5, 7)]
    assert missing_intervals([], 0, 10) == [(0, 10)]
    assert missing_intervals([(2, 4), (6, 8)], 0, 10) == [(0, 2), (4, 6), (8, 10)]
    assert missing_intervals([(0, 10)], 3, 5) == []
    assert missing_intervals([(0, 4)], 3, 5) == [(4, 5)]


def test_month_and_minute_caches_do_not_collide(tmp_path):
    month, minute = (cache_path(tmp_path, "x", "BTC/USDT", tf).name for tf in ("1M", "1m"))
    assert month.lower() != minute.lower()


# -- import cost -----------------------------------------------------------------------


def test_importing_engine_data_does_not_import_ccxt():
    code = "import sys, engine.data; assert 'ccxt' not in sys.modules; assert 'textual' not in sys.modules"
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(root)})
    assert result.returncode == 0, result.stderr
