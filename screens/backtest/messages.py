"""Domain events of a backtest run, posted by its workers to the workspace."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from textual.message import Message

if TYPE_CHECKING:
    import pandas as pd

    from engine.config import BacktestConfig
    from engine.runner import BacktestResult
    from screens.run_view import RunView


@dataclass
class DownloadProgress(Message):
    candles: int
    expected: Optional[int]


@dataclass
class DownloadFinished(Message):
    config: "BacktestConfig"
    candles: "pd.DataFrame"


@dataclass
class RunPhase(Message):
    """A run's next phase begins: load, signals, run, metrics (the engine's), saving, view."""

    name: str
    detail: str = ""  # what the phase works on: "3,000,000 bars", "38,512 trades"


@dataclass
class BacktestProgress(Message):
    bars_done: int
    bars_total: int
    elapsed: float


@dataclass
class BacktestFinished(Message):
    result: "BacktestResult"
    run_id: Optional[int]
    elapsed: float
    view: "RunView"  # built on the worker: the screen only hands it to its widgets


@dataclass
class RunSaved(Message):
    """The run shown (``result``) is stored as ``run_id``: the results came before it."""

    result: "BacktestResult"
    run_id: int


@dataclass
class RunNotSaved(Message):
    """The run shown could not be stored; its results stay on screen, without an id."""

    result: "BacktestResult"
    message: str


@dataclass
class RunFailed(Message):
    """A run or a download stopped on an error the user can act on."""

    message: str


@dataclass
class RunCancelled(Message):
    pass


@dataclass
class ExportWritten(Message):
    path: str
    run_id: Optional[int]


@dataclass
class ExportFailed(Message):
    message: str
