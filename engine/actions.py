"""Manual actions and the one conversion of amounts into base quantities.

A trader (in a replay or a live session) and a policy (partial targets, scale-ins)
express sizes differently: % of what is open, a fraction of the ORIGINAL size, a base
quantity, or a quote amount. :func:`to_base_qty` is the only place any of these
becomes a quantity. :class:`ManualAction` is the one type for every manual action;
:class:`Preview` is what applying one would do, computed by the same code that applies
it (:meth:`engine.core.Engine.preview`).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Any, NamedTuple, Optional

from engine.enums import Side
from engine.errors import InputError
from engine.records import FillRecord, OpenPosition, TradeRecord


class AmountUnit(str, enum.Enum):
    PERCENT = "percent"  # % of the size open now
    FRACTION = "fraction_of_original"  # fraction of the size at entry
    BASE = "base"  # base-currency quantity
    QUOTE = "quote"  # quote-currency amount at the fill's reference price


class Amount(NamedTuple):
    value: float
    unit: AmountUnit = AmountUnit.PERCENT

    def describe(self) -> str:
        if self.unit is AmountUnit.PERCENT:
            return f"{self.value:g} % of the open size"
        if self.unit is AmountUnit.FRACTION:
            return f"{self.value:g} x the original size"
        if self.unit is AmountUnit.BASE:
            return f"{self.value:g} base units"
        return f"{self.value:g} in quote currency"


def to_base_qty(amount: Amount, position: Optional[OpenPosition], price: float) -> float:
    """Base quantity for ``amount`` against ``position`` at reference ``price``.

    Raises :class:`InputError` for an amount that is not a positive finite number, a
    percentage over 100, or a position-relative amount with no position.
    """
    v = amount.value
    if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v) or v <= 0.0:
        raise InputError(f"amount must be a positive number, got {v!r}")
    unit = amount.unit
    if unit is AmountUnit.BASE:
        return float(v)
    if unit is AmountUnit.QUOTE:
        if not (math.isfinite(price) and price > 0.0):
            raise InputError(f"cannot convert a quote amount at price {price!r}")
        return v / price
    if position is None:
        raise InputError(f"an amount in {unit.value.replace('_', ' ')} needs an open position")
    if unit is AmountUnit.PERCENT:
        if v > 100.0:
            raise InputError(f"amount must be at most 100 % of the open size, got {v:g} %")
        return position.current_size * v / 100.0
    return position.original_size * v


class ActionKind(str, enum.Enum):
    OPEN = "open"
    SCALE_IN = "scale_in"
    PARTIAL_EXIT = "partial_exit"
    CLOSE = "close"
    MOVE_STOPS = "move_stops"


@dataclass(frozen=True, slots=True)
class ManualAction:
    """One manual action. ``amount`` sizes OPEN / SCALE_IN / PARTIAL_EXIT (OPEN without
    one uses the run's sizing); ``side`` is OPEN's; MOVE_STOPS (and OPEN) set absolute
    stop-loss / take-profit prices, or clear them."""

    kind: ActionKind
    amount: Optional[Amount] = None
    side: Optional[Side] = None
    stop_loss: Optional[float] = None
    take_profit: Optional[float] = None
    clear_stop: bool = False
    clear_target: bool = False

    def describe(self) -> str:
        parts = [self.kind.value.replace("_", " ")]
        if self.side is not None:
            parts.append(self.side.value)
        if self.amount is not None:
            parts.append(self.amount.describe())
        if self.stop_loss is not None or self.clear_stop:
            parts.append("SL " + ("cleared" if self.clear_stop else f"{self.stop_loss:g}"))
        if self.take_profit is not None or self.clear_target:
            parts.append("TP " + ("cleared" if self.clear_target else f"{self.take_profit:g}"))
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"do": self.kind.value}
        if self.amount is not None:
            d[self.amount.unit.value] = self.amount.value
        if self.side is not None:
            d["side"] = self.side.value
        for key in ("stop_loss", "take_profit"):
            if getattr(self, key) is not None:
                d[key] = getattr(self, key)
        if self.clear_stop:
            d["clear_stop"] = True
        if self.clear_target:
            d["clear_target"] = True
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ManualAction":
        """From ``{"do": "partial_exit", "percent": 50}`` and the like; InputError naming the problem."""
        known = {"do", "side", "stop_loss", "take_profit", "clear_stop", "clear_target", "at", "bar"} | {u.value for u in AmountUnit}
        unknown = sorted(set(d) - known)
        if unknown:
            raise InputError(f"unknown key {unknown[0]!r} in action (keys: {', '.join(sorted(known))})")
        try:
            kind = ActionKind(d.get("do"))
        except ValueError:
            raise InputError(f"'do' must be one of {', '.join(k.value for k in ActionKind)}, got {d.get('do')!r}") from None
        units = [u for u in AmountUnit if u.value in d]
        if len(units) > 1:
            raise InputError(f"give one amount, not {' and '.join(u.value for u in units)}")
        amount = None
        if units:
            value = _number(d[units[0].value], units[0].value)
            if not (math.isfinite(value) and value > 0.0):
                raise InputError(f"amount must be a positive number, got {units[0].value}={value!r}")
            amount = Amount(value, units[0])
        side = None
        if "side" in d:
            try:
                side = Side(d["side"])
            except ValueError:
                raise InputError(f"'side' must be long or short, got {d['side']!r}") from None
        return cls(
            kind, amount, side,
            stop_loss=_number(d["stop_loss"], "stop_loss") if d.get("stop_loss") is not None else None,
            take_profit=_number(d["take_profit"], "take_profit") if d.get("take_profit") is not None else None,
            clear_stop=bool(d.get("clear_stop", False)), clear_target=bool(d.get("clear_target", False)),
        )


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{what!r} must be a number, got {value!r}")
    return float(value)


@dataclass(frozen=True, slots=True)
class Preview:
    """What an action does (or would do): the fills it makes and the position after it."""

    action: ManualAction
    price: float  # the reference price it was priced at
    qty: float  # base quantity traded (0 for MOVE_STOPS)
    fill_price: Optional[float]  # executed price, slippage included
    size_after: float
    avg_entry_after: Optional[float]
    realized_pnl: float  # of this action's fills, fees included
    fees: float
    balance_after: float
    stop_loss_after: Optional[float]
    take_profit_after: Optional[float]
    fills: tuple[FillRecord, ...] = ()
    trade: Optional[TradeRecord] = None  # set when the action closed the position

    @property
    def closes_position(self) -> bool:
        return self.trade is not None
