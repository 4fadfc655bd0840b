"""`atb-tui replay`: a stored run replayed headless, what-if branches from an actions file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.data import sample_candles
from engine.models import RunKind
from engine.store import list_runs, open_db, run_fills
from tests.helpers import candles
from tests.test_cli import _run, db  # noqa: F401  (fixture)


def _backtest(capsys, db: str, *extra: str) -> dict:
    code, out, err = _run(capsys, "backtest", "--strategy", "sma_cross", "--stop-loss", "3", "--json", "--db", db, *extra)
    assert code == 0, err
    return json.loads(out)


def _lines(tmp_path: Path, *entries: object) -> str:
    path = tmp_path / "actions.jsonl"
    path.write_text("".join((e if isinstance(e, str) else json.dumps(e)) + "\n" for e in entries))
    return str(path)


def test_replay_without_actions_is_the_run_and_stores_nothing(capsys, db) -> None:
    parent = _backtest(capsys, db)
    code, out, err = _run(capsys, "replay", str(parent["run_id"]), "--json", "--db", db)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["run_id"] is None and doc["parent_run_id"] == parent["run_id"] and doc["actions"] == []
    assert doc["trades"] == parent["trades"] and doc["metrics"] == parent["metrics"]
    assert len(list_runs(open_db(db))) == 1


def test_an_actions_file_builds_and_stores_the_branch(capsys, db, tmp_path) -> None:
    parent = _backtest(capsys, db)
    first = parent["trades"][0]
    # Half off at the bar after the first entry, then close what is left two bars later.
    entry_bar = next(i for i, t in enumerate(sample_candles().index) if t.isoformat() == first["entry_time"])
    actions = _lines(
        tmp_path, {"bar": entry_bar + 1, "do": "partial_exit", "percent": 50}, "",
        {"bar": entry_bar + 3, "do": "close"},
    )
    code, out, err = _run(capsys, "replay", str(parent["run_id"]), "--actions", actions, "--json", "--db", db)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["parent_run_id"] == parent["run_id"] and doc["run_id"] not in (None, parent["run_id"])
    assert [a["do"] for a in doc["actions"]] == ["partial_exit", "close"]
    branch_first = doc["trades"][0]
    kinds = [f["kind"] for f in branch_first["fills"]]
    assert kinds[:2] == ["entry", "partial_exit"] and branch_first["exit_reason"] == "manual"
    assert branch_first["fills"][1]["reason"] == "manual"
    assert doc["trades"] != parent["trades"]
    engine = open_db(db)
    runs = {r.id: r for r in list_runs(engine)}
    stored = runs[doc["run_id"]]
    assert stored.kind is RunKind.REPLAY and stored.parent_run_id == parent["run_id"]
    assert stored.config["actions"] == doc["actions"] and stored.data_fingerprint == runs[parent["run_id"]].data_fingerprint
    assert sum(1 for f in run_fills(engine, stored.id) if f.reason == "manual") == 2


@pytest.mark.parametrize("entry, needle", [
    ("not json", ":1: not JSON"),
    ({"do": "close"}, ":1: give the bar as either 'at'"),
    ({"bar": 10**7, "do": "close"}, ":1: 'bar' must be a bar number from 0 to 17543"),
    ({"at": "2023-01-01T00:30:00Z", "do": "close"}, ":1: no bar starts at 2023-01-01T00:30:00+00:00"),
    ({"bar": 5, "do": "sell"}, ":1: 'do' must be one of"),
    ({"bar": 5, "do": "partial_exit", "percent": 0}, ":1: amount must be a positive number, got percent=0.0"),
    ({"bar": 5, "do": "close"}, ":1: at 2023-01-01T05:00:00+00:00: no open position to close"),
])
def test_a_bad_action_names_its_line_exits_2_and_stores_nothing(capsys, db, tmp_path, entry, needle) -> None:
    parent = _backtest(capsys, db)
    code, out, err = _run(capsys, "replay", str(parent["run_id"]), "--actions", _lines(tmp_path, entry), "--db", db)
    assert code == 2 and out == ""
    assert needle in err and err.count("\n") == 1, err
    assert len(list_runs(open_db(db))) == 1


def test_replay_of_a_missing_run_or_changed_data_says_so(capsys, db, tmp_path) -> None:
    code, _, err = _run(capsys, "replay", "7", "--db", db)
    assert code == 2 and "there is no run #7" in err
    rows = [(o, max(o, c) + 1, min(o, c) - 1, c) for o, c in ((100 + i % 9, 100 + i % 7) for i in range(200))]
    data = tmp_path / "bars.csv"
    candles(rows).to_csv(data)
    parent = _backtest(capsys, db, "--data", str(data), "--param", "fast=3", "--param", "slow=8")
    candles([(r[0], r[1], r[2], r[3] + 0.5) for r in rows]).to_csv(data)
    code, _, err = _run(capsys, "replay", str(parent["run_id"]), "--db", db)
    assert code == 2 and "have changed since the run was stored" in err
    data.unlink()
    code, _, err = _run(capsys, "replay", str(parent["run_id"]), "--db", db)
    assert code == 2 and f"run #{parent['run_id']}: its data cannot be loaded again" in err
