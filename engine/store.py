"""Persistence: where runs live and how results become Run/Trade/Fill rows.

SQLite under the user data dir by default (WAL mode), or any SQLAlchemy URL from
``--db`` or ``ATB_TUI_DB``. A run is written in one transaction, after it has
finished, so a failed or cancelled run leaves nothing behind.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from sqlalchemy import delete, event, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlmodel import Session, SQLModel, create_engine, select

from engine.errors import InputError
from engine.models import ExitReason, Fill, FillKind, Run, RunKind, Side, Trade
from engine.session import models as _session_tables  # noqa: F401  (created with the rest)
from engine.paths import DB_ENV, default_db_url
from engine.run_record import downsample, run_row
from engine.runner import BacktestResult

if TYPE_CHECKING:
    import pandas as pd

    from engine.run_tables import RunTables

__all__ = ["DB_ENV", "default_db_url", "open_db", "save_backtest", "save_run", "downsample", "list_runs", "get_run", "run_trades", "run_fills", "delete_run"]

def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def open_db(url: Optional[str] = None) -> Engine:
    """Engine for ``url`` with the schema created; InputError for a bad URL or path.

    The default database's folder is made when missing; a folder named in a URL the user
    gave must exist (a typo should not leave a new folder tree behind). Messages show
    the URL without its password."""
    from engine.db_url import normalise_db_url, redacted

    default = default_db_url()
    url = normalise_db_url(url or default)
    shown = redacted(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InputError(f"database {shown!r} is not a database URL (e.g. sqlite:///runs.sqlite)") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        folder = Path(parsed.database).expanduser().parent
        if url == default:
            folder.mkdir(parents=True, exist_ok=True)
        elif not folder.is_dir():
            raise InputError(f"database {shown!r}: the folder {str(folder)!r} does not exist")
    try:
        engine = create_engine(url, **_connect_args(parsed))
    except (ArgumentError, ImportError) as exc:
        hint = " (PostgreSQL needs the driver: pip install 'atb-tui[postgres]')" \
            if parsed.get_backend_name() == "postgresql" else ""
        raise InputError(f"database {shown!r} cannot be used: {redacted(str(exc))}{hint}") from None
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        SQLModel.metadata.create_all(engine)
        _add_missing_columns(engine)
        _never_reuse_run_ids(engine)
    except SQLAlchemyError as exc:
        raise InputError(f"database {shown!r} cannot be opened: {redacted(_reason(exc))}") from None
    return engine


def _connect_args(parsed: Any) -> dict[str, Any]:
    """PostgreSQL sessions in UTC: a database made before time columns carried their zone
    (``timestamp without time zone``) would otherwise store the server's local time."""
    if parsed.get_backend_name() != "postgresql":
        return {}
    given = parsed.query.get("options", "")
    given = " ".join(given) if isinstance(given, tuple) else given
    return {"connect_args": {"options": f"{given} -c timezone=UTC".strip()}}


# Indexes earlier versions made that a newer one replaced (table -> index names).
_RETIRED_INDEXES = {"fill": ("ix_fill_run_id", "ix_fill_trade_no")}


def _add_missing_columns(engine: Engine) -> None:
    """Bring a database made by an earlier version up to date: columns added since are
    added (all nullable), indexes are made as this version declares them; no row is
    dropped or rewritten."""
    from sqlalchemy import inspect, text

    inspector = inspect(engine)
    with engine.begin() as conn:
        for table in SQLModel.metadata.sorted_tables:
            have = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name not in have and column.nullable:
                    kind = column.type.compile(dialect=engine.dialect)
                    conn.execute(text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}'))
            indexes = {ix["name"] for ix in inspector.get_indexes(table.name)}
            for name in _RETIRED_INDEXES.get(table.name, ()):
                if name in indexes:
                    conn.execute(text(f'DROP INDEX "{name}"'))
            for index in table.indexes:
                if index.name not in indexes:
                    index.create(conn)


def _never_reuse_run_ids(engine: Engine) -> None:
    """Give a SQLite ``run`` table made by an earlier version AUTOINCREMENT (SQLite cannot
    add it in place: the table is rebuilt, rows and ids kept), so deleting the newest run
    no longer frees its id for the next one. Other databases never reuse serial ids."""
    if engine.dialect.name != "sqlite":
        return
    from sqlalchemy.schema import CreateIndex, CreateTable

    table = Run.__table__  # type: ignore[attr-defined]
    raw = engine.raw_connection()
    try:
        row = raw.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'run'").fetchone()
        if row is None or "AUTOINCREMENT" in row[0].upper():
            return
        create = str(CreateTable(table).compile(dialect=engine.dialect)).strip()
        create = create.replace("CREATE TABLE run ", "CREATE TABLE run_rebuilt ", 1)
        indexes = [str(CreateIndex(ix).compile(dialect=engine.dialect)) for ix in table.indexes]
        columns = ", ".join(f'"{c.name}"' for c in table.columns)
        # Other tables' foreign keys name "run": off while the old table goes and the new
        # one takes its name (outside the transaction: the pragma is ignored inside one).
        raw.execute("PRAGMA foreign_keys=OFF")
        script = ";\n".join([
            "BEGIN IMMEDIATE", create,
            f"INSERT INTO run_rebuilt ({columns}) SELECT {columns} FROM run",
            "DROP TABLE run", "ALTER TABLE run_rebuilt RENAME TO run", *indexes,
            # The sequence goes on after the highest id the table holds.
            "DELETE FROM sqlite_sequence WHERE name = 'run'",
            "INSERT INTO sqlite_sequence (name, seq) SELECT 'run', COALESCE(MAX(id), 0) FROM run",
            "COMMIT",
        ])
        try:
            raw.driver_connection.executescript(script)  # type: ignore[union-attr]
        except BaseException:
            if raw.driver_connection.in_transaction:  # type: ignore[union-attr]
                raw.driver_connection.execute("ROLLBACK")  # type: ignore[union-attr]
            raise
    finally:
        raw.execute("PRAGMA foreign_keys=ON")
        raw.close()


