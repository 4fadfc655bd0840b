"""A live session's orders as it records them: what was asked, what the exchange did with
it, and where it is kept (durably, before anything is sent).

Shared by the exchange broker, which sends and follows them, the SQL order store, and
reconciliation, which compares them with the exchange on start.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Optional, Protocol

from engine.errors import InputError
from engine.models import utcnow


class OrderStatus(StrEnum):
    NEW = "NEW"  # committed, not yet sent
    SENT = "SENT"  # in flight
    UNKNOWN = "UNKNOWN"  # sent, answer lost: only the exchange can say what became of it
    OPEN = "OPEN"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"  # cancelled or expired, possibly with a filled part
    REJECTED = "REJECTED"  # never placed


_FEE_UNREAD = "fee not read yet"
UNRESOLVED = frozenset({OrderStatus.NEW, OrderStatus.SENT, OrderStatus.UNKNOWN, OrderStatus.OPEN,
                        OrderStatus.PARTIALLY_FILLED})
_LIVE = (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)


def new_client_order_id() -> str:
    """Short enough for Binance (36 chars of ``[.A-Z:/a-z0-9_-]``), prefixed so ours are recognisable."""
    return "atb-" + secrets.token_hex(10)


def num(x: float) -> str:
    return f"{x:.8f}".rstrip("0").rstrip(".")


@dataclass(slots=True)
class OrderRecord:
    """One order as the session persists it; mutated by the broker, saved after every change."""

    client_order_id: str
    symbol: str
    side: str  # "buy" | "sell"
    kind: str  # "market" | "stop_loss"
    qty: float  # requested, after precision rounding
    status: OrderStatus = OrderStatus.NEW
    exchange_order_id: Optional[str] = None
    filled_qty: float = 0.0
    avg_price: float = 0.0
    fee: float = 0.0  # in quote currency
    base_fee: float = 0.0  # the part of it taken in the base asset, as a quantity: a buy holds filled_qty - base_fee
    stop_price: Optional[float] = None
    ref_price: Optional[float] = None  # the price the decision saw, for slippage
    message: str = ""
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)

    @property
    def unresolved(self) -> bool:
        return self.status in UNRESOLVED

    def describe(self) -> str:
        what = "stop" if self.kind == "stop_loss" else "market"
        return f"{what} {self.side} {num(self.qty)} {self.symbol} ({self.client_order_id})"

    def outcome(self) -> str:
        """What became of it, in words a trader reads."""
        fill = f"{num(self.filled_qty)} of {num(self.qty)} filled at {num(self.avg_price)}"
        if self.status is OrderStatus.FILLED:
            return f"filled {num(self.filled_qty)} at {num(self.avg_price)} (fee {num(self.fee)})"
        if self.status is OrderStatus.PARTIALLY_FILLED:
            return f"open, {fill}"
        if self.status is OrderStatus.CANCELLED:
            return f"{self.message or 'cancelled'}" + (f", {fill}" if self.filled_qty else ", nothing filled")
        if self.status is OrderStatus.REJECTED:
            return f"never placed: {self.message}"
        return self.status.lower()


class OrderRejected(InputError):
    """The exchange refused the order (funds, size, price): nothing was placed or changed."""


class OrderStore(Protocol):
    def save(self, order: OrderRecord) -> None:
        """Persist ``order``; it must be durable (committed) when this returns."""

    def unresolved(self) -> list[OrderRecord]:
        """Orders in NEW, SENT, UNKNOWN, OPEN or PARTIALLY_FILLED."""


class MemoryOrderStore:
    """An :class:`OrderStore` in memory, keeping a copy of every save (for tests)."""

    def __init__(self) -> None:
        self.orders: dict[str, OrderRecord] = {}
        self.saves: list[OrderRecord] = []

    def save(self, order: OrderRecord) -> None:
        copy = replace(order)
        self.orders[order.client_order_id] = copy
        self.saves.append(copy)

    def unresolved(self) -> list[OrderRecord]:
        return [replace(o) for o in self.orders.values() if o.unresolved]

    def statuses(self, client_order_id: str) -> list[OrderStatus]:
        return [o.status for o in self.saves if o.client_order_id == client_order_id]


def readable(exc: BaseException) -> str:
    """The exchange's own message, without ccxt's exchange-id prefix and JSON wrapping."""
    text = re.sub(r"(https?://[^\s?]+)\?\S*", r"\1", " ".join(str(exc).split()))  # no signed query strings
    body = re.search(r"\{.*\}", text)
    if body:
        try:
            parsed = json.loads(body.group(0))
        except ValueError:
            parsed = None
        if isinstance(parsed, dict) and (parsed.get("msg") or parsed.get("message")):
            return str(parsed.get("msg") or parsed.get("message"))
    first, _, rest = text.partition(" ")
    return rest if rest and first.isalnum() and first.islower() else text or type(exc).__name__
