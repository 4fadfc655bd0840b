"""The partial-operations manager: the next single partial exit or scale-in due.

Single-action pattern (DESIGN.md): the manager returns at most one action; the caller
applies it through the tracker and asks again, because several targets can trigger in
one bar. Levels come from the average entry known at the bar's start (``avg_at_start``),
so a scale-in inside a bar does not move that bar's targets.

Within a bar exits come first, nearest level first (the final take-profit is treated as
the last target), then scale-ins. Targets are limit-type fills (no slippage); scale-ins
are market-type. A level gapped through fills at the open.
"""

from __future__ import annotations

from typing import NamedTuple, Optional, Union

from engine.records import OpenPosition


class PartialExitAction(NamedTuple):
    index: int  # which exit target; -1 for the final take-profit
    fraction_of_original: float  # 1.0 and above means "everything left"
    ref_price: float

    @property
    def is_take_profit(self) -> bool:
        return self.index < 0


class ScaleInAction(NamedTuple):
    index: int
    fraction_of_original: float
    ref_price: float


Action = Union[PartialExitAction, ScaleInAction]


def _touched(sign: int, level: float, bar_open: float, high: float, low: float) -> Optional[float]:
    """Fill reference for a level in the favourable direction ``sign``, or None."""
    if sign > 0:
        if bar_open >= level:
            return bar_open
        return level if high >= level else None
    if bar_open <= level:
        return bar_open
    return level if low <= level else None


class PartialOperationsManager:
    """Checks, never mutates."""

    def target_levels(self, pos: OpenPosition, avg_entry: float) -> list[float]:
        s = pos.sign
        return [avg_entry * (1.0 + s * t / 100.0) for t in pos.policy.exit_targets]

    def scale_in_level(self, pos: OpenPosition, index: int) -> float:
        th = pos.policy.scale_in_thresholds[index]
        return pos.entry_price * (1.0 + pos.sign * th / 100.0)

    def next_action(
        self, pos: OpenPosition, bar_open: float, high: float, low: float, avg_at_start: float
    ) -> Optional[Action]:
        if pos.current_size <= 0.0:
            return None
        policy = pos.policy
        s = pos.sign
        # Exits: the next partial target and the take-profit, whichever is nearer.
        best: Optional[PartialExitAction] = None
        k = pos.partial_exits_done
        if k < len(policy.exit_targets):
            level = avg_at_start * (1.0 + s * policy.exit_targets[k] / 100.0)
            ref = _touched(s, level, bar_open, high, low)
            if ref is not None:
                best = PartialExitAction(k, policy.exit_sizes[k], ref)
                best_level = level
        if pos.take_profit is not None:
            ref = _touched(s, pos.take_profit, bar_open, high, low)
            if ref is not None and (best is None or s * pos.take_profit <= s * best_level):
                best = PartialExitAction(-1, 1.0, ref)
        if best is not None:
            return best
        n = pos.scale_ins_done
        if n < policy.scale_in_limit:
            th = policy.scale_in_thresholds[n]
            level = self.scale_in_level(pos, n)
            # A positive threshold adds into strength, a negative one averages down.
            direction = s if th > 0 else -s
            ref = _touched(direction, level, bar_open, high, low)
            if ref is not None:
                return ScaleInAction(n, policy.scale_in_sizes[n], ref)
        return None

    def favourable_trigger(self, pos: OpenPosition, avg_entry: float) -> float:
        """Nearest price in the favourable direction at which an action can become due."""
        s = pos.sign
        levels = []
        policy = pos.policy
        if pos.partial_exits_done < len(policy.exit_targets):
            levels.append(avg_entry * (1.0 + s * policy.exit_targets[pos.partial_exits_done] / 100.0))
        if pos.take_profit is not None:
            levels.append(pos.take_profit)
        if pos.scale_ins_done < policy.scale_in_limit and policy.scale_in_thresholds[pos.scale_ins_done] > 0:
            levels.append(self.scale_in_level(pos, pos.scale_ins_done))
        if not levels:
            return float("inf") if s > 0 else float("-inf")
        return min(levels) if s > 0 else max(levels)

    def adverse_trigger(self, pos: OpenPosition) -> float:
        """Nearest price in the adverse direction at which a scale-in (averaging down) is due."""
        s = pos.sign
        policy = pos.policy
        if pos.scale_ins_done < policy.scale_in_limit and policy.scale_in_thresholds[pos.scale_ins_done] < 0:
            return self.scale_in_level(pos, pos.scale_ins_done)
        return float("-inf") if s > 0 else float("inf")