def _enum_names(values: "pd.Series", enum_cls: type) -> "pd.Series":
    return values.map({member.value: member.name for member in enum_cls})


def _trade_rows(run_id: int, trades: "pd.DataFrame") -> "pd.DataFrame":
    return trades.assign(
        run_id=run_id, side=_enum_names(trades["side"], Side),
        exit_reason=_enum_names(trades["exit_reason"], ExitReason),
        duration_seconds=(trades["exit_time"] - trades["entry_time"]).dt.total_seconds(),
    ).drop(columns=["entry_bar", "exit_bar"])


def _fill_rows(run_id: int, fills: "pd.DataFrame") -> "pd.DataFrame":
    return fills.assign(
        run_id=run_id, kind=_enum_names(fills["kind"], FillKind), side=_enum_names(fills["side"], Side),
    ).rename(columns={"avg_entry": "avg_entry_price"}).drop(columns=["bar"])


def save_backtest(
    engine: Engine, result: BacktestResult, kind: RunKind = RunKind.BACKTEST, created_at: Optional[datetime] = None,
) -> int:
    """Store a finished run with its trades and fills in one transaction; returns the run id.

    Trades and fills go in set-based (:mod:`engine.bulk_insert`), never row by row.
    ``created_at`` defaults to now; the TUI passes its own clock, which tests fix."""
    return save_run(engine, run_row(result, kind, created_at), result.tables)


def save_run(engine: Engine, row: dict[str, Any], tables: "RunTables") -> int:
    """Store a run from its row's fields (:func:`engine.run_record.run_row`) and its
    tables, in one transaction; returns the run id."""
    from engine.bulk_insert import insert_frame

    run = Run(**row)
    try:
        with Session(engine) as session:
            session.add(run)
            session.flush()
            run_id = run.id
            assert run_id is not None
            conn = session.connection()
            insert_frame(conn, Trade.__table__, _trade_rows(run_id, tables.trades))  # type: ignore[attr-defined]
            insert_frame(conn, Fill.__table__, _fill_rows(run_id, tables.fills))  # type: ignore[attr-defined]
            session.commit()
            return run_id
    except (SQLAlchemyError, _driver_error(engine)) as exc:
        raise InputError(f"cannot write to the database: {_reason(exc)}") from None


def _driver_error(engine: Engine) -> type[Exception]:
    """The database driver's own error class: the bulk inserts go through the driver's
    cursor (sqlite3, psycopg), past SQLAlchemy's wrapping of its errors."""
    dbapi = getattr(engine.dialect, "dbapi", None) or getattr(engine.dialect, "loaded_dbapi", None)
    return getattr(dbapi, "Error", SQLAlchemyError)


def _reason(exc: SQLAlchemyError) -> str:
    """The database's own one-line reason, without SQLAlchemy's statement and parameters
    (which, for a bulk insert, are the whole run)."""
    orig = getattr(exc, "orig", None)
    text = " ".join(str(orig if orig is not None else exc).split("[SQL:")[0].split())
    return f"{type(orig or exc).__name__}: {text[:200]}"


def list_runs(engine: Engine) -> list[Run]:
    with Session(engine) as session:
        return list(session.exec(select(Run).order_by(Run.created_at.desc())))  # type: ignore[attr-defined]


def get_run(engine: Engine, run_id: int) -> Optional[Run]:
    with Session(engine) as session:
        return session.get(Run, run_id)


def run_trades(engine: Engine, run_id: int) -> list[Trade]:
    with Session(engine) as session:
        return list(session.exec(select(Trade).where(Trade.run_id == run_id).order_by(Trade.trade_no)))


def run_fills(engine: Engine, run_id: int, trade_no: Optional[int] = None) -> list[Fill]:
    with Session(engine) as session:
        q = select(Fill).where(Fill.run_id == run_id)
        if trade_no is not None:
            q = q.where(Fill.trade_no == trade_no)
        return list(session.exec(q.order_by(Fill.id)))  # type: ignore[arg-type]


def delete_run(engine: Engine, run_id: int) -> bool:
    with Session(engine) as session:
        run = session.get(Run, run_id)
        if run is None:
            return False
        # Its replay branches stay, no longer linked to a parent that is gone.
        session.execute(update(Run).where(Run.parent_run_id == run_id).values(parent_run_id=None))  # type: ignore[arg-type]
        for table in (Fill, Trade):
            session.execute(delete(table).where(table.run_id == run_id))  # type: ignore[attr-defined]
        session.delete(run)
        session.commit()
        return True

