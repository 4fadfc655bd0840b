"""Bar-by-bar strategies: a live session's newest decision equals the vectorised signals.

DESIGN.md: the live session is fed bar by bar, its strategies computing the newest
decision incrementally, equal to their vectorised signals. Proven here for every
built-in strategy on the embedded two-year sample, on short random series with
dead-flat stretches, and for any way of cutting a history into chunks; and the
state a strategy carries between bars stays bounded by its parameters.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.data import sample_candles
from engine.policy import ExitPolicy
from engine.strategies import create_strategy, ml_basic
from engine.strategies.base import Strategy
from engine.strategies.tail import Tail
from tests.strategy_data import candles

COLUMNS = ("open", "high", "low", "close", "volume")
POLICY = ExitPolicy(stop_loss_pct=5.0, take_profit_pct=12.0)
MODES = ("long_only", "long_short")

SAMPLE_CASES = [
    ("sma_cross", {"fast": 10, "slow": 30}),
    ("sma_cross", {"fast": 3, "slow": 8}),
    ("rsi_reversion", {}),
    ("rsi_reversion", {"period": 5, "lower": 35, "upper": 65, "exit": 45}),
    ("breakout", {"entry": 20, "exit": 10, "atr_stop": 2.0}),
    ("breakout", {"entry": 6, "exit": 3, "atr_stop": 1.5, "atr_period": 4}),
]
# An ml_basic push costs several times the others' (features and a prediction in
# numpy), so its two sample runs split the parameter sets and modes between them; the
# short random series below take it through both modes.
ML_CASES = [
    ("ml_basic", {}),  # the defaults: train 1000, retrain 250, long_only
    ("ml_basic", {"train": 300, "retrain": 60, "threshold": 0.0, "mode": "long_short"}),
]


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return sample_candles()


def bars_of(frame: pd.DataFrame) -> list[tuple[float, ...]]:
    return list(zip(*(frame[c].to_numpy().tolist() for c in COLUMNS)))


@pytest.fixture(scope="module")
def sample_bars(sample) -> list[tuple[float, ...]]:
    return bars_of(sample)


def assert_pushes_match(strategy: Strategy, frame: pd.DataFrame, bars: list | None = None) -> int:
    """Push ``frame`` bar by bar: every direction equals ``signals()`` at that index, and
    every decision at a change equals ``decide()`` there. Returns the number of changes."""
    expected = strategy.signals(frame).tolist()
    live = strategy.incremental()
    previous, changes = 0, 0
    for i, bar in enumerate(bars_of(frame) if bars is None else bars):
        direction = live.push(*bar)
        assert direction == expected[i], (strategy.describe(), i)
        if direction != previous:
            assert live.decide(direction, POLICY) == strategy.decide(i, direction, POLICY), (strategy.describe(), i)
            previous, changes = direction, changes + 1
    assert live.bars == len(frame) and live.direction == (expected[-1] if len(frame) else 0)
    return changes


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name, params", SAMPLE_CASES, ids=lambda v: v if isinstance(v, str) else None)
def test_pushing_the_sample_bar_by_bar_equals_signals(sample, sample_bars, name, params, mode):
    strategy = create_strategy(name, {**params, "mode": mode})
    assert assert_pushes_match(strategy, sample, sample_bars) > 50  # not vacuous: the strategy trades


@pytest.mark.parametrize("name, params", ML_CASES, ids=lambda v: v if isinstance(v, str) else None)
def test_pushing_the_sample_bar_by_bar_equals_signals_ml(sample, sample_bars, name, params):
    assert assert_pushes_match(create_strategy(name, params), sample, sample_bars) > 50


def test_atr_stops_of_live_entries_equal_the_backtest_ones(sample, sample_bars):
    """The check above compares decide() at every change; make sure those carried ATR stops."""
    strategy = create_strategy("breakout", {"atr_stop": 2.0, "mode": "long_short"})
    directions = strategy.signals(sample)
    live = strategy.incremental()
    stops = []
    for i, bar in enumerate(sample_bars[:3000]):
        direction = live.push(*bar)
        if direction != 0 and (i == 0 or directions[i - 1] != direction):
            stops.append(live.decide(direction, POLICY).policy.stop_loss_pct)
            assert stops[-1] == strategy.decide(i, direction, POLICY).policy.stop_loss_pct
    assert len(stops) > 20 and all(stop != POLICY.stop_loss_pct for stop in stops)


# ---------------------------------------------------------------- any chunking


CHUNKED_BARS = 4000


@pytest.mark.parametrize("name, params", [*SAMPLE_CASES, ML_CASES[1]], ids=lambda v: v if isinstance(v, str) else None)
@settings(max_examples=8, deadline=None, database=None)
@given(cuts=st.lists(st.integers(0, CHUNKED_BARS), max_size=6))
def test_feeding_chunks_of_any_size_equals_signals(sample, name, params, cuts):
    """Whole history, chunks of a few bars or of thousands: the carried state is the same."""
    frame = sample.iloc[:CHUNKED_BARS]
    strategy = create_strategy(name, {**params, "mode": "long_short"})
    expected = strategy.signals(frame)
    live = strategy.incremental()
    edges = [0, *sorted(cuts), len(frame)]
    got = [live.feed_frame(frame.iloc[lo:hi]) for lo, hi in zip(edges, edges[1:])]
    assert np.concatenate(got).tolist() == expected.tolist()


# ---------------------------------------------------------------- short random series, flat stretches

SHORT_CASES = {
    "sma_cross": [{"fast": 2, "slow": 5}, {"fast": 1, "slow": 3}],
    "rsi_reversion": [{"period": 3}, {"period": 6, "lower": 40, "upper": 60, "exit": 50}],
    "breakout": [{"entry": 3, "exit": 2}, {"entry": 4, "exit": 6, "atr_stop": 1.0, "atr_period": 3}],
    "ml_basic": [{"train": 50, "retrain": 10, "threshold": 0.0}],
}

segment = st.tuples(
    st.integers(1, 15),  # bars
    st.sampled_from([0.0, 0.0, 0.002, -0.002, 0.01, -0.01, 0.04, -0.04]),  # drift per bar (0: dead flat)
    st.booleans(),  # noisy
)


def series(segments: list[tuple[int, float, bool]], seed: int) -> pd.DataFrame:
    """Bars from segments of constant drift; a zero-drift quiet segment is a dead-flat market."""
    rng = np.random.default_rng(seed)
    closes, highs, lows, price = [], [], [], 100.0
    for bars, drift, noisy in segments:
        for _ in range(bars):
            step = drift + (rng.normal(0.0, 0.01) if noisy else 0.0)
            new = round(price * float(np.exp(step)), 2)
            wick = abs(rng.normal(0.0, 0.003)) if noisy or drift else 0.0
            closes.append(new)
            highs.append(max(price, new) * (1 + wick))
            lows.append(min(price, new) * (1 - wick))
            price = new
    return candles(closes, highs, lows)


@pytest.mark.parametrize("name", sorted(SHORT_CASES))
@settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(segments=st.lists(segment, min_size=1, max_size=16), seed=st.integers(0, 1000))
def test_short_series_with_flat_stretches(name, segments, seed):
    frame = series(segments, seed)
    for params in SHORT_CASES[name]:
        for mode in MODES:
            assert_pushes_match(create_strategy(name, {**params, "mode": mode}), frame)


def test_dead_flat_market_stays_flat_in_both_paths():
    frame = candles([100.0] * 80)
    for name, params in [("sma_cross", {"fast": 3, "slow": 7}), ("rsi_reversion", {"period": 5})]:
        strategy = create_strategy(name, {**params, "mode": "long_short"})
        assert strategy.signals(frame).tolist() == [0] * 80
        assert_pushes_match(strategy, frame)


# ---------------------------------------------------------------- bounded state


def retained_bound(name: str, params: dict) -> dict[str, int]:
    """What each strategy needs to remember, from its definition (not its code)."""
    full = create_strategy(name, params)
    if name == "sma_cross":
        return {"close": full.slow - 1}  # the slow window, minus the new bar
    if name == "rsi_reversion":
        return {"close": 1}  # the previous close; RSI's averages are O(1) state
    if name == "breakout":
        prior = max(full.entry, full.exit)  # channels of the bars before the new one
        return {"high": prior, "low": prior, "close": prior}
    lookback = ml_basic.FEATURE_WARMUP  # the 20-bar volatility of returns
    return {"high": lookback, "low": lookback, "close": lookback, "feature_rows": full.train, "label_closes": full.train}


@pytest.mark.parametrize("name, params", [*SAMPLE_CASES, *ML_CASES], ids=lambda v: v if isinstance(v, str) else None)
def test_state_carried_between_bars_is_bounded_by_the_parameters(sample_bars, name, params):
    live = create_strategy(name, {"mode": "long_short", **params}).incremental()
    bound = retained_bound(name, params)
    seen = []
    for i, bar in enumerate(sample_bars[:2500]):
        live.push(*bar)
        if i in (5, 1500, 2499):
            sizes = live.retained()
            assert set(sizes) == set(bound)
            assert all(sizes[k] <= bound[k] for k in bound), (i, sizes, bound)
            seen.append(sizes)
    assert seen[-1] == seen[-2] == bound  # full once warmed up, and no longer growing


@settings(max_examples=40, deadline=None, database=None)
@given(keep=st.integers(0, 6), chunks=st.lists(st.integers(0, 20), max_size=30))
def test_tail_hands_back_history_then_new_values_in_fixed_memory(keep, chunks):
    tail, history = Tail(keep), np.empty(0)
    for size in chunks:
        new = np.arange(len(history), len(history) + size, dtype=np.float64)
        view, start = tail.extend(new)
        kept = history[max(len(history) - keep, 0) :]
        assert start == len(kept) and view.tolist() == [*kept, *new]
        history = np.concatenate((history, new))
        assert len(tail) == min(keep, len(history)) and tail.capacity == 2 * keep + 2


# ---------------------------------------------------------------- API


def test_push_returns_plain_ints_and_tracks_the_newest_direction(sample):
    live = create_strategy("sma_cross", {"fast": 2, "slow": 3}).incremental()
    directions = [live.push(*bar) for bar in bars_of(sample.iloc[:50])]
    assert all(type(d) is int for d in directions) and live.direction == directions[-1] and live.bars == 50
    assert live.decide(1, POLICY).policy is POLICY


def test_a_strategy_without_a_bar_by_bar_form_says_so():
    class Fixed(Strategy):
        name = "fixed"

        def signals(self, candles):
            return np.zeros(len(candles), dtype=np.int8)

    with pytest.raises(NotImplementedError, match="fixed"):
        Fixed().incremental()
