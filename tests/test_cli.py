"""The headless CLI: table and JSON output, stored runs, and clean input errors."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from atb_tui.cli import main
from engine.store import list_runs, open_db, run_fills, run_trades


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'runs.sqlite'}"


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_table_on_the_sample(capsys, db) -> None:
    code, out, err = _run(capsys, "backtest", "--strategy", "sma_cross", "--db", db)
    assert code == 0, err
    assert "synthetic" in out and "not real market data" in out
    for label in ("Total return", "Sharpe ratio", "Max drawdown", "Profit factor", "SQN", "Final equity"):
        assert label in out
    assert len(list_runs(open_db(db))) == 1


def test_json_output_is_as_specified_and_matches_the_database(capsys, db, tmp_path) -> None:
    csv_path = tmp_path / "trades.csv"
    code, out, err = _run(
        capsys, "backtest", "--strategy", "sma_cross", "--param", "fast=12", "--param", "slow=40",
        "--stop-loss", "3", "--trailing-activation", "2", "--trailing-distance", "1.5",
        "--partial-targets", "2,4", "--partial-sizes", "0.3,0.3", "--json", "--db", db, "--trades-csv", str(csv_path),
    )
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc) >= {"run_id", "metrics", "trades"}
    assert doc["metrics"]["trades"] == len(doc["trades"]) > 10
    for trade in doc["trades"]:
        assert set(trade) >= {"side", "entry_time", "entry_price", "exit_time", "exit_price", "size", "pnl",
                              "pnl_pct", "fees", "exit_reason"}
        assert trade["side"] in ("long", "short")
        assert trade["entry_time"].endswith("+00:00") and trade["exit_time"] >= trade["entry_time"]
    reasons = {t["exit_reason"] for t in doc["trades"]}
    assert reasons & {"trailing_stop", "stop_loss"}
    engine = open_db(db)
    (run,) = list_runs(engine)
    assert run.id == doc["run_id"] and run.metrics == doc["metrics"]
    assert run.config["params"] == {"fast": "12", "slow": "40"}
    stored = run_trades(engine, run.id)
    assert [round(t.pnl, 6) for t in stored] == [round(t["pnl"], 6) for t in doc["trades"]]
    assert sum(1 for f in run_fills(engine, run.id) if f.kind.value == "partial_exit") > 0
    with csv_path.open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(doc["trades"]) and float(rows[0]["pnl"]) == pytest.approx(doc["trades"][0]["pnl"])


def test_the_same_config_gives_the_same_result_twice(capsys, db) -> None:
    args = ("backtest", "--strategy", "rsi_reversion", "--json", "--db", db)
    first = json.loads(_run(capsys, *args)[1])
    second = json.loads(_run(capsys, *args)[1])
    assert first["trades"] == second["trades"] and first["metrics"] == second["metrics"]
    assert second["run_id"] == first["run_id"] + 1


def _bad_csv(tmp_path: Path) -> str:
    p = tmp_path / "bad.csv"
    p.write_text("timestamp,open,high,low,close,volume\n2024-01-01,1,2,0.5,1.5,10\n2024-01-02,1,0.4,0.5,1.5,10\n")
    return str(p)


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--strategy", "nope"], "unknown strategy 'nope'"),
        (["--strategy", "sma_cross", "--param", "fast=abc"], "parameter 'fast'"),
        (["--strategy", "sma_cross", "--param", "speed=3"], "no parameter 'speed'"),
        (["--strategy", "sma_cross", "--param", "fast"], "KEY=VALUE"),
        (["--strategy", "sma_cross", "--param", "fast=50"], "fast"),
        (["--strategy", "sma_cross", "--fee", "-1"], "fee"),
        (["--strategy", "sma_cross", "--balance", "0"], "balance"),
        (["--strategy", "sma_cross", "--stop-loss", "150"], "stop-loss"),
        (["--strategy", "sma_cross", "--trailing-activation", "2"], "trailing"),
        (["--strategy", "sma_cross", "--partial-targets", "1,x", "--partial-sizes", "0.5,0.5"], "'x' is not a number"),
        (["--strategy", "sma_cross", "--partial-targets", "1,2", "--partial-sizes", "0.5"], "as many sizes"),
        (["--strategy", "sma_cross", "--partial-targets", "1,2", "--partial-sizes", "0.7,0.7"], "more than the whole"),
        (["--strategy", "sma_cross", "--risk-per-trade", "1"], "--stop-loss"),
        (["--strategy", "sma_cross", "--size-fraction", "2"], "raise the max leverage"),
        (["--strategy", "sma_cross", "--max-leverage", "0"], "max leverage"),
        (["--strategy", "sma_cross", "--data", "/no/such/file.csv"], "file.csv"),
        (["--strategy", "sma_cross", "--data", "x.csv", "--exchange", "binance"], "cannot be combined"),
        (["--strategy", "sma_cross", "--exchange", "binance"], "--symbol"),
        (["--strategy", "sma_cross", "--exchange", "binance", "--symbol", "BTC/USDT", "--timeframe", "1h", "--since", "soon"], "--since"),
        (["--strategy", "sma_cross", "--balance", "lots"], "--balance"),
        (["--strategy", "sma_cross", "--trades-csv", "/no/such/dir/t.csv"], "does not exist"),
        (["--strategy", "sma_cross", "--bogus"], "unrecognized arguments"),
        (["--strategy", "sma_cross", "--scale-in-thresholds", "-1.5,x", "--scale-in-sizes", "0.5,0.5"], "'x' is not a number"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_stored(capsys, tmp_path, args, needle) -> None:
    db_file = tmp_path / "runs.sqlite"
    code, out, err = _run(capsys, "backtest", *args, "--db", f"sqlite:///{db_file}")
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("atb-tui: error: "), err
    assert needle in lines[0]
    assert "Traceback" not in err
    assert not db_file.exists()


def test_an_invalid_csv_names_file_and_line_and_writes_nothing(capsys, tmp_path) -> None:
    db_file = tmp_path / "runs.sqlite"
    code, _, err = _run(capsys, "backtest", "--strategy", "sma_cross", "--data", _bad_csv(tmp_path), "--db", f"sqlite:///{db_file}")
    assert code == 2
    assert "bad.csv" in err and "line 3" in err and "high" in err
    assert not db_file.exists()


def test_database_from_the_environment(capsys, tmp_path, monkeypatch) -> None:
    db_file = tmp_path / "env.sqlite"
    monkeypatch.setenv("ATB_TUI_DB", f"sqlite:///{db_file}")
    code, out, _ = _run(capsys, "backtest", "--strategy", "breakout", "--json")
    assert code == 0 and db_file.exists()
    assert list_runs(open_db(f"sqlite:///{db_file}"))[0].id == json.loads(out)["run_id"]


def test_the_console_script_runs_as_a_process(tmp_path) -> None:
    env = {**os.environ, "ATB_TUI_DB": f"sqlite:///{tmp_path / 'p.sqlite'}"}
    exe = Path(sys.executable).with_name("atb-tui")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "atb_tui"]
    ok = subprocess.run([*cmd, "backtest", "--strategy", "sma_cross", "--json"], capture_output=True, text=True, env=env, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["metrics"]["bars"] == 17_544
    bad = subprocess.run([*cmd, "backtest", "--strategy", "sma_cross", "--fee", "abc"], capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr


def test_the_console_script_prints_everything_before_its_quick_exit(tmp_path) -> None:
    """Headless commands skip interpreter teardown: the JSON on a pipe and the stored run
    must still be complete, and --timings names every phase."""
    db_file = tmp_path / "q.sqlite"
    env = {**os.environ, "ATB_TUI_DB": f"sqlite:///{db_file}"}
    csv_path = tmp_path / "trades.csv"
    done = subprocess.run(
        [sys.executable, "-m", "atb_tui", "backtest", "--strategy", "sma_cross", "--param", "fast=5",
         "--param", "slow=20", "--param", "mode=long_short", "--json", "--timings", "--trades-csv", str(csv_path)],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert len(document["trades"]) > 500
    stored = open_db(f"sqlite:///{db_file}")
    assert len(run_trades(stored, document["run_id"])) == len(document["trades"])
    with open(csv_path, newline="") as fh:
        assert len(list(csv.DictReader(fh))) == len(document["trades"])
    (line,) = [x for x in done.stderr.splitlines() if x.startswith("timings: ")]
    for phase in ("imports", "load", "signals", "run", "metrics", "store", "output", "total"):
        assert f"{phase} " in line


def test_json_streamed_in_slices_is_the_same_document(tmp_path) -> None:
    import io

    from engine.config import BacktestConfig
    from engine.export import run_document, spool_trades_json, write_run_json
    from engine.runner import run_backtest

    result = run_backtest(BacktestConfig(strategy="sma_cross", params={"fast": 5, "slow": 20, "mode": "long_short"}))
    whole = json.loads(json.dumps(run_document(result, 7)))
    assert len(whole["trades"]) > 100
    for chunk in (1, 7, 10**6):
        out = io.BytesIO()
        write_run_json(result, 7, out, spool_trades_json(result, chunk))
        assert json.loads(out.getvalue()) == whole


def test_negative_scale_in_thresholds_as_the_readme_writes_them(capsys, db) -> None:
    code, out, err = _run(capsys, "backtest", "--strategy", "sma_cross", "--scale-in-thresholds", "-1.5,-3",
                          "--scale-in-sizes", "0.5,0.5", "--max-leverage", "3", "--json", "--db", db)
    assert code == 0, err
    policy = json.loads(out)["config"]["policy"]
    assert policy["scale_in_thresholds"] == [-1.5, -3.0]
    assert any(f.kind.value == "scale_in" for f in run_fills(open_db(db), json.loads(out)["run_id"]))


def test_a_database_password_never_reaches_the_error(capsys, tmp_path) -> None:
    code, out, err = _run(capsys, "backtest", "--strategy", "sma_cross", "--json",
                          "--db", "postgresql://trader:hunter2@127.0.0.1:1/runs")
    assert code == 2 and out == ""
    assert "hunter2" not in err and "trader:***@127.0.0.1" in err
    assert len(err.strip().splitlines()) == 1


def test_a_sqlite_file_in_a_missing_folder_is_an_error_not_a_new_folder(capsys, tmp_path) -> None:
    missing = tmp_path / "no" / "such" / "dir"
    code, _, err = _run(capsys, "backtest", "--strategy", "sma_cross", "--db", f"sqlite:///{missing / 'x.sqlite'}")
    assert code == 2 and "does not exist" in err and str(missing) in err
    assert not (tmp_path / "no").exists()


def test_exports_never_overwrite_and_are_readable_by_others(tmp_path) -> None:
    from engine.export import write_atomic, write_new

    folder = tmp_path / "exports" / "new"
    first = write_new(folder, "run-12-trades.csv", "a")
    second = write_new(folder, "run-12-trades.csv", "b")
    third = write_new(folder, "run-12-trades.csv", "c")
    assert [p.name for p in (first, second, third)] == ["run-12-trades.csv", "run-12-trades-2.csv", "run-12-trades-3.csv"]
    assert [p.read_text() for p in (first, second, third)] == ["a", "b", "c"]
    assert sorted(p.name for p in folder.iterdir()) == ["run-12-trades-2.csv", "run-12-trades-3.csv", "run-12-trades.csv"]
    umask = os.umask(0)
    os.umask(umask)
    for path in (first, write_atomic(tmp_path / "t.csv", "x")):
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.parametrize("build, field, flag", [
    (lambda: __import__("engine.config", fromlist=["DataSpec"]).DataSpec(kind="file"), "path", "--data"),
    (lambda: __import__("engine.config", fromlist=["DataSpec"]).DataSpec(kind="exchange", exchange="binance"), "symbol", "--symbol"),
    (lambda: __import__("engine.config", fromlist=["DataSpec"]).DataSpec(
        kind="exchange", exchange="binance", symbol="BTC/USDT", timeframe="1h", since="2024-02-01", until="2024-01-01"), "until", "--until"),
])
def test_engine_errors_name_fields_not_flags_and_the_cli_adds_the_flag(build, field, flag) -> None:
    from atb_tui.cli_args import error_text
    from engine.errors import InputError

    with pytest.raises(InputError) as caught:
        build()
    assert caught.value.field == field
    assert "--" not in str(caught.value)  # the TUI shows this text beside its own field
    assert error_text(caught.value).startswith(f"{flag}: ")


def test_a_backtest_in_process_leaves_the_collector_on(capsys, db) -> None:
    import gc

    assert gc.isenabled()
    code, _, err = _run(capsys, "backtest", "--strategy", "sma_cross", "--db", db)
    assert code == 0, err
    assert gc.isenabled()
    code, _, _ = _run(capsys, "backtest", "--strategy", "nope", "--db", db)
    assert code == 2 and gc.isenabled()
