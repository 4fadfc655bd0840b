"""The position tracker: the only code that mutates a position.

Open, scale in, partial exit, close, apply a trailing update, move SL/TP. Each call
prices its fill through the cost calculator and returns typed records; the caller
(backtest, replay, live session) books ``fill.pnl`` into its balance and persists.

Realised PnL of an exit fill = (exit - avg_entry) * qty * sign - fee; an entry fill's
PnL is its fee (negative). Average entry is size-weighted over entry fills and never
changed by exits. A Trade's PnL is the sum over its fills; ``pnl_pct`` is PnL over
the total entry notional (cost basis including scale-ins).
"""

from __future__ import annotations

from typing import NamedTuple, Optional

from engine.costs import CostModel
from engine.errors import InputError
from engine.enums import ExitReason, FillKind, Side
from engine.policy import ExitPolicy
from engine.records import FillRecord, OpenPosition, TradeRecord
from engine.risk import stop_and_target
from engine.trailing import TrailingUpdate

# Quantities below this fraction of the original size are rounding dust, not a position.
DUST = 1e-9


class OpenResult(NamedTuple):
    position: OpenPosition
    fill: FillRecord


class CloseResult(NamedTuple):
    fill: FillRecord
    trade: TradeRecord


class ExitResult(NamedTuple):
    fill: FillRecord
    trade: Optional[TradeRecord]  # set when the exit closed the position


class PositionTracker:
    def __init__(self, costs: CostModel) -> None:
        self.costs = costs

    def open(
        self,
        trade_no: int,
        side: Side,
        bar: int,
        ref_price: float,
        qty: float,
        policy: ExitPolicy,
        reason: str = "signal",
    ) -> OpenResult:
        if not qty > 0.0:
            raise InputError(f"cannot open a position of size {qty!r}")
        sign = side.sign
        price, fee, slip = self.costs.execute(ref_price, qty, sign > 0, True)
        sl, tp = stop_and_target(side, price, policy)
        pos = OpenPosition(
            trade_no=trade_no, side=side, sign=sign, entry_bar=bar, entry_price=price,
            original_size=qty, current_size=qty, avg_entry_price=price, policy=policy,
            stop_loss=sl, take_profit=tp, high_water=price, low_water=price,
            entered_qty=qty, entry_notional=price * qty, realized_pnl=-fee, fees_paid=fee,
            slippage_paid=slip,
        )
        fill = FillRecord(trade_no, FillKind.ENTRY, side, bar, price, qty, fee, slip, -fee, reason)
        return OpenResult(pos, fill)

    def scale_in(self, pos: OpenPosition, bar: int, ref_price: float, qty: float, reason: str = "scale_in") -> FillRecord:
        if not qty > 0.0:
            raise InputError(f"cannot scale in by {qty!r}")
        price, fee, slip = self.costs.execute(ref_price, qty, pos.sign > 0, True)
        pos.entered_qty += qty
        pos.entry_notional += price * qty
        pos.avg_entry_price = (pos.avg_entry_price * pos.current_size + price * qty) / (pos.current_size + qty)
        pos.current_size += qty
        pos.scale_ins_done += 1
        pos.realized_pnl -= fee
        pos.fees_paid += fee
        pos.slippage_paid += slip
        return FillRecord(pos.trade_no, FillKind.SCALE_IN, pos.side, bar, price, qty, fee, slip, -fee, reason)

    def _exit_fill(
        self, pos: OpenPosition, bar: int, ref_price: float, qty: float, market: bool, kind: FillKind, reason: str
    ) -> FillRecord:
        price, fee, slip = self.costs.execute(ref_price, qty, pos.sign < 0, market)
        pnl = (price - pos.avg_entry_price) * qty * pos.sign - fee
        pos.current_size -= qty
        pos.exited_qty += qty
        pos.exit_notional += price * qty
        pos.realized_pnl += pnl
        pos.fees_paid += fee
        pos.slippage_paid += slip
        return FillRecord(pos.trade_no, kind, pos.side, bar, price, qty, fee, slip, pnl, reason)

    def _trade(self, pos: OpenPosition, bar: int, reason: ExitReason) -> TradeRecord:
        pos.current_size = 0.0
        return TradeRecord(
            pos.trade_no, pos.side, pos.entry_bar, bar,
            pos.entry_notional / pos.entered_qty, pos.exit_notional / pos.exited_qty, pos.entered_qty,
            pos.realized_pnl, pos.realized_pnl / pos.entry_notional * 100.0, pos.fees_paid, pos.slippage_paid,
            reason, pos.mfe_pct(), pos.mae_pct(),
        )

    def partial_exit(
        self,
        pos: OpenPosition,
        bar: int,
        ref_price: float,
        qty: float,
        reason: ExitReason = ExitReason.PARTIAL_TARGET,
        market: bool = False,
        counts_as_target: bool = True,
    ) -> ExitResult:
        """Exit ``qty`` (capped at what is open); closes the position if nothing would remain."""
        if not qty > 0.0:
            raise InputError(f"cannot exit a quantity of {qty!r}")
        if counts_as_target:
            pos.partial_exits_done += 1
        if qty >= pos.current_size - DUST * pos.original_size:
            fill = self._exit_fill(pos, bar, ref_price, pos.current_size, market, FillKind.EXIT, reason.value)
            return ExitResult(fill, self._trade(pos, bar, reason))
        fill = self._exit_fill(pos, bar, ref_price, qty, market, FillKind.PARTIAL_EXIT, reason.value)
        return ExitResult(fill, None)

    def close(self, pos: OpenPosition, bar: int, ref_price: float, reason: ExitReason, market: bool = True) -> CloseResult:
        fill = self._exit_fill(pos, bar, ref_price, pos.current_size, market, FillKind.EXIT, reason.value)
        return CloseResult(fill, self._trade(pos, bar, reason))

    def apply_trailing(self, pos: OpenPosition, update: TrailingUpdate) -> None:
        pos.high_water = update.high_water
        pos.low_water = update.low_water
        pos.trailing_active = update.active
        pos.trailing_stop = update.stop

    def move_stops(
        self, pos: OpenPosition, *, stop_loss: Optional[float] = None, take_profit: Optional[float] = None,
        clear_stop: bool = False, clear_target: bool = False,
    ) -> None:
        for name, value in (("stop-loss", stop_loss), ("take-profit", take_profit)):
            if value is not None and not value > 0.0:
                raise InputError(f"{name} must be a positive price, got {value!r}")
        if stop_loss is not None or clear_stop:
            pos.stop_loss = stop_loss
        if take_profit is not None or clear_target:
            pos.take_profit = take_profit
