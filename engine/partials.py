"""The partial-operations manager: the partial exits and scale-ins due next.

Single-action pattern (DESIGN.md): the manager names what is due next, as resting
levels; the engine applies the one the price reaches first and asks again, because
several targets can trigger in one bar. Target levels come from the average entry
known at the bar's start (``avg_at_start``), so a scale-in inside a bar does not move
that bar's targets. Scale-in levels are % moves from the first entry price.

Targets are limit-type fills (no slippage); scale-ins are market-type.
"""

from __future__ import annotations

from typing import Optional

from engine.levels import EXIT, SCALE_IN, Level, PartialExitAction, ScaleInAction
from engine.records import OpenPosition
from engine.touch import pct_level

__all__ = ["PartialOperationsManager", "PartialExitAction", "ScaleInAction"]


class PartialOperationsManager:
    """Checks, never mutates."""

    @staticmethod
    def next_target_level(pos: OpenPosition, avg_entry: float) -> Optional[float]:
        """Price of the next partial target (profit % from the average entry), if any is left."""
        k = pos.partial_exits_done
        if k >= len(pos.policy.exit_targets):
            return None
        return pct_level(avg_entry, pos.sign * pos.policy.exit_targets[k])

    @staticmethod
    def next_scale_in(pos: OpenPosition) -> Optional[tuple[float, float]]:
        """(price, threshold %) of the next scale-in, measured from the first entry price."""
        n = pos.scale_ins_done
        if n >= pos.policy.scale_in_limit:
            return None
        th = pos.policy.scale_in_thresholds[n]
        return pct_level(pos.entry_price, pos.sign * th), th

    def levels(self, pos: OpenPosition, avg_at_start: float) -> list[Level]:
        """The next partial target, the take-profit and the next scale-in, as resting levels."""
        s = pos.sign
        out: list[Level] = []
        # The take-profit first: at the same price as a partial target it takes everything.
        if pos.take_profit is not None:
            out.append(Level(pos.take_profit, s, EXIT, PartialExitAction(-1, 1.0)))
        target = self.next_target_level(pos, avg_at_start)
        if target is not None:
            k = pos.partial_exits_done
            out.append(Level(target, s, EXIT, PartialExitAction(k, pos.policy.exit_sizes[k])))
        scale_in = self.next_scale_in(pos)
        if scale_in is not None:
            level, th = scale_in
            n = pos.scale_ins_done
            # A positive threshold adds into strength, a negative one averages down.
            out.append(Level(level, s if th > 0 else -s, SCALE_IN, ScaleInAction(n, pos.policy.scale_in_sizes[n])))
        return out
