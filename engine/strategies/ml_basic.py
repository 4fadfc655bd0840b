"""A small machine-learning strategy: walk-forward logistic regression on price features.

It exists to show how a learned model fits the no-look-ahead contract. The model is
refitted every ``retrain`` bars on the last ``train`` bars only, and a sample's label
(did the NEXT close rise?) is only used once that next close has happened: the
model used at bar ``t`` was fitted on samples ``j`` with ``j + 1 <= fit bar <= t``.
Plain numpy (Newton/IRLS with an L2 penalty), deterministic, no dependencies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from typing import NamedTuple

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

from engine.strategies import register
from engine.strategies.base import Param, Strategy, mode_param, price_arrays
from engine.strategies.indicators import rolling_std, rsi, sma

VOL_BARS = 20
TREND_BARS = 20
MOMENTUM_BARS = 5
RSI_BARS = 14
# First bar at which every feature exists (the 20-bar volatility of returns, which
# themselves start at bar 1, is the last to arrive).
FEATURE_WARMUP = VOL_BARS

L2 = 0.01  # ridge strength on the mean log-loss; keeps noisy windows from overfitting
NEWTON_STEPS = 25
NEWTON_TOL = 1e-8


def _lag(values: np.ndarray, bars: int) -> np.ndarray:
    out = np.full(len(values), np.nan)
    if bars < len(values):  # a series shorter than the lag has no lagged values at all
        out[bars:] = values[: len(values) - bars]
    return out


def market_features(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    """One row per bar of features known at that bar's close (NaN during warm-up)."""
    log_close = np.log(close)
    ret = np.diff(log_close, prepend=np.nan)
    bar_range = high - low
    with np.errstate(divide="ignore", invalid="ignore"):
        # Where the close sits in the bar's range: buyers or sellers in control at the close.
        close_location = np.where(bar_range > 0, (close - low) / bar_range - 0.5, 0.0)
    return np.column_stack(
        [
            ret,
            _lag(ret, 1),
            _lag(ret, 2),
            log_close - _lag(log_close, MOMENTUM_BARS),
            (rsi(close, RSI_BARS) - 50.0) / 50.0,
            rolling_std(ret, VOL_BARS),
            log_close - np.log(sma(close, TREND_BARS)),
            close_location,
        ]
    )


def next_bar_up(close: np.ndarray) -> np.ndarray:
    """Label of bar j: 1.0 if close[j + 1] > close[j]. The last bar has no label yet (NaN)."""
    label = np.full(len(close), np.nan)
    label[:-1] = close[1:] > close[:-1]
    return label


class Refit(NamedTuple):
    """One walk-forward block: fitted at ``fit_at`` on samples [lo, hi), used for bars [fit_at, until)."""

    fit_at: int
    lo: int
    hi: int
    until: int


def walk_forward_schedule(n: int, train: int, retrain: int) -> list[Refit]:
    """The refits for ``n`` bars. The schedule depends on the bar index only, never on ``n``
    beyond truncation, so a prefix of the data sees the same models.

    Samples end at ``hi = fit_at``: the last one is ``fit_at - 1``, whose label needs
    ``close[fit_at]``, the close of the bar the model is fitted at.
    """
    first = FEATURE_WARMUP + train
    return [Refit(t, t - train, t, min(t + retrain, n)) for t in range(first, n, retrain)]


class Model(NamedTuple):
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray  # intercept first


def fit_logistic(x: np.ndarray, y: np.ndarray) -> Model:
    """L2-regularised logistic regression by Newton's method on standardised features.

    The standardisation statistics come from ``x`` (the training window) only.
    """
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0.0] = 1.0
    design = np.column_stack([np.ones(len(x)), (x - mean) / scale])
    m, k = design.shape
    # The intercept is barely penalised: only enough to stay finite when a window
    # holds a single class (a dead-flat market).
    penalty = np.full(k, L2)
    penalty[0] = 1e-6
    weights = np.zeros(k)
    for _ in range(NEWTON_STEPS):
        p = 1.0 / (1.0 + np.exp(-(design @ weights)))
        gradient = design.T @ (p - y) / m + penalty * weights
        hessian = (design.T * (p * (1.0 - p))) @ design / m + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        weights = weights - step
        if np.abs(step).max() < NEWTON_TOL:
            break
    return Model(mean, scale, weights)


def predict_up(model: Model, x: np.ndarray) -> np.ndarray:
    """P(next close > close) for each row of ``x``.

    Accumulated feature by feature (element-wise) instead of a matrix product, so a
    row's probability is bit-identical however many rows are predicted together: the
    no-look-ahead tests compare a truncated last block with the full one.
    """
    z = np.full(len(x), model.weights[0])
    for f in range(x.shape[1]):
        z = z + (x[:, f] - model.mean[f]) / model.scale[f] * model.weights[f + 1]
    return 1.0 / (1.0 + np.exp(-z))


@register
class MlBasic(Strategy):
    name = "ml_basic"
    description = "Walk-forward logistic regression on price features predicting the next bar's direction."
    params = (
        Param("train", int, 1000, "bars in each training window", min=50),
        Param("retrain", int, 250, "bars between refits", min=10),
        Param("threshold", float, 0.05, "margin over 50 % the up/down probability must clear", min=0, max=0.49),
        mode_param(),
    )

    def __init__(self, **values: object) -> None:
        super().__init__(**values)
        self.p_up: np.ndarray | None = None

    @property
    def warmup(self) -> int:
        return FEATURE_WARMUP + self.train

    def signals(self, candles: pd.DataFrame) -> np.ndarray:
        high, low, close = price_arrays(candles, "high", "low", "close")
        n = len(close)
        features = market_features(high, low, close)
        label = next_bar_up(close)
        known = np.isfinite(features).all(axis=1)
        usable = known & np.isfinite(label)
        p_up = np.full(n, np.nan)
        min_samples = 2 * (features.shape[1] + 1)
        for block in walk_forward_schedule(n, self.train, self.retrain):
            rows = usable[block.lo : block.hi]
            if rows.sum() < min_samples:
                continue  # bad data in the window: stay flat rather than fit on scraps
            model = fit_logistic(features[block.lo : block.hi][rows], label[block.lo : block.hi][rows])
            p_up[block.fit_at : block.until] = predict_up(model, features[block.fit_at : block.until])
        p_up[~known] = np.nan  # a bar with broken prices gets no opinion
        self.p_up = p_up
        # NaN (no model yet, or a bar without features) compares False: flat.
        direction = (p_up > 0.5 + self.threshold).astype(np.int8)
        if self.allows_short:
            direction -= (p_up < 0.5 - self.threshold).astype(np.int8)
        return direction
