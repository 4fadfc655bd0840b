"""Compare lists every setting of two runs and marks the ones that differ."""

from __future__ import annotations

from engine.config import BacktestConfig
from engine.config_diff import Missing, config_rows, shown
from engine.policy import ExitPolicy


def test_one_parameter_and_one_exit_rule_differ() -> None:
    a = BacktestConfig(strategy="sma_cross", params={"fast": 10, "slow": 30}).to_dict()
    b = BacktestConfig(strategy="sma_cross", params={"fast": 12, "slow": 30},
                       policy=ExitPolicy(stop_loss_pct=3.0)).to_dict()
    rows = {name: (va, vb, differs) for name, va, vb, differs in config_rows(a, b)}
    changed = {name for name, (_a, _b, differs) in rows.items() if differs}
    assert changed == {"params.fast", "policy.stop_loss_pct"}
    assert rows["params.fast"][:2] == (10, 12)
    assert shown(rows["policy.stop_loss_pct"][0]) == "off" and shown(rows["policy.stop_loss_pct"][1]) == "3"
    assert "fee_pct" in rows and "data.kind" in rows


def test_json_lists_equal_tuples_and_missing_settings_show_as_dashes() -> None:
    rows = config_rows({"policy": {"exit_targets": [2.0, 4.0]}, "old": 1}, {"policy": {"exit_targets": (2.0, 4.0)}})
    assert rows[0][3] is False
    assert rows[1] == ("old", 1, Missing, True) and shown(Missing) == "—"
