"""The headless CLI reads the same settings as the TUI (settings.toml, then ATB_TUI_*
overrides), and its flags win: a run made from the CLI costs what the TUI's would and
lands in the database the TUI's History reads."""

from __future__ import annotations

import json

import pytest

from atb_tui.cli import main
from engine.store import list_runs, open_db


@pytest.fixture
def config_dir(tmp_path, monkeypatch):
    folder = tmp_path / "config"
    folder.mkdir()
    monkeypatch.setenv("ATB_TUI_CONFIG_DIR", str(folder))
    for name in ("ATB_TUI_FEE_PCT", "ATB_TUI_BALANCE", "ATB_TUI_SLIPPAGE_PCT", "ATB_TUI_DB_URL", "ATB_TUI_DB"):
        monkeypatch.delenv(name, raising=False)
    return folder


def _backtest(capsys, *args: str) -> tuple[int, dict, str]:
    code = main(["backtest", "--strategy", "sma_cross", "--json", *args])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else {}), err


def test_settings_file_gives_costs_balance_and_database(capsys, config_dir, tmp_path) -> None:
    db = tmp_path / "from-settings.sqlite"
    (config_dir / "settings.toml").write_text(f'fee_pct = 0.2\nslippage_pct = 0.01\nbalance = 5000.0\ndb_url = "sqlite:///{db}"\n')
    code, doc, err = _backtest(capsys)
    assert code == 0, err
    assert (doc["config"]["fee_pct"], doc["config"]["slippage_pct"], doc["config"]["balance"]) == (0.2, 0.01, 5000.0)
    assert [r.id for r in list_runs(open_db(f"sqlite:///{db}"))] == [doc["run_id"]]


def test_flags_win_over_the_environment_which_wins_over_the_file(capsys, config_dir, tmp_path, monkeypatch) -> None:
    (config_dir / "settings.toml").write_text("fee_pct = 0.2\nbalance = 5000.0\n")
    monkeypatch.setenv("ATB_TUI_FEE_PCT", "0.25")
    db = f"sqlite:///{tmp_path / 'r.sqlite'}"
    code, doc, _ = _backtest(capsys, "--db", db)
    assert code == 0 and doc["config"]["fee_pct"] == 0.25 and doc["config"]["balance"] == 5000.0
    code, doc, _ = _backtest(capsys, "--db", db, "--fee", "0.3", "--balance", "700")
    assert code == 0 and doc["config"]["fee_pct"] == 0.3 and doc["config"]["balance"] == 700.0


def test_without_settings_the_built_in_defaults_hold(capsys, config_dir, tmp_path) -> None:
    code, doc, _ = _backtest(capsys, "--db", f"sqlite:///{tmp_path / 'r.sqlite'}")
    assert code == 0
    assert (doc["config"]["fee_pct"], doc["config"]["slippage_pct"], doc["config"]["balance"]) == (0.1, 0.05, 10_000.0)


def test_a_broken_settings_file_is_one_line_exit_2_and_nothing_stored(capsys, config_dir, tmp_path) -> None:
    (config_dir / "settings.toml").write_text("fee_pct = [oops\n")
    db = tmp_path / "r.sqlite"
    code, _, err = _backtest(capsys, "--db", f"sqlite:///{db}")
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "settings.toml" in err and "TOML" in err
    assert not db.exists()
