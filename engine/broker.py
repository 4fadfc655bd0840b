"""The broker boundary: orders in, executions out.

The engine decides WHAT to trade (a quantity, a side, the kind of order); a broker
decides at what price and cost it fills. The tracker then applies the execution it is
given. :class:`SimulatedBroker` holds the fill rules of DESIGN.md ("Simulated fills")
for the backtest, the replay and the paper session; an exchange broker plugs in at
the same place.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Optional, Protocol

from engine.costs import CostModel
from engine.levels import Level
from engine.fast import fast_new
from engine.touch import touches


class Execution(NamedTuple):
    """One fill as the broker reports it: executed price, quantity and what it cost."""

    price: float
    qty: float
    fee: float
    slippage: float  # cost of slippage in quote currency


_execution = fast_new(Execution)


class Broker(Protocol):
    def market(self, ref_price: float, qty: float, buy: bool) -> Execution:
        """A market-type fill (entries, scale-ins, signal and manual exits, stops)."""

    def limit(self, ref_price: float, qty: float, buy: bool) -> Execution:
        """A limit-type fill at its level (take-profit, partial targets)."""


class SimulatedBroker:
    """Fills at the reference price the engine's path gives, with the cost model's costs."""

    __slots__ = ("costs",)

    def __init__(self, costs: CostModel) -> None:
        self.costs = costs

    def market(self, ref_price: float, qty: float, buy: bool) -> Execution:
        price, fee, slip = self.costs.execute(ref_price, qty, buy, True)
        return _execution((price, qty, fee, slip))

    def limit(self, ref_price: float, qty: float, buy: bool) -> Execution:
        price, fee, slip = self.costs.execute(ref_price, qty, buy, False)
        return _execution((price, qty, fee, slip))


class BarPath:
    """The pessimistic path a bar's price is assumed to take: open, adverse extreme, favourable one.

    Positions along the path are distances travelled from the open. A level the open has
    already gone through is reached at distance 0 (it fills at the open); the order of
    several such levels is the order in which the gap crossed them (furthest first).
    """

    __slots__ = ("open", "high", "low", "sign", "adverse", "first_leg", "_seen")

    def __init__(self, sign: int, bar_open: float, high: float, low: float) -> None:
        self.sign = sign
        self.open = bar_open
        self.high = high
        self.low = low
        self.adverse = low if sign > 0 else high
        self.first_leg = abs(bar_open - self.adverse)
        # Levels are asked about again after every fill in the bar; the path does not change.
        self._seen: dict[tuple[float, int], Optional[tuple[float, float, float]]] = {}

    def reach(self, level: float, direction: int) -> Optional[tuple[float, float, float]]:
        """``(distance, tie-break, reference price)`` where the path reaches ``level`` moving
        in ``direction``, or None if it never does."""
        key = (level, direction)
        seen = self._seen
        if key in seen:
            return seen[key]
        o = self.open
        if not touches(direction, level, self.high, self.low):
            found = None  # the open lies within the range, so a level outside it was not gapped through either
        elif touches(direction, level, o, o):  # gapped through: fills at the open
            found = (0.0, -abs(level - o), o)
        elif direction == -self.sign:  # on the way to the adverse extreme
            found = (abs(o - level), 0.0, level)
        else:
            found = (self.first_leg + abs(level - self.adverse), 0.0, level)
        seen[key] = found
        return found

    def first_reached(self, levels: list[Level], here: float) -> Optional[tuple[float, float, Level]]:
        """``(distance, reference price, level)`` of the level the path reaches first at or
        after distance ``here``; ties go to the level's priority (the stop wins).

        A level that became due only after the path had passed it (the next scale-in once
        the previous one filled, say) is a resting order already through the market: it
        fills at once, at the current price, if that price is on its far side.
        """
        best: Optional[tuple[float, float, Level]] = None
        best_dist = math.inf
        best_prio = best_tie = 0.0
        now = math.nan
        reach = self.reach
        for lv in levels:
            reached = reach(lv.price, lv.direction)
            if reached is None:
                continue
            dist, tie, ref = reached
            if dist < here:
                if now != now:
                    now = self.price_at(here)
                if not touches(lv.direction, lv.price, now, now):
                    continue
                dist, tie, ref = here, 0.0, now
            # Earlier on the path first; then the stop before exits before scale-ins; then
            # the gap order; then list order (the take-profit before a partial target).
            if dist < best_dist or (dist == best_dist and (lv.priority < best_prio or (lv.priority == best_prio and tie < best_tie))):
                best, best_dist, best_prio, best_tie = (dist, ref, lv), dist, lv.priority, tie
        return best

    def price_at(self, distance: float) -> float:
        if distance <= self.first_leg:
            return self.open - self.sign * distance
        return self.adverse + self.sign * (distance - self.first_leg)

    def range_until(self, distance: float) -> tuple[float, float]:
        """Lowest and highest price of the path from the open up to ``distance``."""
        here = self.price_at(distance)
        if distance <= self.first_leg:
            return min(self.open, here), max(self.open, here)
        return (self.low, max(self.open, here)) if self.sign > 0 else (min(self.open, here), self.high)

