"""The partial-operations manager: the partial exits and scale-ins due next.

Single-action pattern (DESIGN.md): the manager names what is due next, as resting
levels; the engine applies the one the price reaches first and asks again, because
several targets can trigger in one bar. Target levels come from the average entry
known at the bar's start (``avg_at_start``), so a scale-in inside a bar does not move
that bar's targets. Scale-in levels are % moves from the first entry price.

Targets are limit-type fills (no slippage); scale-ins are market-type.
"""

from __future__ import annotations

from engine.levels import EXIT, SCALE_IN, Level, PartialExitAction, ScaleInAction, new_level
from engine.records import OpenPosition
from engine.touch import pct_level

__all__ = ["PartialOperationsManager", "PartialExitAction", "ScaleInAction"]

TAKE_PROFIT = PartialExitAction(-1, 1.0)  # "everything left", at the take-profit


class PartialOperationsManager:
    """Checks, never mutates."""

    def levels(self, pos: OpenPosition, avg_at_start: float) -> list[Level]:
        """The take-profit, the next partial target and the next scale-in, as resting levels.

        The take-profit comes first: at the same price as a partial target it takes everything.
        """
        s = pos.sign
        policy = pos.policy
        out: list[Level] = []
        if pos.take_profit is not None:
            out.append(new_level((pos.take_profit, s, EXIT, TAKE_PROFIT)))
        k = pos.partial_exits_done
        if k < len(policy.exit_targets):
            level = pct_level(avg_at_start, s * policy.exit_targets[k])
            out.append(new_level((level, s, EXIT, policy.exit_actions[k])))
        n = pos.scale_ins_done
        if n < policy.scale_in_limit:
            th = policy.scale_in_thresholds[n]
            # A positive threshold adds into strength, a negative one averages down.
            level = pct_level(pos.entry_price, s * th)
            out.append(new_level((level, s if th > 0 else -s, SCALE_IN, policy.scale_in_actions[n])))
        return out
