"""Risk: position size from equity, stop and target prices, stop fills, time exits."""

from __future__ import annotations

from typing import Optional

from engine.errors import InputError
from engine.enums import ExitReason, Side
from engine.policy import ExitPolicy, Sizing
from engine.records import OpenPosition


def position_size(sizing: Sizing, equity: float, price: float, stop_loss_pct: Optional[float]) -> float:
    """Base quantity for a new position entered at ``price``."""
    if equity <= 0.0 or price <= 0.0:
        return 0.0
    if sizing.mode == "fraction":
        return equity * sizing.fraction / price
    if not stop_loss_pct:
        raise InputError("risk-based sizing needs a stop-loss")
    qty = equity * sizing.risk_pct / 100.0 / (price * stop_loss_pct / 100.0)
    return min(qty, equity * sizing.max_leverage / price)


def stop_and_target(side: Side, entry_price: float, policy: ExitPolicy) -> tuple[Optional[float], Optional[float]]:
    s = side.sign
    sl = entry_price * (1.0 - s * policy.stop_loss_pct / 100.0) if policy.stop_loss_pct else None
    tp = entry_price * (1.0 + s * policy.take_profit_pct / 100.0) if policy.take_profit_pct else None
    return sl, tp


def stop_fill(pos: OpenPosition, bar_open: float, high: float, low: float) -> Optional[tuple[float, ExitReason]]:
    """Fill reference and reason if the stop known at the bar's start is touched.

    A stop fills at its price, or at the open when the bar gaps through it.
    """
    stop = pos.effective_stop()
    if stop is None:
        return None
    if pos.sign > 0:
        if bar_open <= stop:
            ref = bar_open
        elif low <= stop:
            ref = stop
        else:
            return None
    else:
        if bar_open >= stop:
            ref = bar_open
        elif high >= stop:
            ref = stop
        else:
            return None
    trailing = pos.trailing_stop is not None and stop == pos.trailing_stop and stop != pos.stop_loss
    return ref, (ExitReason.TRAILING_STOP if trailing else ExitReason.STOP_LOSS)


def time_exit_bar(pos: OpenPosition) -> Optional[int]:
    """The bar at whose open a position held too long is closed."""
    limit = pos.policy.max_holding_bars
    return None if limit is None else pos.entry_bar + limit
