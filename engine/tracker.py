"""The position tracker: the only code that mutates a position.

Open, scale in, partial exit, close, apply a trailing update, move SL/TP. It applies
the executions a broker gives it (price, quantity, fee, slippage) and returns typed
records; the caller (the engine) books ``fill.pnl`` into its balance and persists.

Realised PnL of an exit fill = (exit - avg_entry) * qty * sign - fee; an entry fill's
PnL is its fee (negative). Average entry is a moving cost basis: a scale-in is weighted
against the size still open; exits never change it. A Trade's PnL is the sum over its
fills; ``pnl_pct`` is PnL over the total entry notional (cost basis including scale-ins).
"""

from __future__ import annotations

from typing import NamedTuple, Optional

from engine.broker import Execution
from engine.errors import InputError
from engine.enums import ExitReason, FillKind, Side
from engine.policy import ExitPolicy
from engine.fast import fast_new
from engine.records import FillRecord, OpenPosition, TradeRecord
from engine.risk import stop_and_target
from engine.trailing import TrailingUpdate

# Quantities below this fraction of the original size are rounding dust, not a position.
DUST = 1e-9


class OpenResult(NamedTuple):
    position: OpenPosition
    fill: FillRecord


class ExitResult(NamedTuple):
    fill: FillRecord
    trade: Optional[TradeRecord]  # set when the exit closed the position


_open_result = fast_new(OpenResult)
_exit_result = fast_new(ExitResult)


class PositionTracker:
    """Stateless: every method works on the position it is given."""

    @staticmethod
    def open(
        trade_no: int, side: Side, bar: int, fill: Execution, policy: ExitPolicy, reason: str = "signal"
    ) -> OpenResult:
        price, qty, fee, slip = fill
        if not qty > 0.0:
            raise InputError(f"cannot open a position of size {qty!r}")
        sl, tp = stop_and_target(side, price, policy)
        # Positional, in field order: a backtest opens tens of thousands of positions and
        # keyword arguments cost three times as much here.
        pos = OpenPosition(
            trade_no, side, side.sign, bar, price, qty, qty, price, policy, sl, tp,
            False, None,  # trailing: not active, no stop yet
            price, price, price, price,  # trailing peaks and excursion range start at the fill
            0, 0,  # partial exits, scale-ins done
            qty, price * qty, 0.0, 0.0,  # entered qty and notional, exited qty and notional
            -fee, fee, slip,
        )
        return _open_result((pos, FillRecord(trade_no, FillKind.ENTRY, side, bar, price, qty, fee, slip, -fee, reason, price)))

    @staticmethod
    def scale_in(
        pos: OpenPosition, bar: int, fill: Execution, reason: str = "scale_in", counts_as_policy: bool = True
    ) -> FillRecord:
        price, qty, fee, slip = fill
        if not qty > 0.0:
            raise InputError(f"cannot scale in by {qty!r}")
        pos.entered_qty += qty
        pos.entry_notional += price * qty
        pos.avg_entry_price = (pos.avg_entry_price * pos.current_size + price * qty) / (pos.current_size + qty)
        pos.current_size += qty
        if counts_as_policy:
            pos.scale_ins_done += 1
        pos.realized_pnl -= fee
        pos.fees_paid += fee
        pos.slippage_paid += slip
        PositionTracker.lived_through(pos, price, price)
        return FillRecord(pos.trade_no, FillKind.SCALE_IN, pos.side, bar, price, qty, fee, slip, -fee, reason, pos.avg_entry_price)

    @staticmethod
    def skip_scale_in(pos: OpenPosition) -> None:
        """A policy scale-in that could not be taken (e.g. the leverage cap) is used up."""
        pos.scale_ins_done += 1

    @staticmethod
    def exit(
        pos: OpenPosition, bar: int, fill: Execution, reason: ExitReason, counts_as_target: bool = False
    ) -> ExitResult:
        """Apply an exit of ``fill.qty``; an exit of everything open (to dust) closes the trade."""
        price, qty, fee, slip = fill
        if not qty > 0.0:
            raise InputError(f"cannot exit a quantity of {qty!r}")
        if qty > pos.current_size * (1.0 + DUST) + DUST * pos.original_size:
            raise InputError(f"cannot exit {qty:.8g}: only {pos.current_size:.8g} is open")
        if counts_as_target:
            pos.partial_exits_done += 1
        closes = qty >= pos.current_size - DUST * pos.original_size
        pnl = (price - pos.avg_entry_price) * qty * pos.sign - fee
        pos.current_size = 0.0 if closes else pos.current_size - qty
        pos.exited_qty += qty
        pos.exit_notional += price * qty
        pos.realized_pnl += pnl
        pos.fees_paid += fee
        pos.slippage_paid += slip
        PositionTracker.lived_through(pos, price, price)
        kind = FillKind.EXIT if closes else FillKind.PARTIAL_EXIT
        fill_record = FillRecord(pos.trade_no, kind, pos.side, bar, price, qty, fee, slip, pnl, reason.value, pos.avg_entry_price)
        if not closes:
            return _exit_result((fill_record, None))
        trade = TradeRecord(
            pos.trade_no, pos.side, pos.entry_bar, bar,
            pos.entry_notional / pos.entered_qty, pos.exit_notional / pos.exited_qty, pos.entered_qty,
            pos.realized_pnl, pos.realized_pnl / pos.entry_notional * 100.0, pos.fees_paid, pos.slippage_paid,
            reason, pos.mfe_pct(), pos.mae_pct(),
        )
        return _exit_result((fill_record, trade))

    @staticmethod
    def lived_through(pos: OpenPosition, low: float, high: float) -> None:
        """Widen the position's excursion range by prices it was open for."""
        if low < pos.excursion_low:
            pos.excursion_low = low
        if high > pos.excursion_high:
            pos.excursion_high = high

    @staticmethod
    def apply_trailing(pos: OpenPosition, update: TrailingUpdate) -> None:
        high_water, low_water, pos.trailing_active, pos.trailing_stop = update
        pos.high_water = high_water
        pos.low_water = low_water
        # The trailing peaks are the bars' full ranges, all of which the position lived through.
        PositionTracker.lived_through(pos, low_water, high_water)

    @staticmethod
    def move_stops(
        pos: OpenPosition, *, stop_loss: Optional[float] = None, take_profit: Optional[float] = None,
        clear_stop: bool = False, clear_target: bool = False,
    ) -> None:
        for name, value in (("stop-loss", stop_loss), ("take-profit", take_profit)):
            if value is not None and not value > 0.0:
                raise InputError(f"{name} must be a positive price, got {value!r}")
        if stop_loss is not None or clear_stop:
            pos.stop_loss = stop_loss
        if take_profit is not None or clear_target:
            pos.take_profit = take_profit
