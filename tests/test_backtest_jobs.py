"""The backtest workspace's worker jobs, driven directly: cancel mid-engine, no network."""

from __future__ import annotations

import threading
from pathlib import Path

from atb_tui.backends import Backends
from atb_tui.settings import Settings
from engine.config import BacktestConfig, DataSpec
from engine.data import sample_candles
from engine.errors import ExchangeError
from engine.store import list_runs, open_db
from screens.backtest.jobs import backtest_job, download_job
from screens.backtest.messages import BacktestFinished, BacktestProgress, RunCancelled, RunFailed, RunNotSaved, RunSaved
from tests.ui_support import ticking_clock


def _services(tmp_path: Path, loader=None) -> Backends:
    kw = {"candle_loader": loader} if loader else {}
    return Backends(settings=Settings(), db_url=f"sqlite:///{tmp_path / 'jobs.sqlite'}", clock=ticking_clock(), **kw)


def test_cancel_in_the_middle_of_the_engine_run_stores_nothing(tmp_path: Path) -> None:
    services = _services(tmp_path)
    cancel = threading.Event()
    posted: list[object] = []

    def post(message: object) -> None:
        posted.append(message)
        if isinstance(message, BacktestProgress) and 0 < message.bars_done < message.bars_total:
            cancel.set()  # the trader presses Escape while bars are being processed

    backtest_job(services, BacktestConfig(), sample_candles(), post, cancel)
    progress = [m for m in posted if isinstance(m, BacktestProgress)]
    assert progress and progress[0].bars_done < progress[0].bars_total
    assert isinstance(posted[-1], RunCancelled)
    assert not any(isinstance(m, BacktestFinished) for m in posted)
    assert list_runs(open_db(services.db_url)) == []


def test_a_finished_job_stores_exactly_one_run(tmp_path: Path) -> None:
    services = _services(tmp_path)
    posted: list[object] = []
    backtest_job(services, BacktestConfig(), sample_candles(), posted.append, threading.Event())
    done = posted[-1]
    assert isinstance(done, RunSaved)
    assert [r.id for r in list_runs(open_db(services.db_url))] == [done.run_id]


def test_no_network_is_said_plainly(tmp_path: Path) -> None:
    def unreachable(spec, progress=None, cancel=None):
        raise ExchangeError("cannot reach binance (network error after 5 attempts): connection refused")

    posted: list[object] = []
    config = BacktestConfig(data=DataSpec(kind="exchange", exchange="binance", symbol="BTC/USDT", timeframe="1h",
                                          since="2024-01-01"))
    download_job(_services(tmp_path, unreachable), config, posted.append, threading.Event())
    assert len(posted) == 1 and isinstance(posted[0], RunFailed)
    assert posted[0].message.startswith("cannot reach binance")
    assert not (tmp_path / "jobs.sqlite").exists()


def test_every_phase_of_a_run_is_named_as_it_begins(tmp_path: Path) -> None:
    """Bug 9: "Running ..." while a big file loaded, then the last bar count while the run
    was saved. Each phase is announced, in order, before its work."""
    from screens.backtest.messages import RunPhase

    posted: list[object] = []
    spec = DataSpec(kind="file", path="big.csv")

    def loader(spec_, progress=None, cancel=None):
        assert [m.name for m in posted if isinstance(m, RunPhase)] == ["load"]  # said before the wait
        return sample_candles()

    backtest_job(_services(tmp_path, loader), BacktestConfig(data=spec), None, posted.append, threading.Event())
    phases = [m for m in posted if isinstance(m, RunPhase)]
    assert [p.name for p in phases] == ["load", "signals", "run", "metrics", "view"]
    assert phases[0].detail == "big.csv" and phases[4].detail.endswith("trades")
    first_progress = next(i for i, m in enumerate(posted) if isinstance(m, BacktestProgress))
    assert posted.index(phases[2]) < first_progress < posted.index(phases[3])
    assert [type(m) for m in posted[-2:]] == [BacktestFinished, RunSaved]


def test_the_results_come_before_the_run_is_stored(tmp_path: Path) -> None:
    """A million-bar run took a second from the engine's end to its results, most of it
    storing the run. The results are posted first, without an id; the id follows."""
    from engine.store import list_runs

    posted: list[object] = []
    services = _services(tmp_path, lambda spec, progress=None, cancel=None: sample_candles())
    stored_when_shown: list[int] = []

    def post(message: object) -> None:
        if isinstance(message, BacktestFinished):
            stored_when_shown.append(len(list_runs(services.database())))
        posted.append(message)

    backtest_job(services, BacktestConfig(data=DataSpec(kind="file", path="x.csv")), None, post, threading.Event())
    finished, saved = posted[-2:]
    assert isinstance(finished, BacktestFinished) and finished.run_id is None and stored_when_shown == [0]
    assert isinstance(saved, RunSaved) and saved.result is finished.result
    assert [r.id for r in list_runs(services.database())] == [saved.run_id]


def test_a_run_that_cannot_be_stored_keeps_its_results_and_says_why(tmp_path: Path) -> None:
    import sqlite3

    services = _services(tmp_path, lambda spec, progress=None, cancel=None: sample_candles())
    database = services.database()
    path = database.url.database
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TRIGGER no_fills BEFORE INSERT ON fill BEGIN SELECT RAISE(ABORT, 'disk says no'); END")
    posted: list[object] = []
    backtest_job(services, BacktestConfig(data=DataSpec(kind="file", path="x.csv")), None, posted.append,
                 threading.Event())
    finished, failed = posted[-2:]
    assert isinstance(finished, BacktestFinished) and isinstance(failed, RunNotSaved)
    assert failed.result is finished.result and "disk says no" in failed.message


def test_an_error_after_a_cancel_is_a_cancel(tmp_path: Path) -> None:
    """Escape while the download retried: it went on and reported "cannot reach" as a failure."""

    def unreachable(spec, progress=None, cancel=None):
        cancel.set()  # pressed while the request was out
        raise ExchangeError("cannot reach binance (network error after 5 attempts): connection refused")

    posted: list[object] = []
    config = BacktestConfig(data=DataSpec(kind="exchange", exchange="binance", symbol="BTC/USDT", timeframe="1h",
                                          since="2024-01-01"))
    download_job(_services(tmp_path, unreachable), config, posted.append, threading.Event())
    assert [type(m) for m in posted] == [RunCancelled]
