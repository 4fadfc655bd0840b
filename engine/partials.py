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

    @staticmethod
    def next_target_level(pos: OpenPosition, avg_entry: float) -> Optional[float]:
        """Price of the next partial target (profit % from the average entry), if any is left."""
        k = pos.partial_exits_done
        if k >= len(pos.policy.exit_targets):
            return None
        return avg_entry * (1.0 + pos.sign * pos.policy.exit_targets[k] / 100.0)

    @staticmethod
    def next_scale_in(pos: OpenPosition) -> Optional[tuple[float, float]]:
        """(price, threshold %) of the next scale-in, measured from the first entry price."""
        n = pos.scale_ins_done
        if n >= pos.policy.scale_in_limit:
            return None
        th = pos.policy.scale_in_thresholds[n]
        return pos.entry_price * (1.0 + pos.sign * th / 100.0), th

    def next_action(
        self, pos: OpenPosition, bar_open: float, high: float, low: float, avg_at_start: float
    ) -> Optional[Action]:
        if pos.current_size <= 0.0:
            return None
        policy = pos.policy
        s = pos.sign
        # Exits: the next partial target and the take-profit, whichever is nearer.
        best: Optional[PartialExitAction] = None
        level = self.next_target_level(pos, avg_at_start)
        if level is not None:
            ref = _touched(s, level, bar_open, high, low)
            if ref is not None:
                k = pos.partial_exits_done
                best = PartialExitAction(k, policy.exit_sizes[k], ref)
                best_level = level
        if pos.take_profit is not None:
            ref = _touched(s, pos.take_profit, bar_open, high, low)
            if ref is not None and (best is None or s * pos.take_profit <= s * best_level):
                best = PartialExitAction(-1, 1.0, ref)
        if best is not None:
            return best
        scale_in = self.next_scale_in(pos)
        if scale_in is not None:
            level, th = scale_in
            # A positive threshold adds into strength, a negative one averages down.
            ref = _touched(s if th > 0 else -s, level, bar_open, high, low)
            if ref is not None:
                n = pos.scale_ins_done
                return ScaleInAction(n, policy.scale_in_sizes[n], ref)
        return None

    def favourable_trigger(self, pos: OpenPosition, avg_entry: float) -> float:
        """Nearest price in the favourable direction at which an action can become due."""
        s = pos.sign
        levels = []
        target = self.next_target_level(pos, avg_entry)
        if target is not None:
            levels.append(target)
        if pos.take_profit is not None:
            levels.append(pos.take_profit)
        scale_in = self.next_scale_in(pos)
        if scale_in is not None and scale_in[1] > 0:
            levels.append(scale_in[0])
        if not levels:
            return float("inf") if s > 0 else float("-inf")
        return min(levels) if s > 0 else max(levels)

    def adverse_trigger(self, pos: OpenPosition) -> float:
        """Nearest price in the adverse direction at which a scale-in (averaging down) is due."""
        scale_in = self.next_scale_in(pos)
        if scale_in is not None and scale_in[1] < 0:
            return scale_in[0]
        return float("-inf") if pos.sign > 0 else float("inf")
