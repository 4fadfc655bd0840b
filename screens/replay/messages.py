"""Domain events of the Replay workspace, posted by its workers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from textual.message import Message

if TYPE_CHECKING:
    from engine.config import BacktestConfig
    from engine.replay import Replay


@dataclass
class ReplayLoaded(Message):
    run_id: int
    title: str
    replay: "Replay"
    config: "BacktestConfig"


@dataclass
class ReplayFailed(Message):
    """The run or its data could not be opened: the engine's one-line reason."""

    message: str
    run_id: Optional[int] = None  # set when the run exists but its candles are gone or changed
    changed: bool = False  # the candles load but differ: the run can be re-run on them


@dataclass
class RunRerun(Message):
    """A run whose candles changed was run again on the current ones, as ``run_id``."""

    run_id: int
    old_run_id: int


@dataclass
class BranchSaved(Message):
    run_id: int
    parent_run_id: int
