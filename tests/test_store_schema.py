"""A database made by an earlier version opens: columns added since are added, nothing is lost."""

from __future__ import annotations

import sqlite3

from engine.runner import run_backtest
from engine.config import BacktestConfig
from engine.store import open_db, run_fills, save_backtest


def test_an_older_database_gains_the_new_fill_column_and_keeps_its_rows(tmp_path) -> None:
    path = tmp_path / "old.sqlite"
    url = f"sqlite:///{path}"
    engine = open_db(url)
    run_id = save_backtest(engine, run_backtest(BacktestConfig(strategy="sma_cross")))
    engine.dispose()
    with sqlite3.connect(path) as conn:  # as an earlier version left it: no avg_entry_price
        conn.execute('ALTER TABLE "fill" DROP COLUMN "avg_entry_price"')
        before = conn.execute('SELECT COUNT(*) FROM "fill"').fetchone()[0]
    engine = open_db(url)
    fills = run_fills(engine, run_id)
    assert len(fills) == before > 0
    assert all(f.avg_entry_price is None for f in fills)  # old rows: not recorded
    second = save_backtest(engine, run_backtest(BacktestConfig(strategy="sma_cross")))
    assert all(f.avg_entry_price and f.avg_entry_price > 0 for f in run_fills(engine, second))


def test_an_older_database_gets_the_fill_index_of_this_version(tmp_path) -> None:
    path = tmp_path / "old.sqlite"
    engine = open_db(f"sqlite:///{path}")
    run_id = save_backtest(engine, run_backtest(BacktestConfig(strategy="sma_cross")))
    engine.dispose()
    with sqlite3.connect(path) as conn:  # as an earlier version left it: two single-column indexes
        conn.execute('DROP INDEX "ix_fill_run_trade"')
        conn.execute('CREATE INDEX "ix_fill_run_id" ON "fill" ("run_id")')
        conn.execute('CREATE INDEX "ix_fill_trade_no" ON "fill" ("trade_no")')
    engine = open_db(f"sqlite:///{path}")
    with sqlite3.connect(path) as conn:
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'fill'")}
        plan = " ".join(str(r) for r in conn.execute(
            'EXPLAIN QUERY PLAN SELECT * FROM "fill" WHERE run_id = ? AND trade_no = ?', (run_id, 1)))
    assert "ix_fill_run_trade" in names and not names & {"ix_fill_run_id", "ix_fill_trade_no"}
    assert "ix_fill_run_trade" in plan
    assert run_fills(engine, run_id, 1)


def _saved(engine) -> int:
    return save_backtest(engine, run_backtest(BacktestConfig(strategy="sma_cross")))


def test_a_deleted_runs_id_is_never_handed_out_again(tmp_path) -> None:
    from engine.store import delete_run

    engine = open_db(f"sqlite:///{tmp_path / 'r.sqlite'}")
    first, newest = _saved(engine), _saved(engine)
    assert delete_run(engine, newest)
    assert _saved(engine) == newest + 1
    assert first < newest


def test_an_older_database_stops_reusing_ids_and_keeps_its_runs(tmp_path) -> None:
    from engine.store import delete_run, get_run, run_trades

    path = tmp_path / "old.sqlite"
    engine = open_db(f"sqlite:///{path}")
    kept, newest = _saved(engine), _saved(engine)
    engine.dispose()
    with sqlite3.connect(path) as conn:  # as an earlier version made it: no AUTOINCREMENT
        ddl = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'run'").fetchone()[0]
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute(ddl.replace("AUTOINCREMENT", "").replace("CREATE TABLE run ", "CREATE TABLE run_old "))
        conn.execute("INSERT INTO run_old SELECT * FROM run")
        conn.execute("DROP TABLE run")
        conn.execute("ALTER TABLE run_old RENAME TO run")
        assert "AUTOINCREMENT" not in conn.execute("SELECT sql FROM sqlite_master WHERE name = 'run'").fetchone()[0]
    engine = open_db(f"sqlite:///{path}")
    assert delete_run(engine, newest)
    assert _saved(engine) == newest + 1
    assert get_run(engine, kept) is not None and run_trades(engine, kept)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert {r[2] for r in conn.execute("PRAGMA foreign_key_list(trade)")} == {"run"}
