"""The bounds of every number a trader types, in one table every front-end asks.

The settings dialog, the settings file, the Backtest form and the CLI (through
:class:`engine.config.BacktestConfig`, :class:`engine.policy.ExitPolicy` and
:class:`engine.policy.Sizing`) all take fees, slippage, balances, sizing and exit
numbers. Each asks :func:`problem` here, so none accepts what another refuses: a fee
of 9.995 % saved by Settings and then refused by the form ("at most 9.99") is the
bug this module ended.

Keys are the configuration field names :class:`engine.errors.InputError` carries in
``field`` (``fee``, ``stop_loss`` ...), so the form marks the right field and the CLI
puts the right flag in front of the message.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import isfinite
from typing import Optional

from engine.errors import InputError


def _num(value: float, unit: str) -> str:
    return f"{value:g}{unit}"


@dataclass(frozen=True)
class Limit:
    """A range of numbers; an open end excludes the bound itself."""

    what: str  # the name messages use: "fee"
    low: Optional[float] = None
    high: Optional[float] = None
    low_open: bool = False
    high_open: bool = False
    unit: str = ""  # appended to numbers in messages: " %"
    whole: bool = False  # a whole number (a count of bars)
    nonzero: bool = False

    def requirement(self) -> str:
        """What a valid value is, to follow "must be": "at least 0 % and below 10 %"."""
        parts = []
        if self.low is not None:
            parts.append(("above " if self.low_open else "at least ") + _num(self.low, self.unit))
        if self.high is not None:
            parts.append(("below " if self.high_open else "at most ") + _num(self.high, self.unit))
        text = " and ".join(parts)
        if self.low is not None and self.high is not None and not (self.low_open or self.high_open):
            text = f"from {_num(self.low, self.unit)} to {_num(self.high, self.unit)}"
        if self.nonzero:
            text = f"{text} and not zero" if text else "not zero"
        if self.whole:
            text = "a whole number" + (f", {text}" if text else "")
        return text or "a number"

    def problem(self, value: float) -> Optional[str]:
        """None when ``value`` is within the range; else the sentence saying why not."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"{self.what} must be {self.requirement()}, got {value!r}"
        if not isfinite(value):
            finite = "" if self.whole else "a finite number "
            return f"{self.what} must be {finite}{self.requirement()}, got {value}"
        ok = not self.whole or float(value).is_integer()
        if ok and self.low is not None:
            ok = value > self.low if self.low_open else value >= self.low
        if ok and self.high is not None:
            ok = value < self.high if self.high_open else value <= self.high
        if ok and self.nonzero:
            ok = value != 0
        return None if ok else f"{self.what} must be {self.requirement()}, got {_num(value, self.unit)}"


PCT = " %"
LIMITS: dict[str, Limit] = {
    "balance": Limit("starting balance", low=0, low_open=True),
    "fee": Limit("fee", 0, 10, high_open=True, unit=PCT),
    "slippage": Limit("slippage", 0, 10, high_open=True, unit=PCT),
    # The size is further capped by the max leverage: a rule between two fields (engine.policy.Sizing).
    "size_fraction": Limit("size fraction", 0, 100, low_open=True),
    "max_leverage": Limit("max leverage", 0, 100, low_open=True),
    "risk_per_trade": Limit("risk per trade", 0, 100, low_open=True, unit=PCT),
    "stop_loss": Limit("stop-loss", 0, 100, low_open=True, unit=PCT),
    "take_profit": Limit("take-profit", 0, 1000, low_open=True, unit=PCT),
    "trailing_activation": Limit("trailing activation", 0, 1000, unit=PCT),
    "trailing_distance": Limit("trailing distance", 0, 100, low_open=True, unit=PCT),
    "partial_targets": Limit("partial target", 0, 1000, low_open=True, unit=PCT),
    "partial_sizes": Limit("partial size", 0, 1, low_open=True),
    "scale_in_thresholds": Limit("scale-in threshold", -1000, 1000, unit=PCT, nonzero=True),
    "scale_in_sizes": Limit("scale-in size", 0, 10, low_open=True),
    "max_scale_ins": Limit("max scale-ins", low=0, whole=True),
    "max_holding_bars": Limit("max holding bars", low=1, whole=True),
}


def problem(key: str, value: float) -> Optional[str]:
    """What is wrong with ``value`` for the field ``key`` (see :data:`LIMITS`), or None."""
    return LIMITS[key].problem(value)


def check(key: str, value: Optional[float], *, what: Optional[str] = None) -> None:
    """Raise :class:`InputError` (naming ``key`` as its field) unless ``value`` is None or
    within the field's limits. ``what`` names one item of a list field ("partial size #2")."""
    if value is None:
        return
    text = problem(key, value)
    if text is not None:
        if what is not None:
            text = what + text[len(LIMITS[key].what):]
        raise InputError(text, key)


def check_each(key: str, values: tuple[float, ...]) -> None:
    """:func:`check` for every item of a list field, naming the item by its position."""
    for i, value in enumerate(values):
        check(key, value, what=f"{LIMITS[key].what} #{i + 1}")
