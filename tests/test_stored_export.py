"""A stored run exports to the same files as the fresh run did (engine.stored_export).

The Backtest workspace writes a fresh run's trades CSV and run JSON from its
BacktestResult; History's run detail writes them from the database. Both must be the
same files: the CSV byte for byte, the JSON the same document. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import json
from functools import lru_cache
from typing import Any, Iterator

import pytest

from engine.config import BacktestConfig
from engine.db_url import normalise_db_url
from engine.export import run_json, trades_csv
from engine.models import RunKind
from engine.policy import ExitPolicy
from engine.runner import BacktestResult, run_backtest
from engine.stored_export import stored_run_json, stored_tables, stored_trades_csv
from engine.store import open_db, save_backtest


@lru_cache(maxsize=None)
def result_with_partials() -> BacktestResult:
    # Partial exits and a scale-in: several fills per trade, each with its moving average entry.
    policy = ExitPolicy(exit_targets=(0.5,), exit_sizes=(0.4,), scale_in_thresholds=(-0.5,), scale_in_sizes=(0.3,),
                        max_scale_ins=1, stop_loss_pct=3.0)
    return run_backtest(BacktestConfig(strategy="sma_cross", params={"fast": 8, "slow": 40}, policy=policy))


@pytest.fixture
def database(db_url: str) -> Iterator[Any]:
    engine = open_db(normalise_db_url(db_url))
    yield engine
    engine.dispose()


def test_the_trades_csv_of_a_stored_run_is_the_fresh_one(database) -> None:
    result = result_with_partials()
    run_id = save_backtest(database, result)
    assert len(result.fills) > len(result.trades) > 10
    assert stored_trades_csv(database, run_id) == trades_csv(result)


def test_the_run_json_of_a_stored_run_is_the_fresh_one(database) -> None:
    result = result_with_partials()
    run_id = save_backtest(database, result)
    stored = json.loads(stored_run_json(database, run_id) or "")
    assert stored == json.loads(run_json(result, run_id))
    assert stored["trades"][0]["fills"][0]["avg_entry"] > 0


def test_a_replay_branch_keeps_its_parent_and_actions(database) -> None:
    parent = save_backtest(database, result_with_partials())
    actions = [{"do": "partial_exit", "bar": 120, "amount": 50.0, "unit": "pct_current"}]
    branch = dataclasses.replace(result_with_partials(), parent_run_id=parent, actions=actions)
    run_id = save_backtest(database, branch, RunKind.REPLAY)
    document = json.loads(stored_run_json(database, run_id) or "")
    assert document == json.loads(run_json(branch, run_id))
    assert document["parent_run_id"] == parent and document["actions"] == actions
    assert "actions" not in document["config"]  # the store keeps them there; the export does not


def test_a_run_without_trades(database) -> None:
    empty = dataclasses.replace(result_with_partials(), trades=[], fills=[])
    run_id = save_backtest(database, empty)
    assert stored_trades_csv(database, run_id) == trades_csv(empty)
    assert json.loads(stored_run_json(database, run_id) or "")["trades"] == []
    assert stored_tables(database, run_id).fills.empty


def test_a_run_that_is_gone(database) -> None:
    assert stored_run_json(database, 12345) is None
