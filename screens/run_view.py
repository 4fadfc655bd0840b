"""One run as the screens show it, whether it just finished or comes from the database.

The results panel, the trade detail and History all read this shape, so a run looks
the same straight after the backtest and when opened again later. Both constructors do
their work (arrays, widths, the thinned curve) where they are called, which is a worker:
the UI thread only hands the finished view to its widgets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Optional

from screens.equity_curve import EquityCurve
from screens.run_columns import FillColumns, FillRow, TradeColumns, TradeRow
from screens.widgets.trade_cells import widths

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from engine.runner import BacktestResult

__all__ = ["RunView", "TradeRow", "FillRow"]


@dataclass
class RunView:
    run_id: Optional[int]
    title: str
    source: str
    metrics: dict[str, Any]
    curve: EquityCurve
    initial_balance: float
    trades: TradeColumns
    trade_widths: tuple[int, ...]  # the trades table's column widths, measured with the rest
    config: dict[str, Any] = field(default_factory=dict)
    fills_of: Callable[[int], list[FillRow]] = lambda _n: []

    @classmethod
    def from_result(cls, result: "BacktestResult", run_id: Optional[int]) -> "RunView":
        tables = result.tables  # built once per run; storing the run has usually built it already
        trades = TradeColumns.from_frame(tables.trades)
        fills = FillColumns.from_frame(tables.fills)
        cfg = result.config
        return cls(
            run_id, f"{cfg.strategy} on {result.symbol or result.source}", result.source, result.metrics,
            EquityCurve.from_equity(result.equity, cfg.balance), cfg.balance, trades, widths(trades),
            cfg.to_dict(), fills.of,
        )

    @classmethod
    def from_store(cls, engine: "Engine", run_id: int) -> Optional["RunView"]:
        from engine.store import get_run, run_fills
        from engine.stored_trades import stored_trades

        run = get_run(engine, run_id)
        if run is None:
            return None
        trades = TradeColumns.from_frame(stored_trades(engine, run_id))

        def fills_of(trade_no: int) -> list[FillRow]:
            # One trade's fills, read when it is opened: a handful of rows.
            return [
                FillRow(f.kind.value, _aware(f.time), f.price, f.qty, f.fee, f.slippage, f.pnl, f.reason,
                        f.avg_entry_price)
                for f in run_fills(engine, run_id, trade_no)
            ]

        balance = float(run.config.get("balance", 0.0)) or 1.0
        metrics = dict(run.metrics)
        return cls(
            run.id, f"{run.strategy} on {run.symbol or run.data_source}", run.data_source, metrics,
            EquityCurve.from_stored(list(run.equity_curve), balance, metrics), balance, trades, widths(trades),
            dict(run.config), fills_of,
        )


def _aware(time: datetime) -> datetime:
    """A stored time (naive UTC on SQLite) as aware UTC, as a fresh run's times are."""
    return time if time.tzinfo is not None else time.replace(tzinfo=timezone.utc)
