"""What the Live workspace shows of a session, as text: pure functions of the engine's records,
so the screen only places them and tests can read the same cells."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional


@dataclass
class BookView:
    """One symbol as the table shows it; equity follows the last price drawn."""

    position: Any = None  # engine.records.OpenPosition (a copy) or None
    last: Optional[float] = None
    balance: float = 0.0

    @property
    def equity(self) -> float:
        pos, last = self.position, self.last
        return self.balance if pos is None or last is None else self.balance + pos.unrealized_pnl(last)


def num(value: Optional[float], fmt: str = ",.2f") -> str:
    return "—" if value is None else format(value, fmt)


def position_cells(symbol: str, view: BookView) -> list[str]:
    pos = view.position
    if pos is None:
        return [symbol, "flat", "—", "—", "—", num(view.last), "—", "—", "—", "—", "—", "—", "—"]
    upnl = pos.unrealized_pnl(view.last) if view.last is not None else None
    basis = pos.avg_entry_price * pos.current_size
    pct = None if upnl is None or not basis else upnl / basis * 100
    trail = "—" if pos.trailing_stop is None else f"{pos.trailing_stop:,.2f}{'' if pos.trailing_active else ' (armed)'}"
    return [symbol, pos.side.value, f"{pos.current_size:.6g}", f"{pos.original_size:.6g}",
            num(pos.avg_entry_price), num(view.last), num(upnl, "+,.2f"), num(pct, "+.2f"),
            num(pos.stop_loss), num(pos.take_profit), trail,
            f"{pos.partial_exits_done}/{len(pos.policy.exit_targets)}", str(pos.scale_ins_done)]


def fill_cells(symbol: str, fill: Any) -> list[str]:
    what = f"{fill.kind.value.replace('_', ' ')} {fill.side.value} {fill.qty:.4g} @ {fill.price:,.2f}"
    pnl = f"{fill.pnl:+,.2f}" if fill.kind.value in ("exit", "partial_exit") else ""
    return [f"bar {fill.bar}", symbol, what, pnl]


def order_cells(order: Any) -> list[str]:
    return [order.symbol, order.side, order.kind, f"{order.qty:.6g}", str(order.status).lower(),
            num(order.avg_price) if order.filled_qty else "—"]
