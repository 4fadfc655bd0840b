"""Kill a paper session (SIGKILL, no chance to clean up) at several points and resume it:
no fill is lost or doubled, and the end is the end of an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.config import BacktestConfig
from engine.data import sample_candles
from engine.policy import ExitPolicy
from engine.session import store
from engine.session.config import SessionConfig
from engine.session.feed import ReplayFeed
from engine.session.session import LiveSession
from engine.store import open_db

pytestmark = pytest.mark.slow

EXITS = ["--stop-loss", "4", "--trailing-activation", "1.5", "--trailing-distance", "1", "--partial-targets", "2",
         "--partial-sizes", "0.3"]


def _live(db_url: str, data: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "atb_tui", "live", "--strategy", "sma_cross", "--paper", "--symbol", "BTC/USDT",
            "--feed", f"replay:{data}", "--session", "crash", "--db", db_url, *EXITS, *extra]


def _fills(db_url: str) -> int:
    db = open_db(db_url)
    row = store.get_session(db, "crash")
    return 0 if row is None else len(store.session_fills(db, row.id))


def _wait_for(condition, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError("condition not reached")
        time.sleep(0.02)  # another process is working: poll its database


def test_killed_sessions_resume_without_losing_or_doubling_a_fill(tmp_path: Path) -> None:
    data = tmp_path / "candles.parquet"
    sample_candles().iloc[:4000].to_parquet(data)
    db_url = f"sqlite:///{tmp_path / 'crash.sqlite'}"
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    for i, kill_after in enumerate((3, 25, 60)):  # fills in the database when the process dies
        args = _live(db_url, data, "--speed", "1500", *(["--resume"] if i else []))
        proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            _wait_for(lambda: _fills(db_url) >= kill_after or proc.poll() is not None)
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    done = subprocess.run(_live(db_url, data, "--resume", "--speed", "max"), env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    db = open_db(db_url)
    resumed = store.get_session(db, "crash")
    assert resumed is not None and resumed.status == "ended"

    # The same session, never interrupted, in this process.
    base = BacktestConfig(strategy="sma_cross", policy=ExitPolicy(
        stop_loss_pct=4, trailing_activation_pct=1.5, trailing_distance_pct=1, exit_targets=(2.0,), exit_sizes=(0.3,)))
    whole_db = open_db(f"sqlite:///{tmp_path / 'whole.sqlite'}")
    import pandas as pd

    whole = LiveSession.start(whole_db, SessionConfig("crash", base, ("BTC/USDT",)),
                              ReplayFeed({"BTC/USDT": pd.read_parquet(data)}))
    whole.run()
    got = store.session_fills(db, resumed.id)
    want = store.session_fills(whole_db, whole.id)
    key = lambda f: (f.trade_no, f.kind, f.bar, f.price, f.qty, f.pnl)  # noqa: E731
    assert [key(f) for f in got] == [key(f) for f in want]
    assert len(store.session_trades(db, resumed.id, "BTC/USDT")) == len(store.session_trades(whole_db, whole.id, "BTC/USDT"))
    book = store.load_books(db, resumed.id)["BTC/USDT"]
    assert book.state == store.load_books(whole_db, whole.id)["BTC/USDT"].state
