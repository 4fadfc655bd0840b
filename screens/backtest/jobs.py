"""What the backtest workspace's workers do, off the UI thread.

Each job computes and reports through a ``post`` callable (the screen's
``post_message``, which is thread-safe); none of them touches a widget. Progress is
coalesced to a few updates a second, and every phase of a run is announced as it
begins (:class:`RunPhase`): on a file of millions of bars, loading it or saving the
run takes seconds of its own, which a bar stuck at "3,000,000 / 3,000,000" hid.
Errors the user can fix become a :class:`RunFailed` with the engine's one-line
message, never a traceback.
"""

from __future__ import annotations

import threading
from typing import Callable, Optional

from textual.message import Message

from engine.errors import InputError
from screens.backtest.messages import (
    BacktestFinished, BacktestProgress, DownloadFinished, DownloadProgress, ExportFailed, ExportWritten, RunCancelled,
    RunFailed, RunNotSaved, RunPhase, RunSaved,
)
from screens.run_view import RunView
from screens.services import Services

Post = Callable[[Message], object]
MIN_INTERVAL = 0.1  # seconds between progress messages


def _is_cancellation(exc: BaseException) -> bool:
    return type(exc).__name__ in ("BacktestCancelled", "DownloadCancelled")


def _stopped(exc: Exception, cancel: threading.Event, what: str) -> Message:
    """How a job that raised ends. Once the trader has cancelled, it ends cancelled: a
    download still retrying when Escape was pressed failed with "cannot reach ..."."""
    if cancel.is_set() or _is_cancellation(exc):
        return RunCancelled()
    if isinstance(exc, InputError):
        return RunFailed(str(exc))
    return RunFailed(f"{what}: {exc.__class__.__name__}: {exc}")


def download_job(services: Services, config, post: Post, cancel: threading.Event) -> None:  # type: ignore[no-untyped-def]
    last = [float("-inf")]  # the first report always goes out

    def progress(done: int, expected: Optional[int]) -> None:
        now = services.clock()
        if now - last[0] >= MIN_INTERVAL:
            last[0] = now
            post(DownloadProgress(done, expected))

    try:
        candles = services.load_candles(config.data, progress=progress, cancel=cancel)
    except Exception as exc:
        post(_stopped(exc, cancel, "download failed"))
    else:
        if cancel.is_set():
            post(RunCancelled())
        else:
            post(DownloadFinished(config, candles))


def backtest_job(services: Services, config, candles, post: Post, cancel: threading.Event) -> None:  # type: ignore[no-untyped-def]
    from engine.gc_pause import freeze_loaded, gc_paused
    from engine.runner import run_backtest
    from engine.store import save_backtest

    started = services.clock()
    last = [started - MIN_INTERVAL]

    def progress(done: int, total: int) -> None:
        now = services.clock()
        if now - last[0] >= MIN_INTERVAL or done >= total:
            last[0] = now
            post(BacktestProgress(done, total, now - started))

    try:
        if candles is None:
            post(RunPhase("load", config.data.describe()))
            candles = services.load_candles(config.data, cancel=cancel)
        # Opened (the first time, schema checked) before the engine runs: not between its
        # end and the results, and a database that cannot be opened fails the run early.
        database = services.database()
        result = run_backtest(config, candles, progress=progress, cancel=cancel,
                              phase=lambda name: post(RunPhase(name, f"{len(candles):,} bars")))
        if cancel.is_set():
            post(RunCancelled())
            return
        post(RunPhase("view", f"{len(result.trades):,} trades"))
        with gc_paused():
            view = RunView.from_result(result, None)
    except Exception as exc:
        post(_stopped(exc, cancel, "backtest failed"))
        return
    # The results go on screen first; the run is stored after, on this worker, and the
    # screen hears its id (half a second for a million bars, which the trader no longer
    # waits for). Storing and the view's objects are none of them garbage: with the
    # collector scanning them as they come, storing took twice as long. It is off
    # meanwhile, for the whole process, briefly.
    post(BacktestFinished(result, None, services.clock() - started, view))
    try:
        with gc_paused():
            run_id = save_backtest(database, result, created_at=services.now())
            # The result stays alive (for export and replay): its hundred thousand records would
            # otherwise be rescanned by every full collection, a stall of a tenth of a second on
            # a million-bar run, felt as a frozen key. Still freed by reference counting.
            freeze_loaded()
    except Exception as exc:
        detail = str(exc) if isinstance(exc, InputError) else f"{exc.__class__.__name__}: {exc}"
        post(RunNotSaved(result, detail))
    else:
        post(RunSaved(result, run_id))


def export_job(services: Services, result, run_id: Optional[int], kind: str, post: Post) -> None:  # type: ignore[no-untyped-def]
    """Write the shown run's trades (CSV) or whole run (JSON) into the export folder under
    a new name: an earlier export is never written over (``engine.export.write_new``)."""
    from engine.export import run_json, trades_csv, write_new

    name = f"atb-run-{run_id}" if run_id is not None else "atb-run"
    try:
        if kind == "csv":
            path = write_new(services.export_dir, f"{name}-trades.csv", trades_csv(result))
        else:
            path = write_new(services.export_dir, f"{name}.json", run_json(result, run_id))
    except (OSError, InputError) as exc:
        post(ExportFailed(" ".join(str(exc).split())))
    else:
        post(ExportWritten(str(path), run_id))
