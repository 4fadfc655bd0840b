"""``atb-tui live`` headless: a paper session on the sample to its end, its JSON, resume, bad input."""

from __future__ import annotations

import json

import pytest

from atb_tui.cli import main


def _run(capsys, *args: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    code = main(["live", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_paper_session_on_the_sample_to_its_end(tmp_path, capsys) -> None:
    db = f"sqlite:///{tmp_path / 'live.sqlite'}"
    code, out, err = _run(capsys, "--strategy", "sma_cross", "--paper", "--feed", "sample", "--speed", "max",
                          "--stop-loss", "3", "--db", db, "--json", "--session", "s1")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["session"] == "s1" and doc["status"] == "ended" and doc["mode"] == "paper"
    assert doc["trades"] and all(t["exit_reason"] != "end_of_data" for t in doc["trades"])
    assert {"metrics", "config", "open_positions"} <= set(doc)
    assert all(p["symbol"] == "BTC/USDT" for p in doc["open_positions"])
    # Resuming an ended session: nothing new, the same trades.
    code, out, _ = _run(capsys, "--resume", "--session", "s1", "--paper", "--feed", "sample", "--db", db, "--json")
    assert code == 0 and json.loads(out)["trades"] == doc["trades"]


@pytest.mark.parametrize("args, message", [
    (["--paper", "--feed", "sample"], "--strategy"),
    (["--strategy", "sma_cross", "--feed", "sample"], "--paper --live"),
    (["--strategy", "sma_cross", "--paper", "--feed", "sample", "--speed", "fast"], "--speed"),
    (["--strategy", "sma_cross", "--paper", "--feed", "carrier-pigeon"], "feed must be"),
    (["--strategy", "sma_cross", "--paper", "--symbol", "BTCUSDT", "--feed", "sample"], "BASE/QUOTE"),
    (["--strategy", "sma_cross", "--paper", "--timeframe", "7x", "--feed", "sample"], "timeframe"),
    (["--strategy", "nope", "--paper", "--feed", "sample"], "unknown strategy"),
    (["--resume", "--session", "ghost", "--paper", "--feed", "sample"], "no session named 'ghost'"),
    (["--strategy", "sma_cross", "--live", "--feed", "exchange", "--yes"], "keyring"),  # none on this machine
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, args: list[str], message: str) -> None:
    code, out, err = _run(capsys, *args, "--db", f"sqlite:///{tmp_path / 'x.sqlite'}")
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1
