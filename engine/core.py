"""The steppable engine: one per-bar step shared by the backtest, the replay and the live session.

A bar is processed in three phases (DESIGN.md, "Simulated fills"):

* **open** - the pending market order fills at the open (a reversal closes and opens
  there), or a position held too long is closed there;
* **intrabar** - the resting levels known at the bar's start (stop, partial targets,
  take-profit, scale-ins) fill in the order the broker's pessimistic bar path reaches
  them, one action at a time; then the trailing peak moves;
* **close** - a change of the strategy's direction becomes an order for the next open.

Drivers: :class:`engine.backtest.Backtest` loops over arrays (skipping quiet bars and
owning the end of the data), the replay steps, restores snapshots and injects manual
actions, the live session feeds bars as they close. None of them fills, sizes or
converts anything itself.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Callable, Optional

from engine.actions import ActionKind, Amount, AmountUnit, ManualAction, Preview, to_base_qty
from engine.broker import BarPath, Broker, SimulatedBroker
from engine.config import BacktestSettings
from engine.enums import ExitReason, Side
from engine.errors import InputError
from engine.fast import fast_new
from engine.levels import SCALE_IN, Level, PartialExitAction, ScaleInAction
from engine.partials import PartialOperationsManager
from engine.policy import ExitPolicy
from engine.records import FillRecord, OpenPosition, TradeRecord
from engine.risk import leverage_room, position_size, stop_level, time_exit_bar
from engine.state import EngineState, Journal, JournalMark, Note, PendingOrder, Snapshot
from engine.strategies.base import Decision
from engine.tracker import DUST, PositionTracker
from engine.trailing import TrailingStopManager, TrailingUpdate

Decide = Callable[[int, int, ExitPolicy], Decision]


_pending = fast_new(PendingOrder)


def _keep_direction(_bar: int, direction: int, policy: ExitPolicy) -> Decision:
    return Decision(direction, policy)


@dataclass
class BarReport:
    """What one step did. ``position`` is a copy: later steps do not change it."""

    bar: int
    balance: float
    equity: float
    position: Optional[OpenPosition]
    fills: list[FillRecord]
    trades: list[TradeRecord]
    in_market: bool  # a position was open at some moment of this bar
    notes: list[Note]


class Engine:
    def __init__(self, settings: BacktestSettings, decide: Decide = _keep_direction, broker: Optional[Broker] = None) -> None:
        self.settings = settings
        self.decide = decide
        self.broker: Broker = broker if broker is not None else SimulatedBroker(settings.costs)
        self.tracker = PositionTracker()
        self.trailing = TrailingStopManager()
        self.partials = PartialOperationsManager()
        self.state = EngineState(settings.balance)
        self.journal = Journal()
        self._levels_key: object = None
        self._levels: list[Level] = []

    # ------------------------------------------------------------------ state
    def snapshot(self) -> Snapshot:
        return Snapshot(self.state.copy(), self.journal.mark())

    def restore(self, snapshot: Snapshot) -> None:
        self.state = snapshot.state.copy()
        self.journal.truncate(snapshot.mark)

    def _in_market(self, bar: int) -> None:
        st = self.state
        if bar > st.last_market_bar:
            st.bars_in_market += 1
            st.last_market_bar = bar

    def _segment(self, bar: int) -> None:
        self.journal.record(bar, self.state.balance, self.state.position)

    # ------------------------------------------------------------------ fills
    def _book(self, fill: FillRecord) -> None:
        self.journal.fills.append(fill)
        self.state.balance += fill.pnl

    def _exit(self, bar: int, pos: OpenPosition, fill_qty: float, ref: float, reason: ExitReason,
              market: bool, counts_as_target: bool = False) -> Optional[TradeRecord]:
        buy = pos.sign < 0
        exe = self.broker.market(ref, fill_qty, buy) if market else self.broker.limit(ref, fill_qty, buy)
        fill, trade = self.tracker.exit(pos, bar, exe, reason, counts_as_target)
        self._book(fill)
        if trade is not None:
            self.journal.trades.append(trade)
            self.state.position = None
        return trade

    def _close(self, bar: int, ref: float, reason: ExitReason) -> TradeRecord:
        pos = self.state.position
        assert pos is not None
        trade = self._exit(bar, pos, pos.current_size, ref, reason, True)
        assert trade is not None
        return trade

    def _open(self, bar: int, ref: float, side: Side, qty: float, policy: ExitPolicy, reason: str) -> OpenPosition:
        st = self.state
        st.trade_no += 1
        exe = self.broker.market(ref, qty, side is Side.LONG)
        pos, fill = self.tracker.open(st.trade_no, side, bar, exe, policy, reason)
        st.position = pos
        self._book(fill)
        self._in_market(bar)
        return pos

    def _room(self, ref: float, open_size: float, buy: bool) -> float:
        """Quantity that can still be bought (long) or sold (short) at market before the leverage cap."""
        price = self.settings.costs.execute(ref, 1.0, buy, True)[0]  # the price a market order would get
        return leverage_room(self.settings.sizing, self.state.equity(ref), open_size, price)

    # ------------------------------------------------------------------ policy actions
    def _fire(self, bar: int, pos: OpenPosition, level: Level, ref: float) -> bool:
        """Apply what is due at ``level``; True when it closed the position."""
        due = level.due
        if isinstance(due, ExitReason):
            self._close(bar, ref, due)
            return True
        qty = to_base_qty(Amount(due.fraction_of_original, AmountUnit.FRACTION), pos, ref)
        if isinstance(due, PartialExitAction):
            reason = ExitReason.TAKE_PROFIT if due.is_take_profit else ExitReason.PARTIAL_TARGET
            qty = min(qty, pos.current_size)
            return self._exit(bar, pos, qty, ref, reason, False, not due.is_take_profit) is not None
        assert isinstance(due, ScaleInAction)
        self._policy_scale_in(bar, pos, due, qty, ref)
        return False

    def _policy_scale_in(self, bar: int, pos: OpenPosition, due: ScaleInAction, qty: float, ref: float) -> None:
        buy = pos.sign > 0
        room = self._room(ref, pos.current_size, buy)
        cap = self.settings.sizing.max_leverage
        if room <= DUST * pos.original_size:
            self.tracker.skip_scale_in(pos)
            self.journal.notes.append(Note(bar, "scale_in_skipped", f"scale-in #{due.index + 1} skipped: the position is at the {cap:g}x leverage cap"))
            return
        if qty > room:
            self.journal.notes.append(Note(bar, "scale_in_capped", f"scale-in #{due.index + 1} cut from {qty:.8g} to {room:.8g} by the {cap:g}x leverage cap"))
            qty = room
        self._book(self.tracker.scale_in(pos, bar, self.broker.market(ref, qty, buy)))

    # ------------------------------------------------------------------ the three phases
    def open_phase(self, bar: int, bar_open: float) -> None:
        """The pending market order fills at the open; a position held too long closes there."""
        st = self.state
        pending = st.pending
        pos = st.position
        if pos is not None:
            self._in_market(bar)
        if pending is not None:
            st.pending = None
            if pos is not None and pending.close_reason is not None:
                self._close(bar, bar_open, pending.close_reason)
            decision = pending.decision
            if decision.direction != 0 and st.position is None:
                policy = decision.policy or self.settings.policy
                qty = position_size(self.settings.sizing, st.balance, bar_open, policy.stop_loss_pct)
                if qty > 0.0:  # else: nothing left to trade with
                    self._open(bar, bar_open, Side.LONG if decision.direction > 0 else Side.SHORT, qty, policy, "signal")
            self._segment(bar)
        elif pos is not None and pos.policy.max_holding_bars is not None and bar >= time_exit_bar(pos):  # type: ignore[operator]
            self._close(bar, bar_open, ExitReason.TIME_EXIT)
            self._segment(bar)

    def policy_levels(self, pos: OpenPosition, avg_at_start: float) -> list[Level]:
        """The partial-operations manager's levels, remembered while nothing they depend on
        changes: the backtest's scanner and the intrabar phase ask for them on every event."""
        # Everything levels() reads. A restored snapshot can bring back a trade number with
        # another entry or policy, so those are part of the key too.
        key = (pos.trade_no, pos.partial_exits_done, pos.scale_ins_done, pos.take_profit, avg_at_start,
               pos.entry_price, pos.policy)
        if key != self._levels_key:
            self._levels_key = key
            self._levels = self.partials.levels(pos, avg_at_start)
        return self._levels

    def intrabar(self, bar: int, bar_open: float, high: float, low: float) -> None:
        """Resting levels fill one at a time along the bar's path; then the trailing peak moves."""
        pos = self.state.position
        assert pos is not None
        self._in_market(bar)
        path = BarPath(pos.sign, bar_open, high, low)
        avg0 = pos.avg_entry_price
        stop = stop_level(pos)  # known at the bar's start; nothing in the bar moves it
        here = 0.0
        while True:
            levels = self.policy_levels(pos, avg0)
            hit = path.first_reached(levels if stop is None else [*levels, stop], here)
            if hit is None:
                break
            here, ref, level = hit
            if level.priority != SCALE_IN:  # an exit may end the trade: it lived through the path so far
                self.tracker.lived_through(pos, *path.range_until(here))
            if self._fire(bar, pos, level, ref):
                break
        if self.state.position is not None:
            self.tracker.apply_trailing(pos, self.trailing.update(pos, high, low))
        self._segment(bar)

    def hold_quiet(self, first: int, end: int, update: TrailingUpdate) -> None:
        """Bars ``first..end-1`` were quiet (nothing could fill): only the trailing state moved."""
        st = self.state
        pos = st.position
        assert pos is not None
        self.tracker.apply_trailing(pos, update)
        start = max(first, st.last_market_bar + 1)
        if end > start:
            st.bars_in_market += end - start
            st.last_market_bar = end - 1

    def close_phase(self, bar: int, direction: int) -> None:
        """A change of the strategy's direction becomes an order for the next open."""
        st = self.state
        if direction == st.direction:
            return
        st.direction = direction
        pos = st.position
        if pos is not None and direction == pos.sign:
            return
        if pos is None and direction == 0:
            return
        decision = self.decide(bar, direction, self.settings.policy)
        close_reason = None
        if pos is not None:
            close_reason = ExitReason.REVERSAL if direction == -pos.sign else ExitReason.SIGNAL
        st.pending = _pending((close_reason, decision))

    def step(self, bar: int, bar_open: float, high: float, low: float, close: float, direction: int) -> BarReport:
        """Process one bar: open, intrabar, close."""
        mark = self.journal.mark()
        self.open_phase(bar, bar_open)
        if self.state.position is not None:
            self.intrabar(bar, bar_open, high, low)
        self.close_phase(bar, direction)
        self.state.bar = bar + 1
        return self.report(bar, close, mark)

    def report(self, bar: int, close: float, since: JournalMark) -> BarReport:
        """What happened in ``bar`` (the journal's entries after ``since``), at its ``close``."""
        st, j = self.state, self.journal
        fills, trades, notes, _ = since
        pos = st.position
        return BarReport(
            bar, st.balance, st.equity(close), None if pos is None else pos.copy(),
            j.fills[fills:], j.trades[trades:], st.last_market_bar == bar, j.notes[notes:],
        )

    # ------------------------------------------------------------------ driver services
    def cancel_pending(self) -> None:
        self.state.pending = None

    def flatten(self, bar: int, price: float, reason: ExitReason) -> Optional[TradeRecord]:
        """Close whatever is open at market (end of data, flatten all)."""
        if self.state.position is None:
            return None
        trade = self._close(bar, price, reason)
        self._segment(bar)
        return trade

    # ------------------------------------------------------------------ manual actions
    def preview(self, action: ManualAction, bar: int, price: float) -> Preview:
        """What :meth:`apply` would do at ``price``, computed by the same code on a copy."""
        return self._probe(SimulatedBroker(self.settings.costs))._act(action, bar, price)

    def apply(self, action: ManualAction, bar: int, price: float) -> Preview:
        """Carry out a manual action as a market order at ``price``; InputError changes nothing."""
        probe = self._probe(self.broker)
        result = probe._act(action, bar, price)
        self.state = probe.state
        self.journal.extend(probe.journal)
        return result

    def _probe(self, broker: Broker) -> "Engine":
        twin = copy.copy(self)
        twin.broker = broker
        twin.state = self.state.copy()
        twin.journal = Journal()
        return twin

    def _act(self, action: ManualAction, bar: int, price: float) -> Preview:
        if isinstance(price, bool) or not isinstance(price, (int, float)) or not math.isfinite(price) or price <= 0.0:
            raise InputError(f"price must be a positive number, got {price!r}")
        st = self.state
        pos = st.position
        kind = action.kind
        if kind is ActionKind.OPEN:
            self._manual_open(action, bar, price)
        elif pos is None:
            raise InputError(f"no open position to {kind.value.replace('_', ' ')}")
        elif kind is ActionKind.CLOSE:
            self._close(bar, price, ExitReason.MANUAL)
        elif kind is ActionKind.MOVE_STOPS:
            self._check_stops(pos.side, action, price)
            self.tracker.move_stops(
                pos, stop_loss=action.stop_loss, take_profit=action.take_profit,
                clear_stop=action.clear_stop, clear_target=action.clear_target,
            )
        else:
            if action.amount is None:
                raise InputError(f"{kind.value.replace('_', ' ')} needs an amount")
            qty = to_base_qty(action.amount, pos, price)
            if kind is ActionKind.PARTIAL_EXIT:
                if qty > pos.current_size * (1.0 + 1e-12):
                    raise InputError(f"cannot exit {qty:.8g}: only {pos.current_size:.8g} is open")
                self._exit(bar, pos, min(qty, pos.current_size), price, ExitReason.MANUAL, market=True)
            else:
                self._check_leverage(qty, pos.current_size, price, pos.sign > 0)
                self._book(self.tracker.scale_in(pos, bar, self.broker.market(price, qty, pos.sign > 0), "manual", counts_as_policy=False))
        if pos is not None or st.position is not None:
            self._in_market(bar)
        self._segment(bar)
        return self._preview_of(action, price)

    def _manual_open(self, action: ManualAction, bar: int, price: float) -> None:
        st = self.state
        if st.position is not None:
            raise InputError("a position is already open: scale in, exit part of it or close it first")
        if action.side is None:
            raise InputError("opening a position needs a side (long or short)")
        policy = self.settings.policy
        if action.amount is None:
            qty = position_size(self.settings.sizing, st.balance, price, policy.stop_loss_pct)
            if not qty > 0.0:
                raise InputError("nothing left to trade with: the balance is not positive")
        elif action.amount.unit in (AmountUnit.PERCENT, AmountUnit.FRACTION):
            raise InputError("open a position by a base quantity or a quote amount")
        else:
            qty = to_base_qty(action.amount, None, price)
        self._check_leverage(qty, 0.0, price, action.side is Side.LONG)
        self._check_stops(action.side, action, price)
        pos = self._open(bar, price, action.side, qty, policy, "manual")
        if action.stop_loss is not None or action.take_profit is not None:
            self.tracker.move_stops(pos, stop_loss=action.stop_loss, take_profit=action.take_profit)

    def _check_leverage(self, qty: float, open_size: float, price: float, buy: bool) -> None:
        room = self._room(price, open_size, buy)
        if qty > room * (1.0 + 1e-12):
            cap = self.settings.sizing.max_leverage
            raise InputError(
                f"{qty:.8g} would take the position past the {cap:g}x leverage cap "
                f"(at most {room:.8g} more can be added at {price:g})"
            )

    @staticmethod
    def _check_stops(side: Side, action: ManualAction, price: float) -> None:
        s = side.sign
        sl, tp = action.stop_loss, action.take_profit
        for name, value in (("stop-loss", sl), ("take-profit", tp)):
            if value is not None and not (math.isfinite(value) and value > 0.0):
                raise InputError(f"{name} must be a positive price, got {value!r}")
        if sl is not None and not s * (price - sl) > 0:
            where = "below" if s > 0 else "above"
            raise InputError(f"a {side.value} stop-loss must be {where} the price {price:g}, got {sl:g}")
        if tp is not None and not s * (tp - price) > 0:
            where = "above" if s > 0 else "below"
            raise InputError(f"a {side.value} take-profit must be {where} the price {price:g}, got {tp:g}")

    def _preview_of(self, action: ManualAction, price: float) -> Preview:
        st, fills = self.state, self.journal.fills
        pos = st.position
        trade = self.journal.trades[-1] if self.journal.trades else None
        return Preview(
            action=action, price=price, qty=sum(f.qty for f in fills),
            fill_price=fills[-1].price if fills else None,
            size_after=0.0 if pos is None else pos.current_size,
            avg_entry_after=None if pos is None else pos.avg_entry_price,
            realized_pnl=sum(f.pnl for f in fills), fees=sum(f.fee for f in fills), balance_after=st.balance,
            stop_loss_after=None if pos is None else pos.stop_loss,
            take_profit_after=None if pos is None else pos.take_profit,
            fills=tuple(fills), trade=trade,
        )
