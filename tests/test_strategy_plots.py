"""The indicators a chart draws: one per strategy line, on every bar, and never from the future."""

from __future__ import annotations

import numpy as np
import pytest

from engine.data import sample_candles
from engine.strategies import create_strategy, strategy_names
from engine.strategies.indicators import sma


@pytest.mark.parametrize("name", strategy_names())
def test_plots_cover_every_bar_and_do_not_look_ahead(name: str) -> None:
    candles = sample_candles().iloc[:3000]
    params = {"train": 300, "retrain": 100} if name == "ml_basic" else {}
    full = create_strategy(name, {**params, "mode": "long_short"}).plots(candles)
    assert full, f"{name} draws nothing"
    cut = 1700
    early = create_strategy(name, {**params, "mode": "long_short"}).plots(candles.iloc[:cut])
    for whole, part in zip(full, early, strict=True):
        assert len(whole.values) == len(candles) and whole.label == part.label
        assert np.isfinite(whole.values[-1])
        # What bar i shows depends on bars 0..i only: the run cut short draws the same.
        np.testing.assert_array_equal(whole.values[:cut], part.values)
        if whole.bounds is not None:
            lo, hi = whole.bounds
            finite = whole.values[np.isfinite(whole.values)]
            assert lo <= finite.min() and finite.max() <= hi


def test_sma_cross_draws_its_two_averages() -> None:
    candles = sample_candles().iloc[:500]
    fast, slow = create_strategy("sma_cross", {"fast": 5, "slow": 20}).plots(candles)
    close = candles["close"].to_numpy()
    assert (fast.label, slow.label) == ("SMA 5", "SMA 20")
    assert fast.values[4] == pytest.approx(close[:5].mean()) and np.isnan(fast.values[3])
    np.testing.assert_allclose(slow.values, sma(close, 20), rtol=0, atol=1e-9)


def test_rsi_reversion_draws_rsi_under_the_chart_with_its_levels() -> None:
    (plot,) = create_strategy("rsi_reversion", {"lower": 25, "exit": 55}).plots(sample_candles().iloc[:300])
    assert plot.pane == "lower" and plot.guides == (25.0, 55.0) and plot.bounds == (0.0, 100.0)
