"""Shared fixtures: ``pg_server`` and ``db_url`` (SQLite and PostgreSQL) from tests/pg_server.py."""

pytest_plugins = ["tests.pg_server"]
