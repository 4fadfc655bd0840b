"""Persistent data model: Run, Position, Fill and Trade tables (enums in :mod:`engine.enums`).

Rows are validated and normalised here and nothing else: business rules live in the
cost calculator, the managers and the tracker. The backtest hot loop works on the
slot-based records of :mod:`engine.records` and maps them to these rows when a run is
stored; a live session persists every change through the same mapping.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

from sqlalchemy import JSON, BigInteger, Column, Index, Integer
from sqlmodel import Field, SQLModel

from engine.enums import ExitReason, FillKind, RunKind, Side

__all__ = ["ExitReason", "FillKind", "RunKind", "Side", "Run", "Position", "Fill", "Trade", "utcnow"]


# Trade and fill ids: 64-bit where ids are a serial column (PostgreSQL's 32-bit SERIAL runs
# out after some thousands of million-fill runs); SQLite's INTEGER key is its 64-bit rowid.
_ROW_ID = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Run(SQLModel, table=True):
    # A run id is never handed out twice, even after the newest run is deleted: exports
    # are named after it and traders remember it (SQLite reuses max(id) + 1 otherwise).
    __table_args__ = {"sqlite_autoincrement": True}

    id: Optional[int] = Field(default=None, primary_key=True)
    kind: RunKind = Field(index=True)
    strategy: str
    symbol: str = ""
    timeframe: str = ""
    data_source: str = ""
    period_start: Optional[datetime] = None
    period_end: Optional[datetime] = None
    config: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    metrics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    # Longs against shorts, exit reasons, monthly and yearly returns (engine.reports);
    # None for runs stored before there were reports.
    report: Optional[dict[str, Any]] = Field(default=None, sa_column=Column(JSON))
    # Equity after each bar, thinned to a few hundred points keeping every stretch's low and
    # high (engine.run_record.thinned): enough to redraw the curve, spikes included.
    equity_curve: list[float] = Field(default_factory=list, sa_column=Column(JSON))
    # The time of each of those points, in seconds since the epoch (UTC); None for runs
    # stored before the times were kept.
    equity_times: Optional[list[int]] = Field(default=None, sa_column=Column(JSON))
    parent_run_id: Optional[int] = Field(default=None, foreign_key="run.id")
    # Of the candles the run saw (engine.fingerprint): a replay notices when they changed.
    data_fingerprint: Optional[str] = None
    created_at: datetime = Field(default_factory=utcnow, index=True)


class Position(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True)
    symbol: str = ""
    side: Side
    is_open: bool = True
    entry_time: datetime
    entry_price: float = Field(gt=0)
    original_size: float = Field(ge=0)
    current_size: float = Field(ge=0)
    avg_entry_price: float = Field(gt=0)
    stop_loss: Optional[float] = None
    take_profit: Optional[float] = None
    trailing_active: bool = False
    trailing_peak: Optional[float] = None
    trailing_stop: Optional[float] = None
    partial_exits_done: int = 0
    scale_ins_done: int = 0
    realized_pnl: float = 0.0
    fees_paid: float = 0.0
    mfe_pct: float = 0.0
    mae_pct: float = 0.0
    entry_order_id: Optional[str] = None
    exit_order_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON))


class Fill(SQLModel, table=True):
    # One index on (run, trade) serves both a run's fills and one trade's. A run's rows
    # land at its end, where an index on trade_no alone took inserts all over the tree
    # and doubled the time to store a big run into a well-filled database.
    __table_args__ = (Index("ix_fill_run_trade", "run_id", "trade_no"),)

    id: Optional[int] = Field(default=None, primary_key=True, sa_type=_ROW_ID)
    run_id: int = Field(foreign_key="run.id")
    position_id: Optional[int] = Field(default=None, foreign_key="position.id", index=True)
    trade_no: int
    kind: FillKind
    side: Side
    time: datetime
    price: float = Field(gt=0)
    qty: float = Field(gt=0)
    fee: float = Field(ge=0)
    slippage: float = Field(ge=0)
    pnl: float = 0.0
    reason: str = ""
    # The position's moving average entry after this fill (what partial targets are measured from).
    avg_entry_price: Optional[float] = None
    order_id: Optional[str] = None


class Trade(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True, sa_type=_ROW_ID)
    run_id: int = Field(foreign_key="run.id", index=True)
    trade_no: int
    side: Side
    entry_time: datetime
    entry_price: float
    exit_time: datetime
    exit_price: float
    size: float
    pnl: float
    pnl_pct: float
    fees: float
    slippage: float
    exit_reason: ExitReason
    mfe_pct: float = 0.0
    mae_pct: float = 0.0
    duration_bars: int = 0
    duration_seconds: float = 0.0
