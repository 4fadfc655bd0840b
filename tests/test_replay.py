"""The replay driver: exact parity with the backtest, exact step-back, what-if actions by hand."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from engine.actions import ActionKind, Amount, AmountUnit, ManualAction
from engine.backtest import Backtest
from engine.config import BacktestSettings
from engine.costs import CostModel
from engine.data import sample_candles
from engine.enums import FillKind, Side
from engine.errors import InputError
from engine.policy import ExitPolicy, Sizing
from engine.replay import Replay
from engine.strategies import create_strategy
from tests.helpers import Scripted, candles, settings

approx = lambda x: pytest.approx(x, rel=1e-12, abs=1e-9)  # noqa: E731

POLICY = ExitPolicy(stop_loss_pct=3, trailing_activation_pct=2, trailing_distance_pct=1.5,
                    exit_targets=(2, 4), exit_sizes=(0.3, 0.3), scale_in_thresholds=(-1.5,), scale_in_sizes=(0.5,))
SETTINGS = BacktestSettings(costs=CostModel(0.001, 0.0005), sizing=Sizing(max_leverage=2.0), policy=POLICY)


@pytest.mark.parametrize("name, params", [
    ("sma_cross", {"mode": "long_short"}), ("rsi_reversion", {}), ("breakout", {"atr_stop": 2.0}),
    ("ml_basic", {"train": 300, "retrain": 100, "mode": "long_short"}),
])
def test_a_replay_played_to_the_end_is_the_backtest(name, params) -> None:
    data = sample_candles()
    whole = Backtest(data, create_strategy(name, params), SETTINGS).run()
    replay = Replay(data, create_strategy(name, params), SETTINGS, checkpoint_every=1000)
    for _ in range(300):  # some bars by hand, then the rest at once
        replay.step()
    replay.back()
    replay.back()
    replay.play_to_end()
    assert replay.done and not replay.is_branch
    assert replay.backtest.fills == whole.fills and replay.backtest.trades == whole.trades
    np.testing.assert_array_equal(replay.backtest.equity_curve(), whole.equity_curve())


def _market(seed: int, n: int):
    rng = np.random.default_rng(seed)
    price, rows = 100.0, []
    for _ in range(n):
        o = price * (1 + rng.normal(0, 0.004))
        c = o * (1 + rng.normal(0, 0.01))
        rows.append((o, max(o, c) * (1 + abs(rng.normal(0, 0.005))), min(o, c) * (1 - abs(rng.normal(0, 0.005))), c))
        price = c
    dirs = np.repeat(rng.integers(-1, 2, n // 8 + 1), 8)[:n]
    return rows, dirs


ACTIONS = [
    ManualAction(ActionKind.PARTIAL_EXIT, Amount(50)),
    ManualAction(ActionKind.SCALE_IN, Amount(0.25, AmountUnit.FRACTION)),
    ManualAction(ActionKind.CLOSE),
    ManualAction(ActionKind.OPEN, Amount(1_000, AmountUnit.QUOTE), Side.SHORT),
    ManualAction(ActionKind.OPEN, Amount(5, AmountUnit.BASE), Side.LONG),
]
moves = st.lists(st.one_of(
    st.tuples(st.just("step"), st.integers(1, 15)), st.tuples(st.just("back"), st.integers(1, 15)),
    st.tuples(st.just("goto"), st.integers(-1, 160)), st.tuples(st.just("act"), st.integers(0, len(ACTIONS) - 1)),
), min_size=1, max_size=25)


@hsettings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31), moves=moves, every=st.sampled_from([1, 7, 64]), prepared=st.booleans())
def test_stepping_back_and_forward_gives_the_same_state(seed, moves, every, prepared) -> None:
    rows, dirs = _market(seed, 160)
    setup = settings(fee=0.001, slippage=0.0005, leverage=3.0, stop_loss_pct=2, exit_targets=(1.5,), exit_sizes=(0.5,))
    replay = Replay(candles(rows), Scripted(dirs), setup, checkpoint_every=every)
    if prepared:  # as the workspace opens a run: played once, so jumps start from saved states
        replay.prepare()
    for move, arg in moves:
        if move == "step":
            for _ in range(arg):
                if not replay.done:
                    replay.step()
        elif move == "back":
            for _ in range(arg):
                replay.back()
        elif move == "goto":
            replay.goto(arg)
        else:
            try:
                replay.act(ACTIONS[arg])
            except InputError:
                pass
    # The same branch built straight through: only the surviving actions, each at its bar.
    fresh = Replay(candles(rows), Scripted(dirs), setup, checkpoint_every=every)
    for applied in replay.actions:
        fresh.goto(applied.bar)
        assert fresh.act(applied.action) == applied.result
    fresh.goto(replay.cursor)
    assert fresh.cursor == replay.cursor
    assert fresh.engine.state == replay.engine.state
    assert fresh.backtest.fills == replay.backtest.fills and fresh.backtest.trades == replay.backtest.trades
    np.testing.assert_array_equal(fresh.backtest.equity_curve(), replay.backtest.equity_curve())


def test_a_what_if_partial_exit_to_the_cent() -> None:
    # Long from bar 1's open 100 (slippage 0.1 %: 100.1), 99.9 units of 10,000 / 100 - fee... sized at
    # 10,000 / 100 = 100 units; entry fee 0.1 % x 100.1 x 100 = 10.01.
    # At bar 2's close (104) take 50 % off: sell 50 at 104 x 0.999 = 103.896, fee 5.1948,
    # PnL = (103.896 - 100.1) x 50 - 5.1948 = 184.6052.
    rows = [(100, 100, 100, 100), (100, 101, 99, 100.5), (101, 104.5, 100.5, 104), (104, 105, 103, 104.5)]
    replay = Replay(candles(rows), Scripted([1, 1, 1, 1]), settings(fee=0.001, slippage=0.001))
    for _ in range(3):
        replay.step()
    preview = replay.preview(ManualAction(ActionKind.PARTIAL_EXIT, Amount(50)))
    done = replay.act(ManualAction(ActionKind.PARTIAL_EXIT, Amount(50)))
    assert done == preview
    (fill,) = done.fills
    assert (fill.kind, fill.bar, fill.qty) == (FillKind.PARTIAL_EXIT, 2, approx(50))
    assert fill.price == approx(103.896) and fill.fee == approx(5.1948) and fill.slippage == approx(5.2)
    assert round(fill.pnl, 2) == 184.61 and fill.pnl == approx(184.6052)
    assert replay.engine.state.balance == approx(10_000 - 10.01 + 184.6052)
    assert replay.is_branch and replay.actions[0].bar == 2
    replay.back()
    assert not replay.is_branch and replay.engine.state.position.current_size == approx(100)


def test_no_action_before_the_first_bar_or_after_the_end() -> None:
    rows = [(100, 100, 100, 100)] * 4
    replay = Replay(candles(rows), Scripted([1] * 4), settings())
    with pytest.raises(InputError, match="step to a bar first"):
        replay.act(ManualAction(ActionKind.CLOSE))
    replay.play_to_end()
    with pytest.raises(InputError, match="data has ended"):
        replay.act(ManualAction(ActionKind.OPEN, Amount(1, AmountUnit.BASE), Side.LONG))


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31), cuts=st.lists(st.integers(-1, 9_999), min_size=1, max_size=6),
       act_at=st.none() | st.integers(0, 9_999))
def test_the_peak_shown_equals_the_curve_read_whole(seed, cuts, act_at) -> None:
    rows, dirs = _market(seed, 10_000)
    replay = Replay(candles(rows), Scripted(dirs), settings(fee=0.001, stop_loss_pct=2))
    for cut in cuts:
        replay.goto(cut)
        if act_at is not None and replay.cursor == act_at // 2 and replay.engine.state.position is not None:
            replay.act(ManualAction(ActionKind.CLOSE))
        bars = replay.cursor + 1
        whole = replay.backtest.equity_curve()[:bars]
        expected = max([10_000.0, *whole.tolist()])
        assert replay.peak_equity() == pytest.approx(expected, rel=1e-12)
        if bars:  # and a curve read from the middle is the tail of the whole one
            start = bars // 3
            part = replay.engine.journal.equity_curve(replay.backtest.close, bars, 10_000.0, start)
            np.testing.assert_array_equal(part, whole[start:])


def test_going_back_past_an_action_never_brings_its_fill_back() -> None:
    """Found by the property above: act at bar 44, step on, go back before it (the action
    is removed), step forward again past it, back two bars and ahead one. Going ahead used
    to take the history given up when going back, manual fill included."""
    rows, dirs = _market(4, 160)
    setup = settings(fee=0.001, slippage=0.0005, leverage=3.0, stop_loss_pct=2, exit_targets=(1.5,), exit_sizes=(0.5,))
    replay = Replay(candles(rows), Scripted(dirs), setup, checkpoint_every=1)
    replay.goto(44)
    replay.act(ACTIONS[0])
    for _ in range(6):
        replay.step()
    replay.goto(5)
    for _ in range(45):
        replay.step()
    replay.back()
    replay.back()
    replay.goto(49)
    assert replay.actions == []
    assert all(f.reason != "manual" for f in replay.backtest.fills)
    straight = Replay(candles(rows), Scripted(dirs), setup, checkpoint_every=1)
    straight.goto(49)
    assert replay.backtest.fills == straight.backtest.fills
