"""Replaying a stored run to the end, with what-if actions, as one job (CLI; the TUI's worker).

The run's stored config and data source give the candles again; their fingerprint must
match the one stored with the run, or the replay would not be of the same market.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable, Optional

import pandas as pd

from sqlalchemy.engine import Engine as Database

from engine.config import BacktestConfig, DataSpec
from engine.errors import DataChanged, DataError, InputError
from engine.fingerprint import candles_fingerprint
from engine.models import Run
from engine.replay import Replay
from engine.replay_actions import read_actions
from engine.runner import BacktestResult, checked_strategy, load_data, result_of, run_backtest
from engine.store import get_run, save_backtest


def _stored(db: Database, run_id: int) -> tuple[Run, BacktestConfig]:
    run = get_run(db, run_id)
    if run is None:
        raise InputError(f"there is no run #{run_id} in this database")
    # A branch's actions are its own, not the configuration's: they are replayed, not re-run.
    return run, BacktestConfig.from_dict({k: v for k, v in run.config.items() if k != "actions"})


def load_replay(db: Database, run_id: int, loader: Callable[[DataSpec], pd.DataFrame] = load_data) -> tuple[Replay, BacktestConfig]:
    """A replay at the start of stored run ``run_id``, its candles from ``loader``; InputError when
    the run or its data is gone or changed."""
    run, config = _stored(db, run_id)
    try:
        candles = loader(config.data)
    except DataError as exc:
        raise DataError(f"run #{run_id}: its data cannot be loaded again: {exc}") from None
    if run.data_fingerprint and candles_fingerprint(candles) != run.data_fingerprint:
        raise DataChanged(
            f"run #{run_id}: its candles ({config.data.describe()}) have changed since the run was stored; "
            "re-run the backtest on the current data, or restore the original file"
        )
    return Replay(candles, checked_strategy(config, candles), config.settings), config


def rerun_on_current_data(
    db: Database, run_id: int, loader: Callable[[DataSpec], pd.DataFrame] = load_data, created_at: Optional[datetime] = None,
) -> int:
    """Run ``run_id``'s configuration again on its data source as it is now, stored as a new
    run (the old one keeps its trades): what is left to do when a run's candles changed."""
    _, config = _stored(db, run_id)
    return save_backtest(db, run_backtest(config, loader(config.data)), created_at=created_at)


def replay_stored_run(db: Database, run_id: int, actions_path: Optional[str] = None) -> BacktestResult:
    """Play run ``run_id`` to the end, taking the actions of ``actions_path`` at their bars.

    A bad line, or an action the position at its bar refuses, is an InputError naming the
    file and the line; nothing has been stored at that point."""
    replay, config = load_replay(db, run_id)
    index = replay.backtest.candles.index
    scheduled = read_actions(actions_path, index) if actions_path else []
    for item in scheduled:
        replay.goto(item.bar)
        try:
            replay.act(item.action)
        except InputError as exc:
            raise InputError(f"{actions_path}:{item.line}: at {index[item.bar].isoformat()}: {exc}") from None
    replay.play_to_end()
    return branch_result(replay, config, run_id)


def branch_result(replay: Replay, config: BacktestConfig, parent_run_id: int) -> BacktestResult:
    """Where the replay stands, as a branch of run ``parent_run_id`` with its actions at their bars."""
    index = replay.backtest.candles.index
    actions = [{"at": index[a.bar].isoformat(), "bar": a.bar, **a.action.to_dict()} for a in replay.actions]
    return result_of(config, replay.backtest.candles, replay.backtest, parent_run_id=parent_run_id, actions=actions)
