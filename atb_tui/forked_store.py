"""The headless backtest stores its run in a forked child while it writes the output.

Storing a million-bar run takes about half a second and turning it into JSON a third
of one, both in Python. Threads would take turns on one interpreter lock; a child
process made by ``fork`` shares the finished run with its parent page by page (nothing
is copied or serialised) and runs on the other core. The child stores the run with the
engine's own :func:`engine.store.save_backtest` and reports the run id, or the error,
on a pipe. The parent prints nothing that names the run until the child has committed
it, so a failed store still leaves no output and no rows behind.

Only the console script forks: it is a fresh process with one thread of its own. An
in-process caller, or a platform without ``fork``, stores inline through the same calls.
"""

from __future__ import annotations

import os
import pickle
import sys
import threading
import time
import traceback
from typing import Callable, Optional

from engine.errors import InputError

Save = Callable[[], int]


class PendingStore:
    """A run being stored: :meth:`wait` gives its id and the seconds the store took."""

    def __init__(self, pid: Optional[int] = None, pipe: Optional[int] = None,
                 outcome: Optional[tuple[str, object, float]] = None) -> None:
        self._pid, self._pipe, self._outcome = pid, pipe, outcome
        self.forked = pid is not None

    def wait(self) -> tuple[int, float]:
        """The committed run's id and the store's seconds; raises what the store raised
        (InputError for a database that refused the run)."""
        if self._outcome is None:
            assert self._pid is not None and self._pipe is not None
            with os.fdopen(self._pipe, "rb") as pipe:
                data = pipe.read()
            _pid, status = os.waitpid(self._pid, 0)
            if not data:
                raise RuntimeError(f"the process storing the run stopped without a result ({_describe(status)})")
            self._outcome = pickle.loads(data)
        kind, value, seconds = self._outcome
        if kind == "stored":
            return int(value), seconds  # type: ignore[call-overload]
        raise value  # type: ignore[misc]


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


def _outcome(save: Save) -> tuple[str, object, float]:
    start = time.perf_counter()
    try:
        return "stored", save(), time.perf_counter() - start
    except InputError as exc:
        return "failed", exc, 0.0
    except Exception as exc:  # a bug: the parent reports it as one, with the traceback on request
        if os.environ.get("ATB_TUI_DEBUG"):
            traceback.print_exc()
        return "failed", RuntimeError(f"{type(exc).__name__}: {exc}"), 0.0


def can_fork() -> bool:
    """Forking is safe in a process with one thread (a lock held by another thread would
    stay locked in the child for ever)."""
    return hasattr(os, "fork") and threading.active_count() == 1


def store(save: Save, fork: bool) -> PendingStore:
    """Run ``save`` (which returns the new run's id) in a forked child when ``fork`` is
    set and :func:`can_fork`, else here and now."""
    if not (fork and can_fork()):
        return PendingStore(outcome=_outcome(save))
    sys.stdout.flush()
    sys.stderr.flush()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: store, report, and leave without the parent's exit handlers
        code = 1
        try:
            os.close(read)
            with os.fdopen(write, "wb") as pipe:
                pipe.write(pickle.dumps(_outcome(save)))
            code = 0
        finally:
            sys.stderr.flush()
            os._exit(code)
    os.close(write)
    return PendingStore(pid, read)
