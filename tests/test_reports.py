"""The breakdowns against hand-computed examples: sides, exit reasons, monthly and yearly returns."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from engine.config import BacktestConfig
from engine.reports import exit_reasons, period_returns, run_report, side_split
from engine.runner import run_backtest

TRADES = pd.DataFrame({
    "side": ["long", "short", "long", "long", "short"],
    "pnl": [120.0, -30.0, -45.0, 60.0, 90.0],
    "exit_reason": ["take_profit", "stop_loss", "stop_loss", "signal", "take_profit"],
})


def test_longs_and_shorts_apart() -> None:
    sides = side_split(TRADES)
    # longs: +120, -45, +60
    assert sides["long"] == {"trades": 3, "win_rate_pct": pytest.approx(200 / 3), "net_profit": 135.0,
                             "gross_profit": 180.0, "gross_loss": 45.0, "avg_pnl": 45.0, "profit_factor": 4.0}
    # shorts: -30, +90
    assert sides["short"] == {"trades": 2, "win_rate_pct": 50.0, "net_profit": 60.0, "gross_profit": 90.0,
                              "gross_loss": 30.0, "avg_pnl": 30.0, "profit_factor": 3.0}


def test_a_side_without_trades_is_empty_not_an_error() -> None:
    sides = side_split(TRADES[TRADES["side"] == "long"])
    assert sides["short"] == {"trades": 0, "win_rate_pct": None, "net_profit": 0.0, "gross_profit": 0.0,
                              "gross_loss": 0.0, "avg_pnl": None, "profit_factor": None}


def test_exit_reasons_most_frequent_first() -> None:
    rows = exit_reasons(TRADES)
    assert [r["reason"] for r in rows] == ["stop_loss", "take_profit", "signal"]  # 2, 2 (by name), 1
    stop, target, signal = rows
    assert stop == {"reason": "stop_loss", "trades": 2, "win_rate_pct": 0.0, "avg_pnl": -37.5, "net_profit": -75.0}
    assert target == {"reason": "take_profit", "trades": 2, "win_rate_pct": 100.0, "avg_pnl": 105.0, "net_profit": 210.0}
    assert signal["trades"] == 1 and signal["net_profit"] == 60.0


def test_monthly_and_yearly_returns_chain_from_the_starting_balance() -> None:
    index = pd.DatetimeIndex(["2024-11-10", "2024-11-30", "2024-12-15", "2025-01-05", "2025-03-31"], tz="UTC")
    equity = np.array([1010.0, 1100.0, 990.0, 1089.0, 1200.0])
    months = period_returns(equity, index, 1000.0, "ME")
    # Nov: 1000 -> 1100 (+10 %), Dec: 1100 -> 990 (-10 %), Jan: 990 -> 1089 (+10 %), Feb: no bars, Mar: 1089 -> 1200
    assert [m["period"] for m in months] == ["2024-11", "2024-12", "2025-01", "2025-03"]
    assert [m["return_pct"] for m in months] == pytest.approx([10.0, -10.0, 10.0, (1200 / 1089 - 1) * 100])
    assert [m["pnl"] for m in months] == pytest.approx([100.0, -110.0, 99.0, 111.0])
    years = period_returns(equity, index, 1000.0, "YE")
    assert [y["period"] for y in years] == ["2024", "2025"]
    assert [y["return_pct"] for y in years] == pytest.approx([-1.0, (1200 / 990 - 1) * 100])


def test_a_run_carries_its_report_into_json_and_the_store(tmp_path) -> None:
    from engine.export import run_json
    from engine.store import get_run, open_db, save_backtest

    result = run_backtest(BacktestConfig(strategy="sma_cross", params={"fast": 5, "slow": 20, "mode": "long_short"}))
    report = result.report
    sides = report["sides"]
    assert sides["long"]["trades"] + sides["short"]["trades"] == len(result.trades)
    assert sides["long"]["net_profit"] + sides["short"]["net_profit"] == pytest.approx(result.metrics["net_profit"])
    assert sum(r["trades"] for r in report["exit_reasons"]) == len(result.trades)
    final = report["monthly_returns"][-1]["equity"]
    assert final == pytest.approx(result.metrics["final_equity"])
    assert json.loads(run_json(result, None))["report"] == json.loads(json.dumps(report))
    db = open_db(f"sqlite:///{tmp_path / 'r.sqlite'}")
    stored = get_run(db, save_backtest(db, result))
    assert stored is not None and stored.report == json.loads(json.dumps(report))


def test_an_empty_run_reports_empty_tables() -> None:
    report = run_report(TRADES.iloc[:0], np.array([]), pd.DatetimeIndex([], tz="UTC"), 1000.0)
    assert report["exit_reasons"] == [] and report["monthly_returns"] == [] and report["sides"]["long"]["trades"] == 0
