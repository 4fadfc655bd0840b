"""Database URLs as users type them: a bare postgresql:// goes to psycopg, passwords are never shown."""

from __future__ import annotations

import sys

import pytest
from sqlalchemy.engine import make_url

from engine import db_url
from engine.db_url import normalise_db_url, redacted


@pytest.mark.parametrize("url, expected", [
    ("postgresql://user:pass@db.example/atb", "postgresql+psycopg://user:pass@db.example/atb"),
    ("postgresql://user@/atb?host=/run/postgresql", "postgresql+psycopg://user@/atb?host=/run/postgresql"),
    ("postgres://user:pass@db.example:5433/atb", "postgresql+psycopg://user:pass@db.example:5433/atb"),
    ("PostgreSQL://u@h/atb", "postgresql+psycopg://u@h/atb"),
])
def test_a_bare_postgresql_url_goes_to_psycopg(url: str, expected: str) -> None:
    assert normalise_db_url(url) == expected
    assert make_url(normalise_db_url(url)).get_driver_name() == "psycopg"


@pytest.mark.parametrize("url", [
    "postgresql+psycopg2://user:pass@h/atb",
    "postgresql+psycopg://user:pass@h/atb",
    "postgresql+asyncpg://user:pass@h/atb",
    "sqlite:///runs.sqlite",
    "sqlite+pysqlite:///:memory:",
    "mysql://user:pass@h/atb",
    "not a url",
    "",
])
def test_a_url_naming_its_driver_or_another_database_is_left_alone(url: str) -> None:
    assert normalise_db_url(url) == url


def test_without_psycopg_a_bare_url_keeps_sqlalchemys_default_driver(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if not installed: importing it raises ImportError
    assert not db_url._psycopg_importable()
    assert normalise_db_url("postgresql://u:p@h/atb") == "postgresql://u:p@h/atb"
    assert normalise_db_url("postgres://u:p@h/atb") == "postgresql://u:p@h/atb"  # at least a name SQLAlchemy knows


@pytest.mark.parametrize("url, expected", [
    ("postgresql://trader:s3cret@db.example/atb", "postgresql://trader:***@db.example/atb"),
    ("postgresql+psycopg://trader:s3cret@db.example:5433/atb?sslmode=require",
     "postgresql+psycopg://trader:***@db.example:5433/atb?sslmode=require"),
    ("postgresql://trader:p%40ss@h/atb", "postgresql://trader:***@h/atb"),
    ("postgresql://trader:pa@ss:wo/rd@h/atb", "postgresql://trader:***@h/atb"),  # an unescaped "@" too
    ("postgresql://trader:@h/atb", "postgresql://trader:***@h/atb"),
    ("postgresql://h/atb?user=trader&password=s3cret&sslmode=require",
     "postgresql://h/atb?user=trader&password=***&sslmode=require"),
])
def test_redacted_hides_the_password(url: str, expected: str) -> None:
    out = redacted(url)
    assert out == expected
    assert "s3cret" not in out and "p%40ss" not in out and "wo/rd" not in out


@pytest.mark.parametrize("url", [
    "postgresql://trader@db.example/atb",
    "postgresql://db.example:5432/atb",
    "sqlite:////home/trader/atb.sqlite",
    "sqlite:///C:/Users/trader/atb.sqlite",
    "not a url",
])
def test_redacted_leaves_a_url_without_a_password_as_it_is(url: str) -> None:
    assert redacted(url) == url


def test_redacted_agrees_with_what_sqlalchemy_reads_as_the_password() -> None:
    url = "postgresql+psycopg://trader:s3cret@db.example:5433/atb"
    parsed = make_url(redacted(url))
    assert (parsed.username, parsed.password, parsed.host, parsed.port, parsed.database) == \
        ("trader", "***", "db.example", 5433, "atb")
    assert redacted(url) == make_url(url).render_as_string(hide_password=True)
