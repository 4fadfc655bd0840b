"""What the backtest workspace's workers do, off the UI thread.

Each job computes and reports through a ``post`` callable (the screen's
``post_message``, which is thread-safe); none of them touches a widget. Progress is
coalesced to a few updates a second. Errors the user can fix become a
:class:`RunFailed` with the engine's one-line message, never a traceback.
"""

from __future__ import annotations

import threading
from typing import Callable, Optional

from textual.message import Message

from engine.errors import InputError
from screens.backtest.messages import (
    BacktestFinished, BacktestProgress, DownloadFinished, DownloadProgress, RunCancelled, RunFailed,
)
from screens.run_view import RunView
from screens.services import Services

Post = Callable[[Message], object]
MIN_INTERVAL = 0.1  # seconds between progress messages


def _is_cancellation(exc: BaseException) -> bool:
    return type(exc).__name__ in ("BacktestCancelled", "DownloadCancelled")


def download_job(services: Services, config, post: Post, cancel: threading.Event) -> None:  # type: ignore[no-untyped-def]
    last = [float("-inf")]  # the first report always goes out

    def progress(done: int, expected: Optional[int]) -> None:
        now = services.clock()
        if now - last[0] >= MIN_INTERVAL:
            last[0] = now
            post(DownloadProgress(done, expected))

    try:
        candles = services.load_candles(config.data, progress=progress, cancel=cancel)
    except InputError as exc:
        post(RunFailed(str(exc)))
    except Exception as exc:
        post(RunCancelled() if _is_cancellation(exc) else RunFailed(f"download failed: {exc.__class__.__name__}: {exc}"))
    else:
        if cancel.is_set():
            post(RunCancelled())
        else:
            post(DownloadFinished(config, candles))


def backtest_job(services: Services, config, candles, post: Post, cancel: threading.Event) -> None:  # type: ignore[no-untyped-def]
    from engine.gc_pause import freeze_loaded
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
            candles = services.load_candles(config.data, cancel=cancel)
        # Opened (the first time, schema checked) before the engine runs: not between its
        # end and the results, and a database that cannot be opened fails the run early.
        database = services.database()
        result = run_backtest(config, candles, progress=progress, cancel=cancel)
        if cancel.is_set():
            post(RunCancelled())
            return
        run_id = save_backtest(database, result, created_at=services.now())
        view = RunView.from_result(result, run_id)
        # The result stays alive (for export and replay): its hundred thousand records would
        # otherwise be rescanned by every full collection, a stall of a tenth of a second on
        # a million-bar run, felt as a frozen key. Still freed by reference counting.
        freeze_loaded()
    except InputError as exc:
        post(RunFailed(str(exc)))
    except Exception as exc:
        post(RunCancelled() if _is_cancellation(exc) else RunFailed(f"backtest failed: {exc.__class__.__name__}: {exc}"))
    else:
        post(BacktestFinished(result, run_id, services.clock() - started, view))
