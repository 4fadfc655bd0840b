"""The domain enums: one side, one run kind, one fill kind, one exit reason.

Separate from the SQLModel tables so the backtest's hot path does not import the ORM.
"""

from __future__ import annotations

import enum


class Side(str, enum.Enum):
    LONG = "long"
    SHORT = "short"

    @property
    def sign(self) -> int:
        return 1 if self is Side.LONG else -1

    @property
    def opposite(self) -> "Side":
        return Side.SHORT if self is Side.LONG else Side.LONG


class RunKind(str, enum.Enum):
    BACKTEST = "backtest"
    REPLAY = "replay"
    PAPER = "paper"
    LIVE = "live"


class FillKind(str, enum.Enum):
    ENTRY = "entry"
    SCALE_IN = "scale_in"
    PARTIAL_EXIT = "partial_exit"
    EXIT = "exit"


class ExitReason(str, enum.Enum):
    SIGNAL = "signal"
    REVERSAL = "reversal"
    STOP_LOSS = "stop_loss"
    TRAILING_STOP = "trailing_stop"
    TAKE_PROFIT = "take_profit"
    PARTIAL_TARGET = "partial_target"
    TIME_EXIT = "time_exit"
    END_OF_DATA = "end_of_data"
    MANUAL = "manual"
