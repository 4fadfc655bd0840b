"""A run with a million fills is stored and read back whole, on SQLite and on PostgreSQL.

The run is built directly (no strategy): 200,000 trades of five fills each (entry, scale-in,
two partial exits, exit) over a million synthetic one-minute bars. What the database holds
is checked by its own aggregates (counts, sums of PnL and fees) and by the first and last
rows, which must equal the records bit for bit, times as the same UTC instants.
"""

from __future__ import annotations

import math
import time
from datetime import timezone
from typing import Any

import numpy as np
import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from engine.config import BacktestConfig
from engine.data import synthetic_bars
from engine.db_url import normalise_db_url
from engine.enums import ExitReason, FillKind, Side
from engine.models import Fill, Trade
from engine.records import FillRecord, TradeRecord
from engine.runner import BacktestResult
from engine.store import open_db, run_fills, save_backtest

TRADES = 200_000
PER_TRADE = 5
FILLS = TRADES * PER_TRADE
KINDS = (FillKind.ENTRY, FillKind.SCALE_IN, FillKind.PARTIAL_EXIT, FillKind.PARTIAL_EXIT, FillKind.EXIT)
REASONS = ("signal", "scale_in", "partial_target", "partial_target", "stop_loss")


def per(values: np.ndarray) -> np.ndarray:
    """One row per trade, one column per fill."""
    return values.reshape(TRADES, PER_TRADE)


def _million_fill_run() -> BacktestResult:
    candles = synthetic_bars(FILLS, seed=7)  # one bar per fill: trade i lives on bars 5i .. 5i+4
    rng = np.random.default_rng(7)
    bars = np.arange(FILLS)
    price = candles["open"].to_numpy() * (1 + rng.normal(0, 2e-4, FILLS))
    qty = rng.uniform(0.001, 0.5, FILLS)
    fee = price * qty * 0.001
    slippage = price * qty * 0.0005 * (np.arange(FILLS) % PER_TRADE < 2)  # market-type fills only
    pnl = rng.normal(0, 25.0, FILLS) - fee
    pnl[0::PER_TRADE] = -fee[0::PER_TRADE]  # an entry realises only its fee
    avg_entry = price * (1 + rng.normal(0, 1e-3, FILLS))
    trade_no = bars // PER_TRADE + 1
    sides = [Side.LONG, Side.SHORT] * (TRADES // 2)
    fill_side = [s for s in sides for _ in range(PER_TRADE)]
    fills = list(map(FillRecord, trade_no.tolist(), list(KINDS) * TRADES, fill_side, bars.tolist(), price.tolist(),
                     qty.tolist(), fee.tolist(), slippage.tolist(), pnl.tolist(), list(REASONS) * TRADES,
                     avg_entry.tolist()))

    size = per(qty)[:, :2].sum(axis=1)
    entry_price = (per(price)[:, :2] * per(qty)[:, :2]).sum(axis=1) / size
    exit_price = per(price)[:, 2:].mean(axis=1)
    trade_pnl = per(pnl).sum(axis=1)
    trades = list(map(
        TradeRecord, list(range(1, TRADES + 1)), sides, (bars[0::PER_TRADE]).tolist(), (bars[4::PER_TRADE]).tolist(),
        entry_price.tolist(), exit_price.tolist(), size.tolist(), trade_pnl.tolist(),
        (trade_pnl / (entry_price * size) * 100).tolist(), per(fee).sum(axis=1).tolist(),
        per(slippage).sum(axis=1).tolist(), [ExitReason.STOP_LOSS] * TRADES,
        rng.uniform(0, 3, TRADES).tolist(), rng.uniform(-3, 0, TRADES).tolist(),
    ))
    equity = 10_000 + np.cumsum(np.bincount(bars, weights=pnl, minlength=FILLS))
    return BacktestResult(BacktestConfig(), candles, trades, fills, equity, {"trades": TRADES}, FILLS)


@pytest.fixture(scope="module")
def big() -> BacktestResult:
    return _million_fill_run()


def _aggregates(db: Any, run_id: int) -> dict[str, Any]:
    with db.connect() as conn:
        fills = conn.execute(text('SELECT COUNT(*), SUM(pnl), SUM(fee), SUM(qty) FROM "fill" WHERE run_id = :r'),
                             {"r": run_id}).one()
        trades = conn.execute(text('SELECT COUNT(*), SUM(pnl), SUM(fees), MIN(trade_no), MAX(trade_no) FROM "trade" '
                                   "WHERE run_id = :r"), {"r": run_id}).one()
    return {"fills": tuple(fills), "trades": tuple(trades)}


def _utc(when):  # type: ignore[no-untyped-def]
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)


