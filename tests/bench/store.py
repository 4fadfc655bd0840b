"""Storing a finished big run: ``save_backtest`` alone, in-process, on SQLite (an empty
database and one already holding ten such runs) and on PostgreSQL when a server can be
started here (tests/pg_server.py). Each timing builds the run's columns afresh, as the
CLI does once per run."""

from __future__ import annotations

import dataclasses
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable, Optional


def _median_save(url: str, result, runs: int, before: int = 0) -> float:  # type: ignore[no-untyped-def]
    from engine.store import open_db, save_backtest

    db = open_db(url)
    for _ in range(before):
        save_backtest(db, dataclasses.replace(result))
    times = []
    for _ in range(runs):
        fresh = dataclasses.replace(result)  # no columns cached yet
        start = time.perf_counter()
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
    server = _postgres_url()
    if server is not None:
        try:
            with server() as url:  # type: ignore[attr-defined]
                out["PostgreSQL (COPY)"] = _median_save(url, result, runs)
        except Exception as exc:  # no server on this machine: say so, measure the rest
            print(f"  (PostgreSQL not measured: {exc.__class__.__name__}: {exc})")
    return out
