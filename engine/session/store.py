"""Reading and writing sessions: one transaction per step that changed anything durable.

A step's fills, trades, equity points and the book's new state go in together, so
after a crash the book row and the fill list always agree. Quiet bars are written in
batches: they change nothing a restart could not recompute from the candles.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable, Optional

from sqlalchemy import delete, insert
from sqlalchemy.engine import Engine as Database
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from engine.enums import ExitReason, FillKind, Side
from engine.errors import InputError
from engine.models import utcnow
from engine.records import FillRecord, TradeRecord
from engine.session.config import SessionConfig
from engine.session.models import SessionBook, SessionEquity, SessionFill, SessionTrade, TradingSession


def ms_to_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


def create_session(db: Database, config: SessionConfig, now: Optional[datetime] = None) -> int:
    when = now or utcnow()
    with Session(db) as s:
        row = TradingSession(name=config.name, mode=config.mode, config=config.to_dict(), created_at=when,
                             updated_at=when)
        s.add(row)
        try:
            s.commit()
        except IntegrityError:
            raise InputError(
                f"a session named {config.name!r} already exists: resume it (--resume) or choose another name"
            ) from None
        s.refresh(row)
        assert row.id is not None
        return row.id


def get_session(db: Database, name: str) -> Optional[TradingSession]:
    with Session(db) as s:
        return s.exec(select(TradingSession).where(TradingSession.name == name)).first()


def list_sessions(db: Database) -> list[TradingSession]:
    with Session(db) as s:
        return list(s.exec(select(TradingSession).order_by(TradingSession.updated_at.desc())))  # type: ignore[attr-defined]


def set_status(db: Database, session_id: int, status: str, message: str = "", now: Optional[datetime] = None) -> None:
    with Session(db) as s:
        row = s.get(TradingSession, session_id)
        assert row is not None
        row.status, row.message, row.updated_at = status, message, now or utcnow()
        s.add(row)
        s.commit()


def load_books(db: Database, session_id: int) -> dict[str, SessionBook]:
    with Session(db) as s:
        return {b.symbol: b for b in s.exec(select(SessionBook).where(SessionBook.session_id == session_id))}


def fill_row(session_id: int, symbol: str, fill: FillRecord, when: datetime) -> dict[str, Any]:
    return {
        "session_id": session_id, "symbol": symbol, "trade_no": fill.trade_no, "kind": fill.kind.value,
        "side": fill.side.value, "bar": fill.bar, "time": when, "price": fill.price, "qty": fill.qty, "fee": fill.fee,
        "slippage": fill.slippage, "pnl": fill.pnl, "reason": fill.reason, "avg_entry": fill.avg_entry,
    }


def trade_record_dict(trade: TradeRecord) -> dict[str, Any]:
    return {
        "trade_no": trade.trade_no, "side": trade.side.value, "entry_bar": trade.entry_bar,
        "exit_bar": trade.exit_bar, "entry_price": trade.entry_price, "exit_price": trade.exit_price,
        "size": trade.size, "pnl": trade.pnl, "pnl_pct": trade.pnl_pct, "fees": trade.fees,
        "slippage": trade.slippage, "exit_reason": trade.exit_reason.value, "mfe_pct": trade.mfe_pct,
        "mae_pct": trade.mae_pct,
    }


def commit_step(
    db: Database, session_id: int, symbol: str, book_state: dict[str, Any], *,
    fills: Iterable[dict[str, Any]] = (), trades: Iterable[TradeRecord] = (),
    equity: Iterable[dict[str, Any]] = (),
) -> None:
    """The book's new state with what produced it, in one transaction."""
    fills, trades, equity = list(fills), list(trades), list(equity)
    with Session(db) as s:
        if fills:
            s.execute(insert(SessionFill), fills)
        if trades:
            s.execute(insert(SessionTrade), [
                {"session_id": session_id, "symbol": symbol, "record": trade_record_dict(t)} for t in trades
            ])
        if equity:
            s.execute(insert(SessionEquity), equity)
        row = s.exec(select(SessionBook).where(SessionBook.session_id == session_id, SessionBook.symbol == symbol)).first()
        if row is None:
            row = SessionBook(session_id=session_id, symbol=symbol)
        row.bars = book_state["bars"]
        row.last_candle_ms = book_state["last_candle_ms"]
        row.last_price = book_state["last_price"]
        row.state = book_state["engine"]
        row.updated_at = utcnow()
        s.add(row)
        s.commit()


def session_fills(db: Database, session_id: int, symbol: Optional[str] = None) -> list[SessionFill]:
    with Session(db) as s:
        q = select(SessionFill).where(SessionFill.session_id == session_id)
        if symbol is not None:
            q = q.where(SessionFill.symbol == symbol)
        return list(s.exec(q.order_by(SessionFill.id)))  # type: ignore[arg-type]


def session_trades(db: Database, session_id: int, symbol: str) -> list[TradeRecord]:
    with Session(db) as s:
        rows = s.exec(select(SessionTrade).where(SessionTrade.session_id == session_id, SessionTrade.symbol == symbol)
                      .order_by(SessionTrade.id))  # type: ignore[arg-type]
        out = []
        for row in rows:
            r = dict(row.record)
            r["side"], r["exit_reason"] = Side(r["side"]), ExitReason(r["exit_reason"])
            out.append(TradeRecord(**r))
        return out


def session_equity(db: Database, session_id: int, symbol: str) -> list[SessionEquity]:
    with Session(db) as s:
        return list(s.exec(select(SessionEquity).where(SessionEquity.session_id == session_id,
                                                       SessionEquity.symbol == symbol).order_by(SessionEquity.bar)))  # type: ignore[arg-type]


def as_fill_record(row: SessionFill) -> FillRecord:
    return FillRecord(row.trade_no, FillKind(row.kind), Side(row.side), row.bar, row.price, row.qty, row.fee,
                      row.slippage, row.pnl, row.reason, row.avg_entry)


def delete_session(db: Database, session_id: int) -> None:
    with Session(db) as s:
        for table in (SessionFill, SessionTrade, SessionEquity, SessionBook):
            s.execute(delete(table).where(table.session_id == session_id))  # type: ignore[attr-defined]
        s.execute(delete(TradingSession).where(TradingSession.id == session_id))  # type: ignore[arg-type]
        s.commit()
