"""Storing a finished big run: ``save_backtest`` alone, in-process, on SQLite (an empty
database and one already holding ten such runs) and on PostgreSQL when a server can be
started here (tests/pg_server.py). Each timing builds the run's columns afresh, as the
CLI does once per run, with the garbage collector paused, as the CLI and the TUI store."""

from __future__ import annotations

import dataclasses
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable, Optional


def _median_save(url: str, result, runs: int, before: int = 0, rows_ready: bool = False) -> float:  # type: ignore[no-untyped-def]
    """``rows_ready``: the run's row and columns made beforehand (as the CLI's parent
    process makes them for its store): the inserts and the commit alone."""
    from engine.gc_pause import gc_paused
    from engine.run_record import run_row
    from engine.store import open_db, save_backtest, save_run

    db = open_db(url)
    for _ in range(before):
        save_backtest(db, dataclasses.replace(result))
    times = []
    for _ in range(runs):
        fresh = dataclasses.replace(result)  # no columns cached yet
        row = run_row(fresh) if rows_ready else None
        start = time.perf_counter()
        with gc_paused():  # as the CLI and the TUI store a run
            if row is not None:
                save_run(db, row, fresh.tables)
            else:
                save_backtest(db, fresh)
        times.append(time.perf_counter() - start)
    db.dispose()
    return statistics.median(times)


def _postgres_url() -> Optional[Callable[[], object]]:
    try:
        from tests import pg_server
    except ImportError:
        return None
    return getattr(pg_server, "bench_server", None)


def store_figures(result, runs: int = 5) -> dict[str, float]:  # type: ignore[no-untyped-def]
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        out["SQLite, empty database"] = _median_save(f"sqlite:///{Path(tmp) / 'a.sqlite'}", result, runs)
        out["SQLite, holding 10 such runs"] = _median_save(f"sqlite:///{Path(tmp) / 'b.sqlite'}", result, runs, before=10)
        out["SQLite, inserts + commit alone"] = _median_save(f"sqlite:///{Path(tmp) / 'c.sqlite'}", result, runs,
                                                             rows_ready=True)
    server = _postgres_url()
    if server is not None:
        try:
            with server() as url:  # type: ignore[attr-defined]
                out["PostgreSQL (COPY)"] = _median_save(url, result, runs)
        except Exception as exc:  # no server on this machine: say so, measure the rest
            print(f"  (PostgreSQL not measured: {exc.__class__.__name__}: {exc})")
    return out
