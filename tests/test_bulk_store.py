"""The set-based store writes exactly what the run holds: every trade and fill column,
times, enums and order, by each insert method, in batches, and for a run with none."""

from __future__ import annotations

import dataclasses
from datetime import timezone

import pytest

from engine import bulk_insert
from engine.config import BacktestConfig
from engine.data import synthetic_bars
from engine.policy import ExitPolicy, Sizing
from engine.runner import run_backtest
from engine.store import get_run, open_db, run_fills, run_trades, save_backtest

POLICY = dict(stop_loss_pct=1.5, trailing_activation_pct=0.5, trailing_distance_pct=0.3,
              exit_targets=(0.4, 0.8), exit_sizes=(0.3, 0.3), scale_in_thresholds=(0.2,), scale_in_sizes=(0.5,))


@pytest.fixture(scope="module")
def result():
    """Longs and shorts, scale-ins, partial exits, trailing stops, fees and slippage."""
    config = BacktestConfig(
        strategy="sma_cross", params={"fast": 10, "slow": 30, "mode": "long_short"}, fee_pct=0.1,
        slippage_pct=0.05, policy=ExitPolicy(**POLICY), sizing=Sizing(max_leverage=2.0),
    )
    return run_backtest(config, synthetic_bars(30_000, seed=11))


def _utc(when):
    return when.replace(tzinfo=timezone.utc)


def assert_stored_as_run(db, run_id, result) -> None:
    index = result.candles.index
    trades = run_trades(db, run_id)
    assert len(trades) == len(result.trades)
    for row, t in zip(trades, result.trades):
        assert (row.trade_no, row.side, row.exit_reason) == (t.trade_no, t.side, t.exit_reason)
        assert (_utc(row.entry_time), _utc(row.exit_time)) == (index[t.entry_bar], index[t.exit_bar])
        assert (row.entry_price, row.exit_price, row.size, row.pnl, row.pnl_pct, row.fees, row.slippage,
                row.mfe_pct, row.mae_pct) == (t.entry_price, t.exit_price, t.size, t.pnl, t.pnl_pct, t.fees,
                                              t.slippage, t.mfe_pct, t.mae_pct)
        assert row.duration_bars == t.duration_bars
        assert row.duration_seconds == (index[t.exit_bar] - index[t.entry_bar]).total_seconds()
    fills = run_fills(db, run_id)
    assert len(fills) == len(result.fills)
    for row, f in zip(fills, result.fills):  # in the order they happened
        assert (row.trade_no, row.kind, row.side, row.reason) == (f.trade_no, f.kind, f.side, f.reason)
        assert _utc(row.time) == index[f.bar]
        assert (row.price, row.qty, row.fee, row.slippage, row.pnl, row.avg_entry_price) == \
            (f.price, f.qty, f.fee, f.slippage, f.pnl, f.avg_entry)


def test_the_run_has_every_kind_of_fill(result) -> None:
    kinds = {f.kind.value for f in result.fills}
    assert kinds == {"entry", "scale_in", "partial_exit", "exit"}
    assert {t.side.value for t in result.trades} == {"long", "short"}
    assert sum(f.fee for f in result.fills) > 0 and sum(f.slippage for f in result.fills) > 0


@pytest.mark.parametrize("method", ["fastest", "core"])
def test_stored_rows_equal_the_run_bit_for_bit(db_url, monkeypatch, result, method) -> None:
    """On SQLite (multi-row INSERT) and PostgreSQL (COPY), and by SQLAlchemy Core on both."""
    if method == "core":
        monkeypatch.setattr(bulk_insert, "fastest_method", lambda conn: "core")
    awkward = dataclasses.replace(result, fills=list(result.fills))
    first = awkward.fills[0]
    awkward.fills[0] = dataclasses.replace(first, reason="manual: tab\there, line\nbreak, back\\slash")
    db = open_db(db_url)
    run_id = save_backtest(db, awkward)
    assert_stored_as_run(db, run_id, awkward)
    run = get_run(db, run_id)
    assert run is not None and run.metrics == result.metrics
    db.dispose()


