"""The embedded sample and the synthetic bar generator: shape, determinism, realism, speed."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd
import pytest

from engine.data import CANDLE_COLUMNS, SAMPLE_SOURCE, make_sample, sample_candles, synthetic_bars, validate_candles
from engine.errors import InputError


def assert_canonical(df: pd.DataFrame) -> None:
    assert list(df.columns) == list(CANDLE_COLUMNS)
    assert all(dtype == np.float64 for dtype in df.dtypes)
    assert df.index.name == "timestamp" and str(df.index.tz) == "UTC"
    assert df.index.is_monotonic_increasing and df.index.is_unique


def log_returns(df: pd.DataFrame) -> pd.Series:
    return np.log(df["close"]).diff().dropna()


# -- the embedded sample ----------------------------------------------------------


def test_sample_is_two_years_of_hourly_candles():
    df = sample_candles()
    assert_canonical(df)
    assert df.index[0] == pd.Timestamp("2023-01-01 00:00", tz="UTC")
    assert df.index[-1] == pd.Timestamp("2024-12-31 23:00", tz="UTC")
    assert len(df) == 731 * 24  # 2024 is a leap year
    assert (np.diff(df.index.asi8) == 3_600 * 10**9).all()
    validate_candles(df)


def test_sample_is_labelled_synthetic():
    attrs = sample_candles().attrs
    assert attrs["source"] == "synthetic sample BTC/USDT 1h (not real market data)" == SAMPLE_SOURCE
    assert attrs["symbol"] == "BTC/USDT"
    assert attrs["timeframe"] == "1h"


def test_sample_is_deterministic_and_each_call_gets_its_own_copy():
    first = sample_candles()
    first.iloc[0, 0] = -1.0
    first.attrs["source"] = "scribbled"
    second = sample_candles()
    assert second.iloc[0, 0] == pytest.approx(16_500.0)
    assert second.attrs["source"] == SAMPLE_SOURCE
    pd.testing.assert_frame_equal(second, sample_candles())


def test_sample_ships_inside_the_package_and_is_small():
    resource = resources.files("engine.data").joinpath(make_sample.SAMPLE_FILE)
    assert resource.is_file()
    assert len(resource.read_bytes()) < 1_500_000


def test_sample_prices_are_btc_like():
    df = sample_candles()
    assert df["open"].iloc[0] == pytest.approx(16_500.0, rel=0.01)
    assert 10_000 < df["low"].min() and df["high"].max() < 200_000
    hourly_vol = log_returns(df).std()
    assert 0.002 < hourly_vol < 0.012
    # Prices are quoted in cents.
    np.testing.assert_allclose(df[["open", "high", "low", "close"]] * 100,
                               np.round(df[["open", "high", "low", "close"]] * 100), atol=1e-6)


def test_sample_has_up_trends_down_trends_and_ranges():
    close = sample_candles()["close"]
    monthly = close.resample("MS").last().pct_change().dropna()
    assert (monthly > 0.10).sum() >= 4, "needs rallies"
    assert (monthly < -0.05).sum() >= 4, "needs sell-offs"
    assert (monthly.abs() < 0.05).sum() >= 3, "needs quiet ranges"
    month_moves = np.log(close).shift(-720) - np.log(close)
    assert month_moves.min() < np.log(0.85) and month_moves.max() > np.log(1.3)
    assert (close / close.cummax()).min() < 0.8  # a real drawdown to sit through


def test_sample_volatility_clusters_and_volume_follows_it():
    df = sample_candles()
    r = log_returns(df)
    assert r.abs().autocorr(1) > 0.1  # big moves follow big moves
    assert abs(r.autocorr(1)) < 0.1   # but direction is not predictable from the last bar
    kurtosis = ((r - r.mean()) ** 4).mean() / r.var() ** 2
    assert kurtosis > 3.5  # fatter tails than a normal distribution
    bar_range = (df["high"] - df["low"]) / df["open"]
    assert np.corrcoef(df["volume"], bar_range)[0, 1] > 0.3
    assert (df["volume"] > 0).all()


def test_sample_has_occasional_gaps():
    df = sample_candles()
    gaps = (df["open"].to_numpy()[1:] != df["close"].to_numpy()[:-1]).sum()
    assert 10 <= gaps <= len(df) * 0.02


def test_make_sample_writes_a_loadable_file(tmp_path):
    path = tmp_path / "sample.parquet"
    assert make_sample.main([str(path)]) == 0
    table_frame = pd.read_parquet(path)
    assert list(table_frame.columns) == ["timestamp", "open_cents", "high_cents", "low_cents", "close_cents",
                                         "volume_e4"]
    assert len(table_frame) == 731 * 24
    built = make_sample.build_sample()
    validate_candles(built, "generated sample")
    assert (table_frame["open_cents"].to_numpy() == np.round(built["open"].to_numpy() * 100)).all()


# -- synthetic_bars ------------------------------------------------------------------


def test_synthetic_bars_million_are_canonical_and_valid():
    # Its speed is a `make bench` figure, not a timed test: CI machines are noisy.
    df = synthetic_bars(1_000_000)
    assert len(df) == 1_000_000
    assert_canonical(df)
    validate_candles(df)
    assert df.attrs["timeframe"] == "1m"
    assert (np.diff(df.index.asi8[:1000]) == 60 * 10**9).all()


def test_synthetic_bars_are_deterministic_per_seed():
    a = synthetic_bars(5_000, seed=7)
    pd.testing.assert_frame_equal(a, synthetic_bars(5_000, seed=7))
    assert not np.allclose(a["close"], synthetic_bars(5_000, seed=8)["close"])


def test_synthetic_bars_start_price_and_frequency():
    df = synthetic_bars(500, freq="1h", start_price=123.0)
    assert df["open"].iloc[0] == 123.0
    assert df.attrs["timeframe"] == "1h"
    assert "synthetic" in df.attrs["source"]
    assert (df["open"].to_numpy()[1:] == df["close"].to_numpy()[:-1]).all()
    validate_candles(df)


def test_synthetic_bars_look_like_a_market():
    df = synthetic_bars(200_000, seed=3)
    r = log_returns(df)
    assert 0.0002 < r.std() < 0.002  # per-minute volatility of a liquid crypto market
    assert r.abs().autocorr(1) > 0.05
    assert np.corrcoef(df["volume"], (df["high"] - df["low"]) / df["open"])[0, 1] > 0.3
    assert df["close"].max() / df["close"].min() < 20


def test_synthetic_bars_edge_cases():
    empty = synthetic_bars(0)
    assert_canonical(empty)
    assert len(empty) == 0
    with pytest.raises(InputError):
        synthetic_bars(-1)
    with pytest.raises(InputError):
        synthetic_bars(10, freq="often")
    with pytest.raises(InputError):
        synthetic_bars(10, start_price=0.0)