def _same_fill(row: Fill, f: FillRecord, index: Any) -> None:
    assert (row.trade_no, row.kind, row.side, row.reason, _utc(row.time)) == (f.trade_no, f.kind, f.side, f.reason, index[f.bar])
    assert (row.price, row.qty, row.fee, row.slippage, row.pnl, row.avg_entry_price) == \
        (f.price, f.qty, f.fee, f.slippage, f.pnl, f.avg_entry)


def _same_trade(row: Trade, t: TradeRecord, index: Any) -> None:
    assert (row.trade_no, row.side, row.exit_reason, row.duration_bars) == (t.trade_no, t.side, t.exit_reason, t.duration_bars)
    assert (_utc(row.entry_time), _utc(row.exit_time)) == (index[t.entry_bar], index[t.exit_bar])
    assert (row.entry_price, row.exit_price, row.size, row.pnl, row.pnl_pct, row.fees, row.slippage, row.mfe_pct,
            row.mae_pct) == (t.entry_price, t.exit_price, t.size, t.pnl, t.pnl_pct, t.fees, t.slippage, t.mfe_pct, t.mae_pct)


@pytest.mark.slow
def test_a_million_fill_run_reads_back_whole(db_url: str, big: BacktestResult) -> None:
    db = open_db(normalise_db_url(db_url))
    try:
        began = time.perf_counter()
        run_id = save_backtest(db, big)
        print(f"\n{db.dialect.name}: {FILLS:,} fills and {TRADES:,} trades stored in {time.perf_counter() - began:.1f} s")

        agg = _aggregates(db, run_id)
        count, pnl, fee, qty = agg["fills"]
        assert count == FILLS
        scale = math.fsum(abs(f.pnl) for f in big.fills)
        assert abs(pnl - math.fsum(f.pnl for f in big.fills)) <= 1e-12 * scale
        assert fee == pytest.approx(math.fsum(f.fee for f in big.fills), rel=1e-12)
        assert qty == pytest.approx(math.fsum(f.qty for f in big.fills), rel=1e-12)
        count, pnl, fees, first_no, last_no = agg["trades"]
        assert (count, first_no, last_no) == (TRADES, 1, TRADES)
        assert abs(pnl - math.fsum(t.pnl for t in big.trades)) <= 1e-12 * scale
        assert fees == pytest.approx(math.fsum(t.fees for t in big.trades), rel=1e-12)

        index = big.candles.index
        with Session(db) as s:
            first = s.exec(select(Fill).where(Fill.run_id == run_id).order_by(Fill.id).limit(1)).one()  # type: ignore[arg-type]
            last = s.exec(select(Fill).where(Fill.run_id == run_id).order_by(Fill.id.desc()).limit(1)).one()  # type: ignore[union-attr]
            first_trade = s.exec(select(Trade).where(Trade.run_id == run_id).order_by(Trade.trade_no).limit(1)).one()
            last_trade = s.exec(select(Trade).where(Trade.run_id == run_id).order_by(Trade.trade_no.desc()).limit(1)).one()  # type: ignore[attr-defined]
        _same_fill(first, big.fills[0], index)
        _same_fill(last, big.fills[-1], index)
        _same_trade(first_trade, big.trades[0], index)
        _same_trade(last_trade, big.trades[-1], index)
        assert _utc(last.time) == index[-1]  # the millionth bar, 694 days on, at the same instant
        last_five = run_fills(db, run_id, TRADES)
        assert len(last_five) == PER_TRADE
        for row, f in zip(last_five, big.fills[-PER_TRADE:]):
            _same_fill(row, f, index)
    finally:
        db.dispose()
