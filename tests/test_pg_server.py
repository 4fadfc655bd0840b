"""The tests' own PostgreSQL server (tests/pg_server.py): it starts, serves, and leaves nothing
behind; a missing server skips its tests, except under CI where it fails them."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests import pg_server
from tests.pg_server import PgServer, find_bin_dir


@pytest.mark.parametrize("value, ci", [("1", True), ("true", True), ("", False), ("0", False), ("false", False)])
def test_ci_is_read_from_the_environment(monkeypatch, value: str, ci: bool) -> None:
    monkeypatch.setenv("CI", value)
    assert pg_server.in_ci() is ci


def test_no_server_skips_but_fails_under_ci(monkeypatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no PostgreSQL server: no initdb"):
        pg_server._unavailable("no initdb")
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="cannot run under CI: no initdb"):
        pg_server._unavailable("no initdb")


def test_binaries_named_by_the_environment_come_first(monkeypatch, tmp_path: Path) -> None:
    found = find_bin_dir()
    if found is None:
        pg_server._unavailable("no initdb/postgres found")
    monkeypatch.setenv(pg_server.BIN_ENV, str(tmp_path))  # no binaries there: passed over
    assert find_bin_dir() == found
    for name in ("initdb", "postgres"):
        (tmp_path / name).write_text("")
    assert find_bin_dir() == tmp_path


def test_a_server_starts_serves_and_leaves_nothing_behind() -> None:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pg_server._unavailable("no initdb/postgres found")
    server = PgServer(bin_dir)
    try:
        server.start()
        assert server.proc is not None and server.proc.poll() is None
        assert server.sql("SHOW TimeZone") == [(pg_server.SERVER_TIMEZONE,)]
        assert server.sql("SHOW listen_addresses") == [("",)]  # the unix socket in its folder only
        name = server.create_database()
        assert server.sql("SELECT current_database()", name) == [(name,)]
        if os.geteuid() == 0:
            assert Path(f"/proc/{server.proc.pid}").stat().st_uid != 0  # not as root
        server.drop_database(name)
        assert server.sql(f"SELECT count(*) FROM pg_database WHERE datname = '{name}'") == [(0,)]
    finally:
        server.stop()
    assert server.proc is not None and server.proc.returncode is not None
    assert not server.base.exists()


def test_folders_of_killed_workers_are_swept_and_live_ones_kept() -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)  # exited: no such process now (reuse within this test is not a worry)
    left = Path(tempfile.mkdtemp(prefix=pg_server._PREFIX))
    (left / "owner.pid").write_text(str(dead_pid))
    live = Path(tempfile.mkdtemp(prefix=pg_server._PREFIX))
    (live / "owner.pid").write_text(str(os.getpid()))
    try:
        pg_server._sweep_stale_dirs()
        assert not left.exists()
        assert live.exists()
    finally:
        for folder in (left, live):
            if folder.exists():
                for child in folder.iterdir():
                    child.unlink()
                folder.rmdir()
