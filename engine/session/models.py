"""Session tables: a named session, one book per symbol, and every fill and order it made.

A book row holds the engine's whole state for its symbol (:mod:`engine.session.codec`),
written in the same transaction as the fills of the step that produced it, so a killed
session restarts from a state and a fill list that agree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, BigInteger, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from engine.models import utcnow


class TradingSession(SQLModel, table=True):
    __tablename__ = "trading_session"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(index=True, sa_column_kwargs={"unique": True})
    mode: str  # "paper" | "live"
    status: str = "new"  # new | running | paused | stopped | ended | halted
    message: str = ""  # why it halted (reconciliation it could not explain), for the trader
    config: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class SessionBook(SQLModel, table=True):
    __tablename__ = "session_book"
    __table_args__ = (UniqueConstraint("session_id", "symbol"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="trading_session.id", index=True)
    symbol: str
    bars: int = 0  # closed candles the book has processed
    # Open time of the newest of them, in ms since the epoch: BIGINT, as a 32-bit INTEGER (PostgreSQL's) overflows.
    last_candle_ms: Optional[int] = Field(default=None, sa_type=BigInteger)
    last_price: Optional[float] = None
    state: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))  # codec.state_to_dict
    updated_at: datetime = Field(default_factory=utcnow)


class SessionFill(SQLModel, table=True):
    __tablename__ = "session_fill"

    id: Optional[int] = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="trading_session.id", index=True)
    symbol: str
    trade_no: int
    kind: str
    side: str
    bar: int
    time: datetime
    price: float
    qty: float
    fee: float
    slippage: float
    pnl: float
    reason: str = ""
    avg_entry: float = 0.0
    client_order_id: Optional[str] = None  # exchange mode: the order it came from


class SessionTrade(SQLModel, table=True):
    __tablename__ = "session_trade"

    id: Optional[int] = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="trading_session.id", index=True)
    symbol: str
    record: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))  # the TradeRecord's fields


class SessionEquity(SQLModel, table=True):
    """Equity after each closed candle of a book: the session's curve and metrics."""

    __tablename__ = "session_equity"

    id: Optional[int] = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="trading_session.id", index=True)
    symbol: str
    bar: int
    time_ms: int = Field(sa_type=BigInteger)  # ms since the epoch (BIGINT, as last_candle_ms)
    close: float
    equity: float


class SessionOrder(SQLModel, table=True):
    """An exchange order of a live session (:class:`engine.session.exchange_broker.OrderRecord`), saved
    before it is sent and after every change, so a restart knows every order that may stand."""

    __tablename__ = "session_order"

    id: Optional[int] = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="trading_session.id", ondelete="CASCADE", index=True)
    symbol: str
    client_order_id: str = Field(index=True, sa_column_kwargs={"unique": True})
    side: str  # buy | sell
    kind: str  # market | stop_loss
    qty: float
    status: str  # an OrderStatus
    exchange_order_id: Optional[str] = None
    filled_qty: float = 0.0
    avg_price: float = 0.0
    fee: float = 0.0  # in quote currency
    base_fee: float = 0.0  # the part of it taken in the base asset, as a quantity
    stop_price: Optional[float] = None
    ref_price: Optional[float] = None
    message: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
