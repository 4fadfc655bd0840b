"""Set-based inserts of many rows, by the fastest path each database offers.

A finished million-bar run has a hundred thousand trade and fill rows. Through the ORM
(or even SQLAlchemy Core, which converts every value of every row in Python) storing
them took seconds. Here a frame of columns goes to the database in one statement:
``executemany`` on SQLite's own driver, ``COPY`` on PostgreSQL (psycopg), and Core's
executemany anywhere else. Always inside the caller's transaction.
"""

from __future__ import annotations

import re
from typing import Any, Optional

import numpy as np
import pandas as pd
from sqlalchemy import Table
from sqlalchemy.engine import Connection


# Rows converted to Python values at a time: bounds the memory a very long run's
# hundreds of thousands of rows would take as Python objects all at once.
ROWS_PER_BATCH = 100_000


def _utc(series: pd.Series) -> pd.DatetimeIndex:
    times = pd.DatetimeIndex(series)
    return times.tz_convert("UTC") if times.tz is not None else times.tz_localize("UTC")


def _time_text(series: pd.Series, offset: str) -> list[str]:
    """UTC times as ``YYYY-MM-DD HH:MM:SS.ffffff`` + ``offset``: with no offset, the text
    SQLAlchemy itself writes on SQLite; PostgreSQL's timestamptz needs the ``+00:00``."""
    values = _utc(series).tz_localize(None).to_numpy(dtype="datetime64[us]")
    if not len(values):
        return []
    text = np.datetime_as_string(values, unit="us")
    # "T" -> " " on the code points in place: one pass in C, not a str.replace per time.
    codes = text.view(np.uint32).reshape(len(text), -1)
    codes[codes[:, 10] == ord("T"), 10] = ord(" ")
    return (np.char.add(text, offset) if offset else text).tolist()


def _column_lists(frame: pd.DataFrame, method: str) -> list[list[Any]]:
    out = []
    for name in frame.columns:
        col = frame[name]
        if not pd.api.types.is_datetime64_any_dtype(col):
            out.append(col.tolist())
        elif method == "core":
            out.append(list(_utc(col).to_pydatetime()))
        else:
            out.append(_time_text(col, "+00:00" if method == "copy" else ""))
    return out


_SPECIAL = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(values: list[Any]) -> list[str]:
    """One column in COPY's text format: floats as their shortest exact repr, NULL as \\N,
    text with backslash, tab and line breaks escaped. A whole column at a time: writing
    row by row through psycopg cost seconds on a big run."""
    if None in values:
        return [r"\N" if v is None else _copy_text([v])[0] for v in values]
    if values and isinstance(values[0], str):
        if not _SPECIAL.search("".join(values)):  # times and enum names: nothing to escape
            return values
        return [v.translate(_COPY_ESCAPES) for v in values]
    return list(map(repr, values))


def _sqlite_insert(conn: Connection, table: str, columns: list[str], values: list[list[Any]]) -> None:
    # Many rows per statement: SQLite binds values just as fast, but the per-statement
    # work of Python's driver is paid once per chunk instead of once per row.
    import sqlite3

    width = len(columns)
    limit = 32766 if sqlite3.sqlite_version_info >= (3, 32) else 999
    per_statement = max(1, min(500, limit // width))
    count = len(values[0])
    flat: list[Any] = [None] * (count * width)  # row-major, interleaved by slice assignment
    for i, column in enumerate(values):
        flat[i::width] = column
    names = ", ".join(f'"{c}"' for c in columns)
    row = "(" + ", ".join("?" for _ in columns) + ")"
    full = f'INSERT INTO "{table}" ({names}) VALUES ' + ", ".join([row] * per_statement)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        for start in range(0, count, per_statement):
            n = min(per_statement, count - start)
            sql = full if n == per_statement else f'INSERT INTO "{table}" ({names}) VALUES ' + ", ".join([row] * n)
            cursor.execute(sql, flat[start * width:(start + n) * width])
    finally:
        cursor.close()


def fastest_method(conn: Connection) -> str:
    """``sqlite``, ``copy`` (PostgreSQL through psycopg) or ``core`` (any other database)."""
    dialect = conn.dialect
    if dialect.name == "sqlite" and dialect.driver == "pysqlite":
        return "sqlite"
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        return "copy"
    return "core"


def insert_frame(conn: Connection, table: Table, frame: pd.DataFrame, method: Optional[str] = None) -> None:
    """Insert every row of ``frame`` (columns named as the table's) into ``table``, by
    ``method`` (default: :func:`fastest_method`).

    Enum columns take the names SQLAlchemy stores (``LONG``), times are UTC."""
    method = method or fastest_method(conn)
    for start in range(0, len(frame), ROWS_PER_BATCH):
        _insert(conn, table, frame.iloc[start:start + ROWS_PER_BATCH], method)


def _insert(conn: Connection, table: Table, frame: pd.DataFrame, method: str) -> None:
    columns = list(frame.columns)
    if method == "sqlite":
        _sqlite_insert(conn, table.name, columns, _column_lists(frame, method))
    elif method == "copy":
        names = ", ".join(f'"{c}"' for c in columns)
        text = "\n".join(map("\t".join, zip(*map(_copy_text, _column_lists(frame, method))))) + "\n"
        with conn.connection.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
            with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                copy.write(text.encode())
    else:
        records = [dict(zip(columns, row)) for row in zip(*_column_lists(frame, method))]
        conn.execute(table.insert(), records)
