"""Risk: position size from equity, stop and target prices, the stop level, time exits."""

from __future__ import annotations

from typing import Optional

from engine.errors import InputError
from engine.enums import ExitReason, Side
from engine.levels import STOP, Level, new_level
from engine.policy import ExitPolicy, Sizing
from engine.records import OpenPosition
from engine.touch import pct_level


def position_size(sizing: Sizing, equity: float, price: float, stop_loss_pct: Optional[float]) -> float:
    """Base quantity for a new position entered at ``price``."""
    if equity <= 0.0 or price <= 0.0:
        return 0.0
    if sizing.mode == "fraction":
        return equity * sizing.fraction / price
    if not stop_loss_pct:
        raise InputError("risk-based sizing needs a stop-loss")
    qty = equity * sizing.risk_pct / 100.0 / (price * stop_loss_pct / 100.0)
    return min(qty, leverage_room(sizing, equity, 0.0, price))


def leverage_room(sizing: Sizing, equity: float, open_size: float, price: float) -> float:
    """Base quantity that can still be added at ``price`` before the position's notional
    passes ``max_leverage`` x equity (0 when it already has)."""
    if equity <= 0.0 or price <= 0.0:
        return 0.0
    return max(0.0, equity * sizing.max_leverage / price - open_size)


def stop_and_target(side: Side, entry_price: float, policy: ExitPolicy) -> tuple[Optional[float], Optional[float]]:
    s = side.sign
    sl = pct_level(entry_price, -s * policy.stop_loss_pct) if policy.stop_loss_pct else None
    tp = pct_level(entry_price, s * policy.take_profit_pct) if policy.take_profit_pct else None
    return sl, tp


def stop_level(pos: OpenPosition) -> Optional[Level]:
    """The resting stop known at the bar's start: the tighter of the stop-loss and the
    trailing stop, with the exit reason it would carry."""
    stop = pos.effective_stop()
    if stop is None:
        return None
    trailing = pos.trailing_stop is not None and stop == pos.trailing_stop and stop != pos.stop_loss
    return new_level((stop, -pos.sign, STOP, ExitReason.TRAILING_STOP if trailing else ExitReason.STOP_LOSS))


def time_exit_bar(pos: OpenPosition) -> Optional[int]:
    """The bar at whose open a position held too long is closed."""
    limit = pos.policy.max_holding_bars
    return None if limit is None else pos.entry_bar + limit
