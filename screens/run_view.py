"""One run as the screens show it, whether it just finished or comes from the database.

The results panel, the trade detail and History all read this shape, so a run looks
the same straight after the backtest and when opened again later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Optional

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from engine.runner import BacktestResult


@dataclass(frozen=True)
class TradeRow:
    trade_no: int
    side: str
    entry_time: datetime
    entry_price: float
    exit_time: datetime
    exit_price: float
    size: float
    pnl: float
    pnl_pct: float
    fees: float
    slippage: float
    exit_reason: str
    mfe_pct: float
    mae_pct: float
    duration_bars: int


@dataclass(frozen=True)
class FillRow:
    kind: str
    time: datetime
    price: float
    qty: float
    fee: float
    slippage: float
    pnl: float
    reason: str
    avg_entry: Optional[float] = None  # the moving average entry after the fill (None: not recorded)


@dataclass
class RunView:
    run_id: Optional[int]
    title: str
    source: str
    metrics: dict[str, Any]
    equity: list[float]
    initial_balance: float
    trades: list[TradeRow]
    config: dict[str, Any] = field(default_factory=dict)
    fills_of: Callable[[int], list[FillRow]] = lambda _n: []

    @classmethod
    def from_result(cls, result: "BacktestResult", run_id: Optional[int]) -> "RunView":
        from engine.store import downsample

        index = result.candles.index
        trades = [
            TradeRow(
                t.trade_no, t.side.value, index[t.entry_bar].to_pydatetime(), t.entry_price,
                index[t.exit_bar].to_pydatetime(), t.exit_price, t.size, t.pnl, t.pnl_pct, t.fees,
                t.slippage, t.exit_reason.value, t.mfe_pct, t.mae_pct, t.duration_bars,
            )
            for t in result.trades
        ]
        fills = result.fills

        def fills_of(trade_no: int) -> list[FillRow]:
            return [
                FillRow(f.kind.value, index[f.bar].to_pydatetime(), f.price, f.qty, f.fee, f.slippage, f.pnl, f.reason, f.avg_entry)
                for f in fills
                if f.trade_no == trade_no
            ]

        cfg = result.config
        return cls(
            run_id, f"{cfg.strategy} on {result.symbol or result.source}", result.source, result.metrics,
            downsample(result.equity, 2000), cfg.balance, trades, cfg.to_dict(), fills_of,
        )

    @classmethod
    def from_store(cls, engine: "Engine", run_id: int) -> Optional["RunView"]:
        from engine.store import get_run, run_fills, run_trades

        run = get_run(engine, run_id)
        if run is None:
            return None
        trades = [
            TradeRow(
                t.trade_no, t.side.value, t.entry_time, t.entry_price, t.exit_time, t.exit_price, t.size,
                t.pnl, t.pnl_pct, t.fees, t.slippage, t.exit_reason.value, t.mfe_pct, t.mae_pct, t.duration_bars,
            )
            for t in run_trades(engine, run_id)
        ]

        def fills_of(trade_no: int) -> list[FillRow]:
            return [
                FillRow(f.kind.value, f.time, f.price, f.qty, f.fee, f.slippage, f.pnl, f.reason, f.avg_entry_price)
                for f in run_fills(engine, run_id, trade_no)
            ]

        return cls(
            run.id, f"{run.strategy} on {run.symbol or run.data_source}", run.data_source, dict(run.metrics),
            list(run.equity_curve), float(run.config.get("balance", 0.0)) or 1.0, trades, dict(run.config), fills_of,
        )
