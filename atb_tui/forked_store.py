"""The headless backtest stores its run in a forked child, beside its own work.

Storing a million-bar run takes about half a second and turning it into JSON a third
of one, both in Python; importing the database layer (SQLAlchemy, SQLModel, pydantic)
takes a fifth. Threads would take turns on one interpreter lock; a child process runs
on the other core. So the console script forks a :class:`StoreWorker` as the command
starts: the child imports the database layer while the parent loads and runs the
backtest (the parent never imports it), then takes the run's row and tables through
a pipe (a pickle of numpy columns: 14 MB and 0.03 s for 38,000 trades), stores them
with the engine's own :func:`engine.store.save_run`, and reports the run id, or the
error, on a second pipe. The parent prints nothing that names the run until the child
has committed it: a failed store leaves no output and no rows behind. A parent that
stops before its run is finished closes the pipe, and the child leaves without
touching the database.

Only the console script forks: it is a fresh process with one thread of its own. An
in-process caller, or a platform without ``fork``, stores inline (:func:`stored_inline`).
"""

from __future__ import annotations

import os
import pickle
import sys
import threading
import time
import traceback
from typing import Any, Callable, Optional

from engine.errors import InputError

Outcome = tuple[str, object, float]


class PendingStore:
    """A run being stored: :meth:`wait` gives its id and the seconds the store took."""

    def __init__(self, pid: Optional[int] = None, pipe: Optional[int] = None, outcome: Optional[Outcome] = None) -> None:
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


def _outcome(save: Callable[[], int]) -> Outcome:
    start = time.perf_counter()
    try:
        return "stored", save(), time.perf_counter() - start
    except InputError as exc:
        return "failed", exc, 0.0
    except Exception as exc:  # a bug: the parent reports it as one, with the traceback on request
        if os.environ.get("ATB_TUI_DEBUG"):
            traceback.print_exc()
        return "failed", RuntimeError(f"{type(exc).__name__}: {exc}"), 0.0


def stored_inline(save: Callable[[], int]) -> PendingStore:
    """``save`` (returning the new run's id) run here and now."""
    return PendingStore(outcome=_outcome(save))


def can_fork() -> bool:
    """Forking is safe in a process with one thread (a lock held by another thread would
    stay locked in the child for ever)."""
    return hasattr(os, "fork") and threading.active_count() == 1


class _Ready:
    """What the child prepares while the parent runs: the candles' fingerprint, and the
    database when it exists already (a new one is made only once there is a run to keep)."""

    def __init__(self, db_url: Optional[str], candles: Any) -> None:
        from engine.fingerprint import candles_fingerprint
        from engine.store import open_db

        self.db_url, self.db = db_url, None
        self.fingerprint = candles_fingerprint(candles)
        if _existing_sqlite_file(db_url):
            try:
                self.db = open_db(db_url)
            except InputError:
                pass  # said again, in full, when the run is stored

    def save(self, row: dict[str, Any], tables: Any) -> int:
        from engine.store import open_db, save_run

        return save_run(self.db or open_db(self.db_url), {**row, "data_fingerprint": self.fingerprint}, tables)


def _existing_sqlite_file(db_url: Optional[str]) -> bool:
    from engine.db_url import normalise_db_url
    from engine.paths import default_db_url
    from sqlalchemy.engine import make_url

    try:
        url = make_url(normalise_db_url(db_url or default_db_url()))
    except Exception:
        return False
    return url.get_backend_name() == "sqlite" and bool(url.database) and os.path.isfile(url.database)


def _child(inbox: int, outbox: int, prepare: Callable[[], Any]) -> None:
    ready = prepare()
    with os.fdopen(inbox, "rb") as pipe:
        data = pipe.read()
    if not data:  # the parent stopped before its run was finished: nothing to store
        return
    row, tables = pickle.loads(data)
    outcome = _outcome(lambda: ready.save(row, tables))
    with os.fdopen(outbox, "wb") as pipe:
        pipe.write(pickle.dumps(outcome))


class StoreWorker:
    """A child process waiting for a run to store (see the module's docstring)."""

    def __init__(self, pid: int, to_child: int, from_child: int) -> None:
        self._pid, self._to_child, self._from_child = pid, to_child, from_child
        self._handed = False

    @classmethod
    def start(cls, db_url: Optional[str], candles: Any, prepare: Optional[Callable[[], Any]] = None) -> Optional["StoreWorker"]:
        """The worker for a run on ``candles`` to be stored in ``db_url``, or None where
        forking is not safe (:func:`can_fork`). ``prepare`` (tests pass their own) runs
        first in the child and returns what ``save(row, tables)`` stores the run with."""
        if not can_fork():
            return None
        sys.stdout.flush()
        sys.stderr.flush()
        inbox, to_child = os.pipe()
        from_child, outbox = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: leaves without the parent's exit handlers or buffers
            code = 1
            try:
                os.close(to_child)
                os.close(from_child)
                _child(inbox, outbox, prepare or (lambda: _Ready(db_url, candles)))
                code = 0
            finally:
                sys.stderr.flush()
                os._exit(code)
        os.close(inbox)
        os.close(outbox)
        return cls(pid, to_child, from_child)

    def store(self, row: dict[str, Any], tables: Any) -> PendingStore:
        """Hand the run over (its row without the fingerprint: the child has it); the child
        stores it while the caller goes on."""
        self._handed = True
        try:
            with os.fdopen(self._to_child, "wb") as pipe:
                pickle.dump((row, tables), pipe, protocol=pickle.HIGHEST_PROTOCOL)
        except BrokenPipeError:  # the child died first: waiting says how
            pass
        return PendingStore(self._pid, self._from_child)

    def stop(self) -> None:
        """No run is coming (the command failed before it had one): the child leaves
        without touching the database."""
        if not self._handed:
            self._handed = True
            os.close(self._to_child)
            os.close(self._from_child)
            os.waitpid(self._pid, 0)