def test_rows_go_in_batches_and_runs_do_not_mix(tmp_path, monkeypatch, result) -> None:
    monkeypatch.setattr(bulk_insert, "ROWS_PER_BATCH", 7)
    db = open_db(f"sqlite:///{tmp_path / 'runs.sqlite'}")
    first = save_backtest(db, result)
    second = save_backtest(db, dataclasses.replace(result))
    assert second != first
    assert_stored_as_run(db, first, result)
    assert_stored_as_run(db, second, result)


def test_a_run_without_trades_is_stored(tmp_path) -> None:
    config = BacktestConfig(strategy="sma_cross", params={"fast": 10, "slow": 30, "mode": "long_only"})
    candles = synthetic_bars(200, seed=1)
    candles[["open", "high", "low", "close"]] = 100.0  # flat: the averages never cross
    result = run_backtest(config, candles)
    assert result.trades == [] and result.fills == []
    db = open_db(f"sqlite:///{tmp_path / 'runs.sqlite'}")
    run_id = save_backtest(db, result)
    assert run_trades(db, run_id) == [] and run_fills(db, run_id) == []
    assert get_run(db, run_id) is not None


def test_a_failed_write_leaves_nothing(tmp_path, monkeypatch, result) -> None:
    from engine.errors import InputError

    db = open_db(f"sqlite:///{tmp_path / 'runs.sqlite'}")
    real = bulk_insert._insert
    calls = []

    def second_table_fails(conn, table, frame, method):
        calls.append(table.name)
        if table.name == "fill":
            from sqlalchemy.exc import OperationalError

            raise OperationalError("INSERT", {}, Exception("disk full"))
        return real(conn, table, frame, method)

    monkeypatch.setattr(bulk_insert, "_insert", second_table_fails)
    with pytest.raises(InputError, match="cannot write to the database") as failed:
        save_backtest(db, result)
    assert calls == ["trade", "fill"]
    message = str(failed.value)
    assert "disk full" in message and "INSERT" not in message and len(message) < 300
    from engine.store import list_runs

    assert list_runs(db) == []
    with db.connect() as conn:
        assert conn.exec_driver_sql('SELECT COUNT(*) FROM "trade"').scalar() == 0


def test_the_stored_curve_keeps_spikes_and_both_ends() -> None:
    import numpy as np

    from engine.store import downsample

    curve = np.linspace(1000.0, 2000.0, 100_000)
    curve[31_337] = 10.0  # a one-bar crash
    curve[77_777] = 9_999.0  # a one-bar spike
    thin = downsample(curve, 400)
    assert len(thin) <= 402
    assert thin[0] == 1000.0 and thin[-1] == 2000.0
    assert min(thin) == 10.0 and max(thin) == 9_999.0
    assert thin.index(10.0) < thin.index(9_999.0)  # in time order
    assert downsample([1.0, 2.0, 3.0], 400) == [1.0, 2.0, 3.0]


def test_the_stored_curve_keeps_the_time_of_each_point(tmp_path, result) -> None:
    """A stored run's chart dates its points: each kept value with its bar's time."""
    import numpy as np

    db = open_db(f"sqlite:///{tmp_path / 'runs.sqlite'}")
    run = get_run(db, save_backtest(db, result))
    index = result.candles.index
    assert len(run.equity_times) == len(run.equity_curve) > 100
    assert run.equity_times[0] == index[0].timestamp() and run.equity_times[-1] == index[-1].timestamp()
    assert np.all(np.diff(run.equity_times) > 0)
    seconds = index.as_unit("s").asi8
    for when, value in list(zip(run.equity_times, run.equity_curve))[::37]:
        assert result.equity[int(np.searchsorted(seconds, when))] == value
