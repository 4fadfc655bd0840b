"""Resting levels: the prices at which something is due while a position is open.

The risk module (the stop) and the partial-operations manager (targets, take-profit,
scale-ins) describe what is due as :class:`Level` values; the simulated broker's bar
path decides which one the price reaches first; the engine's action code applies it.
"""

from __future__ import annotations

from typing import NamedTuple, Union

from engine.enums import ExitReason
from engine.fast import fast_new

# Tie-break where several levels are reached at the same point of a bar's path:
# the stop wins, then exits, then scale-ins.
STOP, EXIT, SCALE_IN = 0, 1, 2


class PartialExitAction(NamedTuple):
    index: int  # which exit target; -1 for the final take-profit
    fraction_of_original: float  # 1.0 means "everything left"

    @property
    def is_take_profit(self) -> bool:
        return self.index < 0


class ScaleInAction(NamedTuple):
    index: int
    fraction_of_original: float


class Level(NamedTuple):
    price: float
    direction: int  # +1: reached by a rising price, -1: by a falling one
    priority: int  # STOP, EXIT or SCALE_IN
    due: Union[ExitReason, PartialExitAction, ScaleInAction]  # the stop's exit reason, or the policy action


new_level = fast_new(Level)


def triggers(levels: list[Level]) -> tuple[float, float]:
    """The highest level reached by falling prices and the lowest reached by rising ones
    (-inf / +inf when there is none): a bar that stays strictly between them reaches none."""
    lo, hi = float("-inf"), float("inf")
    for lv in levels:
        if lv.direction < 0:
            if lv.price > lo:
                lo = lv.price
        elif lv.price < hi:
            hi = lv.price
    return lo, hi
