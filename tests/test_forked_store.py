"""The console script stores its run in a forked child: the id, errors and crashes come back."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys

import pytest

from atb_tui import forked_store
from engine.errors import InputError
from engine.store import list_runs, open_db


@pytest.fixture
def forking(monkeypatch):
    # The test runner's worker has threads of its own; the children here only pickle a value.
    monkeypatch.setattr(forked_store, "can_fork", lambda: True)


class _Prepared:
    def __init__(self, save) -> None:
        self.save = save


def _worker(save):
    worker = forked_store.StoreWorker.start("db", None, prepare=lambda: _Prepared(save))
    assert worker is not None
    return worker


def test_the_child_stores_what_it_is_handed_and_returns_the_run_id(forking) -> None:
    parent = os.getpid()
    pending = _worker(lambda row, tables: row["id"] + tables + (os.getpid() != parent)).store({"id": 40}, 1)
    assert pending.forked
    run_id, seconds = pending.wait()
    assert run_id == 42 and seconds >= 0.0


def test_an_input_error_in_the_child_is_raised_in_the_parent_with_its_field(forking) -> None:
    def refuse(row, tables) -> int:
        raise InputError(f"no room in {row['db']}", "db")

    with pytest.raises(InputError) as caught:
        _worker(refuse).store({"db": "runs.sqlite"}, None).wait()
    assert str(caught.value) == "no room in runs.sqlite" and caught.value.field == "db"


def test_a_bug_and_a_killed_child_are_errors_not_run_ids(forking) -> None:
    with pytest.raises(RuntimeError, match="KeyError: 'missing'"):
        _worker(lambda row, tables: row["missing"]).store({}, None).wait()

    def killed(row, tables) -> int:
        os.kill(os.getpid(), signal.SIGKILL)
        return 1

    with pytest.raises(RuntimeError, match="without a result .killed by signal 9"):
        _worker(killed).store({}, None).wait()


def test_a_worker_stopped_before_a_run_stores_nothing_and_is_reaped(forking, tmp_path) -> None:
    marker = tmp_path / "stored"
    worker = _worker(lambda row, tables: marker.write_text("x") and 1)
    pid = worker._pid
    worker.stop()
    assert not marker.exists()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, 0)


def test_no_worker_where_forking_is_unsafe(monkeypatch) -> None:
    monkeypatch.setattr(forked_store, "can_fork", lambda: False)
    assert forked_store.StoreWorker.start("db", None) is None


def test_inline_the_run_is_stored_here() -> None:
    pending = forked_store.stored_inline(os.getpid)
    assert not pending.forked and pending.wait()[0] == os.getpid()


def test_a_store_that_fails_in_the_child_prints_nothing_and_keeps_nothing(tmp_path) -> None:
    db_file = tmp_path / "runs.sqlite"
    url = f"sqlite:///{db_file}"
    open_db(url).dispose()
    with sqlite3.connect(db_file) as conn:  # the database takes the run but refuses its fills
        conn.execute("CREATE TRIGGER no_fills BEFORE INSERT ON fill BEGIN SELECT RAISE(ABORT, 'disk says no'); END")
    trades_csv = tmp_path / "trades.csv"
    done = subprocess.run(
        [sys.executable, "-m", "atb_tui", "backtest", "--strategy", "sma_cross", "--json", "--db", url,
         "--trades-csv", str(trades_csv)],
        capture_output=True, text=True, timeout=120, env={**os.environ, "ATB_TUI_CONFIG_DIR": str(tmp_path)},
    )
    assert done.returncode == 2, done.stderr
    assert done.stdout == "" and "disk says no" in done.stderr and len(done.stderr.splitlines()) == 1
    assert list_runs(open_db(url)) == [] and not trades_csv.exists()


def test_the_forked_store_keeps_the_same_run_as_an_inline_one(tmp_path, db_url) -> None:
    """The console script (forking) and an in-process call store equal runs and print
    equal JSON, on SQLite and on PostgreSQL."""
    from atb_tui.cli import main

    url = db_url
    args = ["backtest", "--strategy", "sma_cross", "--param", "mode=long_short", "--json", "--db", url]
    done = subprocess.run([sys.executable, "-m", "atb_tui", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "ATB_TUI_CONFIG_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    forked = json.loads(done.stdout)
    out = tmp_path / "inline.json"
    with open(out, "w") as fh:
        saved, sys.stdout = sys.stdout, fh
        try:
            assert main(args) == 0
        finally:
            sys.stdout = saved
    inline = json.loads(out.read_text())
    assert inline.pop("run_id") == forked.pop("run_id") + 1 and inline == forked
    from engine.store import run_fills, run_trades

    db = open_db(url)
    first, second = sorted(r.id for r in list_runs(db))
    assert [t.pnl for t in run_trades(db, first)] == [t.pnl for t in run_trades(db, second)]
    assert len(run_fills(db, first)) == len(run_fills(db, second)) > 0
