"""In-memory position, fill and trade records used while a session runs.

These are plain slotted dataclasses, not SQLModel rows: a backtest creates tens of
thousands of them and must stay fast. :mod:`engine.store` maps them to the
``Position``/``Fill``/``Trade`` tables. Bars are referenced by index; times are
resolved against the candles when a run is stored or printed.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Optional

from engine.enums import ExitReason, FillKind, Side
from engine.policy import ExitPolicy


def mark_to_market(signed_qty: float, avg_entry: float, price: float) -> float:
    """Open PnL of ``signed_qty`` (negative when short) bought/sold at ``avg_entry``, at ``price``."""
    return signed_qty * (price - avg_entry)


@dataclass(slots=True)
class FillRecord:
    trade_no: int
    kind: FillKind
    side: Side  # side of the position the fill belongs to
    bar: int
    price: float  # executed price, slippage included
    qty: float
    fee: float
    slippage: float  # cost of slippage in quote currency
    pnl: float  # realised PnL of this fill, fees included (entries: -fee)
    reason: str = ""
    avg_entry: float = 0.0  # the position's moving average entry after this fill


@dataclass(slots=True)
class TradeRecord:
    trade_no: int
    side: Side
    entry_bar: int
    exit_bar: int
    entry_price: float  # size-weighted average entry
    exit_price: float  # size-weighted average exit
    size: float  # total quantity entered (original + scale-ins)
    pnl: float
    pnl_pct: float  # PnL / total entry notional, in %
    fees: float
    slippage: float
    exit_reason: ExitReason
    mfe_pct: float
    mae_pct: float

    @property
    def duration_bars(self) -> int:
        return self.exit_bar - self.entry_bar


@dataclass(slots=True)
class OpenPosition:
    """State of one open position. Only :class:`engine.tracker.PositionTracker` mutates it."""

    trade_no: int
    side: Side
    sign: int
    entry_bar: int
    entry_price: float
    original_size: float
    current_size: float
    avg_entry_price: float
    policy: ExitPolicy
    stop_loss: Optional[float] = None
    take_profit: Optional[float] = None
    trailing_active: bool = False
    trailing_stop: Optional[float] = None
    high_water: float = 0.0  # highest high of the bars closed while open (long trailing peak)
    low_water: float = 0.0  # lowest low of the bars closed while open (short trailing peak)
    # Every price the position lived through (fills and the part of each bar it was open
    # for, the exit bar included): MFE/MAE come from these, not from the trailing peaks.
    excursion_high: float = 0.0
    excursion_low: float = 0.0
    partial_exits_done: int = 0
    scale_ins_done: int = 0
    entered_qty: float = 0.0
    entry_notional: float = 0.0  # cost basis: sum of price * qty over entry fills
    exited_qty: float = 0.0
    exit_notional: float = 0.0
    realized_pnl: float = 0.0
    fees_paid: float = 0.0
    slippage_paid: float = 0.0
    entry_order_id: Optional[str] = None
    exit_order_ids: list[str] = field(default_factory=list)

    @property
    def trailing_peak(self) -> float:
        return self.high_water if self.sign > 0 else self.low_water

    def unrealized_pnl(self, price: float) -> float:
        return mark_to_market(self.current_size * self.sign, self.avg_entry_price, price)

    def effective_stop(self) -> Optional[float]:
        """The tighter of the fixed stop-loss and the trailing stop."""
        sl, ts = self.stop_loss, self.trailing_stop
        if ts is None:
            return sl
        if sl is None:
            return ts
        return max(sl, ts) if self.sign > 0 else min(sl, ts)

    def mfe_pct(self) -> float:
        best = self.excursion_high if self.sign > 0 else self.excursion_low
        return max(0.0, (best - self.entry_price) / self.entry_price * 100.0 * self.sign)

    def mae_pct(self) -> float:
        worst = self.excursion_low if self.sign > 0 else self.excursion_high
        return min(0.0, (worst - self.entry_price) / self.entry_price * 100.0 * self.sign)

    def copy(self) -> "OpenPosition":
        """An independent copy (the policy is immutable and shared)."""
        twin = copy.copy(self)
        twin.exit_order_ids = list(self.exit_order_ids)
        return twin
