"""A live session's orders in its database: the :class:`OrderStore` the exchange broker writes to.

Every save is committed before it returns, so an order is on disk before its request
leaves, and a session killed at any point restarts knowing every order that may stand
on the exchange (:meth:`SqlOrderStore.unresolved`) for reconciliation to ask about.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime, timezone
from typing import Any, Optional

from sqlalchemy.engine import Engine as Database
from sqlmodel import Session, col, select

from engine.session.orders import UNRESOLVED, OrderRecord, OrderStatus
from engine.session.models import SessionOrder

_FIELDS = tuple(f.name for f in fields(OrderRecord))


def _utc(when: datetime) -> datetime:
    """SQLite gives datetimes back without their zone; ours are all UTC."""
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when


def _record(row: SessionOrder) -> OrderRecord:
    values: dict[str, Any] = {name: getattr(row, name) for name in _FIELDS}
    values["status"] = OrderStatus(row.status)
    values["created_at"], values["updated_at"] = _utc(row.created_at), _utc(row.updated_at)
    return OrderRecord(**values)


class SqlOrderStore:
    """The orders of one trading session, in ``session_order``; one committed transaction per save."""

    def __init__(self, db: Database, session_id: int) -> None:
        self.db, self.session_id = db, session_id

    def save(self, order: OrderRecord) -> None:
        """Insert or update ``order`` by its client order id; committed when this returns."""
        with Session(self.db) as s:
            row = s.exec(select(SessionOrder).where(SessionOrder.client_order_id == order.client_order_id)).first()
            if row is None:
                row = SessionOrder(session_id=self.session_id, client_order_id=order.client_order_id,
                                   symbol=order.symbol, side=order.side, kind=order.kind, qty=order.qty,
                                   status=str(order.status))
            elif row.session_id != self.session_id:
                raise ValueError(f"client order id {order.client_order_id!r} belongs to session {row.session_id}, "
                                 f"not {self.session_id}")
            for name in _FIELDS:
                setattr(row, name, getattr(order, name))
            row.status = OrderStatus(order.status).value
            s.add(row)
            s.commit()

    def orders(self) -> list[OrderRecord]:
        """Every order of the session, oldest first."""
        return self._select()

    def unresolved(self) -> list[OrderRecord]:
        """Orders in NEW, SENT, UNKNOWN, OPEN or PARTIALLY_FILLED, oldest first."""
        return self._select(col(SessionOrder.status).in_([s.value for s in UNRESOLVED]))

    def get(self, client_order_id: str) -> Optional[OrderRecord]:
        found = self._select(SessionOrder.client_order_id == client_order_id)
        return found[0] if found else None

    def _select(self, *where: Any) -> list[OrderRecord]:
        with Session(self.db) as s:
            query = select(SessionOrder).where(SessionOrder.session_id == self.session_id, *where)
            return [_record(row) for row in s.exec(query.order_by(col(SessionOrder.id)))]
