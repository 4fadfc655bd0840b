"""engine.limits: one table of bounds, and the engine's objects refuse by it."""

from __future__ import annotations

import pytest

from engine.config import BacktestConfig
from engine.costs import CostModel
from engine.errors import InputError
from engine.limits import LIMITS, problem
from engine.policy import ExitPolicy, Sizing


@pytest.mark.parametrize("key, text", [
    ("fee", "at least 0 % and below 10 %"), ("balance", "above 0"), ("stop_loss", "above 0 % and at most 100 %"),
    ("trailing_activation", "from 0 % to 1000 %"), ("max_holding_bars", "a whole number, at least 1"),
    ("scale_in_thresholds", "from -1000 % to 1000 % and not zero"),
])
def test_requirements_read_as_sentences(key: str, text: str) -> None:
    assert LIMITS[key].requirement() == text


@pytest.mark.parametrize("key, bad, build", [
    ("fee", 10.0, lambda v: BacktestConfig(fee_pct=v)),
    ("fee", 10.0, lambda v: CostModel(fee_rate=v / 100)),
    ("slippage", -1.0, lambda v: BacktestConfig(slippage_pct=v)),
    ("balance", 0.0, lambda v: BacktestConfig(balance=v)),
    ("stop_loss", 100.5, lambda v: ExitPolicy(stop_loss_pct=v)),
    ("take_profit", 0.0, lambda v: ExitPolicy(take_profit_pct=v)),
    ("max_holding_bars", 0, lambda v: ExitPolicy(max_holding_bars=v)),
    ("max_leverage", 101.0, lambda v: Sizing(max_leverage=v)),
    ("risk_per_trade", 0.0, lambda v: Sizing(mode="risk", risk_pct=v)),
])
def test_the_engine_refuses_by_the_table_and_names_the_field(key: str, bad: float, build) -> None:
    with pytest.raises(InputError) as caught:
        build(bad)
    assert str(caught.value) == problem(key, bad) and caught.value.fields == (key,)


def test_list_items_are_named_by_position() -> None:
    with pytest.raises(InputError, match=r"^partial size #2 must be above 0 and at most 1, got 1.5$"):
        ExitPolicy(exit_targets=(1, 2), exit_sizes=(0.2, 1.5))
