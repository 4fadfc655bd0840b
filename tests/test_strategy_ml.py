"""ml_basic: the walk-forward model never sees the future, and it learns a real edge
when there is one while finding none in noise."""

from __future__ import annotations


import numpy as np
import pytest

from engine.strategies import create_strategy, ml_basic
from tests.strategy_data import mean_reverting, random_walk, splice_future

PARAMS = {"train": 120, "retrain": 40, "threshold": 0.0, "mode": "long_short"}


def strategy_pnl(signal: np.ndarray, close: np.ndarray) -> tuple[float, float, float]:
    """Hit rate on active bars, total log return and its t-statistic of holding ``signal[t]`` over bar t+1."""
    nxt = np.diff(np.log(close))
    held = signal[:-1].astype(float)
    active = held != 0
    pnl = held * nxt
    hit = float((np.sign(nxt[active]) == held[active]).mean())
    t_stat = float(pnl[active].mean() / pnl[active].std(ddof=1) * np.sqrt(active.sum()))
    return hit, float(pnl.sum()), t_stat


def test_schedule_labels_end_at_the_fit_bar():
    blocks = ml_basic.walk_forward_schedule(2000, train=300, retrain=70)
    assert blocks[0].fit_at == ml_basic.FEATURE_WARMUP + 300
    for b in blocks:
        # Last sample is hi - 1; its label reads close[hi], which must be known at fit_at.
        assert b.hi <= b.fit_at
        assert b.hi - b.lo == 300 and b.lo >= ml_basic.FEATURE_WARMUP
        assert b.fit_at < b.until <= b.fit_at + 70
    # Blocks tile the bars after the first fit with no gap and no overlap.
    assert [b.fit_at for b in blocks[1:]] == [b.until for b in blocks[:-1]]
    assert blocks[-1].until == 2000


def test_fits_see_only_labels_known_at_fit_time(monkeypatch):
    """Spy on every fit: its labels are exactly close[j+1] > close[j] for j < fit bar."""
    frame = random_walk(600, seed=8)
    close = frame["close"].to_numpy()
    calls = []
    real_fit = ml_basic.fit_logistic
    monkeypatch.setattr(ml_basic, "fit_logistic", lambda x, y: calls.append((x, y)) or real_fit(x, y))
    create_strategy("ml_basic", PARAMS).signals(frame)
    blocks = ml_basic.walk_forward_schedule(600, PARAMS["train"], PARAMS["retrain"])
    assert len(calls) == len(blocks) > 5
    features = ml_basic.market_features(*(frame[c].to_numpy() for c in ("high", "low", "close")))
    for (x, y), b in zip(calls, blocks):
        np.testing.assert_array_equal(y, (close[b.lo + 1 : b.fit_at + 1] > close[b.lo : b.fit_at]).astype(float))
        np.testing.assert_array_equal(x, features[b.lo : b.fit_at])


def test_features_are_causal():
    frame = random_walk(300, seed=4)
    cols = ("high", "low", "close")
    full = ml_basic.market_features(*(frame[c].to_numpy() for c in cols))
    for k in (1, 21, 22, 150):
        part = ml_basic.market_features(*(frame.iloc[:k][c].to_numpy() for c in cols))
        np.testing.assert_array_equal(part, full[:k])
    assert np.isnan(full[: ml_basic.FEATURE_WARMUP]).any(axis=1).all()
    assert np.isfinite(full[ml_basic.FEATURE_WARMUP :]).all()


def test_prefix_and_future_rewrite_around_every_refit():
    """Around each refit bar t the decision must not move when close[t+1...] changes."""
    n = 700
    frame = random_walk(n, seed=21, vol=0.015)
    full = create_strategy("ml_basic", PARAMS).signals(frame)
    assert (full != 0).sum() > 100
    for b in ml_basic.walk_forward_schedule(n, PARAMS["train"], PARAMS["retrain"]):
        for k in (b.fit_at - 1, b.fit_at, b.fit_at + 1, b.fit_at + 2):
            prefix = create_strategy("ml_basic", PARAMS).signals(frame.iloc[:k])
            assert prefix.tolist() == full[:k].tolist(), k
            rewritten = create_strategy("ml_basic", PARAMS).signals(splice_future(frame, k, seed=k))
            assert rewritten[:k].tolist() == full[:k].tolist(), k


def test_flat_until_first_model_and_deterministic():
    s = create_strategy("ml_basic", PARAMS)
    frame = random_walk(500, seed=2)
    sig = s.signals(frame)
    assert s.warmup == ml_basic.FEATURE_WARMUP + PARAMS["train"]
    assert (sig[: s.warmup] == 0).all() and (sig[s.warmup :] != 0).any()
    assert np.isnan(s.p_up[: s.warmup]).all()
    assert create_strategy("ml_basic", PARAMS).signals(frame).tolist() == sig.tolist()
    assert create_strategy("ml_basic", PARAMS).signals(frame.iloc[: s.warmup]).tolist() == [0] * s.warmup


def test_threshold_and_long_only():
    frame = random_walk(800, seed=6)
    wide = create_strategy("ml_basic", {**PARAMS, "threshold": 0.1}).signals(frame)
    narrow = create_strategy("ml_basic", PARAMS).signals(frame)
    assert np.count_nonzero(wide) < np.count_nonzero(narrow)
    assert (wide[wide != 0] == narrow[wide != 0]).all()  # a wider margin only drops trades
    long_only = create_strategy("ml_basic", {**PARAMS, "mode": "long_only"}).signals(frame)
    assert long_only.min() == 0 and long_only.tolist() == np.maximum(narrow, 0).tolist()


def test_learns_a_planted_pattern():
    """Returns with AR(1) coefficient -0.5: the last move predicts the next one."""
    frame = mean_reverting(4000, seed=1, phi=-0.5)
    sig = create_strategy("ml_basic", {"train": 500, "retrain": 100, "threshold": 0.02, "mode": "long_short"}).signals(
        frame
    )
    hit, total, t_stat = strategy_pnl(sig, frame["close"].to_numpy())
    assert (sig != 0).sum() > 2000
    assert hit > 0.6 and total > 0 and t_stat > 8


@pytest.mark.parametrize("seed", [3, 4])
def test_no_edge_in_noise(seed):
    frame = random_walk(4000, seed=seed)
    sig = create_strategy("ml_basic", {"train": 500, "retrain": 100, "threshold": 0.0, "mode": "long_short"}).signals(
        frame
    )
    hit, _, t_stat = strategy_pnl(sig, frame["close"].to_numpy())
    assert (sig != 0).sum() > 2000
    assert abs(hit - 0.5) < 0.04 and abs(t_stat) < 3.5


def test_broken_prices_stay_flat():
    frame = random_walk(600, seed=9)
    frame.iloc[400, frame.columns.get_loc("close")] = np.nan
    sig = create_strategy("ml_basic", PARAMS).signals(frame)
    assert sig[400] == 0 and (sig[:390] != 0).any()


def test_two_years_of_hourly_bars_get_a_signal_per_bar():
    # Speed is a `make bench` concern; here only the shape and the trading after warm-up.
    frame = random_walk(17_500, seed=0)
    sig = create_strategy("ml_basic").signals(frame)
    assert sig.shape == (17_500,) and set(np.unique(sig)) <= {-1, 0, 1}
    assert (sig[1100:] != 0).any()
