"""Many stored runs at once, for History's tests and benchmark.

Ten thousand runs saved one backtest at a time would take minutes; here their Run rows
(with config, metrics and a full 400-point equity curve, as real runs have) go in with
one set-based insert. They have no trades: a list never reads them.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

STRATEGIES = ("sma_cross", "rsi_reversion", "breakout", "hold")
SYMBOLS = ("BTC/USDT", "ETH/USDT", "SOL/USDT")
START = datetime(2025, 1, 1, tzinfo=timezone.utc)


def run_spec(i: int) -> dict[str, Any]:
    """The i-th seeded run: a strategy, symbol and parameters that cycle, newer as i grows."""
    strategy = STRATEGIES[i % len(STRATEGIES)]
    params = {"fast": 5 + i % 20, "slow": 30 + i % 7} if strategy == "sma_cross" else {"period": 10 + i % 9}
    return {
        "strategy": strategy, "symbol": SYMBOLS[i % len(SYMBOLS)], "params": params,
        "kind": "REPLAY" if i % 10 == 9 else "BACKTEST",
        "created_at": START + timedelta(minutes=i),
        "return": round((i % 41 - 20) * 1.5, 2), "trades": i % 300,
    }


def seed_runs(engine: Any, count: int, points: int = 400) -> list[int]:
    """Store ``count`` runs (see :func:`run_spec`); returns their ids, oldest first."""
    import pandas as pd
    from sqlmodel import Session

    from engine.bulk_insert import insert_frame
    from engine.models import Run

    curve = json.dumps([10_000.0 + k * 0.5 for k in range(points)])
    specs = [run_spec(i) for i in range(count)]
    frame = pd.DataFrame({
        "kind": [s["kind"] for s in specs],
        "strategy": [s["strategy"] for s in specs],
        "symbol": [s["symbol"] for s in specs],
        "timeframe": "1h",
        "data_source": "sample",
        "period_start": pd.Timestamp("2023-01-01", tz="UTC"),
        "period_end": pd.Timestamp("2024-12-31 23:00", tz="UTC"),
        "config": [json.dumps({"strategy": s["strategy"], "params": s["params"], "balance": 10_000.0}) for s in specs],
        "metrics": [json.dumps({"total_return_pct": s["return"], "max_drawdown_pct": -abs(s["return"]) - 1.0,
                                "trades": s["trades"], "bars": 17544}) for s in specs],
        "equity_curve": curve,
        "created_at": pd.DatetimeIndex([s["created_at"] for s in specs]),
    })
    with Session(engine) as session:
        conn = session.connection()
        before = conn.exec_driver_sql('SELECT COALESCE(MAX(id), 0) FROM "run"').scalar_one()
        insert_frame(conn, Run.__table__, frame)  # type: ignore[attr-defined]
        ids = list(conn.exec_driver_sql(f'SELECT id FROM "run" WHERE id > {int(before)} ORDER BY id').scalars())
        session.commit()
    return ids
