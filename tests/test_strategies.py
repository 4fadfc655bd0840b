"""Built-in strategies: indicators against plain-Python references, hand-checked
signals on crafted series, parameter handling, and no look-ahead for every strategy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import InputError
from engine.policy import ExitPolicy
from engine.strategies import create_strategy, strategy_names
from engine.strategies import indicators as ind
from tests.strategy_data import candles, random_walk, splice_future

# ---------------------------------------------------------------- references


def ref_sma(xs, n):
    return [float("nan") if i < n - 1 else sum(xs[i - n + 1 : i + 1]) / n for i in range(len(xs))]


def ref_wilder(xs, n, first=0):
    out = [float("nan")] * len(xs)
    if len(xs) >= first + n:
        avg = sum(xs[first : first + n]) / n
        out[first + n - 1] = avg
        for i in range(first + n, len(xs)):
            avg = (avg * (n - 1) + xs[i]) / n
            out[i] = avg
    return out


def ref_rsi(closes, n):
    diffs = [0.0] + [closes[i] - closes[i - 1] for i in range(1, len(closes))]
    gains = ref_wilder([max(d, 0.0) for d in diffs], n, first=1)
    losses = ref_wilder([max(-d, 0.0) for d in diffs], n, first=1)
    out = []
    for g, lo in zip(gains, losses):
        if math.isnan(g):
            out.append(float("nan"))
        elif lo == 0:
            out.append(100.0 if g > 0 else 50.0)
        else:
            out.append(100.0 - 100.0 / (1.0 + g / lo))
    return out


def ref_atr(high, low, close, n):
    tr = [high[0] - low[0]] + [
        max(high[i] - low[i], abs(high[i] - close[i - 1]), abs(low[i] - close[i - 1])) for i in range(1, len(close))
    ]
    return ref_wilder(tr, n)


def assert_close_nan(actual, expected):
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected, dtype=float), rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- indicators

WALK = random_walk(120, seed=3)
C, H, L = (WALK[c].tolist() for c in ("close", "high", "low"))


def test_sma_rsi_atr_match_references():
    assert_close_nan(ind.sma(C, 7), ref_sma(C, 7))
    assert_close_nan(ind.rsi(C, 14), ref_rsi(C, 14))
    assert_close_nan(ind.atr(H, L, C, 14), ref_atr(H, L, C, 14))
    assert np.isnan(ind.rsi(C, 14)[:14]).all() and not np.isnan(ind.rsi(C, 14)[14])
    assert np.isnan(ind.atr(H, L, C, 14)[:13]).all() and not np.isnan(ind.atr(H, L, C, 14)[13])


def test_ema_is_sma_seeded_recursion():
    n, alpha = 5, 2 / 6
    expected = [float("nan")] * 4 + [sum(C[:5]) / 5]
    for x in C[5:]:
        expected.append(alpha * x + (1 - alpha) * expected[-1])
    assert_close_nan(ind.ema(C, n), expected)


def test_rsi_extremes():
    assert ind.rsi(np.arange(1.0, 30.0), 14)[-1] == 100.0
    assert ind.rsi(np.arange(30.0, 1.0, -1), 14)[-1] == 0.0
    assert ind.rsi(np.full(30, 5.0), 14)[-1] == 50.0


def test_prior_channel_excludes_current_bar():
    high = np.array([1.0, 5.0, 2.0, 3.0, 9.0, 1.0])
    assert_close_nan(ind.prior_highest(high, 2), [np.nan, np.nan, 5.0, 5.0, 3.0, 9.0])
    assert_close_nan(ind.prior_lowest(high, 3), [np.nan, np.nan, np.nan, 1.0, 2.0, 2.0])
    assert len(ind.prior_highest(np.array([]), 3)) == 0


def test_crossovers_and_latch():
    a = np.array([np.nan, 1.0, 3.0, 3.0, 1.0, 2.0])
    b = np.array([2.0, 2.0, 2.0, 2.0, 2.0, 2.0])
    assert ind.crossed_above(a, b).tolist() == [False, False, True, False, False, False]
    assert ind.crossed_below(a, b).tolist() == [False, False, False, False, True, False]
    on = np.array([0, 1, 0, 0, 1, 0, 0], dtype=bool)
    off = np.array([1, 0, 1, 0, 1, 0, 1], dtype=bool)
    assert ind.latch(on, off).astype(int).tolist() == [0, 1, 0, 0, 1, 1, 0]  # entry wins a tie


def test_hold_direction_opposite_entry_reverses():
    long_entry = np.array([1, 0, 0, 0, 0, 0], dtype=bool)
    short_entry = np.array([0, 0, 1, 0, 0, 0], dtype=bool)
    never = np.zeros(6, dtype=bool)
    short_exit = np.array([0, 0, 0, 0, 1, 0], dtype=bool)
    out = ind.hold_direction(long_entry, never, short_entry, short_exit)
    assert out.tolist() == [1, 1, -1, -1, 0, 0]
    assert out.dtype == np.int8


def test_indicators_stay_textbook_exact_over_two_years_of_hourly_bars():
    """Window values are computed per window (no running sum drifting over the history),
    so even the 17,544th bar matches exactly rounded references to ~1e-12."""
    from engine.data import sample_candles

    frame = sample_candles()
    close, high, low = (frame[c].to_numpy() for c in ("close", "high", "low"))
    for n in (10, 30):
        windows = np.lib.stride_tricks.sliding_window_view(close, n)
        exact = [math.fsum(w) / n for w in windows]
        assert_close_nan(ind.sma(close, n)[n - 1 :], exact)
    ret = np.diff(np.log(close))
    std = [math.sqrt(math.fsum((w - math.fsum(w) / 20) ** 2) / 19) for w in np.lib.stride_tricks.sliding_window_view(ret, 20)]
    assert_close_nan(ind.rolling_std(ret, 20)[19:], std)
    assert ind.prior_highest(high, 20)[20:].tolist() == np.lib.stride_tricks.sliding_window_view(high, 20).max(axis=1)[:-1].tolist()
    assert ind.prior_lowest(low, 7)[7:].tolist() == np.lib.stride_tricks.sliding_window_view(low, 7).min(axis=1)[:-1].tolist()
    assert_close_nan(ind.atr(high, low, close, 14), ref_atr(high.tolist(), low.tolist(), close.tolist(), 14))
    assert_close_nan(ind.rsi(close, 14), ref_rsi(close.tolist(), 14))


def test_flat_prices_give_equal_averages_of_every_length():
    """After a move, a flat stretch longer than the slow window is no trend either way."""
    closes = [100.0 + (i % 7) * 0.1 for i in range(40)] + [100.1] * 40
    assert (ind.sma(closes, 3)[-10:] == ind.sma(closes, 11)[-10:]).all()
    sig = create_strategy("sma_cross", {"fast": 3, "slow": 11, "mode": "long_short"}).signals(candles(closes))
    assert (sig[-29:] == 0).all() and (sig[:40] != 0).any()


# ---------------------------------------------------------------- registry and params


def test_registry_lists_the_builtins_and_parses_text_params():
    assert strategy_names() == ["breakout", "ml_basic", "rsi_reversion", "sma_cross"]
    s = create_strategy("sma_cross", {"fast": "5", "slow": "20"})
    assert (s.fast, s.slow, s.mode) == (5, 20, "long_only")
    assert isinstance(s.fast, int)
    for name in strategy_names():
        cls = type(create_strategy(name))
        assert cls.description and all(p.help for p in cls.params)


@pytest.mark.parametrize(
    "name, params, needle",
    [
        ("sma_cross", {"fast": "abc"}, "'fast'"),
        ("sma_cross", {"speed": "3"}, "'speed'"),
        ("sma_cross", {"fast": "0"}, "'fast'"),
        ("sma_cross", {"mode": "sideways"}, "'mode'"),
        ("rsi_reversion", {"lower": "x"}, "'lower'"),
        ("breakout", {"atr_stop": "-1"}, "'atr_stop'"),
        ("ml_basic", {"threshold": "0.7"}, "'threshold'"),
        ("nope", {}, "'nope'"),
    ],
)
def test_bad_params_name_the_parameter(name, params, needle):
    with pytest.raises(InputError, match=needle):
        create_strategy(name, params)


@pytest.mark.parametrize("fast, slow", [(30, 30), (40, 30)])
def test_sma_cross_rejects_fast_not_below_slow(fast, slow):
    with pytest.raises(InputError) as err:
        create_strategy("sma_cross", {"fast": fast, "slow": slow})
    assert "'fast'" in str(err.value) and "'slow'" in str(err.value)


def test_rsi_levels_must_be_ordered():
    with pytest.raises(InputError, match="'exit'"):
        create_strategy("rsi_reversion", {"lower": 40, "exit": 35})


def test_missing_column_is_an_input_error():
    with pytest.raises(InputError, match="'high'"):
        create_strategy("breakout").signals(WALK.drop(columns="high"))


# ---------------------------------------------------------------- sma_cross

SMALL = [10, 11, 12, 11, 10, 9, 8, 9, 10, 12, 13, 12, 11, 10, 9, 10, 11]


def hand_sma_cross(closes, fast, slow, short):
    out = []
    for i in range(len(closes)):
        if i < slow - 1:
            out.append(0)
            continue
        f = sum(closes[i - fast + 1 : i + 1]) / fast
        s = sum(closes[i - slow + 1 : i + 1]) / slow
        out.append(1 if f > s else (-1 if f < s and short else 0))
    return out


@pytest.mark.parametrize("mode", ["long_only", "long_short"])
def test_sma_cross_matches_hand_computation(mode):
    s = create_strategy("sma_cross", {"fast": 2, "slow": 4, "mode": mode})
    sig = s.signals(candles(SMALL))
    expected = hand_sma_cross(SMALL, 2, 4, mode == "long_short")
    assert sig.tolist() == expected
    assert sig.dtype == np.int8
    assert sig[: s.warmup].tolist() == [0] * s.warmup == [0, 0, 0]
    assert {1, 0} <= set(expected) and (-1 in expected) == (mode == "long_short")


def test_sma_cross_long_only_never_short():
    sig = create_strategy("sma_cross", {"fast": 3, "slow": 8}).signals(random_walk(2000, seed=5))
    assert sig.min() == 0 and sig.max() == 1
    both = create_strategy("sma_cross", {"fast": 3, "slow": 8, "mode": "long_short"}).signals(random_walk(2000, seed=5))
    assert both.min() == -1


# ---------------------------------------------------------------- rsi_reversion

# A quiet zig-zag (RSI near 50), a slide, a recovery, then a rally and a fade.
ZIGZAG = [100, 101] * 5
RSI_SERIES = ZIGZAG + [99, 97, 95, 93, 94, 96, 98, 100, 102, 104, 106, 108, 107, 105, 103, 101, 100]


def test_rsi_reversion_entries_and_exits_on_crafted_series():
    rsi = ind.rsi(RSI_SERIES, 5)
    s = create_strategy("rsi_reversion", {"period": 5, "mode": "long_short"})
    sig = s.signals(candles(RSI_SERIES))
    # Reading the RSI of the crafted series: it first drops under 30 on the second bar
    # of the slide (bar 11), is back at or above 50 at bar 16, goes over 70 at bar 18
    # in the rally and is back at or under 50 at bar 24 in the fade.
    assert rsi[10] >= 30 > rsi[11]
    assert rsi[15] < 50 <= rsi[16]
    assert rsi[17] <= 70 < rsi[18]
    assert rsi[23] > 50 >= rsi[24]
    expected = [0] * 11 + [1] * 5 + [0] * 2 + [-1] * 6 + [0] * 3
    assert sig.tolist() == expected
    long_only = create_strategy("rsi_reversion", {"period": 5}).signals(candles(RSI_SERIES))
    assert long_only.tolist() == [max(x, 0) for x in expected]


def test_rsi_reversion_holds_between_levels():
    """Between 'lower' and 'exit' a long is held, however RSI wiggles."""
    rsi = ind.rsi(RSI_SERIES, 5)
    sig = create_strategy("rsi_reversion", {"period": 5}).signals(candles(RSI_SERIES))
    held = sig == 1
    assert (rsi[held] < 50).all() and (rsi[held] >= 30).any()


# ---------------------------------------------------------------- breakout

# 25 quiet bars in a 99-101 range, a breakout at bar 25, a climb, then a collapse.
B_CLOSE = [100.0] * 25 + [103, 104, 105, 106, 107, 108, 100, 98, 97, 96, 95, 99.5, 101.2, 100]
B_HIGH = [101.0] * 25 + [c + 1 for c in B_CLOSE[25:]]
B_LOW = [99.0] * 25 + [c - 1 for c in B_CLOSE[25:]]
B_FRAME = candles(B_CLOSE, B_HIGH, B_LOW)


def test_breakout_long_only_entry_and_exit():
    sig = create_strategy("breakout", {"entry": 20, "exit": 10}).signals(B_FRAME)
    # bar 25 closes at 103 above the prior 20-bar high (101); bar 32 closes at 98,
    # below the prior 10-bar low (99); bar 31 (100) is still inside the channel.
    assert sig.tolist() == [0] * 25 + [1] * 7 + [0] * 7


def test_breakout_long_short_reverses_and_covers():
    sig = create_strategy("breakout", {"entry": 20, "exit": 10, "mode": "long_short"}).signals(B_FRAME)
    # Bar 32 (98) also breaks the prior 20-bar low (99): reverse straight to short.
    # The 10-bar exit channel still holds the climb's 109 high, so the short stays on.
    assert sig.tolist() == [0] * 25 + [1] * 7 + [-1] * 7
    tight = create_strategy("breakout", {"entry": 20, "exit": 3, "mode": "long_short"}).signals(B_FRAME)
    # A 3-bar exit channel: the long is out at bar 31 (100 < prior lows 105..107), the
    # short opens at 32 and is covered at bar 36 (99.5 > prior 3-bar high 98).
    assert tight.tolist() == [0] * 25 + [1] * 6 + [0] + [-1] * 4 + [0] * 3


def test_breakout_decide_attaches_atr_stop():
    s = create_strategy("breakout", {"entry": 20, "exit": 10, "atr_stop": 2.5, "atr_period": 14})
    sig = s.signals(B_FRAME)
    assert sig[25] == 1 and sig[24] == 0
    base = ExitPolicy(stop_loss_pct=5.0, take_profit_pct=12.0)
    decision = s.decide(25, 1, base)
    atr = ref_atr(B_HIGH, B_LOW, B_CLOSE, 14)[25]
    assert decision.direction == 1
    assert decision.policy.stop_loss_pct == pytest.approx(2.5 * atr / 103.0 * 100.0, rel=1e-12)
    assert decision.policy.stop_loss_pct != 5.0
    assert decision.policy.take_profit_pct == 12.0  # the rest of the run's policy is kept
    assert s.decide(32, 0, base).policy == base  # exits keep the run's policy
    plain = create_strategy("breakout", {"entry": 20, "exit": 10})
    plain.signals(B_FRAME)
    assert plain.decide(25, 1, base).policy == base


def test_breakout_atr_stop_waits_for_atr():
    s = create_strategy("breakout", {"entry": 2, "exit": 2, "atr_stop": 1.0, "atr_period": 10})
    assert s.warmup == 9
    sig = s.signals(random_walk(300, seed=11))
    assert (sig[:9] == 0).all() and (sig != 0).any()


# ---------------------------------------------------------------- no look-ahead, every strategy

NO_LOOKAHEAD_CASES = [
    ("sma_cross", {"fast": 3, "slow": 8, "mode": "long_short"}),
    ("sma_cross", {"fast": 5, "slow": 12}),
    ("rsi_reversion", {"period": 5, "lower": 35, "upper": 65, "mode": "long_short"}),
    ("breakout", {"entry": 6, "exit": 3, "mode": "long_short", "atr_stop": 1.5, "atr_period": 4}),
    ("breakout", {"entry": 3, "exit": 8}),
    ("ml_basic", {"train": 60, "retrain": 15, "threshold": 0.0, "mode": "long_short"}),
]
N_BARS = 260


@pytest.mark.parametrize("name, params", NO_LOOKAHEAD_CASES, ids=lambda v: v if isinstance(v, str) else None)
@settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), k=st.integers(1, N_BARS), future_seed=st.integers(0, 10_000))
def test_no_lookahead(name, params, seed, k, future_seed):
    frame = random_walk(N_BARS, seed=seed, vol=0.02)
    full = create_strategy(name, params).signals(frame)
    assert full.dtype == np.int8 and len(full) == N_BARS and set(np.unique(full)) <= {-1, 0, 1}
    prefix = create_strategy(name, params).signals(frame.iloc[:k])
    assert prefix.tolist() == full[:k].tolist()
    rewritten = create_strategy(name, params).signals(splice_future(frame, k, future_seed))
    assert rewritten[:k].tolist() == full[:k].tolist()


@pytest.mark.parametrize("name, params", NO_LOOKAHEAD_CASES, ids=lambda v: v if isinstance(v, str) else None)
def test_signals_are_active_and_warmup_is_flat(name, params):
    """Guards the look-ahead test against passing vacuously on an all-flat strategy."""
    s = create_strategy(name, params)
    sig = s.signals(random_walk(N_BARS, seed=1, vol=0.02))
    assert (sig != 0).sum() > 10 and np.count_nonzero(np.diff(sig)) >= 3
    assert (sig[: s.warmup] == 0).all()
    assert len(s.signals(random_walk(N_BARS, seed=1).iloc[:0])) == 0
